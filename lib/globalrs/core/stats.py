"""Statistics of the temporal and seasonal chapters: anomalies, trends, sensitivity, cycles.

Trends and sensitivities are ordinary least squares fits (statsmodels) reported with the slope,
its 95% confidence interval, the two-sided p value and R2, plus the Durbin-Watson statistic of
the residuals and the same slope with heteroskedasticity-and-autocorrelation-consistent
(Newey-West, HAC) standard errors, so a reader can see whether serial correlation changes the
conclusion.

Seasonal helpers work on 12-value cycles (month 1..12): monthly totals with days per month
accounted, peak / minimum month and amplitude, normalized cycles, and the bias, correlation and
phase of a modelled cycle against an observed one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import ArrayLike

from globalrs.core.units import DAYS_IN_MONTH, G_PER_PG

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _as_float_array(values: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def compute_anomaly(values: Sequence[float] | np.ndarray | pd.Series) -> np.ndarray | pd.Series:
    """Return the series minus its own mean (NaNs are ignored in the mean and kept in place).

    A :class:`pandas.Series` in gives a Series out with the same index.
    """
    if isinstance(values, pd.Series):
        return values - values.mean()
    arr = _as_float_array(values, "values")
    if not np.isfinite(arr).any():
        raise ValueError("compute_anomaly: no finite values")
    return arr - np.nanmean(arr)


def default_hac_maxlags(n: int) -> int:
    """Newey-West lag truncation ``floor(4 (n/100)^(2/9))`` (at least 1)."""
    return max(1, int(np.floor(4 * (n / 100.0) ** (2.0 / 9.0))))


def fit_ols(x: ArrayLike, y: ArrayLike, hac_maxlags: int | None = None) -> pd.Series:
    """OLS of ``y`` on ``x`` with an intercept, with classical and HAC inference.

    Pairs with a non-finite ``x`` or ``y`` are dropped and counted (``n_dropped``).

    Parameters
    ----------
    x, y
        Equal-length one-dimensional sequences.
    hac_maxlags
        Newey-West lag truncation; default :func:`default_hac_maxlags`.

    Returns
    -------
    pandas.Series
        ``slope``, ``intercept``, ``slope_se``, ``ci_low``, ``ci_high`` (95%), ``p`` (two-sided,
        t test), ``r2``, ``n``, ``n_dropped``, ``durbin_watson``, ``hac_maxlags``,
        ``hac_slope_se``, ``hac_ci_low``, ``hac_ci_high``, ``hac_p``.

    Raises
    ------
    ValueError
        Different lengths, fewer than 3 usable points, or constant ``x``.
    """
    xa = _as_float_array(x, "x")
    ya = _as_float_array(y, "y")
    if xa.shape != ya.shape:
        raise ValueError(f"x and y differ in length: {xa.size} vs {ya.size}")
    ok = np.isfinite(xa) & np.isfinite(ya)
    n_dropped = int((~ok).sum())
    xa, ya = xa[ok], ya[ok]
    if xa.size < 3:
        raise ValueError(f"need at least 3 finite pairs, got {xa.size}")
    if np.ptp(xa) == 0:
        raise ValueError("x is constant; the slope is undefined")
    if np.ptp(ya) == 0:
        raise ValueError("y is constant; p and R2 are undefined (no variation to explain)")
    # the statsmodels pieces used, not statsmodels.api (which loads every model family), imported
    # here: about 2 CPU-s that every chapter importing globalrs.viz.plots paid, fitting or not
    from statsmodels.regression.linear_model import OLS
    from statsmodels.stats.stattools import durbin_watson
    from statsmodels.tools.tools import add_constant

    design = add_constant(xa, has_constant="add")
    fit = OLS(ya, design).fit()
    ci = fit.conf_int(alpha=0.05)
    lags = default_hac_maxlags(xa.size) if hac_maxlags is None else int(hac_maxlags)
    hac = OLS(ya, design).fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True}, use_t=True)
    hac_ci = hac.conf_int(alpha=0.05)
    return pd.Series(
        {
            "slope": float(fit.params[1]),
            "intercept": float(fit.params[0]),
            "slope_se": float(fit.bse[1]),
            "ci_low": float(ci[1, 0]),
            "ci_high": float(ci[1, 1]),
            "p": float(fit.pvalues[1]),
            "r2": float(fit.rsquared),
            "n": int(xa.size),
            "n_dropped": n_dropped,
            "durbin_watson": float(durbin_watson(fit.resid)),
            "hac_maxlags": lags,
            "hac_slope_se": float(hac.bse[1]),
            "hac_ci_low": float(hac_ci[1, 0]),
            "hac_ci_high": float(hac_ci[1, 1]),
            "hac_p": float(hac.pvalues[1]),
        }
    )


def linear_trend(
    years: Sequence[int],
    values: Sequence[float],
    start: int | None = None,
    end: int | None = None,
    hac_maxlags: int | None = None,
) -> pd.Series:
    """Linear trend of an annual series (slope per year) over ``start..end`` inclusive.

    For global totals in Pg C yr-1 the slope is in Pg C yr-2. The result of :func:`fit_ols`
    plus ``first_year`` and ``last_year`` of the fitted window.
    """
    yrs = _as_float_array(years, "years")
    vals = _as_float_array(values, "values")
    if yrs.shape != vals.shape:
        raise ValueError(f"years and values differ in length: {yrs.size} vs {vals.size}")
    keep = np.ones(yrs.shape, bool)
    if start is not None:
        keep &= yrs >= start
    if end is not None:
        keep &= yrs <= end
    if not keep.any():
        raise ValueError(f"no years within {start}..{end}")
    out = fit_ols(yrs[keep], vals[keep], hac_maxlags=hac_maxlags)
    good = keep & np.isfinite(vals)
    out["first_year"] = int(yrs[good].min())
    out["last_year"] = int(yrs[good].max())
    return out


def temperature_sensitivity(
    values: pd.Series | pd.DataFrame,
    temperature_anomaly_c: pd.Series,
    start: int | None = None,
    end: int | None = None,
    hac_maxlags: int | None = None,
) -> pd.Series:
    """OLS slope of an annual series on the annual temperature anomaly (per deg C).

    For global Rs in Pg C yr-1 the slope is in Pg C yr-1 degC-1.

    Parameters
    ----------
    values, temperature_anomaly_c
        Series indexed by year; they are aligned on common years (``start..end`` inclusive).

    Returns
    -------
    pandas.Series
        As :func:`fit_ols`, plus ``first_year``, ``last_year``.
    """
    if not isinstance(values, pd.Series) or not isinstance(temperature_anomaly_c, pd.Series):
        raise TypeError("values and temperature_anomaly_c must be pandas Series indexed by year")
    joined = pd.concat({"y": values, "t": temperature_anomaly_c}, axis=1, join="inner").dropna()
    if start is not None:
        joined = joined[joined.index >= start]
    if end is not None:
        joined = joined[joined.index <= end]
    if joined.empty:
        raise ValueError("no common years between the series and the temperature anomaly")
    out = fit_ols(joined["t"].to_numpy(), joined["y"].to_numpy(), hac_maxlags=hac_maxlags)
    out["first_year"] = int(joined.index.min())
    out["last_year"] = int(joined.index.max())
    return out


def check_named_years(
    anomaly: pd.Series,
    lows: Sequence[int | Sequence[int]],
    highs: Sequence[int | Sequence[int]],
) -> pd.DataFrame:
    """Test whether each named year is a local low (high) of an annual anomaly series.

    A named event (a year or a tuple of adjacent years) counts as a local low when the lowest
    anomaly among its years is lower than the anomalies of both neighbouring years (the year
    before its first and after its last year); likewise for highs. Events at the edge of the
    series or outside it are reported as ``None`` (cannot tell), never as True/False.

    Parameters
    ----------
    anomaly
        Series indexed by integer year.

    Returns
    -------
    pandas.DataFrame
        One row per event: ``event`` (label), ``kind`` ("low"/"high"), ``value`` (the extreme
        anomaly among its years), ``is_local_extreme`` (bool or None).
    """
    s = anomaly.dropna()
    rows = []
    for kind, events in (("low", lows), ("high", highs)):
        for ev in events:
            years = (int(ev),) if isinstance(ev, (int, np.integer)) else tuple(ev)
            label = "-".join(str(y) for y in years)
            before, after = min(years) - 1, max(years) + 1
            inside = [y for y in years if y in s.index]
            if not inside or before not in s.index or after not in s.index:
                rows.append({"event": label, "kind": kind, "value": np.nan, "is_local_extreme": None})
                continue
            vals = s.loc[inside]
            value = float(vals.min() if kind == "low" else vals.max())
            neighbours = [float(s.loc[before]), float(s.loc[after])]
            if kind == "low":
                ok = all(value < v for v in neighbours)
            else:
                ok = all(value > v for v in neighbours)
            rows.append({"event": label, "kind": kind, "value": value, "is_local_extreme": bool(ok)})
    out = pd.DataFrame(rows)
    # object dtype keeps Python True/False/None apart (a bool column would turn None into False)
    out["is_local_extreme"] = pd.Series([r["is_local_extreme"] for r in rows], dtype=object)
    return out


# ----------------------------------------------------------------------------- seasonality


def days_per_month(year: int | None = None) -> np.ndarray:
    """Days in each month, January first; a non-leap year unless ``year`` is a leap year."""
    days = DAYS_IN_MONTH.copy()
    if year is not None and (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        days[1] = 29
    return days


def monthly_global_totals_pg(
    rs_monthly: xr.DataArray,
    area_m2: xr.DataArray,
    mask: xr.DataArray | None = None,
) -> xr.DataArray:
    """Global monthly totals in Pg C per month from a monthly flux field.

    Parameters
    ----------
    rs_monthly
        (..., month, lat, lon) flux with ``units`` ``"g C m-2 month-1"`` (amount in that month)
        or ``"g C m-2 day-1"`` (mean daily rate; multiplied by the days of each month of a
        non-leap year). Month coordinate 1..12.
    area_m2
        (lat, lon) cell areas.
    mask
        Optional (lat, lon) boolean: cells that must have values (NaN inside raises).

    Returns
    -------
    xarray.DataArray
        (..., month) totals with ``units="Pg C month-1"``.
    """
    units = (rs_monthly.attrs.get("units") or "").replace(" ", "")
    if units == "gCm-2month-1":
        per_month = rs_monthly
    elif units == "gCm-2day-1":
        days = xr.DataArray(DAYS_IN_MONTH, dims="month", coords={"month": np.arange(1, 13)})
        per_month = rs_monthly * days.sel(month=rs_monthly["month"])
    else:
        raise ValueError(
            f"monthly_global_totals_pg expects units 'g C m-2 month-1' or 'g C m-2 day-1', got {rs_monthly.attrs.get('units')!r}"
        )
    if "month" not in rs_monthly.dims:
        raise ValueError("rs_monthly has no 'month' dimension")
    if mask is not None:
        bad = (per_month.isnull() & mask.astype(bool)).sum(("lat", "lon"))
        if int(bad.max()) > 0:
            raise ValueError(f"{int(bad.max())} cells inside the mask have no value")
    total = (per_month * area_m2).sum(("lat", "lon"), skipna=True) / G_PER_PG
    return total.assign_attrs(units="Pg C month-1")


def seasonal_cycle_metrics(monthly: Sequence[float] | np.ndarray | pd.Series) -> pd.Series:
    """Peak month, minimum month, their values and the amplitude of a 12-value cycle.

    Parameters
    ----------
    monthly
        12 values, January first (a Series indexed 1..12 is accepted).

    Returns
    -------
    pandas.Series
        ``peak_month`` and ``min_month`` (1..12), ``peak_value``, ``min_value``,
        ``amplitude`` (peak minus minimum, same units as the input), ``annual_sum``.
    """
    arr = _as_float_array(monthly, "monthly")
    if arr.size != 12:
        raise ValueError(f"need 12 monthly values, got {arr.size}")
    if not np.isfinite(arr).all():
        raise ValueError("monthly values must all be finite")
    peak = int(np.argmax(arr))
    low = int(np.argmin(arr))
    return pd.Series(
        {
            "peak_month": peak + 1,
            "min_month": low + 1,
            "peak_value": float(arr[peak]),
            "min_value": float(arr[low]),
            "amplitude": float(arr[peak] - arr[low]),
            "annual_sum": float(arr.sum()),
        }
    )


def cycle_phase_month(monthly: Sequence[float] | np.ndarray) -> float:
    """Phase of a 12-value cycle: the month (1..13, fractional) of the first harmonic's peak."""
    arr = _as_float_array(monthly, "monthly")
    if arr.size != 12 or not np.isfinite(arr).all():
        raise ValueError("need 12 finite monthly values")
    angles = 2 * np.pi * np.arange(12) / 12
    c = float(np.sum(arr * np.cos(angles)))
    s = float(np.sum(arr * np.sin(angles)))
    if np.hypot(c, s) < 1e-12 * max(1.0, float(np.abs(arr).sum())):
        return float("nan")
    phase = np.arctan2(s, c) % (2 * np.pi)
    return float(1 + phase * 12 / (2 * np.pi))


def circular_month_difference(a: float, b: float) -> float:
    """Signed difference ``a - b`` in months on the annual circle, in (-6, 6]."""
    d = (a - b) % 12
    return float(d - 12 if d > 6 else d)


def compare_cycles(observed: Sequence[float], modelled: Sequence[float]) -> pd.Series:
    """Bias, correlation and phase difference of a modelled 12-value cycle against observations.

    Returns
    -------
    pandas.Series
        ``bias`` (mean of modelled minus observed, input units), ``relative_bias`` (bias over the
        observed mean), ``correlation`` (Pearson, across the 12 months), ``phase_obs_month``,
        ``phase_mod_month`` (first-harmonic peak, 1..13) and ``phase_lag_months``
        (modelled minus observed, months, on the circle).
    """
    obs = _as_float_array(observed, "observed")
    mod = _as_float_array(modelled, "modelled")
    if obs.size != 12 or mod.size != 12:
        raise ValueError("need two 12-value cycles")
    bias = float(np.mean(mod - obs))
    p_obs = cycle_phase_month(obs)
    p_mod = cycle_phase_month(mod)
    return pd.Series(
        {
            "bias": bias,
            "relative_bias": bias / float(np.mean(obs)),
            "correlation": float(np.corrcoef(obs, mod)[0, 1]),
            "phase_obs_month": p_obs,
            "phase_mod_month": p_mod,
            "phase_lag_months": circular_month_difference(p_mod, p_obs),
        }
    )


def paired_site_month_comparison(observed: Sequence[float], modelled: Sequence[float]) -> pd.Series:
    """Bias, RMSE and Pearson correlation of paired site-month values (non-finite pairs counted)."""
    obs = _as_float_array(observed, "observed")
    mod = _as_float_array(modelled, "modelled")
    if obs.shape != mod.shape:
        raise ValueError("observed and modelled differ in length")
    ok = np.isfinite(obs) & np.isfinite(mod)
    if ok.sum() < 3:
        raise ValueError("need at least 3 finite pairs")
    o, m = obs[ok], mod[ok]
    return pd.Series(
        {
            "n": int(ok.sum()),
            "n_dropped": int((~ok).sum()),
            "mean_observed": float(o.mean()),
            "mean_modelled": float(m.mean()),
            "bias": float((m - o).mean()),
            "rmse": float(np.sqrt(((m - o) ** 2).mean())),
            "correlation": float(np.corrcoef(o, m)[0, 1]),
        }
    )


# ----------------------------------------------------------------------------- tables over many series


def trend_table(
    series: pd.DataFrame,
    start: int = 1980,
    end: int = 2010,
    value: str = "value_pg_c_yr",
    by: Sequence[str] = ("series",),
) -> pd.DataFrame:
    """:func:`linear_trend` of every series of a long table over its overlap with ``start..end``.

    Parameters
    ----------
    series
        Long table with the ``by`` columns, ``year`` and ``value``.

    Returns
    -------
    pandas.DataFrame
        One row per series (index: the ``by`` columns) with the :func:`linear_trend` fields.
        Slopes of Pg C yr-1 series are in Pg C yr-2. Series that are constant in the window
        (no interannual variation, so p and R2 are undefined) are left out and listed in
        ``attrs["constant_series"]``.
    """
    rows = {}
    constant: list = []
    for key, group in series.groupby(list(by), sort=False):
        key = key[0] if len(by) == 1 else key
        years = group["year"].to_numpy()
        window = np.ones(years.size, bool) if start is None else years >= start
        window &= True if end is None else years <= end
        if np.ptp(group[value].to_numpy()[window]) == 0:
            constant.append(key)
            continue
        rows[key] = linear_trend(years, group[value].to_numpy(), start=start, end=end)
    return _finish_fit_table(rows, constant, by)


def _finish_fit_table(rows: dict, constant: list, by: Sequence[str]) -> pd.DataFrame:
    """One row per series from per-series fit results; constant series listed in attrs."""
    out = pd.DataFrame(rows).T
    out.index = out.index.set_names(list(by)) if isinstance(out.index, pd.MultiIndex) else out.index.rename(by[0])
    for col in ("n", "n_dropped", "hac_maxlags", "first_year", "last_year"):
        out[col] = out[col].astype(int)
    out.attrs["constant_series"] = constant
    return out


def sensitivity_table(
    series: pd.DataFrame,
    temperature_anomaly_c: pd.Series,
    start: int | None = None,
    end: int | None = None,
    value: str = "value_pg_c_yr",
    by: Sequence[str] = ("series",),
) -> pd.DataFrame:
    """:func:`temperature_sensitivity` of every series of a long table against one temperature series.

    Slopes of Pg C yr-1 series are in Pg C yr-1 degC-1. Constant series are left out and listed
    in ``attrs["constant_series"]``.
    """
    rows = {}
    constant: list = []
    for key, group in series.groupby(list(by), sort=False):
        key = key[0] if len(by) == 1 else key
        values = pd.Series(group[value].to_numpy(), index=group["year"].astype(int).to_numpy())
        inside = values[
            (values.index >= (start if start is not None else values.index.min()))
            & (values.index <= (end if end is not None else values.index.max()))
        ]
        if np.ptp(inside.to_numpy()) == 0:
            constant.append(key)
            continue
        rows[key] = temperature_sensitivity(values, temperature_anomaly_c, start=start, end=end)
    return _finish_fit_table(rows, constant, by)


def add_anomaly_column(
    series: pd.DataFrame,
    start: int | None = None,
    end: int | None = None,
    value: str = "value_pg_c_yr",
    by: Sequence[str] = ("series",),
    out: str = "anomaly_pg_c_yr",
) -> pd.DataFrame:
    """Keep the rows within ``start..end`` and add ``out`` = each series minus its own mean there.

    The mean is taken over the years of each series inside the window, so a long series
    (e.g. a CMIP6 run from 1850) is centred on the period shown, like a short one.
    """
    frame = series
    if start is not None:
        frame = frame[frame["year"] >= start]
    if end is not None:
        frame = frame[frame["year"] <= end]
    frame = frame.copy()
    frame[out] = frame[value] - frame.groupby(list(by))[value].transform("mean")
    return frame.reset_index(drop=True)


# ----------------------------------------------------------------------------- seasonal cycles at sites and by hemisphere

#: Latitude bands of :func:`monthly_totals_by_hemisphere` (cell-centre latitude, degrees).
HEMISPHERES = {"Global": (-90.0, 90.0), "Northern hemisphere": (0.0, 90.0), "Southern hemisphere": (-90.0, 0.0)}


def monthly_totals_by_hemisphere(
    rs_monthly: xr.DataArray,
    area_m2: xr.DataArray,
    mask: xr.DataArray | None = None,
    member_dim: str = "member_monthly",
) -> pd.DataFrame:
    """Global, northern- and southern-hemisphere monthly totals (Pg C month-1) per member.

    Parameters
    ----------
    rs_monthly
        (member_dim, month, lat, lon) monthly flux (units as :func:`monthly_global_totals_pg`).
    area_m2
        (lat, lon) area to multiply by (e.g. cell area x land fraction).
    mask
        (lat, lon) cells that must have values.

    Returns
    -------
    pandas.DataFrame
        Columns ``member``, ``region`` (keys of :data:`HEMISPHERES`), ``month``, ``pg_c_month``.
        Cells with centre latitude > 0 are northern, < 0 southern (no cell centre lies on 0).
    """
    if member_dim not in rs_monthly.dims:
        raise ValueError(f"rs_monthly has no {member_dim!r} dimension: {rs_monthly.dims}")
    frames = []
    lat = rs_monthly["lat"]
    for region, (south, north) in HEMISPHERES.items():
        inside = (lat > south) & (lat < north) if region != "Global" else xr.ones_like(lat, dtype=bool)
        totals = monthly_global_totals_pg(
            rs_monthly.where(inside),
            area_m2.where(inside, 0.0),
            mask=None if mask is None else (mask.astype(bool) & inside),
        )
        frame = totals.to_dataframe(name="pg_c_month").reset_index()
        frame = frame.rename(columns={member_dim: "member"})[["member", "month", "pg_c_month"]]
        frames.append(frame.assign(region=region))
    out = pd.concat(frames, ignore_index=True)[["member", "region", "month", "pg_c_month"]]
    out["member"] = out["member"].astype(str)
    return out


def cycle_metrics_table(monthly: pd.DataFrame, value: str, by: Sequence[str]) -> pd.DataFrame:
    """:func:`seasonal_cycle_metrics` for every group of a long (group..., month, value) table."""
    rows = {}
    for key, group in monthly.groupby(list(by), sort=False):
        g = group.sort_values("month")
        if g["month"].tolist() != list(range(1, 13)):
            raise ValueError(f"group {key}: months are {g['month'].tolist()}, need 1..12 once each")
        rows[key] = seasonal_cycle_metrics(g[value].to_numpy())
    out = pd.DataFrame(rows).T
    out.index = out.index.set_names(list(by))
    out["peak_month"] = out["peak_month"].astype(int)
    out["min_month"] = out["min_month"].astype(int)
    return out


def complete_site_year_cycles(
    records: pd.DataFrame,
    values: Sequence[str],
    keys: Sequence[str] = ("SiteID", "Measure_Year"),
    month: str = "Measure_Month",
    extra: Sequence[str] = (),
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Site-years observed in all 12 months, duplicates averaged.

    Records with a non-finite value in ``values`` are dropped first; several records of the same
    site, year and month (different studies or treatments) are averaged. Only site-years with all
    12 months are kept, so that a cycle is never built from a biased subset of months.

    Returns
    -------
    cycles : pandas.DataFrame
        ``keys``, ``month`` (1..12), ``values`` and ``extra`` (first value per site-year).
    counts : dict
        ``records``, ``records_non_finite``, ``duplicate_records_averaged``, ``site_years``,
        ``site_years_complete``.
    """
    keys, values, extra = list(keys), list(values), list(extra)
    missing = set(keys + values + extra + [month]) - set(records.columns)
    if missing:
        raise ValueError(f"records lack columns {sorted(missing)}")
    finite = np.isfinite(records[values].to_numpy(dtype=float)).all(axis=1)
    rec = records.loc[finite]
    months = pd.to_numeric(rec[month], errors="raise").astype(int)
    if not months.between(1, 12).all():
        raise ValueError("month outside 1..12")
    rec = rec.assign(month=months)
    grouped = rec.groupby(keys + ["month"], as_index=False)
    mean = grouped[values].mean()
    n_dup = int(len(rec) - len(mean))
    if extra:
        mean = mean.merge(rec.groupby(keys, as_index=False)[extra].first(), on=keys, how="left")
    n_months = mean.groupby(keys)["month"].transform("nunique")
    out = mean[n_months == 12].sort_values(keys + ["month"], ignore_index=True)
    counts = {
        "records": int(len(records)),
        "records_non_finite": int((~finite).sum()),
        "duplicate_records_averaged": n_dup,
        "site_years": int(mean.groupby(keys).ngroups),
        "site_years_complete": int(out.groupby(keys).ngroups) if len(out) else 0,
    }
    return out, counts


def normalized_group_cycles(
    cycles: pd.DataFrame,
    value: str,
    group: Sequence[str],
    keys: Sequence[str] = ("SiteID", "Measure_Year"),
) -> pd.DataFrame:
    """Mean normalized cycle per group: each site-year divided by its own 12-month mean, then averaged.

    Site-years whose 12-month mean is zero cannot be normalized and are left out (counted in the
    ``n_zero_mean`` column).

    Returns
    -------
    pandas.DataFrame
        ``group`` columns, ``month``, ``normalized`` (mean over site-years; averages 1 over the
        year), ``sd`` (across site-years), ``n_site_years``, ``n_zero_mean``, ``absolute`` (mean of the
        raw values, input units).
    """
    keys, group = list(keys), list(group)
    site_mean = cycles.groupby(keys)[value].transform("mean")
    zero = site_mean == 0
    frame = cycles.loc[~zero].assign(normalized=cycles.loc[~zero, value] / site_mean[~zero])
    out = frame.groupby(group + ["month"], as_index=False).agg(
        normalized=("normalized", "mean"),
        sd=("normalized", "std"),
        absolute=(value, "mean"),
        n_site_years=("normalized", "count"),
    )
    zero_counts = (cycles.loc[zero].groupby(group).size() // 12).rename("n_zero_mean").reset_index()
    out = out.merge(zero_counts, on=group, how="left")
    out["n_zero_mean"] = out["n_zero_mean"].fillna(0).astype(int)
    return out
