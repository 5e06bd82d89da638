"""Inputs: spatial blocks, rescaled forcing, site covariates and the land mask.

The last test reads the real grids and needs the offline mirror.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from synthetic import grid_landcover, known_field_dataset, tiny_climate

from globalrs.core.grid import EARTH_RADIUS_M, land_area_mkm2, make_grid
from globalrs.estimates import inputs
from globalrs.sources import readers


def test_spatial_block_ids():
    ids = inputs.spatial_block([0.5, 9.9, 10.1, -0.1], [0.5, 0.5, 0.5, 0.5], 10.0)
    assert ids[0] == ids[1] and ids[2] != ids[0] and ids[3] != ids[0]


def test_rescale_to_annual_keeps_shape_and_hits_new_means():
    coords = {"month": np.arange(1, 13)}
    t = xr.DataArray(np.arange(12.0), dims="month", coords=coords)
    p = xr.DataArray(np.r_[np.ones(6) * 10, np.ones(6) * 30], dims="month", coords=coords)
    t2, p2 = inputs.rescale_to_annual(t, p, xr.DataArray(20.0), xr.DataArray(480.0))
    assert float(t2.mean()) == pytest.approx(20.0)
    np.testing.assert_allclose(np.diff(t2.values), 1.0)
    assert float(p2.sum()) == pytest.approx(480.0)
    assert float(p2[-1] / p2[0]) == pytest.approx(3.0)
    _, dry = inputs.rescale_to_annual(t, p * 0, xr.DataArray(20.0), xr.DataArray(120.0))
    np.testing.assert_allclose(dry.values, 10.0)


def test_site_covariates_read_from_grid_and_missing_ones_raise():
    clim = tiny_climate(t_value=7.0, p_value=30.0)
    lc = grid_landcover()
    t, p, groups = inputs.sample_site_covariates([10.1], [20.1], clim, lc)
    assert t.shape == (1, 12) and np.all(t == 7.0) and np.all(p == 30.0) and groups[0] == 0
    with pytest.raises(ValueError, match="1 site"):  # rows 0-9 of tiny_climate have no temperature
        inputs.sample_site_covariates([10.1, -88.0], [20.1, 0.0], clim, lc)
    with pytest.raises(ValueError, match="outside the grid"):
        inputs.sample_site_covariates([95.0], [0.0], clim, lc)


def test_forcing_land_mask_leaves_out_cells_without_forcing_climate():
    climate = tiny_climate()
    lat, lon = climate["lat"].values, climate["lon"].values
    static_mask = np.zeros((lat.size, lon.size), bool)
    static_mask[5:20, :4] = True  # rows 5..9 have no climate in tiny_climate
    static = xr.Dataset({"land_mask": (("lat", "lon"), static_mask)}, coords={"lat": lat, "lon": lon})
    mask = inputs.forcing_land_mask(static, climate)
    assert mask.attrs["cells_without_forcing"] == 5 * 4
    assert int(mask.sum()) == 10 * 4
    assert not bool(mask.isel(lat=slice(0, 10)).any())


def test_land_area_counts_land_fraction_inside_the_mask_only():
    ds = known_field_dataset(1.0, 0.25)
    whole_sphere_mkm2 = 4 * np.pi * EARTH_RADIUS_M**2 / 1e12
    assert land_area_mkm2(ds["cell_area_m2"], ds["land_fraction"], ds["land_mask"]) == pytest.approx(
        0.25 * whole_sphere_mkm2, rel=1e-9
    )
    north = ds["land_mask"] & (ds["lat"] > 0)
    assert land_area_mkm2(ds["cell_area_m2"], ds["land_fraction"], north) == pytest.approx(0.125 * whole_sphere_mkm2, rel=1e-9)


def test_static_land_mask_keeps_worldclim_cells_without_udel_and_leaves_ice_out(mirror_dir):
    static = inputs.load_static_05()
    udel = readers.read_udel_climate_05()
    no_udel = static["land_mask"] & udel["mat_c"].isnull()
    assert int(no_udel.sum()) > 1000  # coasts and islands UDel lacks are in the WorldClim land mask
    snow = readers.LANDCOVER_GROUPS.index("snow_ice")
    assert not bool((static["land_mask"] & (readers.read_landcover_group_05() == snow)).any())
    udel_mask = inputs.forcing_land_mask(static, inputs.load_climatology("udel"))
    assert int(udel_mask.sum()) == int(static["land_mask"].sum()) - int(no_udel.sum())


def test_observation_period_spans_all_tables_floors_midyears_and_skips_missing():
    rs = pd.DataFrame({"study_midyear": [1995.5, 2003.0, np.nan]})
    rh = pd.DataFrame({"study_midyear": [1989.5, 2016.5]})
    assert inputs.observation_period(rs) == (1995, 2003)
    # the union of two tables reaches further than either alone
    assert inputs.observation_period(rs, rh) == (1989, 2016)


def test_observation_period_refuses_tables_without_years():
    with pytest.raises(ValueError, match="at least one"):
        inputs.observation_period()
    with pytest.raises(ValueError, match="study_midyear"):
        inputs.observation_period(pd.DataFrame({"year": [2000]}))
    with pytest.raises(ValueError, match="no observation"):
        inputs.observation_period(pd.DataFrame({"study_midyear": [np.nan]}))


def test_observation_table_reads_each_records_cell_and_keeps_the_column_order():
    """Annual and monthly tables from one record set: covariates of each record's cell, checked one by one."""
    rng = np.random.default_rng(3)
    lat, lon = make_grid(0.5)
    shape = (12, lat.size, lon.size)
    coords = {"month": np.arange(1, 13), "lat": lat, "lon": lon}
    climate = xr.Dataset(
        {
            "tmean_c": (("month", "lat", "lon"), rng.normal(10, 5, shape)),
            "prec_mm_month": (("month", "lat", "lon"), rng.uniform(0, 200, shape)),
        },
        coords=coords,
    )
    lc = xr.DataArray(rng.integers(0, 5, shape[1:]), coords={"lat": lat, "lon": lon}, dims=("lat", "lon"))
    kept = pd.DataFrame(
        {"Latitude": [10.1, -33.3, 51.1], "Longitude": [20.1, 150.7, -0.2], "Study_midyear": [2001.5, "n/a", 1995.0]}
    )
    flux = np.array([500.0, 800.0, 650.0])
    annual = inputs.observation_table(kept, climate, lc, {"rs_g_m2_yr": flux})
    assert list(annual.columns[:7]) == ["rs_g_m2_yr", "lat", "lon", "site", "block10", "landcover_group", "study_midyear"]
    assert list(annual.columns[7:]) == [f"t{m:02d}" for m in range(1, 13)] + [f"p{m:02d}" for m in range(1, 13)]
    np.testing.assert_array_equal(annual["study_midyear"], [2001.5, np.nan, 1995.0])  # text is no year, not an error
    for k, (la, lo) in enumerate(zip(kept["Latitude"], kept["Longitude"], strict=True)):
        i, j = int(np.abs(lat - la).argmin()), int(np.abs(lon - lo).argmin())  # the nearest centre is the cell
        assert annual.loc[k, "t07"] == climate["tmean_c"].values[6, i, j]
        assert annual.loc[k, "p12"] == climate["prec_mm_month"].values[11, i, j]
        assert annual.loc[k, "landcover_group"] == lc.values[i, j]
    assert annual["block10"].tolist() == list(inputs.spatial_block(kept["Latitude"], kept["Longitude"], 10.0))
    monthly = inputs.observation_table(kept, climate, lc, {"rs_g_m2_month": flux / 12, "month": [1, 6, 12]}, annual=False)
    assert list(monthly.columns[:6]) == ["rs_g_m2_month", "month", "lat", "lon", "site", "landcover_group"]
    assert "block10" not in monthly and "study_midyear" not in monthly
    pd.testing.assert_frame_equal(monthly.iloc[:, 6:], annual.iloc[:, 7:])
