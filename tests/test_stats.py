"""Tests for globalrs.core.stats on series with known slopes and known cycles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from globalrs.core import stats, units


def test_compute_anomaly_array_and_series():
    np.testing.assert_allclose(stats.compute_anomaly([1.0, 2.0, 6.0]), [-2.0, -1.0, 3.0])
    s = pd.Series([10.0, np.nan, 14.0], index=[2000, 2001, 2002])
    out = stats.compute_anomaly(s)
    assert out.loc[2000] == -2.0 and np.isnan(out.loc[2001]) and out.index.tolist() == [2000, 2001, 2002]


def test_linear_trend_exact_line():
    years = np.arange(1980, 2011)
    values = 70.0 + 0.11 * (years - 1980)
    out = stats.linear_trend(years, values)
    assert out["slope"] == pytest.approx(0.11)
    assert out["r2"] == pytest.approx(1.0)
    assert out["n"] == 31
    assert out["first_year"] == 1980 and out["last_year"] == 2010


def test_linear_trend_known_small_case():
    # y = [1, 3, 2, 5, 4] on x = [0..4]: slope = 0.8, intercept 1.4, SSE = 3.6, Sxx = 10
    years = np.array([2000, 2001, 2002, 2003, 2004])
    y = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    out = stats.linear_trend(years, y)
    assert out["slope"] == pytest.approx(0.8)
    se = np.sqrt(3.6 / 3 / 10)
    assert out["slope_se"] == pytest.approx(se)
    from scipy import stats as ss

    t = 0.8 / se
    assert out["p"] == pytest.approx(2 * ss.t.sf(t, 3))
    assert out["ci_low"] == pytest.approx(0.8 - ss.t.ppf(0.975, 3) * se)
    sst = np.sum((y - y.mean()) ** 2)  # 10
    assert out["r2"] == pytest.approx(1 - 3.6 / sst)
    # residuals: y - (1.4 + 0.8x) = [-0.4, 0.8, -1.0, 1.2, -0.6]
    r = np.array([-0.4, 0.8, -1.0, 1.2, -0.6])
    assert out["durbin_watson"] == pytest.approx(np.sum(np.diff(r) ** 2) / np.sum(r**2))


def test_linear_trend_window_and_nan_counted():
    years = np.arange(1970, 2021)
    values = np.where(years < 1980, 1000.0, 2.0 * years)  # outside the window: junk
    values = values.astype(float)
    values[years == 1995] = np.nan
    out = stats.linear_trend(years, values, start=1980, end=2010)
    assert out["slope"] == pytest.approx(2.0)
    assert out["n"] == 30 and out["n_dropped"] == 1


def test_linear_trend_noisy_slope_recovered_and_hac_differs_with_autocorrelation():
    rng = np.random.default_rng(0)
    years = np.arange(1900, 2100)
    noise = np.zeros(years.size)
    for i in range(1, years.size):  # strongly autocorrelated AR(1) noise
        noise[i] = 0.9 * noise[i - 1] + rng.normal()
    out = stats.linear_trend(years, 0.05 * years + noise)
    assert abs(out["slope"] - 0.05) < 4 * out["hac_slope_se"]
    assert out["durbin_watson"] < 1.0  # positive autocorrelation detected
    assert out["hac_slope_se"] > out["slope_se"]  # HAC widens the interval
    assert out["hac_ci_low"] < out["ci_low"]


def test_linear_trend_errors():
    with pytest.raises(ValueError, match="at least 3"):
        stats.linear_trend([2000, 2001], [1.0, 2.0])
    with pytest.raises(ValueError, match="length"):
        stats.linear_trend([2000, 2001, 2002], [1.0, 2.0])
    with pytest.raises(ValueError, match="no years"):
        stats.linear_trend([2000, 2001, 2002], [1.0, 2.0, 3.0], start=2050)


def test_temperature_sensitivity_aligns_years():
    t = pd.Series([0.0, 0.1, 0.5, 0.3, 0.8, 0.2], index=range(1990, 1996))
    rs = pd.Series(80.0 + 3.5 * t.to_numpy(), index=range(1990, 1996)).iloc[1:]  # starts 1991
    rs.loc[2000] = 999.0  # no temperature this year: ignored by the inner join
    out = stats.temperature_sensitivity(rs, t)
    assert out["slope"] == pytest.approx(3.5)
    assert out["n"] == 5 and out["first_year"] == 1991 and out["last_year"] == 1995
    with pytest.raises(TypeError):
        stats.temperature_sensitivity(rs.to_numpy(), t)


def test_check_named_years():
    years = np.arange(1980, 2013)
    anom = pd.Series(np.zeros(years.size), index=years)
    anom.loc[1984] = -1.0  # a two-year low 1984-85
    anom.loc[1985] = -0.5
    anom.loc[1998] = 2.0
    anom.loc[2009] = 3.0  # 2010 is NOT a local high: its neighbour 2009 is higher
    anom.loc[2010] = 1.0
    named = (((1984, 1985), (1992,)), ((1998,), (2010,)))
    out = stats.check_named_years(anom, *named).set_index("event")
    assert out.loc["1984-1985", "is_local_extreme"] is True
    assert out.loc["1984-1985", "value"] == -1.0
    assert out.loc["1992", "is_local_extreme"] is False  # flat
    assert out.loc["1998", "is_local_extreme"] is True
    assert out.loc["2010", "is_local_extreme"] is False
    short = stats.check_named_years(anom.loc[1990:2010], *named).set_index("event")
    assert short.loc["1984-1985", "is_local_extreme"] is None
    assert short.loc["2010", "is_local_extreme"] is None  # no 2011 to compare


def test_days_per_month():
    assert stats.days_per_month().sum() == 365
    assert stats.days_per_month(2000)[1] == 29 and stats.days_per_month(1900)[1] == 28
    np.testing.assert_allclose(stats.days_per_month(), units.DAYS_IN_MONTH)


def _cycle(peak_month: int, mean: float = 6.0, amp: float = 2.0) -> np.ndarray:
    m = np.arange(1, 13)
    return mean + amp * np.cos(2 * np.pi * (m - peak_month) / 12)


def test_seasonal_cycle_metrics_known_cosine():
    out = stats.seasonal_cycle_metrics(_cycle(7))
    assert out["peak_month"] == 7 and out["min_month"] == 1
    assert out["amplitude"] == pytest.approx(4.0)
    assert out["annual_sum"] == pytest.approx(72.0)
    with pytest.raises(ValueError):
        stats.seasonal_cycle_metrics(np.ones(11))


def test_phase_and_compare_cycles():
    obs = _cycle(7)
    mod = _cycle(9, mean=7.0)
    assert stats.cycle_phase_month(obs) == pytest.approx(7.0)
    out = stats.compare_cycles(obs, mod)
    assert out["bias"] == pytest.approx(1.0)
    assert out["relative_bias"] == pytest.approx(1 / 6)
    assert out["phase_lag_months"] == pytest.approx(2.0)
    assert out["correlation"] == pytest.approx(np.cos(2 * np.pi * 2 / 12))
    # wrap-around: peak in December vs January is one month apart, not eleven
    assert stats.compare_cycles(_cycle(12), _cycle(1))["phase_lag_months"] == pytest.approx(1.0)


def test_monthly_global_totals_pg_units():
    area = xr.DataArray(np.array([[1e14, 3e14]]), dims=("lat", "lon"))
    per_day = xr.DataArray(np.ones((12, 1, 2)), dims=("month", "lat", "lon"), coords={"month": np.arange(1, 13)})
    per_day.attrs["units"] = "g C m-2 day-1"
    out = stats.monthly_global_totals_pg(per_day, area)
    assert out.attrs["units"] == "Pg C month-1"
    np.testing.assert_allclose(out.values, units.DAYS_IN_MONTH * 4e14 / 1e15)
    per_month = per_day.copy().assign_attrs(units="g C m-2 month-1")
    np.testing.assert_allclose(stats.monthly_global_totals_pg(per_month, area).values, 0.4)
    with pytest.raises(ValueError, match="units"):
        stats.monthly_global_totals_pg(per_day.assign_attrs(units="g C m-2 yr-1"), area)
    holed = per_month.copy()
    holed[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="mask"):
        stats.monthly_global_totals_pg(holed, area, mask=xr.DataArray(np.array([[True, True]]), dims=("lat", "lon")))


def test_paired_site_month_comparison():
    out = stats.paired_site_month_comparison([1.0, 2.0, 3.0, np.nan], [2.0, 3.0, 4.0, 5.0])
    assert out["bias"] == pytest.approx(1.0) and out["rmse"] == pytest.approx(1.0)
    assert out["correlation"] == pytest.approx(1.0)
    assert out["n"] == 3 and out["n_dropped"] == 1


def _long_table():
    years = np.arange(1970, 2021)
    a = pd.DataFrame({"series": "a", "year": years, "value_pg_c_yr": 80.0 + 0.2 * (years - 1970)})
    b = pd.DataFrame({"series": "b", "year": years[10:], "value_pg_c_yr": 50.0 - 0.1 * (years[10:] - 1980)})
    return pd.concat([a, b], ignore_index=True)


def test_trend_table_per_series_overlap():
    out = stats.trend_table(_long_table(), start=1980, end=2010)
    assert out.loc["a", "slope"] == pytest.approx(0.2)
    assert out.loc["b", "slope"] == pytest.approx(-0.1)
    assert out.loc["a", "first_year"] == 1980 and out.loc["b", "last_year"] == 2010
    assert out.loc["a", "n"] == 31


def test_sensitivity_table_and_anomaly_column():
    long = _long_table()
    temp = pd.Series(0.02 * (np.arange(1970, 2021) - 1970), index=np.arange(1970, 2021))
    out = stats.sensitivity_table(long, temp, start=1980, end=2010)
    assert out.loc["a", "slope"] == pytest.approx(10.0)  # 0.2 per yr / 0.02 degC per yr
    assert out.loc["b", "slope"] == pytest.approx(-5.0)
    anom = stats.add_anomaly_column(long, start=1990, end=1992)
    assert anom.year.between(1990, 1992).all()
    a = anom[anom.series == "a"].anomaly_pg_c_yr.to_numpy()
    np.testing.assert_allclose(a, [-0.2, 0.0, 0.2])


def test_constant_series_raise_and_are_listed():
    with pytest.raises(ValueError, match="constant"):
        stats.linear_trend([2000, 2001, 2002], [5.0, 5.0, 5.0])
    long = pd.concat(
        [_long_table(), pd.DataFrame({"series": "flat", "year": np.arange(1980, 2011), "value_pg_c_yr": 89.0})],
        ignore_index=True,
    )
    out = stats.trend_table(long, start=1980, end=2010)
    assert "flat" not in out.index and out.attrs["constant_series"] == ["flat"]
    temp = pd.Series(np.linspace(0, 1, 51), index=np.arange(1970, 2021))
    sens = stats.sensitivity_table(long, temp, start=1980, end=2010)
    assert sens.attrs["constant_series"] == ["flat"] and len(sens) == 2


def test_monthly_totals_by_hemisphere():
    lat = np.array([-45.0, 45.0])
    lon = np.array([0.0])
    months = np.arange(1, 13)
    data = np.zeros((1, 12, 2, 1))
    data[0, :, 0, 0] = _cycle(1, mean=2.0, amp=1.0)  # southern cell peaks in January
    data[0, :, 1, 0] = _cycle(7, mean=4.0, amp=2.0)  # northern cell peaks in July
    rs = xr.DataArray(
        data,
        dims=("member_monthly", "month", "lat", "lon"),
        coords={"member_monthly": ["m"], "month": months, "lat": lat, "lon": lon},
        attrs={"units": "g C m-2 month-1"},
    )
    area = xr.DataArray(np.full((2, 1), 1e15), dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    out = stats.monthly_totals_by_hemisphere(rs, area)
    glob = out[out.region == "Global"].pg_c_month.to_numpy()
    nh = out[out.region == "Northern hemisphere"].pg_c_month.to_numpy()
    sh = out[out.region == "Southern hemisphere"].pg_c_month.to_numpy()
    np.testing.assert_allclose(nh, _cycle(7, 4.0, 2.0))
    np.testing.assert_allclose(sh, _cycle(1, 2.0, 1.0))
    np.testing.assert_allclose(glob, nh + sh)
    metrics = stats.cycle_metrics_table(out, "pg_c_month", ["member", "region"])
    assert metrics.loc[("m", "Global"), "peak_month"] == 7
    assert metrics.loc[("m", "Southern hemisphere"), "min_month"] == 7
    assert metrics.loc[("m", "Global"), "amplitude"] == pytest.approx(2.0)  # 6 - cos: the SH cycle offsets half the NH one


def test_complete_site_year_cycles_and_normalized_group_cycles():
    rows = []
    for m in range(1, 13):  # site a, 2000: complete, with a duplicate in March
        rows.append({"SiteID": "a", "Measure_Year": 2000, "Measure_Month": m, "obs": 1.0 + (m == 7), "zone": "X"})
    rows.append({"SiteID": "a", "Measure_Year": 2000, "Measure_Month": 3, "obs": 3.0, "zone": "X"})
    for m in range(1, 12):  # site b, 2001: only 11 months -> dropped
        rows.append({"SiteID": "b", "Measure_Year": 2001, "Measure_Month": m, "obs": 5.0, "zone": "X"})
    for m in range(1, 13):  # site c: complete, flat
        rows.append({"SiteID": "c", "Measure_Year": 2001, "Measure_Month": m, "obs": 2.0, "zone": "X"})
    rows.append({"SiteID": "c", "Measure_Year": 2002, "Measure_Month": 1, "obs": np.nan, "zone": "X"})
    cycles, counts = stats.complete_site_year_cycles(pd.DataFrame(rows), ["obs"], extra=["zone"])
    assert counts == {
        "records": 37,
        "records_non_finite": 1,
        "duplicate_records_averaged": 1,
        "site_years": 3,
        "site_years_complete": 2,
    }
    a = cycles[cycles.SiteID == "a"].set_index("month").obs
    assert a[3] == 2.0 and a[7] == 2.0 and a[1] == 1.0
    out = stats.normalized_group_cycles(cycles, "obs", ["zone"]).set_index("month")
    # site a: mean = (10*1 + 2 + 2)/12 = 14/12; July normalized = 2 / (14/12); site c: 1 everywhere
    assert out.loc[7, "normalized"] == pytest.approx((2 / (14 / 12) + 1) / 2)
    assert out.loc[1, "n_site_years"] == 2 and out.loc[1, "n_zero_mean"] == 0
    assert out.normalized.mean() == pytest.approx(1.0)


def test_temporal_plot_helpers_draw_every_series():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from globalrs.viz import plots

    years = np.arange(1980, 1990)
    long = pd.DataFrame(
        {
            "series": np.repeat(["a", "b", "c"], 10),
            "group": np.repeat(["g1", "g1", "g2"], 10),
            "year": np.tile(years, 3),
            "anomaly_pg_c_yr": np.arange(30.0),
        }
    )
    fig = plots.plot_anomaly_panels(long, ["g1", "g2"], ncols=2, named_years=([(1982, 1983)], [(1986,)]))
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 2
    assert len(visible[0].get_lines()) == 2 + 1  # two series and the zero line
    assert len(visible[0].patches) == 2  # the named low and high years, shaded
    unshaded = plots.plot_anomaly_panels(long, ["g1"], ncols=1)
    assert not unshaded.axes[0].patches
    with pytest.raises(ValueError, match="no series"):
        plots.plot_anomaly_panels(long, ["missing"])
    temp = pd.Series(np.linspace(0, 1, 10), index=years)
    fig2 = plots.plot_anomaly_with_temperature(long, temp)
    assert len(fig2.axes) == 2  # second axis for the temperature
    assert fig2.axes[1].get_lines()[0].get_color() == "red"
    cyc = pd.DataFrame({"region": "R", "series": "s", "month": np.arange(1, 13), "v": _cycle(7)})
    fig3 = plots.plot_monthly_cycles(cyc, "v", ["R"])
    np.testing.assert_allclose(fig3.axes[0].get_lines()[0].get_ydata(), _cycle(7))
    plt.close("all")


def test_plot_sensitivity_panels_draws_fitted_line():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from globalrs.viz import plots

    years = np.arange(1980, 1990)
    temp = pd.Series(np.linspace(0.0, 0.9, 10), index=years)
    long = pd.DataFrame({"series": "a", "year": years, "value_pg_c_yr": 80 + 3.0 * temp.to_numpy()})
    fits = stats.sensitivity_table(long, temp)
    fig = plots.plot_sensitivity_panels(long, temp, fits, ncols=2)
    ax = [a for a in fig.axes if a.get_visible()]
    assert len(ax) == 1
    line = ax[0].get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), [80.0, 80 + 3.0 * 0.9])
    plt.close("all")
