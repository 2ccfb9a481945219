"""``metaq explain`` in-process: every table, on the fake predictor's model file."""

from __future__ import annotations

import pandas as pd
import pytest
from fake_predictor import TRAINING, cached_fake_predictor, save_fake_predictor

from metaq.cli import main

CANDIDATES = pd.DataFrame({"dataset_id": ["good", "bad"], "validity": [0.95, 0.85],
                           "redundancy_ratio": [0.6, 0.4], "perplexity": [1.2, 1.8]})


@pytest.fixture(scope="module")
def fake_predictor():
    return cached_fake_predictor()


@pytest.fixture(scope="module")
def fake_predictor_file(tmp_path_factory):
    return save_fake_predictor(tmp_path_factory.mktemp("model"))


@pytest.fixture
def files(tmp_path, fake_predictor_file, fake_predictor):
    features = tmp_path / "features.csv"
    CANDIDATES.to_csv(features, index=False)
    forecast = fake_predictor.predict(TRAINING, ["small-1b", "large-70b"],
                                      include_run_noise=False, random_seed=0)
    runs = forecast.rows.rename(columns={"target_model": "base_model"})[
        ["dataset_id", "base_model", "params_b", "family", "benchmark"]].assign(
        score_base=0.5, score_ft=forecast.scores.mean(axis=0), n_items=900)
    runs_path, training_path = tmp_path / "runs.csv", tmp_path / "training.csv"
    runs.to_csv(runs_path, index=False)
    TRAINING.to_csv(training_path, index=False)
    return {"model": str(fake_predictor_file), "features": str(features),
            "runs": str(runs_path), "training": str(training_path), "dir": tmp_path}


def _explain(files, what, *extra):
    out = files["dir"] / f"{what}.csv"
    status = main(["explain", what, "--model", files["model"], *extra, "--out", str(out)])
    return status, (pd.read_csv(out) if status == 0 else None)


def test_importance_and_plot(files):
    plot = files["dir"] / "imp.png"
    status, table = _explain(files, "importance", "--target-model", "small-1b",
                             "--target-model", "huge", "--params-b", "400", "--plot", str(plot))
    assert status == 0 and plot.stat().st_size > 1000
    assert set(table["target_model"]) == {"small-1b", "huge"}
    assert {"estimate", "lower", "upper", "prob_positive"} <= set(table.columns)


def test_scale_contrast(files):
    status, table = _explain(files, "scale-contrast")
    assert status == 0
    row = table.query("feature == 'redundancy_ratio' and term == 'large - small'").iloc[0]
    assert row["prob_positive"] == 1.0


def test_permutation(files):
    status, table = _explain(files, "permutation", "--runs", files["runs"], "--features",
                             files["training"], "--permutations", "4")
    assert status == 0 and table["feature"].iloc[0] == "validity"


def test_contributions_of_one_dataset(files):
    status, table = _explain(files, "contributions", "--features", files["features"],
                             "--dataset", "good", "--target-model", "small-1b")
    assert status == 0 and set(table["dataset_id"]) == {"good"}


def test_whatif(files, capsys):
    status, table = _explain(files, "whatif", "--features", files["features"], "--dataset",
                             "good", "--set", "redundancy_ratio=-20%", "--set",
                             "validity=-0.05")
    assert status == 0
    assert table["change"].iloc[0] == "redundancy_ratio=-20%; validity=-0.05"
    assert "wrote" in capsys.readouterr().out


def test_sweep(files):
    status, table = _explain(files, "sweep", "--feature", "perplexity", "--grid", "1.2,1.5,1.8",
                             "--benchmarks", "bench_a")
    assert status == 0 and sorted(set(table["value"])) == [1.2, 1.5, 1.8]


def test_rank(files):
    status, table = _explain(files, "rank", "--features", files["features"],
                             "--target-model", "large-70b")
    assert status == 0 and table["dataset_id"].tolist() == ["good", "bad"]


def test_next_run(files):
    status, table = _explain(files, "next-run", "--features", files["features"],
                             "--candidate", "bad@large-70b", "--candidate", "bad@huge",
                             "--target-model", "huge", "--params-b", "400",
                             "--interest", "good")
    assert status == 0 and table["target_model"].iloc[0] == "huge"


@pytest.mark.parametrize(("args", "message"), [
    (["whatif", "--features", "{features}"], "needs at least one change"),
    (["whatif", "--features", "{features}", "--set", "validity=+0.5"], "valid range"),
    (["whatif", "--features", "{features}", "--set", "validty=0.9"], "did you mean 'validity'"),
    (["sweep", "--feature", "redundancy"], "did you mean 'redundancy_ratio'"),
    (["contributions", "--features", "{features}", "--dataset", "god"], "did you mean 'good'"),
    (["next-run", "--features", "{features}", "--candidate", "good"], "DATASET@MODEL"),
    (["next-run", "--features", "{features}", "--candidate", "Nope@small-1b"],
     "unknown dataset 'Nope'"),
    (["sweep", "--feature", "validity", "--plot", "{dir}/p.xyz"], "unknown format '.xyz'"),
    (["sweep", "--feature", "validity", "--plot", "{features}/p.png"], "is a file, so nothing"),
    (["importance", "--target-model", "nobody"], "'nobody' has no size"),
])
def test_bad_requests(files, capsys, args, message):
    args = [a.format(features=files["features"], dir=files["dir"]) for a in args]
    status = main(["explain", *args[:1], "--model", files["model"], *args[1:],
                   "--out", str(files["dir"] / "x.csv")])
    assert status == 2
    assert message in capsys.readouterr().err
