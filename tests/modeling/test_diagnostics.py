"""Convergence summaries of posteriors built by hand (no sampling)."""

import numpy as np

from metaq.modeling.diagnostics import convergence_summary


def _idata(**variables):
    import arviz as az

    return az.from_dict(posterior=variables,
                        sample_stats={"diverging": np.zeros((2, 500), dtype=bool)})


def test_variables_fixed_by_design_are_left_out_of_r_hat():
    rng = np.random.default_rng(0)
    # two chains that disagree (R-hat >> 1), and offsets that are 0 by construction (the
    # scale-group offsets of two sizes): the latter must not turn max_rhat into NaN
    stuck = np.stack([rng.normal(0, 1, 500), rng.normal(3, 1, 500)])
    # and a variable with no elements (zero-sum offsets of a single training model)
    idata = _idata(slope=stuck, model_offset=np.zeros((2, 500, 2)),
                   cell_z=np.zeros((2, 500, 0, 3)))
    summary = convergence_summary(idata, ["slope", "model_offset", "cell_z", "absent"])
    assert summary["worst_rhat_var"] == "slope"
    assert summary["max_rhat"] > 1.5
    assert np.isfinite(summary["min_ess_bulk"])


def test_well_mixed_chains_pass():
    rng = np.random.default_rng(1)
    summary = convergence_summary(_idata(slope=rng.normal(size=(2, 500))), ["slope"])
    assert summary["max_rhat"] < 1.03  # split R-hat of 2 x 500 independent draws
    assert summary["divergences"] == 0 and summary["chains"] == 2 and summary["draws"] == 500
