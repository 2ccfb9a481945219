"""Syntactic depth (the study's definition) from a spaCy dependency parse.

``syntactic_depth`` = mean over the sentences of a trace of the depth of the sentence's
dependency tree, where a tree's depth counts the tokens on its longest root-to-leaf path (a
one-word sentence has depth 1; "Cats sleep." has depth 2). Sentences come from the parser.

spaCy parses only with a trained pipeline for the trace's language (``en_core_web_sm``,
``pl_core_news_sm``, ...). Those are separate packages; when the chosen one is not installed
the extractor raises :class:`~metaq.exceptions.MissingDependencyError` at set-up, the runner
skips it and the features table says why in ``meta__syntax_skipped``. No number is made up.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from metaq._optional import require
from metaq.exceptions import MissingDependencyError
from metaq.features.base import Example, Extractor


def tree_depth(sentence: Any) -> int:
    """Depth of one parsed sentence: tokens on its longest root-to-leaf path.

    Parameters
    ----------
    sentence : spacy.tokens.Span or Doc
        A parsed sentence (tokens with ``head`` set).

    Returns
    -------
    int
        ``1 + max number of ancestors`` over the sentence's tokens (0 for no tokens).
    """
    depth: dict[int, int] = {}

    def level(token: Any) -> int:
        path = []
        while token.i not in depth and token.head.i != token.i:
            path.append(token)
            token = token.head
        base = depth.setdefault(token.i, 1) if token.head.i == token.i else depth[token.i]
        for node in reversed(path):
            base += 1
            depth[node.i] = base
        return base

    return max((level(token) for token in sentence), default=0)


def syntactic_depth(doc: Any) -> float:
    """Mean tree depth over the sentences of a parsed document (NaN without sentences).

    Examples
    --------
    >>> from spacy.tokens import Doc
    >>> from spacy.vocab import Vocab
    >>> doc = Doc(Vocab(), words=["Cats", "sleep", ".", "Big", "dogs", "bark", "loudly"],
    ...           heads=[1, 1, 1, 4, 5, 5, 5], deps=["nsubj", "ROOT", "punct", "amod",
    ...           "nsubj", "ROOT", "advmod"], sent_starts=[1, 0, 0, 1, 0, 0, 0])
    >>> syntactic_depth(doc)  # depths 2 and 3
    2.5
    """
    depths = [tree_depth(sentence) for sentence in doc.sents]
    depths = [d for d in depths if d > 0]
    return sum(depths) / len(depths) if depths else math.nan


class SyntaxExtractor(Extractor):
    """``syntactic_depth`` of the reasoning under a spaCy pipeline.

    Parameters
    ----------
    spacy_model : str, default "en_core_web_sm"
        Name or path of an installed spaCy pipeline with a dependency parser, in the
        language of the traces (the study's data was Polish: ``pl_core_news_lg``).
    batch_size : int, default 64
        Texts per ``nlp.pipe`` batch.
    """

    name: ClassVar[str] = "syntax"
    metrics: ClassVar[tuple[str, ...]] = ("syntactic_depth",)
    requires: ClassVar[tuple[str, ...]] = ("spacy",)
    extra: ClassVar[str] = "syntax"
    parallel: ClassVar[bool] = True

    def __init__(self, *, spacy_model: str = "en_core_web_sm", batch_size: int = 64) -> None:
        self.spacy_model = spacy_model
        self.batch_size = batch_size
        self._nlp: Any = None

    def config(self) -> dict[str, Any]:
        """Return the pipeline name, which defines the parse."""
        return {"spacy_model": self.spacy_model}

    def setup(self) -> None:
        """Load the pipeline (parser only).

        Raises
        ------
        MissingDependencyError
            When spaCy, the pipeline, or the pipeline's parser is missing.
        """
        if self._nlp is not None:
            return
        # Checked before importing spaCy, which imports torch (seconds for nothing).
        if not _pipeline_exists(self.spacy_model):
            raise self._not_installed("no package or folder of that name")
        spacy = require("spacy", extra=self.extra, purpose="syntactic_depth")
        try:
            nlp = spacy.load(self.spacy_model, exclude=["ner", "lemmatizer", "textcat"])
        except OSError as err:
            installed = sorted(spacy.util.get_installed_models())
            raise self._not_installed(f"installed pipelines: {installed or 'none'}") from err
        if "parser" not in nlp.pipe_names:
            raise MissingDependencyError(
                f"syntactic_depth is unavailable: the spaCy pipeline {self.spacy_model!r} has "
                f"no dependency parser (components: {nlp.pipe_names}). Fix: use a pipeline "
                f"with a parser, e.g. en_core_web_sm.")
        self._nlp = nlp

    def _not_installed(self, detail: str) -> MissingDependencyError:
        return MissingDependencyError(
            f"syntactic_depth is unavailable: the spaCy pipeline {self.spacy_model!r} is not "
            f"installed ({detail}). Fix: `python -m spacy download {self.spacy_model}` (or "
            f"pass --spacy-model NAME|PATH); until then syntactic_depth is skipped, not "
            f"estimated.")

    def score_batch(self, examples: Sequence[Example]) -> list[dict[str, float]]:
        """Parse each reasoning trace and average its sentences' tree depths."""
        self.setup()
        docs = self._nlp.pipe((ex.reasoning for ex in examples), batch_size=self.batch_size)
        return [{"syntactic_depth": syntactic_depth(doc)} for doc in docs]


def _pipeline_exists(name: str) -> bool:
    """Whether a spaCy pipeline can be a folder or an installed package of this name."""
    if Path(name).exists():
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # not a module name at all
        return False
