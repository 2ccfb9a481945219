"""The fake predictor with a hand-written posterior (tests/fake_predictor.py) as a fixture."""

from __future__ import annotations

import pytest
from fake_predictor import cached_fake_predictor


@pytest.fixture
def fake_predictor():
    return cached_fake_predictor()
