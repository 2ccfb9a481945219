"""Load Hugging Face models for scoring: device and dtype choice, offline-aware errors.

Shared by every transformers-based piece (the perplexity engine, the FVCU judge): a model is
given by hub id or local folder; ``device="auto"`` picks CUDA when present; ``dtype="auto"``
picks bfloat16 on a GPU that supports it and float32 on the CPU (bf16 matmuls on a CPU are
slow and lose precision). ``HF_HUB_OFFLINE=1`` is honoured by transformers itself; a model
that cannot be found raises :class:`~metaq.exceptions.ModelNotFoundError` saying whether the
hub was offline and how to fix it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from metaq._optional import require
from metaq.exceptions import MetaqError, ModelNotFoundError

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

DTYPES = ("auto", "float32", "bfloat16", "float16")
Dtype = Literal["auto", "float32", "bfloat16", "float16"]


def resolve_device(device: str = "auto") -> str:
    """Turn ``"auto"`` into ``"cuda"`` when a GPU is visible, else ``"cpu"``.

    Parameters
    ----------
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Returns
    -------
    str
        A device string torch accepts.

    Raises
    ------
    MetaqError
        When a CUDA device is asked for and none is visible.
    """
    torch = require("torch", extra="extract", purpose="model-based extraction")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise MetaqError(f"device={device!r} was asked for but no CUDA device is visible; "
                         "use device='cpu' or 'auto'")
    return device


def resolve_dtype(dtype: Dtype, device: str) -> torch.dtype:
    """Turn a dtype name into a torch dtype; ``"auto"`` is bf16 on a capable GPU, else fp32.

    Parameters
    ----------
    dtype : {"auto", "float32", "bfloat16", "float16"}
        Requested weight and activation dtype.
    device : str
        The resolved device (see :func:`resolve_device`).

    Returns
    -------
    torch.dtype

    Raises
    ------
    MetaqError
        When ``dtype`` is not one of :data:`DTYPES`.
    """
    torch = require("torch", extra="extract", purpose="model-based extraction")
    if dtype not in DTYPES:
        raise MetaqError(f"dtype={dtype!r} is not supported; use one of {', '.join(DTYPES)}")
    if dtype == "auto":
        on_gpu = device.startswith("cuda")
        return torch.bfloat16 if on_gpu and torch.cuda.is_bf16_supported() else torch.float32
    return getattr(torch, dtype)


def _hub_offline() -> bool:
    return any(os.environ.get(name, "").lower() in ("1", "true", "yes", "on")
               for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _not_found(kind: str, name: str, err: Exception) -> ModelNotFoundError:
    where = ("the Hugging Face hub is offline (HF_HUB_OFFLINE=1) and it is not in the local "
             "cache" if _hub_offline() else "it is neither a local folder nor a hub id that "
             "could be downloaded")
    return ModelNotFoundError(
        f"cannot load the {kind} {name!r}: {where}. Pass a local folder holding config.json "
        f"and the tokenizer files, or download it first (`huggingface-cli download {name}`) "
        f"on a machine with network access. ({type(err).__name__}: {err})")


def from_pretrained(loader: Any, name: str | Path, *, kind: str, **kwargs: Any) -> Any:
    """Call ``loader.from_pretrained(name, **kwargs)``, turning 'not found' into a clear error.

    Parameters
    ----------
    loader : type
        A transformers ``Auto*`` class (or any class with ``from_pretrained``).
    name : str or Path
        Hub id or local folder.
    kind : str
        What is loaded, for the message (``"causal LM"``, ``"tokenizer"``...).
    **kwargs
        Passed to ``from_pretrained``.

    Returns
    -------
    object
        What ``from_pretrained`` returns.

    Raises
    ------
    ModelNotFoundError
        When the id or path cannot be resolved (offline, typo, missing folder).
    """
    local = Path(name).expanduser()
    if local.exists():
        kwargs.setdefault("local_files_only", True)
        name = local
    try:
        return loader.from_pretrained(str(name), **kwargs)
    except (OSError, ValueError) as err:  # hub/validation errors subclass these
        raise _not_found(kind, str(name), err) from err


def load_tokenizer(name: str | Path) -> Any:
    """Load a tokenizer by hub id or local path (see :func:`from_pretrained`).

    Parameters
    ----------
    name : str or Path
        Hub id or local folder.

    Returns
    -------
    transformers.PreTrainedTokenizerBase
    """
    transformers = require("transformers", extra="extract", purpose="loading a tokenizer")
    return from_pretrained(transformers.AutoTokenizer, name, kind="tokenizer")


def load_causal_lm(name: str | Path, *, device: str = "auto",
                   dtype: Dtype = "auto") -> tuple[Any, Any]:
    """Load a causal LM and its tokenizer, in eval mode, on ``device`` in ``dtype``.

    Parameters
    ----------
    name : str or Path
        Hub id (e.g. ``"Qwen/Qwen3-4B"``, needs the hub or its cache) or local folder.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"``.
    dtype : {"auto", "float32", "bfloat16", "float16"}
        ``"auto"``: bf16 on GPU, fp32 on CPU.

    Returns
    -------
    tuple
        ``(model, tokenizer)``.

    Raises
    ------
    ModelNotFoundError
        When the model or tokenizer cannot be found.
    MissingDependencyError
        When torch or transformers is not installed.

    Examples
    --------
    >>> model, tokenizer = load_causal_lm("path/to/model", device="cpu")  # doctest: +SKIP
    """
    transformers = require("transformers", extra="extract", purpose="loading a causal LM")
    device = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, device)
    tokenizer = load_tokenizer(name)
    model = from_pretrained(transformers.AutoModelForCausalLM, name, kind="causal LM",
                            dtype=torch_dtype)
    model.to(device).eval()
    logger.info("loaded causal LM %s on %s in %s (%.1fM parameters)", name, device,
                torch_dtype, sum(p.numel() for p in model.parameters()) / 1e6)
    return model, tokenizer


def max_positions(model: Any, tokenizer: Any | None = None) -> int:
    """Longest sequence the model accepts, from its config (or the tokenizer's limit).

    Parameters
    ----------
    model : transformers.PreTrainedModel
    tokenizer : transformers.PreTrainedTokenizerBase, optional

    Returns
    -------
    int
        ``max_position_embeddings`` / ``n_positions`` of the config; else the tokenizer's
        ``model_max_length`` when it is a real limit; else 2048.
    """
    config = model.config
    for attr in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        value = getattr(config, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    limit = getattr(tokenizer, "model_max_length", None)
    return int(limit) if isinstance(limit, int) and 0 < limit < 1_000_000 else 2048
