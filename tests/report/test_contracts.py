from __future__ import annotations

import pandas as pd
import pytest

from metaq.exceptions import InvalidParameterError, SchemaError
from metaq.report import ReportConfig, ReportData, ReportMetadata


@pytest.mark.parametrize(("option", "value"), [("best_threshold", 1.0), ("gain_threshold", 0.0),
                                               ("max_table_rows", 0), ("whatif_features", 0)])
def test_config_rejects_values_outside_their_range(option, value):
    with pytest.raises(InvalidParameterError, match=f"{option}={value!r}"):
        ReportConfig(**{option: value})


def test_config_names_unknown_sections_and_keeps_diagnostics_in_order():
    with pytest.raises(InvalidParameterError, match=r"unknown section\(s\) \['appendix'\]"):
        ReportConfig(sections=("summary", "appendix"))
    config = ReportConfig(sections=("caveats", "summary"))
    assert config.sections == ("summary", "diagnostics", "caveats")


def test_data_names_the_missing_column_and_table():
    forecast = pd.DataFrame({"dataset_id": ["a"], "target_model": ["m"], "benchmark": ["b"],
                             "estimate": [0.1], "lower": [0.0], "upper": [0.2]})
    with pytest.raises(SchemaError, match=r"ReportData.forecast is missing column\(s\) "
                                          r"\['prob_gain'\]"):
        ReportData(ReportMetadata.now(), forecast=forecast)
    with pytest.raises(SchemaError, match="ReportData.runs must be a pandas DataFrame, got dict"):
        ReportData(ReportMetadata.now(), runs={"dataset_id": []})
    with pytest.raises(InvalidParameterError, match="prob=1.5"):
        ReportData(ReportMetadata.now(), prob=1.5)


def test_tables_lists_only_the_given_tables(full_data):
    assert set(full_data.tables()) == {"forecast", "coefficients", "importance",
                                       "contributions", "whatif", "correlations", "runs",
                                       "features",
                                       "diagnostics", "ppc", "loo"}


def test_metadata_stamps_version_and_utc_time():
    import metaq

    meta = ReportMetadata.now(seeds={"fit": 3})
    assert meta.metaq_version == metaq.__version__
    assert meta.created_utc.endswith("+00:00") and meta.seeds == {"fit": 3}
