"""Syntactic depth: tree depths on hand-built spaCy parses; a missing pipeline is reported."""

from __future__ import annotations

import math

import pytest

from metaq.datasets import sample_path
from metaq.exceptions import MissingDependencyError
from metaq.features.runner import extract_features
from metaq.features.syntax import SyntaxExtractor, syntactic_depth, tree_depth

spacy = pytest.importorskip("spacy")
from spacy.tokens import Doc  # noqa: E402
from spacy.vocab import Vocab  # noqa: E402


def parsed(words: list[str], heads: list[int], starts: list[int]) -> Doc:
    deps = ["ROOT" if h == i else "dep" for i, h in enumerate(heads)]
    return Doc(Vocab(), words=words, heads=heads, deps=deps, sent_starts=starts)


def test_tree_depth_counts_tokens_on_the_longest_path() -> None:
    # "The very big dog barks": barks <- dog <- big <- very ; The -> dog
    doc = parsed(["The", "very", "big", "dog", "barks"], [3, 2, 3, 4, 4], [1, 0, 0, 0, 0])
    assert tree_depth(doc) == 4  # barks > dog > big > very
    assert tree_depth(parsed(["Hi"], [0], [1])) == 1


def test_syntactic_depth_is_the_mean_over_sentences() -> None:
    doc = parsed(["Stop", ".", "The", "very", "big", "dog", "barks", "."],
                 [0, 0, 5, 4, 5, 6, 6, 6], [1, 0, 1, 0, 0, 0, 0, 0])
    assert [tree_depth(s) for s in doc.sents] == [2, 4]
    assert syntactic_depth(doc) == 3.0
    assert math.isnan(syntactic_depth(Doc(Vocab(), words=[])))


def test_missing_pipeline_is_said_clearly() -> None:
    extractor = SyntaxExtractor(spacy_model="xx_no_such_pipeline")
    with pytest.raises(MissingDependencyError) as err:
        extractor.setup()
    message = str(err.value)
    assert "syntactic_depth is unavailable" in message
    assert "'xx_no_such_pipeline' is not installed" in message
    assert "python -m spacy download xx_no_such_pipeline" in message


def test_pipeline_without_parser_is_refused(tmp_path) -> None:
    spacy.blank("en").to_disk(tmp_path / "blank")
    with pytest.raises(MissingDependencyError, match="has no dependency parser"):
        SyntaxExtractor(spacy_model=str(tmp_path / "blank")).setup()


def test_runner_skips_it_and_records_why() -> None:
    table = extract_features(sample_path("gsm8k_train.jsonl"), "syntactic_depth,redundancy_ratio",
                             extractor_options={"spacy_model": "xx_no_such_pipeline"})
    assert "syntactic_depth" not in table.columns
    assert "redundancy_ratio" in table.columns
    assert "is not installed" in table.loc[0, "meta__syntax_skipped"]
