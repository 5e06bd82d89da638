"""Each member's AOA on grids: covariates per member, clear errors, shares outside (synthetic grids)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from globalrs.estimates import applicability as ap
from globalrs.estimates import members
from globalrs.sources.readers import LANDCOVER_GROUPS


def small_world(nlat=6, nlon=8):
    """A tiny grid: warm-wet cells in the west, hot-dry far-out cells in the east; sites in the west."""
    lat = np.linspace(-10, 10, nlat)
    lon = np.linspace(-20, 20, nlon)
    west = lon[None, :] < 0
    t = np.where(west, 20.0, 45.0) * np.ones((12, nlat, nlon))
    p = np.where(west, 100.0, 0.5) * np.ones((12, nlat, nlon))
    climate = xr.Dataset(
        {
            "tmean_c": (("month", "lat", "lon"), t, {"units": "deg C"}),
            "prec_mm_month": (("month", "lat", "lon"), p, {"units": "mm month-1"}),
        },
        coords={"month": np.arange(1, 13), "lat": lat, "lon": lon},
    )
    lc = xr.DataArray(np.zeros((nlat, nlon), int), dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    mask = xr.DataArray(np.ones((nlat, nlon), bool), dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    rng = np.random.default_rng(0)
    n = 60
    obs = pd.DataFrame({"lat": rng.uniform(-60, 60, n), "lon": rng.uniform(-170, -10, n), "landcover_group": np.arange(n) % 2})
    t_site, p_site = 20 + rng.normal(0, 2, n), 100 + rng.normal(0, 10, n)  # no seasonality, like the grid
    for m in range(12):
        obs[f"t{m + 1:02d}"] = t_site
    for m in range(12):
        obs[f"p{m + 1:02d}"] = p_site
    return climate, lc, mask, obs


def test_far_out_climate_is_outside_and_training_climate_inside():
    climate, lc, mask, obs = small_world()
    aoa = ap.member_aoa(obs, {"linear_mat_map": {}, "raich_potter": {}}, climate, lc, mask)
    west = aoa["lon"] < 0
    assert (aoa["inside_aoa"].where(west, 1) == 1).all()
    assert (aoa["inside_aoa"].where(~west, 0) == 0).all()


def test_area_x_mean_is_outside_only_in_a_class_without_records():
    climate, lc, mask, obs = small_world()
    lc = lc.copy()
    lc[0, 0] = LANDCOVER_GROUPS.index("wetland")
    aoa = ap.member_aoa(obs, {"area_x_mean": {}}, climate, lc, mask)
    inside = aoa["inside_aoa"].sel(member="area_x_mean").values
    assert inside[0, 0] == 0 and inside.sum() == inside.size - 1


def test_ml_covariates_are_weighted_by_importance():
    t, p, lc = np.full((3, 12), 10.0), np.full((3, 12), 50.0), np.zeros(3, int)
    params = {f"importance_{c}": 0.1 for c in members.feature_names()}
    table, weights, columns = ap.member_covariates("random_forest", t, p, lc, params)
    assert table.shape == (3, len(columns)) and weights is not None and len(weights) == len(columns)
    with pytest.raises(ValueError, match="gpp"):
        ap.member_covariates("random_forest_gpp", t, p, lc, params, {"gpp": np.ones(3)})


def test_clear_errors_name_what_is_missing():
    climate, lc, mask, obs = small_world()
    with pytest.raises(ValueError, match="training records"):
        ap.member_aoa(obs.iloc[:0], {"linear_mat_map": {}}, climate, lc, mask)
    coarse = lc.isel(lat=slice(0, 3))
    with pytest.raises(ValueError, match=r"land-cover grid \(3, 8\).*climate \(prediction\) grid \(6, 8\)"):
        ap.member_aoa(obs, {"linear_mat_map": {}}, climate, coarse, mask)
    gpp = lc.astype(float).isel(lon=slice(0, 4))
    with pytest.raises(ValueError, match="covariate grid 'gpp'"):
        ap.member_aoa(obs, {"linear_mat_map_gpp": {}}, climate, lc, mask, {"gpp": np.ones(len(obs))}, {"gpp": gpp})


def test_outside_shares_add_up_to_a_separate_sum():
    climate, lc, mask, obs = small_world()
    aoa = ap.member_aoa(obs, {"linear_mat_map": {}}, climate, lc, mask)
    rs = xr.DataArray(np.full((1, *mask.shape), 500.0), dims=("member", "lat", "lon"), coords=aoa["di"].coords)
    area = xr.full_like(mask, 1e9, dtype=float)
    frac = xr.full_like(mask, 1.0, dtype=float)
    table = ap.outside_aoa_shares(rs, aoa["inside_aoa"], area, frac, mask)
    # half the cells (the east) are outside; equal areas and fluxes: half the land and half the total
    assert table.loc["linear_mat_map", "land_outside_pct"] == pytest.approx(50.0)
    assert table.loc["linear_mat_map", "outside_pct"] == pytest.approx(50.0)
    assert table.loc["linear_mat_map", "total_pg"] == pytest.approx(500.0 * 1e9 * mask.size / 1e15)


def test_outside_shares_match_a_sum_by_hand_on_random_fields():
    """Random fluxes, areas, land fractions and AOA flags: totals as the cell-by-cell sum over the mask."""
    climate, lc, mask, obs = small_world()
    aoa = ap.member_aoa(obs, {"linear_mat_map": {}}, climate, lc, mask)
    rng = np.random.default_rng(7)
    shape = mask.shape
    rs = xr.DataArray(rng.uniform(100, 1500, (1, *shape)), dims=("member", "lat", "lon"), coords=aoa["di"].coords)
    area = xr.DataArray(rng.uniform(1e9, 3e9, shape), dims=mask.dims, coords=mask.coords)
    frac = xr.DataArray(rng.uniform(0.2, 1.0, shape), dims=mask.dims, coords=mask.coords)
    part = mask.copy(data=rng.random(shape) < 0.8)
    inside = aoa["inside_aoa"].copy(data=(rng.random((1, *shape)) < 0.6).astype(int))
    table = ap.outside_aoa_shares(rs, inside, area, frac, part)
    flux, w, m, out = rs.values[0], (area * frac).values, part.values, inside.values[0] == 0
    total = sum(flux[i, j] * w[i, j] for i, j in zip(*np.nonzero(m), strict=True)) / 1e15
    outside = sum(flux[i, j] * w[i, j] for i, j in zip(*np.nonzero(m & out), strict=True)) / 1e15
    row = table.loc["linear_mat_map"]
    assert row["total_pg"] == pytest.approx(total, rel=1e-12)
    assert row["outside_pg"] == pytest.approx(outside, rel=1e-12)
    assert row["outside_pct"] == pytest.approx(100 * outside / total, rel=1e-12)
    assert row["land_outside_pct"] == pytest.approx(100 * w[m & out].sum() / w[m].sum(), rel=1e-12)


def test_regional_table_inside_the_common_aoa_against_a_count_by_hand():
    """Two regions (west, east), three members; the east half of the west region is outside one member's AOA."""
    nlat, nlon = 4, 8
    lat = np.linspace(-15, 15, nlat)
    lon = np.linspace(-35, 35, nlon)
    coords = {"lat": lat, "lon": lon}
    rng = np.random.default_rng(1)
    rs = xr.DataArray(
        rng.uniform(200, 900, (3, nlat, nlon)), dims=("member", "lat", "lon"), coords={"member": ["a", "b", "c"], **coords}
    )
    inside = xr.ones_like(rs, dtype=int)
    inside[1, :, 2:4] = 0  # member b: columns 2-3 (in the west region) outside
    west = (lon < 0)[None, :] * np.ones((nlat, 1))
    weights = xr.DataArray(np.stack([west, 1 - west]), dims=("region", "lat", "lon"), coords={"region": ["W", "E"], **coords})
    area = xr.DataArray(np.full((nlat, nlon), 2e9), dims=("lat", "lon"), coords=coords)
    mask = xr.DataArray(np.ones((nlat, nlon), bool), dims=("lat", "lon"), coords=coords)
    table = ap.regional_aoa_table(rs, inside, weights, area, mask)

    def by_hand(cols):
        totals = (rs.values[:, :, cols] * 2e9).sum(axis=(1, 2)) / 1e15
        return totals.mean(), 100 * totals.std(ddof=1) / totals.mean()

    mean_w, cv_w = by_hand([0, 1, 2, 3])
    mean_w_in, cv_w_in = by_hand([0, 1])
    mean_e, cv_e = by_hand([4, 5, 6, 7])
    assert table.loc["W"].tolist() == pytest.approx([mean_w, cv_w, 50.0, mean_w_in, cv_w_in])
    assert table.loc["E"].tolist() == pytest.approx([mean_e, cv_e, 100.0, mean_e, cv_e])
