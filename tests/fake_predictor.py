"""A fitted-looking predictor whose posterior is written down, for exact explain tests.

Like pymc-marketing's fake fitted models: a real :class:`HierarchicalDeltaModel` whose
posterior draws are set by hand (no sampling), so explain and forecast numbers can be checked
against hand computations in milliseconds. Truth: ``validity`` helps every model
(slope 0.5 per SD), ``perplexity`` hurts every model (-0.3), ``redundancy_ratio`` matters only
through size (0.4 per SD of standardised log size: it helps the 70B model and hurts the 1B
one). The untuned level is 0 (accuracy 0.5) everywhere. Real NUTS fits on simulated data are
in the slow tests.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

FEATURES = ["validity", "redundancy_ratio", "perplexity"]
SLOPE = np.array([0.5, 0.0, -0.3])
SIZE_SLOPE = np.array([0.0, 0.4, 0.0])
MEANS = np.array([0.9, 0.5, 1.5])
SDS = np.array([0.05, 0.1, 0.3])
MODELS = pd.DataFrame({"name": ["small-1b", "large-70b"], "params_b": [1.0, 70.0],
                       "family": ["llama", "llama"]}).astype({"name": object, "family": object})
BENCHMARKS = ["bench_a", "bench_b"]
CHAINS, DRAWS = 2, 200
SIZE_Z = np.array([-1.0, 1.0]) / np.sqrt(2.0)  # standardised log size of 1B and 70B (ddof=1)
TRAINING = pd.DataFrame({"dataset_id": ["d1", "d2", "d3", "d4"],
                         "validity": [0.85, 0.95, 0.9, 0.9],
                         "redundancy_ratio": [0.5, 0.5, 0.4, 0.6],
                         "perplexity": [1.5, 1.2, 1.8, 1.5]})


def build_fake_predictor(seed: int = 0):
    """Return a HierarchicalDeltaModel with a hand-written posterior (see module doc)."""
    import arviz as az
    import xarray as xr

    from metaq.modeling import HierarchicalDeltaModel
    from metaq.modeling.design import Encoding, FeatureScaler
    from metaq.modeling.state import FittedState

    rng = np.random.default_rng(seed)
    k, m, t = len(FEATURES), len(MODELS), len(BENCHMARKS)

    def draws(center, *dims, noise=0.05):
        center = np.broadcast_to(np.asarray(center, dtype=float),
                                 [len(coords[d]) for d in dims])
        values = center + noise * rng.standard_normal((CHAINS, DRAWS, *center.shape))
        return (("chain", "draw", *dims), values)

    coords = {"chain": np.arange(CHAINS), "draw": np.arange(DRAWS), "feature": FEATURES,
              "model": MODELS["name"].tolist(), "task": BENCHMARKS,
              "dataset": TRAINING["dataset_id"].tolist()}
    sds = {name: draws(0.1, noise=0.0) for name in
           ("task_intercept_sd", "model_intercept_sd", "group_slope_sd", "task_slope_sd",
            "base_model_sd", "base_task_sd", "base_cell_sd")}
    posterior = xr.Dataset({
        "intercept": draws(0.1), "size_intercept": draws(0.0, noise=0.0),
        "task_intercept": draws(np.zeros(t), "task", noise=0.0),
        "model_offset": draws(np.zeros(m), "model", noise=0.0),
        "slope": draws(SLOPE, "feature"), "size_slope": draws(SIZE_SLOPE, "feature"),
        "group_slope": draws(np.zeros((m, k)), "model", "feature", noise=0.0),
        "task_slope": draws(np.zeros((t, k)), "task", "feature", noise=0.0),
        "theta_base": draws(np.zeros((m, t)), "model", "task", noise=0.0),
        "base_mean": draws(0.0, noise=0.0), "base_model": draws(np.zeros(m), "model", noise=0.0),
        "base_task": draws(np.zeros(t), "task", noise=0.0),
        "run_sd": draws(0.2, noise=0.0), **sds,
        # no unexplained dataset effect: a forecast is the features' part alone
        "dataset_sd": draws(0.0, noise=0.0),
        "dataset_offset": draws(np.zeros(len(TRAINING)), "dataset", noise=0.0),
    }, coords=coords)
    model = HierarchicalDeltaModel(target="logit")
    diverging = xr.Dataset({"diverging": (("chain", "draw"), np.zeros((CHAINS, DRAWS), bool))},
                           coords={"chain": coords["chain"], "draw": coords["draw"]})
    model.idata_ = az.InferenceData(posterior=posterior, sample_stats=diverging)
    scaler = FeatureScaler(list(FEATURES), MEANS.copy(), SDS.copy(),
                           np.zeros(len(FEATURES), dtype=bool))
    tasks = pd.DataFrame({"benchmark": BENCHMARKS, "domain": "", "label": BENCHMARKS},
                         dtype=object).assign(n_items=900.0)
    log_size = np.log(MODELS["params_b"].to_numpy())
    encoding = Encoding(MODELS.copy(), tasks, float(log_size.mean()),
                        float(log_size.std(ddof=1)), "dataset", np.full((m, t), 0.5))
    FittedState(
        features=list(FEATURES), feature_scaler=scaler, encoding=encoding,
        likelihood="binomial", priors={}, sampler={}, y_scale=1.0,
        training_x=scaler.transform(TRAINING), feature_blocks=np.arange(k),
        constant_features={}, run_correlation=0.0, data_hashes={}, random_seed=seed,
        n_runs=16, diagnostics={},
    ).attach(model)
    return model


def slope_draws_by_hand(model) -> np.ndarray:
    """(sample, model, feature) slopes: slope + size_slope * z, straight from the posterior."""
    post = model.idata_.posterior
    slope = post["slope"].to_numpy().reshape(-1, len(FEATURES))
    size_slope = post["size_slope"].to_numpy().reshape(-1, len(FEATURES))
    return slope[:, None, :] + size_slope[:, None, :] * SIZE_Z[None, :, None]


@functools.cache
def cached_fake_predictor():
    """One shared fake predictor per test session (tests only read it)."""
    return build_fake_predictor()


def save_fake_predictor(folder: Path) -> Path:
    """Save the shared fake predictor as a model file (netCDF + JSON card) in `folder`."""
    return cached_fake_predictor().save(folder / "fake.nc")
