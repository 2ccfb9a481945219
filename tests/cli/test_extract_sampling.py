"""`metaq extract --sample` and `--workers`."""

from __future__ import annotations

from pathlib import Path

import pytest

from metaq.cli import main
from metaq.datasets import sample_path
from metaq.tables.features import read_features

GSM8K = sample_path("gsm8k_train.jsonl")


def test_sample_and_workers_reach_the_runner(tmp_path: Path) -> None:
    out = tmp_path / "features.csv"
    code = main(["-q", "extract", str(GSM8K), "--metrics", "semantic_alignment,reasoning_chars",
                 "--embedding-model", "wordllama", "--sample", "40", "--workers", "1",
                 "--no-cache", "--out", str(out)])
    assert code == 0
    table = read_features(out, allow_missing=True)
    assert table.loc[0, "n_examples"] == 300 and table.loc[0, "n_embedding_sampled"] == 40
    assert table.loc[0, "semantic_alignment__se"] > 0
    code = main(["-q", "extract", str(GSM8K), "--metrics", "semantic_alignment",
                 "--embedding-model", "wordllama", "--sample", "all", "--no-cache",
                 "--out", str(out)])
    assert code == 0 and read_features(out).loc[0, "n_embedding_sampled"] == 300


@pytest.mark.parametrize("flag, value", [("--sample", "0"), ("--sample", "some"),
                                         ("--workers", "0")])
def test_bad_sample_or_workers_is_a_usage_error(tmp_path: Path, capsys, flag: str,
                                                value: str) -> None:
    with pytest.raises(SystemExit) as err:
        main(["extract", str(GSM8K), flag, value, "--out", str(tmp_path / "f.csv")])
    assert err.value.code == 2
    assert f"argument {flag}" in capsys.readouterr().err
