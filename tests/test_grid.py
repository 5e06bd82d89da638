"""Cell areas and area totals against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from globalrs.core.grid import (
    EARTH_RADIUS_M,
    cell_area_m2,
    cell_index,
    check_grid,
    global_total_pg,
    land_area_mkm2,
    make_grid,
    normalize_latlon,
    sample_at_sites,
    wrap_lon,
)

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
    lat, lon = make_grid(2.0)
    area = xr.DataArray(cell_area_m2(lat, lon), dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    ones = xr.ones_like(area)
    sphere_mkm2 = 4 * np.pi * EARTH_RADIUS_M**2 / 1e12
    assert np.isclose(land_area_mkm2(area, ones), sphere_mkm2, rtol=1e-9)
    north = xr.DataArray(lat > 0, dims="lat", coords={"lat": lat}).broadcast_like(area)
    assert np.isclose(land_area_mkm2(area, 0.5 * ones, mask=north), sphere_mkm2 / 4, rtol=1e-9)
    with pytest.raises(ValueError, match="outside 0-1"):
        land_area_mkm2(area, 100 * ones)


def test_wrap_lon_and_normalize_latlon():
    np.testing.assert_allclose(wrap_lon(np.array([0.0, 179.9, 180.0, 359.5, -180.0])), [0.0, 179.9, -180.0, -0.5, -180.0])
    da = xr.DataArray(
        np.arange(6.0).reshape(2, 3),
        dims=("latitude", "longitude"),
        coords={"latitude": [10.0, -10.0], "longitude": [90.0, 270.0, 0.0]},
    )
    out = normalize_latlon(da, wrap_and_sort=True)
    assert out.dims == ("lat", "lon")
    assert out["lat"].values.tolist() == [-10.0, 10.0] and out["lon"].values.tolist() == [-90.0, 0.0, 90.0]
    assert float(out.sel(lat=10.0, lon=-90.0)) == 1.0  # the value that sat at 270 E
    with pytest.raises(ValueError, match="no lat dimension"):
        normalize_latlon(xr.DataArray(np.zeros((2, 2)), dims=("row", "lon")))


def test_cell_index_strict_and_lenient():
    np.testing.assert_array_equal(cell_index([-90.0, 0.1, 90.0], -90.0, 0.5, 360, "lat"), [0, 180, 359])
    with pytest.raises(ValueError, match="1 site"):
        cell_index([95.0], -90.0, 0.5, 360, "lat")
    np.testing.assert_array_equal(cell_index([95.0, np.nan, 0.1], -90.0, 0.5, 360, "lat", strict=False), [-1, -1, 180])


def half_degree(values=None) -> xr.DataArray:
    lat, lon = make_grid(0.5)
    data = np.arange(lat.size * lon.size, dtype=float).reshape(lat.size, lon.size) if values is None else values
    return xr.DataArray(data, coords={"lat": lat, "lon": lon}, dims=("lat", "lon"), attrs={"units": "deg C"})


def test_check_grid_accepts_make_grid():
    check_grid(half_degree(), 0.5, units="deg C")


def test_check_grid_rejects_descending_latitude():
    with pytest.raises(ValueError, match="ascending"):
        check_grid(half_degree().isel(lat=slice(None, None, -1)))


def test_check_grid_rejects_transposed_and_wrong_shape_and_units():
    with pytest.raises(ValueError, match=r"\('lat', 'lon'\)"):
        check_grid(half_degree().transpose("lon", "lat"))
    with pytest.raises(ValueError, match="not the global 0.5-degree grid"):
        check_grid(half_degree().isel(lat=slice(0, 100)))
    with pytest.raises(ValueError, match="expected units"):
        check_grid(half_degree(), 0.5, units="K")


def test_sample_at_sites_picks_containing_cell():
    field = half_degree()
    # (10.2, 20.2) -> lat index floor((100.2)/0.5)=200, lon index floor(200.2/0.5)=400
    out = sample_at_sites(field, [10.2, -89.9, 90.0], [20.2, -180.0, 180.0])
    assert out[0] == 200 * 720 + 400
    assert out[1] == 0
    assert out[2] == 359 * 720 + 719  # the far edges belong to the last cell


def test_sample_at_sites_outside_grid_raises():
    with pytest.raises(ValueError, match="1 site"):
        sample_at_sites(half_degree(), [10.0, 91.0], [0.0, 0.0])
    with pytest.raises(ValueError, match="longitude outside"):
        sample_at_sites(half_degree(), [10.0], [200.0])


def test_sample_at_sites_keeps_leading_dimensions():
    stacked = xr.concat([half_degree(), half_degree() * 2], dim="month")
    out = sample_at_sites(stacked, [10.2], [20.2])
    assert out.shape == (1, 2)
    assert out[0, 1] == 2 * out[0, 0]


@pytest.mark.parametrize("res", [0.5, 1.0, 2.5])
def test_make_grid_edges_bound_the_cells_whose_areas_cell_area_m2_gives(res):
    from globalrs.core.grid import EARTH_RADIUS_M, make_grid_edges

    lat, lon = make_grid(res)
    lat_e, lon_e = make_grid_edges(res)
    assert lat_e[0] == -90.0 and lat_e[-1] == 90.0 and lon_e[0] == -180.0 and lon_e[-1] == 180.0
    np.testing.assert_allclose((lat_e[:-1] + lat_e[1:]) / 2, lat)
    from_edges = np.outer(np.diff(np.sin(np.deg2rad(lat_e))), np.deg2rad(np.diff(lon_e))) * EARTH_RADIUS_M**2
    np.testing.assert_allclose(from_edges, cell_area_m2(lat, lon).values, rtol=1e-10)
