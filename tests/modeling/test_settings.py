import pytest

from metaq.exceptions import InvalidParameterError
from metaq.modeling.priors import DEFAULT_PRIORS, resolve_priors
from metaq.modeling.sampling import DEFAULT_SAMPLER, resolve_sampler


def test_prior_overrides_merge_over_defaults():
    priors = resolve_priors({"slope": 0.25})
    assert priors["slope"] == 0.25
    assert priors["run_sd"] == DEFAULT_PRIORS["run_sd"]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"slopes": 1.0}, r"unknown prior 'slopes'; valid names: \['base_cell_sd'"),
    ({"slope": -1.0}, r"prior 'slope' = -1.0 must be a positive"),
    ({"slope": "wide"}, r"prior 'slope' = 'wide' must be a positive"),
    ({"base_size_mean": float("inf")}, r"prior 'base_size_mean' = inf must be finite"),
])
def test_bad_priors_are_refused(overrides, message):
    with pytest.raises(InvalidParameterError, match=message):
        resolve_priors(overrides)


def test_a_location_prior_may_be_negative():
    assert resolve_priors({"base_size_mean": -0.2})["base_size_mean"] == -0.2


def test_sampler_settings_merge_in_order():
    settings = resolve_sampler({"draws": 10, "chains": 3}, {"chains": 2})
    assert (settings["draws"], settings["chains"]) == (10, 2)
    assert settings["tune"] == DEFAULT_SAMPLER["tune"]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"draw": 10}, "unknown sampler setting 'draw'"),
    ({"draws": 0}, "draws=0 must be a positive integer"),
    ({"target_accept": 1.2}, "target_accept=1.2 must lie in"),
    ({"backend": "stan"}, "backend 'stan' is unknown"),
])
def test_bad_sampler_settings_are_refused(overrides, message):
    with pytest.raises(InvalidParameterError, match=message):
        resolve_sampler(None, overrides)


def test_mass_matrix_setting_is_checked():
    assert resolve_sampler(None)["mass_matrix"] == "diag"
    with pytest.raises(InvalidParameterError, match="mass_matrix 'dense' is unknown"):
        resolve_sampler(None, {"mass_matrix": "dense"})
    with pytest.raises(InvalidParameterError, match="'low_rank' needs the nutpie backend"):
        resolve_sampler(None, {"mass_matrix": "low_rank", "backend": "pymc"})
    assert resolve_sampler({"mass_matrix": "low_rank", "backend": "nutpie"})["mass_matrix"] == \
        "low_rank"
