"""End-to-end forecasting: target-model resolution, feature gathering, forecast tables."""

from __future__ import annotations

import pandas as pd
import pytest

from metaq.exceptions import InvalidParameterError
from metaq.forecasting import resolve_target_models

STUDY_MODELS = pd.DataFrame({"name": ["Bielik-11B-v2.6-Instruct", "PLLuM-8B-instruct"],
                             "params_b": [11.0, 8.0], "family": ["mistral", "llama"]})


def test_seen_models_get_their_size_and_family_by_name():
    resolved = resolve_target_models(["PLLuM-8B-instruct", {"name": "Bielik-11B-v2.6-Instruct"}],
                                     STUDY_MODELS)
    assert resolved.to_dict(orient="list") == {
        "name": ["PLLuM-8B-instruct", "Bielik-11B-v2.6-Instruct"],
        "params_b": [8.0, 11.0], "family": ["llama", "mistral"]}


def test_unseen_model_needs_a_size():
    with pytest.raises(InvalidParameterError, match=r"'qwen-3b' has no size.*--params-b 3"):
        resolve_target_models(["qwen-3b"], STUDY_MODELS)


def test_unseen_model_with_size_and_default_family():
    resolved = resolve_target_models([{"name": "big", "params_b": "70"}], STUDY_MODELS)
    assert resolved.iloc[0].to_dict() == {"name": "big", "params_b": 70.0, "family": "unknown"}


@pytest.mark.parametrize("size", [0, -3, "three", float("inf")])
def test_bad_sizes_are_refused(size):
    with pytest.raises(InvalidParameterError, match="must be a positive number"):
        resolve_target_models([{"name": "m", "params_b": size}], STUDY_MODELS)


def test_contradicting_size_of_a_seen_model_is_refused():
    with pytest.raises(InvalidParameterError, match="seen in training with params_b=8"):
        resolve_target_models([{"name": "PLLuM-8B-instruct", "params_b": 70}], STUDY_MODELS)


def test_no_targets_means_every_training_model():
    assert resolve_target_models(None, STUDY_MODELS).equals(STUDY_MODELS)
