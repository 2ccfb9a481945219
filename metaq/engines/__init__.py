"""Model back-ends behind one small interface (:mod:`metaq.engines.base`).

- :class:`~metaq.engines.causal_lm.TransformersEngine`: token log-likelihoods under a causal
  LM with transformers (CPU or CUDA); the tested default for perplexity.
- :class:`~metaq.engines.embedders.SentenceTransformerEngine` and
  :class:`~metaq.engines.embedders.WordLlamaEngine`: sentence embeddings, with two offline
  defaults shipped in PyPI wheels (:func:`~metaq.engines.embedders.load_embedding_engine`).
- :class:`~metaq.engines.vllm_engine.VLLMEngine`: both protocols over vLLM (extra ``vllm``).

Reusable plumbing: :mod:`~metaq.engines.loading` (model loading, device and dtype choice,
offline-aware errors), :mod:`~metaq.engines.batching` (length sorting, token-budget batches,
right padding, padding waste), :mod:`~metaq.engines.windows` (long sequences, prefix token).

Importing this package imports neither torch nor any model library; they load when an
engine is built.
"""
