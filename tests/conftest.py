"""Shared test set-up: offline hubs, headless plots, opt-in slow and browser tests."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="run tests marked slow")
    parser.addoption("--run-browser", action="store_true", help="run tests marked browser")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_slow = pytest.mark.skip(reason="slow: pass --run-slow")
    skip_browser = pytest.mark.skip(reason="browser: pass --run-browser")
    for item in items:
        if "slow" in item.keywords and not config.getoption("--run-slow"):
            item.add_marker(skip_slow)
        if "browser" in item.keywords:
            if not config.getoption("--run-browser"):
                item.add_marker(skip_browser)
            elif shutil.which("chromium") is None:
                item.add_marker(pytest.mark.skip(reason="chromium is not installed"))
        if "gpu" in item.keywords and not _has_cuda():
            item.add_marker(pytest.mark.skip(reason="no CUDA device"))


def _has_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261126)
