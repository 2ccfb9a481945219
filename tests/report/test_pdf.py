from __future__ import annotations

import shutil
import subprocess

import pytest

from metaq.exceptions import MetaqError, MissingDependencyError, UnknownNameError
from metaq.report import ReportData, ReportMetadata, html_to_pdf, write_html
from metaq.report.pdf import find_chromium


@pytest.fixture
def small_report(tmp_path, study_runs):
    return write_html(ReportData(ReportMetadata.now(), runs=study_runs), tmp_path / "r.html")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_weasyprint_prints_the_report(tmp_path, small_report):
    pytest.importorskip("weasyprint")
    pdf = html_to_pdf(small_report, tmp_path / "out" / "r.pdf", engine="weasyprint")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Diagnostics" in text and "Bielik-11B-v2.6-Instruct" in text


def test_unknown_engine_and_missing_file_are_named(tmp_path, small_report):
    with pytest.raises(UnknownNameError, match=r"unknown PDF engine 'prince'; choose one of "
                                               r"\['chromium', 'weasyprint'\]"):
        html_to_pdf(small_report, tmp_path / "r.pdf", engine="prince")
    with pytest.raises(MetaqError, match="nope.html: no such HTML file"):
        html_to_pdf(tmp_path / "nope.html", tmp_path / "r.pdf")


def test_missing_chromium_says_how_to_install_it(monkeypatch):
    monkeypatch.delenv("METAQ_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(MissingDependencyError, match=r"apt-get install chromium.*"
                                                     r"metaq\[pdf\]"):
        find_chromium()


def test_a_failing_chromium_is_reported(tmp_path, monkeypatch, small_report):
    monkeypatch.setenv("METAQ_CHROMIUM", "false")  # exits 1 and writes nothing
    with pytest.raises(MetaqError, match=r"Chromium failed to print .*r.html.* \(exit 1\)"):
        html_to_pdf(small_report, tmp_path / "r.pdf")
