"""The one reading of target models and benchmarks that every forecaster uses."""

from __future__ import annotations

import pandas as pd
import pytest

from metaq.exceptions import InvalidParameterError, SchemaError
from metaq.modeling.query import resolve_target_models, resolve_tasks

KNOWN = pd.DataFrame({"name": ["Bielik-11B-v2.6-Instruct", "PLLuM-8B-instruct"],
                      "params_b": [11.0, 8.0], "family": ["mistral", "llama"]})
TASKS = pd.DataFrame({"benchmark": ["x", "y", "y"], "domain": ["", "", "d"],
                      "label": ["x", "y", "y/d"]}, dtype=object)


def test_seen_models_get_their_size_and_family_by_name():
    resolved = resolve_target_models(["PLLuM-8B-instruct", {"name": "Bielik-11B-v2.6-Instruct"}],
                                     KNOWN)
    assert resolved.to_dict(orient="list") == {
        "name": ["PLLuM-8B-instruct", "Bielik-11B-v2.6-Instruct"],
        "params_b": [8.0, 11.0], "family": ["llama", "mistral"]}


def test_names_tuples_mappings_and_frames_read_alike():
    as_tuple = resolve_target_models([("new", 30, "qwen")], KNOWN)
    as_mapping = resolve_target_models([{"target_model": "new", "params_b": "30",
                                         "family": "qwen"}], KNOWN)
    as_frame = resolve_target_models(pd.DataFrame({"name": ["new"], "params_b": [30.0],
                                                   "family": ["qwen"]}), KNOWN)
    assert as_tuple.equals(as_mapping) and as_tuple.equals(as_frame)
    assert resolve_target_models([("big", 70)], KNOWN).iloc[0].to_dict() == {
        "name": "big", "params_b": 70.0, "family": ""}


def test_unseen_model_needs_a_size():
    with pytest.raises(InvalidParameterError, match=r"'qwen-3b' was not in the training runs"):
        resolve_target_models(["qwen-3b"], KNOWN)


@pytest.mark.parametrize("size", [0, -3, "three", float("inf"), 1e300])
def test_bad_sizes_are_refused(size):
    with pytest.raises(InvalidParameterError, match="must be a positive number of billions"):
        resolve_target_models([{"name": "m", "params_b": size}], KNOWN)


def test_contradicting_size_of_a_seen_model_is_refused():
    with pytest.raises(InvalidParameterError, match="seen in training with params_b=8"):
        resolve_target_models([{"name": "PLLuM-8B-instruct", "params_b": 70}], KNOWN)
    # the same size spelled differently is fine
    assert resolve_target_models([("PLLuM-8B-instruct", "8")], KNOWN)["params_b"].item() == 8


def test_no_targets_means_every_training_model_and_an_empty_list_is_refused():
    assert resolve_target_models(None, KNOWN).equals(KNOWN.astype({"name": object,
                                                                   "family": object}))
    with pytest.raises(SchemaError, match="no target model given"):
        resolve_target_models([], KNOWN)


def test_tasks_default_to_the_whole_benchmarks_and_parse_labels_and_pairs(caplog):
    assert resolve_tasks(None, TASKS)["label"].tolist() == ["x", "y"]
    frame = resolve_tasks(["x", "y/d", ("z", "")], TASKS)
    assert frame["label"].tolist() == ["x", "y/d", "z"]
    assert frame["domain"].tolist() == ["", "d", ""]
    assert "'z' was not in the training runs" in caplog.text


def test_predict_and_the_explain_layer_read_targets_the_same_way():
    from fake_predictor import cached_fake_predictor

    from metaq.explain._model import resolve_benchmarks, resolve_targets

    fake_predictor = cached_fake_predictor()
    targets = [("huge", 400, ""), "small-1b"]
    assert resolve_targets(fake_predictor, targets).equals(
        fake_predictor.resolve_target_models(targets))
    forecast = fake_predictor.predict(
        pd.DataFrame({"dataset_id": ["a"], "validity": [0.9]}), targets, random_seed=0)
    assert forecast.rows["target_model"].unique().tolist() == ["huge", "small-1b"]
    assert forecast.rows["benchmark"].unique().tolist() == resolve_benchmarks(fake_predictor,
                                                                              None)
