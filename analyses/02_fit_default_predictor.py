"""Refit the default predictor shipped in models/ from the reference study's tables.

Run from the repository root: ``python analyses/02_fit_default_predictor.py``. It fits
:class:`metaq.HierarchicalDeltaModel` to data/study/runs.csv and data/study/features.csv with
the default priors and sampler and a fixed seed, saves ``models/study_default.nc`` (draws
thinned to 1,000) with its JSON card, prints the diagnostics, and writes the posterior of the
scale-dependent slopes the paper reports to
``analyses/out/02_fit_default_predictor/paper_signs.csv`` (quoted in docs/predictor.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from metaq import HierarchicalDeltaModel
from metaq.datasets import default_predictor_path, study_path

SEED = 20261126
OUT = Path(__file__).resolve().parent / "out" / "02_fit_default_predictor"
PLLUM, BIELIK = "PLLuM-8B-instruct", "Bielik-11B-v2.6-Instruct"
# (model, feature, task, sign the paper reports)
PAPER_CLAIMS = [
    *[(PLLUM, f, t, +1) for f in ("semantic_alignment", "semantic_flow", "factuality")
      for t in ("mot_pl_eval", "lightr1", "bel_pl", "aya_pl")],
    (PLLUM, "utility", "lightr1", -1),
    *[(BIELIK, f, t, +1) for f in ("redundancy_ratio", "validity", "coherence")
      for t in ("lightr1", "mot_pl_eval")],
]


def paper_signs(model: HierarchicalDeltaModel) -> pd.DataFrame:
    """Posterior of each slope the paper gives a sign for, per SD of the feature."""
    slopes = model.slopes([PLLUM, BIELIK], random_seed=SEED)
    rows = []
    for name, feature, task, sign in PAPER_CLAIMS:
        draws = slopes.sel(target_model=name, feature=feature, task=task).values.ravel()
        rows.append({"model": name, "feature": feature, "task": task, "paper_sign": sign,
                     "mean": draws.mean(), "lo90": pd.Series(draws).quantile(0.05),
                     "hi90": pd.Series(draws).quantile(0.95),
                     "prob_paper_sign": (sign * draws > 0).mean()})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(default_predictor_path().parent / "study_default.nc"))
    args = parser.parse_args()
    model = HierarchicalDeltaModel(target="abs").fit(study_path("runs"), study_path("features"),
                                                     random_seed=SEED)
    path = model.save(args.out, max_draws=1000)
    diagnostics = {k: v for k, v in model.diagnostics_.items() if k != "pareto_k"}
    print(f"saved {path} ({path.stat().st_size / 1e6:.2f} MB)")
    for key, value in diagnostics.items():
        print(f"  {key}: {value}")
    OUT.mkdir(parents=True, exist_ok=True)
    signs = paper_signs(model)
    signs.to_csv(OUT / "paper_signs.csv", index=False)
    print(signs.round(3).to_string(index=False))


if __name__ == "__main__":
    main()
