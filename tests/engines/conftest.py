"""Tiny local models for the engine tests (see tests/tiny_models.py)."""

from tiny_models import tiny_encoder, tiny_lm, trained_lm  # noqa: F401
