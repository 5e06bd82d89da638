"""Model forms of the ensemble against hand-computed values on tiny synthetic inputs."""

from __future__ import annotations

import numpy as np
import pytest

from globalrs.core import units
from globalrs.estimates import models


def const_months(value: float) -> np.ndarray:
    return np.full((1, 12), value)


def test_raich_potter_at_zero_degrees_by_hand():
    # T = 0: exp(0) = 1; P = K: P/(K+P) = 1/2; F = 2 g/m2/day -> 2 * days * 0.5 = days
    out = models.raich_potter_monthly(const_months(0.0), const_months(40.0), 2.0, 0.05, 40.0)
    np.testing.assert_allclose(out[0], units.DAYS_IN_MONTH)
    assert models.annual_sum(out)[0] == pytest.approx(365.0)


def test_raich_potter_temperature_term_by_hand():
    # T = 10, Q = 0.1: exp(1) = e; P >> K: moisture factor 1000/1001
    out = models.raich_potter_monthly(const_months(10.0), const_months(1000.0), 1.0, 0.1, 1.0)
    assert out[0, 0] == pytest.approx(31 * np.e * 1000 / 1001)


def test_published_raich_potter_parameters_give_known_value():
    # Raich & Potter 1995 global: F=1.250, Q=0.05452, K=4.259 cm; T=20 C, P=10 cm in a 30-day month
    t = np.full((1, 12), 20.0)
    p = np.full((1, 12), 100.0)
    out = models.raich_potter_monthly(t, p, 1.25, 0.05452, 42.59)
    expected = 1.25 * 30 * np.exp(0.05452 * 20) * 100 / (42.59 + 100)
    assert out[0, 3] == pytest.approx(expected)  # April has 30 days
    assert expected == pytest.approx(78.2, abs=0.1)


def test_zero_precipitation_means_zero_respiration():
    out = models.raich_potter_monthly(const_months(25.0), const_months(0.0), 1.0, 0.05, 10.0)
    assert np.all(out == 0)


def test_temperature_optimum_peaks_at_a_over_2b():
    t = np.tile(np.arange(12, dtype=float) * 4.0, (1, 1))  # 0..44 deg C
    p = const_months(1e9)
    out = models.temperature_optimum_monthly(t, p, 1.0, 0.2, 0.005, 1.0) / units.DAYS_IN_MONTH
    assert t[0, out[0].argmax()] == 20.0  # a / (2b) = 0.2 / 0.01
    assert out[0, 0] == pytest.approx(1.0, rel=1e-8)  # T = 0 -> F


def test_lloyd_taylor_equals_f_at_reference_temperature():
    out = models.lloyd_taylor_monthly(const_months(10.0), const_months(1e12), 2.0, 308.56, 1.0)
    np.testing.assert_allclose(out[0], 2.0 * units.DAYS_IN_MONTH, rtol=1e-9)


def test_lloyd_taylor_by_hand_and_zero_below_t0():
    out = models.lloyd_taylor_monthly(const_months(20.0), const_months(50.0), 1.0, 308.56, 50.0)
    expected = 31 * np.exp(308.56 * (1 / 56.02 - 1 / 66.02)) * 0.5
    assert out[0, 0] == pytest.approx(expected)
    cold = models.lloyd_taylor_monthly(const_months(-50.0), const_months(50.0), 1.0, 308.56, 50.0)
    assert np.all(cold == 0)


def test_linear_model_by_hand():
    assert models.linear_mat_map(10.0, 1000.0, 100.0, 20.0, 0.3) == pytest.approx(600.0)


def test_fit_linear_recovers_exact_plane():
    mat = np.array([0.0, 10.0, 20.0, 5.0])
    map_ = np.array([200.0, 800.0, 1500.0, 3000.0])
    rs = 50 + 12 * mat + 0.2 * map_
    params = models.fit_linear_mat_map(mat, map_, rs)
    assert params["intercept"] == pytest.approx(50)
    assert params["slope_per_c"] == pytest.approx(12)
    assert params["slope_per_mm"] == pytest.approx(0.2)


def test_class_means_by_hand():
    means, counts = models.fit_class_means([0, 0, 2, 2, 2], [100, 300, 10, 20, 30], 3)
    np.testing.assert_allclose(means[[0, 2]], [200.0, 20.0])
    assert np.isnan(means[1])
    np.testing.assert_array_equal(counts, [2, 0, 3])


def test_class_means_refuse_out_of_range_class():
    with pytest.raises(ValueError, match="class indices"):
        models.fit_class_means([0, 3], [1.0, 2.0], 3)


@pytest.mark.parametrize(
    "fit, form, truth",
    [
        (models.fit_raich_potter, models.raich_potter_monthly, {"f_g_m2_day": 1.5, "q_per_c": 0.06, "k_mm": 30.0}),
        (models.fit_lloyd_taylor, models.lloyd_taylor_monthly, {"f_g_m2_day": 2.0, "e0_k": 250.0, "k_mm": 20.0}),
        (
            models.fit_temperature_optimum,
            models.temperature_optimum_monthly,
            {"f_g_m2_day": 1.0, "a_per_c": 0.12, "b_per_c2": 0.002, "k_mm": 25.0},
        ),
    ],
)
def test_fits_recover_parameters_of_noise_free_synthetic_sites(fit, form, truth):
    rng = np.random.default_rng(0)
    n = 60
    seasonal = np.sin(np.linspace(0, 2 * np.pi, 12, endpoint=False))
    t = rng.uniform(-5, 25, (n, 1)) + rng.uniform(2, 15, (n, 1)) * seasonal
    p = rng.uniform(5, 200, (n, 12))
    rs = models.annual_sum(form(t, p, **truth))
    params = fit(t, p, rs)
    for key, value in truth.items():
        assert params[key] == pytest.approx(value, rel=1e-3), key


def test_monthly_forms_check_shapes_and_sign():
    with pytest.raises(ValueError, match="12 months"):
        models.raich_potter_monthly(np.zeros((2, 11)), np.zeros((2, 11)), 1, 0.05, 10)
    with pytest.raises(ValueError, match="differ in shape"):
        models.raich_potter_monthly(np.zeros((2, 12)), np.zeros((3, 12)), 1, 0.05, 10)
    with pytest.raises(ValueError, match="negative"):
        models.raich_potter_monthly(np.zeros((1, 12)), -np.ones((1, 12)), 1, 0.05, 10)
