"""Tests for globalrs.core.units: hand-computed conversions on tiny synthetic arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from globalrs.core import units


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


# ---- units of field studies: conversions computed here from physical constants ----------------

MOLAR_MASS_C = 12.011  # g mol-1 (IUPAC)
MOLAR_MASS_O = 15.999  # g mol-1 (IUPAC)
SECONDS_PER_YEAR = 86400 * 365.25
HOURS_PER_YEAR = 24 * 365.25


@pytest.mark.parametrize(
    "unit, g_c_m2_yr",
    [
        # 1 umol CO2 = 1e-6 mol CO2 holding 1e-6 mol C = 12.011e-6 g C, every second for a year
        ("umol CO2 m-2 s-1", 1e-6 * MOLAR_MASS_C * SECONDS_PER_YEAR),
        ("µmol CO2 m-2 s-1", 1e-6 * MOLAR_MASS_C * SECONDS_PER_YEAR),
        ("umol CO2/m2/s", 1e-6 * MOLAR_MASS_C * SECONDS_PER_YEAR),
        ("mg C m-2 h-1", 1e-3 * HOURS_PER_YEAR),
        # 1 mg CO2 holds 12.011 / 44.009 mg C
        ("mg CO2 m-2 h-1", 1e-3 * MOLAR_MASS_C / (MOLAR_MASS_C + 2 * MOLAR_MASS_O) * HOURS_PER_YEAR),
        ("gCO2/m2/d", MOLAR_MASS_C / (MOLAR_MASS_C + 2 * MOLAR_MASS_O) * 365.25),
        ("g C m-2 d-1", 365.25),
        ("kg C m-2 s-1", 1e3 * SECONDS_PER_YEAR),
        # 1 Mg = 1e6 g over 1 ha = 1e4 m2
        ("Mg C ha-1 yr-1", 1e6 / 1e4),
        ("t C ha-1 yr-1", 1e6 / 1e4),
        ("g C m-2 week-1", 365.25 / 7),
    ],
)
def test_field_units_convert_to_g_c_m2_yr(unit, g_c_m2_yr):
    out = units.convert_flux_density(_da([1.0, 2.0], unit))
    assert out.values == pytest.approx([g_c_m2_yr, 2 * g_c_m2_yr], rel=1e-12)
    # and back: the two directions are computed separately by the converter
    back = units.convert_flux_density(out, unit)
    assert back.values == pytest.approx([1.0, 2.0], rel=1e-12)


def test_one_umol_co2_per_m2_per_s_is_about_379_g_c_per_m2_per_yr():
    out = units.to_g_m2_yr(_da([1.0], "umol CO2 m-2 s-1"))
    assert out.values[0] == pytest.approx(379.0, abs=0.1)


def test_co2_and_c_forms_of_one_flux_agree():
    # 44.009 mg CO2 is one millimole, i.e. 12.011 mg C: the same flux in two spellings
    co2 = units.to_g_m2_yr(_da([MOLAR_MASS_C + 2 * MOLAR_MASS_O], "mg CO2 m-2 h-1"))
    c = units.to_g_m2_yr(_da([MOLAR_MASS_C], "mg C m-2 h-1"))
    mol = units.to_g_m2_yr(_da([1.0], "mmol CO2 m-2 h-1"))
    assert co2.values == pytest.approx(c.values, rel=1e-12)
    assert mol.values == pytest.approx(c.values, rel=1e-12)


def test_parse_reports_species_and_time():
    parsed = units.parse_flux_units("mg CO2 m-2 h-1")
    assert parsed.species == "CO2" and parsed.time == "h" and parsed.area_m2 == 1.0
    assert units.parse_flux_units("Tg C yr-1").is_per_cell


@pytest.mark.parametrize(
    "text, message",
    [
        ("umol m-2 s-1", "needs its species"),
        ("g C CO2 m-2 yr-1", "more than one species"),
        ("furlongs per fortnight", "cannot read units"),
        ("g m-2 K-1", "cannot read units"),
        ("g m-3 yr-1", "cannot read units"),
    ],
)
def test_field_units_errors_say_why(text, message):
    with pytest.raises(units.UnitsError, match=message):
        units.parse_flux_units(text)
