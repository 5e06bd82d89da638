"""Tests for globalrs.process_models.cmipmaps: reconstructed native grids of the Varney et al. (2020) rh maps.

The reconstruction is checked against two independent things: where land is (the book's 0.5-degree
land fraction) and each model's own global total (cmip6-hector). Wrong grid guesses must fail.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from globalrs.core.grid import cell_area_m2
from globalrs.process_models import cmipmaps
from globalrs.sources.data import fetch, load_registry

# ------------------------------------------------------------------ helpers


@pytest.fixture(scope="module")
def land_fraction_05():
    import os

    if not os.environ.get("GLOBALRS_DATA_MIRROR"):
        pytest.skip("GLOBALRS_DATA_MIRROR is not set")
    from globalrs.sources.readers import read_land_fraction_05

    return read_land_fraction_05()


def _raw(model: str) -> tuple[np.ndarray, np.ndarray]:
    data = np.load(fetch(f"varney2020/historical_rh_data_{model}.npy"))
    mask = np.load(fetch(f"varney2020/historical_rh_mask_{model}.npy"))
    return data, mask


MODELS = list(cmipmaps.load_model_grids()["model"])


def _entry(**kw) -> dict:
    base = {
        "model": "T",
        "mip": "CMIP6",
        "nlat": 4,
        "nlon": 8,
        "grid_type": "regular",
        "first_lat": -67.5,
        "first_lon": 22.5,
        "grid_source": "test",
    }
    return {**base, **kw}


# ------------------------------------------------------------------ the grid table


def test_grid_table_covers_every_registered_map_with_its_shape(mirror_dir):
    grids = cmipmaps.load_model_grids()
    registered = sorted(
        n.split("historical_rh_data_")[1][:-4] for n in load_registry() if n.startswith("varney2020/historical_rh_data_")
    )
    assert sorted(grids["model"]) == registered
    assert (grids["mip"] == "CMIP6").sum() == 7 and (grids["mip"] == "CMIP5").sum() == 9
    for row in grids.itertuples():
        data, mask = _raw(row.model)
        assert data.shape == (row.nlat, row.nlon), row.model
        assert mask.shape == data.shape
        assert row.grid_source.strip()


def test_check_model_grids_rejects_bad_rows():
    good = cmipmaps.load_model_grids()
    with pytest.raises(cmipmaps.ModelGridError, match="unknown grid types"):
        cmipmaps.check_model_grids(good.assign(grid_type="rotated"))
    bad = good.copy()
    bad.loc[bad["grid_type"] == "gaussian", "first_lat"] = -89.0  # not the Gauss-Legendre node
    with pytest.raises(cmipmaps.ModelGridError, match="first_lat"):
        cmipmaps.check_model_grids(bad)
    with pytest.raises(cmipmaps.ModelGridError, match="duplicated"):
        cmipmaps.check_model_grids(pd.concat([good, good.iloc[:1]]))


def test_gaussian_cells_conserve_through_the_regridder():
    # two independent area computations: native cell areas from the Gaussian edges, and the
    # harmonizer's sphere overlaps onto 0.5 degree; a fully covered field must keep its total
    entry = _entry(nlat=64, nlon=128, grid_type="gaussian", first_lat=-87.8638, first_lon=0.0)
    lat, lon, lat_e, _ = cmipmaps.native_coordinates(entry)
    assert np.all((lat_e[:-1] < lat) & (lat < lat_e[1:]))
    rng = np.random.default_rng(1)
    field = xr.DataArray(
        rng.uniform(0.1, 2.0, (64, 128)), dims=("lat", "lon"), coords={"lat": lat, "lon": lon}, attrs={"units": cmipmaps.RH_UNITS}
    )
    native_total = float((field * cmipmaps.native_cell_area_m2(entry)).sum()) * 1000.0
    on05 = cmipmaps.regrid_native_to_05(field, entry)
    total05 = float((on05 * cell_area_m2(on05["lat"].values, on05["lon"].values)).sum())
    assert total05 == pytest.approx(native_total, rel=1e-9)
    # the Gaussian rows are not evenly spaced: a regular guess puts the first row elsewhere
    reg, _, _, _ = cmipmaps.native_coordinates({**entry, "grid_type": "regular"})
    assert abs(reg[0] - lat[0]) < 1e-4 and abs(reg[1] - lat[1]) > 1e-3


def test_regular_grid_regridding_matches_harmonize_to_grid(mirror_dir):
    from globalrs.gridding.harmonize import harmonize_to_grid

    rh = cmipmaps.read_native_rh("GFDL-ESM2G")
    ours = cmipmaps.regrid_native_to_05(rh, cmipmaps.grid_entry("GFDL-ESM2G"))
    theirs = harmonize_to_grid(rh, fill="mean")["rs_annual"]
    np.testing.assert_allclose(ours.values, theirs.values, rtol=1e-9, equal_nan=True)


# ------------------------------------------------------------------ where land is


@pytest.mark.parametrize("model", MODELS)
def test_positive_rh_falls_on_land(model, land_fraction_05):
    rh = cmipmaps.read_native_rh(model)
    assert rh.attrs["coordinates_reconstructed"] == "yes"
    assert bool((np.diff(rh["lat"].values) > 0).all())
    share = cmipmaps.land_share_of_positive_cells(rh, land_fraction_05)
    assert share >= cmipmaps.LAND_SHARE_MIN


@pytest.mark.parametrize("model", ["MIROC-ES2L", "UKESM1-0-LL", "CNRM-ESM2-1", "GISS-E2-R", "CESM1-CAM5"])
def test_wrong_grid_guesses_fail_the_land_test(model, land_fraction_05):
    entry = cmipmaps.grid_entry(model)
    data, mask = _raw(model)
    right = cmipmaps.land_share_of_positive_cells(cmipmaps.build_native_map(data, mask, entry), land_fraction_05, entry)
    flipped = cmipmaps.build_native_map(data[::-1], mask[::-1], entry)  # row 0 taken as northernmost
    assert cmipmaps.land_share_of_positive_cells(flipped, land_fraction_05, entry) < cmipmaps.LAND_SHARE_MIN
    rh = cmipmaps.build_native_map(data, mask, entry)
    dlon = 360.0 / entry["nlon"]
    for shift_cells in (entry["nlon"] // 2, 10):  # 180 degrees; ten cells
        wrong = {**entry, "first_lon": entry["first_lon"] + shift_cells * dlon}
        assert cmipmaps.land_share_of_positive_cells(rh, land_fraction_05, wrong) < cmipmaps.LAND_SHARE_MIN
    for shift_cells in (-1, 1):  # even one cell off is worse than the documented grid
        wrong = {**entry, "first_lon": entry["first_lon"] + shift_cells * dlon}
        assert cmipmaps.land_share_of_positive_cells(rh, land_fraction_05, wrong) < right


def test_cardamom_coordinates_from_readme_beat_shifted_ones(land_fraction_05):
    rh = cmipmaps.read_cardamom_rh()
    assert rh.sizes == {"lat": 360, "lon": 720}
    assert float(rh["lat"][0]) == -89.75 and float(rh["lon"][0]) == -179.75
    pos = rh.values > 0
    land = land_fraction_05.values > 0
    share = (pos & land).sum() / pos.sum()
    for axis, shift in ((1, 1), (1, -1), (0, 1), (0, -1), (1, 360)):
        assert (np.roll(pos, shift, axis=axis) & land).sum() / pos.sum() < share


# ------------------------------------------------------------------ against cmip6-hector


@pytest.fixture(scope="module")
def maps_05(tmp_path_factory):
    import os

    if not os.environ.get("GLOBALRS_DATA_MIRROR"):
        pytest.skip("GLOBALRS_DATA_MIRROR is not set")
    return cmipmaps.build_rh_maps_05(progress=False)


def test_global_totals_match_hector_within_tolerance(maps_05):
    totals = cmipmaps.rh_global_totals_pg(maps_05)
    table = cmipmaps.compare_with_hector(totals)
    # the five models both sets hold (mirror README)
    assert sorted(table.index) == ["CNRM-ESM2-1", "CanESM5", "IPSL-CM6A-LR", "MIROC-ES2L", "UKESM1-0-LL"]
    assert table["within_tolerance"].all(), table
    assert (table["status"] == "kept").all()


def test_flipped_latitudes_break_the_hector_totals(maps_05):
    # rows reversed, same coordinates: northern rh lands on the southern oceans
    hector = cmipmaps.hector_period_means()
    entry = cmipmaps.grid_entry("UKESM1-0-LL")
    data, mask = _raw("UKESM1-0-LL")
    wrong = cmipmaps.regrid_native_to_05(cmipmaps.build_native_map(data[::-1], mask[::-1], entry), entry)
    ds = maps_05.isel(model=[list(maps_05["model"].values).index("UKESM1-0-LL")]).copy()
    ds["rh"] = wrong.expand_dims(model=ds["model"].values).astype(np.float32)
    table = cmipmaps.compare_with_hector(cmipmaps.rh_global_totals_pg(ds), hector)
    assert not table.loc["UKESM1-0-LL", "within_tolerance"]
    assert table.loc["UKESM1-0-LL", "status"].startswith("excluded")


def test_compare_with_hector_counts_exclusion_never_nan():
    totals = pd.DataFrame(
        {"mip": ["CMIP6"] * 3, "rh_total_pg_c_yr": [50.0, 60.0, 70.0]}, index=pd.Index(["A", "B", "C"], name="model")
    )
    hector = pd.DataFrame({"mean_rh_pg_c_yr": [50.5, 75.0], "n_members": [1, 3]}, index=["A", "B"])
    out = cmipmaps.compare_with_hector(totals, hector, tolerance=0.1)
    assert list(out.index) == ["A", "B"]
    assert out.loc["A", "status"] == "kept"
    assert out.loc["B", "status"].startswith("excluded") and "-20.0 %" in out.loc["B", "status"]
    assert out["ratio"].notna().all()
    with pytest.raises(ValueError, match="no model"):
        cmipmaps.compare_with_hector(totals, hector.rename(index={"A": "X", "B": "Y"}))


def test_maps_05_schema_and_mip_coordinate(maps_05):
    assert maps_05["rh"].dims == ("model", "lat", "lon")
    assert maps_05["rh"].attrs["units"] == "g C m-2 yr-1"
    assert sorted(set(maps_05["mip"].values)) == ["CMIP5", "CMIP6"]
    assert {"cell_area_m2", "land_fraction", "land_mask"} <= set(maps_05.data_vars)
    counts = __import__("json").loads(maps_05.attrs["cleaning_counts"])
    assert counts["CESM1-CAM5"]["n_nonfinite_set_missing"] > 0  # inf over the ocean
    assert counts["HadGEM2-ES"]["n_negative_set_zero"] > 0  # tiny negatives
    assert counts["CanESM5"]["n_zero_ocean_set_missing"] > 0  # saved without a mask, zeros over the ocean
    assert counts["UKESM1-0-LL"]["n_zero_ocean_set_missing"] == 0  # has a mask: unchanged
    assert np.isnan(float(maps_05["rh"].sel(model="CanESM5", lat=0.25, lon=-150.25)))  # mid-Pacific
    # native and 0.5-degree totals of the raw CanESM5 map (values in every cell) agree exactly:
    # the native cell areas and the regridder's overlaps are two independent area computations
    rh = cmipmaps.read_native_rh("CanESM5")
    entry = cmipmaps.grid_entry("CanESM5")
    native = float((rh * cmipmaps.native_cell_area_m2(entry)).sum()) / 1e12
    on05 = cmipmaps.regrid_native_to_05(rh, entry)
    total05 = float((on05 * maps_05["cell_area_m2"]).sum()) / 1e15
    assert total05 == pytest.approx(native, rel=1e-9)


def test_mask_unmasked_ocean_only_touches_zeros_without_land():
    rh = cmipmaps.build_native_map(np.array([[0.0, 0.0, 1.0, 0.0]] * 4).repeat(2, axis=1), None, _entry())
    land = rh.copy(data=np.zeros((4, 8)))
    land.values[:, 0:2] = 0.3  # zeros with some land stay (a desert, a glacier)
    out = cmipmaps.mask_unmasked_ocean(rh, land)
    # row pattern 0 0 0 0 1 1 0 0: columns 2-3 and 6-7 are zeros without land
    assert out.attrs["n_zero_ocean_set_missing"] == 16
    assert (out.values[:, 0:2] == 0).all() and np.isnan(out.values[:, 2:4]).all()
    assert (out.values[:, 4:6] == 1).all() and np.isnan(out.values[:, 6:8]).all()
    masked = cmipmaps.build_native_map(np.zeros((4, 8)) + 0.5, np.eye(4, 8, dtype=bool), _entry())
    assert cmipmaps.mask_unmasked_ocean(masked, land).attrs["n_zero_ocean_set_missing"] == 0


def test_load_rh_maps_05_caches_and_filters(tmp_path, monkeypatch, mirror_dir):
    monkeypatch.setenv("GLOBALRS_CACHE_DIR", str(tmp_path))
    calls = []
    real_build = cmipmaps.build_rh_maps_05

    def build_two(models=None, progress=True):
        calls.append(1)
        return real_build(["CanESM5", "CanESM2"], progress=False)

    monkeypatch.setattr(cmipmaps.maps, "build_rh_maps_05", build_two)  # where load_rh_maps_05 looks it up
    first = cmipmaps.load_rh_maps_05("CMIP6")
    again = cmipmaps.load_rh_maps_05("CMIP5")
    assert len(calls) == 1  # the second call read the cache
    assert list(first["model"].values) == ["CanESM5"] and list(again["model"].values) == ["CanESM2"]
    assert again["land_mask"].dtype == bool
    with pytest.raises(ValueError, match="mip"):
        cmipmaps.load_rh_maps_05("CMIP7")


def test_latitude_profile_matches_published_zonal_shares(maps_05):
    table = cmipmaps.compare_zonal_shares(maps_05)
    assert sorted(table.index) == ["CNRM-ESM2-1", "IPSL-CM6A-LR"]
    assert (table["correlation"] >= cmipmaps.ZONAL_CORRELATION_MIN).all(), table
    flipped = maps_05.copy()
    flipped["rh"] = maps_05["rh"].copy(data=maps_05["rh"].values[:, ::-1, :])
    assert (cmipmaps.compare_zonal_shares(flipped)["correlation"] < cmipmaps.ZONAL_CORRELATION_MIN).all()


def test_zonal_shares_hand_computed():
    lat = np.array([-7.5, -2.5, 2.5, 7.5])
    lon = np.array([0.0, 90.0])
    rh = xr.DataArray([[1.0, 1.0], [np.nan, 2.0], [3.0, 0.0], [1.0, 0.0]], dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    area = xr.ones_like(rh)
    out = cmipmaps.zonal_rh_shares_pct(rh, area, band_deg=5.0)
    # band totals 2, 2, 3, 1 of 8
    assert out.to_dict() == {-10.0: 25.0, -5.0: 25.0, 0.0: 37.5, 5.0: 12.5}


# ------------------------------------------------------------------ bad input


def test_shape_matching_no_known_grid(tmp_path):
    path = tmp_path / "historical_rh_data_X.npy"
    np.save(path, np.ones((3, 5), dtype=np.float32))
    with pytest.raises(cmipmaps.ModelGridError, match="matches no known grid"):
        cmipmaps.build_native_map(np.load(path), None, cmipmaps.grid_entry("CanESM5"))


def test_shape_of_another_model_is_named():
    with pytest.raises(cmipmaps.ModelGridError, match="UKESM1-0-LL"):
        cmipmaps.build_native_map(np.ones((144, 192)), None, cmipmaps.grid_entry("CanESM5"))


def test_model_without_grid_entry():
    with pytest.raises(cmipmaps.ModelGridError, match="no grid entry for model 'NoSuchESM'"):
        cmipmaps.read_native_rh("NoSuchESM")


def test_all_masked_map(tmp_path):
    np.save(tmp_path / "d.npy", np.ones((4, 8)))
    np.save(tmp_path / "m.npy", np.ones((4, 8), dtype=bool))
    with pytest.raises(ValueError, match="all masked"):
        cmipmaps.build_native_map(np.load(tmp_path / "d.npy"), np.load(tmp_path / "m.npy"), _entry())
    with pytest.raises(ValueError, match="all masked or non-finite"):
        cmipmaps.build_native_map(np.full((4, 8), np.inf), None, _entry())


def test_inf_and_noise_negatives_are_counted_and_big_negatives_rejected():
    data = np.ones((4, 8))
    data[0, :3] = np.inf
    data[1, 0] = -5e-5
    out = cmipmaps.build_native_map(data, None, _entry())
    assert out.attrs["n_nonfinite_set_missing"] == 3
    assert out.attrs["n_negative_set_zero"] == 1
    assert np.isnan(out.values[0, :3]).all() and out.values[1, 0] == 0.0
    data[1, 0] = -0.5
    with pytest.raises(ValueError, match="noise"):
        cmipmaps.build_native_map(data, None, _entry())
    with pytest.raises(ValueError, match="mask of shape"):
        cmipmaps.build_native_map(np.ones((4, 8)), np.zeros((8, 4), dtype=bool), _entry())


# ------------------------------------------------------------------ digitised series


def test_read_digitised_series(tmp_path):
    path = tmp_path / "s.txt"
    path.write_text("#DataThief\n1990.02, 51.0\n1990.97, 52.5\n1992, 53.0\n")
    out = cmipmaps.read_digitised_series(path, "X (digitised)")
    assert list(out["year"]) == [1990, 1991, 1992]
    assert list(out["rh_pg_c_yr"]) == [51.0, 52.5, 53.0]
    assert (out["series"] == "X (digitised)").all()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("1990, 51\n", "DataThief"),
        ("#DataThief\n1990.1, 51\n1989.9, 52\n", "twice"),
        ("#DataThief\n1990.5, 51\n", "whole years"),
        ("#DataThief\n1990, 0.05\n", "10-150"),
    ],
)
def test_read_digitised_series_rejects(tmp_path, text, match):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        cmipmaps.read_digitised_series(path, "bad")


def test_read_digitised_rh_labels(mirror_dir):
    out = cmipmaps.read_digitised_rh()
    assert all(s.endswith("(digitised)") for s in out["series"].unique())
    spans = out.groupby("series")["year"].agg(["min", "max"])
    assert spans.loc["Hashimoto et al. 2015 (digitised)"].tolist() == [1990, 2012]
    assert spans.loc["Tang et al. 2020 (digitised)"].tolist() == [1980, 2016]


def test_regional_cv_by_mip_matches_global_totals_and_numpy_cv():
    lat = np.arange(-2.75, 3.0, 0.5)
    lon = np.arange(-2.75, 3.0, 0.5)
    rng = np.random.default_rng(1)
    rh = rng.uniform(100, 900, size=(4, lat.size, lon.size))
    frac = xr.DataArray(rng.uniform(0.2, 1.0, size=(lat.size, lon.size)), coords={"lat": lat, "lon": lon}, dims=("lat", "lon"))
    ds = xr.Dataset(
        {
            "rh": (("model", "lat", "lon"), rh, {"units": "g C m-2 yr-1"}),
            "cell_area_m2": (("lat", "lon"), np.asarray(cell_area_m2(lat, lon))),
            "land_fraction": frac,
            "land_mask": (("lat", "lon"), np.ones((lat.size, lon.size), bool)),
        },
        coords={"model": ["a", "b", "c", "d"], "mip": ("model", ["CMIP6", "CMIP6", "CMIP6", "CMIP5"]), "lat": lat, "lon": lon},
    )
    west = (ds["lon"] < 0).broadcast_like(frac).astype(float)
    weights = xr.concat([west, 1 - west], dim="region").assign_coords(region=["W", "E"])
    cv, totals = cmipmaps.regional_cv_by_mip(ds, "CMIP6", weights)
    assert list(totals["model"].values) == ["a", "b", "c"]
    # two regions that partition the grid sum to the global totals computed by another function
    glob = cmipmaps.rh_global_totals_pg(ds.isel(model=[0, 1, 2]))["rh_total_pg_c_yr"].to_numpy()
    np.testing.assert_allclose(totals.sum("region").values, glob, rtol=1e-10)
    west_totals = totals.sel(region="W").values
    assert cv.loc["W", "cv_percent"] == pytest.approx(100 * west_totals.std(ddof=1) / west_totals.mean())
    with pytest.raises(ValueError, match="no 'CMIP4' maps"):
        cmipmaps.regional_cv_by_mip(ds, "CMIP4", weights)
    # on another land definition (the data-driven mask): only its cells count, by hand
    data_mask = (ds["lat"] > 0).broadcast_like(frac)
    _, on_mask = cmipmaps.regional_cv_by_mip(ds, "CMIP6", weights, land_mask=data_mask)
    area = ds["cell_area_m2"] * frac
    by_hand = (ds["rh"].isel(model=0) * area).where(data_mask & (ds["lon"] < 0)).sum() / 1e15
    assert float(on_mask.sel(model="a", region="W")) == pytest.approx(float(by_hand))
    from globalrs.core.exceptions import GridError

    with pytest.raises(GridError, match="CMIP6: the land mask is not on the maps' grid"):
        cmipmaps.regional_cv_by_mip(ds, "CMIP6", weights, land_mask=data_mask.isel(lat=slice(1, None)))


def test_tas_map_05_reads_a_real_model_and_refuses_kelvin(mirror_dir, tmp_path, monkeypatch):
    tas = cmipmaps.tas_map_05("CanESM5")
    assert tas.shape == (360, 720) and tas.attrs["units"] == "degC"
    # the tropics are warmer than the high latitudes, and the global range is a temperature in degC
    assert float(tas.sel(lat=slice(-10, 10)).mean()) > 20 > float(tas.sel(lat=slice(60, 90)).mean())
    entry = cmipmaps.grid_entry("CanESM5")
    shape = (int(entry["nlat"]), int(entry["nlon"]))
    np.save(tmp_path / "data.npy", np.full(shape, 288.0, dtype="float32"))  # kelvin
    np.save(tmp_path / "mask.npy", np.zeros(shape, bool))
    monkeypatch.setattr(cmipmaps.maps, "fetch", lambda name: tmp_path / ("data.npy" if "_data_" in name else "mask.npy"))
    with pytest.raises(ValueError, match="CanESM5: tas from 288"):
        cmipmaps.tas_map_05("CanESM5")


def test_the_grid_check_table_holds_the_shares_computed_one_by_one(land_fraction_05):
    """grid_guess_land_shares against land_share_of_positive_cells called by hand on each guess."""
    models = ["GISS-E2-R", "MIROC-ES2L"]  # one regular, one Gaussian grid
    native = {m: cmipmaps.read_native_rh(m) for m in models}
    table = cmipmaps.grid_guess_land_shares(native, land_fraction_05)
    assert list(table.index) == models and table["accepted"].all()
    for model in models:
        entry = cmipmaps.grid_entry(model)
        data, mask = _raw(model)
        dlon = 360.0 / entry["nlon"]
        flipped = cmipmaps.build_native_map(data[::-1], mask[::-1], entry)
        assert table.loc[model, "rows flipped"] == cmipmaps.land_share_of_positive_cells(flipped, land_fraction_05, entry)
        shifted = {**entry, "first_lon": entry["first_lon"] + cmipmaps.GROSS_SHIFT_CELLS * dlon}
        assert table.loc[model, f"lon +{cmipmaps.GROSS_SHIFT_CELLS} cells"] == cmipmaps.land_share_of_positive_cells(
            native[model], land_fraction_05, shifted
        )
        assert table.loc[model, "documented grid"] > table.loc[model, ["rows flipped", "lon +180 deg", "lon +1 cell"]].max()
        assert table.loc[model, "grid"].startswith(entry["grid_type"])
