"""Slow checks with real NUTS fits: parameter recovery on simulated runs, the study's fit."""

import arviz as az
import numpy as np
import pytest

from metaq.datasets import study_path
from metaq.modeling import HierarchicalDeltaModel
from metaq.modeling.simulate import simulate_runs

pytestmark = pytest.mark.slow


SEEDS = (7, 8, 9)
SLOPE, SIZE_SLOPE = (0.3, 0.0, -0.2), (0.0, 0.3, 0.0)


@pytest.fixture(scope="module")
def recovered():
    """Three simulated tables with the same true slopes, each fitted with the default sampler."""
    fits = []
    for seed in SEEDS:
        sim = simulate_runs(n_datasets=12, params_b=(1.0, 8.0, 70.0), n_tasks=2, slope=SLOPE,
                            size_slope=SIZE_SLOPE, run_sd=0.1, random_seed=seed)
        # 3 models with 24 runs each pin the base-model intercepts down, which the
        # non-centred offsets (chosen for the 2-model study) sample less easily: with the
        # diagonal mass matrix these fits diverge on 0.2-6 % of draws, with the low-rank one
        # on 0-0.6 %
        model = HierarchicalDeltaModel(sampler={"draws": 800, "tune": 800, "chains": 2,
                                                "target_accept": 0.995,
                                                "mass_matrix": "low_rank"})
        fits.append((sim, model.fit(sim.runs, sim.features, random_seed=seed)))
    return fits


def _draws(model, name):
    post = model.idata_.posterior[name]
    return post.stack(sample=("chain", "draw")).transpose("sample", ...).values


def test_true_slopes_are_where_the_posteriors_put_them(recovered):
    # (truth - posterior mean) / posterior sd is standard normal for a calibrated posterior:
    # over 3 fits x 6 coefficients their squares sum to a chi-square with 18 degrees of
    # freedom, above 42.3 in 0.1 % of calibrated runs; a biased or overconfident posterior
    # exceeds it
    z = []
    for sim, model in recovered:
        for name in ("slope", "size_slope"):
            draws = _draws(model, name)
            z.extend((sim.truth[name] - draws.mean(axis=0)) / draws.std(axis=0))
    assert np.sum(np.square(z)) < 42.3, np.round(z, 2)
    # and the posteriors learn: each is narrower than the prior's sd of a slope
    widths = [_draws(model, "slope").std(axis=0).max() for _, model in recovered]
    assert max(widths) < 0.5


def test_the_scale_interaction_flips_the_sign_of_f1(recovered):
    # f1 has no population effect but 0.3 per SD of log size: it hurts the 1B model and
    # helps the 70B one; the posteriors must say so, on every table
    for _, model in recovered:
        slopes = model.slopes(["m1b", "m70b"], ["bench0"]).sel(feature="f1", task="bench0")
        assert (slopes.sel(target_model="m1b") < 0).mean() > 0.8
        assert (slopes.sel(target_model="m70b") > 0).mean() > 0.8


def test_the_recovery_fits_converged(recovered):
    # the coefficients under test mix well (R-hat <= 1.009 on 2 x 800 draws); the spreads of
    # 2 tasks and 3 models are barely identified and mix slowly, so their R-hat over two
    # chains wanders up to ~1.04 from fit to fit: held to Gelman and Rubin's 1.1 only. A
    # handful of divergences (< 1 % of draws) is the known weak spot of the non-centred
    # base-model intercepts on many-run data (docs/predictor.md, Sampler)
    for _, model in recovered:
        rhat = az.rhat(model.idata_.posterior[["slope", "size_slope"]])
        assert max(float(rhat[name].max()) for name in rhat.data_vars) < 1.01
        assert model.diagnostics_["max_rhat"] < 1.1
        assert model.diagnostics_["divergences"] < 0.01 * 2 * 800


def test_unseen_size_is_wider_than_a_seen_one(recovered):
    sim, model = recovered[0]
    summary = model.predict(sim.features.head(5), ["m8b", ("m30b", 30.0, "sim")], ["bench1"],
                            random_seed=0, include_run_noise=False).summary()
    seen = summary.loc[summary["target_model"] == "m8b", "sd"].to_numpy()
    unseen = summary.loc[summary["target_model"] == "m30b", "sd"].to_numpy()
    assert (unseen > seen).all()


def test_study_fit_converges_with_the_default_sampler():
    model = HierarchicalDeltaModel(target="abs").fit(study_path("runs"), study_path("features"),
                                                     random_seed=20261126)
    assert model.diagnostics_["max_rhat"] < 1.01
    assert model.diagnostics_["divergences"] == 0
    assert model.diagnostics_["min_ess_bulk"] > 400


def test_student_t_fit_without_item_counts_forecasts_its_target():
    runs = __import__("pandas").read_csv(study_path("runs")).drop(columns="n_items")
    model = HierarchicalDeltaModel(target="rel", features=["redundancy_ratio", "validity"],
                                   sampler={"draws": 300, "tune": 300, "chains": 2})
    model.fit(runs, study_path("features"), random_seed=3)
    assert model.likelihood_ == "student_t"
    summary = model.predict(study_path("features"), ["PLLuM-8B-instruct"], ["lightr1"],
                            random_seed=0).summary()
    assert (summary["target"] == "rel").all()
    # the fine-tuned score comes from the observed untuned score (0.172) and the relative change
    assert summary["score_estimate"].to_numpy() == pytest.approx(
        0.172 * (1 + summary["estimate"].to_numpy() / 100), rel=1e-6)
    assert model.linear_predictor_unit == "change on the 'rel' scale"
