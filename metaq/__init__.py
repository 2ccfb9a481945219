"""metaq: forecast what a reasoning fine-tuning dataset will do to a model before fine-tuning.

The public API is re-exported here lazily, so ``import metaq`` stays fast and never imports
torch, transformers, vllm, ray or pymc until a function that needs them is called.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY: dict[str, str] = {
    "read_runs": "metaq.tables.runs",
    "validate_runs": "metaq.tables.runs",
    "read_features": "metaq.tables.features",
    "validate_features": "metaq.tables.features",
    "metric_columns": "metaq.tables.features",
    "derive_target": "metaq.tables.targets",
    "TARGETS": "metaq.tables.targets",
    "run_demo": "metaq.demo",
    "import_lm_eval": "metaq.importers.lm_eval",
    "read_lm_eval_results": "metaq.importers.lm_eval",
    "import_csv": "metaq.importers.csv_layout",
    "cross_validate": "metaq.validation.harness",
    "correlate": "metaq.stats.correlation",
    "plot_correlation_heatmap": "metaq.stats.heatmap",
    "extract_features": "metaq.features.runner",
    "EmbeddingExtractor": "metaq.features.embedding",
    "PerplexityExtractor": "metaq.features.perplexity",
    "FVCUExtractor": "metaq.features.judge.extractor",
    "split_steps": "metaq.features.judge.steps",
    "TransformersEngine": "metaq.engines.causal_lm",
    "VLLMEngine": "metaq.engines.vllm_engine",
    "load_embedding_engine": "metaq.engines.embedders",
    "read_examples": "metaq.io.reader",
    "iter_example_batches": "metaq.io.reader",
    "ColumnMapping": "metaq.io.mapping",
    "preview_records": "metaq.io.preview",
    "make_report": "metaq.report.build",
    "ReportData": "metaq.report.contracts",
    "ReportConfig": "metaq.report.contracts",
    "render_html": "metaq.report.html",
    "html_to_pdf": "metaq.report.pdf",
    "HierarchicalDeltaModel": "metaq.modeling.hierarchical",
    "PooledDeltaModel": "metaq.modeling.hierarchical",
    "fit_predictor": "metaq.modeling.hierarchical",
    "Forecast": "metaq.modeling.forecast",
    "forecast_datasets": "metaq.forecasting",
    "Report": "metaq.report.report",
    "load_study": "metaq.datasets",
    "load_published": "metaq.datasets",
    "load_corpus": "metaq.datasets",
    "load_default_predictor": "metaq.datasets",
    "Forecaster": "metaq.modeling.protocols",
    "feature_importance": "metaq.explain.importance",
    "scale_contrast": "metaq.explain.importance",
    "permutation_importance": "metaq.explain.importance",
    "feature_contributions": "metaq.explain.contributions",
    "what_if": "metaq.explain.whatif",
    "sweep": "metaq.explain.whatif",
    "rank_candidates": "metaq.explain.ranking",
    "benchmark_effects": "metaq.explain.ranking",
    "rank_next_runs": "metaq.explain.next_run",
    "plot_feature_importance": "metaq.explain.plots",
    "plot_scale_contrast": "metaq.explain.plots",
    "plot_contributions": "metaq.explain.plots",
    "plot_what_if": "metaq.explain.plots",
    "plot_sweep": "metaq.explain.plots",
    "plot_ranking": "metaq.explain.plots",
    "plot_next_runs": "metaq.explain.plots",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'metaq' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
