"""Token log-likelihoods under a causal LM with transformers, batched and memory-bounded.

How a call to :meth:`TransformersEngine.score` runs:

1. Texts (and contexts) are tokenised without special tokens; each sequence is
   ``[prefix] + context + text`` where the prefix is the tokenizer's BOS token, or its EOS
   token when it has no BOS (as lm-evaluation-harness does), so the first text token is
   scored too. With neither, the first token of an unconditioned text is not scored.
2. Sequences longer than ``max_length`` are cut into windows (:mod:`metaq.engines.windows`,
   sliding by default, or truncation).
3. Windows are sorted by length and grouped into batches of at most ``batch_tokens`` padded
   token slots (:mod:`metaq.engines.batching`), right-padded. Under causal attention right
   padding needs no attention mask (real tokens never see the padding after them), so none
   is passed and the fast causal attention kernels stay in use.
4. Each batch runs through the model *body* only; the final hidden states of the scored
   positions are gathered and projected through the output head in chunks of rows, each
   chunk giving ``logit[target] - logsumexp(logits)``. The full ``positions x vocabulary``
   log-softmax of a batch is never held in memory, and padding never reaches the head.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from metaq.engines.base import BatchStats, TokenLogprobs
from metaq.engines.batching import pad_right, padded_size, token_budget_batches
from metaq.engines.loading import Dtype, load_causal_lm, max_positions
from metaq.engines.windows import (
    Segment,
    WindowPolicy,
    describe_policy,
    encode_plain,
    gather_by_owner,
    plan_segments,
    plan_windows,
    prefix_ids,
)

logger = logging.getLogger(__name__)

#: Logits held at once by the chunked head projection (elements, i.e. rows x vocabulary).
LOGIT_CHUNK_ELEMENTS = 1 << 25


class TransformersEngine:
    """Scoring engine over a Hugging Face causal LM (CPU or CUDA).

    Parameters
    ----------
    model : str or Path
        Hub id or local folder of a causal LM (loaded with ``AutoModelForCausalLM``).
    device : str
        ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``, ``"cuda:N"``.
    dtype : {"auto", "float32", "bfloat16", "float16"}
        ``"auto"``: bf16 on GPU, fp32 on CPU.
    max_length : int, optional
        Longest window in tokens; default the model's maximum number of positions.
    window : {"sliding", "truncate"}
        Policy for sequences longer than ``max_length`` (see :mod:`metaq.engines.windows`).
    stride : int, optional
        Step of the sliding window; default ``max_length // 2``.
    batch_tokens : int
        Padded token slots per forward pass.

    Attributes
    ----------
    model, tokenizer
        The loaded transformers objects.
    stats : BatchStats
        Counters accumulated over every call.

    Examples
    --------
    >>> engine = TransformersEngine("path/to/lm", device="cpu")  # doctest: +SKIP
    >>> engine.score(["2 + 2 = 4"], contexts=["What is 2 + 2?"]).perplexity()  # doctest: +SKIP
    """

    def __init__(self, model: str | Path, *, device: str = "auto", dtype: Dtype = "auto",
                 max_length: int | None = None, window: WindowPolicy = "sliding",
                 stride: int | None = None, batch_tokens: int = 8192) -> None:
        loaded, tokenizer = load_causal_lm(model, device=device, dtype=dtype)
        self._attach(str(model), loaded, tokenizer, max_length=max_length, window=window,
                     stride=stride, batch_tokens=batch_tokens)

    @classmethod
    def from_model(cls, model: Any, tokenizer: Any, *, name: str = "in-memory model",
                   max_length: int | None = None, window: WindowPolicy = "sliding",
                   stride: int | None = None, batch_tokens: int = 8192) -> TransformersEngine:
        """Wrap an already loaded causal LM (e.g. shared with another component).

        Parameters
        ----------
        model : transformers.PreTrainedModel
            A causal LM in eval mode, on its device.
        tokenizer : object
            Its tokenizer; :meth:`score_ids` needs only ``bos_token_id``,
            ``eos_token_id`` and ``pad_token_id``.
        name : str
            Recorded as the model in :meth:`describe`.
        max_length, window, stride, batch_tokens
            As in the constructor.

        Returns
        -------
        TransformersEngine
        """
        engine = cls.__new__(cls)
        engine._attach(name, model, tokenizer, max_length=max_length, window=window,
                       stride=stride, batch_tokens=batch_tokens)
        return engine

    def _attach(self, name: str, model: Any, tokenizer: Any, *, max_length: int | None,
                window: WindowPolicy, stride: int | None, batch_tokens: int) -> None:
        self.name = name
        self.model, self.tokenizer = model, tokenizer
        limit = max_positions(model, tokenizer)
        self.max_length = min(max_length or limit, limit)
        self.window = window
        self.stride = stride if stride is not None else self.max_length // 2
        self.batch_tokens = batch_tokens
        plan_windows(0, 0, max_length=self.max_length, policy=window, stride=self.stride)
        self.stats = BatchStats()

    @property
    def device(self) -> Any:
        """The torch device of the model."""
        return next(self.model.parameters()).device

    def describe(self) -> dict[str, str]:
        """Provenance: model, dtype, device, window policy and prefix token."""
        policy = describe_policy(self.window, self.max_length, self.stride)
        return {"model": self.name, "backend": "transformers",
                "dtype": str(self.model.dtype).removeprefix("torch."),
                "device": str(self.device), "long_text": policy,
                "prefix_token": str(prefix_ids(self.tokenizer))}

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of ``texts`` without special tokens."""
        return encode_plain(self.tokenizer, texts)

    def score(self, texts: Sequence[str],
              contexts: Sequence[str] | None = None) -> TokenLogprobs:
        """Log-probability of every token of each text, optionally given a context.

        Parameters
        ----------
        texts : sequence of str
            Texts whose tokens are scored.
        contexts : sequence of str, optional
            One string per text, placed between the prefix token and the text and not scored.

        Returns
        -------
        TokenLogprobs
            Per-text arrays of natural-log probabilities and the call's counters (also added
            to :attr:`stats`).

        Raises
        ------
        ValueError
            When ``contexts`` and ``texts`` differ in length.
        """
        if contexts is not None and len(contexts) != len(texts):
            raise ValueError(f"got {len(contexts)} contexts for {len(texts)} texts; give one "
                             "context per text or none")
        return self.score_ids(self.encode(texts),
                              None if contexts is None else self.encode(contexts))

    def score_ids(self, text_ids: Sequence[Sequence[int]],
                  context_ids: Sequence[Sequence[int]] | None = None) -> TokenLogprobs:
        """:meth:`score` on token ids (no tokenisation; the prefix token is still added)."""
        segments, unscored = plan_segments(text_ids, context_ids, prefix_ids(self.tokenizer),
                                           max_length=self.max_length, policy=self.window,
                                           stride=self.stride)
        lengths = [len(s.ids) for s in segments]
        batches = token_budget_batches(lengths, self.batch_tokens)
        real, padded = padded_size(lengths, batches)
        pieces: list[np.ndarray] = [np.empty(0)] * len(segments)
        for batch in batches:
            for i, logprobs in zip(batch, self._score_batch([segments[i] for i in batch]),
                                   strict=True):
                pieces[i] = logprobs
        logprobs = gather_by_owner(segments, pieces, len(text_ids))
        stats = BatchStats(n_texts=len(text_ids), n_segments=len(segments),
                           n_batches=len(batches), real_tokens=real, padded_tokens=padded,
                           scored_tokens=sum(lp.size for lp in logprobs),
                           unscored_tokens=unscored)
        self.stats += stats
        logger.debug("scored %d texts in %d batches: %d tokens, padding waste %.1f%%",
                     stats.n_texts, stats.n_batches, stats.real_tokens,
                     100 * stats.padding_waste)
        return TokenLogprobs(logprobs, stats)

    def _score_batch(self, segments: Sequence[Segment]) -> list[np.ndarray]:
        """Log-probabilities of each segment's targets: one right-padded forward pass."""
        import torch

        pad_id = self.tokenizer.pad_token_id
        ids, _ = pad_right([s.ids for s in segments], pad_id if pad_id is not None else 0)
        row_index = np.concatenate([np.full(s.n_targets, row)
                                    for row, s in enumerate(segments)])
        target_pos = np.concatenate([np.arange(s.first, len(s.ids)) for s in segments])
        with torch.inference_mode():
            ids_t = torch.from_numpy(ids).to(self.device)
            # No padding mask: with right padding and causal attention a real token at t
            # attends only to positions <= t, all real, at its unpadded position id; padded
            # positions are computed but never read. Without a mask SDPA keeps its causal
            # (flash) kernel instead of a masked one.
            hidden = self.model.base_model(input_ids=ids_t, use_cache=False).last_hidden_state
            rows = torch.from_numpy(row_index).to(self.device)
            positions = torch.from_numpy(target_pos).to(self.device)
            logprobs = target_logprobs(hidden[rows, positions - 1], ids_t[rows, positions],
                                       self.model.get_output_embeddings(),
                                       softcap=getattr(self.model.config,
                                                       "final_logit_softcapping", None))
        splits = np.cumsum([s.n_targets for s in segments])[:-1]
        return np.split(logprobs.double().cpu().numpy(), splits)


def target_logprobs(hidden: Any, targets: Any, head: Any, *, softcap: float | None = None,
                    chunk_elements: int = LOGIT_CHUNK_ELEMENTS) -> Any:
    """``log p(target | hidden)`` per row, projecting through the output head in chunks.

    Parameters
    ----------
    hidden : torch.Tensor
        Final hidden states, shape ``(n, d)``.
    targets : torch.Tensor
        Target token ids, shape ``(n,)``.
    head : torch.nn.Module
        The output projection (``model.get_output_embeddings()``), ``d -> vocabulary``.
    softcap : float, optional
        Final logit soft-capping of the model (Gemma-2 style ``tanh(x / c) * c``), if any.
    chunk_elements : int
        Most logits held at once; rows per chunk = ``chunk_elements // vocabulary``.

    Returns
    -------
    torch.Tensor
        Float32 log-probabilities, shape ``(n,)``.
    """
    import torch

    vocabulary = head.weight.shape[0]
    rows = max(1, chunk_elements // vocabulary)
    out = torch.empty(hidden.shape[0], dtype=torch.float32, device=hidden.device)
    for start in range(0, hidden.shape[0], rows):
        logits = head(hidden[start:start + rows]).float()
        if softcap:
            logits = torch.tanh(logits / softcap) * softcap
        chosen = logits.gather(1, targets[start:start + rows, None]).squeeze(1)
        out[start:start + rows] = chosen - torch.logsumexp(logits, dim=-1)
    return out
