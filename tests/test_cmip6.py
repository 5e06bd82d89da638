"""Tests for globalrs.cmip6: readers, unit calibration, global statistics, the online path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from globalrs import cmip6

# ------------------------------------------------------------------ calibration (synthetic)


def test_derive_cmipcarbon_factor_recovers_exact_factor():
    raw = pd.DataFrame(
        {
            "model": ["A", "A", "B", "C"],
            "member": ["r1", "r1", "r1", "r1"],
            "year": [2000, 2001, 2000, 2000],
            "rh_raw": [2.0e11, 4.0e11, 3.0e11, 9.9e11],
        }
    )
    ref = pd.DataFrame(
        {
            "model": ["A", "A", "B", "D"],
            "member": ["r1", "r1", "r1", "r1"],
            "year": [2000, 2001, 2000, 2000],
            "rh_pg_c_yr": [30.0, 60.0, 45.0, 99.0],
        }
    )
    cal = cmip6.derive_cmipcarbon_factor(raw, ref)
    assert cal.factor == pytest.approx(1.5e-10, rel=1e-12)
    assert cal.n_pairs == 3
    assert cal.models == ("A", "B")
    assert cal.max_abs_rel_residual == pytest.approx(0.0, abs=1e-12)


def test_derive_cmipcarbon_factor_residual_is_reported():
    # raw 1 and 1, reference 1 and 3: slope through origin = (1 + 3) / 2 = 2;
    # residuals 1/2 - 1 = -0.5 and 3/2 - 1 = +0.5
    raw = pd.DataFrame({"model": ["A", "A"], "member": ["r1", "r1"], "year": [1, 2], "rh_raw": [1.0, 1.0]})
    ref = pd.DataFrame({"model": ["A", "A"], "member": ["r1", "r1"], "year": [1, 2], "rh_pg_c_yr": [1.0, 3.0]})
    cal = cmip6.derive_cmipcarbon_factor(raw, ref)
    assert cal.factor == pytest.approx(2.0)
    assert cal.max_abs_rel_residual == pytest.approx(0.5)
    assert cal.rms_rel_residual == pytest.approx(0.5)


def test_derive_cmipcarbon_factor_without_overlap_raises():
    raw = pd.DataFrame({"model": ["A"], "member": ["r1"], "year": [1], "rh_raw": [1.0]})
    ref = pd.DataFrame({"model": ["B"], "member": ["r1"], "year": [1], "rh_pg_c_yr": [1.0]})
    with pytest.raises(ValueError, match="cannot calibrate"):
        cmip6.derive_cmipcarbon_factor(raw, ref)


# ------------------------------------------------------------------ real mirror


def test_read_cmip6_annual_rh_historical(mirror_dir):
    df = cmip6.read_cmip6_annual_rh("historical")
    assert list(df.columns) == ["model", "member", "year", "rh_pg_c_yr"]
    assert df["model"].nunique() == 8
    assert df["year"].min() == 1850 and df["year"].max() == 2014
    assert df["rh_pg_c_yr"].between(10, 150).all()


def test_read_cmip6_annual_rh_unknown_experiment(mirror_dir):
    with pytest.raises(ValueError, match="no rh rows"):
        cmip6.read_cmip6_annual_rh("piControl-nonexistent")


def test_cmipcarbon_calibration_matches_readme(mirror_dir):
    raw = cmip6.read_cmipcarbon_rh_raw()
    cal = cmip6.derive_cmipcarbon_factor(raw, cmip6.read_cmip6_annual_rh())
    assert cal.factor == pytest.approx(1.53e-10, rel=0.005)
    assert set(cal.models) == {"CNRM-ESM2-1", "IPSL-CM6A-LR"}
    assert cal.rms_rel_residual < 0.01


def test_read_cmip6_tas_land(mirror_dir):
    df = cmip6.read_cmip6_tas_land()
    assert df["model"].nunique() == 8
    assert df["tas_k"].between(270, 300).all()


# ------------------------------------------------------------------ global statistics (synthetic)


def test_summarize_period_means_weights_members_equally():
    df = pd.DataFrame(
        {
            "model": ["A"] * 6 + ["B"] * 2,
            "member": ["r1", "r1", "r1", "r2", "r2", "r2", "r1", "r1"],
            "year": [1979, 1980, 1981, 1979, 1980, 1981, 1980, 1981],
            "rh_pg_c_yr": [100.0, 10.0, 20.0, 100.0, 30.0, 40.0, 50.0, 50.0],
        }
    )
    out = cmip6.summarize_period_means(df, 1980, 2010)
    # A: member means 15 and 35 -> 25 (1979 excluded); B: 50
    assert out.loc["A", "mean_rh_pg_c_yr"] == pytest.approx(25.0)
    assert out.loc["A", "n_members"] == 2
    assert out.loc["B", "mean_rh_pg_c_yr"] == pytest.approx(50.0)
    assert out.loc["A", "first_year"] == 1980


def test_intermodel_spread_hand_computed():
    s = cmip6.intermodel_spread([40.0, 50.0, 60.0])
    # SD (ddof=1) = 10, mean 50 -> CV 20 %
    assert s["mean"] == pytest.approx(50.0)
    assert s["sd"] == pytest.approx(10.0)
    assert s["cv_percent"] == pytest.approx(20.0)
    with pytest.raises(ValueError):
        cmip6.intermodel_spread([1.0])


def test_compute_model_trends_exact_line():
    years = np.arange(1975, 2016)
    df = pd.DataFrame({"model": "A", "member": "r1", "year": years, "rh_pg_c_yr": 50.0 + 0.2 * (years - 1980)})
    out = cmip6.compute_model_trends(df, 1980, 2010)
    assert out.loc["A", "slope"] == pytest.approx(0.2)
    assert out.loc["A", "n"] == 31
    assert out.loc["A", "r2"] == pytest.approx(1.0)


def test_compute_temperature_sensitivity_exact():
    years = np.arange(1980, 1991)
    tas = 285.0 + 0.1 * (years - 1980) + np.where(years % 2, 0.3, -0.3)
    rh = pd.DataFrame({"model": "A", "member": "r1", "year": years, "rh_pg_c_yr": 40.0 + 3.0 * (tas - tas.mean())})
    t = pd.DataFrame({"model": "A", "member": "r1", "year": years, "tas_k": tas})
    out = cmip6.compute_temperature_sensitivity(rh, t, 1980, 2010)
    assert out.loc["A", "slope"] == pytest.approx(3.0)
    assert out.loc["A", "tas_mean_c"] == pytest.approx(tas.mean() - 273.15)


# ------------------------------------------------------------------ online path (local catalogue)


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
    cat = cmip6.open_cmip6_catalog(local_catalog)
    chosen = cmip6.find_rh_stores(cat.df)
    assert list(chosen["model"]) == ["A"]
    assert chosen.iloc[0]["member"] == "r1i1p1f1"
    assert chosen.iloc[0]["sftlf_zstore"].endswith("a_sftlf")
    assert "B" in chosen.attrs["excluded"]


def test_load_cmip6_gridded_rh_total_and_map(local_catalog, tmp_path, monkeypatch):
    monkeypatch.setenv("GLOBALRS_CACHE_DIR", str(tmp_path / "cache"))
    maps, chosen = cmip6.load_cmip6_gridded_rh(local_catalog, start_year=1999, end_year=2001, progress=False)
    ds = maps["A"]
    # 1e-8 kg m-2 s-1 = 315.576 g m-2 yr-1 (365.25-day year); land area 1e12 x (14 + 0.5) m2
    assert ds.attrs["total_pg_c_yr"] == pytest.approx(315.576 * 14.5e12 / 1e15, rel=1e-6)
    assert float(ds["rh_land"].sel(lat=22.5, lon=-135.0)) == pytest.approx(315.576, rel=1e-6)
    # the ocean cell is NaN, longitudes are -180..180 (lon 135 stays 135, 225 becomes -135)
    assert np.isnan(float(ds["rh_land"].sel(lat=67.5, lon=135.0)))
    assert float(ds["land_fraction"].sel(lat=-67.5, lon=45.0)) == pytest.approx(0.5)
    assert float(ds["lon"].min()) < 0
    # second call reads the cache
    again, _ = cmip6.load_cmip6_gridded_rh(local_catalog, start_year=1999, end_year=2001, progress=False)
    assert again["A"].attrs["total_pg_c_yr"] == pytest.approx(ds.attrs["total_pg_c_yr"])
    assert list((tmp_path / "cache" / "cmip6").glob("*.nc"))


def test_compute_rh_mean_map_rejects_incomplete_period(local_catalog):
    cat = cmip6.open_cmip6_catalog(local_catalog)
    row = cmip6.find_rh_stores(cat.df).iloc[0]
    rh = cmip6.open_zarr_store(row["rh_zstore"])["rh"]
    with pytest.raises(ValueError, match="lacks complete years"):
        cmip6.compute_rh_mean_map(rh, 1999, 2003)


def test_check_online_fails_fast_on_unreachable_host():
    import time

    t0 = time.monotonic()
    # TEST-NET-1 address (RFC 5737): never routable, so the connect must time out or be refused
    with pytest.raises(cmip6.OnlineUnavailableError, match="cannot reach"):
        cmip6.check_online("https://192.0.2.1/pangeo-cmip6.json", timeout_s=1.0)
    assert time.monotonic() - t0 < 5.0


def test_check_online_missing_local_catalogue(tmp_path):
    with pytest.raises(cmip6.OnlineUnavailableError, match="does not exist"):
        cmip6.check_online(str(tmp_path / "nope.json"))


def test_cmip6_maps_on_grid_counts_cells_without_model(local_catalog, tmp_path, monkeypatch):
    pytest.importorskip("globalrs.harmonize")
    import xarray as xr

    from globalrs.grid import make_grid

    monkeypatch.setenv("GLOBALRS_CACHE_DIR", str(tmp_path / "cache"))
    maps, _ = cmip6.load_cmip6_gridded_rh(local_catalog, start_year=1999, end_year=2001, progress=False)
    lat, lon = make_grid(0.5)
    ones = xr.DataArray(np.ones((lat.size, lon.size)), dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    out = cmip6.cmip6_maps_on_grid(maps, ones.astype(bool), ones)
    # the native ocean cell (lat 45..90, lon 90..180) covers 90 x 180 half-degree cells exactly
    assert out.attrs["n_mask_cells_without_model"] == 90 * 180
    assert int(out["land_mask"].sum()) == lat.size * lon.size - 90 * 180
    vals = out["rs_annual"].sel(member="A").values
    np.testing.assert_allclose(vals[np.isfinite(vals)], 315.576, rtol=1e-6)
    assert list(out["method_family"].values) == ["Process model"]


def test_landmodel_totals_match_stated_range(mirror_dir):
    totals = cmip6.landmodel_global_totals_pg(cmip6.read_landmodels_rh())
    assert list(totals.index) == ["CASA-CNP", "MIMICS", "CORPSE"]
    # landmodels README: "global totals are about 52-55 Pg C yr-1"
    assert totals.between(52.0, 55.5).all()


def test_read_landmodel_rh_unknown_model():
    with pytest.raises(ValueError, match="unknown land model"):
        cmip6.read_landmodel_rh("JULES")


def test_combine_cmip6_sets_prefers_hector():
    h = pd.DataFrame({"model": ["A"], "member": ["r1"], "year": [2000], "rh_pg_c_yr": [50.0]})
    c = pd.DataFrame({"model": ["A", "B"], "member": ["r1", "r1"], "year": [2000, 2000], "rh_pg_c_yr": [51.0, 40.0]})
    out = cmip6.combine_cmip6_sets(h, c)
    assert out.set_index("model").loc["A", "rh_pg_c_yr"] == 50.0
    assert out.set_index("model").loc["B", "source"].startswith("cmip6-cmipcarbon")
    assert len(out) == 2


def test_plot_cv_against_flux_draws_each_region():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from globalrs.plots import plot_cv_against_flux

    a = pd.DataFrame({"mean": [1.0, 2.0, 3.0], "cv_percent": [10.0, 20.0, 30.0]}, index=["A1", "B2", "C2"])
    b = pd.DataFrame({"mean": [1.5, 2.5], "cv_percent": [40.0, 50.0]}, index=["A1", "B2"])
    ax = plot_cv_against_flux({"data": a, "models": b}, highlight=("B2",))
    offsets = [len(c.get_offsets()) for c in ax.collections]
    assert offsets == [3, 2]
    assert [t.get_text() for t in ax.texts] == ["A1", "B2", "C2", "A1", "B2"]
    assert ax.texts[1].get_fontweight() == "bold"
    with pytest.raises(ValueError, match="missing"):
        plot_cv_against_flux({"bad": a.rename(columns={"mean": "flux"})})
    plt.close("all")


def test_load_cmip6_gridded_rh_offline_fails_fast_with_clear_message():
    import time

    t0 = time.monotonic()
    with pytest.raises(cmip6.OnlineUnavailableError, match="needs internet access"):
        cmip6.load_cmip6_gridded_rh("https://192.0.2.1/pangeo-cmip6.json", timeout_s=1.0, progress=False)
    assert time.monotonic() - t0 < 5.0


def test_load_cmip6_gridded_rh_excludes_unusable_model_with_reason(local_catalog, tmp_path, monkeypatch):
    monkeypatch.setenv("GLOBALRS_CACHE_DIR", str(tmp_path / "cache"))
    # 1999-2001 is complete in the synthetic stores, 1999-2003 is not: the only model is excluded
    with pytest.raises(ValueError, match="lacks complete years"):
        cmip6.load_cmip6_gridded_rh(local_catalog, start_year=1999, end_year=2003, progress=False)


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

    lazy = cmip6.compute_rh_mean_map(cmip6.open_zarr_store(str(store))["rh"], 1999, 2001)
    assert lazy.chunks is not None  # nothing computed yet: a dask graph
    local_result = lazy.compute()
    # the same mean by hand: month-length weighted annual means, then their mean
    days = np.array([t.daysinmonth for t in time], dtype=float)
    annual = [(values[i : i + 12] * days[i : i + 12, None, None]).sum(0) / days[i : i + 12].sum() for i in (0, 12, 24)]
    expected = np.mean(annual, axis=0)
    np.testing.assert_allclose(local_result.sortby("lon").values, expected[:, np.argsort(((lon + 180) % 360) - 180)], rtol=1e-12)

    monkeypatch.setenv("GLOBALRS_CACHE_DIR", str(tmp_path / "cache-local"))
    maps_local, _ = cmip6.load_cmip6_gridded_rh(local_catalog, start_year=1999, end_year=2001, progress=False)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        with get_task_stream(client) as tasks:
            on_cluster = cmip6.compute_rh_mean_map(cmip6.open_zarr_store(str(store))["rh"], 1999, 2001).compute()
            monkeypatch.setenv("GLOBALRS_CACHE_DIR", str(tmp_path / "cache-cluster"))
            maps_cluster, _ = cmip6.load_cmip6_gridded_rh(local_catalog, start_year=1999, end_year=2001, progress=False)
        workers_used = {t["worker"] for t in tasks.data}
    assert len(tasks.data) > 0 and len(workers_used) >= 1  # the work ran on the cluster's workers
    xr.testing.assert_allclose(on_cluster, local_result)
    assert maps_cluster["A"].attrs["total_pg_c_yr"] == pytest.approx(maps_local["A"].attrs["total_pg_c_yr"], rel=1e-12)


# ------------------------------------------------------------------ Fig. 5 claims and labels


def _cv_table(cv: dict[str, float], flux: float = 1.0) -> pd.DataFrame:
    return pd.DataFrame({"cv_percent": cv, "mean_pg": flux})


REGIONS = ["A1", "A2", "B1", "B2", "C2", "C5"]


def test_judge_fig5_claims_verdicts_follow_the_stated_rules():
    data = _cv_table(dict(zip(REGIONS, [10.0, 10.0, 10.0, 30.0, 20.0, 10.0])))
    # medians: data 10; models 20 -> ratio 2 ("twice"); B2 40 > 30, C2 10 < 20 (one of two); C5 12 / 10
    models = _cv_table(dict(zip(REGIONS, [20.0, 20.0, 20.0, 40.0, 10.0, 12.0])))
    out = cmip6.judge_fig5_claims(models, data)
    assert out.attrs["median_ratio"] == pytest.approx(2.0)
    assert out.loc["twice", "verdict"] == "supported"
    assert out.loc["b2_c2", "verdict"].startswith("partly")
    assert out.loc["c5", "verdict"] == "supported" and out.attrs["c5_ratio"] == pytest.approx(1.2)
    # three times the data, C5 twice: not "about twice", and C5 not the same magnitude
    models3 = _cv_table(dict(zip(REGIONS, [30.0, 30.0, 30.0, 40.0, 30.0, 20.0])))
    out3 = cmip6.judge_fig5_claims(models3, data)
    assert out3.loc["twice", "verdict"] == "models higher, but not about twice"
    assert out3.loc["b2_c2", "verdict"] == "supported"
    assert out3.loc["c5", "verdict"] == "not supported (models higher)"
    low = cmip6.judge_fig5_claims(_cv_table(dict(zip(REGIONS, [5.0] * 6))), data)
    assert low.loc["twice", "verdict"] == "not supported"
    assert low.loc["b2_c2", "verdict"] == "not supported"


def test_cv_change_table():
    before = _cv_table({"A1": 10.0, "B2": 50.0}, 2.0)
    after = _cv_table({"A1": 15.0, "B2": 40.0}, 3.0)
    out = cmip6.cv_change_table(before, after)
    assert out["change_points"].tolist() == [5.0, -10.0]
    with pytest.raises(ValueError, match="same regions"):
        cmip6.cv_change_table(before, after.iloc[::-1])


def test_regional_totals_by_model_count_missing_model_land_as_zero():
    import xarray as xr

    lat = np.array([-45.0, 45.0])
    lon = np.array([-90.0, 90.0])
    coords = {"lat": lat, "lon": lon}
    rh = xr.DataArray(
        [[[100.0, np.nan], [100.0, 100.0]]],
        dims=("model", "lat", "lon"),
        coords={"model": ["M"], **coords},
        attrs={"units": "g C m-2 yr-1"},
    )
    area = xr.DataArray(np.full((2, 2), 1e12), dims=("lat", "lon"), coords=coords)
    frac = xr.DataArray([[1.0, 0.5], [0.5, 1.0]], dims=("lat", "lon"), coords=coords)
    mask = frac > 0
    weights = xr.DataArray(np.ones((1, 2, 2)), dims=("region", "lat", "lon"), coords={"region": ["R"], **coords})
    out = cmip6.regional_totals_by_model_pg(rh, area, frac, mask, weights)
    # 100 g m-2 yr-1 x 1e12 m2 x (1 + 0.5 + 1) land; the NaN cell counts 0 = 2.5e14 g = 0.25 Pg
    assert float(out.sel(model="M", region="R")) == pytest.approx(0.25)


def test_place_labels_never_overlap_for_clustered_points():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    xs = np.array([1.0, 1.02, 1.04, 1.0, 1.03, 3.0])
    ys = np.array([10.0, 10.2, 10.1, 10.3, 9.9, 20.0])
    ax.scatter(xs, ys)
    ax.set_xlim(0, 4)
    ax.set_ylim(0, 30)
    labels = ["B1", "B2", "B3", "C2", "C5", "A1"]
    anns = cmip6.place_labels(ax, xs, ys, labels)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [Text.get_window_extent(a, renderer) for a in anns]  # the text, not its leader line
    assert [a.get_text() for a in anns] == labels
    assert not any(a.overlapping for a in anns)
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j]), (labels[i], labels[j])
    # a naive fixed offset (as plot_cv_against_flux draws) would overlap for these points
    naive = [ax.annotate(lab, (x, y), xytext=(3, 2), textcoords="offset points", fontsize=7) for x, y, lab in zip(xs, ys, labels)]
    fig.canvas.draw()
    nb = [Text.get_window_extent(a, renderer) for a in naive]
    assert any(nb[i].overlaps(nb[j]) for i in range(len(nb)) for j in range(i + 1, len(nb)))
    plt.close(fig)


def test_plot_regional_cv_labels_every_region_without_overlap():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    regions = ["A1", "A2", "A3", "B1", "B2", "B3", "C2", "C5"]
    a = pd.DataFrame(
        {"mean_pg": [2.0, 5.0, 1.2, 4.5, 0.25, 8.0, 0.7, 2.7], "cv_percent": [30.0, 23.0, 33.0, 26.0, 140.0, 36.0, 41.0, 38.0]},
        index=regions,
    )
    b = a.assign(mean_pg=a["mean_pg"] * 1.3, cv_percent=a["cv_percent"] / 2.5)
    ax = cmip6.plot_regional_cv({"data": b, "CMIP6": a})
    texts = [t for t in ax.texts]
    assert sorted(t.get_text() for t in texts) == sorted(regions * 2)
    ax.figure.canvas.draw()  # positions of annotations are settled at draw time
    renderer = ax.figure.canvas.get_renderer()
    boxes = [Text.get_window_extent(t, renderer) for t in texts]
    assert not any(boxes[i].overlaps(boxes[j]) for i in range(len(boxes)) for j in range(i + 1, len(boxes)))
    plt.close("all")
