"""Model forms of the standardized-protocol ensemble, as small hand-checkable functions.

All functions work on plain numpy arrays (or anything broadcastable) and carry units in their
argument names. Monthly models take monthly mean air temperature ``tmean_c`` (deg C) and monthly
precipitation ``prec_mm_month`` (mm month-1) with the month on the LAST axis and return monthly
soil respiration in g C m-2 month-1; their annual value is the sum over the 12 months.

=====================  ====================================================================
member form            equation
=====================  ====================================================================
area x mean            Rs = mean observed Rs of the cell's vegetation class
linear                 Rs = b0 + b1 MAT + b2 MAP  (g C m-2 yr-1; MAT deg C, MAP mm yr-1)
Raich-Potter           Rs_m = F d_m exp(Q T_m) P_m / (K + P_m)   (Raich & Potter 1995)
temperature optimum    Rs_m = F d_m exp(a T_m - b T_m^2) P_m / (K + P_m)
                       (optimum at T = a / 2b; the form of Hashimoto et al. 2015)
Lloyd-Taylor           Rs_m = F d_m exp(E0 (1/(Tref - T0) - 1/(T_m - T0))) P_m / (K + P_m)
                       (Lloyd & Taylor 1994, T0 = -46.02 C, Tref = 10 C; 0 for T <= T0)
=====================  ====================================================================

``d_m`` is the number of days in month m (365-day year), ``F`` is in g C m-2 day-1, ``K`` in mm.
"""

from __future__ import annotations

import numpy as np

from globalrs.core.units import DAYS_IN_MONTH


def _check_monthly(tmean_c, prec_mm_month) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(tmean_c, dtype=float)
    p = np.asarray(prec_mm_month, dtype=float)
    if t.shape != p.shape:
        raise ValueError(f"tmean_c {t.shape} and prec_mm_month {p.shape} differ in shape")
    if t.shape[-1] != 12:
        raise ValueError(f"the last axis must hold 12 months, got shape {t.shape}")
    if np.nanmin(p, initial=0.0) < 0:
        raise ValueError("prec_mm_month has negative values")
    return t, p


def moisture_factor(prec_mm_month, k_mm: float) -> np.ndarray:
    """Michaelis-Menten precipitation limitation ``P / (K + P)`` (0 when P = 0)."""
    p = np.asarray(prec_mm_month, dtype=float)
    return p / (k_mm + p)


def raich_potter_monthly(tmean_c, prec_mm_month, f_g_m2_day: float, q_per_c: float, k_mm: float) -> np.ndarray:
    """Raich & Potter (1995) monthly soil respiration, g C m-2 month-1.

    ``Rs_m = F * days_m * exp(Q * T_m) * P_m / (K + P_m)``.
    """
    t, p = _check_monthly(tmean_c, prec_mm_month)
    return f_g_m2_day * DAYS_IN_MONTH * np.exp(q_per_c * t) * moisture_factor(p, k_mm)


def temperature_optimum_monthly(
    tmean_c, prec_mm_month, f_g_m2_day: float, a_per_c: float, b_per_c2: float, k_mm: float
) -> np.ndarray:
    """Monthly soil respiration with a temperature optimum, g C m-2 month-1.

    ``Rs_m = F * days_m * exp(a T_m - b T_m^2) * P_m / (K + P_m)``; optimum at ``a / (2 b)``.
    """
    t, p = _check_monthly(tmean_c, prec_mm_month)
    return f_g_m2_day * DAYS_IN_MONTH * np.exp(a_per_c * t - b_per_c2 * t**2) * moisture_factor(p, k_mm)


#: Lloyd & Taylor (1994) constants: T0 (deg C) and reference temperature (deg C).
LLOYD_TAYLOR_T0_C = -46.02
LLOYD_TAYLOR_TREF_C = 10.0


def lloyd_taylor_monthly(tmean_c, prec_mm_month, f_g_m2_day: float, e0_k: float, k_mm: float) -> np.ndarray:
    """Lloyd-Taylor temperature response with precipitation limitation, g C m-2 month-1.

    ``Rs_m = F * days_m * exp(E0 (1/(Tref - T0) - 1/(T_m - T0))) * P_m / (K + P_m)`` with
    ``T0 = -46.02`` deg C and ``Tref = 10`` deg C, so ``F`` is the daily rate at 10 deg C without
    moisture limitation. Months at or below ``T0`` respire nothing (the limit of the formula).
    """
    t, p = _check_monthly(tmean_c, prec_mm_month)
    above = t > LLOYD_TAYLOR_T0_C
    with np.errstate(divide="ignore", over="ignore"):
        arg = e0_k * (1.0 / (LLOYD_TAYLOR_TREF_C - LLOYD_TAYLOR_T0_C) - 1.0 / np.where(above, t - LLOYD_TAYLOR_T0_C, 1.0))
    temp = np.where(above, np.exp(arg), 0.0)
    return f_g_m2_day * DAYS_IN_MONTH * temp * moisture_factor(p, k_mm)


def linear_mat_map(mat_c, map_mm, intercept: float, slope_per_c: float, slope_per_mm: float) -> np.ndarray:
    """Linear model of annual Rs (g C m-2 yr-1) on MAT (deg C) and MAP (mm yr-1)."""
    return intercept + slope_per_c * np.asarray(mat_c, float) + slope_per_mm * np.asarray(map_mm, float)


def fit_linear_mat_map(mat_c, map_mm, rs_g_m2_yr) -> dict[str, float]:
    """Ordinary least squares fit of :func:`linear_mat_map`; returns its three parameters."""
    x = np.column_stack([np.ones(len(rs_g_m2_yr)), np.asarray(mat_c, float), np.asarray(map_mm, float)])
    coef, *_ = np.linalg.lstsq(x, np.asarray(rs_g_m2_yr, float), rcond=None)
    return {"intercept": float(coef[0]), "slope_per_c": float(coef[1]), "slope_per_mm": float(coef[2])}


def fit_class_means(classes, rs_g_m2_yr, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean observed Rs per class (area x mean member).

    Parameters
    ----------
    classes
        Integer class index of each observation (0..n_classes-1).
    rs_g_m2_yr
        Observed annual Rs.

    Returns
    -------
    means, counts
        Per-class mean (NaN for classes without observations) and observation count.
    """
    classes = np.asarray(classes, dtype=int)
    rs = np.asarray(rs_g_m2_yr, dtype=float)
    if classes.min(initial=0) < 0 or classes.max(initial=0) >= n_classes:
        raise ValueError(f"class indices must be in 0..{n_classes - 1}")
    counts = np.bincount(classes, minlength=n_classes)
    sums = np.bincount(classes, weights=rs, minlength=n_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return means, counts


def annual_sum(monthly: np.ndarray) -> np.ndarray:
    """Sum over the last (month) axis: g C m-2 month-1 -> g C m-2 yr-1."""
    return np.asarray(monthly).sum(axis=-1)


def _least_squares():
    """scipy's ``least_squares``, imported on first use: scipy.optimize costs 0.4 CPU-s in every chapter kernel."""
    from scipy.optimize import least_squares

    return least_squares


def fit_raich_potter(
    tmean_c, prec_mm_month, rs_g_m2_yr, start: tuple[float, float, float] = (1.25, 0.05452, 42.59)
) -> dict[str, float]:
    """Fit F, Q, K of :func:`raich_potter_monthly` summed to annual values, by least squares.

    The default start is Raich & Potter's published global fit (F = 1.250 g C m-2 day-1,
    Q = 0.05452 per deg C, K = 4.259 cm = 42.59 mm).
    """
    t, p = _check_monthly(tmean_c, prec_mm_month)
    rs = np.asarray(rs_g_m2_yr, dtype=float)

    def resid(theta):
        return annual_sum(raich_potter_monthly(t, p, *theta)) - rs

    sol = _least_squares()(
        resid, x0=np.asarray(start), bounds=([1e-4, -0.5, 0.0], [50.0, 0.5, 5000.0]), x_scale=np.abs(np.asarray(start)) + 1e-3
    )
    return {"f_g_m2_day": float(sol.x[0]), "q_per_c": float(sol.x[1]), "k_mm": float(sol.x[2])}


def fit_temperature_optimum(
    tmean_c, prec_mm_month, rs_g_m2_yr, start: tuple[float, float, float, float] = (1.0, 0.08, 0.001, 40.0)
) -> dict[str, float]:
    """Fit F, a, b, K of :func:`temperature_optimum_monthly` summed to annual values."""
    t, p = _check_monthly(tmean_c, prec_mm_month)
    rs = np.asarray(rs_g_m2_yr, dtype=float)

    def resid(theta):
        return annual_sum(temperature_optimum_monthly(t, p, *theta)) - rs

    sol = _least_squares()(
        resid,
        x0=np.asarray(start),
        bounds=([1e-4, -0.5, 0.0, 0.0], [50.0, 0.5, 0.05, 5000.0]),
        x_scale=np.abs(np.asarray(start)) + 1e-4,
    )
    return {"f_g_m2_day": float(sol.x[0]), "a_per_c": float(sol.x[1]), "b_per_c2": float(sol.x[2]), "k_mm": float(sol.x[3])}


def fit_lloyd_taylor(
    tmean_c, prec_mm_month, rs_g_m2_yr, start: tuple[float, float, float] = (1.5, 308.56, 40.0)
) -> dict[str, float]:
    """Fit F, E0, K of :func:`lloyd_taylor_monthly` summed to annual values.

    The default start uses Lloyd & Taylor's E0 = 308.56 K.
    """
    t, p = _check_monthly(tmean_c, prec_mm_month)
    rs = np.asarray(rs_g_m2_yr, dtype=float)

    def resid(theta):
        return annual_sum(lloyd_taylor_monthly(t, p, *theta)) - rs

    sol = _least_squares()(
        resid, x0=np.asarray(start), bounds=([1e-4, 0.0, 0.0], [50.0, 2000.0, 5000.0]), x_scale=np.abs(np.asarray(start))
    )
    return {"f_g_m2_day": float(sol.x[0]), "e0_k": float(sol.x[1]), "k_mm": float(sol.x[2])}
