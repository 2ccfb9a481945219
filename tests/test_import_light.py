"""`import metaq` and `metaq --help` must not pull in heavy libraries."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "transformers", "vllm", "ray", "sentence_transformers", "pymc", "pytensor",
         "arviz", "datasets")

PROBE = """
import sys, contextlib, io
import metaq, metaq.cli
with contextlib.redirect_stdout(io.StringIO()):
    try:
        metaq.cli.main(["--help"])
    except SystemExit:
        pass
    for name in metaq.cli.COMMANDS:
        try:
            metaq.cli.main([name, "--help"])
        except SystemExit:
            pass
print(",".join(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def test_import_and_help_stay_light() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY)], check=True,
                         capture_output=True, text=True)
    assert out.stdout.strip() == "", f"heavy modules imported: {out.stdout.strip()}"


def test_public_api_names_resolve() -> None:
    import metaq

    for name in metaq.__all__:
        assert getattr(metaq, name) is not None, name


def test_version_flag(capsys) -> None:
    import pytest

    from metaq.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert "metaq" in capsys.readouterr().out
