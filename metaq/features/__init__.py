"""Metric extraction: one extractor per metric family, a runner that batches, caches and resumes."""

from metaq.features.base import Example, Extractor, mean_and_se

__all__ = ["Example", "Extractor", "mean_and_se"]
