"""correlate(): the study's Tables 7 and 8 reproduced cell by cell, p/q-values, options."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from metaq.datasets import study_path
from metaq.exceptions import InvalidParameterError, SchemaError, UnknownNameError
from metaq.stats import correlate, summarize_correlations
from metaq.tables import derive_target, read_features, read_runs

DATA = Path(__file__).resolve().parent.parent / "data"
TABLE8_MODELS = {"pllum8b": "PLLuM-8B-instruct", "bielik11b": "Bielik-11B-v2.6-Instruct"}


def snake_case(paper_name: str) -> str:
    return paper_name.lower().replace(" ", "_")


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    return read_runs(study_path("runs"))


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    return read_features(study_path("features"))


@pytest.fixture(scope="module")
def table(runs, features) -> pd.DataFrame:
    return correlate(runs, features)


def cell(table: pd.DataFrame, model: str, benchmark: str, metric: str, domain: str = ""):
    row = table[(table["base_model"] == model) & (table["benchmark"] == benchmark)
                & (table["domain"] == domain) & (table["metric"] == metric)]
    assert len(row) == 1, (model, benchmark, domain, metric)
    return row.iloc[0]


def test_reproduces_every_rho_of_table_7(table):
    paper = pd.read_csv(DATA / "table7_spearman_general.csv", comment="#")
    benchmarks = ["bel_pl", "bel_en", "aya_pl", "aya_en", "mot_pl_eval", "lightr1", "avg"]
    checked = 0
    for _, published in paper.iterrows():
        for benchmark in benchmarks:
            rho = cell(table, published["model"], benchmark, snake_case(published["metric"]))["rho"]
            assert abs(rho - published[benchmark]) <= 0.005 + 1e-9, (published["model"],
                                                                      published["metric"],
                                                                      benchmark, rho)
            checked += 1
    assert checked == 2 * 9 * 7


def test_reproduces_every_rho_of_table_8(table):
    paper = pd.read_csv(DATA / "table8_spearman_domains.csv", comment="#")
    checked = 0
    for _, published in paper.iterrows():
        for column in paper.columns[2:]:
            short, domain = column.split("_")
            rho = cell(table, TABLE8_MODELS[short], "mot_pl_eval", snake_case(published["metric"]),
                       domain)["rho"]
            assert abs(rho - published[column]) <= 0.005 + 1e-9, (column, published["metric"])
            checked += 1
    assert checked == 9 * 6


def test_reports_every_metric_column_including_perplexity_and_lengths(table, features):
    metrics = ["syntactic_depth", "semantic_flow", "semantic_alignment", "perplexity",
               "redundancy_ratio", "symbolic_fraction", "factuality", "validity", "coherence",
               "utility", "reasoning_chars", "total_seq_chars", "reasoning_tokens_pllum",
               "total_seq_tokens_pllum"]
    per_test = table.groupby(["base_model", "benchmark", "domain"])["metric"].apply(list)
    assert len(per_test) == 2 * (6 + 1 + 3)  # six benchmarks, avg, three domains
    assert all(listed == metrics for listed in per_test)


def test_perplexity_rho_by_hand(table):
    # PLLuM on bel_pl: Detailed, Summarized, BabyThink, Lengthy changed by +10.3, +2.3, -9.7,
    # -15.9 %; perplexity 1.41, 1.38, 2.42, 1.76 -> ranks 2,1,4,3 vs 4,3,2,1 -> rho = -0.6
    assert cell(table, "PLLuM-8B-instruct", "bel_pl", "perplexity")["rho"] == pytest.approx(-0.6)


def test_columns_and_study_shape(table):
    assert list(table.columns) == ["base_model", "benchmark", "domain", "metric", "n", "rho",
                                   "p_value", "q_value", "ci_lo", "ci_hi", "p_method",
                                   "ci_method", "method", "target"]
    tests = table[table["benchmark"] != "avg"]
    assert len(tests) == 2 * 9 * 14
    assert (tests["n"] == 4).all() and (tests["p_method"] == "exact").all()
    assert (table["ci_method"] == "none").all() and table[["ci_lo", "ci_hi"]].isna().all().all()
    assert (table["method"] == "spearman").all() and (table["target"] == "rel").all()


def test_exact_p_values_of_the_study(table):
    tests = table[table["benchmark"] != "avg"]
    perfect = np.isclose(tests["rho"].abs(), 1.0)
    assert perfect.sum() > 0
    assert (tests.loc[perfect, "p_value"] == 1 / 12).all()
    # with 4 untied pairs |rho| = 0.8 is reached by 8 of the 24 orderings
    strong = np.isclose(tests["rho"].abs(), 0.8)
    np.testing.assert_allclose(tests.loc[strong, "p_value"], 1 / 3)
    assert tests["p_value"].min() == 1 / 12


def test_q_values_are_bh_over_all_tests_of_the_call(table):
    tests = table[table["benchmark"] != "avg"]
    expected = multipletests(tests["p_value"], method="fdr_bh")[1]
    np.testing.assert_allclose(tests["q_value"], expected)
    assert (tests["q_value"] >= 0.05).all()  # nothing survives FDR at n = 4


def test_average_rows_are_means_without_tests(table):
    for model in table["base_model"].unique():
        general = table[(table["base_model"] == model) & (table["domain"] == "")
                        & (table["benchmark"] != "avg")]
        means = general.groupby("metric", sort=False)["rho"].mean()
        averages = table[(table["base_model"] == model) & (table["benchmark"] == "avg")]
        np.testing.assert_allclose(averages.set_index("metric")["rho"].loc[means.index], means)
        assert averages[["p_value", "q_value", "ci_lo", "ci_hi"]].isna().all().all()
        assert (averages["n"] == 4).all() and (averages["p_method"] == "").all()


def test_rows_are_in_reading_order(table):
    first = table["base_model"].iloc[0]
    parts = table[table["base_model"] == first]
    kinds = np.where(parts["domain"] != "", 2, np.where(parts["benchmark"] == "avg", 1, 0))
    assert (np.diff(kinds) >= 0).all()


@pytest.mark.parametrize("target", ["abs", "logit"])
def test_spearman_rho_does_not_depend_on_the_change_measure(table, runs, features, target):
    other = correlate(runs, features, target=target)
    np.testing.assert_allclose(other["rho"], table["rho"])
    assert (other["target"] == target).all()


def test_pearson_on_the_absolute_change_by_hand(runs, features):
    table = correlate(runs, features, method="pearson", target="abs")
    subset = runs[(runs["base_model"] == "Bielik-11B-v2.6-Instruct")
                  & (runs["benchmark"] == "lightr1")].set_index("dataset_id")
    delta = subset["score_ft"] - subset["score_base"]
    x = features.set_index("dataset_id").loc[delta.index, "redundancy_ratio"]
    expected = np.corrcoef(x, delta)[0, 1]
    row = cell(table, "Bielik-11B-v2.6-Instruct", "lightr1", "redundancy_ratio")
    assert row["rho"] == pytest.approx(expected)
    assert row["p_method"] == "exact" and row["ci_method"] == "none"


def test_runs_without_score_base_drop_out_of_their_test(runs, features):
    runs = runs.copy()
    lost = (runs["base_model"] == "PLLuM-8B-instruct") & (runs["benchmark"] == "aya_en") & (
        runs["dataset_id"] == "Lengthy")
    runs.loc[lost, "score_base"] = np.nan
    table = correlate(runs, features)
    row = cell(table, "PLLuM-8B-instruct", "aya_en", "validity")
    assert row["n"] == 3
    kept = runs[(runs["base_model"] == "PLLuM-8B-instruct") & (runs["benchmark"] == "aya_en")
                & ~lost].set_index("dataset_id")
    x = features.set_index("dataset_id").loc[kept.index, "validity"]
    assert row["rho"] == pytest.approx(stats.spearmanr(x, derive_target(kept, "rel")).statistic)
    assert row["p_value"] == pytest.approx(1 / 3)  # |rho| = 1 with n = 3: 2 of 6 orderings
    assert cell(table, "PLLuM-8B-instruct", "aya_pl", "validity")["n"] == 4


def test_domain_runs_use_domain_features_when_present(runs, features):
    math_rows = features.assign(domain="math", validity=[0.1, 0.2, 0.3, 0.4])
    table = correlate(runs, pd.concat([features, math_rows], ignore_index=True))
    math = runs[(runs["domain"] == "math") & (runs["base_model"] == "PLLuM-8B-instruct")]
    y = derive_target(math, "rel").to_numpy()
    x = math["dataset_id"].map(dict(zip(features["dataset_id"], [0.1, 0.2, 0.3, 0.4],
                                        strict=True)))
    expected = stats.spearmanr(x, y).statistic
    assert cell(table, "PLLuM-8B-instruct", "mot_pl_eval", "validity", "math")["rho"] == \
        pytest.approx(expected)
    # code has no domain rows: it falls back to the whole-dataset features (Table 8: 0.80)
    assert cell(table, "PLLuM-8B-instruct", "mot_pl_eval", "validity", "code")["rho"] == \
        pytest.approx(0.8)


def synthetic_tables(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = [f"d{i}" for i in range(n)]
    quality = rng.normal(size=n)
    features = pd.DataFrame({"dataset_id": ids, "quality": quality,
                             "noise": rng.normal(size=n)})
    runs = pd.DataFrame({"dataset_id": ids, "base_model": "m", "params_b": 1.0,
                         "family": "f", "benchmark": "b", "score_base": 0.5,
                         "score_ft": 0.5 + 0.05 * quality + 0.02 * rng.normal(size=n)})
    return runs, features


def test_many_datasets_use_monte_carlo_and_bootstrap(rng):
    runs, features = synthetic_tables(rng, 14)
    table = correlate(runs, features, n_permutations=999, n_bootstrap=300, random_seed=1)
    again = correlate(runs, features, n_permutations=999, n_bootstrap=300, random_seed=1)
    pd.testing.assert_frame_equal(table, again)
    assert (table["p_method"] == "monte_carlo:999").all()
    assert (table["ci_method"] == "bootstrap:300").all()
    quality = table.set_index("metric").loc["quality"]
    assert quality["rho"] > 0.8 and quality["p_value"] < 0.01
    assert quality["ci_lo"] < quality["rho"] < quality["ci_hi"]
    assert "avg" not in set(table["benchmark"])  # one benchmark: nothing to average


def test_summary_of_the_study(table):
    summary = summarize_correlations(table)
    assert (summary.n_tests, summary.n_discoveries) == (252, 0)
    assert summary.smallest_p == 1 / 12
    assert list(summary.strongest["base_model"]) == list(table["base_model"].unique())
    for row in summary.strongest.itertuples():
        model_tests = table[(table["base_model"] == row.base_model) & table["p_value"].notna()]
        assert abs(row.rho) == pytest.approx(model_tests["rho"].abs().max())
        assert row.n_tied == np.isclose(model_tests["rho"].abs(), abs(row.rho)).sum()


def test_bad_options_and_inputs(runs, features):
    with pytest.raises(UnknownNameError, match=r"unknown correlation method 'kendall'"):
        correlate(runs, features, method="kendall")
    with pytest.raises(UnknownNameError, match=r"unknown target 'ratio'"):
        correlate(runs, features, target="ratio")
    with pytest.raises(InvalidParameterError, match=r"n_permutations must be >= 1"):
        correlate(runs, features, n_permutations=0)
    with pytest.raises(InvalidParameterError, match=r"ci must lie strictly between 0 and 1"):
        correlate(runs, features, ci=1.5)
    with pytest.raises(SchemaError, match=r"dataset\(s\) \['Detailed'\] have runs but no row"):
        correlate(runs, features[features["dataset_id"] != "Detailed"])
    with pytest.raises(SchemaError, match=r"no run has both score_base and score_ft"):
        correlate(runs.assign(score_base=np.nan), features)
    with pytest.raises(SchemaError, match=r"benchmark name 'avg' is reserved"):
        correlate(runs.assign(benchmark=runs["benchmark"].replace("lightr1", "avg")), features)
