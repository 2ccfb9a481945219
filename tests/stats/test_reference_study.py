"""The reference study report: files, reproduction check and the plain-language summary."""

from __future__ import annotations

import pandas as pd
import pytest

from metaq.stats import reference_study_report
from metaq.stats.reference_study import compare_with_paper, paper_metric_name, published_rho


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    return reference_study_report(tmp_path_factory.mktemp("reference"))


def test_writes_every_output(report):
    assert {"correlations", "table7", "table8", "comparison", "summary"} <= set(report)
    assert sum(name.startswith("heatmap_") for name in report) == 4
    assert all(path.is_file() and path.stat().st_size > 0 for path in report.values())


def test_every_published_cell_is_reproduced(report):
    comparison = pd.read_csv(report["comparison"], keep_default_na=False)
    assert len(comparison) == 2 * 9 * 7 + 9 * 6
    assert comparison["matches"].astype(str).eq("True").all()
    assert comparison["abs_diff"].astype(float).max() < 0.005


def test_table7_layout_has_every_metric_in_paper_order(report):
    table7 = pd.read_csv(report["table7"])
    assert list(table7.columns) == ["base_model", "metric", "bel_pl", "bel_en", "aya_pl",
                                    "aya_en", "mot_pl_eval", "lightr1", "avg", "in_paper"]
    assert len(table7) == 2 * 14
    assert table7["base_model"].iloc[0] == "PLLuM-8B-instruct"
    extra = table7.loc[~table7["in_paper"], "metric"].unique()
    assert sorted(extra) == ["perplexity", "reasoning_chars", "reasoning_tokens_pllum",
                             "total_seq_chars", "total_seq_tokens_pllum"]
    row = table7[(table7["base_model"] == "PLLuM-8B-instruct")
                 & (table7["metric"] == "semantic_alignment")].iloc[0]
    assert (row["mot_pl_eval"], row["avg"]) == (1.0, 0.75)


def test_table8_layout(report):
    table8 = pd.read_csv(report["table8"])
    assert list(table8.columns) == ["base_model", "metric", "math", "code", "science", "in_paper"]
    row = table8[(table8["base_model"] == "Bielik-11B-v2.6-Instruct")
                 & (table8["metric"] == "factuality")].iloc[0]
    assert (row["math"], row["code"], row["science"]) == (0.6, 0.6, 1.0)


def test_summary_says_plainly_that_nothing_survives(report):
    text = report["summary"].read_text(encoding="utf-8")
    assert "126 of 126 published rho values" in text
    assert "54 of 54 published rho values" in text
    assert "2/24 = 0.0833" in text
    assert "**Nothing survives at FDR 0.05: 0 of 252 tests.**" in text
    assert "perplexity" in text


def test_published_values_and_name_mapping():
    assert paper_metric_name(" Semantic Alignment ") == "semantic_alignment"
    published = published_rho()
    assert len(published) == 126 + 54
    assert set(published.loc[published["domain"] != "", "base_model"]) == {
        "PLLuM-8B-instruct", "Bielik-11B-v2.6-Instruct"}


def test_comparison_flags_a_wrong_value(report):
    table = pd.read_csv(report["correlations"], keep_default_na=False,
                        na_values={"rho": [""]})
    hit = (table["benchmark"] == "lightr1") & (table["metric"] == "redundancy_ratio") & (
        table["base_model"] == "Bielik-11B-v2.6-Instruct")
    table.loc[hit, "rho"] = 0.99
    comparison = compare_with_paper(table)
    assert comparison["matches"].sum() == len(comparison) - 1
    assert not comparison.loc[comparison["metric"].eq("redundancy_ratio")
                              & comparison["benchmark"].eq("lightr1")
                              & comparison["base_model"].str.startswith("Bielik"),
                              "matches"].item()
