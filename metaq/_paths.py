"""Locations of the data and models that ship with a metaq source checkout."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
MODELS_DIR = REPO_ROOT / "models"

STUDY_RUNS = DATA_DIR / "study" / "runs.csv"
STUDY_FEATURES = DATA_DIR / "study" / "features.csv"
SAMPLES_DIR = DATA_DIR / "samples"
