"""The engine interface: what the model-based extractors ask of a model back-end.

Two small protocols, so an engine implements only what its model can do:

- :class:`EmbeddingEngine` turns texts into L2-normalised vectors (sentence-transformers,
  wordllama, vLLM's embedding task);
- :class:`ScoringEngine` returns, per text, the log-probability of each of its tokens under a
  causal LM, optionally conditioned on a context string (transformers, vLLM prompt logprobs).

Both describe themselves with ``describe()``, the strings recorded as provenance (model id,
dtype, window policy...) so the features table says which model produced its numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np


@dataclass
class BatchStats:
    """Work counters of a scoring call: how many tokens ran and how many were padding.

    Attributes
    ----------
    n_texts : int
        Texts scored.
    n_segments : int
        Sequences run through the model (a text split into sliding windows gives several).
    n_batches : int
        Forward passes.
    real_tokens : int
        Non-padding tokens fed to the model.
    padded_tokens : int
        Token slots fed to the model, padding included (``sum(batch rows * longest row)``).
    scored_tokens : int
        Text tokens whose log-probability was returned.
    unscored_tokens : int
        Text tokens dropped by truncation (0 with a sliding window).
    """

    n_texts: int = 0
    n_segments: int = 0
    n_batches: int = 0
    real_tokens: int = 0
    padded_tokens: int = 0
    scored_tokens: int = 0
    unscored_tokens: int = 0

    @property
    def padding_waste(self) -> float:
        """Share of the token slots that were padding, in [0, 1] (0 when nothing ran)."""
        return 1.0 - self.real_tokens / self.padded_tokens if self.padded_tokens else 0.0

    def __iadd__(self, other: BatchStats) -> BatchStats:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self


@dataclass
class TokenLogprobs:
    """Per-token log-probabilities of a list of texts, with the work counters of the call.

    Attributes
    ----------
    logprobs : list of numpy.ndarray
        One float64 array per text: the natural-log probability of each scored text token
        given the context and the earlier text tokens. Empty when nothing could be scored.
    stats : BatchStats
        Tokens run, padding and truncation of the call.
    """

    logprobs: list[np.ndarray]
    stats: BatchStats = field(default_factory=BatchStats)

    def mean_nll(self) -> np.ndarray:
        """Mean negative log-likelihood per text (NaN for a text with no scored token)."""
        return np.array([-lp.mean() if lp.size else np.nan for lp in self.logprobs])

    def perplexity(self) -> np.ndarray:
        """``exp(mean NLL)`` per text (NaN for a text with no scored token)."""
        return np.exp(self.mean_nll())


@runtime_checkable
class EmbeddingEngine(Protocol):
    """Back-end that embeds texts."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``.

        Parameters
        ----------
        texts : sequence of str
            Texts to embed (any length; the engine truncates to its model's limit).

        Returns
        -------
        numpy.ndarray
            Float32 array of shape ``(len(texts), dim)``; every row has unit L2 norm.
        """
        ...

    def describe(self) -> dict[str, str]:
        """Provenance strings: at least ``model`` (the id or path that produced the vectors)."""
        ...


@runtime_checkable
class ScoringEngine(Protocol):
    """Back-end that scores token log-likelihoods under a causal LM.

    ``tokenizer`` is the model's Hugging Face tokenizer, used by callers to render
    contexts (chat templates) the way the model expects.
    """

    tokenizer: Any

    def score(self, texts: Sequence[str],
              contexts: Sequence[str] | None = None) -> TokenLogprobs:
        """Log-probability of each token of each text.

        Parameters
        ----------
        texts : sequence of str
            Texts whose tokens are scored.
        contexts : sequence of str, optional
            One conditioning string per text, placed before it and not scored.

        Returns
        -------
        TokenLogprobs
            One array per text, in order, plus the counters of the call.
        """
        ...

    def describe(self) -> dict[str, str]:
        """Provenance strings: at least ``model``, and the long-text policy."""
        ...


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows of ``vectors`` scaled to unit L2 norm, as float32 (all-zero rows stay zero).

    Examples
    --------
    >>> l2_normalise(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
    [[0.6000000238418579, 0.800000011920929], [0.0, 0.0]]
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)
