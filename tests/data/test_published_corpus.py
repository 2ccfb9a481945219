"""The corpus of published fine-tuning results in data/published: contracts, one vocabulary,
one identity per dataset / base model / benchmark, and a rebuild that reproduces the files."""

from __future__ import annotations

import importlib.util
import math
import sys

import numpy as np
import pandas as pd
import pytest

from metaq.datasets import data_path
from metaq.tables import check_runs_have_features, read_features, read_runs

PUBLISHED = data_path() / "published"
VOCABULARY = ["log_n_examples", "teacher_params_b", "human_written", "long_cot", "selected",
              "verified", "domain_math", "domain_code", "domain_science", "domain_general",
              "lora"]
BINARY = [c for c in VOCABULARY if c not in ("log_n_examples", "teacher_params_b")]
# what a dataset is, wherever it appears (the LoRA flag belongs to the run, see below)
IDENTITY = [c for c in VOCABULARY if c != "lora"] + ["n_examples", "meta__teacher"]
MANIFEST = pd.read_csv(PUBLISHED / "manifest.csv")


def _table(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = PUBLISHED / name
    return read_runs(folder / "runs.csv"), read_features(folder / "features.csv",
                                                         allow_missing=True)


@pytest.fixture(scope="module")
def corpus() -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    return {name: _table(name) for name in MANIFEST["table"]}


@pytest.fixture(scope="module")
def benchmarks() -> pd.DataFrame:
    table = pd.read_csv(PUBLISHED / "benchmarks.csv", comment="#", keep_default_na=False,
                        na_values=[""])
    return table.fillna({"subset": ""}).set_index(["benchmark", "subset"])


@pytest.mark.parametrize("name", MANIFEST["table"])
def test_every_table_meets_the_contracts_and_its_manifest_row(name, corpus):
    runs, features = corpus[name]
    check_runs_have_features(runs, features)
    assert set(features["dataset_id"]) == set(runs["dataset_id"])
    row = MANIFEST.set_index("table").loc[name]
    assert (row["n_datasets"], row["n_base_models"], row["n_runs"]) == (
        runs["dataset_id"].nunique(), runs["base_model"].nunique(), len(runs))
    assert runs["study"].eq(row["study"]).all()
    assert row["tier"] in {"A", "B", "C", "study"}
    assert row["design"] in {"controlled", "before_after", "single_dataset"}
    if row["design"] == "controlled":
        per_model = runs.groupby("base_model")["dataset_id"].nunique()
        assert per_model.max() >= 2  # several datasets on one base model
    untuned = runs["score_base"].notna()
    assert row["has_untuned_scores"] == ("all" if untuned.all() else
                                         "some" if untuned.any() else "none")


@pytest.mark.parametrize("name", MANIFEST["table"])
def test_every_features_table_has_the_vocabulary(name, corpus):
    runs, features = corpus[name]
    assert set(VOCABULARY) <= set(features.columns)
    assert {"n_examples", "meta__teacher", "meta__source"} <= set(features.columns)
    for column in BINARY:
        assert features[column].dropna().isin([0.0, 1.0]).all(), column
    sized = features["n_examples"].notna()
    assert np.allclose(features.loc[sized, "log_n_examples"],
                       np.log(features.loc[sized, "n_examples"].astype(float)), atol=1e-4)
    assert features.loc[~sized, "log_n_examples"].isna().all()
    # a property nobody stated stays missing: no dataset's teacher size without its teacher
    assert (features["meta__teacher"] != "").where(features["teacher_params_b"].notna(),
                                                   True).all()
    # human-written data has no teacher
    human = features["human_written"] == 1
    assert features.loc[human, "teacher_params_b"].isna().all()
    # LoRA is a property of the run: the runs table carries it, and a LoRA run's dataset_id
    lora_id = runs["dataset_id"].str.endswith("__lora")
    assert runs["lora"].eq(lora_id.astype(int)).all()
    by_id = features.set_index("dataset_id")["lora"]
    assert (by_id == by_id.index.str.endswith("__lora")).all()


def test_shared_datasets_have_one_set_of_properties(corpus):
    rows = pd.concat([features.assign(table=name) for name, (_, features) in corpus.items()])
    rows = rows.assign(data=rows["dataset_id"].str.removesuffix("__lora"))
    shared = rows.groupby("data")["table"].nunique()
    assert {"openthoughts_114k", "alpaca", "metamathqa", "bespoke_stratos_17k",
            "sky_t1_data_17k", "limo", "s1k"} <= set(shared[shared > 1].index)
    for column in IDENTITY:
        values = rows[column].astype(str)  # NaN as "nan", so a gap also has to agree
        distinct = values.groupby(rows["data"]).nunique()
        assert distinct.max() == 1, (column, distinct[distinct > 1].index.tolist())
    openthoughts = rows[rows["data"] == "openthoughts_114k"]
    assert set(openthoughts["table"]) >= {"openthoughts2_7b", "limo_32b", "openthoughts1_verify"}
    assert openthoughts[["teacher_params_b", "verified", "long_cot"]].drop_duplicates() \
        .values.tolist() == [[671.0, 1.0, 1.0]]


def test_base_models_have_one_size_and_family(corpus):
    runs = pd.concat([r for r, _ in corpus.values()])
    models = runs.groupby("base_model")[["params_b", "family"]].nunique()
    assert models.max().max() == 1
    registry = pd.read_csv(PUBLISHED / "base_models.csv", comment="#").set_index("base_model")
    assert set(runs["base_model"]) == set(registry.index)
    both = runs.drop_duplicates("base_model").set_index("base_model")
    assert (both["params_b"] == registry.loc[both.index, "params_b"]).all()
    assert (both["family"] == registry.loc[both.index, "family"]).all()
    assert {"Qwen2.5-32B-Instruct", "Llama-2-7B", "Mistral-7B"} <= set(
        runs.groupby("base_model")["study"].nunique().loc[lambda s: s > 1].index)


def test_every_benchmark_has_a_domain_and_its_public_size(corpus, benchmarks):
    runs = pd.concat([r.assign(table=name) for name, (r, _) in corpus.items()])
    keys = pd.MultiIndex.from_frame(runs[["benchmark", "domain"]])
    assert keys.isin(benchmarks.index).all(), sorted(set(keys[~keys.isin(benchmarks.index)]))
    assert set(keys) == set(benchmarks.index)  # and the map lists no benchmark the corpus lacks
    for domains in benchmarks["domain"]:
        assert set(domains.split("+")) <= {"math", "code", "science", "general"}
    public = benchmarks.loc[keys, "n_items"].to_numpy()
    items = runs["n_items"].to_numpy(dtype=float)
    given = ~np.isnan(items)
    assert np.array_equal(items[given], public[given])
    # a benchmark of known size goes without a count only in a table whose study evaluated
    # sets of unknown size (its manifest row says so): Tulu 1's subsets, for example
    unstated = ~given & ~np.isnan(public.astype(float))
    uncounted = set(MANIFEST.loc[MANIFEST["has_item_counts"] == "none", "table"])
    assert "tulu1_13b" in set(runs.loc[unstated, "table"]) and \
        set(runs.loc[unstated, "table"]) <= uncounted


def test_domain_match_follows_the_dataset_and_benchmark_domains(corpus, benchmarks):
    runs, features = corpus["sky_t1_32b"]
    match = runs.set_index("benchmark")["domain_match"]
    # Sky-T1 data covers code, math and science, not general
    assert match["math500"] == 1 and match["gpqa_diamond"] == 1 and match["lcb_easy"] == 1
    assert match["mmlu"] == 0 and match["ifeval"] == 0
    runs, _ = corpus["structure_not_content_32b"]  # the QwQ/R1 samples' domains are not stated
    assert runs["domain_match"].isna().all()
    runs, _ = corpus["reference_study"]
    sub = runs[runs["benchmark"] == "mot_pl_eval"].set_index("domain")["domain_match"]
    assert sub.eq(1).all() and runs.loc[runs["benchmark"] == "bel_pl", "domain_match"].eq(0).all()


def test_reference_study_is_data_study_with_the_corpus_columns(corpus):
    runs, features = corpus["reference_study"]
    study_runs = read_runs(data_path() / "study" / "runs.csv")
    key = ["dataset_id", "base_model", "benchmark", "domain"]
    merged = study_runs.merge(runs, on=key, suffixes=("", "_corpus"), validate="one_to_one")
    assert len(merged) == len(study_runs) == len(runs) == 72
    for column in ["params_b", "family", "score_base", "score_ft", "n_items"]:
        assert (merged[column] == merged[f"{column}_corpus"]).all(), column
    study_features = read_features(data_path() / "study" / "features.csv").set_index("dataset_id")
    corpus_features = features.set_index("dataset_id").loc[study_features.index]
    metrics = [c for c in study_features.columns if c != "domain" and not c.startswith("meta__")]
    assert np.allclose(corpus_features[metrics].astype(float),
                       study_features[metrics].astype(float))
    assert corpus_features["long_cot"].to_dict() == {"Detailed": 1, "Summarized": 0,
                                                     "BabyThink": 1, "Lengthy": 1}


def test_new_tables_against_their_sources(corpus):
    runs, features = corpus["s1_ablations_32b"]
    cell = runs.set_index(["dataset_id", "benchmark"])["score_ft"]
    assert cell[("s1k", "aime24")] == pytest.approx(0.5)  # Table 2: s1K AIME2024 50.0
    assert cell[("s1_59k_full", "gpqa_diamond")] == pytest.approx(0.581)
    assert features.set_index("dataset_id").loc["s1_59k_full", "n_examples"] == 59029
    runs, features = corpus["structure_not_content_32b"]
    cell = runs.set_index(["dataset_id", "benchmark"])
    # Table 1: 17k QwQ samples, LoRA r=64, AMC23 90.0 (full SFT 70.0); untuned 67.5
    assert cell.loc[("sncontent_qwq_17k__lora", "amc23"), ["score_base", "score_ft"]] \
        .tolist() == pytest.approx([0.675, 0.9])
    assert cell.loc[("sncontent_qwq_17k", "amc23"), "score_ft"] == pytest.approx(0.7)
    runs, _ = corpus["cherry_ifd_v1"]
    assert "wizardlm_ifd_v1_20pct" not in set(runs["dataset_id"])  # its label is UNCERTAIN
    shared = runs.groupby("dataset_id")["base_model"].nunique()
    assert shared[shared == 2].index.tolist() == sorted(
        ["wizardlm_70k", "wizardlm_ifd_v1_10pct", "wizardlm_ifd_v1_40pct"])
    runs, features = corpus["am_distill_source_32b"]
    teachers = features.set_index("dataset_id")["teacher_params_b"]
    assert sorted(teachers) == [32.0, 235.0, 671.0]
    assert (runs["base_model"] == "Qwen2.5-32B").all()


def test_the_conversion_script_reproduces_every_file():
    spec = importlib.util.spec_from_file_location("published_convert",
                                                  PUBLISHED / "convert.py")
    convert = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = convert  # its dataclasses look their module up
    try:
        spec.loader.exec_module(convert)
    finally:
        del sys.modules[spec.name]
    assert list(convert.TABLES) == MANIFEST["table"].tolist()
    for name, table in convert.TABLES.items():
        runs, features = convert.build(table)
        written = read_runs(PUBLISHED / name / "runs.csv")
        key = ["dataset_id", "base_model", "benchmark", "domain"]
        rebuilt = runs.sort_values(key).reset_index(drop=True)
        written = written.sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(rebuilt[written.columns], written, check_dtype=False,
                                      atol=1e-6)
        assert len(features) == len(pd.read_csv(PUBLISHED / name / "features.csv"))
    assert math.isclose(MANIFEST["n_runs"].sum(), sum(
        len(pd.read_csv(PUBLISHED / name / "runs.csv")) for name in MANIFEST["table"]))
