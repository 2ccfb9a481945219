"""The reasoning-era published tables in data/published: shape, units, item counts, values."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from metaq.datasets import data_path
from metaq.tables import check_runs_have_features, read_features, read_runs

PUBLISHED = data_path() / "published"
SOURCE = PUBLISHED / "source"

# name -> (datasets, models, benchmarks, runs): runs < product where the grid is incomplete
SHAPES = {
    "openthoughts2_7b": (6, 1, 6, 36),
    "limo_32b": (3, 1, 4, 12),
    "deita": (3, 3, 1, 7),
    "openthoughts1_verify": (2, 2, 5, 20),
}
ITEMS = {
    "openthoughts2_7b": {"aime24": 30, "aime25": 30, "amc23": 40, "math500": 500,
                         "gpqa_diamond": 198, "lcb_v2": 511},
    "limo_32b": {"aime24": 30, "amc23": 40, "math500": 500, "minerva_math": 272},
    "deita": {"alpaca_eval": 805},
    "openthoughts1_verify": {"aime24": 30, "aime25_i": 15, "math500": 500, "gpqa_diamond": 198,
                             "lcb_v2": 511},
}


def _tables(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = PUBLISHED / name
    return read_runs(folder / "runs.csv"), read_features(folder / "features.csv",
                                                         allow_missing=True)


@pytest.mark.parametrize("name", SHAPES)
def test_table_has_its_documented_shape(name):
    runs, features = _tables(name)
    check_runs_have_features(runs, features)
    n_datasets, n_models, n_benchmarks, n_runs = SHAPES[name]
    assert (runs["dataset_id"].nunique(), runs["base_model"].nunique(),
            runs["benchmark"].nunique(), len(runs)) == (n_datasets, n_models, n_benchmarks,
                                                         n_runs)
    assert len(features) == n_datasets == features["dataset_id"].nunique()
    assert set(features["dataset_id"]) == set(runs["dataset_id"])


@pytest.mark.parametrize("name", SHAPES)
def test_scores_are_fractions_and_items_are_the_benchmark_sizes(name):
    runs, _ = _tables(name)
    assert runs["score_ft"].between(0, 1).all()
    assert runs["score_base"].dropna().between(0, 1).all()
    sizes = runs.groupby("benchmark")["n_items"].unique().map(list).to_dict()
    assert sizes == {benchmark: [n] for benchmark, n in ITEMS[name].items()}


def test_only_limo_prints_the_untuned_model():
    for name in SHAPES:
        runs, _ = _tables(name)
        assert runs["score_base"].notna().all() if name == "limo_32b" else \
            runs["score_base"].isna().all()


def test_openthoughts2_against_the_blog_table():
    runs, features = _tables("openthoughts2_7b")
    cell = runs.set_index(["dataset_id", "benchmark"]).loc[("openr1_math_raw", "aime24")]
    assert cell["score_ft"] == pytest.approx(0.467) and cell["base_model"] == "Qwen2.5-7B-Instruct"
    rows = features.set_index("dataset_id")
    # sizes as printed: "1M" (Nemotron), "484K" (KodCode-V1)
    assert rows.loc["llama_nemotron_post_training_v1", "n_examples"] == 1_000_000
    assert rows.loc["kodcode_v1", "log_n_examples"] == pytest.approx(math.log(484_000), abs=1e-4)


def test_limo_against_table_3():
    runs, features = _tables("limo_32b")
    cell = runs.set_index(["dataset_id", "benchmark"]).loc[("limo", "aime24")]
    assert cell[["score_base", "score_ft"]].tolist() == pytest.approx([0.165, 0.571])
    assert cell["params_b"] == 32.0
    assert features.set_index("dataset_id").loc["limo", "n_examples"] == 817
    # benchmarks whose evaluation-set size is not established are left out
    assert not {"OlympiadBench", "CHMath", "Gaokao", "Kaoyan", "GradeSchool", "GPQA",
                "AVG."} & set(runs["benchmark_label"])


def test_deita_keeps_only_the_controlled_sft_rows():
    runs, features = _tables("deita")
    by_cell = runs.set_index(["dataset_id", "base_model"])["score_ft"]
    # README: Mistral-7B, Random 10K 56.90 vs DEITA 6K 80.78 (the SFT+DPO row is excluded)
    assert by_cell[("deita_random_10k", "Mistral-7B")] == pytest.approx(0.569)
    assert by_cell[("deita_6k", "Mistral-7B")] == pytest.approx(0.8078)
    assert len(by_cell.xs("deita_6k", level="dataset_id")) == 1
    rows = features.set_index("dataset_id")
    assert rows["selected"].to_dict() == {"deita_random_10k": 0.0, "deita_10k": 1.0,
                                          "deita_6k": 1.0}
    assert rows.loc["deita_6k", "n_examples"] == 6000


def test_openthoughts1_is_two_datasets_crossed_with_two_sizes():
    runs, features = _tables("openthoughts1_verify")
    assert sorted(runs["params_b"].unique()) == [7.0, 32.0]
    assert runs.groupby("dataset_id")["params_b"].nunique().eq(2).all()
    cell = runs.set_index(["dataset_id", "base_model", "benchmark"]).loc[
        ("openthoughts_unverified_173k", "Qwen2.5-7B-Instruct", "aime25_i")]
    assert cell["score_ft"] == pytest.approx(0.2933)
    assert features.set_index("dataset_id")["verified"].to_dict() == {
        "openthoughts_114k": 1.0, "openthoughts_unverified_173k": 0.0}


@pytest.mark.parametrize("name, source", [
    ("openthoughts2_7b", "openthoughts2_blog_existing_reasoning_datasets_7b.csv"),
    ("openthoughts1_verify", "openthoughts1_blog_verification_7b_32b.csv"),
])
def test_every_source_score_of_a_kept_benchmark_is_carried_over(name, source):
    runs, _ = _tables(name)
    printed = pd.read_csv(SOURCE / source, comment="#")["score"].sort_values().to_numpy()
    assert (runs["score_ft"].sort_values().to_numpy() * 100) == pytest.approx(printed)
