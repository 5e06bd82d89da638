"""Tests for globalrs.units: hand-computed conversions on tiny synthetic arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from globalrs import units


def _da(values, unit, **coords):
    values = np.asarray(values, dtype=float)
    dims = tuple(coords) if coords else tuple(f"d{i}" for i in range(values.ndim))
    return xr.DataArray(values, dims=dims, coords=coords or None, attrs={"units": unit})


@pytest.mark.parametrize(
    "text, grams, time, area",
    [
        ("g C m-2 yr-1", 1.0, "yr", 1.0),
        ("gC/m2/yr", 1.0, "yr", 1.0),
        ("kg m-2 s-1", 1000.0, "s", 1.0),
        ("kg C m-2 s-1", 1000.0, "s", 1.0),
        ("kgC m^-2 s^-1", 1000.0, "s", 1.0),
        ("g C m-2 month-1", 1.0, "month", 1.0),
        ("g m-2 mo-1", 1.0, "month", 1.0),
        ("gC m-2 d-1", 1.0, "day", 1.0),
        ("Mg C ha-1 yr-1", 1e6, "yr", 1e4),
        ("g C yr-1", 1.0, "yr", None),
        ("Pg C/yr", 1e15, "yr", None),
        ("g C cell-1 yr-1", 1.0, "yr", None),
        ("kg C gridcell-1 month-1", 1000.0, "month", None),
    ],
)
def test_parse_flux_units(text, grams, time, area):
    parsed = units.parse_flux_units(text)
    assert parsed.grams_c == pytest.approx(grams)
    assert parsed.time == time
    assert parsed.area_m2 == area


@pytest.mark.parametrize("text", [None, "", "K", "g m-2", "m-2 yr-1", "g C m-1 yr-1", "furlongs"])
def test_parse_flux_units_rejects_unknown(text):
    with pytest.raises(units.UnitsError):
        units.parse_flux_units(text)


def test_kg_per_second_to_g_per_year():
    da = _da([1e-8, 2e-8], "kg m-2 s-1")
    out = units.convert_flux_density(da)
    # 1e-8 kg = 1e-5 g per second; a year is 365.25 * 86400 s = 31,557,600 s
    assert out.values == pytest.approx([315.576, 631.152])
    assert out.attrs["units"] == "g C m-2 yr-1"


def test_per_day_and_mg_per_ha():
    assert units.convert_flux_density(_da([2.0], "g C m-2 day-1")).values == pytest.approx([730.5])
    # 1 Mg C ha-1 yr-1 = 1e6 g / 1e4 m2 = 100 g m-2 yr-1
    assert units.convert_flux_density(_da([1.0], "Mg C ha-1 yr-1")).values == pytest.approx([100.0])


def test_month_without_calendar_is_a_twelfth_of_a_year():
    out = units.convert_flux_density(_da([10.0], "g C m-2 month-1"))
    assert out.values == pytest.approx([120.0])


def test_month_with_month_coordinate_uses_month_lengths():
    da = _da([31.0, 28.0], "g C m-2 month-1", month=[1, 2])
    per_day = units.convert_flux_density(da, "g C m-2 day-1")
    assert per_day.values == pytest.approx([1.0, 1.0])
    back = units.convert_flux_density(per_day, "g C m-2 month-1")
    assert back.values == pytest.approx([31.0, 28.0])


def test_month_with_datetime_time_uses_calendar():
    time = pd.to_datetime(["2000-02-15", "2001-02-15"])
    da = _da([1.0, 1.0], "g C m-2 day-1", time=time)
    out = units.convert_flux_density(da, "g C m-2 month-1")
    assert out.values == pytest.approx([29.0, 28.0])  # 2000 is a leap year


def test_per_cell_totals_need_area_and_round_trip():
    area = xr.DataArray([2.0, 4.0], dims=("d0",), attrs={"units": "m2"})
    totals = _da([10.0, 10.0], "g C yr-1")
    with pytest.raises(units.UnitsError, match="area_m2"):
        units.convert_flux_density(totals)
    flux = units.cell_total_to_flux_g_m2_yr(totals, area)
    assert flux.values == pytest.approx([5.0, 2.5])
    again = units.flux_to_cell_total_g_yr(flux, area)
    assert again.values == pytest.approx([10.0, 10.0])
    tg = units.convert_flux_density(flux, "Tg C yr-1", area_m2=area)
    assert tg.values == pytest.approx([1e-11, 1e-11])


def test_area_must_be_m2():
    area = xr.DataArray([2.0], dims=("d0",), attrs={"units": "km2"})
    with pytest.raises(units.UnitsError, match="m2"):
        units.convert_flux_density(_da([1.0], "g C yr-1"), area_m2=area)


def test_days_in_month_and_pg():
    assert list(units.days_in_month(np.array([1, 2, 12]))) == [31, 28, 31]
    with pytest.raises(ValueError):
        units.days_in_month(np.array([13]))
    assert units.g_to_pg(2e15) == 2.0
    assert units.pg_to_g(1.5) == 1.5e15
