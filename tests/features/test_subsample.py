"""Subsampled extractors: a stratified sample estimates the exhaustive dataset mean."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import pytest
from tiny_models import build_tiny_causal_lm

from metaq.datasets import sample_path
from metaq.exceptions import InvalidParameterError
from metaq.features.base import Example, Extractor
from metaq.features.runner import extract_features

SAMPLES = ("gsm8k_train.jsonl", "marco_o1_cot.jsonl", "gsm8k_model_solutions.jsonl",
           "gsm8k_test_trace_styles.jsonl")


class SampledChars(Extractor):
    """Reasoning length as a subsampled metric; counts what it scores."""

    name: ClassVar[str] = "sampled_chars"
    metrics: ClassVar[tuple[str, ...]] = ("sampled_chars",)
    subsampled: ClassVar[bool] = True

    def __init__(self) -> None:
        self.scored = 0

    def score_batch(self, examples: Sequence[Example]) -> list[dict[str, float]]:
        self.scored += len(examples)
        return [{"sampled_chars": float(len(ex.reasoning))} for ex in examples]


def within_two_se(sub: dict, full: dict, metric: str) -> bool:
    """|subsample - exhaustive| <= 2 standard errors, as reported in the table."""
    return abs(sub[metric] - full[metric]) <= 2 * sub[f"{metric}__se"]


def rows(path: Path, metrics, size: int, **options) -> tuple[dict, dict]:
    sub = extract_features(path, metrics, sample=size, on_error="skip", **options).iloc[0]
    full = extract_features(path, metrics, sample="all", on_error="skip", **options).iloc[0]
    return sub.to_dict(), full.to_dict()


def size_for(name: str) -> int:
    return 60 if name.startswith("marco") else 100  # Marco-o1 has 125 examples, others 300


@pytest.mark.parametrize("name", SAMPLES)
def test_sampled_embedding_metrics_lie_within_two_se_of_all(name: str) -> None:
    options = {"extractor_options": {"embedding_model": "wordllama"}}
    sub, full = rows(sample_path(name), "embedding", size_for(name), **options)
    assert sub["n_embedding_sampled"] == size_for(name)
    assert full["n_embedding_sampled"] == full["n_examples"]
    assert sub["meta__embedding_sample"].startswith(f"{size_for(name)} stratified")
    assert full["meta__embedding_sample"] == "all"
    for metric in ("semantic_alignment", "semantic_flow"):
        assert sub[f"{metric}__se"] > 0, metric
        assert within_two_se(sub, full, metric), (metric, sub, full)


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_causal_lm(tmp_path_factory.mktemp("tiny_lm"))


@pytest.mark.parametrize("name", SAMPLES[:2])
def test_sampled_perplexity_lies_within_two_se_of_all(name: str, tiny_lm: Path) -> None:
    options = {"extractor_options": {"lm": str(tiny_lm), "device": "cpu"}}
    sub, full = rows(sample_path(name), "perplexity", size_for(name), **options)
    assert sub["n_perplexity_sampled"] == size_for(name)
    for metric in ("perplexity", "conditional_perplexity", "ppl_ratio"):
        assert within_two_se(sub, full, metric), (metric, sub, full)


def test_sample_then_all_scores_each_example_once(tmp_path: Path) -> None:
    path = sample_path("marco_o1_cot.jsonl")  # 125 examples in three domains
    first = SampledChars()
    sub = extract_features(path, [first], sample=40, cache_dir=tmp_path, by_domain=True)
    assert first.scored == 40
    assert sub["n_sampled_chars_sampled"].tolist()[0] == 40
    assert sum(sub["n_sampled_chars_sampled"].tolist()[1:]) == 40  # domains share the sample
    second = SampledChars()
    full = extract_features(path, [second], sample="all", cache_dir=tmp_path, by_domain=True)
    assert second.scored == 125 - 40
    direct = extract_features(path, "reasoning_chars", by_domain=True)
    assert full["sampled_chars"].tolist() == pytest.approx(direct["reasoning_chars"].tolist())
    assert full["sampled_chars__se"].tolist() == pytest.approx(
        direct["reasoning_chars__se"].tolist())


def test_text_metrics_ignore_the_sample_and_bad_sizes_are_refused() -> None:
    path = sample_path("gsm8k_train.jsonl")
    table = extract_features(path, "reasoning_chars", sample=10)
    assert table.loc[0, "n_examples"] == 300 and "meta__length_sample" not in table
    with pytest.raises(InvalidParameterError, match="sample=0 is not a sample size"):
        extract_features(path, "reasoning_chars", sample=0)
