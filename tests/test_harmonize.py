"""Tests for globalrs.gridding.harmonize on small synthetic grids and files written by the tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from synthetic import write_global_geotiff

from globalrs.core.grid import cell_area_m2, make_grid
from globalrs.gridding.harmonize import HarmonizeError, PlausibilityError, harmonize_to_grid


def _field(res: float, seed: int = 0, missing: float = 0.3, units: str = "g C m-2 yr-1"):
    lat, lon = make_grid(res)
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 2000.0, (lat.size, lon.size))
    values[rng.uniform(size=values.shape) < missing] = np.nan
    return xr.DataArray(
        values,
        dims=("lat", "lon"),
        coords={"lat": lat, "lon": lon},
        name="rs",
        attrs={"units": units},
    )


def _total_pg(da: xr.DataArray) -> float:
    area = cell_area_m2(da["lat"].values, da["lon"].values)
    return float((da * area).sum()) / 1e15


def _out_total_pg(ds: xr.Dataset) -> float:
    return float((ds["rs_annual"] * ds["cell_area_m2"]).sum()) / 1e15


def test_identity_on_the_common_grid():
    da = _field(0.5)
    out = harmonize_to_grid(da)
    np.testing.assert_allclose(out["rs_annual"].values, da.values, rtol=1e-12, equal_nan=True)
    assert out["rs_annual"].attrs["units"] == "g C m-2 yr-1"
    assert set(np.unique(out["valid_fraction"].values.round(12))) <= {0.0, 1.0}


def test_block_mean_by_hand():
    # 0.25 deg -> 0.5 deg: each target cell is the area-weighted mean of 4 cells
    da = _field(0.25, missing=0.0)
    out = harmonize_to_grid(da, fill="mean")
    area = cell_area_m2(da["lat"].values, da["lon"].values).values
    v = da.values
    i, j = 200, 300  # target cell -> source rows 400,401 cols 600,601
    block = v[2 * i : 2 * i + 2, 2 * j : 2 * j + 2]
    w = area[2 * i : 2 * i + 2, 2 * j : 2 * j + 2]
    assert out["rs_annual"].values[i, j] == pytest.approx((block * w).sum() / w.sum(), rel=1e-12)


@pytest.mark.parametrize("res", [1 / 12, 0.1, 0.25])
def test_finer_grids_conserve_the_global_total(res):
    da = _field(res, seed=1)
    out = harmonize_to_grid(da)
    assert _out_total_pg(out) == pytest.approx(_total_pg(da), rel=1e-12)


def test_coarser_grid_conserves_and_keeps_a_constant_field():
    # a 1.875 x 2.5 deg model grid (like the CMIP6 chapter's) onto 0.5 deg
    lat = -90 + 1.875 * (np.arange(96) + 0.5)
    lon = 2.5 * np.arange(144) + 1.25  # 0..360
    const = xr.DataArray(
        np.full((96, 144), 700.0),
        dims=("lat", "lon"),
        coords={"lat": lat, "lon": lon},
        attrs={"units": "g C m-2 yr-1"},
    )
    out = harmonize_to_grid(const)
    np.testing.assert_allclose(out["rs_annual"].values, 700.0, rtol=1e-12)
    rng = np.random.default_rng(2)
    noisy = const.copy(data=rng.uniform(0, 1500, (96, 144)))
    noisy.values[rng.uniform(size=(96, 144)) < 0.4] = np.nan
    out = harmonize_to_grid(noisy)
    assert _out_total_pg(out) == pytest.approx(_total_pg(noisy), rel=1e-12)


def test_fill_mean_vs_conserve_on_a_half_covered_cell():
    da = _field(0.25, missing=0.0)
    da.values[0:2, 0:2] = [[np.nan, np.nan], [10.0, 10.0]]
    cons = harmonize_to_grid(da, fill="conserve")
    mean = harmonize_to_grid(da, fill="mean")
    assert mean["rs_annual"].values[0, 0] == pytest.approx(10.0)
    frac = cons["valid_fraction"].values[0, 0]
    assert 0.5 < frac < 1.0  # the valid (northern) half-row is the larger one near the pole
    assert cons["rs_annual"].values[0, 0] == pytest.approx(10.0 * frac)


def test_longitude_0_360_and_descending_latitude_give_the_same_map():
    da = _field(0.25, seed=3)
    ref = harmonize_to_grid(da)["rs_annual"].values
    shifted = da.assign_coords(lon=(da["lon"] % 360)).sortby("lon")
    assert float(shifted["lon"].min()) > 0
    np.testing.assert_allclose(harmonize_to_grid(shifted)["rs_annual"].values, ref, equal_nan=True)
    flipped = da.isel(lat=slice(None, None, -1))
    np.testing.assert_allclose(harmonize_to_grid(flipped)["rs_annual"].values, ref, equal_nan=True)


@pytest.mark.parametrize(
    "unit, factor",
    [
        ("g C m-2 yr-1", 1.0),
        ("g C m-2 month-1", 12.0),
        ("g C m-2 day-1", 365.25),
        ("kg C m-2 s-1", 1000.0 * 86400 * 365.25),
        ("kg m-2 s-1", 1000.0 * 86400 * 365.25),
    ],
)
def test_units_are_converted(unit, factor):
    # plausible fluxes (0..2000 g C m-2 yr-1) written in the source unit
    da = (_field(0.5, seed=4) / factor).assign_attrs(units=unit)
    out = harmonize_to_grid(da)
    np.testing.assert_allclose(out["rs_annual"].values, da.values * factor, rtol=1e-6, equal_nan=True)


def test_per_cell_totals_become_densities_and_conserve():
    dens = _field(0.25, seed=5)
    area = cell_area_m2(dens["lat"].values, dens["lon"].values)
    totals = (dens * area).assign_attrs(units="g C yr-1")
    out = harmonize_to_grid(totals)
    ref = harmonize_to_grid(dens)
    np.testing.assert_allclose(out["rs_annual"].values, ref["rs_annual"].values, rtol=1e-10, equal_nan=True)
    assert _out_total_pg(out) == pytest.approx(float(totals.sum()) / 1e15, rel=1e-12)


def test_monthly_time_series_gives_climatology_with_month_lengths():
    lat, lon = make_grid(2.0)
    time = pd.date_range("2001-01-01", periods=24, freq="MS")
    rate = np.ones((24, lat.size, lon.size))  # 1 g C m-2 day-1 every day
    da = xr.DataArray(
        rate, dims=("time", "lat", "lon"), coords={"time": time, "lat": lat, "lon": lon}, attrs={"units": "g C m-2 day-1"}
    )
    out = harmonize_to_grid(da)
    monthly = out["rs_monthly"]
    assert monthly.attrs["units"] == "g C m-2 month-1"
    np.testing.assert_allclose(monthly.isel(lat=10, lon=10).values, [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    np.testing.assert_allclose(out["rs_annual"].values, 365.0)


def test_month_climatology_and_yearly_series():
    lat, lon = make_grid(2.0)
    clim = xr.DataArray(
        np.ones((12, lat.size, lon.size)) * 10.0,
        dims=("month", "lat", "lon"),
        coords={"month": np.arange(1, 13), "lat": lat, "lon": lon},
        attrs={"units": "g C m-2 month-1"},
    )
    out = harmonize_to_grid(clim)
    np.testing.assert_allclose(out["rs_annual"].values, 120.0)
    years = pd.date_range("2000-01-01", periods=3, freq="YS")
    yearly = xr.DataArray(
        np.stack([np.full((lat.size, lon.size), v) for v in (100, 200, 600)]),
        dims=("time", "lat", "lon"),
        coords={"time": years, "lat": lat, "lon": lon},
        attrs={"units": "g C m-2 yr-1"},
    )
    out = harmonize_to_grid(yearly)
    np.testing.assert_allclose(out["rs_annual"].values, 300.0)
    assert "rs_monthly" not in out


def test_netcdf_with_fill_scale_offset_and_descending_0_360(tmp_path):
    da = _field(0.25, seed=6)
    ref = harmonize_to_grid(da)["rs_annual"].values
    on_disk = da.assign_coords(lon=da["lon"] % 360).sortby("lon").isel(lat=slice(None, None, -1))
    on_disk = on_disk.rename(lat="latitude", lon="longitude")
    path = tmp_path / "packed.nc"
    on_disk.to_dataset(name="Rs").to_netcdf(
        path,
        encoding={"Rs": {"dtype": "int16", "scale_factor": 0.1, "add_offset": 1000.0, "_FillValue": -32768}},
    )
    out = harmonize_to_grid(path)
    np.testing.assert_allclose(out["rs_annual"].values, ref, atol=0.06, equal_nan=True)
    path2 = tmp_path / "missing_value.nc"
    mv = da.fillna(-9999.0)
    mv.attrs["missing_value"] = -9999.0
    mv.to_dataset(name="Rs").to_netcdf(path2)
    np.testing.assert_allclose(harmonize_to_grid(path2)["rs_annual"].values, ref, rtol=1e-6, equal_nan=True)


def test_geotiff_with_nodata(tmp_path):
    pytest.importorskip("rasterio")
    da = _field(0.25, seed=7)
    path = tmp_path / "rs.tif"
    write_global_geotiff(path, da.isel(lat=slice(None, None, -1)).values, 0.25)
    out = harmonize_to_grid(path, units="g C m-2 yr-1")
    ref = harmonize_to_grid(da)["rs_annual"].values
    np.testing.assert_allclose(out["rs_annual"].values, ref, rtol=1e-6, equal_nan=True)
    streamed = harmonize_to_grid(path, units="g C m-2 yr-1", stream=True, band_rows=6)
    np.testing.assert_allclose(streamed["rs_annual"].values, ref, rtol=1e-5, equal_nan=True)


@pytest.mark.parametrize("res", [1 / 12, 0.1])
def test_streaming_matches_in_memory_and_conserves(tmp_path, res):
    da = _field(res, seed=8).astype("float32").isel(lat=slice(None, None, -1))
    da = da.assign_coords(lon=da["lon"] % 360).sortby("lon")
    da.attrs["units"] = "g C m-2 yr-1"
    path = tmp_path / "fine.nc"
    da.to_dataset(name="rs").to_netcdf(path, encoding={"rs": {"_FillValue": np.float32(np.nan)}})
    streamed = harmonize_to_grid(path, stream=True, band_rows=37, workers=2)
    in_memory = harmonize_to_grid(path, stream=False)
    np.testing.assert_allclose(streamed["rs_annual"].values, in_memory["rs_annual"].values, rtol=2e-6, equal_nan=True)
    np.testing.assert_allclose(streamed["valid_fraction"].values, in_memory["valid_fraction"].values, atol=1e-6)
    exact = _total_pg(da.astype("float64"))
    assert _out_total_pg(streamed) == pytest.approx(exact, rel=1e-7)
    assert _out_total_pg(in_memory) == pytest.approx(exact, rel=1e-12)


def test_errors():
    da = _field(0.5)
    with pytest.raises(HarmonizeError, match="units"):
        harmonize_to_grid(da.assign_attrs(units="furlongs per fortnight"))
    with pytest.raises(HarmonizeError, match="units"):
        harmonize_to_grid(da.assign_attrs(units=""))
    with pytest.raises(HarmonizeError, match="globe"):
        harmonize_to_grid(da.sel(lon=slice(-100, 100)))
    with pytest.raises(HarmonizeError, match="globe"):
        harmonize_to_grid(da.sel(lat=slice(-30, 90)))
    with pytest.raises(HarmonizeError, match="all missing"):
        harmonize_to_grid(da * np.nan)
    with pytest.raises(HarmonizeError, match="regular"):
        harmonize_to_grid(da.isel(lon=np.r_[0:100, 101:720]))
    with pytest.raises(FileNotFoundError):
        harmonize_to_grid("/nonexistent/map.nc")


def test_streaming_without_h5py_uses_netcdf4(tmp_path, monkeypatch):
    import sys

    from globalrs.gridding import harmonize

    da = _field(0.1, seed=9).astype("float32")
    path = tmp_path / "fine.nc"
    da.to_dataset(name="rs").to_netcdf(path, encoding={"rs": {"_FillValue": np.float32(-1.0)}})
    direct = harmonize_to_grid(path, stream=True)
    monkeypatch.setitem(sys.modules, "h5py", None)  # import h5py now raises ImportError
    reader = harmonize._BandReader(path, "rs")
    assert reader._kind == "netcdf"
    reader.close()
    fallback = harmonize_to_grid(path, stream=True)
    np.testing.assert_array_equal(direct["rs_annual"].values, fallback["rs_annual"].values)
    assert _out_total_pg(fallback) == pytest.approx(_total_pg(da.astype("float64")), rel=1e-7)


def test_streaming_refuses_grids_that_do_not_nest(tmp_path):
    lat = -90 + 0.3 * (np.arange(600) + 0.5)
    lon = -180 + 0.3 * (np.arange(1200) + 0.5)
    da = xr.DataArray(
        np.ones((600, 1200), "float32"), dims=("lat", "lon"), coords={"lat": lat, "lon": lon}, attrs={"units": "g C m-2 yr-1"}
    )
    path = tmp_path / "coarse03.nc"
    da.to_dataset(name="rs").to_netcdf(path)
    with pytest.raises(HarmonizeError, match="nest"):
        harmonize_to_grid(path, stream=True)
    out = harmonize_to_grid(path, stream=False)  # the general conservative path handles it
    np.testing.assert_allclose(out["rs_annual"].values, 1.0, rtol=1e-9)


def test_streaming_a_30_arcsecond_band_conserves(tmp_path):
    # a 30" strip 1 degree high around the globe (43200 x 120 cells, 20 MB): factor 60 nesting
    res = 1 / 120
    lat = 10.0 + res * (np.arange(120) + 0.5)
    lon = -180.0 + res * (np.arange(43200) + 0.5)
    rng = np.random.default_rng(10)
    values = rng.uniform(0, 1500, (120, 43200)).astype("float32")
    values[:, 20000:23000] = np.nan  # an "ocean"
    values[:7, 100:130] = np.nan  # a partly covered coastal cell
    da = xr.DataArray(values[::-1], dims=("lat", "lon"), coords={"lat": lat[::-1], "lon": lon}, attrs={"units": "g C m-2 yr-1"})
    path = tmp_path / "strip30s.nc"
    da.to_dataset(name="rs").to_netcdf(path, encoding={"rs": {"_FillValue": np.float32(np.nan)}})
    out = harmonize_to_grid(path, stream=True, min_lat_coverage=(10.0, 11.0), band_rows=60)
    exact = _total_pg(da.astype("float64"))
    assert _out_total_pg(out.fillna(0)) == pytest.approx(exact, rel=1e-7)
    band = out["rs_annual"].sel(lat=slice(10, 11))
    assert band.sizes["lat"] == 2
    assert out["rs_annual"].sel(lat=slice(-90, 9.9)).isnull().all()
    frac = out["valid_fraction"].sel(lat=10.25, lon=-179.25)
    # the coastal target cell (source columns 60..119): rows 0..6 x columns 100..119 missing
    fine_area = cell_area_m2(lat, lon).values
    missing = fine_area[:7, 100:120].sum() / fine_area[:60, 60:120].sum()
    assert float(frac) == pytest.approx(1.0 - missing, rel=1e-6)


def test_streaming_packed_int16_and_per_cell_totals(tmp_path):
    da = _field(0.1, seed=11)
    ref = harmonize_to_grid(da)
    packed = tmp_path / "packed.nc"
    da.to_dataset(name="rs").to_netcdf(
        packed,
        encoding={"rs": {"dtype": "int16", "scale_factor": 0.1, "add_offset": 1000.0, "_FillValue": -32768}},
    )
    streamed = harmonize_to_grid(packed, stream=True)
    in_memory = harmonize_to_grid(packed, stream=False)
    np.testing.assert_allclose(streamed["rs_annual"].values, in_memory["rs_annual"].values, rtol=1e-5, equal_nan=True)
    np.testing.assert_allclose(streamed["rs_annual"].values, ref["rs_annual"].values, atol=0.06, equal_nan=True)
    area = cell_area_m2(da["lat"].values, da["lon"].values)
    totals = (da * area).astype("float32").assign_attrs(units="Tg C yr-1")
    totals = totals / 1e12
    totals.attrs["units"] = "Tg C yr-1"
    per_cell = tmp_path / "per_cell.nc"
    totals.to_dataset(name="rs").to_netcdf(per_cell)
    streamed = harmonize_to_grid(per_cell, stream=True)
    np.testing.assert_allclose(streamed["rs_annual"].values, ref["rs_annual"].values, rtol=1e-5, equal_nan=True)
    assert _out_total_pg(streamed) == pytest.approx(_total_pg(da), rel=1e-6)


def test_cftime_noleap_monthly_series_in_kg_per_second():
    cftime = pytest.importorskip("cftime")
    lat, lon = make_grid(2.0)
    time = xr.date_range("2001-01-01", periods=24, freq="MS", calendar="noleap", use_cftime=True)
    assert isinstance(time[0], cftime.datetime)
    rate_kg_s = 1e-8  # constant: every month gets rate x its length in seconds
    da = xr.DataArray(
        np.full((24, lat.size, lon.size), rate_kg_s),
        dims=("time", "lat", "lon"),
        coords={"time": time, "lat": lat, "lon": lon},
        attrs={"units": "kg m-2 s-1"},
    )
    out = harmonize_to_grid(da)
    feb = out["rs_monthly"].sel(month=2).isel(lat=20, lon=20).item()
    assert feb == pytest.approx(rate_kg_s * 1000 * 86400 * 28)
    np.testing.assert_allclose(out["rs_annual"].values, rate_kg_s * 1000 * 86400 * 365, rtol=1e-9)


# ---- field units and plausibility -------------------------------------------------------------


def test_map_in_umol_co2_harmonizes_to_g_c_per_m2_per_yr():
    lat, lon = make_grid(1.0)
    umol = np.full((lat.size, lon.size), 2.0)  # 2 umol CO2 m-2 s-1 everywhere
    da = xr.DataArray(umol, dims=("lat", "lon"), coords={"lat": lat, "lon": lon}, name="rs", attrs={"units": "umol CO2 m-2 s-1"})
    out = harmonize_to_grid(da, resolution_deg=2.0)
    # 2e-6 mol C per m2 per s, 12.011 g per mol, 365.25 days of 86400 s
    expected = 2e-6 * 12.011 * 86400 * 365.25
    np.testing.assert_allclose(out["rs_annual"].values, expected, rtol=1e-9)
    assert out.attrs["source_units"] == "umol CO2 m-2 s-1"


def _with_bad_cells(da, cells, value):
    bad = da.copy()
    for la, lo in cells:
        bad.loc[{"lat": la, "lon": lo}] = value
    return bad


def test_negative_values_are_refused_naming_count_and_place():
    da = _field(0.5, seed=7, missing=0.0)
    bad = _with_bad_cells(da, [(45.25, 10.75), (-20.25, -60.25)], -12.5)
    with pytest.raises(PlausibilityError) as err:
        harmonize_to_grid(bad)
    message = str(err.value)
    assert "2 cells below 0 g C m-2 yr-1" in message
    assert "45.25N 10.75E" in message and "20.25S 60.25W" in message
    assert "on_implausible='clip'" in message


def test_values_above_the_bound_are_refused_and_per_cell_totals_checked_as_densities():
    dens = _field(0.5, seed=8, missing=0.0)
    bad = _with_bad_cells(dens, [(0.25, 0.25)], 9000.0)
    with pytest.raises(PlausibilityError, match="1 cells above 5000"):
        harmonize_to_grid(bad)
    area = cell_area_m2(bad["lat"].values, bad["lon"].values)
    totals = (bad * area).assign_attrs(units="g C yr-1")
    with pytest.raises(PlausibilityError, match=r"1 cells above 5000 .*9000 at 0.25N 0.25E"):
        harmonize_to_grid(totals)
    # a wider, explicit range accepts it
    out = harmonize_to_grid(bad, plausible_range=(0.0, 10_000.0))
    assert float(out["rs_annual"].max()) == pytest.approx(9000.0)


def test_clip_is_explicit_and_counted():
    da = _field(0.5, seed=9, missing=0.1)
    bad = _with_bad_cells(da, [(10.25, 20.25), (11.25, 20.25)], -5.0)
    bad = _with_bad_cells(bad, [(-5.25, 100.25)], 7000.0)
    out = harmonize_to_grid(bad, on_implausible="clip")
    assert out.attrs["n_cells_clipped_low"] == 2 and out.attrs["n_cells_clipped_high"] == 1
    assert float(out["rs_annual"].sel(lat=10.25, lon=20.25)) == 0.0
    assert float(out["rs_annual"].sel(lat=-5.25, lon=100.25)) == pytest.approx(5000.0)
    untouched = harmonize_to_grid(da)
    assert untouched.attrs["n_cells_clipped_low"] == 0
    keep = np.isfinite(da.values) & (bad.values >= 0) & (bad.values <= 5000)
    np.testing.assert_allclose(out["rs_annual"].values[keep], untouched["rs_annual"].values[keep])


def test_a_negative_month_of_a_climatology_is_refused():
    lat, lon = make_grid(2.0)
    clim = np.full((12, lat.size, lon.size), 50.0)  # 600 g C m-2 yr-1
    clim[6, 10, 20] = -1.0
    da = xr.DataArray(
        clim,
        dims=("month", "lat", "lon"),
        coords={"month": np.arange(1, 13), "lat": lat, "lon": lon},
        attrs={"units": "g C m-2 month-1"},
        name="rh",
    )
    with pytest.raises(PlausibilityError, match="1 cells below 0"):
        harmonize_to_grid(da, resolution_deg=2.0)


def test_streamed_file_is_checked_on_the_target_cells(tmp_path):
    da = _field(0.25, seed=10, missing=0.0)
    bad = _with_bad_cells(da, [(30.125, 30.125), (30.125, 30.375), (30.375, 30.125), (30.375, 30.375)], -100.0)
    path = tmp_path / "neg.nc"
    bad.to_dataset(name="rs").to_netcdf(path)
    with pytest.raises(PlausibilityError, match=r"1 cells below 0 .*30.25N 30.25E"):
        harmonize_to_grid(path, stream=True)


def test_infinite_values_stay_missing_and_are_not_counted_as_implausible():
    da = _field(1.0, seed=11, missing=0.0)
    bad = _with_bad_cells(da, [(0.5, 0.5)], np.inf)
    out = harmonize_to_grid(bad, resolution_deg=1.0, on_implausible="clip")
    assert out.attrs["n_cells_clipped_high"] == 0
    assert float(out["valid_fraction"].sel(lat=0.5, lon=0.5)) == 0.0


# ----------------------------------------------------------------------------- native and projected grids


def test_a_gaussian_grid_is_regridded_conservatively_from_its_gaussian_edges(tmp_path):
    # T42 (64 Gaussian latitudes x 128 longitudes 0..360), latitudes rounded to 4 decimals as in files
    nodes, weights = np.polynomial.legendre.leggauss(64)
    lat = np.round(np.degrees(np.arcsin(nodes)), 4)[::-1]  # north to south
    lon = np.arange(128) * 360.0 / 128
    rng = np.random.default_rng(3)
    values = rng.uniform(0, 2000, (64, 128))
    values[rng.uniform(size=values.shape) < 0.3] = np.nan
    ds = xr.Dataset({"rh": (("lat", "lon"), values, {"units": "g C m-2 yr-1"})}, coords={"lat": lat, "lon": lon})
    ds.to_netcdf(tmp_path / "t42.nc")
    out = harmonize_to_grid(tmp_path / "t42.nc")
    assert "Gaussian" in out.attrs["regridding"]
    # independent: a Gaussian cell's area is R^2 x dlon x its quadrature weight
    area = (6_371_007.2**2) * np.deg2rad(360.0 / 128) * weights[::-1][:, None] * np.ones((1, 128))
    assert _out_total_pg(out) == pytest.approx(float(np.nansum(values * area)) / 1e15, rel=1e-9)


def test_other_irregular_latitudes_use_midpoint_edges_and_a_shuffled_axis_is_refused():
    lat = np.concatenate([np.arange(-89.0, 0.0, 2.0), np.arange(0.5, 90.0, 1.0)])  # 2 deg south, 1 deg north
    lon = np.arange(-179.5, 180.0, 1.0)
    da = xr.DataArray(np.full((lat.size, lon.size), 700.0), dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    out = harmonize_to_grid(da.assign_attrs(units="g C m-2 yr-1"))
    assert "irregular latitudes" in out.attrs["regridding"]
    np.testing.assert_allclose(out["rs_annual"].values, 700.0, rtol=1e-12)
    assert _out_total_pg(out) == pytest.approx(700.0 * 4 * np.pi * 6_371_007.2**2 / 1e15, rel=1e-12)
    shuffled = da.isel(lat=np.r_[1, 0, 2 : lat.size]).assign_attrs(units="g C m-2 yr-1")
    with pytest.raises(HarmonizeError, match="not monotonic"):
        harmonize_to_grid(shuffled)


def _write_sinusoidal(path, value: float, crs: str | None = "+proj=sinu +lon_0=0 +R=6371007.181 +units=m +no_defs"):
    import rasterio
    from rasterio.transform import from_origin

    arr = np.full((300, 400), value, dtype="float32")
    arr[:20, :] = -9999.0
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=300,
        width=400,
        count=1,
        dtype="float32",
        crs=crs,
        transform=from_origin(-1_000_000.0, 6_500_000.0, 5000.0, 5000.0),
        nodata=-9999.0,
    ) as dst:
        dst.write(arr, 1)


def test_a_projected_geotiff_is_reprojected_and_a_crs_less_one_refused(tmp_path):
    pytest.importorskip("rasterio")
    _write_sinusoidal(tmp_path / "sinu.tif", 850.0)
    from globalrs.gridding.harmonize import open_source

    da = open_source(tmp_path / "sinu.tif")
    assert "sinu" in da.attrs["reprojected_from"]
    # the grid nests in 0.5 deg and the values survive the averaging
    step = abs(float(da["lat"][1] - da["lat"][0]))
    assert (0.5 / step) == pytest.approx(round(0.5 / step))
    assert np.nanmin(da.values) == pytest.approx(850.0) and np.nanmax(da.values) == pytest.approx(850.0)
    # sinusoidal y is proportional to latitude: the data rows span 6.4e6..5.0e6 m
    r = 6371007.181
    assert float(da["lat"].where(da.notnull().any("lon")).max()) == pytest.approx(np.rad2deg(6_400_000.0 / r), abs=step)
    assert float(da["lat"].min()) == pytest.approx(np.rad2deg(5_000_000.0 / r), abs=step)
    with pytest.raises(HarmonizeError, match="globe"):
        harmonize_to_grid(tmp_path / "sinu.tif", units="g C m-2 yr-1")
    with pytest.raises(HarmonizeError, match="per-cell totals"):
        harmonize_to_grid(da.assign_attrs(units="g C yr-1"), min_lat_coverage=(46.0, 57.0))
    _write_sinusoidal(tmp_path / "nocrs.tif", 850.0, crs=None)
    with pytest.raises(HarmonizeError, match="no coordinate reference system"):
        open_source(tmp_path / "nocrs.tif")


def test_a_multi_year_monthly_series_says_it_was_averaged():
    time = pd.date_range("2001-01-01", periods=36, freq="MS")
    lat, lon = make_grid(2.0)
    da = xr.DataArray(
        np.ones((36, lat.size, lon.size)),
        dims=("time", "lat", "lon"),
        coords={"time": time, "lat": lat, "lon": lon},
        attrs={"units": "g C m-2 d-1"},
    )
    out = harmonize_to_grid(da)
    assert out.attrs["time_averaging"] == (
        "monthly series 2001-01 to 2003-12 (36 steps, 3 years) averaged month by month into a 12-month climatology"
    )


def test_a_chunked_compressed_file_is_read_chunk_row_by_chunk_row(tmp_path, monkeypatch):
    import netCDF4

    from globalrs.gridding import harmonize

    da = _field(0.1, seed=11).astype("float32")
    path = tmp_path / "chunked.nc"
    da.to_dataset(name="rs").to_netcdf(
        path, encoding={"rs": {"zlib": True, "chunksizes": (180, 360), "_FillValue": np.float32(-1)}}
    )
    reader = harmonize._BandReader(path, "rs")
    assert reader.chunk_rows == 180
    buf = np.empty((30, 3600), dtype="float32")
    with netCDF4.Dataset(path) as ds:
        for i0 in range(0, 1800, 30):  # 30-row bands, as the streaming reads them
            np.testing.assert_array_equal(reader.read_into(i0, i0 + 30, buf), ds["rs"][i0 : i0 + 30, :].filled(-1))
    assert reader.n_chunk_row_reads == 1800 // 180  # each row of chunks read once, not 6 times
    reader.close()
    reads = []
    real_read = harmonize._BandReader.read_into
    monkeypatch.setattr(
        harmonize._BandReader, "read_into", lambda self, i0, i1, out: reads.append((i0, i1)) or real_read(self, i0, i1, out)
    )
    streamed = harmonize_to_grid(path, stream=True)
    assert all((i1 - 1) // 180 == i0 // 180 for i0, i1 in reads)  # no band straddles two chunk rows
    in_memory = harmonize_to_grid(path, stream=False)
    np.testing.assert_allclose(streamed["rs_annual"].values, in_memory["rs_annual"].values, rtol=2e-6, equal_nan=True)
    with netCDF4.Dataset(path) as ds:
        assert ds["rs"].chunking() == [180, 360]


def test_loaded_and_streamed_maps_go_through_the_one_plausibility_check(tmp_path, monkeypatch):
    """The check is written once: both paths call ``plausibility.check_plausible`` (on source
    cells when loaded, on target cells when streamed) and refuse the same map with its message."""
    from globalrs.gridding.harmonize import plausibility

    calls = []
    real = plausibility.check_plausible
    monkeypatch.setattr(plausibility, "check_plausible", lambda *a, **k: calls.append(a[0].shape) or real(*a, **k))
    da = _field(0.5, seed=11, missing=0.0)
    bad = _with_bad_cells(da, [(30.25, 30.25)], -100.0)
    path = tmp_path / "neg.nc"
    bad.to_dataset(name="rs").to_netcdf(path)
    messages = []
    for stream in (False, True):
        with pytest.raises(PlausibilityError, match=r"1 cells below 0 .*30.25N 30.25E") as err:
            harmonize_to_grid(path, stream=stream)
        messages.append(str(err.value))
    assert calls == [bad.shape, bad.shape]  # one call per path (source and target grids agree here)
    assert messages[0] == messages[1]
