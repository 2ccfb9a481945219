"""Judge back-ends: read P(POSITIVE) for every probe of a trace, behind one interface.

- :mod:`.base`: the :class:`~.base.JudgeBackend` interface and its result type.
- :mod:`.packing`: one forward pass per trace for all its judgments (tree attention mask).
- :mod:`.transformers_backend`: the tested default (CPU/CUDA).
- :mod:`.vllm_backend`: vLLM with automatic prefix caching (optional extra ``vllm``).
- :mod:`.openai_backend`: any OpenAI-compatible server, through ``logprobs``.
- :func:`make_backend`: build one by engine name.
"""

from metaq.features.judge.scoring.base import ENGINES, JudgeBackend, ProbeScores, make_backend

__all__ = ["ENGINES", "JudgeBackend", "ProbeScores", "make_backend"]
