"""FVCUExtractor: aggregation by hand, edge cases, and end to end through the runner/CLI."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from test_openai_backend import FakeServer

from metaq.datasets import sample_path
from metaq.exceptions import InvalidParameterError
from metaq.features.base import Example
from metaq.features.judge.extractor import FVCUExtractor, _empty_row
from metaq.features.judge.rubric import CRITERIA

SOLUTIONS = sample_path("gsm8k_model_solutions.jsonl")


def _judged(n_steps, positives, failed=0):
    """A per-example row with `positives` of `n_steps` steps positive on every criterion."""
    row = _empty_row(n_steps, False)
    judged = n_steps - failed
    row.update({"judged": 1.0, "probes": 4.0 * n_steps, "probes_failed": 4.0 * failed})
    for c in CRITERIA:
        row.update({f"pos_{c}": positives, f"judged_{c}": judged, c: positives / judged,
                    f"{c}_prob": 0.5})
    return row


def _scores():
    rows = [_judged(2, 1), _judged(4, 4), _judged(1, 0), _judged(5, 3, failed=1),
            _empty_row(3, False), _empty_row(0, False)]  # one not sampled, one without steps
    return pd.DataFrame(rows)


def test_aggregate_over_examples_by_hand():
    out = FVCUExtractor(judge_aggregation="examples").aggregate(_scores())
    shares = np.array([0.5, 1.0, 0.0, 0.75])
    fpc = math.sqrt(1 - 4 / 5)  # 4 judged of 5 examples with steps
    assert out["validity"] == pytest.approx(shares.mean())
    assert out["validity__se"] == pytest.approx(shares.std(ddof=1) / 2 * fpc)
    assert out["steps_per_example"] == pytest.approx(15 / 6)
    assert out["steps_per_example__se"] == 0.0  # every example is counted
    assert out["judge_failure_rate"] == pytest.approx(4 / 48)
    assert (out["n_judged"], out["n_steps"], out["n_zero_step"], out["n_probes"],
            out["n_probes_failed"]) == (4, 12, 1, 48, 4)


def test_aggregate_pooling_steps_by_hand():
    out = FVCUExtractor(judge_aggregation="steps").aggregate(_scores())
    y, m = np.array([1, 4, 0, 3.0]), np.array([2, 4, 1, 4.0])
    ratio = y.sum() / m.sum()
    resid = y - ratio * m
    se = math.sqrt((resid ** 2).sum() / 12) / m.mean() * math.sqrt(1 - 4 / 5)
    assert out["coherence"] == pytest.approx(8 / 11)
    assert out["coherence__se"] == pytest.approx(se)


def test_zero_and_single_step_examples(judge_backend):
    extractor = FVCUExtractor(judge_sample="all", backend=judge_backend)
    extractor.setup()
    examples = [Example("a", "How many?", ""), Example("b", "How many?", "2 + 3 = 5."),
                Example("c", "Ann has 2. How many?", "First add.\n2 + 3 = 5.\nSo 5.")]
    rows = extractor.score_batch(examples)
    assert [r["n_steps"] for r in rows] == [0, 1, 3]
    assert rows[0]["judged"] == 0 and math.isnan(rows[0]["validity"])
    assert rows[1]["probes"] == 4 and rows[1]["validity"] in (0.0, 1.0)
    assert rows[2]["judged_utility"] == 3
    assert 0 <= rows[2]["validity_prob"] <= 1
    out = extractor.aggregate(pd.DataFrame(rows))
    assert (out["n_zero_step"], out["n_judged"]) == (1, 2)
    assert out["validity__se"] == 0.0  # everything judged: no sampling error


@pytest.mark.parametrize("options,message", [
    ({"judge_sample": "some"}, "judge_sample='some'"),
    ({"judge_sample": 0}, "judge_sample=0"),
    ({"judge_aggregation": "tokens"}, "judge_aggregation='tokens'"),
    ({"judge_engine": "ollama"}, "judge_engine='ollama'"),
    ({"language": "de"}, "language 'de'"),
])
def test_bad_options_name_the_value(options, message):
    with pytest.raises(InvalidParameterError, match=message):
        FVCUExtractor(**options).setup()


def test_rubric_version_and_sample_are_in_the_cache_key():
    base = FVCUExtractor(judge_model="m")
    assert base.config()["rubric_version"] == "1"
    assert base.cache_key() != FVCUExtractor(judge_model="m", judge_sample=50).cache_key()
    assert base.cache_key() == FVCUExtractor(judge_model="m", device="cpu").cache_key()


def test_runner_end_to_end_with_tiny_judge_and_cache(judge_path, tmp_path):
    from metaq.features.runner import extract_features

    options = {"judge_model": str(judge_path), "judge_sample": 12, "device": "cpu"}
    table = extract_features([SOLUTIONS], "fvcu", cache_dir=tmp_path / "cache",
                             extractor_options=options)
    row = table.iloc[0]
    assert (row["n_examples"], row["n_judged"], row["n_probes_failed"]) == (300, 12, 0)
    for c in CRITERIA:
        assert 0 <= row[c] <= 1 and row[f"{c}__se"] > 0
    assert row["judge_failure_rate"] == 0
    assert row["meta__fvcu_judge_model"] == str(judge_path)
    assert row["meta__fvcu_rubric_version"] == "1"
    again = extract_features([SOLUTIONS], "fvcu", cache_dir=tmp_path / "cache",
                             extractor_options=options)
    pd.testing.assert_frame_equal(table.drop(columns=_backend_meta(table)),
                                  again.drop(columns=_backend_meta(again)))


def _backend_meta(table):
    return [c for c in table.columns if c.startswith("meta__fvcu_backend_")]


def test_runner_with_a_faulty_server_completes_and_reports_failures(tmp_path):
    from metaq.features.runner import extract_features

    faults = {"[Step 1] POSITIVE or NEGATIVE for VALIDITY": ["500"] * 1000}
    with FakeServer(faults) as server:
        options = {"judge_model": "judge", "judge_engine": "openai", "judge_sample": 20,
                   "backend_options": {"base_url": server.url, "max_retries": 1,
                                       "backoff": 0.0, "timeout": 2.0}}
        table = extract_features([SOLUTIONS], "fvcu", extractor_options=options)
    row = table.iloc[0]
    # every judged trace loses exactly its step-1 validity probe
    assert row["n_probes_failed"] == 20
    assert row["judge_failure_rate"] == pytest.approx(20 / row["n_probes"])
    assert row["factuality"] == pytest.approx(1.0)  # the server's P = 0.9 > 0.5
    assert row["utility"] == 0.0 and row["validity"] == 0.0
    assert row["meta__fvcu_backend_base_url"] == server.url


def test_cli_extract_fvcu(judge_path, tmp_path, capsys):
    from metaq.cli import main

    out = tmp_path / "f.csv"
    code = main(["-q", "extract", str(SOLUTIONS), "--metrics", "fvcu", "--judge-model",
                 str(judge_path), "--judge-sample", "8", "--device", "cpu",
                 "--cache", str(tmp_path / "c"), "--out", str(out)])
    assert code == 0
    table = pd.read_csv(out)
    assert {"factuality", "validity__se", "utility", "n_steps", "n_judged"} <= set(table)
    assert table.loc[0, "n_judged"] == 8
