"""Leave-one-variant-out forecasts on the reference study: fit on 3 variants, forecast the 4th.

For each of the study's four dataset variants (Detailed, Summarized, BabyThink, Lengthy), the
hierarchical predictor is fitted on the runs of the other three and forecasts the held-out
variant for both study models on every benchmark (and MoT-PL domain), as a new dataset would
be forecast before fine-tuning. The forecast (absolute accuracy change, one fine-tuning run,
90 % interval) is compared with what fine-tuning on the held-out variant really did, and with
a no-feature baseline (the mean change of the three training variants for that model and
benchmark).

Writes analyses/out/04_leave_one_variant_out/{forecasts.csv, summary.csv, summary.md}.
Run from the repository root: ``python analyses/04_leave_one_variant_out.py [--draws N]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from metaq import HierarchicalDeltaModel, derive_target, read_features, read_runs
from metaq.datasets import study_path

OUT = Path(__file__).resolve().parent / "out" / "04_leave_one_variant_out"
PROB = 0.9
KEY = ["dataset_id", "base_model", "benchmark", "domain"]


def forecast_held_out(runs: pd.DataFrame, features: pd.DataFrame, held_out: str, *,
                      sampler: dict, seed: int) -> pd.DataFrame:
    """Fit without `held_out`, forecast it; one row per held-out run with the observation."""
    model = HierarchicalDeltaModel(target="abs", sampler=sampler)
    model.fit(runs.loc[runs["dataset_id"] != held_out], features, random_seed=seed)
    models = runs[["base_model"]].drop_duplicates()["base_model"].tolist()
    forecast = model.predict(features.loc[features["dataset_id"] == held_out], models,
                             prob=PROB, random_seed=seed)
    table = forecast.summary(PROB).rename(columns={"target_model": "base_model"})
    truth = runs.loc[runs["dataset_id"] == held_out].assign(
        observed=lambda r: derive_target(r, "abs"))
    merged = table.merge(truth[[*KEY, "observed"]], on=KEY, how="inner")
    merged["baseline"] = _no_feature_baseline(runs, held_out).reindex(
        pd.MultiIndex.from_frame(merged[["base_model", "benchmark", "domain"]])).to_numpy()
    merged["max_rhat"] = model.diagnostics_["max_rhat"]
    merged["divergences"] = model.diagnostics_["divergences"]
    return merged


def _no_feature_baseline(runs: pd.DataFrame, held_out: str) -> pd.Series:
    train = runs.loc[runs["dataset_id"] != held_out].assign(
        change=lambda r: derive_target(r, "abs"))
    return train.groupby(["base_model", "benchmark", "domain"])["change"].mean()


def summarise(forecasts: pd.DataFrame) -> pd.DataFrame:
    """Per held-out variant and model: errors, interval coverage, sign agreement."""
    rows = []
    for (variant, model), part in forecasts.groupby(["dataset_id", "base_model"], sort=False):
        rows.append({
            "held_out": variant, "base_model": model, "runs": len(part),
            "mae_model": (part["estimate"] - part["observed"]).abs().mean(),
            "mae_no_feature": (part["baseline"] - part["observed"]).abs().mean(),
            "coverage_90": ((part["lower"] <= part["observed"])
                            & (part["observed"] <= part["upper"])).mean(),
            "mean_width_90": (part["upper"] - part["lower"]).mean(),
            "sign_agreement": (np.sign(part["estimate"]) == np.sign(part["observed"])).mean(),
            "max_rhat": part["max_rhat"].iloc[0], "divergences": part["divergences"].iloc[0],
        })
    return pd.DataFrame(rows)


def _markdown(table: pd.DataFrame) -> str:
    cells = table.map(lambda v: f"{v:.3f}" if isinstance(v, float) else str(v))
    lines = ["| " + " | ".join(table.columns) + " |",
             "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(row) + " |" for row in cells.to_numpy().tolist()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    runs, features = read_runs(study_path("runs")), read_features(study_path("features"))
    sampler = {"draws": args.draws, "tune": args.tune, "chains": args.chains}
    OUT.mkdir(parents=True, exist_ok=True)
    parts = []
    for variant in features["dataset_id"]:
        start = time.perf_counter()
        parts.append(forecast_held_out(runs, features, variant, sampler=sampler,
                                       seed=args.seed))
        print(f"{variant}: fitted and forecast in {time.perf_counter() - start:.0f} s")
    forecasts = pd.concat(parts, ignore_index=True)
    summary = summarise(forecasts)
    forecasts.to_csv(OUT / "forecasts.csv", index=False)
    summary.to_csv(OUT / "summary.csv", index=False)
    text = _markdown(summary)
    (OUT / "summary.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
