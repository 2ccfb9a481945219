"""Model files as users have them: foreign files, broken cards, edited scalers."""

from __future__ import annotations

import json
import pickle

import pytest
from fake_predictor import save_fake_predictor

from metaq.exceptions import IncompatibleModelError
from metaq.modeling import HierarchicalDeltaModel
from metaq.modeling.persistence import CARD_ATTR, card_id


def _edit_card(path, edit, *, reseal: bool = False) -> None:
    import xarray as xr

    with xr.open_dataset(path, group="posterior") as data:
        posterior = data.load()
    card = json.loads(posterior.attrs[CARD_ATTR])
    edit(card)
    if reseal:
        card["card_id"] = card_id(card)
    posterior.attrs[CARD_ATTR] = json.dumps(card)
    posterior.to_netcdf(path, group="posterior", mode="a")
    path.with_suffix(".json").unlink()


@pytest.mark.parametrize("content", [
    b"", b"\x89HDF\r\n\x1a\n" + b"\0" * 40, b"just some text, not netCDF\n",
    pickle.dumps({"a": 1}), bytes(range(256)) * 8,
], ids=["empty", "hdf5-signature-only", "text", "pickle", "random-bytes"])
def test_files_that_are_not_netcdf_are_refused(tmp_path, content):
    path = tmp_path / "model.nc"
    path.write_bytes(content)
    with pytest.raises(IncompatibleModelError, match=r"model.nc: not a readable metaq model "
                                                     r"file.*Fix:"):
        HierarchicalDeltaModel.load(path)


def test_a_truncated_model_file_is_refused(tmp_path):
    path = save_fake_predictor(tmp_path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    path.with_suffix(".json").unlink()
    with pytest.raises(IncompatibleModelError, match="not a readable metaq model file"):
        HierarchicalDeltaModel.load(path)


def test_round_trip_and_a_broken_json_card_beside_it(tmp_path):
    path = save_fake_predictor(tmp_path)
    assert HierarchicalDeltaModel.load(path).features_ == ["validity", "redundancy_ratio",
                                                           "perplexity"]
    path.with_suffix(".json").write_text('{"spec_id": ')
    with pytest.raises(IncompatibleModelError, match=r"fake.json: the model card is not valid "
                                                     r"JSON"):
        HierarchicalDeltaModel.load(path)


def test_an_edited_scaler_is_refused(tmp_path):
    path = save_fake_predictor(tmp_path)
    _edit_card(path, lambda card: card["state"]["feature_scaler"].update(sds=[0.0, 0.0, 0.0]))
    with pytest.raises(IncompatibleModelError, match=r"does not match its card_id.*scalers"):
        HierarchicalDeltaModel.load(path)


def test_a_resealed_card_with_another_spec_is_refused(tmp_path):
    path = save_fake_predictor(tmp_path)
    _edit_card(path, lambda card: card["spec"].update(target="rel"), reseal=True)
    with pytest.raises(IncompatibleModelError, match="does not match its spec_id"):
        HierarchicalDeltaModel.load(path)


def test_an_edited_copy_of_the_card_beside_the_file_is_refused(tmp_path):
    path = save_fake_predictor(tmp_path)
    beside = path.with_suffix(".json")
    card = json.loads(beside.read_text())
    card["state"]["y_scale"] = 2.0
    beside.write_text(json.dumps(card))
    with pytest.raises(IncompatibleModelError, match="does not belong to"):
        HierarchicalDeltaModel.load(path)


def test_edited_draws_are_refused(tmp_path):
    import xarray as xr

    path = save_fake_predictor(tmp_path)
    with xr.open_dataset(path, group="posterior") as data:
        posterior = data.load()
    posterior["slope"] = posterior["slope"] * 2
    posterior.to_netcdf(path, group="posterior", mode="a")
    with pytest.raises(IncompatibleModelError, match="posterior draws do not match"):
        HierarchicalDeltaModel.load(path)
