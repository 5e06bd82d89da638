"""Tests for globalrs.gridding.regions: rules, weights, totals and CV on tiny synthetic grids."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from globalrs.core.exceptions import GridError
from globalrs.core.grid import cell_area_m2
from globalrs.estimates import divergence
from globalrs.gridding import regions
from globalrs.reproduction import paper


def _grid(res=10.0):
    lat = -90 + res * (np.arange(int(180 / res)) + 0.5)
    lon = -180 + res * (np.arange(int(360 / res)) + 0.5)
    return lat, lon


def _fractions(lat, lon, assignments):
    """Continent fractions: {continent: boolean (lat, lon) array or float array}."""
    names = list(assignments)
    data = np.stack([np.asarray(assignments[n], dtype=float) for n in names])
    return xr.DataArray(data, dims=("continent", "lat", "lon"), coords={"continent": names, "lat": lat, "lon": lon})


def test_region_table_has_the_papers_labels():
    table = regions.load_regions()
    assert list(table.index) == list(regions.REGION_ORDER)
    assert len(table) == paper.get_claim("regional_cv.n_regions").value
    assert set(paper.HIGH_CV_REGIONS) <= set(table.index)
    assert "Sahara" in table.loc["B2", "basis"] or "north African" in table.loc["B2", "basis"]
    assert "Gobi" in table.loc["C2", "basis"]
    assert "Borneo" in table.loc["C5", "basis"]


def test_rules_assign_by_continent_and_box():
    lat, lon = _grid(10.0)
    lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
    africa = (lon2 > -20) & (lon2 < 50) & (lat2 > -35) & (lat2 < 35)
    asia_islands = (lat2 > -10) & (lat2 < 5) & (lon2 > 100) & (lon2 < 150)
    asia_desert = (lat2 > 35) & (lat2 < 50) & (lon2 > 60) & (lon2 < 110)
    frac = _fractions(lat, lon, {"Africa": africa, "Asia": asia_islands | asia_desert})
    w = regions.region_weights(lat, lon, fractions=frac, fill_nearest=False)
    labels = regions.region_labels(w)
    assert labels.sel(lat=25, lon=5).item() == "B2"  # Sahara
    assert labels.sel(lat=5, lon=25).item() == "B3"
    assert labels.sel(lat=-25, lon=25).item() == "B4"
    assert labels.sel(lat=-5, lon=115).item() == "C5"
    assert labels.sel(lat=45, lon=85).item() == "C2"
    assert labels.sel(lat=-75, lon=85).item() == ""


def test_partial_and_shared_cells_are_partitioned():
    lat, lon = _grid(10.0)
    quarter = np.zeros((lat.size, lon.size))
    quarter[11, 20] = 0.25  # lat 25, lon 25 (Africa, B2)
    europe = np.zeros_like(quarter)
    europe[11, 20] = 0.5
    frac = _fractions(lat, lon, {"Africa": quarter, "Europe": europe})
    w = regions.region_weights(lat, lon, fractions=frac, fill_nearest=False)
    cell = w.isel(lat=11, lon=20)
    assert float(cell.sel(region="B2")) == pytest.approx(1 / 3)
    assert float(cell.sel(region="B1")) == pytest.approx(2 / 3)
    assert float(w.sum("region").max()) == pytest.approx(1.0)


def test_nearest_fill_reaches_coastal_cells_only():
    lat, lon = _grid(10.0)
    africa = np.zeros((lat.size, lon.size))
    africa[11, 20] = 1.0
    frac = _fractions(lat, lon, {"Africa": africa})
    w = regions.region_weights(lat, lon, fractions=frac, fill_nearest=True, max_fill_cells=1)
    assigned = w.sum("region") > 0
    assert bool(assigned.isel(lat=11, lon=21))  # neighbour filled
    assert not bool(assigned.isel(lat=11, lon=25))  # far away: not filled
    assert regions.region_labels(w).isel(lat=11, lon=21).item() == "B2"


def test_regional_totals_add_up_and_match_hand_values():
    lat, lon = _grid(10.0)
    lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
    africa = (lon2 > -20) & (lon2 < 50) & (lat2 > -35) & (lat2 < 35)
    frac = _fractions(lat, lon, {"Africa": africa})
    w = regions.region_weights(lat, lon, fractions=frac, fill_nearest=False)
    flux = xr.DataArray(
        np.where(africa, 500.0, np.nan), dims=("lat", "lon"), coords={"lat": lat, "lon": lon}, attrs={"units": "g C m-2 yr-1"}
    )
    totals = regions.regional_totals_pg(flux, w)
    area = cell_area_m2(lat, lon).values
    b2 = (africa & (lat2 >= 15)) * area * 500.0 / 1e15
    assert float(totals.sel(region="B2")) == pytest.approx(b2.sum())
    assert float(totals.sum()) == pytest.approx(np.nansum(flux.values * area) / 1e15)
    with pytest.raises(ValueError, match="g C m-2 yr-1"):
        regions.regional_totals_pg(flux.assign_attrs(units="kg m-2 s-1"), w)
    with pytest.raises(ValueError, match="NaN"):
        regions.regional_totals_pg(flux, w, mask=xr.ones_like(flux, dtype=bool))


def test_regional_cv_by_hand():
    totals = xr.DataArray([[1.0, 10.0], [2.0, 10.0], [3.0, 10.0]], dims=("member", "region"), coords={"region": ["A1", "B2"]})
    table = regions.regional_cv(totals, n_boot=500, seed=1, cv_threshold=paper.CV_THRESHOLD)
    assert table.loc["A1", "cv"] == pytest.approx(0.5)  # sd 1 / mean 2
    assert table.loc["B2", "cv"] == pytest.approx(0.0)
    assert bool(table.loc["A1", "exceeds_25pct"]) and not bool(table.loc["B2", "exceeds_25pct"])
    # three members: the leave-one-out range, not a bootstrap interval. Leaving out 1, 2 or 3
    # leaves (2, 3), (1, 3), (1, 2): CVs sqrt(0.5)/2.5, sqrt(2)/2, sqrt(0.5)/1.5
    assert table.loc["A1", "interval"] == "leave-one-out range"
    assert table.loc["A1", "cv_low"] == pytest.approx(np.sqrt(0.5) / 2.5)
    assert table.loc["A1", "cv_high"] == pytest.approx(np.sqrt(2) / 2)
    boot = regions.regional_cv(totals, n_boot=500, seed=1, min_boot_members=3)
    assert boot.loc["A1", "interval"] == "bootstrap 95 %"
    assert boot.loc["A1", "cv_low"] <= 0.5 <= boot.loc["A1", "cv_high"]
    two = regions.regional_cv(totals.isel(member=[0, 1]))
    assert np.isnan(two.loc["A1", "cv_low"]) and two.loc["A1", "cv"] == pytest.approx(np.sqrt(0.5) / 1.5)
    again = regions.regional_cv(totals, n_boot=500, seed=1, cv_threshold=paper.CV_THRESHOLD)
    assert again.equals(table)
    # the paper's 25 % line is the caller's to pass: without it, no flag column
    assert "exceeds_25pct" not in regions.regional_cv(totals, n_boot=500, seed=1).columns
    with pytest.raises(ValueError, match="two members"):
        regions.regional_cv(totals.isel(member=[0]))
    with pytest.raises(ValueError, match="NaN"):
        regions.regional_cv(totals.where(totals > 1))


def test_cellwise_cv_and_points():
    lat, lon = _grid(10.0)
    rs = xr.DataArray(
        np.stack([np.full((18, 36), v) for v in (1.0, 2.0, 3.0)]), dims=("member", "lat", "lon"), coords={"lat": lat, "lon": lon}
    )
    assert float(divergence.cellwise_cv(rs).mean()) == pytest.approx(0.5)
    lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
    frac = _fractions(lat, lon, {"Africa": (lon2 > -20) & (lon2 < 50) & (np.abs(lat2) < 35)})
    w = regions.region_weights(lat, lon, fractions=frac, fill_nearest=False)
    got = regions.assign_points_to_regions([22.0, 2.0, np.nan, 60.0], [8.0, 365.0 + 20.0, 0.0, 0.0], w)
    assert list(got) == ["B2", "B3", "", ""]


def test_real_regions_cover_the_named_places(mirror_dir):
    w = regions.region_weights()
    labels = regions.region_labels(w)
    assert labels.sel(lat=23.25, lon=10.25).item() == "B2"  # Algerian Sahara
    assert labels.sel(lat=41.25, lon=103.25).item() == "C2"  # Gobi
    assert labels.sel(lat=0.75, lon=114.25).item() == "C5"  # Borneo
    assert labels.sel(lat=-5.25, lon=142.25).item() == "C5"  # New Guinea (PNG, Oceania)
    assert labels.sel(lat=-25.25, lon=134.25).item() == "C4"  # Australia
    assert labels.sel(lat=64.75, lon=100.25).item() == "C1"  # Siberia
    assert labels.sel(lat=66.25, lon=-172.25).item() == "C1"  # Chukotka, Russia west of the antimeridian
    assert labels.sel(lat=48.75, lon=2.25).item() == "B1"  # France
    assert set(np.unique(labels.values)) == set(regions.REGION_ORDER) | {""}


def test_region_label_points_fall_inside_the_bulk_of_each_region():
    lat = np.arange(-9.5, 10, 1.0)
    lon = np.arange(-19.5, 20, 1.0)
    values = np.full((lat.size, lon.size), "", dtype=object)
    values[:, :20] = "A1"  # western half
    values[5:15, 25:35] = "B2"  # a square in the east
    values[0, 39] = "B2"  # a stray cell far from the square's bulk
    labels = xr.DataArray(values, dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    points = regions.region_label_points(labels)
    assert list(points.index) == ["A1", "B2"]
    assert points.loc["A1", "lon"] < 0
    assert 5 <= points.loc["B2", "lon"] <= 15 and -5 <= points.loc["B2", "lat"] <= 5


def test_a_second_region_set_is_a_table():
    assert regions.region_sets()[0] == "paper" and "srex" in regions.region_sets()
    srex = regions.load_regions("srex")
    assert len(srex) == 26 and srex.index[0] == "ALA" and srex.loc["SAH", "paper_analogue"] == "B2"
    assert regions.region_order() == regions.REGION_ORDER and len(regions.REGION_ORDER) == 14
    with pytest.raises(ValueError, match="unknown region set"):
        regions.load_regions("ar7")


def test_srex_weights_partition_land_and_find_the_sahara():
    lat, lon = _grid(2.0)
    w = regions.region_weights(lat, lon, region_set="srex")
    assert w.attrs["region_set"] == "srex" and list(w["region"].values) == list(regions.region_order("srex"))
    total = w.sum("region")
    assert float(total.max()) == pytest.approx(1.0, abs=1e-6) and float(total.min()) >= 0
    assert regions.region_labels(w).sel(lat=23.0, lon=9.0, method="nearest").item() == "SAH"
    assert regions.region_labels(w).sel(lat=-3.0, lon=115.0, method="nearest").item() == "SEA"  # Borneo


def test_a_map_off_the_region_grid_is_named():
    lat, lon = _grid(10.0)
    lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
    w = regions.region_weights(lat, lon, fractions=_fractions(lat, lon, {"Africa": np.abs(lat2) < 30}), fill_nearest=False)
    flux = xr.DataArray(
        np.ones((2, 9, 36)), dims=("model", "lat", "lon"), coords={"model": ["M1", "M2"], "lat": lat[::2], "lon": lon}
    ).assign_attrs(units="g C m-2 yr-1")
    with pytest.raises(GridError, match="M1, M2: .*'paper' set"):
        regions.regional_totals_pg(flux, w)


def test_the_ar6_land_regions_are_a_table_and_place_the_papers_deserts():
    """AR6 (Iturbide et al. 2020) through the same table machinery: Gobi and Taklamakan in ECA."""
    ar6 = regions.load_regions("ar6")
    assert len(ar6) == 44 and not {"EAN", "WAN"} & set(ar6.index)
    assert ar6["paper_analogue"].dropna().to_dict() == {"SAH": "B2", "ECA": "C2", "SEA": "C5"}
    lat, lon = _grid(2.0)
    w = regions.region_weights(lat, lon, region_set="ar6")
    assert list(w["region"].values) == list(regions.region_order("ar6"))
    total = w.sum("region")
    assert float(total.max()) == pytest.approx(1.0, abs=1e-6) and float(total.min()) >= 0
    labels = regions.region_labels(w)
    for (name, lat_deg, lon_deg), expected in {
        ("Sahara", 23.0, 9.0): "SAH",
        ("Gobi", 43.0, 103.0): "ECA",
        ("Taklamakan", 39.0, 83.0): "ECA",
        ("Borneo", 1.0, 114.0): "SEA",
        ("New Guinea", -5.0, 142.0): "SEA",
    }.items():
        assert labels.sel(lat=lat_deg, lon=lon_deg, method="nearest").item() == expected, name


def test_a_regionmask_set_that_cannot_be_loaded_says_what_to_do(monkeypatch):
    import regionmask

    from globalrs.core.exceptions import DataAccessError

    class Offline:
        @property
        def land(self):
            raise ConnectionError("no route to github.com")

    monkeypatch.setattr(regionmask.defined_regions, "ar6", Offline())
    lat, lon = _grid(10.0)
    with pytest.raises(
        DataAccessError, match=r"regions_ar6\.csv: regionmask could not load its ar6\.land.*seed_regionmask_cache"
    ):
        regions.defined_fractions("ar6", lat + 0.123, lon)


def test_region_mask_netcdf_round_trips_labels_names_and_weights(tmp_path):
    lat, lon = _grid(10.0)
    lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
    africa = (lon2 > -20) & (lon2 < 50) & (lat2 > -35) & (lat2 < 35)
    w = regions.region_weights(lat, lon, fractions=_fractions(lat, lon, {"Africa": africa}), fill_nearest=False)
    path = regions.write_region_mask_netcdf(w, tmp_path / "mask.nc")
    with xr.open_dataset(path) as ds:
        ds = ds.load()
    assert ds.attrs["Conventions"].startswith("CF")
    assert ds["lat"].attrs["units"] == "degrees_north" and ds["lon"].attrs["units"] == "degrees_east"
    np.testing.assert_allclose(ds["region_weight"].values, w.values)
    # the stored index, read back through the names, is the label region_labels gives
    codes = [str(r) for r in ds["region"].values]
    index = ds["region_index"].values
    decoded = np.where(index >= 0, np.asarray(codes)[np.clip(index, 0, None)], "")
    np.testing.assert_array_equal(decoded, regions.region_labels(w).values)
    assert (index == -1).sum() == (~africa).sum()
    assert ds["region_index"].attrs["flag_meanings"].split() == codes
    names = regions.load_regions()["name"]
    assert dict(zip(codes, ds["region_name"].values, strict=True)) == {c: names[c] for c in codes}
