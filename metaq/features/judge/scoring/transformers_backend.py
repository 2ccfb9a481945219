"""The transformers judge back-end: every judgment of a trace in one packed forward pass.

Each trace becomes one or more packed sequences (:mod:`.packing`): the trace is prefilled
once and every (step, criterion) probe reads it through a tree attention mask. Packed
sequences are sorted by length and batched by padded tokens
(:func:`metaq.engines.batching.token_budget_batches`), right-padded; padding tokens attend
only to themselves. Only the model body runs over the batch; the final hidden states at the
probes' last tokens are projected onto the two label rows of the output head (two dot
products per probe instead of a full-vocabulary projection).

The custom mask is passed to the model as a 4-D mask (boolean for ``sdpa``, additive for
``eager``) with explicit ``position_ids``; this needs one of those two attention
implementations (not flash-attention, which takes no arbitrary mask) and a model without
sliding-window attention. Probes whose separate prompt exceeds ``max_length`` are not judged (status
``"truncated"``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from metaq.engines.batching import pad_right, padded_size, token_budget_batches
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
from metaq.features.judge.scoring.packing import PackedChunk, pack, plan_chunks, tokenize_prompt

logger = logging.getLogger(__name__)


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
        Padded token slots per forward pass; also the target length of a packed sequence.

    Attributes
    ----------
    last_tokens : int
        Token slots (padding included) run through the model in the last :meth:`score`.
    last_padding_waste : float
        Share of padding in the token slots of the last :meth:`score` call.
    """

    engine = "transformers"

    def __init__(self, model: str | Path, *, device: str = "auto", dtype: Dtype = "auto",
                 max_length: int | None = None, batch_tokens: int = 8192) -> None:
        loaded, tokenizer = load_causal_lm(model, device=device, dtype=dtype)
        self._attach(str(model), loaded, tokenizer, max_length, batch_tokens)

    @classmethod
    def from_loaded(cls, name: str, model: Any, tokenizer: Any, *,
                    max_length: int | None = None,
                    batch_tokens: int = 8192) -> TransformersJudgeBackend:
        """Wrap a model already in memory (benchmarks, notebooks) instead of loading one.

        Parameters
        ----------
        name : str
            What to record as the judge model.
        model : transformers.PreTrainedModel
            A causal LM in eval mode, on its device.
        tokenizer : transformers.PreTrainedTokenizerBase
            Its tokenizer.
        max_length, batch_tokens
            As in the constructor.

        Returns
        -------
        TransformersJudgeBackend
        """
        backend = cls.__new__(cls)
        backend._attach(name, model, tokenizer, max_length, batch_tokens)
        return backend

    def _attach(self, name: str, model: Any, tokenizer: Any, max_length: int | None,
                batch_tokens: int) -> None:
        self.model_name = name
        self.model, self.tokenizer = model, tokenizer
        self.max_length = max_length or max_positions(model, tokenizer)
        self.batch_tokens = batch_tokens
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
        chunks: list[PackedChunk] = []
        for index, tp in enumerate(tokenized):
            groups, truncated = plan_chunks(tp, max_length=self.max_length,
                                            max_chunk_tokens=self.batch_tokens)
            status.append([TRUNCATED if t else OK for t in truncated])
            chunks.extend(pack(tp, group, index=index) for group in groups)
        lengths = [len(c) for c in chunks]
        batches = token_budget_batches(lengths, self.batch_tokens)
        real, self.last_tokens = padded_size(lengths, batches)
        self.last_padding_waste = 1.0 - real / self.last_tokens if self.last_tokens else 0.0
        for batch in batches:
            members = [chunks[i] for i in batch]
            for chunk, p in zip(members, self._forward(members), strict=True):
                values[chunk.prompt][chunk.probes] = p
        n_trunc = sum(s.count(TRUNCATED) for s in status)
        if n_trunc:
            logger.info("%d probe(s) not judged: prompt longer than max_length=%d", n_trunc,
                        self.max_length)
        return [ProbeScores.from_values(v, s) for v, s in zip(values, status, strict=True)]

    def _forward(self, chunks: Sequence[PackedChunk]) -> list[np.ndarray]:
        import torch

        ids, _ = pad_right([c.input_ids for c in chunks], self._pad_id())
        width = ids.shape[1]
        filler = np.arange(width)
        position = np.zeros_like(ids)
        context_end = np.zeros_like(ids)
        own_start = np.tile(filler, (len(chunks), 1))  # padding sees only itself
        for row, c in enumerate(chunks):
            n = len(c)
            position[row, :n], context_end[row, :n], own_start[row, :n] = (
                c.position_ids, c.context_end, c.own_start)
        device = self.model.device
        boolean = self.model.config._attn_implementation == "sdpa"
        mask = tree_attention_mask(torch.from_numpy(context_end).to(device),
                                   torch.from_numpy(own_start).to(device),
                                   None if boolean else self.model.dtype)
        with torch.inference_mode():
            hidden = self.model.base_model(
                input_ids=torch.from_numpy(ids).to(device),
                position_ids=torch.from_numpy(position).to(device),
                attention_mask=mask, use_cache=False).last_hidden_state
            rows = np.concatenate([np.full(len(c.readout), r) for r, c in enumerate(chunks)])
            cols = np.concatenate([c.readout for c in chunks])
            logits = label_logits(hidden[torch.from_numpy(rows), torch.from_numpy(cols)],
                                  self.model.get_output_embeddings(), self.label_ids,
                                  softcap=getattr(self.model.config,
                                                  "final_logit_softcapping", None))
            p = torch.sigmoid(logits[:, 0] - logits[:, 1]).double().cpu().numpy()
        return np.split(p, np.cumsum([len(c.readout) for c in chunks])[:-1])

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


def tree_attention_mask(context_end: Any, own_start: Any, dtype: Any) -> Any:
    """4-D mask: token ``i`` sees ``[0, context_end[i])`` and ``[own_start[i], i]``.

    Parameters
    ----------
    context_end, own_start : torch.Tensor
        Shape ``(batch, length)``, as in :class:`~.packing.PackedChunk`.
    dtype : torch.dtype or None
        ``None`` for a boolean mask (True = attend; what ``sdpa`` takes, at an eighth of the
        memory), else an additive mask in this dtype (0 or its most negative value; what
        ``eager`` attention takes).

    Returns
    -------
    torch.Tensor
        Shape ``(batch, 1, length, length)``.
    """
    import torch

    key = torch.arange(context_end.shape[1], device=context_end.device)
    query = key[:, None]
    allowed = ((key < context_end[:, :, None])
               | ((key >= own_start[:, :, None]) & (key <= query)))[:, None]
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
