"""Model-side report tables built by hand, shaped like the predictor's and explain's output.

Numbers are chosen so the expected sentences and caveats can be worked out by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DATASETS = ("Detailed", "Summarized", "BabyThink", "Lengthy")
BENCHMARKS = ("mot_pl_eval", "light_r1")
MODELS = (("PLLuM-8B-instruct", 8.0), ("Bielik-11B-v2.6-Instruct", 11.0), ("Unseen-70B", 70.0))
FEATURES = ("semantic_alignment", "redundancy_ratio", "utility")


def make_forecast(datasets=DATASETS) -> pd.DataFrame:
    """Forecast rows: Detailed is best for the 8B model with P(best) 0.8 on every benchmark;
    the 11B and 70B candidates are not separated (P(best) 0.25 each)."""
    rows = []
    for model, size in MODELS:
        for benchmark in BENCHMARKS:
            for k, dataset in enumerate(datasets):
                if model.startswith("PLLuM"):
                    best = 0.8 if dataset == "Detailed" else 0.2 / (len(datasets) - 1)
                else:
                    best = 1 / len(datasets)
                mean = 0.03 - 0.01 * k
                rows.append({"dataset_id": dataset, "target_model": model, "params_b": size,
                             "benchmark": benchmark, "domain": "", "estimate": mean,
                             "sd": 0.01, "lower": mean - 0.02, "upper": mean + 0.02,
                             "prob_gain": float(np.clip(0.5 + 15 * mean, 0.01, 0.99)),
                             "prob_best": best, "target": "abs", "missing_features": ""})
    return pd.DataFrame(rows)


def make_coefficients() -> pd.DataFrame:
    return pd.DataFrame([{"feature": f, "group": g, "estimate": e, "lower": e - 0.1,
                          "upper": e + 0.1}
                         for g, sign in (("8B", 1.0), ("11B", -1.0))
                         for f, e in zip(FEATURES, (0.2 * sign, 0.05, -0.15), strict=True)])


def make_whatif() -> pd.DataFrame:
    rows = []
    for feature in FEATURES:
        for model, _ in MODELS[:2]:
            for value in np.linspace(0.4, 0.9, 6):
                est = 0.05 * (value - 0.6)
                rows.append({"feature": feature, "value": value, "target_model": model,
                             "benchmark": "mot_pl_eval", "estimate": est, "lower": est - 0.02,
                             "upper": est + 0.02})
    return pd.DataFrame(rows)


def make_diagnostics(*, rhat: float = 1.003) -> pd.DataFrame:
    return pd.DataFrame({
        "check": ["max R-hat", "min ESS bulk", "divergences", "max Pareto k"],
        "value": [rhat, 812.0, 0.0, 0.41],
        "threshold": [1.01, 400.0, 0.0, 0.7],
        "passed": [rhat < 1.01, True, True, True],
        "detail": ["", "", "", ""],
    })


def make_ppc(rng: np.random.Generator, n: int = 48) -> pd.DataFrame:
    observed = rng.normal(0, 0.03, n)
    mean = observed + rng.normal(0, 0.01, n)
    return pd.DataFrame({"observed": observed, "mean": mean, "lower": mean - 0.03,
                         "upper": mean + 0.03})


def make_loo(rng: np.random.Generator, n: int = 48) -> pd.DataFrame:
    return pd.DataFrame({"loo_pit": rng.uniform(size=n), "pareto_k": rng.uniform(0, 0.6, n)})
