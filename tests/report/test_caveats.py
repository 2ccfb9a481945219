from __future__ import annotations

from report_tables import make_forecast

from metaq.report import ReportConfig, ReportData, ReportMetadata
from metaq.report.caveats import compute_caveats


def _caveats(**tables) -> list[str]:
    return compute_caveats(ReportData(ReportMetadata.now(), **tables), ReportConfig())


def test_study_data_gets_its_caveats(study_runs, study_features):
    caveats = _caveats(runs=study_runs, features=study_features, forecast=make_forecast())
    text = "\n".join(caveats)
    # 36 runs per model, above the default minimum of 20: no few-runs caveat
    assert "inform the scale group" not in text
    assert "The model learned from 4 distinct datasets but 14 metrics" in text
    assert ("Unseen-70B (70B) lies outside the sizes seen (8B-11B): its forecast extrapolates"
            in text)
    assert "PLLuM-8B-instruct" not in text  # seen models get no extrapolation caveat
    assert ("For 4 dataset(s) the judge scored a subsample (1000 examples, 4.4% of each "
            "dataset)" in text)
    assert "records no standard errors" in text


def test_few_runs_and_interpolated_size(study_runs):
    config = ReportConfig(min_runs_per_group=40)
    forecast = make_forecast().replace({"target_model": {"Unseen-70B": "Mid-9B"},
                                        "params_b": {70.0: 9.5}})
    caveats = compute_caveats(ReportData(ReportMetadata.now(), runs=study_runs,
                                         forecast=forecast), config)
    assert caveats[:2] == [
        f"Only 36 runs inform the scale group of {m} (fewer than 40); its group-specific "
        f"slopes lean on the pooled estimate and the prior."
        for m in study_runs["base_model"].unique()]
    assert any(c.startswith("Mid-9B (9.5B) was not among the fine-tuned models; its forecast "
                            "interpolates between the sizes seen (8B-11B)") for c in caveats)


def test_missing_features_are_named_per_dataset():
    forecast = make_forecast()
    forecast["missing_features"] = forecast["dataset_id"].map(
        {"Lengthy": "utility,validity"}).fillna("")
    assert _caveats(forecast=forecast) == [
        "Dataset Lengthy lacks utility, validity; the forecast integrates over their training "
        "distribution, widening its intervals."]


def test_standard_errors_are_acknowledged(study_features):
    features = study_features.assign(validity__se=0.01, n_judged=[500, 1000, 1000, 1000])
    (judge,) = _caveats(features=features)
    assert "(500-1000 examples, 2.2%-4.4% of each dataset)" in judge
    assert judge.endswith("their standard errors are given for validity.")


def test_correlation_power_at_n_4(study_correlations):
    (power,) = _caveats(correlations=study_correlations)
    assert "on as few as 4 datasets; the smallest p-value is 0.0833" in power
    assert power.endswith("With n = 4 no Spearman test can reach p below 2/4! = 0.0833.")


def test_notes_come_last(study_runs):
    data = ReportData(ReportMetadata.now(), runs=study_runs, notes=("prior-dominated",))
    assert compute_caveats(data, ReportConfig())[-1] == "prior-dominated"
    assert _caveats() == []


def test_unidentified_changes_untrained_features_and_floored_units_are_named():
    import pandas as pd

    forecast = make_forecast()
    forecast["change_identified"] = [i % 2 == 0 for i in range(len(forecast))]
    forecast["untrained_features"] = ""
    forecast.loc[forecast["dataset_id"] == forecast["dataset_id"].iloc[0],
                 "untrained_features"] = "long_cot,lora"
    units = pd.DataFrame({"feature": ["validity", "coherence"], "mean": [0.9, 0.8],
                          "sd": [0.09, 0.2], "floored": [True, False]})
    text = "\n".join(_caveats(forecast=forecast, units=units))
    blind = len(forecast) - (len(forecast) + 1) // 2
    assert f"{blind} of {len(forecast)} forecasts have no untuned score behind the level" in text
    assert f"{forecast['dataset_id'].iloc[0]} differs on long_cot, lora, which had one value" \
        in text
    assert "The unit of validity is set by a floor" in text and "coherence is set" not in text


def test_identified_forecasts_get_no_identification_caveat():
    forecast = make_forecast().assign(change_identified=True, untrained_features="")
    text = "\n".join(_caveats(forecast=forecast))
    assert "no untuned score behind" not in text and "differs on" not in text
