"""The validation harness: every model on the same folds, scored per held-out run."""

from __future__ import annotations

import pandas as pd
import pytest

from metaq.datasets import data_path, study_path
from metaq.exceptions import UnknownNameError
from metaq.modeling.simulate import simulate_runs
from metaq.tables import derive_target, read_features, read_runs
from metaq.validation import cross_validate, make_folds
from metaq.validation.scores import cluster_bootstrap_interval, wilson_interval

POINT = ["no_feature", "ridge"]


@pytest.fixture(scope="module")
def simulated():
    # strong, scale-dependent feature effects: features must beat the no-feature baseline
    return simulate_runs(n_datasets=6, params_b=(1.0, 8.0, 70.0), n_tasks=2,
                         slope=(0.5, 0.0, -0.4), size_slope=(0.0, 0.4, 0.0), random_seed=4)


@pytest.fixture(scope="module")
def loo_dataset(simulated):
    return cross_validate(simulated.runs, simulated.features, models=POINT,
                          scheme="loo-dataset", random_seed=0)


def test_every_run_is_predicted_once_per_model(loo_dataset, simulated):
    predictions = loo_dataset.predictions
    assert loo_dataset.outcome == "delta_abs"
    for name in POINT:
        own = predictions[predictions["model"] == name]
        assert len(own) == len(simulated.runs)
        assert not own.duplicated(["dataset_id", "base_model", "benchmark"]).any()
        # the held-out dataset is the fold's dataset
        assert (own["fold"] == "dataset=" + own["dataset_id"]).all()
    assert loo_dataset.folds["error"].eq("").all() and len(loo_dataset.folds) == 6 * 2


def test_outcome_is_the_observed_change_and_crps_agrees(loo_dataset, simulated):
    own = loo_dataset.predictions[loo_dataset.predictions["model"] == "ridge"]
    runs = simulated.runs.set_index(["dataset_id", "base_model", "benchmark"])
    key = pd.MultiIndex.from_frame(own[["dataset_id", "base_model", "benchmark"]])
    expected = derive_target(runs.loc[key].reset_index(), "abs").to_numpy()
    assert own["observed"].to_numpy() == pytest.approx(expected)
    assert (own["crps"] > 0).all() and own["covered_90"].dtype == bool
    row = loo_dataset.scores.set_index("model").loc["ridge"]
    hits = int(own["covered_90"].sum())
    assert row["coverage_90"] == pytest.approx(hits / len(own))
    # the interval resamples held-out datasets (their runs are missed together), so it is
    # wider than the runs-independent Wilson interval
    assert (own["unit"] == own["dataset_id"]).all()
    assert (row["coverage_90_lo"], row["coverage_90_hi"]) == pytest.approx(
        cluster_bootstrap_interval(own["covered_90"].to_numpy(), own["unit"]))
    lo, hi = wilson_interval(hits, len(own))
    assert row["coverage_90_hi"] - row["coverage_90_lo"] > hi - lo


def test_features_beat_the_no_feature_baseline_on_known_structure(loo_dataset, simulated):
    scores = loo_dataset.scores.set_index("model")
    assert scores.loc["ridge", "crps"] < scores.loc["no_feature", "crps"]
    assert scores["n_runs"].eq(6 * 3 * 2).all()
    # one dataset per fold: nothing to rank within one fit
    assert scores["n_pairs"].eq(0).all() and scores["pairwise_acc"].isna().all()
    pairs = cross_validate(simulated.runs, simulated.features, models=POINT,
                           scheme="leave-pair-out", random_seed=0).scores.set_index("model")
    assert pairs.loc["ridge", "pairwise_acc"] > 0.75
    # without features both held-out datasets get the same point forecast: chance level
    # (only the resampled residuals' Monte Carlo noise tells their means apart), not the
    # reversed ranking that pairing forecasts of different folds produced
    assert abs(pairs.loc["no_feature", "pairwise_acc"] - 0.5) < 0.2


def test_leave_pair_out_holds_out_two_datasets_and_ranks_them_in_one_fit(simulated):
    result = cross_validate(simulated.runs, simulated.features, models=["no_feature"],
                            scheme="leave-pair-out", max_pairs=4, random_seed=1)
    assert len(result.folds) == 4
    for fold, held in result.predictions.groupby("fold"):
        assert sorted(held["dataset_id"].unique()) == fold.removeprefix("pair=").split("|")
        assert (held["unit"] == fold).all()
    row = result.scores.iloc[0]
    assert row["n_dataset_pairs_beyond_noise"] <= 4
    assert row["pairwise_acc_beyond_noise_lo"] <= row["pairwise_acc_beyond_noise_hi"]


def test_loo_size_forecasts_an_unseen_size(simulated):
    result = cross_validate(simulated.runs, simulated.features,
                            models=["study_rank"], scheme="loo-size")
    assert result.folds["error"].eq("").all()
    assert result.folds["fold"].tolist() == ["size=1", "size=8", "size=70"]
    held = result.predictions.groupby("fold")["params_b"].unique()
    assert held.loc["size=70"].tolist() == [70.0]


def test_tables_without_untuned_scores_score_the_fine_tuned_score(tmp_path):
    folder = data_path() / "published" / "cherry_ifd_v2"
    runs = read_runs(folder / "runs.csv")
    features = read_features(folder / "features.csv", allow_missing=True)[
        ["dataset_id", "log_n_examples", "selected"]]  # the corpus's other columns have gaps
    result = cross_validate(runs, features, models=["no_feature", "ridge"], scheme="loo-dataset")
    result.save(tmp_path)
    assert result.outcome == "score_ft" and result.folds["error"].eq("").all()
    # no_feature forecasts the mean fine-tuned score of the other datasets, per model x task
    held = result.predictions.query("model == 'no_feature' and dataset_id == 'alpaca'")
    others = runs[runs["dataset_id"] != "alpaca"]
    expected = others.groupby(["base_model", "benchmark"])["score_ft"].mean()
    got = held.set_index(["base_model", "benchmark"])["mean"]
    assert got.to_numpy() == pytest.approx(expected.loc[got.index].to_numpy(), abs=0.01)
    assert held["observed"].to_numpy() == pytest.approx(
        runs.set_index(["dataset_id", "base_model", "benchmark"]).loc["alpaca"]
        .loc[got.index, "score_ft"].to_numpy())
    assert {p.name for p in tmp_path.iterdir()} >= {"scores.csv", "folds.csv"}


def test_point_baselines_run_on_the_smallest_published_table():
    # DEITA: 7 runs; a leave-one-dataset-out refit inside a fold can hold one or two runs
    folder = data_path() / "published" / "deita"
    every = ["no_feature", "study_rank", "ridge", "gradient_boosting"]
    features = read_features(folder / "features.csv", allow_missing=True)[
        ["dataset_id", "log_n_examples", "selected"]]
    result = cross_validate(folder / "runs.csv", features, models=every, scheme="loo-dataset")
    assert result.folds["error"].eq("").all()
    assert result.scores["n_runs"].eq(7).all()


def test_save_writes_the_report_files(loo_dataset, tmp_path):
    loo_dataset.save(tmp_path / "report")
    written = {p.name for p in (tmp_path / "report").iterdir()}
    assert written == {"predictions.csv", "scores.csv", "differences.csv", "folds.csv",
                       "calibration.png"}
    scores = pd.read_csv(tmp_path / "report" / "scores.csv")
    assert scores["model"].tolist() == POINT
    diffs = pd.read_csv(tmp_path / "report" / "differences.csv")
    assert list(diffs.columns[:3]) == ["table", "scheme", "model"]
    assert (diffs["table"] == "report").all() and (diffs["scheme"] == "loo-dataset").all()
    best = diffs.iloc[0]
    assert best["crps_diff"] == 0 and not best["beyond_noise"]
    other = diffs.iloc[1]
    assert other["lo"] <= other["crps_diff"] <= other["hi"]
    assert other["n_units"] == 6  # the six held-out datasets


def test_unknown_model_names_are_listed():
    with pytest.raises(UnknownNameError, match=r"unknown model\(s\) \['bambi'\]; choose from"):
        cross_validate(read_runs(study_path("runs")), read_features(study_path("features")),
                       models=["bambi"])


def test_a_held_out_size_brings_its_measured_untuned_scores():
    from metaq.validation.harness import _unseen_base_scores

    runs = read_runs(study_path("runs"))
    pllum = runs["base_model"] == "PLLuM-8B-instruct"
    given = _unseen_base_scores(runs[~pllum], runs[pllum])
    assert set(given["base_model"]) == {"PLLuM-8B-instruct"}
    assert len(given) == runs[pllum][["benchmark", "domain"]].drop_duplicates().shape[0]
    # a fold whose models are all in training (leave one dataset out) passes none
    first = runs["dataset_id"] == runs["dataset_id"].iloc[0]
    assert _unseen_base_scores(runs[~first], runs[first]) is None


@pytest.mark.slow
def test_bayesian_forecasts_of_a_held_out_run_carry_the_benchmarks_item_noise():
    # 30-item benchmarks: the printed fine-tuned score's binomial variance p(1 - p) / n is
    # about as large as everything else a forecast of a run of a seen dataset is unsure of;
    # the harness asks for the printed score (item noise), which adds exactly that variance
    from metaq.modeling import PooledDeltaModel
    from metaq.validation.harness import _benchmarks, _target_models

    sim = simulate_runs(n_datasets=4, params_b=(1.0, 8.0), n_tasks=2, n_items=30,
                        random_seed=3)
    sampler = {"draws": 300, "tune": 300, "chains": 2}
    fold = make_folds(sim.runs, "kfold", k=2)[0]
    test, train = sim.runs.iloc[fold.test], sim.runs.iloc[fold.train]
    model = PooledDeltaModel(target="abs", sampler=sampler).fit(train, sim.features,
                                                                  random_seed=0)
    args = (sim.features, _target_models(test), _benchmarks(test))
    accuracy = model.predict(*args, random_seed=0).values.var(axis=0, ddof=1)
    printed = model.predict(*args, random_seed=0, item_noise=True).values.var(axis=0, ddof=1)
    item_var = (sim.runs["score_ft"] * (1 - sim.runs["score_ft"]) / 30).mean()
    assert 0.6 * item_var < printed.mean() - accuracy.mean() < 1.4 * item_var
    # the harness forecasts the printed score by default
    result = cross_validate(sim.runs, sim.features, models=["pooled"], scheme="kfold", k=2,
                            sampler=sampler)
    assert len(result.predictions) == len(sim.runs) and result.folds["error"].eq("").all()
    held = result.predictions[result.predictions["fold"] == fold.name]
    assert (held["sd"] ** 2).mean() > accuracy.mean()


def test_loo_study_forecasts_each_held_out_study_as_a_new_one():
    sim = simulate_runs(n_datasets=6, params_b=(1.0, 8.0), n_tasks=2, n_studies=3,
                        protocol_sd=0.3, random_seed=5)
    result = cross_validate(sim.runs, sim.features, models=["no_feature", "two_way", "ridge"],
                            scheme="loo-study")
    assert result.folds["error"].eq("").all() and len(result.folds) == 3 * 3
    own = result.predictions[result.predictions["model"] == "ridge"]
    assert len(own) == len(sim.runs) and (own["fold"] == "study=" + own["study"]).all()
    assert (own["unit"] == own["fold"]).all()  # the held-out unit is the study
    assert set(result.differences["model"]) == {"no_feature", "two_way", "ridge"}


def test_a_held_out_study_brings_its_printed_untuned_scores():
    from metaq.validation.harness import _unseen_base_scores

    runs = simulate_runs(n_datasets=4, params_b=(1.0, 8.0), n_tasks=2, n_studies=2,
                         random_seed=0).runs
    held = runs["study"] == "study1"
    given = _unseen_base_scores(runs[~held], runs[held])
    assert len(given) == 2 * 2  # model x task of the held-out study
    first = runs["dataset_id"] == "ds000"  # a study still in training passes none
    assert _unseen_base_scores(runs[~first], runs[first]) is None


def test_runs_of_a_training_study_are_forecast_within_it():
    from metaq.modeling.baselines import NoFeatureBaseline

    class Recording(NoFeatureBaseline):
        studies: list = []

        def predict(self, *args, study=None, **kwargs):
            Recording.studies.append(study)
            return super().predict(*args, study=study, **kwargs)

    sim = simulate_runs(n_datasets=4, params_b=(1.0, 8.0), n_tasks=2, n_studies=2,
                        random_seed=1)
    result = cross_validate(sim.runs, sim.features, models={"rec": Recording(target="abs")},
                            scheme="kfold", k=2)
    assert result.folds["error"].eq("").all() and len(result.predictions) == len(sim.runs)
    # one forecast per fold and held-out study, within it (both studies are in training)
    assert sorted(Recording.studies) == ["study0", "study0", "study1", "study1"]
    Recording.studies = []
    cross_validate(sim.runs, sim.features, models={"rec": Recording(target="abs")},
                   scheme="loo-study")
    assert Recording.studies == [None, None]  # a held-out study is a new one


def test_a_study_the_model_dropped_is_forecast_as_a_new_one():
    from types import SimpleNamespace

    from metaq.validation.harness import _trained_studies

    train = pd.DataFrame({"study": ["a", "b"]})
    fitted = SimpleNamespace(encoding_=SimpleNamespace(studies=["a"]))  # b printed no base
    assert _trained_studies(fitted, train) == {"a"}
    assert _trained_studies(SimpleNamespace(), train) == {"a", "b"}


def test_configured_forecasters_are_validated_by_name(simulated):
    from metaq.exceptions import InvalidParameterError
    from metaq.modeling.baselines import RidgeBaseline

    result = cross_validate(simulated.runs, simulated.features,
                            models={"ridge_f0": RidgeBaseline(features=["f0"]),
                                    "ridge": RidgeBaseline()}, scheme="kfold", k=3)
    assert set(result.scores["model"]) == {"ridge_f0", "ridge"}
    # each fold fitted a copy whose residuals come from random folds, as the scheme's
    assert (result.folds["residual_scheme"] == "kfold").all()
    assert result.scores.set_index("model").loc["ridge_f0", "crps"] != pytest.approx(
        result.scores.set_index("model").loc["ridge", "crps"])
    with pytest.raises(InvalidParameterError, match="do not implement the Forecaster"):
        cross_validate(simulated.runs, simulated.features, models={"x": object()})
