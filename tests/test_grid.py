"""Cell areas and area totals against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from globalrs.grid import EARTH_RADIUS_M, cell_area_m2, global_total_pg, make_grid

SPHERE_M2 = 4 * np.pi * EARTH_RADIUS_M**2


def test_make_grid_half_degree():
    lat, lon = make_grid(0.5)
    assert lat.shape == (360,) and lon.shape == (720,)
    assert lat[0] == -89.75 and lat[-1] == 89.75
    assert lon[0] == -179.75 and lon[-1] == 179.75


def test_make_grid_rejects_uneven_resolution():
    with pytest.raises(ValueError, match="does not divide"):
        make_grid(0.7)


def test_cell_areas_sum_to_sphere():
    lat, lon = make_grid(0.5)
    assert float(cell_area_m2(lat, lon).sum()) == pytest.approx(SPHERE_M2, rel=1e-12)


def test_equatorial_one_degree_cell_by_hand():
    area = cell_area_m2(np.array([-0.5, 0.5]), np.array([0.5, 1.5]))
    expected = EARTH_RADIUS_M**2 * np.deg2rad(1.0) * np.sin(np.deg2rad(1.0))
    assert float(area.sel(lat=0.5, lon=0.5)) == pytest.approx(expected, rel=1e-12)
    assert area.attrs["units"] == "m2"


def test_descending_latitude_gives_same_areas():
    lat, lon = make_grid(2.0)
    up = cell_area_m2(lat, lon)
    down = cell_area_m2(lat[::-1], lon)
    np.testing.assert_allclose(down.values[::-1], up.values)


def test_uneven_latitudes_are_refused():
    with pytest.raises(ValueError, match="not evenly spaced"):
        cell_area_m2(np.array([0.0, 1.0, 3.0]), np.array([0.0, 1.0]))


def constant_field(value: float, resolution: float = 1.0) -> xr.DataArray:
    lat, lon = make_grid(resolution)
    return xr.DataArray(
        np.full((lat.size, lon.size), value),
        coords={"lat": lat, "lon": lon},
        dims=("lat", "lon"),
        attrs={"units": "g C m-2 yr-1"},
    )


def test_global_total_of_uniform_flux():
    # 1 g C m-2 yr-1 over the whole sphere = sphere area in m2 / 1e15 Pg
    total = global_total_pg(constant_field(1.0))
    assert float(total) == pytest.approx(SPHERE_M2 / 1e15, rel=1e-12)
    assert total.attrs["units"] == "Pg C yr-1"


def test_global_total_ignores_cells_outside_estimate():
    field = constant_field(2.0)
    field = field.where(field["lat"] > 0)  # southern hemisphere: no estimate
    assert float(global_total_pg(field)) == pytest.approx(SPHERE_M2 / 1e15, rel=1e-12)


def test_global_total_refuses_nan_inside_mask():
    field = constant_field(1.0)
    mask = xr.ones_like(field, dtype=bool)
    field[0, 0] = np.nan
    with pytest.raises(ValueError, match="1 cells inside the mask have no value"):
        global_total_pg(field, mask=mask)


def test_global_total_refuses_wrong_units():
    field = constant_field(1.0)
    field.attrs["units"] = "kg m-2 s-1"
    with pytest.raises(ValueError, match="expects g C m-2 yr-1"):
        global_total_pg(field)


def test_global_total_keeps_extra_dimensions():
    field = xr.concat([constant_field(1.0), constant_field(3.0)], dim="member")
    field.attrs["units"] = "g C m-2 yr-1"
    totals = global_total_pg(field)
    assert totals.dims == ("member",)
    assert float(totals[1] / totals[0]) == pytest.approx(3.0)


def test_land_area_of_an_all_land_sphere_is_its_surface():
    from globalrs.grid import land_area_km2

    lat, lon = make_grid(2.0)
    area = xr.DataArray(cell_area_m2(lat, lon), dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    ones = xr.ones_like(area)
    sphere_km2 = 4 * np.pi * EARTH_RADIUS_M**2 / 1e6
    assert np.isclose(land_area_km2(area, ones), sphere_km2, rtol=1e-9)
    north = xr.DataArray(lat > 0, dims="lat", coords={"lat": lat}).broadcast_like(area)
    assert np.isclose(land_area_km2(area, 0.5 * ones, mask=north), sphere_km2 / 4, rtol=1e-9)
    with pytest.raises(ValueError, match="outside 0-1"):
        land_area_km2(area, 100 * ones)
