"""What-if and sweeps on a known posterior: per-draw paired contrasts, ranges, names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fake_predictor import SDS, slope_draws_by_hand

from metaq.exceptions import UnknownNameError
from metaq.explain.ranges import OutOfRangeError
from metaq.explain.whatif import sweep, what_if

DATASET = pd.DataFrame({"dataset_id": ["mine"], "validity": [0.9], "redundancy_ratio": [0.5],
                        "perplexity": [1.5]})


def test_relative_change_gives_the_per_draw_slope_times_the_move(fake_predictor):
    # redundancy 0.5 -> 0.4 is -1 SD (sd 0.1): the logit change moves by -slope per draw
    table = what_if(fake_predictor, DATASET, ["redundancy_ratio=-20%"], prob=0.8)
    truth = -slope_draws_by_hand(fake_predictor)[:, :, 1]  # (sample, model)
    for m, name in enumerate(["small-1b", "large-70b"]):
        rows = table.loc[table["target_model"] == name]
        assert len(rows) == 2  # both benchmarks
        np.testing.assert_allclose(rows["estimate"], truth[:, m].mean(), atol=1e-6)
        np.testing.assert_allclose(rows["lower"], np.quantile(truth[:, m], 0.1), atol=1e-6)
        np.testing.assert_allclose(rows["upper"], np.quantile(truth[:, m], 0.9), atol=1e-6)
    small = table.loc[table["target_model"] == "small-1b"].iloc[0]
    assert small["estimate"] > 0 and small["prob_positive"] == 1.0  # less redundancy helps 1B
    assert small["change"] == "redundancy_ratio=-20%"
    assert small["changed_mean"] - small["baseline_mean"] == pytest.approx(small["estimate"])


def test_contrast_is_paired_for_an_unseen_size(fake_predictor):
    # the unseen model's random offsets are shared by both sides, so the contrast of an
    # additive change is exactly slope * move per draw (no offset noise)
    huge = [{"name": "huge", "params_b": 400}]
    table = what_if(fake_predictor, DATASET, {"validity": "+0.05"}, target_models=huge,
                    benchmarks=["bench_a"])
    row = table.iloc[0]
    assert row["estimate"] == pytest.approx(0.5 + 0.0, abs=0.03)  # +1 SD of validity
    # per draw the contrast is the unseen model's own validity slope (drawn once, shared)
    slope = fake_predictor.slopes([("huge", 400.0, "")], ["bench_a"], random_seed=0).sel(
        feature="validity").values.ravel()
    assert row["estimate"] == pytest.approx(slope.mean(), abs=1e-9)
    assert [row["lower"], row["upper"]] == pytest.approx(np.quantile(slope, [0.05, 0.95]))
    assert row["baseline_mean"] != pytest.approx(row["changed_mean"])


def test_several_changes_apply_together(fake_predictor):
    both = what_if(fake_predictor, DATASET, ["validity=+0.05", "perplexity=1.8"],
                   target_models=["small-1b"], benchmarks=["bench_a"]).iloc[0]
    # +1 SD validity (0.5) and +1 SD perplexity (-0.3)
    assert both["estimate"] == pytest.approx(0.2, abs=0.02)
    assert both["change"] == "validity=+0.05; perplexity=1.8"


def test_change_leaving_the_valid_range_is_refused(fake_predictor):
    with pytest.raises(OutOfRangeError, match=r"validity=1\.1.*'mine'.*\[0, 1\]"):
        what_if(fake_predictor, DATASET, ["validity=+0.2"])
    with pytest.raises(OutOfRangeError, match="perplexity"):
        what_if(fake_predictor, DATASET, ["perplexity=0.5"])


def test_unknown_feature_is_refused_with_a_suggestion(fake_predictor):
    with pytest.raises(UnknownNameError, match="did you mean 'perplexity'"):
        what_if(fake_predictor, DATASET, ["perplexty=1.2"])


def test_sweep_curves_follow_the_slope_of_each_size(fake_predictor):
    grid = [0.4, 0.5, 0.6]
    table = sweep(fake_predictor, "redundancy_ratio", grid, baseline=DATASET,
                  benchmarks=["bench_a"])
    slopes = slope_draws_by_hand(fake_predictor)[:, :, 1].mean(axis=0) / SDS[1]
    for m, name in enumerate(["small-1b", "large-70b"]):
        curve = table.loc[table["target_model"] == name].sort_values("value")
        assert curve["value"].tolist() == grid
        np.testing.assert_allclose(np.diff(curve["estimate"]), slopes[m] * 0.1, atol=1e-6)
        np.testing.assert_allclose(curve["difference"], slopes[m] * (curve["value"] - 0.4),
                                   atol=1e-6)
        assert (curve["lower"] < curve["estimate"]).all()


def test_default_sweep_grid_spans_training_range_within_valid_range(fake_predictor):
    table = sweep(fake_predictor, "validity", target_models=["small-1b"],
                  benchmarks=["bench_a"])
    # training validity 0.85..0.95, sd 0.05: widened by 0.025 each side, below 1
    assert table["value"].min() == pytest.approx(0.825)
    assert table["value"].max() == pytest.approx(0.975)
    assert len(table) == 21


def test_sweep_refuses_grid_outside_the_valid_range(fake_predictor):
    with pytest.raises(OutOfRangeError, match="sweep grid"):
        sweep(fake_predictor, "redundancy_ratio", [0.5, 1.2])
