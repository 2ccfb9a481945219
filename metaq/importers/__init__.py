"""Importers: build runs tables from evaluation results (lm-eval JSON, tables in other layouts)."""

from metaq.importers.csv_layout import import_csv
from metaq.importers.lm_eval import find_results_files, import_lm_eval, read_lm_eval_results

__all__ = ["find_results_files", "import_csv", "import_lm_eval", "read_lm_eval_results"]
