"""Locations of the shipped data and models (package resources; see :mod:`metaq.datasets`)."""

from __future__ import annotations

from metaq.datasets import _data as _shipped
from metaq.datasets import default_predictor_path, study_path

DATA_DIR = _shipped()
MODELS_DIR = default_predictor_path().parent

STUDY_RUNS = study_path("runs")
STUDY_FEATURES = study_path("features")
SAMPLES_DIR = DATA_DIR / "samples"
