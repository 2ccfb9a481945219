"""Slow check with a real NUTS fit: studies' protocol offsets and a common slope recovered."""

import arviz as az
import numpy as np
import pytest
from scipy import stats

from metaq.modeling import HierarchicalDeltaModel
from metaq.modeling.simulate import simulate_runs

pytestmark = pytest.mark.slow

N_STUDIES, N_TASKS = 4, 2


@pytest.fixture(scope="module")
def recovered():
    """Four studies of three datasets each, with protocol offsets of sd 0.5 and one slope."""
    sim = simulate_runs(n_datasets=12, params_b=(8.0, 70.0), n_tasks=N_TASKS,
                        n_studies=N_STUDIES, protocol_sd=0.5, run_sd=0.1, random_seed=21)
    model = HierarchicalDeltaModel(sampler={"draws": 800, "tune": 800, "chains": 2})
    return sim, model.fit(sim.runs, sim.features, random_seed=21)


def _draws(model, name):
    post = model.idata_.posterior[name]
    return post.stack(sample=("chain", "draw")).transpose("sample", ...).values


def _tested(source) -> np.ndarray:
    """Slopes and the protocol offsets of all studies but the last (zero-sum: it is implied)."""
    slope, protocol = source("slope"), source("protocol")
    return np.concatenate([slope.reshape(*slope.shape[:-1], -1),
                           protocol[..., :-1, :].reshape(*protocol.shape[:-2], -1)], axis=-1)


def test_slopes_and_protocol_offsets_are_where_the_posterior_puts_them(recovered):
    sim, model = recovered
    draws = _tested(lambda name: _draws(model, name))
    truth = _tested(lambda name: sim.truth[name])
    # standardised errors whitened by the posterior covariance: for a calibrated (and near
    # Gaussian) posterior their squares sum to a chi-square with one degree of freedom per
    # tested value (3 slopes + 3 x 2 free protocol offsets), above the bound in 0.1 % of runs
    error = np.linalg.solve(np.linalg.cholesky(np.cov(draws, rowvar=False)),
                            truth - draws.mean(axis=0))
    bound = stats.chi2.ppf(0.999, df=len(truth))
    assert np.sum(np.square(error)) < bound, np.round(error, 2)
    # the untuned scores the studies printed pin each protocol offset down
    assert _draws(model, "protocol").std(axis=0).max() < 0.15


def test_the_study_fit_converged_on_the_parameters_under_test(recovered):
    _, model = recovered
    rhat = az.rhat(model.idata_.posterior[["slope", "protocol"]])
    assert max(float(rhat[name].max()) for name in rhat.data_vars) <= 1.01
    assert model.diagnostics_["divergences"] < 0.01 * 2 * 800
