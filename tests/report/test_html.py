from __future__ import annotations

import base64
import re

from report_tables import make_diagnostics

from metaq.report import ReportConfig, ReportData, ReportMetadata, render_html, write_html

HOSTILE = "<script>alert(1)</script>"


def test_write_html_creates_folders(tmp_path, study_runs):
    path = write_html(ReportData(ReportMetadata.now(), runs=study_runs), tmp_path / "a" / "r.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_every_section_and_figure_is_in_one_self_contained_file(full_html):
    html = full_html
    for key in ("summary", "drivers", "whatif", "data", "diagnostics", "caveats",
                "reproducibility"):
        assert f'<section id="{key}"' in html and f'href="#{key}"' in html
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == 11  # 1 summary + 2 drivers + 1 what-if + 4 heatmaps + 3 diagnostics
    assert all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    # nothing is fetched: every src/href is inline or an in-page anchor, no CSS url()
    references = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert references and all(r.startswith(("data:", "#")) for r in references)
    assert "url(" not in html and "@import" not in html and "<script" not in html
    assert "default-src 'none'" in html


def test_dataset_derived_text_is_escaped(full_data):
    forecast = full_data.forecast.replace({"dataset_id": {"Lengthy": HOSTILE}})
    features = full_data.features.rename(columns={"utility": '<b onmouseover="x()">u</b>'})
    html = render_html(ReportData(ReportMetadata.now(), forecast=forecast, features=features))
    assert HOSTILE not in html and '<b onmouseover' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b onmouseover=&#34;x()&#34;&gt;u&lt;/b&gt;" in html


def test_failed_checks_raise_a_banner_and_title_is_escaped():
    diagnostics = make_diagnostics(rhat=1.2)
    html = render_html(ReportData(ReportMetadata.now(), diagnostics=diagnostics),
                       ReportConfig(title="A & B <report>"))
    assert "<title>A &amp; B &lt;report&gt;</title>" in html
    banner = html[html.index('class="alert"'):html.index("<nav")]
    assert "Diagnostics failed" in banner and "1 check(s) failed" in banner
    assert html.index('id="diagnostics"') < html.index('id="summary"')
    assert "max R-hat failed: 1.2 (threshold 1.01)." in html[html.index('id="diagnostics"'):]


def test_long_tables_fold_and_are_cut(study_runs):
    data = ReportData(ReportMetadata.now(), runs=study_runs,
                      diagnostics=make_diagnostics())
    html = render_html(data, ReportConfig(max_table_rows=10, open_table_rows=5))
    runs = html[html.index("<h3>Fine-tuning runs</h3>"):]
    runs = runs[:runs.index("</details>")]
    assert "72 row(s)" in runs and "62 more row(s) not shown" in runs
    assert runs.count("<tr>") == 11  # header + 10 rows
    assert '<details class="table-block" open>\n    <summary><h3>Checks</h3>' in html
