"""Print an HTML report to PDF with a real HTML engine: headless Chromium, or WeasyPrint.

Chromium (Debian's ``chromium`` package, or any Chrome on ``PATH``) is the default: it renders
the page exactly as a browser shows it and honours the report's print CSS. WeasyPrint is an
optional extra (``pip install 'metaq[pdf]'``) for machines without a browser.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Literal

from metaq._optional import require
from metaq.exceptions import MetaqError, MissingDependencyError, UnknownNameError

logger = logging.getLogger(__name__)

PdfEngine = Literal["chromium", "weasyprint"]

#: Flags for a headless, offline, throw-away browser profile.
CHROMIUM_FLAGS: tuple[str, ...] = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
    "--disable-extensions",
)
_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_TIMEOUT_S = 120


def find_chromium() -> str:
    """Path of a Chromium/Chrome executable: ``$METAQ_CHROMIUM`` or the first on ``PATH``.

    Returns
    -------
    str
        The executable.

    Raises
    ------
    MissingDependencyError
        When none is found, naming how to install one or to use WeasyPrint instead.
    """
    configured = os.environ.get("METAQ_CHROMIUM")
    if configured:
        return configured
    for name in _CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise MissingDependencyError(
        f"printing the report to PDF needs Chromium, and none of {list(_CHROMIUM_NAMES)} is on "
        f"PATH. Fix: install it (Debian: `apt-get install chromium`), point METAQ_CHROMIUM at "
        f"a Chrome executable, or use engine='weasyprint' after `pip install 'metaq[pdf]'`."
    )


def _print_with_chromium(html_path: Path, pdf_path: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="metaq-chromium-") as profile:
        command = [find_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                   "--no-pdf-header-footer", f"--print-to-pdf={pdf_path}",
                   html_path.resolve().as_uri()]
        try:
            result = subprocess.run(command, capture_output=True, text=True,
                                    timeout=_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as err:
            raise MetaqError(f"Chromium did not print {html_path} within {_TIMEOUT_S} s. "
                             f"Fix: retry, or use engine='weasyprint'.") from err
    if result.returncode != 0 or not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        tail = result.stderr.strip().splitlines()[-3:]
        raise MetaqError(f"Chromium failed to print {html_path} to {pdf_path} (exit "
                         f"{result.returncode}): {' | '.join(tail)}. Fix: check that "
                         f"`{command[0]} --version` runs, or use engine='weasyprint'.")


def _print_with_weasyprint(html_path: Path, pdf_path: Path) -> None:
    weasyprint = require("weasyprint", extra="pdf", purpose="printing the report with WeasyPrint")
    weasyprint.HTML(filename=str(html_path)).write_pdf(str(pdf_path))


def html_to_pdf(html_path: str | Path, pdf_path: str | Path, *,
                engine: PdfEngine = "chromium") -> Path:
    """Print an HTML report to PDF, one section per page (the report's print CSS).

    Parameters
    ----------
    html_path : str or Path
        The report written by :func:`metaq.report.write_html`.
    pdf_path : str or Path
        Where to write the PDF.
    engine : {"chromium", "weasyprint"}, default "chromium"
        The HTML engine.

    Returns
    -------
    pathlib.Path
        The written PDF.

    Raises
    ------
    MissingDependencyError
        When the engine is not installed.
    UnknownNameError
        When the engine name is unknown.
    MetaqError
        When the engine fails.
    """
    html_path, pdf_path = Path(html_path), Path(pdf_path)
    if not html_path.is_file():
        raise MetaqError(f"{html_path}: no such HTML file to print. Fix: write the report first.")
    printers = {"chromium": _print_with_chromium, "weasyprint": _print_with_weasyprint}
    if engine not in printers:
        raise UnknownNameError(f"unknown PDF engine {engine!r}; choose one of {sorted(printers)}")
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    pdf_path.unlink(missing_ok=True)
    printers[engine](html_path, pdf_path)
    logger.info("printed %s to %s with %s", html_path, pdf_path, engine)
    return pdf_path
