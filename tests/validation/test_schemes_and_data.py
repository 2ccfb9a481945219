"""Cross-validation folds, the simulator and the published tables shipped in data/published."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metaq.datasets import data_path, study_path
from metaq.exceptions import InvalidParameterError, UnknownNameError
from metaq.modeling.simulate import simulate_runs
from metaq.tables import check_runs_have_features, read_features, read_runs
from metaq.validation import make_folds

PUBLISHED = ["tulu1_13b", "dart_math", "cherry_ifd_v2"]


def test_leave_one_dataset_out_on_the_study():
    runs = read_runs(study_path("runs"))
    folds = make_folds(runs, "loo-dataset")
    assert [f.name for f in folds] == ["dataset=BabyThink", "dataset=Detailed",
                                       "dataset=Lengthy", "dataset=Summarized"]
    for fold in folds:
        held = runs.iloc[fold.test]["dataset_id"].unique()
        assert len(held) == 1 and held[0] not in set(runs.iloc[fold.train]["dataset_id"])
        assert len(fold.train) + len(fold.test) == len(runs)


def test_leave_one_size_out_holds_out_every_model_of_that_size():
    runs = simulate_runs(n_datasets=2, params_b=(70.0, 1.0, 8.0), random_seed=0).runs
    folds = make_folds(runs, "loo-size")
    assert [f.name for f in folds] == ["size=1", "size=8", "size=70"]
    held = runs.iloc[folds[-1].test]
    assert set(held["params_b"]) == {70.0} and len(held) == len(runs) // 3


def test_kfold_partitions_the_runs_reproducibly():
    runs = read_runs(study_path("runs"))
    folds = make_folds(runs, "kfold", k=4, random_seed=3)
    tests = np.concatenate([f.test for f in folds])
    assert sorted(tests.tolist()) == list(range(len(runs)))
    assert [len(f.test) for f in folds] == [len(runs) // 4 + (i < len(runs) % 4)
                                            for i in range(4)]
    again = make_folds(runs, "kfold", k=4, random_seed=3)
    assert all((a.test == b.test).all() for a, b in zip(folds, again, strict=True))


def test_leave_one_study_out_holds_out_every_run_of_one_study():
    runs = simulate_runs(n_datasets=6, params_b=(1.0, 8.0), n_tasks=2, n_studies=3,
                         random_seed=0).runs
    folds = make_folds(runs, "loo-study")
    assert [f.name for f in folds] == ["study=study0", "study=study1", "study=study2"]
    for fold in folds:
        held = set(runs.iloc[fold.test]["study"])
        assert len(held) == 1 and not held & set(runs.iloc[fold.train]["study"])
        assert len(fold.train) + len(fold.test) == len(runs)
    assert sorted(np.concatenate([f.test for f in folds]).tolist()) == list(range(len(runs)))


def test_leave_one_study_out_needs_a_study_column():
    runs = read_runs(study_path("runs"))
    with pytest.raises(InvalidParameterError,
                       match=r"'loo-study'.*--scheme loo-study.*'study' column.*--runs"):
        make_folds(runs, "loo-study")
    with pytest.raises(InvalidParameterError, match=r"two studys|only study="):
        make_folds(runs.assign(study="one"), "loo-study")


def test_scheme_errors():
    runs = read_runs(data_path() / "published" / "tulu1_13b" / "runs.csv")
    with pytest.raises(InvalidParameterError, match=r"only params_b=\[13.0\].*kfold"):
        make_folds(runs, "loo-size")
    with pytest.raises(UnknownNameError, match="'loo-model'; choose one of"):
        make_folds(runs, "loo-model")
    with pytest.raises(InvalidParameterError, match="k=1 folds"):
        make_folds(runs, "kfold", k=1)


@pytest.mark.parametrize("name", PUBLISHED)
def test_published_tables_are_valid_and_complete(name):
    folder = data_path() / "published" / name
    runs = read_runs(folder / "runs.csv")
    features = read_features(folder / "features.csv", allow_missing=True)
    check_runs_have_features(runs, features)
    assert set(features["dataset_id"]) == set(runs["dataset_id"])
    assert runs["score_ft"].between(0, 1).all()


def test_published_values_against_the_source_tables():
    tulu = read_runs(data_path() / "published" / "tulu1_13b" / "runs.csv").set_index(
        ["dataset_id", "benchmark"])
    # Tulu 1 Table 3: SuperNI MMLU 49.7 vs vanilla LLaMA-13B 42.3
    assert tulu.loc[("superni", "mmlu"), ["score_base", "score_ft"]].tolist() == \
        pytest.approx([0.423, 0.497])
    dart = read_runs(data_path() / "published" / "dart_math" / "runs.csv").set_index(
        ["dataset_id", "base_model", "benchmark"])
    assert dart.loc[("dart_math_hard", "Llama-3-70B", "math"), "score_ft"] == \
        pytest.approx(0.561)
    assert pd.isna(dart.loc[("dart_math_hard", "Llama-3-70B", "math"), "score_base"])
    cherry = read_features(data_path() / "published" / "cherry_ifd_v2" / "features.csv",
                           allow_missing=True)
    five = cherry.set_index("dataset_id").loc["alpaca_ifd_5pct"]
    assert five["n_examples"] == 2600 and five["log_n_examples"] == pytest.approx(
        np.log(2600), abs=1e-4)
