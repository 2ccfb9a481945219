"""Render a report as one self-contained HTML file (Jinja2, autoescaped, figures inline).

Everything the page needs is inside the file: CSS inline, figures as base64 PNG ``data:``
URLs, no script. A Content-Security-Policy forbids any script and any request other than
``data:`` images, so the page works offline and dataset-derived text cannot act as code
even if it looked like HTML (it is escaped in the first place).
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

from metaq.report.contracts import ReportConfig, ReportData, ReportSection
from metaq.report.formatting import format_table
from metaq.report.sections import build_sections, failed_checks

logger = logging.getLogger(__name__)

_TEMPLATE = "report.html.j2"


def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("metaq.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _section_view(section: ReportSection, config: ReportConfig) -> dict[str, Any]:
    tables = []
    for table in section.tables:
        columns, rows, hidden = format_table(table.frame, max_rows=config.max_table_rows)
        tables.append({"title": table.title, "caption": table.caption, "columns": columns,
                       "rows": rows, "hidden": hidden, "n_rows": len(table.frame),
                       "open": len(table.frame) <= config.open_table_rows})
    figures = [{"title": f.title, "alt": f.alt, "caption": f.caption,
                "base64": base64.b64encode(f.png).decode("ascii")} for f in section.figures]
    return {"key": section.key, "title": section.title, "description": section.description,
            "paragraphs": section.paragraphs, "bullets": section.bullets, "alerts": section.alerts,
            "tables": tables, "figures": figures}


def render_html(data: ReportData, config: ReportConfig | None = None) -> str:
    """Render a report as a self-contained HTML document.

    Parameters
    ----------
    data : ReportData
        The report's tables.
    config : ReportConfig, optional
        Title, thresholds and sections; ``ReportConfig()`` when omitted.

    Returns
    -------
    str
        The HTML document.

    Examples
    --------
    >>> from metaq.report.contracts import ReportMetadata
    >>> html = render_html(ReportData(ReportMetadata.now()))
    >>> html.startswith("<!DOCTYPE html>") and 'id="diagnostics"' in html
    True
    """
    config = config or ReportConfig()
    sections = build_sections(data, config)
    template = _environment().get_template(_TEMPLATE)
    return template.render(
        title=config.title, metadata=data.metadata, prob=data.prob,
        alerts=failed_checks(data),
        sections=[_section_view(s, config) for s in sections])


def write_html(data: ReportData, path: str | Path, config: ReportConfig | None = None) -> Path:
    """Render a report and write it to `path` (UTF-8), creating parent folders.

    Parameters
    ----------
    data : ReportData
        The report's tables.
    path : str or Path
        Where to write the ``.html`` file.
    config : ReportConfig, optional
        Title, thresholds and sections.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(data, config), encoding="utf-8")
    logger.info("wrote the HTML report %s (%.0f kB)", path, path.stat().st_size / 1024)
    return path
