"""The Report object: tables computed once, the CSV tables, figures and HTML drawn from them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fake_predictor import BENCHMARKS, MODELS, TRAINING, cached_fake_predictor

from metaq.forecasting import forecast_datasets
from metaq.report.report import Report

CANDIDATES = pd.DataFrame({"dataset_id": ["good", "bad"], "validity": [0.95, 0.85],
                           "redundancy_ratio": [0.6, 0.4], "perplexity": [1.2, np.nan]})


@pytest.fixture(scope="module")
def report():
    model = cached_fake_predictor()
    # the runs the fake predictor stands for: its 4 training datasets on its 2 models
    grid = pd.MultiIndex.from_product([TRAINING["dataset_id"], MODELS["name"], BENCHMARKS],
                                      names=["dataset_id", "base_model", "benchmark"])
    runs = grid.to_frame(index=False).merge(MODELS.rename(columns={"name": "base_model"}))
    runs = runs.assign(domain="", score_base=0.5, score_ft=0.55, n_items=900)
    forecast = forecast_datasets(features=CANDIDATES, model=model,
                                 target_models=["small-1b", {"name": "huge", "params_b": 400}])
    return Report(model, runs=runs, features=TRAINING, forecast=forecast,
                  candidates=CANDIDATES, random_seed=0)


def test_every_table_is_written_with_the_explain_figures(report, tmp_path):
    paths = report.write_tables(tmp_path)
    for name in ("forecast", "ranking", "benchmark_effects", "importance", "coefficients",
                 "contributions", "whatif", "diagnostics", "units", "correlations"):
        assert paths[name].is_file(), name
    for name in ("forecast", "ranking", "importance", "whatif", "contributions"):
        assert paths[f"{name}_figure"].stat().st_size > 1000, name
    forecast = pd.read_csv(paths["forecast"], keep_default_na=False)
    assert forecast.loc[forecast["dataset_id"] == "bad", "missing_features"].eq(
        "perplexity").all()
    assert "extrapolation_sd" in forecast.columns  # the pipeline's summary, not a bare one
    ranking = pd.read_csv(paths["ranking"])
    assert ranking.groupby("target_model")["dataset_id"].first().eq("good").all()


def test_the_html_is_built_from_the_same_tables(report, tmp_path):
    html = report.to_html(tmp_path / "report.html").read_text()
    assert "Forecast change by benchmark" in html and "What-if curves" in html
    # computed once: the tables the HTML shows are the tables written to CSV
    assert report.data is report.data
    importance = report.tables()["importance"]
    assert importance["feature"].iloc[0] in html


def test_a_report_without_a_model_is_a_data_report(tmp_path):
    report = Report(None)
    tables = report.tables()
    assert {"runs", "features", "correlations"} <= set(tables) and "importance" not in tables
    assert "No fitted model was given" in report.to_html(tmp_path / "r.html").read_text()
