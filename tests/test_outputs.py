"""Output paths are checked before any work: under a file, a folder, nowhere writable."""

from __future__ import annotations

import pandas as pd
import pytest

from metaq._outputs import check_output_path, write_table
from metaq.cli import main
from metaq.exceptions import OutputPathError


@pytest.fixture
def a_file(tmp_path):
    path = tmp_path / "a_file"
    path.write_text("x")
    return path


def test_writable_paths_pass_and_tables_create_their_folders(tmp_path):
    path = check_output_path(tmp_path / "new" / "deeper" / "t.csv", option="out",
                             suffixes=(".csv",))
    write_table(pd.DataFrame({"a": [1]}), path)
    assert pd.read_csv(path)["a"].tolist() == [1]
    assert check_output_path(tmp_path / "folder", option="out", folder=True).name == "folder"


@pytest.mark.parametrize(("where", "kwargs", "message"), [
    ("under_file", {}, r"a_file is a file, so nothing can be created below it"),
    ("folder", {}, r"is a folder\. Fix: give a file name"),
    ("proc", {}, r"nothing can be created in /proc"),
    ("file_as_folder", {"folder": True}, r"is a file, not a folder"),
    ("suffix", {"suffixes": (".csv", ".parquet")}, r"unknown format '\.xlsx'.*\.csv or "
                                                   r"\.parquet"),
])
def test_unwritable_paths_are_refused(tmp_path, a_file, where, kwargs, message):
    path = {"under_file": a_file / "t.csv", "folder": tmp_path, "proc": "/proc/metaq/t.csv",
            "file_as_folder": a_file, "suffix": tmp_path / "t.xlsx"}[where]
    with pytest.raises(OutputPathError, match=message):
        check_output_path(path, option="--out", **kwargs)


def test_fit_checks_out_before_sampling(a_file, monkeypatch, capsys):
    import metaq.modeling.hierarchical as hierarchical

    def no_sampling(*args, **kwargs):
        raise AssertionError("sampling started before --out was checked")

    monkeypatch.setattr(hierarchical, "sample_posterior", no_sampling)
    assert main(["fit", "--out", str(a_file / "model.nc")]) == 2
    assert "is a file, so nothing can be created below it" in capsys.readouterr().err
    with pytest.raises(OutputPathError, match="out "):  # the library checks too
        hierarchical.fit_predictor("runs.csv", "features.csv", out=a_file / "m.nc")


@pytest.mark.parametrize("argv", [
    ["fit", "--max-draws", "0"], ["fit", "--draws", "0"], ["fit", "--chains", "-1"],
    ["validate", "--draws", "0"], ["validate", "--k", "1"],
    ["explain", "sweep", "--grid", "a,b"], ["explain", "importance", "--prob", "nan"],
    ["correlate", "--permutations", "0"],
])
def test_out_of_range_numbers_are_usage_errors_in_one_line(argv, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--out", str(tmp_path / "x.csv")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Fix: see `metaq" in err
