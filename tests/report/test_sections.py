from __future__ import annotations

import pytest
from report_tables import make_diagnostics

from metaq.report import ReportConfig, ReportData, ReportMetadata, build_sections
from metaq.report.contracts import SECTION_KEYS
from metaq.report.sections import (
    _top_features,
    diagnostics_section,
    failed_checks,
    reproducibility_section,
    summary_section,
    whatif_section,
)

PNG = b"\x89PNG\r\n\x1a\n"


def test_all_sections_in_reading_order_with_figures(full_sections):
    sections = full_sections
    assert [s.key for s in sections] == list(SECTION_KEYS)
    figures = {s.key: len(s.figures) for s in sections}
    # data: a general and a by-domain heatmap per base model
    assert figures == {"summary": 1, "drivers": 2, "whatif": 1, "data": 4, "diagnostics": 3,
                       "caveats": 0, "reproducibility": 0}
    assert all(f.png.startswith(PNG) and f.alt for s in sections for f in s.figures)


def test_failed_diagnostics_move_to_the_top_with_alerts(full_data):
    failing = ReportData(ReportMetadata.now(), diagnostics=make_diagnostics(rhat=1.08))
    sections = build_sections(failing)
    assert [s.key for s in sections] == ["diagnostics", *(k for k in SECTION_KEYS
                                                          if k != "diagnostics")]
    assert sections[0].alerts == ("max R-hat failed: 1.08 (threshold 1.01).",)
    assert failed_checks(full_data) == []


def test_summary_table_is_in_display_units(full_data):
    (table,) = summary_section(full_data, ReportConfig()).tables
    detailed = table.frame.iloc[0]
    # abs target: 0.03 accuracy -> 3 points; the empty domain column is dropped
    assert detailed["estimate (accuracy points)"] == pytest.approx(3.0)
    assert detailed["lower (accuracy points)"] == pytest.approx(1.0)
    assert "domain" not in table.frame.columns


def test_whatif_draws_the_most_important_features(full_data):
    # importance |estimate|: semantic_alignment 0.3 > utility 0.2 > redundancy_ratio 0.1
    section = whatif_section(full_data, ReportConfig(whatif_features=2))
    assert section.description.endswith("for the 2 most important feature(s).")
    assert _top_features(full_data, 2) == ["semantic_alignment", "utility"]


def test_sections_without_a_model_say_so(study_runs):
    data = ReportData(ReportMetadata.now(), runs=study_runs)
    sections = {s.key: s for s in build_sections(data)}
    assert sections["summary"].description.startswith("No forecast was given.")
    assert sections["drivers"].description.startswith("No fitted model was given")
    diagnostics = diagnostics_section(data, ReportConfig())
    assert diagnostics.paragraphs[0].startswith("No fitted model was given, so there are no "
                                                "sampler diagnostics")
    (per_group,) = diagnostics.tables
    assert per_group.frame[["runs", "datasets", "benchmarks"]].values.tolist() == [
        [36, 4, 6], [36, 4, 6]]


def test_reproducibility_lists_hashes_and_seeds(full_data):
    section = reproducibility_section(full_data, ReportConfig())
    items = dict(section.tables[0].frame.values.tolist())
    assert items["model file SHA-256"] == "ab" * 32
    assert items["data SHA-256: runs"] == "cd" * 32
    assert items["seed: fit"] == "1"
