"""The report in a real browser: headless Chromium over the DevTools protocol, and its PDF."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest
from cdp import BrowserPage

from metaq.report import ReportConfig, build_sections, html_to_pdf, write_html

pytestmark = pytest.mark.browser

HOSTILE = "<script>alert(1)</script>"
HOSTILE_METRIC = "<img src=x onerror=alert(2)>"


@pytest.fixture
def hostile_data(full_data):
    """The full report data with a dataset and a metric whose names are HTML."""
    forecast = full_data.forecast.replace({"dataset_id": {"BabyThink": HOSTILE}})
    features = full_data.features.replace({"dataset_id": {"BabyThink": HOSTILE}})
    features = features.rename(columns={"utility": HOSTILE_METRIC})
    return dataclasses.replace(full_data, forecast=forecast, features=features)


@pytest.fixture
def page(tmp_path):
    browser = BrowserPage(tmp_path / "profile")
    yield browser
    browser.close()


def _requests_leaving_file(page: BrowserPage) -> list[str]:
    urls = [event["request"]["url"] for event in page.named("Network.requestWillBeSent")]
    return [u for u in urls if not u.startswith(("file://", "data:"))]


def _console_errors(page: BrowserPage) -> list[str]:
    console = [str(e["args"]) for e in page.named("Runtime.consoleAPICalled")
               if e["type"] in {"error", "warning", "assert"}]
    thrown = [str(e["exceptionDetails"]) for e in page.named("Runtime.exceptionThrown")]
    logged = [e["entry"]["text"] for e in page.named("Log.entryAdded")
              if e["entry"]["level"] in {"error", "warning"}]
    return console + thrown + logged


def test_recorder_sees_requests_dialogs_and_errors(tmp_path, page):
    # the negative control: the checks below would catch a page that misbehaves
    bad = tmp_path / "bad.html"
    bad.write_text('<img src="http://198.51.100.1/x.png"><script>console.error("boom");'
                   'alert(1)</script>', encoding="utf-8")
    for domain in ("Page", "Network", "Runtime", "Log"):
        page.send(f"{domain}.enable")
    page.send("Page.navigate", url=bad.as_uri())
    page.wait_for("Page.javascriptDialogOpening")
    page.send("Page.handleJavaScriptDialog", accept=True)
    page.wait_for("Page.loadEventFired")
    assert _requests_leaving_file(page) == ["http://198.51.100.1/x.png"]
    assert any("boom" in e for e in _console_errors(page))


def test_report_renders_offline_without_errors_and_escapes_names(tmp_path, page, hostile_data):
    config = ReportConfig()
    html = write_html(hostile_data, tmp_path / "report.html", config)
    page.open(html.as_uri())

    sections = page.evaluate(
        "Array.from(document.querySelectorAll('section.report-section')).map(s => "
        "[s.id, s.querySelector('h2').innerText, s.getBoundingClientRect().height])")
    built = build_sections(hostile_data, config)
    assert [(key, title) for key, title, _ in sections] == [(s.key, s.title) for s in built]
    assert all(height > 50 for _, _, height in sections)
    images = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
    assert len(images) == sum(len(s.figures) for s in built) >= 7
    assert all(done and width > 100 for done, width in images)

    assert page.named("Page.javascriptDialogOpening") == []
    assert page.evaluate("document.scripts.length") == 0
    text = page.evaluate("document.body.innerText")
    assert HOSTILE in text and HOSTILE_METRIC in text
    assert _requests_leaving_file(page) == []
    assert _console_errors(page) == []

    shot = page.screenshot(tmp_path / "report.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000


def _page_texts(pdf: Path) -> list[str]:
    pages = int(next(line.split()[-1] for line in subprocess.run(
        ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()
        if line.startswith("Pages:")))
    return [subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout.strip()
            for i in range(1, pages + 1)]


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils is not installed")
def test_pdf_has_a_page_per_section_and_renders_to_png(tmp_path, full_html, full_sections):
    config = ReportConfig()
    html = tmp_path / "report.html"
    html.write_text(full_html, encoding="utf-8")
    pdf = html_to_pdf(html, tmp_path / "report.pdf")
    texts = _page_texts(pdf)
    titles = [s.title for s in full_sections]
    # the first section shares page 1 with the heading; every other one starts a page
    assert texts[0].startswith(config.title) and titles[0] in texts[0]
    starts = [next(i for i, text in enumerate(texts) if text.startswith(title))
              for title in titles[1:]]
    assert starts == sorted(starts) and starts[0] > 0
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "page")],
                   check=True)
    assert len(list(tmp_path.glob("page-*.png"))) == len(texts)
