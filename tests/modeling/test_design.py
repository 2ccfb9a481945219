import numpy as np
import pandas as pd
import pytest

from metaq.datasets import study_path
from metaq.exceptions import SchemaError
from metaq.modeling.design import (
    MIN_LOG_SIZE_SD,
    MIN_RELATIVE_SCALE,
    Encoding,
    FeatureScaler,
    as_features_table,
    as_runs_table,
    build_training_data,
    choose_features,
    metric_blocks,
)
from metaq.modeling.pymc_model import prior_budget


@pytest.fixture(scope="module")
def study():
    return as_runs_table(study_path("runs")), as_features_table(study_path("features"))


def test_scaler_standardises_over_datasets_and_round_trips(study):
    _, features = study
    scaler = FeatureScaler.fit(features, ["redundancy_ratio"])
    raw = np.array([0.623, 0.441, 0.622, 0.629])  # Detailed, Summarized, BabyThink, Lengthy
    assert scaler.means[0] == pytest.approx(raw.mean())
    assert scaler.sds[0] == pytest.approx(raw.std(ddof=1))
    z = scaler.transform(features)[:, 0]
    assert z == pytest.approx((raw - raw.mean()) / raw.std(ddof=1))
    assert scaler.inverse_transform(z[:, None])[:, 0] == pytest.approx(raw)
    again = FeatureScaler.from_dict(scaler.to_dict())
    assert again.transform(features) == pytest.approx(scaler.transform(features))


def test_scaler_floors_the_scale_of_nearly_identical_training_datasets(study):
    _, features = study
    # leave Summarized out: the other three variants' redundancy ratios differ by 0.007
    train = features[features["dataset_id"] != "Summarized"]
    scaler = FeatureScaler.fit(train, ["redundancy_ratio"])
    raw = np.array([0.623, 0.622, 0.629])
    assert raw.std(ddof=1) < MIN_RELATIVE_SCALE * raw.mean()
    assert scaler.sds[0] == pytest.approx(MIN_RELATIVE_SCALE * raw.mean())
    assert scaler.floored.tolist() == [True]  # the floor, not the data, sets the unit
    # Summarized (0.441) is 3 scale units below the mean, not the 50 sds of the raw sd
    summarized = features[features["dataset_id"] == "Summarized"]
    assert scaler.transform(summarized)[0, 0] == pytest.approx(
        (0.441 - raw.mean()) / (MIN_RELATIVE_SCALE * raw.mean()))
    assert abs((0.441 - raw.mean()) / raw.std(ddof=1)) > 45


def test_scaler_marks_absent_columns_missing_and_scales_standard_errors():
    scaler = FeatureScaler(["a", "b"], np.array([1.0, 0.0]), np.array([2.0, 4.0]),
                           np.array([False, True]))
    table = pd.DataFrame({"a": [3.0], "a__se": [1.0]})
    assert scaler.transform(table)[0, 0] == pytest.approx(1.0)
    assert np.isnan(scaler.transform(table)[0, 1])
    assert scaler.transform_se(table)[0] == pytest.approx([0.5, 0.0])


def test_study_training_arrays_match_the_tables(study):
    runs, features = study
    names = choose_features(features, None)
    data, encoding, scaler = build_training_data(runs, features, names, likelihood="binomial",
                                                 target="logit")
    assert len(names) == 14 and scaler.features == names
    assert data.x_obs.shape == (4, 14) and not data.has_measurement_error
    assert len(data.run_row) == 72
    assert encoding.feature_level == "dataset"
    assert encoding.tasks["label"].tolist()[6:9] == ["mot_pl_eval/code", "mot_pl_eval/math",
                                                     "mot_pl_eval/science"]
    # BabyThink x Bielik x lightr1: 0.266 * 900 successes
    first = runs.index[(runs["dataset_id"] == "BabyThink") & (runs["benchmark"] == "lightr1")
                       & (runs["base_model"] == "Bielik-11B-v2.6-Instruct")][0]
    assert data.k_ft[first] == round(0.266 * 900) and data.n_ft[first] == 900
    # one untuned observation per (model, task), not one per run
    assert len(data.k_base) == 18
    bielik = encoding.model_index(["Bielik-11B-v2.6-Instruct"])[0]
    code = encoding.task_index(["mot_pl_eval"], ["code"])[0]
    cell = np.flatnonzero((data.base_cells[:, 0] == bielik) & (data.base_cells[:, 1] == code))
    assert data.k_base[cell].item() == round(0.175 * 153)
    # two sizes span 0.32 log units, less than the floor of 1: a unit is a factor e in size
    assert encoding.log_size_sd == MIN_LOG_SIZE_SD
    assert encoding.size_z([8.0, 11.0]) == pytest.approx(np.array([-1, 1]) * np.log(11 / 8) / 2)
    # every run knows its dataset (the unexplained dataset effect is indexed by it)
    assert sorted(data.datasets) == ["BabyThink", "Detailed", "Lengthy", "Summarized"]
    assert (np.asarray(data.datasets)[data.run_dataset] == runs["dataset_id"]).all()


def test_student_t_arrays_are_the_scaled_target(study):
    runs, features = study
    data, _, _ = build_training_data(runs, features, ["validity"], likelihood="student_t",
                                     target="abs")
    delta = (runs["score_ft"] - runs["score_base"]).to_numpy()
    assert data.y_scale == pytest.approx(delta.std(ddof=1))
    assert data.y * data.y_scale == pytest.approx(delta)


def test_unknown_feature_lists_the_available_ones(study):
    _, features = study
    with pytest.raises(SchemaError, match=r"\['helpfulness'\].*available: \['syntactic_depth'"):
        choose_features(features, ["validity", "helpfulness"])


def test_runs_without_features_are_refused(study):
    runs, features = study
    with pytest.raises(SchemaError, match=r"\['Lengthy'\] have runs but no row"):
        build_training_data(runs, features[features["dataset_id"] != "Lengthy"], ["validity"],
                            likelihood="binomial", target="logit")


def test_missing_training_value_is_latent_and_named(study, caplog):
    runs, features = study
    holed = features.copy()
    holed.loc[holed["dataset_id"] == "Summarized", "utility"] = np.nan
    data, _, _ = build_training_data(runs, holed, ["utility"], likelihood="binomial",
                                     target="logit")
    assert "{'utility': ['Summarized']} are latent in the fit" in caplog.text
    row = data.feature_rows.index[data.feature_rows["dataset_id"] == "Summarized"][0]
    assert np.isnan(data.x_obs[row, 0]) and data.has_missing_features


def test_constant_feature_is_dropped_with_a_warning(study, caplog):
    runs, features = study
    flat = features.assign(constant=1.0)
    _, _, scaler = build_training_data(runs, flat, ["validity", "constant"],
                                       likelihood="binomial", target="logit")
    assert scaler.features == ["validity"]
    assert "constant" in caplog.text


def test_domain_level_features_are_used_when_they_match(study):
    runs, features = study
    domains = features.assign(domain="math")
    both = pd.concat([features, domains], ignore_index=True)
    both.loc[both["domain"] == "math", "validity"] += 0.01
    data, encoding, _ = build_training_data(runs, both, ["validity"], likelihood="binomial",
                                            target="logit")
    assert encoding.feature_level == "domain"
    assert len(data.x_obs) == 8  # 4 whole-dataset rows and 4 math rows
    math_runs = (runs["domain"] == "math").to_numpy()
    assert (data.feature_rows["domain"].to_numpy()[data.run_row[math_runs]] == "math").all()


def _encoding():
    models = pd.DataFrame({"name": ["a", "b"], "params_b": [8.0, 11.0],
                           "family": ["llama", "mistral"]}).astype({"name": object,
                                                                    "family": object})
    tasks = pd.DataFrame({"benchmark": ["x", "y"], "domain": ["", "d"],
                          "label": ["x", "y/d"]}, dtype=object)
    return Encoding(models, tasks, 2.0, 0.2, "dataset", np.array([[0.5, np.nan], [0.6, 0.7]]))


def test_encoding_round_trips_through_json():
    import json

    encoding = _encoding()
    again = Encoding.from_dict(json.loads(json.dumps(encoding.to_dict())))
    assert again.models.equals(encoding.models)
    np.testing.assert_array_equal(again.base_scores, encoding.base_scores)
    assert again.size_z([8.0]) == pytest.approx(encoding.size_z([8.0]))


def test_constant_features_are_dropped_and_remembered_near_copies_share_a_block(study):
    runs, features = study
    features = features.assign(lora=0.0, twin=2 * features["redundancy_ratio"] + 1)
    names = ["redundancy_ratio", "twin", "symbolic_fraction", "lora"]
    data, _, scaler = build_training_data(runs, features, names, likelihood="binomial",
                                          target="logit")
    assert scaler.features == ["redundancy_ratio", "twin", "symbolic_fraction"]
    assert data.constant_features == {"lora": 0.0}
    blocks = data.feature_blocks.tolist()
    assert blocks[0] == blocks[1]  # an exact affine copy
    assert prior_budget(data.feature_blocks, 3)[:2] == pytest.approx(
        [1 / np.sqrt(len(set(blocks)) * 2)] * 2)


def test_two_training_datasets_span_one_direction():
    table = pd.DataFrame({"a": [1.0, 2.0], "b": [5.0, 3.0], "c": [0.1, 0.7]})
    assert metric_blocks(table, ["a", "b", "c"]).tolist() == [0, 0, 0]
