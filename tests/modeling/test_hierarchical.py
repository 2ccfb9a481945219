"""The hierarchical model on a small simulated set, with a short real NUTS fit."""

import json

import numpy as np
import pandas as pd
import pytest

from metaq.exceptions import (
    IncompatibleModelError,
    InvalidParameterError,
    NotFittedError,
    SchemaError,
)
from metaq.modeling import HierarchicalDeltaModel, PooledDeltaModel
from metaq.modeling.persistence import card_id
from metaq.modeling.simulate import simulate_runs

QUICK = {"draws": 150, "tune": 150, "chains": 2}


@pytest.fixture(scope="module")
def sim():
    return simulate_runs(n_datasets=8, params_b=(1.0, 8.0, 70.0), n_tasks=2, feature_se=0.05,
                         random_seed=11)


@pytest.fixture(scope="module")
def fitted(sim, quick_fit):
    return quick_fit(sim.runs, sim.features, target="abs", sampler=QUICK, random_seed=5)


def test_fit_sets_the_fitted_state(fitted, sim):
    assert fitted.features_ == ["f0", "f1", "f2"]
    assert fitted.likelihood_ == "binomial"
    assert fitted.n_runs_ == len(sim.runs)
    post = fitted.idata_.posterior
    assert post.sizes["chain"] == 2 and post.sizes["draw"] == 150
    assert post["slope"].dims == ("chain", "draw", "feature")
    assert "x_true" in post  # features with standard errors are latent
    # where the time went: compiling the model, then sampling it
    assert post.attrs["compile_seconds"] > 0 and post.attrs["sampling_seconds"] > 0
    for key in ("max_rhat", "min_ess_bulk", "divergences", "elpd_loo", "max_pareto_k",
                "ppc_coverage"):
        assert key in fitted.diagnostics_
    assert len(fitted.diagnostics_["pareto_k"]) == len(sim.runs)


def test_unseen_size_forecasts_are_wider(fitted, sim):
    forecast = fitted.predict(sim.features.head(3), ["m8b", ("m8b-twin", 8.0, "sim")],
                              ["bench0"], random_seed=0, include_run_noise=False)
    summary = forecast.summary()
    seen = summary[summary["target_model"] == "m8b"]
    unseen = summary[summary["target_model"] == "m8b-twin"]
    assert seen["seen_model"].all() and not unseen["seen_model"].any()
    assert (unseen["sd"].to_numpy() > seen["sd"].to_numpy()).all()


def test_missing_features_are_integrated_and_reported(fitted, sim):
    complete = sim.features.head(1)
    holed = complete.assign(dataset_id="holed", f0=np.nan).drop(columns=["f1", "f1__se"])
    forecast = fitted.predict(pd.concat([complete, holed]), ["m70b"], ["bench0"],
                              random_seed=0, include_run_noise=False)
    summary = forecast.summary().set_index("dataset_id")
    assert forecast.missing_features == {complete["dataset_id"].item(): [],
                                         "holed": ["f0", "f1"]}
    assert summary.loc["holed", "sd"] > summary.loc[complete["dataset_id"].item(), "sd"]


def test_forecast_of_training_cells_tracks_the_observed_changes(fitted, sim):
    forecast = fitted.predict(sim.features, ["m70b"], ["bench1"], random_seed=0)
    summary = forecast.summary()
    observed = sim.runs[(sim.runs["base_model"] == "m70b") & (sim.runs["benchmark"] == "bench1")]
    delta = (observed["score_ft"] - observed["score_base"]).to_numpy()
    assert np.corrcoef(summary["estimate"], delta)[0, 1] > 0.8
    assert summary["prob_best"].sum() == pytest.approx(1.0)


def test_setting_a_missing_feature_keeps_the_new_dataset_effect_paired(fitted, sim):
    # the logit change of a new dataset is intercepts + features x slopes + its own
    # unexplained effect; setting a feature that was missing must change the features' part
    # only, so the difference of the forecasts is the difference of the contributions
    row = sim.features.head(1).assign(dataset_id="new")
    before = row.assign(f0=np.nan)
    args = {"target_models": ["m8b", ("m30b", 30.0, "sim")], "benchmarks": ["bench0"],
            "random_seed": 11}
    forecasts = [fitted.predict(table, target="logit", include_run_noise=False, **args)
                 for table in (before, row)]
    parts = [fitted.contributions(table, **args).sum("feature").values.reshape(
        -1, forecasts[0].values.shape[1]) for table in (before, row)]
    np.testing.assert_allclose(forecasts[1].values - forecasts[0].values, parts[1] - parts[0],
                               atol=1e-8)
    assert np.std(forecasts[1].values - forecasts[0].values) > 0  # the feature did move


def test_a_candidate_differing_on_a_feature_constant_in_training_is_flagged(fitted, sim):
    saved = fitted.constant_features_
    fitted.constant_features_ = {"long_cot": 1.0}  # as if every training dataset had it
    try:
        table = sim.features.head(3).assign(long_cot=[1.0, 0.0, np.nan])
        rows = fitted.predict(table, ["m8b"], ["bench0"], random_seed=0).summary()
    finally:
        fitted.constant_features_ = saved
    assert rows["untrained_features"].tolist() == ["", "long_cot", ""]


def test_slopes_and_contributions_add_up(fitted, sim):
    slopes = fitted.slopes(["m1b", "m70b"], ["bench0"])
    assert slopes.dims == ("chain", "draw", "target_model", "task", "feature")
    post = fitted.idata_.posterior
    z = fitted.encoding_.size_z([70.0])[0]
    by_hand = (post["slope"] + post["size_slope"] * z
               + post["group_slope"].sel(model="m70b") + post["task_slope"].sel(task="bench0"))
    np.testing.assert_allclose(slopes.sel(target_model="m70b", task="bench0").values,
                               by_hand.transpose("chain", "draw", "feature").values)
    parts = fitted.contributions(sim.features.head(2), ["m70b"], ["bench0"], random_seed=0)
    assert parts.dims == ("chain", "draw", "dataset_id", "target_model", "task", "feature")
    assert fitted.linear_predictor_unit == "logit change"


def test_save_load_round_trip(fitted, sim, tmp_path):
    path = fitted.save(tmp_path / "model.nc")
    card = json.loads((tmp_path / "model.json").read_text())
    assert card["spec"]["features"] == ["f0", "f1", "f2"]
    assert set(card["state"]["data_hashes"]) == {"runs", "features"}
    assert card["state"]["sampler"]["draws"] == 150
    loaded = HierarchicalDeltaModel.load(path)
    assert loaded.features_ == fitted.features_
    assert loaded.diagnostics_["max_rhat"] == pytest.approx(fitted.diagnostics_["max_rhat"])
    before = fitted.predict(sim.features, ["m8b"], random_seed=3).summary()
    after = loaded.predict(sim.features, ["m8b"], random_seed=3).summary()
    pd.testing.assert_frame_equal(before, after)


def test_save_can_thin_the_draws(fitted, tmp_path):
    loaded = HierarchicalDeltaModel.load(fitted.save(tmp_path / "thin.nc", max_draws=100))
    assert loaded.idata_.posterior.sizes["draw"] * 2 <= 100


def _tamper(path, edit):
    import xarray as xr

    with xr.open_dataset(path, group="posterior") as data:
        posterior = data.load()
    card = json.loads(posterior.attrs["metaq_card"])
    edit(card)
    card["card_id"] = card_id(card)  # resealed: the checks behind the card's own hash
    posterior.attrs["metaq_card"] = json.dumps(card)
    posterior.to_netcdf(path, group="posterior", mode="a")
    (path.with_suffix(".json")).unlink()


@pytest.mark.parametrize(("edit", "message"), [
    (lambda c: c.update(format_version=99), r"format 99 .*refit"),
    (lambda c: c["spec"].update(target="rel"), r"spec does not match its spec_id"),
    (lambda c: c.update(model_type="other"), r"holds a 'other' model"),
])
def test_incompatible_files_are_refused(fitted, tmp_path, edit, message):
    path = fitted.save(tmp_path / "model.nc")
    _tamper(path, edit)
    with pytest.raises(IncompatibleModelError, match=message):
        HierarchicalDeltaModel.load(path)


def test_a_stale_card_is_refused(fitted, tmp_path):
    path = fitted.save(tmp_path / "model.nc")
    card = json.loads(path.with_suffix(".json").read_text())
    card["spec_id"] = "0" * 16
    path.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(IncompatibleModelError, match="does not belong to"):
        HierarchicalDeltaModel.load(path)


def test_pooled_file_is_not_a_hierarchical_model(fitted, tmp_path):
    path = fitted.save(tmp_path / "model.nc")
    with pytest.raises(IncompatibleModelError, match="holds a 'hierarchical_delta' model"):
        PooledDeltaModel.load(path)


def test_fit_validation_errors(sim):
    model = HierarchicalDeltaModel(features=["f0", "nope"])
    with pytest.raises(SchemaError, match=r"\['nope'\] are not metric columns.*\['f0', 'f1'"):
        model.fit(sim.runs, sim.features)
    with pytest.raises(InvalidParameterError, match="unknown target 'delta'"):
        HierarchicalDeltaModel(target="delta").fit(sim.runs, sim.features)
    with pytest.raises(SchemaError, match=r"have runs but no row"):
        HierarchicalDeltaModel().fit(sim.runs, sim.features.iloc[1:])
    with pytest.raises(SchemaError, match="needs n_items on every run"):
        HierarchicalDeltaModel(likelihood="binomial").fit(sim.runs.drop(columns="n_items"),
                                                          sim.features)


def test_predict_before_fit_is_refused(sim):
    with pytest.raises(NotFittedError, match=r"call `.fit\(\)` first"):
        HierarchicalDeltaModel().predict(sim.features, ["m8b"])


def test_any_target_from_a_binomial_fit(fitted, sim):
    from scipy.special import expit, logit

    kwargs = {"target_models": ["m8b"], "benchmarks": ["bench0"], "random_seed": 4}
    on_abs = fitted.predict(sim.features.head(2), **kwargs)
    on_logit = fitted.predict(sim.features.head(2), target="logit", **kwargs)
    on_rel = fitted.predict(sim.features.head(2), target="rel", **kwargs)
    assert on_logit.target == "logit"
    np.testing.assert_allclose(on_abs.scores, on_logit.scores)  # same draws, other scale
    base = on_abs.scores - on_abs.values  # untuned accuracy per draw
    np.testing.assert_allclose(on_logit.values, logit(on_abs.scores) - logit(base), atol=1e-8)
    np.testing.assert_allclose(on_rel.values, 100 * on_abs.values / base, rtol=1e-8)
    assert expit(logit(base)) == pytest.approx(base)


def test_a_single_base_model_fits_and_forecasts_a_new_size(quick_fit):
    # one training model (as Tulu 1's 13B table): no model contrast, no free cell offsets
    one = simulate_runs(n_datasets=5, params_b=(8.0,), n_tasks=2, random_seed=2)
    model = quick_fit(one.runs, one.features, target="abs", sampler=QUICK, random_seed=1)
    assert np.isfinite(model.diagnostics_["max_rhat"])
    assert not model.idata_.posterior["model_offset"].any()
    summary = model.predict(one.features.head(2), ["m8b", ("m70b", 70.0, "sim")],
                            random_seed=0).summary()
    assert summary[["estimate", "lower", "upper"]].notna().all().all()
    sd = summary.groupby("target_model")["sd"].mean()
    assert sd["m70b"] > sd["m8b"]


def test_item_noise_forecasts_the_printed_score(fitted, sim):
    args = (sim.features.head(2), ["m8b"], ["bench0"])
    accuracy = fitted.predict(*args, random_seed=0)
    printed = fitted.predict(*args, random_seed=0, item_noise=True)
    n_items = 900  # the simulation's benchmark size, read back from the training runs
    assert fitted.encoding_.tasks["n_items"].eq(n_items).all()
    assert printed.scores * n_items == pytest.approx(np.round(printed.scores * n_items))
    assert (printed.scores.std(axis=0) > accuracy.scores.std(axis=0)).all()
    # the change is taken from the printed untuned score of the cell
    base = fitted.encoding_.base_scores[fitted.encoding_.model_index(["m8b"])[0],
                                        fitted.encoding_.task_index(["bench0"], [""])[0]]
    assert printed.values == pytest.approx(printed.scores - base)


@pytest.fixture(scope="module")
def dart_math():
    from metaq.datasets import data_path
    from metaq.tables import read_features, read_runs

    folder = data_path() / "published" / "dart_math"
    features = read_features(folder / "features.csv", allow_missing=True)[
        ["dataset_id", "log_n_examples", "teacher_gpt35", "prop_to_difficulty"]]
    return read_runs(folder / "runs.csv"), features


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_without_untuned_scores_the_identified_fine_tuned_level_is_fitted(dart_math, seed,
                                                                         quick_fit):
    # DART-Math prints no untuned score: its fine-tuned scores identify the untuned level
    # *plus* the change, not each. Fitting both put the sampler on an unbounded ridge (R-hat
    # 2.1-2.3 with DART-Uniform held out); the model leaves the change's location out there,
    # so the level is the fine-tuned level of an average training dataset, and says so.
    runs, features = dart_math
    train = runs[runs["dataset_id"] != "dart_math_uniform"]
    known = features[features["dataset_id"].isin(set(train["dataset_id"]))]
    model = quick_fit(train, known, target="abs", random_seed=seed,
                      sampler={"draws": 1000, "tune": 1000})
    assert "intercept" not in model.idata_.posterior  # the change's location is left out
    assert model.diagnostics_["max_rhat"] < 1.05
    forecast = model.predict(features, ["Mistral-7B", ("Mistral-7B-v2", 7.0, "mistral")],
                             ["math", "gsm8k"], random_seed=0)
    assert not forecast.rows["change_identified"].any()
    summary = forecast.summary()
    assert summary[["score_lower", "score_upper"]].stack().between(0, 1).all()
    # the held-out dataset's printed fine-tuned scores on the seen base model fall inside
    held = summary.query("dataset_id == 'dart_math_uniform' and target_model == 'Mistral-7B'")
    truth = runs.set_index(["dataset_id", "base_model", "benchmark"])["score_ft"]
    printed = truth.loc[[("dart_math_uniform", "Mistral-7B", b) for b in held["benchmark"]]]
    assert ((held["score_lower"].to_numpy() <= printed.to_numpy())
            & (printed.to_numpy() <= held["score_upper"].to_numpy())).all()
    # a measured untuned score makes that cell's change a change from the untuned model
    base = pd.DataFrame({"base_model": ["Mistral-7B"], "benchmark": ["math"],
                         "score_base": [0.13]})
    given = model.predict(features, ["Mistral-7B"], ["math", "gsm8k"], random_seed=0,
                          base_scores=base)
    assert given.rows["change_identified"].tolist() == [True, False] * 3
    math = (given.rows["benchmark"] == "math").to_numpy()
    assert given.values[:, math] == pytest.approx(given.scores[:, math] - 0.13)
    # the fine-tuned score does not depend on the untuned score given
    assert given.scores == pytest.approx(model.predict(
        features, ["Mistral-7B"], ["math", "gsm8k"], random_seed=0).scores)
