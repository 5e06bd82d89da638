"""Tests for globalrs.process_models.pangeo: the online CMIP6 path on a local intake-esm catalogue and Zarr stores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from globalrs.process_models import pangeo


def _write_store(path, var, data, units, lat, lon, time=None):
    import xarray as xr

    dims = ("lat", "lon") if time is None else ("time", "lat", "lon")
    coords = {"lat": lat, "lon": lon}
    if time is not None:
        coords["time"] = time
    ds = xr.Dataset({var: (dims, data, {"units": units})}, coords=coords)
    ds.to_zarr(str(path), mode="w", zarr_format=2)  # Pangeo CMIP6 stores are Zarr v2
    return str(path)


SFTLF = np.full((4, 4), 100.0)
SFTLF[0, 0] = 50.0  # lat -67.5, lon 45: half land
SFTLF[3, 1] = 0.0  # lat 67.5, lon 135: ocean


@pytest.fixture
def local_catalog(tmp_path):
    """A two-model intake-esm catalogue (JSON + CSV) over Zarr stores written here."""
    import json

    import xarray as xr

    lat = np.array([-67.5, -22.5, 22.5, 67.5])  # a coarse but global grid (45 x 90 deg cells)
    lon = np.array([45.0, 135.0, 225.0, 315.0])  # 0..360 convention, as many CMIP6 grids
    time = xr.date_range("1999-01-01", periods=36, freq="MS", use_cftime=True)
    rows = []
    # model A: rh 1e-8 kg m-2 s-1 everywhere; land fraction 100 % except one half-land and one
    # ocean cell (SFTLF below)
    rh_a = np.full((36, 4, 4), 1e-8)
    rows.append(
        (
            "A",
            "historical",
            "r2i1p1f1",
            "Lmon",
            "rh",
            "gn",
            _write_store(tmp_path / "a_rh_r2", "rh", rh_a, "kg m-2 s-1", lat, lon, time),
        )
    )
    rows.append(
        (
            "A",
            "historical",
            "r1i1p1f1",
            "Lmon",
            "rh",
            "gn",
            _write_store(tmp_path / "a_rh", "rh", rh_a, "kg m-2 s-1", lat, lon, time),
        )
    )
    rows.append(
        (
            "A",
            "historical",
            "r1i1p1f1",
            "fx",
            "areacella",
            "gn",
            _write_store(tmp_path / "a_area", "areacella", np.full((4, 4), 1e12), "m2", lat, lon),
        )
    )
    rows.append(
        ("A", "piControl", "r1i1p1f1", "fx", "sftlf", "gn", _write_store(tmp_path / "a_sftlf", "sftlf", SFTLF, "%", lat, lon))
    )
    # model B: rh only (no fx fields) -> excluded with a reason
    rows.append(
        (
            "B",
            "historical",
            "r1i1p1f1",
            "Lmon",
            "rh",
            "gn",
            _write_store(tmp_path / "b_rh", "rh", rh_a, "kg m-2 s-1", lat, lon, time),
        )
    )
    cols = ["source_id", "experiment_id", "member_id", "table_id", "variable_id", "grid_label", "zstore"]
    table = pd.DataFrame(rows, columns=cols)
    table.insert(0, "activity_id", "CMIP")
    table["version"] = "20190101"
    csv_path = tmp_path / "catalog.csv"
    table.to_csv(csv_path, index=False)
    spec = {
        "esmcat_version": "0.1.0",
        "id": "test-cmip6",
        "description": "tiny local CMIP6 catalogue for tests",
        "catalog_file": str(csv_path),
        "attributes": [{"column_name": c, "vocabulary": ""} for c in cols[:-1]],
        "assets": {"column_name": "zstore", "format": "zarr"},
        "aggregation_control": {
            "variable_column_name": "variable_id",
            "groupby_attrs": ["activity_id", "source_id", "experiment_id", "table_id", "grid_label"],
            "aggregations": [{"type": "union", "attribute_name": "variable_id"}],
        },
    }
    json_path = tmp_path / "catalog.json"
    json_path.write_text(json.dumps(spec))
    return json_path


def test_find_rh_stores_picks_r1_and_counts_exclusions(local_catalog):
    cat = pangeo.open_cmip6_catalog(local_catalog)
    chosen = pangeo.find_rh_stores(cat.df)
    assert list(chosen["model"]) == ["A"]
    assert chosen.iloc[0]["member"] == "r1i1p1f1"
    assert chosen.iloc[0]["sftlf_zstore"].endswith("a_sftlf")
    assert "B" in chosen.attrs["excluded"]


def test_load_cmip6_gridded_rh_total_and_map(local_catalog, tmp_path, monkeypatch):
    monkeypatch.setenv("GLOBALRS_CACHE_DIR", str(tmp_path / "cache"))
    maps, chosen = pangeo.load_cmip6_gridded_rh(local_catalog, start_year=1999, end_year=2001, progress=False)
    ds = maps["A"]
    # 1e-8 kg m-2 s-1 = 315.576 g m-2 yr-1 (365.25-day year); land area 1e12 x (14 + 0.5) m2
    assert ds.attrs["total_pg_c_yr"] == pytest.approx(315.576 * 14.5e12 / 1e15, rel=1e-6)
    assert float(ds["rh_land"].sel(lat=22.5, lon=-135.0)) == pytest.approx(315.576, rel=1e-6)
    # the ocean cell is NaN, longitudes are -180..180 (lon 135 stays 135, 225 becomes -135)
    assert np.isnan(float(ds["rh_land"].sel(lat=67.5, lon=135.0)))
    assert float(ds["land_fraction"].sel(lat=-67.5, lon=45.0)) == pytest.approx(0.5)
    assert float(ds["lon"].min()) < 0
    # second call reads the cache
    again, _ = pangeo.load_cmip6_gridded_rh(local_catalog, start_year=1999, end_year=2001, progress=False)
    assert again["A"].attrs["total_pg_c_yr"] == pytest.approx(ds.attrs["total_pg_c_yr"])
    assert list((tmp_path / "cache" / "cmip6").glob("*.nc"))


def test_compute_rh_mean_map_rejects_incomplete_period(local_catalog):
    cat = pangeo.open_cmip6_catalog(local_catalog)
    row = pangeo.find_rh_stores(cat.df).iloc[0]
    rh = pangeo.open_zarr_store(row["rh_zstore"])["rh"]
    with pytest.raises(ValueError, match="lacks complete years"):
        pangeo.compute_rh_mean_map(rh, 1999, 2003)


def test_check_online_fails_fast_on_unreachable_host():
    import time

    t0 = time.monotonic()
    # TEST-NET-1 address (RFC 5737): never routable, so the connect must time out or be refused
    with pytest.raises(pangeo.OnlineUnavailableError, match="cannot reach"):
        pangeo.check_online("https://192.0.2.1/pangeo-pangeo.json", timeout_s=1.0)
    assert time.monotonic() - t0 < 5.0


def test_check_online_missing_local_catalogue(tmp_path):
    with pytest.raises(pangeo.OnlineUnavailableError, match="does not exist"):
        pangeo.check_online(str(tmp_path / "nope.json"))


def test_cmip6_maps_on_grid_counts_cells_without_model(local_catalog, tmp_path, monkeypatch):
    pytest.importorskip("globalrs.gridding.harmonize")
    import xarray as xr

    from globalrs.core.grid import make_grid

    monkeypatch.setenv("GLOBALRS_CACHE_DIR", str(tmp_path / "cache"))
    maps, _ = pangeo.load_cmip6_gridded_rh(local_catalog, start_year=1999, end_year=2001, progress=False)
    lat, lon = make_grid(0.5)
    ones = xr.DataArray(np.ones((lat.size, lon.size)), dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    out = pangeo.cmip6_maps_on_grid(maps, ones.astype(bool), ones)
    # the native ocean cell (lat 45..90, lon 90..180) covers 90 x 180 half-degree cells exactly
    assert out.attrs["n_mask_cells_without_model"] == 90 * 180
    assert int(out["land_mask"].sum()) == lat.size * lon.size - 90 * 180
    vals = out["rs_annual"].sel(member="A").values
    np.testing.assert_allclose(vals[np.isfinite(vals)], 315.576, rtol=1e-6)
    assert list(out["method_family"].values) == ["Process model"]


def test_load_cmip6_gridded_rh_offline_fails_fast_with_clear_message():
    import time

    t0 = time.monotonic()
    with pytest.raises(pangeo.OnlineUnavailableError, match="needs internet access"):
        pangeo.load_cmip6_gridded_rh("https://192.0.2.1/pangeo-pangeo.json", timeout_s=1.0, progress=False)
    assert time.monotonic() - t0 < 5.0


def test_load_cmip6_gridded_rh_excludes_unusable_model_with_reason(local_catalog, tmp_path, monkeypatch):
    monkeypatch.setenv("GLOBALRS_CACHE_DIR", str(tmp_path / "cache"))
    # 1999-2001 is complete in the synthetic stores, 1999-2003 is not: the only model is excluded
    with pytest.raises(ValueError, match="lacks complete years"):
        pangeo.load_cmip6_gridded_rh(local_catalog, start_year=1999, end_year=2003, progress=False)


# ------------------------------------------------------------------ the online path on dask.distributed


def test_online_path_is_lazy_and_runs_unchanged_on_a_distributed_cluster(local_catalog, tmp_path, monkeypatch):
    import xarray as xr
    from dask.distributed import Client, LocalCluster, get_task_stream

    # a small chunked Zarr store: 3 years of monthly rh in 6-month chunks
    lat = np.array([-67.5, -22.5, 22.5, 67.5])
    lon = np.array([45.0, 135.0, 225.0, 315.0])
    time = xr.date_range("1999-01-01", periods=36, freq="MS", use_cftime=True)
    rng = np.random.default_rng(3)
    values = rng.uniform(1e-9, 3e-8, (36, 4, 4))
    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), values, {"units": "kg m-2 s-1"})}, coords={"time": time, "lat": lat, "lon": lon}
    ).chunk({"time": 6})
    store = tmp_path / "chunked_rh.zarr"
    ds.to_zarr(str(store), mode="w", zarr_format=2)

    lazy = pangeo.compute_rh_mean_map(pangeo.open_zarr_store(str(store))["rh"], 1999, 2001)
    assert lazy.chunks is not None  # nothing computed yet: a dask graph
    local_result = lazy.compute()
    # the same mean by hand: month-length weighted annual means, then their mean
    days = np.array([t.daysinmonth for t in time], dtype=float)
    annual = [(values[i : i + 12] * days[i : i + 12, None, None]).sum(0) / days[i : i + 12].sum() for i in (0, 12, 24)]
    expected = np.mean(annual, axis=0)
    np.testing.assert_allclose(local_result.sortby("lon").values, expected[:, np.argsort(((lon + 180) % 360) - 180)], rtol=1e-12)

    monkeypatch.setenv("GLOBALRS_CACHE_DIR", str(tmp_path / "cache-local"))
    maps_local, _ = pangeo.load_cmip6_gridded_rh(local_catalog, start_year=1999, end_year=2001, progress=False)
    with (
        LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        with get_task_stream(client) as tasks:
            on_cluster = pangeo.compute_rh_mean_map(pangeo.open_zarr_store(str(store))["rh"], 1999, 2001).compute()
            monkeypatch.setenv("GLOBALRS_CACHE_DIR", str(tmp_path / "cache-cluster"))
            maps_cluster, _ = pangeo.load_cmip6_gridded_rh(local_catalog, start_year=1999, end_year=2001, progress=False)
        workers_used = {t["worker"] for t in tasks.data}
    assert len(tasks.data) > 0 and len(workers_used) >= 1  # the work ran on the cluster's workers
    xr.testing.assert_allclose(on_cluster, local_result)
    assert maps_cluster["A"].attrs["total_pg_c_yr"] == pytest.approx(maps_local["A"].attrs["total_pg_c_yr"], rel=1e-12)


# ------------------------------------------------------------------ lat/lon normalizing


def _old_standardize_latlon(da):
    """The normalizer this module had before it used globalrs.core.grid (kept here as the reference)."""
    renames = {
        d: n for d, n in (("latitude", "lat"), ("longitude", "lon"), ("nav_lat", "lat"), ("nav_lon", "lon")) if d in da.dims
    }
    da = da.rename(renames)
    if "lat" not in da.dims or "lon" not in da.dims:
        raise ValueError(f"expected a regular lat/lon grid, got dims {da.dims}")
    da = da.assign_coords(lon=((da["lon"] + 180.0) % 360.0) - 180.0).sortby("lon").sortby("lat")
    return da.drop_vars([c for c in da.coords if c not in da.dims])


@pytest.mark.parametrize("names", [("lat", "lon"), ("latitude", "longitude"), ("nav_lat", "nav_lon")])
def test_standardize_latlon_equals_the_former_normalizer(names):
    import xarray as xr

    rng = np.random.default_rng(7)
    lat = np.array([60.0, 20.0, -20.0, -60.0])  # descending, as many CMIP grids
    lon = np.array([0.0, 90.0, 180.0, 270.0])  # 0..360
    da = xr.DataArray(
        rng.uniform(size=(2, 4, 4)),
        dims=("time", *names),
        coords={"time": [0, 1], names[0]: lat, names[1]: lon, "height": 2.0, "member_id": "r1i1p1f1"},
        attrs={"units": "kg m-2 s-1"},
    )
    new = pangeo.standardize_latlon(da)
    xr.testing.assert_identical(new, _old_standardize_latlon(da))
    assert list(new["lon"].values) == [-180.0, -90.0, 0.0, 90.0]
    assert list(new["lat"].values) == [-60.0, -20.0, 20.0, 60.0]


def test_standardize_latlon_rejects_a_grid_without_lat_lon():
    import xarray as xr

    with pytest.raises(ValueError, match="no lat dimension"):
        pangeo.standardize_latlon(xr.DataArray(np.zeros((2, 2)), dims=("i", "j")))


@pytest.mark.parametrize("dims", [("y", "x"), ("j", "i")])
@pytest.mark.parametrize("names", [("lat", "lon"), ("latitude", "longitude"), ("nav_lat", "nav_lon")])
def test_standardize_latlon_rejects_curvilinear_grids_as_value_errors(dims, names):
    """load_cmip6_gridded_rh excludes a model on ValueError: every curvilinear layout must raise one."""
    import xarray as xr

    two_d = np.zeros((3, 4))
    da = xr.DataArray(two_d, dims=dims, coords={names[0]: (dims, two_d), names[1]: (dims, two_d)})
    with pytest.raises(ValueError):
        pangeo.standardize_latlon(da)
