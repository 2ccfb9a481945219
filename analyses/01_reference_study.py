"""Reproduce the reference study's correlation analysis (arXiv 2605.13290, Tables 7 and 8).

Recomputes every Spearman rho from data/study/, compares it with the published tables, adds
Perplexity and the Table 1 lengths, exact permutation p-values and Benjamini-Hochberg q-values,
and writes tables, heatmaps and a markdown summary to analyses/out/01_reference_study/.

Run from the repository root: ``python analyses/01_reference_study.py``.
"""

from __future__ import annotations

from pathlib import Path

from metaq.stats import reference_study_report

OUT = Path(__file__).resolve().parent / "out" / "01_reference_study"


def main() -> None:
    paths = reference_study_report(OUT)
    print(paths["summary"].read_text(encoding="utf-8"))
    for name, path in paths.items():
        print(f"{name}: {path}")


if __name__ == "__main__":
    main()
