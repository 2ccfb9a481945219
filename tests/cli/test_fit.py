import json
import warnings

import pytest

from metaq.cli import main
from metaq.modeling.simulate import simulate_runs


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tables")
    sim = simulate_runs(n_datasets=6, params_b=(1.0, 8.0), n_tasks=2, random_seed=2)
    sim.runs.to_csv(folder / "runs.csv", index=False)
    sim.features.to_csv(folder / "features.csv", index=False)
    return folder / "runs.csv", folder / "features.csv"


def test_fit_writes_model_and_card_and_prints_diagnostics(tables, tmp_path, capsys):
    runs, features = tables
    out = tmp_path / "model.nc"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a short chain may warn about ESS
        code = main(["fit", "--runs", str(runs), "--features", str(features), "--out", str(out),
                     "--target", "rel", "--metrics", "f0,f2", "--seed", "3", "--draws", "100",
                     "--tune", "100", "--chains", "2", "--prior-predictive"])
    printed = capsys.readouterr().out
    assert code == 0
    assert out.is_file()
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["spec"]["target"] == "rel" and card["spec"]["features"] == ["f0", "f2"]
    assert card["state"]["random_seed"] == 3 and card["state"]["sampler"]["draws"] == 100
    assert "fitted on 24 runs, 2 features, 2 base models, 2 tasks" in printed
    assert "R-hat max" in printed and "PSIS-LOO" in printed and f"saved {out}" in printed
    assert "prior predictive check" in printed and "change of a run" in printed
    quantities = [row["quantity"] for row in card["state"]["diagnostics"]["prior_predictive"]]
    assert "between-dataset sd of the change" in quantities


def test_fit_reports_an_unknown_metric_in_one_line(tables, tmp_path, capsys):
    runs, features = tables
    code = main(["fit", "--runs", str(runs), "--features", str(features),
                 "--out", str(tmp_path / "m.nc"), "--metrics", "f0,perplexity"])
    err = capsys.readouterr().err
    assert code == 2
    assert "['perplexity'] are not metric columns" in err and "['f0', 'f1', 'f2']" in err
    assert not (tmp_path / "m.nc").exists()
