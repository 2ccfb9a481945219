import numpy as np
import pandas as pd
import pytest

from metaq.datasets import study_path
from metaq.exceptions import InvalidParameterError, NotFittedError, SchemaError
from metaq.modeling.baselines import (
    GradientBoostingBaseline,
    NoFeatureBaseline,
    RidgeBaseline,
    StudyRankBaseline,
)
from metaq.modeling.design import as_features_table, as_runs_table

PLLUM = "PLLuM-8B-instruct"
BIELIK = "Bielik-11B-v2.6-Instruct"


@pytest.fixture(scope="module")
def study():
    return as_runs_table(study_path("runs")), as_features_table(study_path("features"))


def test_no_feature_baseline_predicts_cell_means(study):
    runs, features = study
    model = NoFeatureBaseline(target="abs").fit(runs, features)
    summary = model.predict(features, [PLLUM], ["lightr1"], random_seed=0).summary()
    cell = runs[(runs["base_model"] == PLLUM) & (runs["benchmark"] == "lightr1")]
    expected = (cell["score_ft"] - cell["score_base"]).mean()
    # every dataset gets the same point forecast; draws add held-out residuals
    point = model._predict_point(model.estimator_, _inputs_for(model, 0, "lightr1"))
    assert point == pytest.approx([expected])
    assert summary["score_estimate"].to_numpy() == pytest.approx(
        0.172 + summary["estimate"].to_numpy())


def _inputs_for(model, model_index, task):
    from metaq.modeling.baselines import BaselineInputs

    t = model.encoding_.task_index([task], [""])
    m = model.encoding_.model_index([PLLUM])
    return BaselineInputs(np.zeros((1, len(model.features_))), m, t,
                          model.encoding_.size_z([8.0]), np.array(["x"], dtype=object))


def test_no_feature_residuals_are_leave_one_dataset_out(study):
    runs, features = study
    model = NoFeatureBaseline(target="abs").fit(runs, features)
    delta = (runs["score_ft"] - runs["score_base"]).to_numpy()
    cell = ((runs["base_model"] == PLLUM) & (runs["benchmark"] == "lightr1")).to_numpy()
    held = cell & (runs["dataset_id"] == "Detailed").to_numpy()
    others = cell & ~held
    assert model.residuals_[held] == pytest.approx(delta[held] - delta[others].mean())


def test_study_rank_picks_the_best_spearman_metric_per_model(study):
    from scipy.stats import spearmanr

    runs, features = study
    model = StudyRankBaseline(target="rel", features=["redundancy_ratio", "utility"]).fit(
        runs, features)
    delta = 100 * (runs["score_ft"] - runs["score_base"]) / runs["score_base"]
    for name in (PLLUM, BIELIK):
        mean_rho = []
        for metric in ("redundancy_ratio", "utility"):
            rhos = []
            for _, cell in runs[runs["base_model"] == name].groupby(["benchmark", "domain"]):
                x = features.set_index("dataset_id").loc[cell["dataset_id"], metric]
                rhos.append(abs(spearmanr(x, delta[cell.index]).statistic))
            mean_rho.append(np.mean(rhos))
        m = model.encoding_.model_index([name])[0]
        assert model.estimator_["metric"][m] == int(np.argmax(mean_rho))


@pytest.mark.parametrize("cls", [RidgeBaseline, GradientBoostingBaseline, StudyRankBaseline,
                                 NoFeatureBaseline])
def test_baselines_share_the_forecast_interface(study, cls):
    runs, features = study
    model = cls(target="abs", n_draws=300).fit(runs, features, random_seed=0)
    new = pd.DataFrame({"dataset_id": ["cand"], "validity": [0.9]})
    forecast = model.predict(pd.concat([features, new]), [PLLUM, ("Big", 70.0, "qwen")],
                             ["lightr1", "mot_pl_eval/math"], random_seed=1)
    summary = forecast.summary(prob=0.9)
    assert len(summary) == 5 * 2 * 2
    assert forecast.values.shape == (300, 20)
    assert summary["prob_best"].groupby([summary["target_model"], summary["benchmark"],
                                         summary["domain"]]).sum().to_numpy() == pytest.approx(1)
    assert (summary["upper"] > summary["lower"]).all()
    assert summary.loc[summary["dataset_id"] == "cand", "missing_features"].str.contains(
        "redundancy_ratio").all()
    assert summary.loc[summary["target_model"] == "Big", "score_estimate"].isna().all()
    # with Big's untuned score measured, its fine-tuned score is that score plus the change
    untuned = pd.DataFrame({"base_model": ["Big"], "benchmark": ["lightr1"],
                            "score_base": [0.6]})
    given = model.predict(pd.concat([features, new]), [PLLUM, ("Big", 70.0, "qwen")],
                          ["lightr1", "mot_pl_eval/math"], random_seed=1,
                          base_scores=untuned).summary(prob=0.9)
    big = given[(given["target_model"] == "Big") & (given["benchmark"] == "lightr1")]
    assert big["score_estimate"].to_numpy() == pytest.approx(0.6 + big["estimate"].to_numpy())
    assert given["estimate"].to_numpy() == pytest.approx(summary["estimate"].to_numpy())


def test_ridge_recovers_a_linear_signal():
    from metaq.modeling.simulate import simulate_runs

    sim = simulate_runs(n_datasets=30, params_b=(8.0,), n_tasks=1, slope=(0.5, 0.0),
                        size_slope=(0.0, 0.0), run_sd=0.02, random_seed=0)
    model = RidgeBaseline(target="logit").fit(sim.runs, sim.features)
    assert model.estimator_.coef_[0] == pytest.approx(0.5, abs=0.1)
    assert abs(model.estimator_.coef_[1]) < 0.1


def test_predict_before_fit_is_refused(study):
    _, features = study
    with pytest.raises(NotFittedError, match=r"call `.fit\(\)` first"):
        RidgeBaseline().predict(features, [PLLUM])


def test_runs_without_any_untuned_score_are_refused_clearly(study):
    runs, features = study
    with pytest.raises(SchemaError, match="no run has a score_base"):
        RidgeBaseline().fit(runs.assign(score_base=np.nan), features)


@pytest.mark.parametrize("cls", [NoFeatureBaseline, RidgeBaseline])
def test_one_training_dataset_is_refused_not_given_a_zero_spread(study, cls):
    # held-out residuals need a second dataset to hold out; in-sample ones have no spread
    runs, features = study
    one = runs[runs["dataset_id"] == "Detailed"]
    with pytest.raises(InvalidParameterError, match="one training dataset.*two or more"):
        cls(target="abs").fit(one, features)
    # kfold holds out runs, which one dataset has enough of
    model = cls(target="abs", residual_scheme="kfold").fit(one, features, random_seed=0)
    assert model.residual_scheme_ == "kfold" and np.std(model.residuals_) > 0
