"""The transformers judge back-end: one prefill per trace, probes read its cached history.

Traces are sorted by history length and batched by padded tokens
(:func:`metaq.engines.batching.token_budget_batches`), right-padded. A batch's histories
are prefilled once into a key/value cache (plain causal attention); then the traces' probes
run in rounds, one packed probe group per trace per round (:mod:`.packing`), each reading
the cache through a tree attention mask with explicit ``position_ids``; the cache is cut
back to the histories after every round. Padding attends only to itself. Only the model body
runs; the final hidden states at the probes' last tokens are projected onto the two label
rows of the output head (two dot products per probe instead of the full vocabulary).

The probe mask is a 4-D mask (boolean for ``sdpa``, additive for ``eager``); this needs one
of those two attention implementations (not flash-attention, which takes no arbitrary mask)
and a model without sliding-window attention. Probes whose separate prompt exceeds
``max_length`` are not judged (status ``"truncated"``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from metaq.engines.batching import pad_right, token_budget_batches
from metaq.engines.loading import Dtype, load_causal_lm, max_positions
from metaq.features.judge.rubric import ChatFrame, JudgePrompt
from metaq.features.judge.scoring.base import (
    OK,
    TRUNCATED,
    JudgeBackend,
    ProbeScores,
    chat_frame_of,
    label_token_ids,
)
from metaq.features.judge.scoring.packing import ProbeGroup, probe_groups, tokenize_prompt

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Trace:
    """One trace to judge: its index, the history its probes read, its probe groups."""

    index: int
    history: list[int]
    groups: list[ProbeGroup]


class TransformersJudgeBackend(JudgeBackend):
    """Judge with a Hugging Face causal LM on CPU or CUDA.

    Parameters
    ----------
    model : str or Path
        Hub id or local folder of a causal LM.
    device : str
        ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``, ``"cuda:N"``.
    dtype : {"auto", "float32", "bfloat16", "float16"}
        ``"auto"``: bf16 on GPU, fp32 on CPU.
    max_length : int, optional
        The judge's context in tokens; default the model's maximum positions.
    batch_tokens : int
        Padded history tokens per batch of traces.
    probe_tokens : int
        Most probe tokens packed into one sequence (a probe round holds one per trace).

    Attributes
    ----------
    last_tokens : int
        Token slots (histories and probes, padding included) run in the last :meth:`score`.
    last_padding_waste : float
        Share of padding in the token slots of the last :meth:`score` call.
    """

    engine = "transformers"

    def __init__(self, model: str | Path, *, device: str = "auto", dtype: Dtype = "auto",
                 max_length: int | None = None, batch_tokens: int = 8192,
                 probe_tokens: int = 1024) -> None:
        loaded, tokenizer = load_causal_lm(model, device=device, dtype=dtype)
        self._attach(str(model), loaded, tokenizer, max_length, batch_tokens, probe_tokens)

    @classmethod
    def from_loaded(cls, name: str, model: Any, tokenizer: Any, *,
                    max_length: int | None = None, batch_tokens: int = 8192,
                    probe_tokens: int = 1024) -> TransformersJudgeBackend:
        """Wrap a model already in memory (benchmarks, notebooks) instead of loading one.

        Parameters
        ----------
        name : str
            What to record as the judge model.
        model : transformers.PreTrainedModel
            A causal LM in eval mode, on its device.
        tokenizer : transformers.PreTrainedTokenizerBase
            Its tokenizer.
        max_length, batch_tokens, probe_tokens
            As in the constructor.

        Returns
        -------
        TransformersJudgeBackend
        """
        backend = cls.__new__(cls)
        backend._attach(name, model, tokenizer, max_length, batch_tokens, probe_tokens)
        return backend

    def _attach(self, name: str, model: Any, tokenizer: Any, max_length: int | None,
                batch_tokens: int, probe_tokens: int) -> None:
        import inspect

        self.model_name = name
        self.model, self.tokenizer = model, tokenizer
        self.max_length = max_length or max_positions(model, tokenizer)
        self.batch_tokens = batch_tokens
        self.probe_tokens = probe_tokens
        self._boolean_mask = model.config._attn_implementation == "sdpa"
        # transformers 5 calls the cache argument `cache`, earlier versions `past_key_values`
        forward = inspect.signature(model.base_model.forward).parameters
        self._cache_kw = "cache" if "cache" in forward else "past_key_values"
        self._frame = chat_frame_of(tokenizer)
        self.label_ids = label_token_ids(tokenizer, self._frame)
        self.last_padding_waste = 0.0
        self.last_tokens = 0

    def chat_frame(self) -> ChatFrame:
        """Return the chat template's frame (a plain ``"Answer:"`` cue for a base model)."""
        return self._frame

    def describe(self) -> dict[str, str]:
        """Engine, model, dtype, context and label token ids."""
        return {"engine": self.engine, "model": self.model_name,
                "dtype": str(self.model.dtype).removeprefix("torch."),
                "max_length": str(self.max_length), "label_ids": str(list(self.label_ids))}

    def score(self, prompts: Sequence[JudgePrompt]) -> list[ProbeScores]:
        """P(POSITIVE) of every probe; probes beyond ``max_length`` are ``"truncated"``."""
        tokenized = [tokenize_prompt(self.tokenizer, p) for p in prompts]
        values = [np.full(len(t.probes), np.nan) for t in tokenized]
        status: list[list[str]] = []
        traces: list[_Trace] = []
        for index, tp in enumerate(tokenized):
            fits = tp.prompt_lengths() <= self.max_length
            status.append([OK if f else TRUNCATED for f in fits])
            keep = np.flatnonzero(fits)
            if keep.size:
                last = max(tp.probe_steps[i] for i in keep)
                traces.append(_Trace(index, tp.history_ids(last),
                                     probe_groups(tp, keep, max_tokens=self.probe_tokens)))
        lengths = [len(t.history) for t in traces]
        self._slots = self._real = 0
        for batch in token_budget_batches(lengths, self.batch_tokens):
            members = [traces[i] for i in batch]
            for trace, probabilities in zip(members, self._score_traces(members), strict=True):
                for group, p in zip(trace.groups, probabilities, strict=True):
                    values[trace.index][group.probes] = p
        self.last_tokens = self._slots
        self.last_padding_waste = 1.0 - self._real / self._slots if self._slots else 0.0
        n_trunc = sum(s.count(TRUNCATED) for s in status)
        if n_trunc:
            logger.info("%d probe(s) not judged: prompt longer than max_length=%d", n_trunc,
                        self.max_length)
        return [ProbeScores.from_values(v, s) for v, s in zip(values, status, strict=True)]

    def _score_traces(self, traces: Sequence[_Trace]) -> list[list[np.ndarray]]:
        """Prefill the histories (right-padded batch) into a cache, then run probe rounds."""
        import torch
        from transformers import DynamicCache

        filler = self.tokenizer.eos_token_id  # any id: pads are never read (see below)
        ids, mask = pad_right([t.history for t in traces],
                              filler if filler is not None else self._pad_id())
        self._count(ids.size, int(mask.sum()))
        cache = DynamicCache()
        device = self.model.device
        results: list[list[np.ndarray]] = [[] for _ in traces]
        rows = list(range(len(traces)))  # the trace held by each cache row
        with torch.inference_mode():
            # No padding mask: with right padding and causal attention no real token sees a
            # pad, and the pads' cache entries are never read (probes see only their own
            # trace's history). This keeps the fast is_causal attention kernel.
            self.model.base_model(input_ids=torch.from_numpy(ids).to(device), use_cache=True,
                                  **{self._cache_kw: cache})
            for r in range(max(len(t.groups) for t in traces)):
                still = [k for k in rows if r < len(traces[k].groups)]
                if len(still) < len(rows):  # drop finished traces' cache rows
                    keep = torch.tensor([rows.index(k) for k in still], device=device)
                    for layer in cache.layers:
                        layer.batch_select_indices(keep)
                    rows = still
                groups = [traces[k].groups[r] for k in rows]
                probabilities, width = self._score_round(groups, ids.shape[1], cache)
                cache.crop(-width)
                for k, p in zip(rows, probabilities, strict=True):
                    results[k].append(p)
        return results

    def _score_round(self, groups: Sequence[ProbeGroup], history: int,
                     cache: Any) -> tuple[list[np.ndarray], int]:
        """One probe group per cache row, reading the cached history."""
        import torch

        width = max(len(g) for g in groups)
        shape = (len(groups), width)
        ids = np.full(shape, self._pad_id())
        position, context_end = np.zeros(shape, dtype=int), np.zeros(shape, dtype=int)
        own_start = np.tile(np.arange(width), (len(groups), 1))  # padding sees only itself
        for row, g in enumerate(groups):
            n = len(g)
            ids[row, :n], position[row, :n] = g.input_ids, g.position_ids
            context_end[row, :n], own_start[row, :n] = g.context_end, g.own_start
        self._count(ids.size, sum(len(g) for g in groups))
        device = self.model.device
        mask = tree_attention_mask(torch.from_numpy(context_end).to(device),
                                   torch.from_numpy(own_start).to(device), history,
                                   None if self._boolean_mask else self.model.dtype)
        hidden = self.model.base_model(
            input_ids=torch.from_numpy(ids).to(device),
            position_ids=torch.from_numpy(position).to(device),
            attention_mask=mask, use_cache=True, **{self._cache_kw: cache}).last_hidden_state
        rows = np.concatenate([np.full(len(g.readout), r) for r, g in enumerate(groups)])
        cols = np.concatenate([g.readout for g in groups])
        logits = label_logits(hidden[torch.from_numpy(rows), torch.from_numpy(cols)],
                              self.model.get_output_embeddings(), self.label_ids,
                              softcap=getattr(self.model.config, "final_logit_softcapping",
                                              None))
        p = torch.sigmoid(logits[:, 0] - logits[:, 1]).double().cpu().numpy()
        return np.split(p, np.cumsum([len(g.readout) for g in groups])[:-1]), width

    def _count(self, slots: int, real: int) -> None:
        self._slots += slots
        self._real += real

    def _pad_id(self) -> int:
        pad = self.tokenizer.pad_token_id
        return pad if pad is not None else 0

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int) -> list[str]:
        """Greedy replies to user messages, one prompt at a time (for the atomizer)."""
        import torch

        replies = []
        for prompt in prompts:
            text = self._frame.head + prompt + self._frame.tail
            ids = self.tokenizer(text, add_special_tokens=False, return_tensors="pt")
            ids = {k: v.to(self.model.device) for k, v in ids.items()}
            with torch.inference_mode():
                out = self.model.generate(**ids, max_new_tokens=max_new_tokens,
                                          do_sample=False, pad_token_id=self._pad_id())
            replies.append(self.tokenizer.decode(out[0, ids["input_ids"].shape[1]:],
                                                 skip_special_tokens=True))
        return replies


def tree_attention_mask(context_end: Any, own_start: Any, history: int, dtype: Any) -> Any:
    """4-D mask of probe tokens over ``[cached history | probe tokens]``.

    Probe token ``i`` sees history positions ``[0, context_end[i])`` and probe tokens
    ``[own_start[i], i]``.

    Parameters
    ----------
    context_end, own_start : torch.Tensor
        Shape ``(batch, probe_tokens)``, as in :class:`~.packing.ProbeGroup`.
    history : int
        Length of the cached (padded) history.
    dtype : torch.dtype or None
        ``None`` for a boolean mask (True = attend; what ``sdpa`` takes, at an eighth of the
        memory), else an additive mask in this dtype (0 or its most negative value; what
        ``eager`` attention takes).

    Returns
    -------
    torch.Tensor
        Shape ``(batch, 1, probe_tokens, history + probe_tokens)``.
    """
    import torch

    width = context_end.shape[1]
    key = torch.arange(history + width, device=context_end.device)
    query = torch.arange(width, device=context_end.device)[:, None] + history
    allowed = ((key < context_end[:, :, None])
               | ((key >= own_start[:, :, None] + history) & (key <= query)))[:, None]
    if dtype is None:
        return allowed
    return torch.zeros(allowed.shape, dtype=dtype, device=allowed.device).masked_fill_(
        ~allowed, torch.finfo(dtype).min)


def label_logits(hidden: Any, head: Any, label_ids: tuple[int, int], *,
                 softcap: float | None = None) -> Any:
    """Logits of the two label tokens only: ``hidden @ W[label_ids].T`` (+ bias).

    Parameters
    ----------
    hidden : torch.Tensor
        Final hidden states, shape ``(n, d)``.
    head : torch.nn.Linear
        The output head (``model.get_output_embeddings()``).
    label_ids : tuple of int
        Positive and negative label token ids.
    softcap : float, optional
        Final logit soft-capping (``tanh(x / c) * c``), if the model uses it.

    Returns
    -------
    torch.Tensor
        Float32, shape ``(n, 2)``.
    """
    import torch

    index = torch.tensor(label_ids, device=hidden.device)
    logits = hidden @ head.weight[index].T
    if getattr(head, "bias", None) is not None:
        logits = logits + head.bias[index]
    logits = logits.float()
    return torch.tanh(logits / softcap) * softcap if softcap else logits
