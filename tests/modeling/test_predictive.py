import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from metaq.modeling.design import KnownBaseScores, build_training_data
from metaq.modeling.predictive import (
    DrawStreams,
    dataset_offsets,
    feature_draws,
    flatten_posterior,
    group_terms,
    linear_predictor,
    new_group_sd,
    score_from_change,
    training_linear_predictor,
)
from metaq.modeling.priors import resolve_priors
from metaq.modeling.pymc_model import (
    PREDICTIVE_VARS,
    _deviation_basis,
    _size_trend,
    build_pymc_model,
)
from metaq.modeling.simulate import simulate_runs


def test_measured_features_scatter_by_their_standard_error():
    x = np.array([[1.0, -0.5]])
    se = np.array([[0.2, 0.0]])
    draws = feature_draws(x, se, np.zeros((3, 2)), 20000, DrawStreams(0))
    assert draws[:, 0, 0].mean() == pytest.approx(1.0, abs=0.01)
    assert draws[:, 0, 0].std() == pytest.approx(0.2, rel=0.03)
    assert np.all(draws[:, 0, 1] == -0.5)


def test_missing_features_are_drawn_given_the_observed_ones():
    rng = np.random.default_rng(1)
    latent = rng.normal(size=40)
    training = np.column_stack([latent, latent + 0.3 * rng.normal(size=40),
                                rng.normal(size=40)])  # f0 ~ f1 correlated, f2 independent
    x = np.array([[np.nan, np.nan, np.nan], [1.5, np.nan, np.nan], [-1.5, np.nan, 0.0]])
    draws = feature_draws(x, np.zeros_like(x), training, 20000, DrawStreams(0))
    # nothing observed: the training distribution (mean and spread of each feature)
    assert draws[:, 0].mean(axis=0) == pytest.approx(training.mean(axis=0), abs=0.05)
    assert draws[:, 0].std(axis=0) == pytest.approx(training.std(axis=0), rel=0.15)
    assert np.corrcoef(draws[:, 0, 0], draws[:, 0, 1])[0, 1] > 0.7  # joint, not independent
    # f0 observed high pulls its correlated neighbour up, not the independent f2
    assert np.all(draws[:, 1, 0] == 1.5) and np.all(draws[:, 2, 0] == -1.5)
    assert draws[:, 1, 1].mean() > 1.0 and draws[:, 2, 1].mean() < -1.0
    assert draws[:, 1, 1].std() < 0.75 * training[:, 1].std()  # narrower than unconditioned
    assert abs(draws[:, 1, 2].mean() - training[:, 2].mean()) < 0.3


def test_setting_a_missing_feature_keeps_the_other_draws_paired():
    training = np.random.default_rng(2).normal(size=(6, 3))
    se = np.full((1, 3), 0.1)
    before = feature_draws(np.array([[0.5, np.nan, np.nan]]), se, training, 500, DrawStreams(7))
    after = feature_draws(np.array([[0.5, 0.9, np.nan]]), se, training, 500, DrawStreams(7))
    assert after[:, 0, 0] == pytest.approx(before[:, 0, 0])  # same measurement noise
    assert np.corrcoef(before[:, 0, 2], after[:, 0, 2])[0, 1] > 0.9  # same imputation draw


def test_score_from_change_inverts_each_target():
    base = np.array([0.2, 0.5])
    assert score_from_change(np.array([0.1, -0.1]), base, "abs") == pytest.approx([0.3, 0.4])
    assert score_from_change(np.array([50.0, -50.0]), base, "rel") == pytest.approx([0.3, 0.25])
    logit_up = np.log(0.3 / 0.7) - np.log(0.2 / 0.8)
    assert score_from_change(np.array([logit_up, 0.0]), base, "logit") == pytest.approx([0.3, 0.5])


@pytest.fixture(scope="module")
def prior_draws():
    """Joint prior draws of the PyMC graph's parameters and its linear predictor."""
    import pymc as pm

    sim = simulate_runs(n_datasets=5, params_b=(1.0, 8.0, 70.0), n_tasks=3, feature_se=0.1,
                        random_seed=3)
    from metaq.modeling.design import as_features_table, as_runs_table

    runs, features = as_runs_table(sim.runs), as_features_table(sim.features)
    data, encoding, scaler = build_training_data(runs, features, ["f0", "f1", "f2"],
                                                 likelihood="binomial", target="logit")
    model, tensors = build_pymc_model(data, scaler.features, encoding.tasks["label"].tolist(),
                                      encoding.models["name"].tolist(), resolve_priors(None),
                                      scale_effects=True)
    names = [v for v in PREDICTIVE_VARS if v in model.named_vars] + ["x_true"]
    values = pm.draw([model[n] for n in names] + [tensors["mu"]], draws=50, random_seed=1)
    return data, encoding, dict(zip(names, values[:-1], strict=True)), values[-1]


def test_numpy_predictor_reproduces_the_pymc_graph(prior_draws, rng):
    data, encoding, params, mu_pymc = prior_draws
    params = {k: np.asarray(v, dtype=float) for k, v in params.items()}
    terms = group_terms(params, encoding, encoding.models, encoding.tasks, DrawStreams(0))
    mu = training_linear_predictor(params, terms, params["x_true"], data.run_row,
                                   data.run_model, data.run_task, data.run_dataset)
    assert mu == pytest.approx(mu_pymc, rel=1e-6, abs=1e-9)


@pytest.fixture
def seen_and_new(prior_draws, rng):
    """Group terms of a seen (m8b, bench0) and a new model and task, with the indices."""
    _, encoding, params, _ = prior_draws
    params = {k: np.asarray(v, dtype=float) for k, v in params.items()}
    models = pd.DataFrame({"name": ["m8b", "new"], "params_b": [8.0, 8.0]})
    tasks = pd.DataFrame({"benchmark": ["bench0", "unseen"], "domain": ["", ""]})
    terms = group_terms(params, encoding, models, tasks, DrawStreams(0))
    m, t = encoding.model_index(["m8b"])[0], encoding.task_index(["bench0"], [""])[0]
    return encoding, params, terms, m, t


def test_unseen_model_and_task_draw_offsets_from_the_population(seen_and_new):
    encoding, params, terms, m, t = seen_and_new
    shared = (params["slope"][:, 0] + params["size_slope"][:, 0] * encoding.size_z([8.0])[0]
              + params["task_slope"][:, t, 0])
    # a seen model uses its own posterior offset ...
    assert terms.slope[:, 0, 0, 0] - shared == pytest.approx(params["group_slope"][:, m, 0])
    # ... an unseen one of the same size a fresh draw scaled by the posterior's group sd
    fresh = (terms.slope[:, 1, 0, 0] - shared) / new_group_sd(params["group_slope_sd"][:, 0], 3)
    assert abs(fresh.mean()) < 0.5 and 0.6 < fresh.std() < 1.4
    assert list(terms.seen_model) == [True, False] and list(terms.seen_task) == [True, False]
    assert terms.theta_base[:, 0, 0] == pytest.approx(params["theta_base"][:, m, t])
    assert terms.base_score[0, 0] == pytest.approx(encoding.base_scores[m, t])
    assert np.isnan(terms.base_score[1, 1])


def test_cells_with_an_unseen_model_or_task_draw_a_fresh_interaction(seen_and_new):
    encoding, params, terms, m, t = seen_and_new
    # seen model x seen task: intercept, model, task and the cell's own interaction
    expected = (params["intercept"] + params["size_intercept"] * encoding.size_z([8.0])[0]
                + params["model_offset"][:, m] + params["task_intercept"][:, t]
                + params["cell_intercept"][:, m, t])
    assert terms.intercept[:, 0, 0] == pytest.approx(expected)
    # a new model on a seen task: the model and cell offsets are fresh population draws
    trend = params["size_intercept"] * encoding.size_z([8.0])[0]
    fresh = terms.intercept[:, 1, 0] - (params["intercept"] + trend
                                        + params["task_intercept"][:, t])
    spread = np.sqrt(params["model_intercept_sd"] ** 2 + params["cell_intercept_sd"] ** 2)
    assert 0.6 < (fresh / spread).std() < 1.4


def test_an_unseen_model_s_untuned_level_follows_the_size_trend(seen_and_new):
    encoding, params, terms, m, t = seen_and_new
    z_new = encoding.size_z([8.0])[0]
    fresh = terms.theta_base[:, 1, 0] - (params["base_mean"] + params["base_size"] * z_new
                                         + params["base_task"][:, t])
    spread = np.sqrt(params["base_model_sd"] ** 2 + params["base_cell_sd"] ** 2)
    assert abs((fresh / spread).mean()) < 0.3 and 0.6 < (fresh / spread).std() < 1.4
    # a seen model on an unseen task keeps its own level: trend plus its deviation
    seen = terms.theta_base[:, 0, 1] - (params["base_mean"] + params["base_size"] * z_new
                                        + params["base_model"][:, m])
    assert 0.6 < (seen / np.sqrt(params["base_task_sd"] ** 2
                                 + params["base_cell_sd"] ** 2)).std() < 1.4


def test_measured_untuned_scores_replace_the_level_where_given(prior_draws, rng):
    _, encoding, params, _ = prior_draws
    params = {k: np.asarray(v, dtype=float) for k, v in params.items()}
    models = pd.DataFrame({"name": ["m8b", "new"], "params_b": [8.0, 8.0]})
    tasks = pd.DataFrame({"benchmark": ["bench0", "bench1"], "domain": ["", ""]})
    known = KnownBaseScores(np.array([[np.nan, np.nan], [0.8, 0.3]]),
                            np.array([[np.nan, np.nan], [np.nan, 900.0]]))
    plain = group_terms(params, encoding, models, tasks, DrawStreams(0))
    given = group_terms(params, encoding, models, tasks, DrawStreams(0), known)
    # the seen model keeps its fitted level and score
    assert given.theta_base[:, 0] == pytest.approx(plain.theta_base[:, 0])
    # an exact score fixes the level; one with an item count scatters by its binomial error
    assert given.theta_base[:, 1, 0] == pytest.approx(np.full(50, logit(0.8)))
    accuracy = expit(given.theta_base[:, 1, 1])
    assert abs(accuracy.mean() - 0.3) < 0.01
    assert accuracy.std() == pytest.approx(np.sqrt(0.3 * 0.7 / 900), rel=0.4)
    assert given.base_score[1].tolist() == [0.8, 0.3]
    assert given.intercept == pytest.approx(plain.intercept)  # the change is not touched


def test_a_new_model_of_a_trained_family_starts_from_its_siblings(prior_draws, rng):
    _, encoding, params, _ = prior_draws
    params = {k: np.asarray(v, dtype=float) for k, v in params.items()}
    models = pd.DataFrame({"name": ["kin", "stranger"], "params_b": [8.0, 8.0],
                           "family": ["sim", "other"]})
    tasks = pd.DataFrame({"benchmark": ["bench0"], "domain": [""]})
    t = encoding.task_index(["bench0"], [""])[0]
    terms = group_terms(params, encoding, models, tasks, DrawStreams(0))
    shared = (params["slope"][:, 0] + params["size_slope"][:, 0] * encoding.size_z([8.0])[0]
              + params["task_slope"][:, t, 0])
    family_mean = params["group_slope"][:, :, 0].mean(axis=1)
    sd = params["group_slope_sd"][:, 0]
    kin = (terms.slope[:, 0, 0, 0] - shared - family_mean) / sd
    stranger = (terms.slope[:, 1, 0, 0] - shared) / new_group_sd(sd, 3)
    assert 0.2 < kin.std() < 0.3 and 0.8 < stranger.std() < 1.2  # WITHIN_FAMILY = 0.25
    # the untuned level of a sibling: the family's mean cell, shifted along the size trend
    z = encoding.size_z(encoding.models["params_b"].to_numpy(float))
    family_level = (params["theta_base"][:, :, t]
                    + params["base_size"][:, None] * (encoding.size_z([8.0])[0] - z)).mean(axis=1)
    level_sd = np.sqrt(params["base_model_sd"] ** 2 + params["base_cell_sd"] ** 2)
    assert ((terms.theta_base[:, 0, 0] - family_level) / level_sd).std() < 0.35
    # the pooled model has no scale groups and ignores the family
    pooled = {k: v for k, v in params.items()
              if k not in {"size_intercept", "size_slope", "group_slope", "base_size"}}
    pooled_terms = group_terms(pooled, encoding, models, tasks, DrawStreams(0))
    fresh = (pooled_terms.theta_base[:, 0, 0] - params["base_mean"] - params["base_task"][:, t])
    new_level_sd = np.sqrt(new_group_sd(params["base_model_sd"], 3) ** 2
                           + params["base_cell_sd"] ** 2)  # the cells are not zero-sum
    assert 0.8 < (fresh / new_level_sd).std() < 1.2


@pytest.mark.parametrize("params_b", [(8.0,), (8.0, 11.0), (1.0, 8.0, 70.0), (7.0, 7.0, 8.0, 70.0)])
def test_size_trend_and_deviations_sample_their_prior_exactly(params_b):
    import pymc as pm

    size_z = np.log(params_b) - np.log(params_b).mean()
    n = len(params_b)
    with pm.Model(coords={"model": [f"m{i}" for i in range(n)]}):
        trend, deviations = _size_trend("offset", "trend", size_z, (), trend_mean=0.5,
                                        trend_sd=0.4, offset_sd=0.3, centred=n % 2 == 0)
        trend_draws, dev_draws = pm.draw([trend, deviations], draws=20000, random_seed=4)
    # trend ~ Normal(0.5, 0.4), deviations ~ ZeroSumNormal(0.3), independent of each other
    assert trend_draws.mean() == pytest.approx(0.5, abs=0.01)
    assert trend_draws.std() == pytest.approx(0.4, rel=0.03)
    assert dev_draws.sum(axis=1) == pytest.approx(np.zeros(20000), abs=1e-9)
    assert dev_draws.std(axis=0) == pytest.approx(np.full(n, 0.3 * np.sqrt((n - 1) / n)),
                                                  rel=0.03, abs=1e-9)
    if n > 1:
        assert max(abs(np.corrcoef(trend_draws, d)[0, 1]) for d in dev_draws.T) < 0.03


def test_new_datasets_draw_their_unexplained_effect_trained_ones_keep_theirs(rng):
    fitted = rng.standard_normal((4000, 2))
    params = {"slope": np.zeros((4000, 1)), "dataset_sd": np.full(4000, 0.3),
              "dataset_offset": fitted}
    offsets = dataset_offsets(params, ["a", "b"], ["new1", "b", "new2"], rng)
    assert offsets.shape == (4000, 3)
    assert offsets[:, 1] == pytest.approx(fitted[:, 1])
    # zero-sum offsets of D = 2 training datasets: a new one is sd^2 (1 + 1/D) away
    assert offsets[:, [0, 2]].std(axis=0) == pytest.approx([0.3 * np.sqrt(1.5)] * 2, rel=0.05)
    assert abs(np.corrcoef(offsets[:, 0], offsets[:, 2])[0, 1]) < 0.05  # independent datasets


@pytest.mark.parametrize("n_groups", [1, 2, 5])
def test_a_new_group_is_as_far_from_the_zero_sum_fit_as_the_generative_model_says(n_groups):
    # true effects iid N(0, 1); the zero-sum fit sees e - mean(e) and the intercept absorbs
    # mean(e), so a new group's effect relative to that intercept is e_new - mean(e)
    effects = np.random.default_rng(n_groups).normal(size=(200_000, n_groups + 1))
    relative = effects[:, -1] - effects[:, :-1].mean(axis=1)
    assert relative.std() == pytest.approx(float(new_group_sd(np.array(1.0), n_groups)),
                                           rel=0.01)


@pytest.mark.parametrize("params_b, free", [((1.0, 8.0, 70.0), 1), ((8.0, 11.0), 0),
                                            ((7.0, 7.0, 8.0, 70.0), 2), ((13.0, 13.0), 1)])
def test_scale_group_contrasts_are_orthogonal_to_the_size_trend(params_b, free):
    size_z = np.log(params_b) - np.log(params_b).mean()
    basis = _deviation_basis(size_z)
    assert basis.shape == (len(params_b), free)
    assert basis.T @ basis == pytest.approx(np.eye(free))
    assert basis.T @ np.ones(len(params_b)) == pytest.approx(np.zeros(free), abs=1e-12)
    assert basis.T @ size_z == pytest.approx(np.zeros(free), abs=1e-12)


def test_flatten_posterior_puts_chain_and_draw_first():
    import xarray as xr

    values = np.arange(24.0).reshape(2, 3, 4)
    posterior = xr.Dataset({"slope": (("chain", "draw", "feature"), values)})
    flat = flatten_posterior(posterior, ["slope", "absent"])
    assert list(flat) == ["slope"]
    assert flat["slope"].shape == (6, 4)
    assert flat["slope"][4] == pytest.approx(values[1, 1])


def test_linear_predictor_is_intercept_plus_features_times_slopes(rng):
    from metaq.modeling.predictive import GroupTerms

    terms = GroupTerms(intercept=rng.normal(size=(5, 2, 3)), slope=rng.normal(size=(5, 2, 3, 4)),
                       theta_base=None, reference=None, base_score=np.full((2, 3), np.nan),
                       change_identified=np.ones((2, 3), bool),
                       seen_model=np.ones(2, bool), seen_task=np.ones(3, bool),
                       n_items=np.full(3, np.nan))
    x = rng.normal(size=(5, 6, 4))
    mu = linear_predictor(terms, x)
    assert mu.shape == (5, 6, 2, 3)
    assert mu[2, 4, 1, 0] == pytest.approx(terms.intercept[2, 1, 0]
                                           + x[2, 4] @ terms.slope[2, 1, 0])
    offsets = rng.normal(size=(5, 6))
    shifted = linear_predictor(terms, x, offsets)
    assert shifted[2, 4] - mu[2, 4] == pytest.approx(np.full((2, 3), offsets[2, 4]))


def test_per_domain_features_enter_their_own_task(rng):
    from metaq.modeling.predictive import GroupTerms, contributions

    terms = GroupTerms(intercept=np.zeros((4, 1, 2)), slope=rng.normal(size=(4, 1, 2, 3)),
                       theta_base=None, reference=None, base_score=np.full((1, 2), np.nan),
                       change_identified=np.ones((1, 2), bool),
                       seen_model=np.ones(1, bool), seen_task=np.ones(2, bool),
                       n_items=np.full(2, np.nan))
    x = rng.normal(size=(4, 5, 2, 3))  # (sample, dataset, task, feature)
    mu = linear_predictor(terms, x)
    assert mu[1, 3, 0, 1] == pytest.approx(x[1, 3, 1] @ terms.slope[1, 0, 1])
    parts = contributions(terms, x)
    assert parts.sum(axis=-1) == pytest.approx(mu)


def test_simulated_dataset_effects_are_zero_sum_with_the_requested_spread():
    plain = simulate_runs(n_datasets=40, params_b=(8.0,), n_tasks=2, random_seed=4)
    shifted = simulate_runs(n_datasets=40, params_b=(8.0,), n_tasks=2, dataset_sd=0.3,
                            random_seed=4)
    assert not plain.truth["dataset_offset"].any()
    offsets = shifted.truth["dataset_offset"]
    assert offsets.sum() == pytest.approx(0.0, abs=1e-12)  # zero-sum, as the model's
    assert offsets.std(ddof=1) == pytest.approx(0.3, rel=0.35)


def test_measured_outcome_adds_item_sampling_and_uses_the_printed_base(rng):
    from metaq.modeling.predictive import measured_outcome

    p_ft = np.full((4000, 1, 1, 2), 0.6)
    p_base = np.full_like(p_ft, 0.45)
    printed = np.array([[0.5, np.nan]])  # task 0 printed its untuned score, task 1 did not
    n_items = np.array([100.0, np.nan])  # task 1 has no item count
    delta, score = measured_outcome(p_ft, p_base, printed, n_items, "abs", rng)
    # task 0: Binomial(100, 0.6) / 100 minus the printed 0.5
    assert score[:, 0, 0, 0].std() == pytest.approx(np.sqrt(0.6 * 0.4 / 100), rel=0.1)
    assert score[:, 0, 0, 0] * 100 == pytest.approx(np.round(score[:, 0, 0, 0] * 100))
    assert delta[:, 0, 0, 0] == pytest.approx(score[:, 0, 0, 0] - 0.5)
    # task 1: no count, no sampling; no printed base, the latent one
    assert score[:, 0, 0, 1] == pytest.approx(0.6) and delta[:, 0, 0, 1] == pytest.approx(0.15)
    # the logit change clips a perfect score by half an item, as derive_target does
    top, _ = measured_outcome(np.full((5, 1, 1, 1), 1 - 1e-9), np.full((5, 1, 1, 1), 0.5),
                              np.array([[0.5]]), np.array([100.0]), "logit", rng)
    assert top == pytest.approx(np.full((5, 1, 1, 1), logit(0.995)))
