"""Tests for globalrs.app.compare: maps the tests make, a mirrored map, and bad input.

The comparison ensemble and the region weights are small synthetic ones made here (the real
ensemble is the chapter's job). Every expected total is computed in the test from its own
spherical-band area formula and its own unit factors, never by the code under test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr

from globalrs.app import cli
from globalrs.app.compare import compute, footprint, inputs, regional, report, results, run, seasonal, totals
from globalrs.app.compare.seasonal import paper_seasonal_range
from globalrs.core.exceptions import CompareError
from globalrs.core.grid import EARTH_RADIUS_M, make_grid
from globalrs.core.units import M2_PER_MKM2
from globalrs.gridding import regions
from globalrs.gridding.harmonize import HarmonizeError, harmonize_to_grid
from globalrs.process_models import benchmark
from globalrs.sources.data import fetch

# synthetic land: fraction 1 from 50S to 10N, 0.5 from 10N to 70N, none elsewhere
LAND_BANDS = ((-50.0, 10.0, 1.0), (10.0, 70.0, 0.5))
MEMBER_FLUX = {"m_low": 500.0, "m_mid": 600.0, "m_high": 700.0}  # g C m-2 yr-1, uniform
SECONDS_PER_YEAR = 365.25 * 86400.0
DAYS_2001 = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)


def band_area_m2(south: float, north: float, west: float = -180.0, east: float = 180.0) -> float:
    """Area of a latitude-longitude box on the sphere (the test's own formula)."""
    return EARTH_RADIUS_M**2 * np.deg2rad(east - west) * (np.sin(np.deg2rad(north)) - np.sin(np.deg2rad(south)))


def land_area_m2(west: float = -180.0, east: float = 180.0, south: float = -90.0, north: float = 90.0) -> float:
    """Synthetic land area (cell area x land fraction) inside a box."""
    total = 0.0
    for s, n, frac in LAND_BANDS:
        lo, hi = max(s, south), min(n, north)
        if hi > lo:
            total += frac * band_area_m2(lo, hi, west, east)
    return total


@pytest.fixture(scope="module")
def synthetic_inputs():
    """(ensemble, weights, published totals) on the 0.5-degree grid."""
    lat, lon = make_grid(0.5)
    lat2 = lat[:, None] * np.ones((1, lon.size))
    frac = np.zeros_like(lat2)
    for s, n, f in LAND_BANDS:
        frac[(lat2 > s) & (lat2 < n)] = f
    coords = {"lat": lat, "lon": lon}
    land_fraction = xr.DataArray(frac, dims=("lat", "lon"), coords=coords)
    land_mask = land_fraction > 0
    band = EARTH_RADIUS_M**2 * np.deg2rad(0.5) * (np.sin(np.deg2rad(lat + 0.25)) - np.sin(np.deg2rad(lat - 0.25)))
    area = xr.DataArray(np.repeat(band[:, None], lon.size, axis=1), dims=("lat", "lon"), coords=coords, attrs={"units": "m2"})
    names = list(MEMBER_FLUX)
    annual = xr.DataArray(
        np.stack([np.full(frac.shape, v) for v in MEMBER_FLUX.values()]),
        dims=("member", "lat", "lon"),
        coords={"member": names, **coords},
    ).where(land_mask)
    annual = annual.assign_coords(method_family=("member", ["Area x Mean", "Linear model", "Machine learning"]))
    annual.attrs["units"] = "g C m-2 yr-1"
    shape = np.sin(2 * np.pi * (np.arange(12) - 3) / 12)  # peak in July
    monthly = xr.DataArray(
        np.stack([(v / 12 * (1 + 0.4 * shape))[:, None, None] * np.ones((1,) + frac.shape) for v in (500.0, 700.0)]),
        dims=("member_monthly", "month", "lat", "lon"),
        coords={"member_monthly": ["m_low", "m_high"], "month": np.arange(1, 13), **coords},
    ).where(land_mask)
    monthly.attrs["units"] = "g C m-2 month-1"
    ens = xr.Dataset(
        {"rs_annual": annual, "rs_monthly": monthly, "land_mask": land_mask, "cell_area_m2": area, "land_fraction": land_fraction}
    )
    # 14 regions: longitude sectors of 360/14 degrees, A1 starting at 180W
    sector = np.floor((lon + 180.0) / (360.0 / 14)).astype(int)
    w = np.zeros((14, lat.size, lon.size), dtype="float32")
    for k in range(14):
        w[k][:, sector == k] = 1.0
    weights = xr.DataArray(w, dims=("region", "lat", "lon"), coords={"region": list(regions.REGION_ORDER), **coords})
    return ens, weights, inputs.counted_published_totals()


def write_annual_map(path, value_kg_s: float) -> None:
    """A global 1-degree map in kg C m-2 s-1, longitudes 0..360, latitudes descending."""
    lat = np.arange(89.5, -90, -1.0)
    lon = np.arange(0.5, 360, 1.0)
    da = xr.DataArray(
        np.full((lat.size, lon.size), value_kg_s),
        dims=("lat", "lon"),
        coords={"lat": lat, "lon": lon},
        name="rs",
        attrs={"units": "kg C m-2 s-1"},
    )
    da.to_netcdf(path)


def write_monthly_map(path, per_day: np.ndarray, box: tuple[float, float, float, float] | None = None) -> None:
    """A 12-month (2001) 2-degree map in g C m-2 d-1, uniform in space; NaN outside ``box``
    (west, east, south, north) and the box is the whole grid extent when given."""
    if box is None:
        lat = np.arange(-89.0, 90, 2.0)
        lon = np.arange(-179.0, 180, 2.0)
    else:
        west, east, south, north = box
        lat = np.arange(south + 1.0, north, 2.0)
        lon = np.arange(west + 1.0, east, 2.0)
    time = pd.date_range("2001-01-01", periods=12, freq="MS")
    values = per_day[:, None, None] * np.ones((12, lat.size, lon.size))
    ds = xr.Dataset(
        {"flux": (("time", "lat", "lon"), values, {"units": "g C m-2 d-1"})}, coords={"time": time, "lat": lat, "lon": lon}
    )
    ds.to_netcdf(path)


def run_compare(tmp_path, src, synthetic_inputs, **kwargs) -> run.CompareResult:
    ens, weights, published = synthetic_inputs
    return run.compare_map(src, out_dir=tmp_path / "report", ensemble=ens, weights=weights, published_totals=published, **kwargs)


# ----------------------------------------------------------------------------- numbers (no figures)


def test_annual_totals_match_an_independent_computation(tmp_path, synthetic_inputs):
    ens, weights, _ = synthetic_inputs
    value_kg_s = 2.0e-8
    write_annual_map(tmp_path / "annual.nc", value_kg_s)
    harmonized, partial = inputs.harmonize_input(tmp_path / "annual.nc")
    table = totals.global_totals_table(harmonized, ens, "new").set_index(["estimate", "cells"])
    g_m2_yr = value_kg_s * 1e3 * SECONDS_PER_YEAR
    assert not partial
    expected_land = g_m2_yr * land_area_m2() / 1e15
    assert table.loc[("new", "own land"), "total_pg_c_yr"] == pytest.approx(expected_land, rel=1e-9)
    assert table.loc[("new", "own land"), "land_area_mkm2"] == pytest.approx(land_area_m2() / 1e12, rel=1e-9)
    # over the map's own cell areas (the whole sphere here) without land fraction
    sphere = 4 * np.pi * EARTH_RADIUS_M**2
    assert table.loc[("new", "map's own cell areas"), "total_pg_c_yr"] == pytest.approx(g_m2_yr * sphere / 1e15, rel=1e-9)
    for member, flux in MEMBER_FLUX.items():
        assert table.loc[(member, "own land"), "total_pg_c_yr"] == pytest.approx(flux * land_area_m2() / 1e15, rel=1e-9)


def test_regional_totals_and_cv_with_the_new_map(tmp_path, synthetic_inputs):
    ens, weights, _ = synthetic_inputs
    write_annual_map(tmp_path / "annual.nc", 2.0e-8)
    harmonized, partial = inputs.harmonize_input(tmp_path / "annual.nc")
    table, map_reg, member_reg = regional.regional_table(harmonized, ens, weights)
    g_m2_yr = 2.0e-8 * 1e3 * SECONDS_PER_YEAR
    width = 360.0 / 14
    for k, region in enumerate(regions.REGION_ORDER):
        # sectors hold whole 0.5-degree columns: the sector's cells are those whose centre falls in it
        lon_c = make_grid(0.5)[1]
        cols = lon_c[np.floor((lon_c + 180.0) / width).astype(int) == k]
        west, east = cols.min() - 0.25, cols.max() + 0.25
        expected = g_m2_yr * land_area_m2(west, east) / 1e15
        assert table.loc[region, "map_pg_c_yr"] == pytest.approx(expected, rel=1e-9)
        assert table.loc[region, "status"] == "complete"
        assert table.loc[region, "members_max"] == pytest.approx(
            MEMBER_FLUX["m_high"] * land_area_m2(west, east) / 1e15, rel=1e-9
        )
    assert (table["position"] == "within").all()  # 631 g C m-2 yr-1 lies between 500 and 700
    cv = regional.regional_cv_table(map_reg, member_reg, list(table.index), "new")
    # uniform fields: every region's CV is the CV of the four flux densities
    without = np.array(list(MEMBER_FLUX.values()))
    with_map = np.append(without, g_m2_yr)
    np.testing.assert_allclose(cv["cv_without_pct"], 100 * without.std(ddof=1) / without.mean(), rtol=1e-6)
    np.testing.assert_allclose(cv["cv_with_pct"], 100 * with_map.std(ddof=1) / with_map.mean(), rtol=1e-6)
    assert (cv["n_members_with"] == len(MEMBER_FLUX) + 1).all()


def test_monthly_map_cycle_and_annual_total(tmp_path, synthetic_inputs):
    ens, _, _ = synthetic_inputs
    per_day = 1.5 + np.cos(2 * np.pi * (np.arange(12) - 6) / 12)  # g C m-2 d-1, peak in July
    write_monthly_map(tmp_path / "monthly.nc", per_day)
    harmonized, _ = inputs.harmonize_input(tmp_path / "monthly.nc")
    cycle, metrics = seasonal.seasonal_tables(harmonized, ens, False, "new")
    expected = per_day * DAYS_2001 * land_area_m2() / 1e15  # Pg C per month, 2001 calendar
    np.testing.assert_allclose(cycle["new"].to_numpy(), expected, rtol=1e-6)
    assert metrics.loc["new", "peak_month"] == 7 and metrics.loc["new", "min_month"] == 1
    annual = totals.global_totals_table(harmonized, ens, "new").set_index(["estimate", "cells"])
    assert annual.loc[("new", "own land"), "total_pg_c_yr"] == pytest.approx(expected.sum(), rel=1e-6)
    paper = seasonal.compare_with_paper_cycle(metrics.loc["new"], paper_seasonal_range())
    assert paper.loc["peak month", "this map"] == "Jul"
    assert bool(paper.loc["peak month", "inside paper's range"])
    assert not bool(paper.loc["minimum month", "inside paper's range"])  # January, not February


# ----------------------------------------------------------------------------- partial maps


def test_partial_map_is_refused_unless_region_only(tmp_path, synthetic_inputs):
    box = (-30.0, 60.0, -60.0, 80.0)  # west, east, south, north: all land latitudes of 30W-60E
    per_day = np.full(12, 2.0)
    write_monthly_map(tmp_path / "europe.nc", per_day, box=box)
    with pytest.raises(HarmonizeError, match="does not cover the globe.*--region-only"):
        inputs.harmonize_input(tmp_path / "europe.nc")
    ens, weights, _ = synthetic_inputs
    harmonized, partial = inputs.harmonize_input(tmp_path / "europe.nc", region_only=True)
    assert partial
    table = totals.global_totals_table(harmonized, ens, "eu").set_index(["estimate", "cells"])
    covered = land_area_m2(*box)
    expected = 2.0 * DAYS_2001.sum() * covered / 1e15
    assert table.loc[("eu", "common"), "total_pg_c_yr"] == pytest.approx(expected, rel=1e-6)
    assert table.loc[("m_mid", "common"), "total_pg_c_yr"] == pytest.approx(600.0 * covered / 1e15, rel=1e-9)
    by_region, _, _ = regional.regional_table(harmonized, ens, weights)
    # sectors of 360/14 deg (A1 from 180W): 30W-60E holds sectors 6-8 (25.7W-51.4E) whole and cuts
    # sectors 5 and 9; REGION_ORDER[5:10] is B1, B2, B3, B4, C1
    assert set(by_region.index[by_region["status"] == "complete"]) == {"B2", "B3", "B4"}
    assert (by_region.loc[["B1", "C1"], "status"] == "partial").all()
    assert (by_region.loc[["A1", "C5"], "status"] == "not covered").all()
    assert (by_region.loc[["B1", "C1"], "position"] == "not compared").all()


# ----------------------------------------------------------------------------- the report (figures)


def test_report_numbers_agree_with_the_test(tmp_path, synthetic_inputs, mirror_dir):
    per_day = 1.5 + np.cos(2 * np.pi * (np.arange(12) - 6) / 12)
    write_monthly_map(tmp_path / "monthly.nc", per_day)
    result = run_compare(tmp_path, tmp_path / "monthly.nc", synthetic_inputs, name="synthetic")
    expected = float((per_day * DAYS_2001).sum() * land_area_m2() / 1e15)
    assert result.comparison.totals.total_pg_c_yr == pytest.approx(expected, rel=1e-6)
    written = pd.read_csv(result.out_dir / "global_totals.csv").set_index(["estimate", "cells"])
    assert written.loc[("synthetic", "own land"), "total_pg_c_yr"] == pytest.approx(expected, rel=1e-6)
    cycle = pd.read_csv(result.out_dir / "seasonal_cycle.csv", index_col="month")
    np.testing.assert_allclose(cycle["synthetic"], per_day * DAYS_2001 * land_area_m2() / 1e15, rtol=1e-6)
    html = result.report_path.read_text()
    assert f"{expected:.2f} Pg C yr" in html and "PARTIAL" not in html
    for key in ("map", "totals", "regional", "seasonal"):
        assert result.figures[key].stat().st_size > 10_000
        assert f"src='{key}.png'" in html
    for key in ("global_totals", "regional_totals", "regional_cv", "seasonal_cycle", "seasonal_vs_paper"):
        assert (result.out_dir / f"{key}.csv").exists()


def test_partial_report_is_never_global(tmp_path, synthetic_inputs, mirror_dir):
    write_monthly_map(tmp_path / "europe.nc", np.full(12, 2.0), box=(-30.0, 60.0, -60.0, 80.0))
    result = run_compare(tmp_path, tmp_path / "europe.nc", synthetic_inputs, region_only=True)
    html = result.report_path.read_text()
    assert result.partial and "PARTIAL MAP" in html and "Total of the covered area" in html
    assert "Global total" not in html
    assert result.comparison.placement.published_share_below is None  # not placed among global totals
    assert result.comparison.seasonal.vs_paper is None  # the paper's range is global


# ----------------------------------------------------------------------------- command line


def test_cli_refuses_what_the_harmonizer_refuses(tmp_path, capsys):
    write_annual_map(tmp_path / "annual.nc", 2.0e-8)
    with pytest.raises(HarmonizeError) as direct:
        harmonize_to_grid(tmp_path / "annual.nc", units="furlongs per fortnight")
    code = cli.main(["compare", str(tmp_path / "annual.nc"), "--units", "furlongs per fortnight", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert str(direct.value) in err
    assert not (tmp_path / "out" / "report.html").exists()
    code = cli.main(["compare", str(tmp_path / "missing.nc"), "--out", str(tmp_path / "out")])
    assert code == 1 and "no such gridded product" in capsys.readouterr().err
    (tmp_path / "corrupt.nc").write_bytes(b"not a netcdf file")
    code = cli.main(["compare", str(tmp_path / "corrupt.nc"), "--out", str(tmp_path / "out")])
    assert code == 1 and "cannot read" in capsys.readouterr().err


def test_cli_on_a_mirrored_rh_map(tmp_path, synthetic_inputs, mirror_dir, monkeypatch, capsys, rh_benchmark):
    # CASA-CNP heterotrophic respiration (1.9 x 2.5 deg, g C m-2 day-1) from the offline mirror
    path = fetch("landmodels/casaclm_pool_flux_2000-2010_mean.nc")
    monkeypatch.setattr(inputs, "load_comparison_inputs", lambda: synthetic_inputs)
    monkeypatch.setattr(benchmark, "load_rh_benchmark", lambda log=None: rh_benchmark)
    # a real map on the synthetic land (bands of latitude) covers a third of it: not the point here
    monkeypatch.setattr(footprint, "GLOBAL_LAND_COVERAGE", 0.0)
    out = tmp_path / "casa"
    code = cli.main(["compare", str(path), "--variable", "cresp", "--kind", "rh", "--name", "CASA-CNP", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "report:" in printed
    # independent: the file's own total, flux x 365.25 days x spherical cell area on its native grid
    with xr.open_dataset(path) as ds:
        flux = ds["cresp"].squeeze("time").values.astype(float)
        lat = ds["lat"].values.astype(float)
        lon = ds["lon"].values.astype(float)
    step = lat[1] - lat[0]
    south = np.clip(lat - step / 2, -90, 90)
    north = np.clip(lat + step / 2, -90, 90)
    rows = EARTH_RADIUS_M**2 * np.deg2rad(lon[1] - lon[0]) * (np.sin(np.deg2rad(north)) - np.sin(np.deg2rad(south)))
    own = np.nansum(flux * 365.25 * rows[:, None]) / 1e15
    written = pd.read_csv(out / "global_totals.csv").set_index(["estimate", "cells"])
    assert written.loc[("CASA-CNP", "map's own cell areas"), "total_pg_c_yr"] == pytest.approx(own, rel=1e-6)
    html = (out / "report.html").read_text()
    assert "Rh map" in html and "regional_cv.csv" not in html
    # ilamb3 scores beside the models: the map's row first (a model is also called CASA-CNP)
    scores = pd.read_csv(out / "scores.csv", index_col=0)
    label = "CASA-CNP (this map)"
    assert scores.index[0] == label and scores.loc[label, "group"] == "this map"
    assert set(scores.index[1:]) == {str(m) for m in rh_benchmark.model_maps["model"].values}
    overall = scores["Overall Score [1]"]
    assert scores.loc[label, "rank"] == 1 + int((overall.drop(index=label) > overall[label]).sum())
    summary = pd.read_csv(out / "summary.csv", index_col=0)["value"]
    assert float(summary["score_overall"]) == pytest.approx(overall[label])
    assert f"ilamb3 overall score {overall[label]:.2f}: rank {int(scores.loc[label, 'rank'])} of {len(scores)}" in printed
    assert "Model benchmark scores" in html and "scores.csv" in html
    style = html.split("Model benchmark scores")[1].split("</style>")[0]  # the table's one style rule
    assert f"background-color: {report.READER_ROW_COLOR}" in style and "_row0_col0" in style and "_row1_" not in style
    # the map's own scores are ilamb3's for the harmonized map alone (harmonized again here)
    harmonized, _ = inputs.harmonize_input(path, variable="cresp")
    alone = benchmark.score_maps(
        rh_benchmark.ref, harmonized["rs_annual"].where(rh_benchmark.land_mask).expand_dims(model=["x"]), "rh"
    )
    expected = benchmark.score_table(alone[0]).loc["x"]
    for col in ("Bias Score [1]", "Spatial Distribution Score [1]", "Overall Score [1]"):
        assert scores.loc[label, col] == pytest.approx(expected[col], rel=1e-9)


def test_geotiff_with_units_given_on_the_command_line(tmp_path, synthetic_inputs):
    # a GeoTIFF carries no units attribute: --units supplies them (here g C m-2 yr-1)
    ens, _, _ = synthetic_inputs
    lat = np.arange(89.75, -90, -0.5)
    lon = np.arange(-179.75, 180, 0.5)
    da = xr.DataArray(np.full((lat.size, lon.size), 800.0, dtype="float32"), dims=("y", "x"), coords={"y": lat, "x": lon})
    da.rio.write_crs("EPSG:4326", inplace=True)
    da.rio.to_raster(tmp_path / "map.tif")
    with pytest.raises(HarmonizeError, match="units"):
        inputs.harmonize_input(tmp_path / "map.tif")
    harmonized, _ = inputs.harmonize_input(tmp_path / "map.tif", units="g C m-2 yr-1")
    table = totals.global_totals_table(harmonized, ens, "tif").set_index(["estimate", "cells"])
    assert table.loc[("tif", "own land"), "total_pg_c_yr"] == pytest.approx(800.0 * land_area_m2() / 1e15, rel=1e-6)


# ----------------------------------------------------------------------------- coverage, footprint, sanity


def _coastal_ensemble(ens):
    """The synthetic ensemble with a mostly-sea coast: land fraction 0.4 from 70N to 80N."""
    lat = ens["lat"]
    strip = (lat > 70.0) & (lat < 80.0)
    out = ens.copy()
    out["land_fraction"] = ens["land_fraction"].where(~strip, 0.4)
    out["land_mask"] = out["land_fraction"] > 0
    flux = np.array(list(MEMBER_FLUX.values()))[:, None, None] * np.ones(ens["land_fraction"].shape)
    out["rs_annual"] = ens["rs_annual"].copy(data=flux).where(out["land_mask"])
    return out


def test_a_map_masked_to_mostly_land_cells_is_compared_in_every_region(tmp_path, synthetic_inputs):
    # the map leaves out the coastal strip of land fraction 0.4 (what a "land fraction > 0.5" mask
    # of a map-maker does): every region is still compared, on the cells the map covers
    ens, weights, _ = synthetic_inputs
    ens = _coastal_ensemble(ens)
    lat = np.arange(89.5, -90, -1.0)
    lon = np.arange(-179.5, 180, 1.0)
    values = np.where(lat[:, None] > 70.0, np.nan, 650.0) * np.ones((1, lon.size))
    xr.DataArray(
        values, dims=("lat", "lon"), coords={"lat": lat, "lon": lon}, name="rs", attrs={"units": "g C m-2 yr-1"}
    ).to_netcdf(tmp_path / "masked.nc")
    harmonized, partial = inputs.harmonize_input(tmp_path / "masked.nc")
    table, _, _ = regional.regional_table(harmonized, ens, weights)
    assert (table["status"] == "complete").all()
    assert (table["coverage_mostly_land"] == 1.0).all()
    width = 360.0 / 14
    lon_c = make_grid(0.5)[1]
    for k, region in enumerate(regions.REGION_ORDER):
        cols = lon_c[np.floor((lon_c + 180.0) / width).astype(int) == k]
        west, east = cols.min() - 0.25, cols.max() + 0.25
        strip = 0.4 * band_area_m2(70.0, 80.0, west, east)
        core = land_area_m2(west, east)
        assert table.loc[region, "coverage_share"] == pytest.approx(core / (core + strip), rel=1e-9)
        # members on the map's footprint: the strip is left out of both
        assert table.loc[region, "members_max"] == pytest.approx(700.0 * core / 1e15, rel=1e-9)
        assert table.loc[region, "members_median_own_land"] == pytest.approx(600.0 * (core + strip) / 1e15, rel=1e-9)
        assert table.loc[region, "map_pg_c_yr"] == pytest.approx(650.0 * core / 1e15, rel=1e-9)
    # the old rule (99 % of all land) would have compared none of them
    assert (table["coverage_share"] < 0.99).all()


def test_a_regional_map_on_a_global_grid_is_not_totalled_as_global(tmp_path, synthetic_inputs, mirror_dir):
    ens, weights, published = synthetic_inputs
    lat = np.arange(89.5, -90, -1.0)
    lon = np.arange(-179.5, 180, 1.0)
    inside = (lat[:, None] > -30) & (lat[:, None] < 30) & (lon[None, :] > 0) & (lon[None, :] < 40)
    da = xr.DataArray(
        np.where(inside, 600.0, np.nan),
        dims=("lat", "lon"),
        coords={"lat": lat, "lon": lon},
        name="rs",
        attrs={"units": "g C m-2 yr-1"},
    )
    da.to_netcdf(tmp_path / "africa.nc")
    kw = {"ensemble": ens, "weights": weights, "published_totals": published}
    with pytest.raises(CompareError, match=r"values on \d+\.\d % of the ensemble's land.*--region-only"):
        run.compare_map(tmp_path / "africa.nc", out_dir=tmp_path / "r1", **kw)
    assert not (tmp_path / "r1").exists()
    result = run.compare_map(tmp_path / "africa.nc", out_dir=tmp_path / "r2", region_only=True, **kw)
    assert result.partial and "PARTIAL MAP" in result.report_path.read_text()
    covered = land_area_m2(0.0, 40.0, -30.0, 30.0)
    assert result.comparison.totals.total_pg_c_yr == pytest.approx(600.0 * covered / 1e15, rel=1e-9)
    assert result.comparison.totals.land_coverage_share == pytest.approx(covered / land_area_m2(), rel=1e-9)


def test_a_total_far_outside_every_estimate_is_reported_not_refused(tmp_path, synthetic_inputs, mirror_dir, monkeypatch, capsys):
    # kg C m-2 yr-1 values labelled g C m-2 yr-1: 1000 times too small
    monkeypatch.setattr(inputs, "load_comparison_inputs", lambda: synthetic_inputs)
    lat = np.arange(89.5, -90, -1.0)
    lon = np.arange(-179.5, 180, 1.0)
    xr.DataArray(
        np.full((lat.size, lon.size), 0.6),
        dims=("lat", "lon"),
        coords={"lat": lat, "lon": lon},
        name="rs",
        attrs={"units": "g C m-2 yr-1"},
    ).to_netcdf(tmp_path / "kg_as_g.nc")
    code = cli.main(["compare", str(tmp_path / "kg_as_g.nc"), "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 0
    assert "warning: The total" in captured.err and "far outside" in captured.err and "--units" in captured.err
    html = (tmp_path / "out" / "report.html").read_text()
    assert "WARNING." in html and "far outside" in html
    # the rule, checked against the numbers it names
    ens, _, published = synthetic_inputs
    members = [v * land_area_m2() / 1e15 for v in MEMBER_FLUX.values()]
    refs = list(published["estimate_pg_c_yr"].astype(float)) + members
    total = 0.6 * land_area_m2() / 1e15
    assert total < min(refs) / totals.TOTAL_SANITY_FACTOR
    assert totals.total_sanity(min(refs) / 1.9, "rs", published["estimate_pg_c_yr"], members) is None
    assert totals.total_sanity(max(refs) * 2.1, "rs", published["estimate_pg_c_yr"], members) is not None


# ----------------------------------------------------------------------------- the --out folder


def test_out_is_checked_before_the_work_and_written_whole(tmp_path, synthetic_inputs, monkeypatch, capsys):
    monkeypatch.setattr(inputs, "load_comparison_inputs", lambda: synthetic_inputs)
    write_annual_map(tmp_path / "annual.nc", 2.0e-8)
    calls = []
    real = inputs.harmonize_input
    monkeypatch.setattr(inputs, "harmonize_input", lambda *a, **k: calls.append(1) or real(*a, **k))
    # a folder holding another map's report: refused before any work, unless --force
    other = tmp_path / "other"
    other.mkdir()
    (other / "summary.csv").write_text("key,value\nname,someone-else\n")
    (other / "report.html").write_text("<html></html>")
    assert cli.main(["compare", str(tmp_path / "annual.nc"), "--out", str(other)]) == 1
    err = capsys.readouterr().err
    assert "another map ('someone-else')" in err and "--force" in err and not calls
    # a file, and a folder that cannot be created: refused before any work
    (tmp_path / "afile").write_text("x")
    assert cli.main(["compare", str(tmp_path / "annual.nc"), "--out", str(tmp_path / "afile")]) == 1
    assert cli.main(["compare", str(tmp_path / "annual.nc"), "--out", str(tmp_path / "afile" / "sub")]) == 1
    assert "--out" in capsys.readouterr().err and not calls
    assert cli.main(["compare", str(tmp_path / "annual.nc"), "--out", str(other), "--force"]) == 0
    assert calls and (other / "report.html").read_text() != "<html></html>"
    assert pd.read_csv(other / "summary.csv", index_col=0)["value"]["name"] == "annual"
    # the same map again into its own report folder needs no --force
    assert cli.main(["compare", str(tmp_path / "annual.nc"), "--out", str(other)]) == 0
    # a failure while writing leaves neither a half-written report nor a temporary folder
    monkeypatch.setattr(report, "write_report", lambda *a, **k: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    assert cli.main(["compare", str(tmp_path / "annual.nc"), "--out", str(tmp_path / "new")]) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_messages_name_the_command_flags(tmp_path, capsys):
    lat = np.arange(-89.5, 90, 1.0)
    lon = np.arange(-179.5, 180, 1.0)
    field = (("lat", "lon"), np.full((lat.size, lon.size), 600.0), {"units": "g C m-2 yr-1"})
    xr.Dataset({"a": field, "b": field}, coords={"lat": lat, "lon": lon}).to_netcdf(tmp_path / "two.nc")
    assert cli.main(["compare", str(tmp_path / "two.nc"), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "--variable NAME" in err and "variable=" not in err
    bad = xr.Dataset(
        {"a": (("lat", "lon"), np.full((lat.size, lon.size), -5.0), {"units": "g C m-2 yr-1"})}, coords={"lat": lat, "lon": lon}
    )
    bad.to_netcdf(tmp_path / "negative.nc")
    assert cli.main(["compare", str(tmp_path / "negative.nc"), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "pass --clip" in err and "on_implausible" not in err and "plausible_range" not in err


def test_region_only_refuses_a_degenerate_longitude_axis_without_a_traceback():
    da = xr.DataArray(np.ones((3, 4)), dims=("lat", "lon"), coords={"lat": [10.0, 11.0, 12.0], "lon": [5.0, 5.0, 5.0, 5.0]})
    with pytest.raises(HarmonizeError, match="not a regular increasing axis"):
        inputs.pad_to_full_longitude(da)


def test_a_projected_geotiff_with_region_only_is_reported_as_partial(tmp_path, synthetic_inputs):
    # Europe on a sinusoidal grid (5 km): reprojected, then compared on its footprint
    x = -1_000_000.0 + 5000.0 * (np.arange(300) + 0.5)
    y = 6_500_000.0 - 5000.0 * (np.arange(200) + 0.5)
    da = xr.DataArray(np.full((y.size, x.size), 900.0, dtype="float32"), dims=("y", "x"), coords={"y": y, "x": x})
    da.rio.write_crs("+proj=sinu +lon_0=0 +R=6371007.181 +units=m +no_defs", inplace=True)
    da.rio.to_raster(tmp_path / "sinu.tif")
    with pytest.raises(HarmonizeError, match="--region-only"):
        inputs.harmonize_input(tmp_path / "sinu.tif", units="g C m-2 yr-1")
    result = run_compare(tmp_path, tmp_path / "sinu.tif", synthetic_inputs, units="g C m-2 yr-1", region_only=True)
    assert result.partial
    assert any("reprojected from" in note for note in result.notes)
    # a constant field stays constant through the reprojection's averaging and the regridding
    land_m2 = result.comparison.totals.land_area_mkm2 * M2_PER_MKM2
    assert land_m2 > 0
    assert result.comparison.totals.total_pg_c_yr == pytest.approx(900.0 * land_m2 / 1e15, rel=1e-6)


# ----------------------------------------------------------------------------- the report template


def test_report_renders_every_section_from_the_template(tmp_path, synthetic_inputs):
    ens, weights, published = synthetic_inputs
    per_day = 1.5 + np.cos(2 * np.pi * (np.arange(12) - 6) / 12)
    write_monthly_map(tmp_path / "monthly.nc", per_day)
    harmonized, partial = inputs.harmonize_input(tmp_path / "monthly.nc")
    result = compute.compute_comparison(harmonized, ens, weights, published, "O'Brien <map>", "rs", partial)
    # every optional part at once: a warning and (as for an Rh map) a score table
    result.warnings.append("A warning & its reason.")
    scores = pd.DataFrame(
        {"group": ["this map", "CMIP6"], "Overall Score [1]": [0.7, 0.6], "rank": [1, 2]}, index=["me (this map)", "model"]
    )
    scores.attrs.update(reader="me (this map)", period="2001-2010", reference="/some/where/rh_reference.nc")
    result.scores = results.ScoreSummary(scores, 0.7, 0.5, 0.6, 1, 1, "test")
    figures = {key: tmp_path / f"{key}.png" for key in ("map", "totals", "regional", "seasonal")}
    html = report.render_report(result, figures, {"file": "monthly.nc", "kind": "rs"})
    sections = ["<h2>Input</h2>", "<h2>Global total</h2>", "Among the members", "counted published totals"]
    sections += [f"<h2>{title}</h2>" for _, title, _ in report.SECTIONS]
    sections += [f"({key}.csv)</h3>" for key in report.TABLE_TITLES]
    sections += ["<h2>Model benchmark scores (scores.csv)</h2>", "rh_reference.nc", "<h2>Files</h2>", "summary.csv"]
    sections += [f"<p class='note'>{note.split(' ')[0]}" for note in result.notes]
    missing = [s for s in sections if s not in html]
    assert not missing, missing
    assert "<b>WARNING.</b> A warning &amp; its reason." in html  # autoescaped text
    assert "O&#39;Brien &lt;map&gt;" in html and "<map>" not in html
    assert html.count("<img ") == 4 and "PARTIAL MAP" not in html
    for key in figures:
        assert f"src='{key}.png'" in html
    # the values shown are the typed result's
    assert f"<b>{result.totals.total_pg_c_yr:.2f} Pg C yr<sup>-1</sup></b>" in html
    assert f"{result.placement.n_published} counted published totals" in html
    # a partial map: the banner, never a global total
    result.partial = True
    html = report.render_report(result, figures, {"file": "monthly.nc"})
    assert "PARTIAL MAP" in html and "<h2>Total of the covered area</h2>" in html and "Global total" not in html


def test_cli_refuses_an_unusable_out_before_importing_the_comparison(tmp_path):
    import os
    import subprocess
    import sys

    (tmp_path / "afile").write_text("x")
    code = (
        "import sys; from globalrs.app import cli; "
        f"code = cli.main(['compare', 'map.nc', '--out', {str(tmp_path / 'afile' / 'sub')!r}]); "
        "print(sorted(m for m in ('globalrs.app.compare', 'ilamb3', 'globalrs.gridding.harmonize') if m in sys.modules)); "
        "sys.exit(code)"
    )
    env = {**os.environ, "GLOBALRS_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "--out" in done.stderr and "cannot write the report" in done.stderr
    assert done.stdout.strip() == "[]"  # nothing of the comparison machinery was imported
