"""Tests for the process-model conversions appended to globalrs.core.units (CMIP6 chapter)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from globalrs.core import units


def _field(values, attrs=None):
    da = xr.DataArray(
        np.asarray(values, dtype=float),
        dims=("lat", "lon"),
        coords={"lat": [0.5, 1.5], "lon": [10.5, 11.5]},
    )
    da.attrs = attrs or {}
    return da


def test_kg_m2_s_with_area_and_land_fraction_to_pg():
    # 1e-8 kg m-2 s-1 = 1e-5 g m-2 s-1; x 86400 x 365.25 s = 315.576 g m-2 yr-1
    rh = _field([[1e-8, 1e-8], [1e-8, np.nan]], {"units": "kg m-2 s-1"})
    area = _field([[1e10, 1e10], [1e10, 1e10]], {"units": "m2"})
    sftlf = _field([[100.0, 50.0], [0.0, 100.0]], {"units": "%"})
    frac = units.land_fraction_from_sftlf(sftlf)
    total = units.flux_to_total_pg_c_yr(rh, area, frac)
    # land areas 1e10 + 0.5e10 + 0 (+ NaN cell) = 1.5e10 m2
    assert float(total) == pytest.approx(315.576 * 1.5e10 / 1e15, rel=1e-12)
    assert total.attrs["units"] == "Pg C yr-1"


def test_per_day_flux_with_land_area_to_pg():
    # 1 g C m-2 day-1 over 1e12 m2 of land = 365.25e12 g = 0.36525 Pg C yr-1
    flux = _field([[1.0, 0.0], [0.0, 0.0]], {"units": "g C m-2 day-1"})
    land_area = _field([[1e12, 1e12], [1e12, 1e12]], {"units": "m2"})
    assert float(units.flux_to_total_pg_c_yr(flux, land_area)) == pytest.approx(0.36525)
    assert float(units.flux_to_total_pg_c_yr(flux, land_area, days_per_year=365.0)) == pytest.approx(0.365)


def test_flux_to_total_rejects_km2_area():
    flux = _field([[1.0, 1.0], [1.0, 1.0]], {"units": "g C m-2 day-1"})
    with pytest.raises(units.UnitsError, match="m2"):
        units.flux_to_total_pg_c_yr(flux, _field([[1, 1], [1, 1]], {"units": "km^2"}))


def test_land_fraction_from_sftlf():
    frac = units.land_fraction_from_sftlf(_field([[0.0, 25.0], [100.0, 50.0]], {"units": "%"}))
    np.testing.assert_allclose(frac.values, [[0.0, 0.25], [1.0, 0.5]])
    assert frac.attrs["units"] == "1"
    with pytest.raises(units.UnitsError, match="> 1"):
        units.land_fraction_from_sftlf(_field([[0.0, 25.0], [100.0, 50.0]]))
    with pytest.raises(units.UnitsError, match="not understood"):
        units.land_fraction_from_sftlf(_field([[0.0, 0.0], [0.0, 0.0]], {"units": "m2"}))
    with pytest.raises(units.UnitsError, match="outside"):
        units.land_fraction_from_sftlf(_field([[0.0, 0.0], [0.0, 1.5]], {"units": "1"}))


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (5.24e16, "g C yr-1", 52.4),  # ISIMIP2a global files
        (52.4, "Pg/yr", 52.4),
        (1000.0, "Tg C yr-1", 1.0),
        (1e15, "g C day-1", 365.25),
        (1e15, "kg yr-1", 1000.0),
    ],
)
def test_total_to_pg_c_yr(value, unit, expected):
    assert units.total_to_pg_c_yr(value, unit) == pytest.approx(expected)


def test_total_to_pg_c_yr_rejects_density():
    with pytest.raises(units.UnitsError, match="density"):
        units.total_to_pg_c_yr(1.0, "g C m-2 yr-1")


def test_varney_maps_use_a_365_day_year():
    # Varney et al. (2020) saved CMIP rh as kg m-2 s-1 x 86400 x 365; the book's units module
    # uses 365.25 days unless told otherwise. The two agree only with days_per_year=365: the
    # difference (365.25 / 365 - 1) is the "calendar" part of the map-vs-hector residual.
    rh = _field([[1e-8, 2e-8], [0.0, 3e-8]], {"units": "kg m-2 s-1"})
    varney = rh.values * 86400.0 * 365.0
    book = units.convert_flux_density(rh, "kg C m-2 yr-1")
    varney_like = units.convert_flux_density(rh, "kg C m-2 yr-1", days_per_year=365.0)
    np.testing.assert_allclose(varney_like.values, varney, rtol=1e-12)
    nonzero = varney > 0
    np.testing.assert_allclose(book.values[nonzero] / varney[nonzero], 365.25 / 365.0, rtol=1e-12)


def test_varney_map_units_go_to_the_book_unit_without_a_calendar():
    # a per-year density to g C m-2 yr-1 is a mass factor only: no day count involved
    rh = _field([[0.5, 1.0], [1.5, 0.0]], {"units": "kg C m-2 yr-1"})
    for days in (365.0, 365.25, 360.0):
        out = units.convert_flux_density(rh, "g C m-2 yr-1", days_per_year=days)
        np.testing.assert_allclose(out.values, rh.values * 1000.0, rtol=1e-12)
