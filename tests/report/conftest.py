"""Report fixtures: the study's real runs and features plus model-side tables built by hand.

The model-side tables (forecast, slopes, importance, contributions, what-if, diagnostics,
posterior predictive check) have the shapes the predictor and explain layers return, with
numbers chosen so the expected sentences and caveats can be worked out by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from report_tables import (
    DATASETS,
    FEATURES,
    MODELS,
    make_coefficients,
    make_diagnostics,
    make_forecast,
    make_loo,
    make_ppc,
    make_whatif,
)

from metaq.datasets import study_path
from metaq.report import ReportData, ReportMetadata, ReportSection, build_sections, render_html
from metaq.tables import read_features, read_runs


@pytest.fixture(scope="session")
def study_runs() -> pd.DataFrame:
    return read_runs(study_path("runs"))


@pytest.fixture(scope="session")
def study_features() -> pd.DataFrame:
    return read_features(study_path("features"))


@pytest.fixture(scope="session")
def study_correlations(study_runs, study_features) -> pd.DataFrame:
    from metaq.stats import correlate

    return correlate(study_runs, study_features, random_seed=0)


@pytest.fixture(scope="session")
def full_data(study_runs, study_features, study_correlations) -> ReportData:
    rng = np.random.default_rng(7)
    forecast = make_forecast()
    contributions = pd.DataFrame([
        {"dataset_id": d, "target_model": m, "benchmark": "mot_pl_eval", "term": f,
         "estimate": 0.01 * (i - j), "lower": 0.01 * (i - j) - 0.01,
         "upper": 0.01 * (i - j) + 0.01}
        for i, d in enumerate(DATASETS) for m, _ in MODELS[:2]
        for j, f in enumerate(FEATURES)])
    importance = pd.DataFrame({"feature": FEATURES, "estimate": [0.3, -0.1, 0.2],
                               "lower": [0.1, -0.3, 0.0], "upper": [0.5, 0.1, 0.4]})
    metadata = ReportMetadata.now(model_file="models/x.nc", model_sha256="ab" * 32,
                                  data_hashes={"runs": "cd" * 32}, seeds={"fit": 1})
    return ReportData(metadata=metadata, prob=0.9, forecast=forecast,
                      coefficients=make_coefficients(), importance=importance,
                      contributions=contributions, whatif=make_whatif(), runs=study_runs,
                      correlations=study_correlations,
                      features=study_features, diagnostics=make_diagnostics(),
                      ppc=make_ppc(rng), loo=make_loo(rng))


@pytest.fixture(scope="session")
def full_sections(full_data) -> tuple[ReportSection, ...]:
    return build_sections(full_data)


@pytest.fixture(scope="session")
def full_html(full_data) -> str:
    return render_html(full_data)
