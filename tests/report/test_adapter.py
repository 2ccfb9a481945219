"""The adapter on a real (small) NUTS fit of the study data: slow."""

from __future__ import annotations

import warnings

import pytest

from metaq.cli import main
from metaq.modeling.diagnostics import THRESHOLDS
from metaq.report import render_html
from metaq.report.adapter import diagnostics_table, report_data_from_model
from metaq.tables import derive_target

FEATURES = ["semantic_alignment", "redundancy_ratio", "utility"]
UNSEEN = {"name": "Qwen-32B", "params_b": 32.0, "family": "qwen"}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, study_runs, study_features):
    from metaq.modeling import HierarchicalDeltaModel

    model = HierarchicalDeltaModel(features=FEATURES, target="abs",
                                   sampler={"draws": 100, "tune": 150, "chains": 2})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short chains may fail checks; the report shows them
        model.fit(study_runs, study_features, random_seed=3, prior_predictive=True)
    path = model.save(tmp_path_factory.mktemp("model") / "small.nc")
    return model, path


@pytest.mark.slow
def test_report_data_from_a_real_fit(fitted, study_runs, study_features):
    model, _ = fitted
    forecast = model.predict(study_features, ["PLLuM-8B-instruct", UNSEEN],
                             benchmarks=["mot_pl_eval", "lightr1"], random_seed=0).summary(0.9)
    data = report_data_from_model(model, study_runs, study_features, forecast=forecast,
                                  prob=0.9, whatif_features=2)
    # slopes per scale group: both training models and the unseen size, 3 features each
    assert sorted(data.coefficients["group"].unique()) == [
        "Bielik-11B-v2.6-Instruct (11B)", "PLLuM-8B-instruct (8B)", "Qwen-32B (32B)"]
    assert (data.coefficients.groupby("group").size() == 3).all()
    assert set(data.importance["feature"]) == set(FEATURES)
    assert ((data.coefficients["lower"] <= data.coefficients["estimate"])
            & (data.coefficients["estimate"] <= data.coefficients["upper"])).all()
    # contributions of each feature to the forecast's datasets, and their per-draw sum
    assert set(data.contributions["term"]) == {*FEATURES, "all features"}
    assert data.whatif["feature"].nunique() == 2
    # the posterior predictive check pairs every run with its own observed change
    assert len(data.ppc) == len(study_runs)
    run = study_runs.iloc[0]
    mine = data.ppc[(data.ppc["dataset_id"] == run["dataset_id"])
                    & (data.ppc["base_model"] == run["base_model"])
                    & (data.ppc["benchmark"] == run["benchmark"])
                    & (data.ppc["domain"] == run["domain"])]
    assert mine["observed"].item() == pytest.approx(derive_target(study_runs, "abs").iloc[0])
    checks = dict(zip(data.diagnostics["check"], data.diagnostics["value"], strict=True))
    assert checks["max R-hat"] == pytest.approx(model.diagnostics_["max_rhat"])
    assert checks["divergent transitions"] == model.diagnostics_["divergences"]
    assert len(data.loo) == len(model.diagnostics_["pareto_k"])
    assert data.metadata.seeds["fit"] == 3
    # the units of the features and what the priors alone imply, beside the data
    assert data.units["feature"].tolist() == model.features_
    assert data.units["sd"].to_numpy() == pytest.approx(model.feature_scaler_.sds)
    prior = data.prior_predictive.set_index("quantity")
    observed = study_runs["score_ft"] - study_runs["score_base"]
    assert prior.loc["change of a run", "observed"] == pytest.approx(observed.median(),
                                                                     abs=0.002)
    assert (prior["prior_lo"] < prior["prior_hi"]).all()
    html = render_html(data)
    assert "Qwen-32B (32B) lies outside the sizes seen (8B-11B)" in html
    assert "Prior predictive check" in html and "Feature units" in html


@pytest.mark.slow
def test_cli_report_from_a_saved_model(fitted, study_features, tmp_path, capsys):
    model, path = fitted
    forecast = tmp_path / "forecast.csv"
    model.predict(study_features, ["Bielik-11B-v2.6-Instruct"], benchmarks=["lightr1"],
                  random_seed=0).to_csv(forecast)
    out = tmp_path / "report.html"
    assert main(["report", "--model", str(path), "--forecast", str(forecast),
                 "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "for Bielik-11B-v2.6-Instruct (11B)" in html
    assert str(path) in html  # the model file and its hash are in the provenance table
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == f"wrote {out}"
    failed = ~diagnostics_table(model.diagnostics_, thresholds=THRESHOLDS)["passed"]
    assert [line.startswith("warning: ") for line in printed[1:]] == [True] * int(failed.sum())


def test_diagnostics_table_applies_the_predictor_thresholds():
    summary = {"max_rhat": 1.004, "worst_rhat_var": "beta", "min_ess_bulk": 350.0,
               "min_ess_tail": 450.0, "divergences": 0, "chains": 4, "draws": 500,
               "max_pareto_k": 0.9, "n_pareto_k_high": 2, "ppc_coverage": 0.74,
               "ppc_prob": 0.9}
    table = diagnostics_table(summary, thresholds=THRESHOLDS).set_index("check")
    # ESS needs 100 per chain (400 with 4 chains); coverage may drop 0.15 below 0.9
    assert table["threshold"].to_dict() == {
        "max R-hat": 1.01, "min bulk ESS": 400.0, "min tail ESS": 400.0,
        "divergent transitions": 0.0, "max PSIS-LOO Pareto k": 0.7,
        "posterior predictive coverage": pytest.approx(0.75)}
    assert table["passed"].to_dict() == {
        "max R-hat": True, "min bulk ESS": False, "min tail ESS": True,
        "divergent transitions": True, "max PSIS-LOO Pareto k": False,
        "posterior predictive coverage": False}
    assert table.loc["max PSIS-LOO Pareto k", "detail"] == "2 observation(s) above the threshold"
