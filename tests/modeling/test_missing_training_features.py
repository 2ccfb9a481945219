"""Training feature values a study did not print: latent in the fit, not rejected."""

import json

import numpy as np
import pytest
from fake_predictor import build_fake_predictor

from metaq.exceptions import SchemaError
from metaq.modeling.baselines import RidgeBaseline
from metaq.modeling.design import as_features_table, as_runs_table, build_training_data
from metaq.modeling.priors import resolve_priors
from metaq.modeling.pymc_model import build_pymc_model
from metaq.modeling.simulate import simulate_runs
from metaq.modeling.state import FittedState


@pytest.fixture(scope="module")
def sim():
    return simulate_runs(n_datasets=8, params_b=(1.0, 8.0), n_tasks=2, slope=(0.6, 0.0, 0.0),
                         size_slope=(0.0, 0.0, 0.0), random_seed=12)


def with_gaps(features, cells):
    gapped = features.copy()
    for dataset, name in cells:
        gapped.loc[gapped["dataset_id"] == dataset, name] = np.nan
    return gapped


def training(runs, features):
    return build_training_data(as_runs_table(runs), as_features_table(features,
                                                                      allow_missing=True),
                               ["f0", "f1", "f2"], likelihood="binomial", target="logit")


def test_missing_training_values_are_latent_in_the_graph(sim, caplog):
    gapped = with_gaps(sim.features, [("ds001", "f0"), ("ds004", "f2")])
    data, encoding, scaler = training(sim.runs, gapped)
    assert "latent in the fit" in caplog.text and "ds001" in caplog.text
    assert np.isnan(data.x_obs).sum() == 2 and data.has_missing_features
    observed = gapped["f0"].dropna()
    assert scaler.means[0] == pytest.approx(observed.mean())
    assert scaler.sds[0] == pytest.approx(observed.std(ddof=1))
    model, _ = build_pymc_model(data, scaler.features, encoding.tasks["label"].tolist(),
                                encoding.models["name"].tolist(), resolve_priors(None),
                                scale_effects=True)
    assert model["x_missing"].eval().shape == (2,) and "x_true" in model.named_vars
    assert np.isfinite(model.compile_logp()(model.initial_point(random_seed=0)))


def test_complete_features_add_no_latent_values(sim):
    data, encoding, scaler = training(sim.runs, sim.features)
    model, _ = build_pymc_model(data, scaler.features, encoding.tasks["label"].tolist(),
                                encoding.models["name"].tolist(), resolve_priors(None),
                                scale_effects=True)
    assert "x_missing" not in model.named_vars and "x_true" not in model.named_vars


def test_a_feature_without_any_training_value_is_left_out(sim, caplog):
    data, _, scaler = training(sim.runs, sim.features.assign(f1=np.nan))
    assert scaler.features == ["f0", "f2"] and "['f1'] have no value" in caplog.text
    assert np.isnan(data.constant_features["f1"])  # any candidate value is flagged
    with pytest.raises(SchemaError, match=r"every feature .* or has no value"):
        training(sim.runs, sim.features.assign(f0=np.nan, f1=np.nan, f2=np.nan))


@pytest.mark.slow
def test_the_fit_learns_a_missing_value_from_the_runs(sim, quick_fit):
    # f0 carries the whole feature effect (0.6 logit per sd); the dataset furthest out on it
    # (2.7 sd of the others) loses its value: its runs move it from the prior's 0 towards
    # the truth, the N(0, 1) prior and the dataset's own unexplained effect hold it back
    x = sim.features.set_index("dataset_id")["f0"]
    far = str(x.abs().idxmax())
    gapped = with_gaps(sim.features, [(far, "f0")])
    model = quick_fit(sim.runs, gapped, random_seed=1)
    row = list(model.idata_.posterior["x_true"].feature_row.values)[
        sim.features["dataset_id"].tolist().index(far)]
    latent = model.idata_.posterior["x_true"].sel(feature_row=row, feature="f0")
    truth = (x[far] - model.feature_scaler_.means[0]) / model.feature_scaler_.sds[0]
    side = np.sign(truth) * latent.to_numpy()
    assert side.mean() > 0.5 and (side > 0).mean() > 0.8, (truth, side.mean())
    assert not np.isnan(model.training_x_).any()
    forecast = model.predict(gapped.head(2), ["m8b"], random_seed=0)
    assert np.isfinite(forecast.values).all()


def test_point_baselines_fill_missing_training_values_with_the_mean(sim):
    gapped = with_gaps(sim.features, [("ds002", "f1")])
    forecast = RidgeBaseline(target="abs").fit(sim.runs, gapped).predict(gapped.head(2),
                                                                          ["m1b"])
    assert np.isfinite(forecast.values).all()


def test_a_feature_without_training_values_round_trips_through_strict_json():
    model = build_fake_predictor()
    model.constant_features_ = {"lora": 0.0, "never_printed": float("nan")}
    text = json.dumps(FittedState.of(model).to_dict(), allow_nan=False)
    state = FittedState.from_dict(json.loads(text))
    assert state.constant_features["lora"] == 0.0
    assert np.isnan(state.constant_features["never_printed"])
