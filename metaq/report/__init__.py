"""Uncertainty reports: frozen tables in, one self-contained HTML file (and a PDF) out.

``ReportData`` holds the tables, the builders in :mod:`metaq.report.sections` turn them into
sections, :func:`render_html`/:func:`write_html` render them and :func:`html_to_pdf` prints
the HTML with Chromium (or WeasyPrint).
"""

from metaq.report.contracts import (
    ReportConfig,
    ReportData,
    ReportFigure,
    ReportMetadata,
    ReportSection,
    ReportTable,
)
from metaq.report.html import render_html, write_html
from metaq.report.pdf import html_to_pdf
from metaq.report.sections import build_sections

__all__ = [
    "ReportConfig",
    "ReportData",
    "ReportFigure",
    "ReportMetadata",
    "ReportSection",
    "ReportTable",
    "build_sections",
    "html_to_pdf",
    "render_html",
    "write_html",
]
