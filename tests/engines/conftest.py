"""Tiny local models for the engine tests, built once per session (tests/tiny_models.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_models import build_tiny_causal_lm, build_tiny_encoder


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Random-weight tiny GPT-2 (BPE tokenizer with BOS/EOS, no chat template)."""
    return build_tiny_causal_lm(tmp_path_factory.mktemp("tiny_lm"))


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Random-weight tiny BERT saved as a sentence-transformers folder (mean pooling)."""
    return build_tiny_encoder(tmp_path_factory.mktemp("tiny_encoder"), sentence_transformers=True)
