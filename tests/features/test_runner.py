"""The extraction runner: table contract, aggregation by hand, domains, cache behaviour."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from metaq.datasets import sample_path
from metaq.exceptions import MetaqError, UnknownNameError
from metaq.features.base import Example, Extractor
from metaq.features.runner import extract_features
from metaq.features.text import redundancy_ratio, symbolic_fraction
from metaq.io import read_examples
from metaq.tables.features import read_features

GSM8K = sample_path("gsm8k_train.jsonl")
MARCO = sample_path("marco_o1_cot.jsonl")


class CountingExtractor(Extractor):
    """Reasoning length times `scale` as ``<name>_chars``; counts scoring and set-up calls."""

    name: ClassVar[str] = "counting"

    def __init__(self, *, scale: float = 1.0, name: str = "counting") -> None:
        self.scale = scale
        self.name = name
        self.metrics = (f"{name}_chars",)
        self.scored = 0
        self.setups = 0

    def config(self) -> dict[str, Any]:
        return {"scale": self.scale}

    def setup(self) -> None:
        self.setups += 1

    def score_batch(self, examples: Sequence[Example]) -> list[dict[str, float]]:
        self.scored += len(examples)
        return [{self.metrics[0]: self.scale * len(ex.reasoning)} for ex in examples]


def test_table_values_equal_hand_aggregation() -> None:
    table = extract_features(GSM8K, "redundancy_ratio,symbolic_fraction")
    traces = [ex.reasoning for ex in read_examples(GSM8K)]
    for metric, function in (("redundancy_ratio", redundancy_ratio),
                             ("symbolic_fraction", symbolic_fraction)):
        values = np.array([function(t) for t in traces])
        assert table.loc[0, metric] == pytest.approx(values.mean())
        assert table.loc[0, f"{metric}__se"] == pytest.approx(values.std(ddof=1) / np.sqrt(300))
    assert list(table.columns[:6]) == ["dataset_id", "domain", "redundancy_ratio",
                                       "redundancy_ratio__se", "symbolic_fraction",
                                       "symbolic_fraction__se"]
    assert (table.loc[0, "dataset_id"], table.loc[0, "n_examples"]) == ("gsm8k_train", 300)
    assert table.loc[0, "meta__redundancy_compressor"] == "zlib-6"


def test_only_requested_metrics_are_reported() -> None:
    table = extract_features(GSM8K, ["reasoning_chars"])
    assert [c for c in table.columns if c.endswith("_chars")] == ["reasoning_chars"]
    everything = extract_features(GSM8K, ["length"])
    assert {"reasoning_chars", "answer_chars", "total_chars"} <= set(everything.columns)


def test_by_domain_rows_by_hand() -> None:
    table = extract_features(MARCO, "reasoning_chars", by_domain=True, dataset_ids=["marco"])
    examples = read_examples(MARCO)
    assert table["domain"].tolist() == ["", "code", "math", "other"]
    for row in table.itertuples():
        chars = [len(e.reasoning) for e in examples if row.domain in ("", e.domain)]
        assert row.n_examples == len(chars)
        assert row.reasoning_chars == pytest.approx(np.mean(chars))
    assert table.loc[0, "n_skipped"] == 0 and pd.isna(table.loc[1, "n_skipped"])


def test_several_datasets_with_ids_and_skip_counts(tmp_path: Path) -> None:
    table = extract_features([GSM8K, sample_path("gsm8k_test_trace_styles.jsonl")],
                             "reasoning_chars", dataset_ids=["train", "styles"], on_error="skip")
    assert table["dataset_id"].tolist() == ["train", "styles"]
    assert table["n_skipped_empty_reasoning"].tolist() == [0, 1]
    with pytest.raises(MetaqError, match=r"got 1 dataset id\(s\) \['x'\] for 2 path\(s\)"):
        extract_features([GSM8K, MARCO], "reasoning_chars", dataset_ids=["x"])


def test_output_files_validate_as_features_tables(tmp_path: Path) -> None:
    for name in ("f.csv", "f.parquet"):
        table = extract_features(GSM8K, "text", out=tmp_path / name)
        back = read_features(tmp_path / name, allow_missing=True)
        pd.testing.assert_frame_equal(back, table, check_dtype=False)
    with pytest.raises(MetaqError, match=r"unknown format '\.xlsx'.*\.csv or \.parquet"):
        extract_features(GSM8K, "text", out=tmp_path / "f.xlsx")


def test_unknown_metric_suggests_names() -> None:
    with pytest.raises(UnknownNameError, match=r"'redundancy_ration'.*Did you mean "
                                               r"'redundancy_ratio'"):
        extract_features(GSM8K, "redundancy_ration")


def test_rerun_hits_the_cache_and_loads_nothing(tmp_path: Path) -> None:
    first = CountingExtractor()
    table1 = extract_features(GSM8K, [first], cache_dir=tmp_path)
    again = CountingExtractor()
    table2 = extract_features(GSM8K, [again], cache_dir=tmp_path)
    assert (first.scored, first.setups) == (300, 1)
    assert (again.scored, again.setups) == (0, 0)
    pd.testing.assert_frame_equal(table1, table2)


def test_config_change_recomputes_only_that_extractor(tmp_path: Path) -> None:
    extract_features(GSM8K, [CountingExtractor(name="a"), CountingExtractor(name="b")],
                     cache_dir=tmp_path)
    kept, changed = CountingExtractor(name="a"), CountingExtractor(name="b", scale=2.0)
    table = extract_features(GSM8K, [kept, changed], cache_dir=tmp_path)
    assert (kept.scored, changed.scored) == (0, 300)
    assert table.loc[0, "b_chars"] == pytest.approx(
        2 * np.mean([len(e.reasoning) for e in read_examples(GSM8K)]))


def test_two_extractors_emitting_one_metric_are_refused() -> None:
    with pytest.raises(MetaqError, match="metric 'x_chars' would come from two extractors"):
        extract_features(GSM8K, [CountingExtractor(name="x"), CountingExtractor(name="x")])


def test_equal_texts_are_scored_once(tmp_path: Path) -> None:
    lines = GSM8K.read_text().splitlines()[:5]
    path = tmp_path / "dups.jsonl"
    path.write_text("\n".join(lines + lines) + "\n")
    extractor = CountingExtractor()
    table = extract_features(path, [extractor], cache_dir=tmp_path / "cache", batch_size=3)
    assert (extractor.scored, table.loc[0, "n_examples"]) == (5, 10)


def test_options_reach_only_constructors_that_take_them() -> None:
    from metaq.features.registry import accepted_options, build_extractor

    extractor = build_extractor("answer", {"tail_chars": 10, "lm": "gpt2", "device": None})
    assert extractor.tail_chars == 10
    assert accepted_options(CountingExtractor, {"scale": 3, "lm": "x"}) == {"scale": 3}
    from metaq.features.text import RedundancyExtractor

    assert accepted_options(RedundancyExtractor, {"lm": "x"}) == {}


def test_registry_specs_match_the_extractor_classes() -> None:
    from metaq.features.registry import EXTRACTORS

    for spec in EXTRACTORS.values():
        if spec.missing_modules():
            continue
        cls = spec.load()
        assert (cls.name, tuple(cls.metrics)) == (spec.name, spec.metrics), spec.name


def test_resolve_selection_by_metric_extractor_and_group() -> None:
    from metaq.features.registry import GROUPS, resolve_selection

    chosen = resolve_selection(["answer_in_reasoning", "symbolic", "redundancy_ratio"])
    assert chosen == {"redundancy": ("redundancy_ratio",), "symbolic": ("symbolic_fraction",),
                      "answer": ("answer_in_reasoning",)}
    assert list(resolve_selection(["text"])) == list(GROUPS["text"])
    with pytest.raises(UnknownNameError, match="Did you mean 'embedding'"):
        resolve_selection(["embeding"])


def test_examples_without_domain_get_an_unknown_row(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps({"question": "Q", "reasoning": "r" * n, "domain": d})
                              for n, d in ((1, "a"), (2, ""), (3, "a"))) + "\n")
    table = extract_features(path, "reasoning_chars", by_domain=True)
    assert table[["domain", "n_examples", "reasoning_chars"]].values.tolist() == [
        ["", 3, 2.0], ["a", 2, 2.0], ["unknown", 1, 2.0]]
