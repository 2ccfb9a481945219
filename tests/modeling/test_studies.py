"""Studies as a level of the predictor: graph parity, forecasts within and for a new study."""


import numpy as np
import pandas as pd
import pytest

from metaq.exceptions import InvalidParameterError
from metaq.modeling import HierarchicalDeltaModel
from metaq.modeling.design import as_features_table, as_runs_table, build_training_data
from metaq.modeling.predictive import (
    DrawStreams,
    group_terms,
    new_group_sd,
    study_terms,
    training_linear_predictor,
    training_protocol,
)
from metaq.modeling.priors import resolve_priors
from metaq.modeling.pymc_model import PREDICTIVE_VARS, build_pymc_model
from metaq.modeling.simulate import simulate_runs

STUDY_VARS = {"protocol", "study_intercept", "study_slope"}


def graph(runs: pd.DataFrame, features: pd.DataFrame):
    data, encoding, scaler = build_training_data(
        as_runs_table(runs), as_features_table(features), ["f0", "f1", "f2"],
        likelihood="binomial", target="logit")
    model, tensors = build_pymc_model(data, scaler.features, encoding.tasks["label"].tolist(),
                                      encoding.models["name"].tolist(), resolve_priors(None),
                                      scale_effects=True)
    return data, encoding, model, tensors


def free_names_and_logp(model) -> tuple[list[str], float]:
    point = model.initial_point(random_seed=0)
    point = {name: value + 0.1 for name, value in point.items()}  # off the origin
    return sorted(v.name for v in model.free_RVs), float(model.compile_logp()(point))


@pytest.fixture(scope="module")
def one_table():
    return simulate_runs(n_datasets=5, params_b=(1.0, 8.0), n_tasks=2, random_seed=3)


def test_without_a_second_study_the_graph_is_the_one_without_studies(one_table):
    _, _, plain, _ = graph(one_table.runs, one_table.features)
    _, _, one_study, _ = graph(one_table.runs.assign(study="paper"), one_table.features)
    names, logp = free_names_and_logp(plain)
    assert free_names_and_logp(one_study) == (names, pytest.approx(logp, rel=1e-12))
    assert not STUDY_VARS & set(plain.named_vars)


@pytest.fixture(scope="module")
def studies_sim():
    return simulate_runs(n_datasets=9, params_b=(1.0, 8.0), n_tasks=2, n_studies=3,
                         protocol_sd=0.5, random_seed=4)


@pytest.fixture(scope="module")
def studies_prior(studies_sim):
    import pymc as pm

    data, encoding, model, tensors = graph(studies_sim.runs, studies_sim.features)
    names = [v for v in PREDICTIVE_VARS if v in model.named_vars]
    values = pm.draw([model[n] for n in names] + [tensors["mu"], tensors["theta_run"]],
                     draws=40, random_seed=1)
    params = {n: np.asarray(v, float) for n, v in zip(names, values[:-2], strict=True)}
    return data, encoding, model, params, values[-2], values[-1]


def test_two_or_more_studies_add_zero_sum_protocol_intercept_and_slope_terms(studies_prior):
    data, encoding, model, params, _, _ = studies_prior
    assert STUDY_VARS <= set(model.named_vars)
    assert encoding.studies == data.studies == ["study0", "study1", "study2"]
    assert params["protocol"].shape == (40, 3, 2) and params["study_slope"].shape == (40, 3, 3)
    for name in STUDY_VARS:
        assert params[name].sum(axis=1) == pytest.approx(0.0, abs=1e-9)  # over studies
    # one untuned observation per study x model x task, the level keyed by model x task
    assert len(data.base_cells) == 3 * 2 * 2 and params["theta_base"].shape == (40, 2, 2)


def test_numpy_predictor_reproduces_the_graph_with_studies(studies_prior):
    data, encoding, _, params, mu_pymc, theta_pymc = studies_prior
    terms = group_terms(params, encoding, encoding.models, encoding.tasks, DrawStreams(0),
                        study=None)
    x = np.broadcast_to(data.x_obs, (40, *data.x_obs.shape))
    mu = training_linear_predictor(params, terms, x, data.run_row, data.run_model,
                                   data.run_task, data.run_dataset, data.run_study)
    assert mu == pytest.approx(mu_pymc, rel=1e-6, abs=1e-9)
    level = (terms.theta_base[:, data.run_model, data.run_task]
             + training_protocol(params, data.run_task, data.run_study))
    assert level == pytest.approx(theta_pymc, rel=1e-6, abs=1e-9)


def test_a_training_study_keeps_its_terms_a_new_one_draws_them(studies_prior):
    _, encoding, _, params, _, _ = studies_prior
    t_idx = np.arange(2)
    within = study_terms(params, 1, t_idx, DrawStreams(0))
    assert within.protocol == pytest.approx(params["protocol"][:, 1])
    assert within.slope == pytest.approx(params["study_slope"][:, 1])
    new = study_terms(params, -1, t_idx, DrawStreams(0))
    assert not np.allclose(new.intercept, params["study_intercept"][:, 0])


@pytest.mark.parametrize("n_studies", [2, 3, 6])
def test_a_new_study_s_terms_have_the_zero_sum_new_group_variance(n_studies):
    n = 40000
    sd = np.full(n, 0.4)
    params = {"slope": np.zeros((n, 2)),
              "study_intercept": np.zeros((n, n_studies)), "study_intercept_sd": sd,
              "study_slope": np.zeros((n, n_studies, 2)),
              "study_slope_sd": np.column_stack([sd, 2 * sd]),
              "protocol": np.zeros((n, n_studies, 3)), "protocol_sd": sd}
    new = study_terms(params, -1, np.arange(3), DrawStreams(1))
    expected = 0.4**2 * (1 + 1 / n_studies)
    assert float(new_group_sd(np.array(0.4), n_studies) ** 2) == pytest.approx(expected)
    assert new.intercept.var() == pytest.approx(expected, rel=0.03)
    assert new.protocol.var(axis=0) == pytest.approx([expected] * 3, rel=0.03)
    assert new.slope.var(axis=0) == pytest.approx([expected, 4 * expected], rel=0.03)


@pytest.fixture(scope="module")
def fitted(studies_sim, quick_fit):
    return quick_fit(studies_sim.runs, studies_sim.features, target="abs", random_seed=2)


@pytest.mark.slow
def test_in_study_forecasts_are_narrower_than_new_study_ones(fitted, studies_sim):
    features = studies_sim.features.head(3)
    new = fitted.predict(features, ["m8b"], random_seed=0, include_run_noise=False,
                         target="logit")
    within = fitted.predict(features, ["m8b"], random_seed=0, include_run_noise=False,
                            target="logit", study="study1")
    assert (within.summary()["sd"].to_numpy() < new.summary()["sd"].to_numpy()).all()
    assert set(within.summary()["study"]) == {"study1"} and set(new.rows["study"]) == {""}
    # the fine-tuned score moves with the study's protocol: narrower within a study too
    assert within.scores.std(axis=0).mean() < new.scores.std(axis=0).mean()


@pytest.mark.slow
def test_the_reports_predictive_check_forecasts_each_run_within_its_study(fitted, studies_sim):
    from metaq.report.adapter import _posterior_predictive_check

    runs = studies_sim.runs
    check = _posterior_predictive_check(fitted, runs, studies_sim.features, prob=0.9,
                                        random_seed=0)
    assert len(check) == len(runs)  # each run once, matched on its study too
    width = (check["upper"] - check["lower"]).mean()
    new = fitted.predict(studies_sim.features, ["m1b", "m8b"], random_seed=0).summary(0.9)
    assert width < (new["upper"] - new["lower"]).mean()  # within a study: narrower
    inside = check["observed"].between(check["lower"], check["upper"]).mean()
    assert inside > 0.8, inside


@pytest.mark.slow
def test_an_unknown_study_is_refused_with_the_closest_name(fitted, studies_sim):
    with pytest.raises(InvalidParameterError, match=r"study='stduy1'.*did you mean 'study1'"):
        fitted.predict(studies_sim.features.head(1), ["m8b"], study="stduy1")


@pytest.mark.slow
def test_save_load_keeps_the_studies(fitted, studies_sim, tmp_path):
    fitted.save(tmp_path / "m.nc")
    loaded = HierarchicalDeltaModel.load(tmp_path / "m.nc")
    assert loaded.encoding_.studies == ["study0", "study1", "study2"]
    assert loaded.encoding_.study_base_scores == pytest.approx(
        fitted.encoding_.study_base_scores, nan_ok=True)
    for study in (None, "study2"):
        a = fitted.predict(studies_sim.features.head(2), ["m1b"], random_seed=3, study=study)
        b = loaded.predict(studies_sim.features.head(2), ["m1b"], random_seed=3, study=study)
        assert a.values == pytest.approx(b.values)


@pytest.mark.slow
def test_a_model_without_studies_takes_none_and_no_name(one_table, quick_fit):
    model = quick_fit(one_table.runs.assign(study="paper"), one_table.features,
                      sampler={"draws": 50, "tune": 50, "chains": 1}, random_seed=0)
    assert not model.encoding_.study_level
    assert "study" not in model.predict(one_table.features.head(1), ["m1b"]).rows
    a = model.predict(one_table.features.head(1), ["m1b"], random_seed=1)
    b = model.predict(one_table.features.head(1), ["m1b"], random_seed=1, study="paper")
    assert a.values == pytest.approx(b.values)
    with pytest.raises(InvalidParameterError, match=r"known: \['paper'\]"):
        model.predict(one_table.features.head(1), ["m1b"], study="other")
