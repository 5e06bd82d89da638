"""Data-driven heterotrophic respiration: the Rh filter, the root-contribution route, the CARDAMOM
route and the route tables on small inputs the tests make; the real RC file and the Rh members on
the real SRDB when the mirror is configured."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from globalrs.core.grid import cell_area_m2, global_total_pg
from globalrs.estimates import ensemble, filters, inputs, rh
from globalrs.sources import readers


def _srdb_frame() -> pd.DataFrame:
    """Eight records exercising every filter step once."""
    return pd.DataFrame(
        {
            "Rh_annual": [300.0, np.nan, 400.0, 500.0, 450.0, 350.0, -5.0, 5000.0],
            "Rs_annual": [600.0, 700.0, 800.0, 900.0, 850.0, 650.0, 100.0, 6000.0],
            "Manipulation": ["None", "None", "Warming", "None", "None", "None", "None", "None"],
            "Quality_flag": ["Q01", "", "", "Q11", "", "", "", ""],
            "Latitude": [45.0, 45.0, 45.0, 45.0, 95.0, 10.0, 20.0, 30.0],
            "Longitude": [10.0, 10.0, 10.0, 10.0, 10.0, -60.0, 0.0, 0.0],
        }
    )


def test_rh_filter_matches_the_rs_filter_on_the_same_values():
    frame = _srdb_frame()
    kept, steps = rh.filter_srdb_rh(frame)
    # the Rs filter of the library, given the Rh values as its Rs column, must keep the same records
    as_rs = frame.drop(columns="Rs_annual").rename(columns={"Rh_annual": "Rs_annual"})
    kept_rs, steps_rs = filters.filter_srdb(as_rs)
    assert kept["Rh_annual"].tolist() == kept_rs["Rs_annual"].tolist() == [300.0, 350.0]
    assert steps["removed"].tolist() == steps_rs["removed"].tolist() == [0, 1, 1, 1, 1, 2]
    assert steps["step"].iloc[1] == "Rh_annual reported"


def test_rh_filter_uses_the_land_mask_and_needs_rh():
    frame = _srdb_frame()
    lat = np.array([-45.0, 45.0])
    lon = np.array([-90.0, 90.0])
    # 90-degree cells: only the north-east quadrant is land
    mask = xr.DataArray([[False, False], [False, True]], dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    kept, steps = rh.filter_srdb_rh(frame, land_mask=mask)
    assert kept["Latitude"].tolist() == [45.0]
    assert steps.iloc[-1]["step"] == "site cell on the land mask" and steps.iloc[-1]["removed"] == 1
    with pytest.raises(ValueError, match="Rh_annual"):
        rh.filter_srdb_rh(frame.drop(columns="Rh_annual"))


def _grid(n_lat: int = 4, n_lon: int = 6):
    lat = -90 + (np.arange(n_lat) + 0.5) * 180 / n_lat
    lon = -180 + (np.arange(n_lon) + 0.5) * 360 / n_lon
    return lat, lon


def test_root_contribution_route_and_its_interval():
    lat, lon = _grid()
    rng = np.random.default_rng(1)
    rs = xr.DataArray(
        rng.uniform(200, 1200, (2, lat.size, lon.size)),
        dims=("member", "lat", "lon"),
        coords={"member": ["a", "b"], "lat": lat, "lon": lon},
        attrs={"units": "g C m-2 yr-1"},
    )
    rc_val = rng.uniform(0.2, 0.7, (lat.size, lon.size))
    sd_val = np.full((lat.size, lon.size), 0.1)
    sd_val[0, 0] = 0.9  # RC + SD above 1 and RC - SD below 0: both clipped
    rc_val[1, 1] = np.nan
    rc = xr.Dataset({"rc": (("lat", "lon"), rc_val), "rc_sd": (("lat", "lon"), sd_val)}, coords={"lat": lat, "lon": lon})
    out = rh.rh_from_root_contribution(rs, rc, z=1.0)
    np.testing.assert_allclose(out["rh_annual"].values, rs.values * (1 - rc_val))
    valid = np.isfinite(rc_val)
    assert np.isnan(out["rh_annual"].values[:, 1, 1]).all()
    low, mid, high = (out[v].values[:, valid] for v in ("rh_low", "rh_annual", "rh_high"))
    assert (low <= mid).all() and (mid <= high).all() and (low < high).all()
    np.testing.assert_allclose(out["rh_low"].values[:, 0, 0], 0.0)  # RC + SD clipped to 1
    np.testing.assert_allclose(out["rh_high"].values[:, 0, 0], rs.values[:, 0, 0])  # RC - SD clipped to 0
    # no SD: no interval
    flat = rh.rh_from_root_contribution(rs, rc.assign(rc_sd=rc["rc_sd"] * 0))
    xr.testing.assert_allclose(flat["rh_low"], flat["rh_high"])
    with pytest.raises(ValueError, match="g C m-2 yr-1"):
        rh.rh_from_root_contribution(rs.assign_attrs(units="kg C m-2 yr-1"), rc)
    with pytest.raises(ValueError, match="different grids"):
        rh.rh_from_root_contribution(rs.assign_coords(lat=lat + 1), rc)


def test_real_root_contribution_map_is_flipped_to_ascending_latitude(mirror_dir):
    rc = rh.read_root_contribution()
    assert rc.sizes == {"lat": 360, "lon": 720}
    assert rc["lat"].values[0] == -89.75 and (np.diff(rc["lat"].values) > 0).all()
    raw = xr.open_dataset(mirror_dir / rh.RC_FILE)
    # pick a valid raw cell and find it again by its coordinates
    i_lon, i_lat = np.argwhere(np.isfinite(raw["RC"].values))[1000]
    lat0, lon0 = float(raw["latitude"][i_lat]), float(raw["longitude"][i_lon])
    assert float(rc["rc"].sel(lat=lat0, lon=lon0)) == pytest.approx(float(raw["RC"].values[i_lon, i_lat]))
    assert int(rc["rc"].notnull().sum()) == int(np.isfinite(raw["RC"].values).sum())
    # the map's RC is mostly a northern-hemisphere land field: more valid cells north than south
    assert int(rc["rc"].sel(lat=slice(0, 90)).notnull().sum()) > int(rc["rc"].sel(lat=slice(-90, 0)).notnull().sum())


def test_cardamom_route_converts_units_and_counts_gaps():
    lat, lon = _grid()
    values = np.full((lat.size, lon.size), 0.5)
    values[2, 3] = np.nan
    card = xr.DataArray(values, dims=("lat", "lon"), coords={"lat": lat, "lon": lon}, attrs={"units": "kg C m-2 yr-1"})
    mask = xr.DataArray(np.ones((lat.size, lon.size), bool), dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    mask[0, 0] = False
    g = rh.cardamom_on_mask(card, mask)
    assert float(g[1, 1]) == 500.0 and np.isnan(float(g[0, 0]))
    assert g.attrs["n_mask_cells_without_value"] == 1 and g.attrs["units"] == "g C m-2 yr-1"
    with pytest.raises(ValueError, match="kg C m-2 yr-1"):
        rh.cardamom_on_mask(card.assign_attrs(units="g C m-2 yr-1"), mask)


def test_route_totals_agree_with_the_grid_totals_and_flag_overlap():
    lat, lon = _grid()
    area = cell_area_m2(lat, lon)
    ones = np.ones((lat.size, lon.size))
    coords = {"lat": lat, "lon": lon}
    r1 = xr.DataArray(
        np.stack([400 * ones, 600 * ones]), dims=("member", "lat", "lon"), coords={"member": ["m1", "m2"], **coords}
    )
    r2 = xr.DataArray(np.stack([500 * ones]), dims=("member", "lat", "lon"), coords={"member": ["m1"], **coords})
    r3 = xr.DataArray(900 * ones, dims=("lat", "lon"), coords=coords)
    members = rh.route_members({"standardized": r1, "root_contribution": r2, "cardamom": r3})
    assert members["route"].values.tolist() == ["standardized", "standardized", "root_contribution", "cardamom"]
    mask = xr.DataArray(ones.astype(bool), dims=("lat", "lon"), coords=coords)
    totals = rh.route_totals(members.assign_attrs(units="g C m-2 yr-1"), area, mask, intervals={"root_contribution": (1.0, 2.0)})
    direct = global_total_pg(r1.assign_attrs(units="g C m-2 yr-1"), area_m2=area).values
    assert totals.loc["standardized", "total_pg"] == pytest.approx(direct.mean())
    assert totals.loc["standardized", "member_min_pg"] == pytest.approx(direct.min())
    assert totals.loc["root_contribution", "interval_low_pg"] == 1.0
    assert np.isnan(totals.loc["cardamom", "interval_low_pg"])
    agree = rh.route_agreement(totals)
    # 400-600 g m-2 spans 500 (overlap) but not 900
    assert bool(agree.loc["standardized vs root_contribution", "ranges_overlap"]) is True
    assert bool(agree.loc["standardized vs cardamom", "ranges_overlap"]) is False
    assert agree.loc["standardized vs cardamom", "ratio"] == pytest.approx(500 / 900)


def test_common_mask_needs_every_member():
    lat, lon = _grid()
    coords = {"lat": lat, "lon": lon}
    land = xr.DataArray(np.ones((lat.size, lon.size), bool), dims=("lat", "lon"), coords=coords)
    a = xr.DataArray(np.ones((2, lat.size, lon.size)), dims=("member", "lat", "lon"), coords=coords)
    a[1, 0, 0] = np.nan
    b = xr.DataArray(np.ones((lat.size, lon.size)), dims=("lat", "lon"), coords=coords)
    b[3, 5] = np.nan
    mask = rh.common_mask(land, a, b)
    assert int((~mask).sum()) == 2 and not bool(mask[0, 0]) and not bool(mask[3, 5])


def test_published_ratio_sources_read(mirror_dir):
    rescom = rh.read_rescom_rh()
    assert (rescom["rh_pg_c_yr"].between(20, 100)).all() and len(rescom) >= 5
    assert rescom["citation"].str.contains("Bond-Lamberty").any()
    site = rh.bl2018_site_ratio()
    assert site["n_records"] > 50 and 0 < site["q25"] <= site["median"] <= site["q75"] < 1.5
    rc = rh.read_root_contribution()
    # 1 - mean RC must lie within 1 - (the map's range of RC)
    ratio = rh.rc_map_ratio(rc)
    assert 1 - float(rc["rc"].max()) < ratio < 1 - float(rc["rc"].min())


def test_rh_members_on_real_srdb(mirror_dir, tmp_path, monkeypatch):
    from globalrs.estimates import ensemble

    monkeypatch.setenv("GLOBALRS_CACHE_DIR", str(tmp_path))
    obs, steps = rh.load_rh_observations()
    rs_obs, _ = inputs.load_observations()
    # the same schema as the Rs table (the fitting functions read it), plus Rh under its own name
    assert set(rs_obs.columns) <= set(obs.columns) and "rh_g_m2_yr" in obs.columns
    assert steps["remaining"].iloc[-1] == len(obs) and 100 < len(obs) < len(rs_obs)
    ds = rh.load_rh_ensemble()
    assert ds["rh_annual"].dims == ("member", "lat", "lon") and list(ds["member"].values) == list(ensemble.MEMBERS)
    mask = ds["land_mask"]
    assert int(ds["rh_annual"].isnull().where(mask, False).sum()) == 0
    assert int(ds["rh_annual"].where(~mask).notnull().sum()) == 0
    rh_totals = ensemble.ensemble_totals_pg(ds, "rh_annual").to_series()
    rs_totals = ensemble.ensemble_totals_pg(ensemble.load_ensemble()).to_series()
    # heterotrophic respiration is a part of soil respiration: every method must keep it below Rs
    assert ((rh_totals / rs_totals).between(0.3, 0.95)).all(), rh_totals / rs_totals
    # the area x mean member by hand: class means from its parameters x the land area of each class
    params = json.loads(ds.attrs["params_area_x_mean"])
    static = inputs.load_static_05()
    area = (static["cell_area_m2"] * static["land_fraction"]).where(mask)
    by_hand = (
        sum(
            params[f"mean_{g}"] * float(area.where(static["landcover_group"] == i).sum())
            for i, g in enumerate(readers.LANDCOVER_GROUPS)
            if f"mean_{g}" in params
        )
        / 1e15
    )
    assert rh_totals["area_x_mean"] == pytest.approx(by_hand, rel=1e-4)
    again = rh.load_rh_ensemble()  # from the cache
    xr.testing.assert_identical(ds["rh_annual"], again["rh_annual"])


def _rc_file(path, step: float = 0.5, rc_value: float = 0.4):
    lat = np.arange(90 - step / 2, -90, -step)  # descending, like the real file
    lon = np.arange(-180 + step / 2, 180, step)
    shape = (lon.size, lat.size)
    xr.Dataset(
        {
            "latitude": ("lat", lat),
            "longitude": ("lon", lon),
            "RC": (("lon", "lat"), np.full(shape, rc_value)),
            "SD_RC": (("lon", "lat"), np.full(shape, 0.1)),
        }
    ).to_netcdf(path)
    return path


def test_root_contribution_reader_refuses_wrong_grid_values_and_variables(tmp_path, monkeypatch):
    good = _rc_file(tmp_path / "good.nc")
    monkeypatch.setattr(rh, "fetch", lambda name: good)
    assert float(rh.read_root_contribution()["rc"].mean()) == pytest.approx(0.4)
    for _name, path, match in (
        ("coarse", _rc_file(tmp_path / "coarse.nc", step=1.0), "0.5"),
        ("percent", _rc_file(tmp_path / "percent.nc", rc_value=40.0), "outside 0..1"),
    ):
        monkeypatch.setattr(rh, "fetch", lambda n, p=path: p)
        with pytest.raises(ValueError, match=match):
            rh.read_root_contribution()
    renamed = tmp_path / "renamed.nc"
    xr.open_dataset(good).rename(RC="rc_fraction").to_netcdf(renamed)
    monkeypatch.setattr(rh, "fetch", lambda n: renamed)
    with pytest.raises(ValueError, match="RC"):
        rh.read_root_contribution()


def test_compare_routes_on_a_small_world():
    lat, lon = _grid()
    coords = {"lat": lat, "lon": lon}
    shape = (lat.size, lon.size)
    area = cell_area_m2(lat, lon)
    mask = xr.DataArray(np.ones(shape, bool), dims=("lat", "lon"), coords=coords)
    mask[0, :] = False  # an "Antarctic" row outside the land mask
    base = {"land_mask": mask, "cell_area_m2": area, "land_fraction": xr.full_like(area, 0.5)}
    rs_vals = np.stack([np.full(shape, 800.0), np.full(shape, 1000.0)])
    rs_ens = xr.Dataset(
        {"rs_annual": (("member", "lat", "lon"), rs_vals, {"units": "g C m-2 yr-1"}), **base},
        coords={"member": ["a", "b"], **coords},
    )
    rh_ens = xr.Dataset(
        {"rh_annual": (("member", "lat", "lon"), 0.5 * rs_vals, {"units": "g C m-2 yr-1"}), **base},
        coords={"member": ["a", "b"], **coords},
    )
    rc = xr.Dataset({"rc": (("lat", "lon"), np.full(shape, 0.4)), "rc_sd": (("lat", "lon"), np.full(shape, 0.1))}, coords=coords)
    rc["rc"][2, 2] = np.nan  # one land cell without RC
    card = xr.DataArray(np.full(shape, 0.45), dims=("lat", "lon"), coords=coords, attrs={"units": "kg C m-2 yr-1"})
    out = rh.compare_routes(
        rh_ens.assign(rh_annual=rh_ens["rh_annual"].where(mask)),
        rs_ens.assign(rs_annual=rs_ens["rs_annual"].where(mask)),
        rc,
        card,
    )
    assert int(out.common_mask.sum()) == int(mask.sum()) - 1
    land = float((area * 0.5).where(out.common_mask).sum())
    t = out.totals
    assert t.loc["standardized", "total_pg"] == pytest.approx(450 * land / 1e15)
    assert t.loc["root_contribution", "total_pg"] == pytest.approx(0.6 * 900 * land / 1e15)
    assert t.loc["root_contribution", "interval_low_pg"] == pytest.approx(0.5 * 800 * land / 1e15)
    assert t.loc["root_contribution", "interval_high_pg"] == pytest.approx(0.7 * 1000 * land / 1e15)
    assert t.loc["cardamom", "total_pg"] == pytest.approx(450 * land / 1e15)
    assert t.loc["standardized", "Rh/Rs"] == pytest.approx(0.5)
    other = mask.copy()
    other[1, 1] = False
    with pytest.raises(ValueError, match="land masks"):
        rh.compare_routes(rh_ens.assign(land_mask=other), rs_ens, rc, card)


def test_pairs_filter_drops_records_whose_rh_exceeds_their_rs():
    frame = _srdb_frame()
    frame.loc[5, "Rs_annual"] = 300.0  # Rh 350 > Rs 300: inconsistent, removed and counted
    frame.loc[0, "Manipulation"] = "None"
    kept, steps = rh.filter_srdb_pairs(frame)
    assert kept["Rh_annual"].tolist() == [300.0]
    assert kept["rh_rs_ratio"].tolist() == [pytest.approx(0.5)]
    assert steps["step"].iloc[-1] == "Rh_annual <= Rs_annual" and steps["removed"].iloc[-1] == 1
    with pytest.raises(ValueError, match="Rs_annual"):
        rh.filter_srdb_pairs(frame.drop(columns="Rs_annual"))


def _covariates(n: int, seed: int):
    rng = np.random.default_rng(seed)
    t = rng.uniform(-10, 30, (n, 1)) + rng.normal(0, 3, (n, 12))
    p = rng.uniform(0, 200, (n, 12))
    lc = rng.integers(0, len(readers.LANDCOVER_GROUPS), n)
    return t, p, lc


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(20, 80))
def test_ratio_models_stay_within_zero_and_one_and_rh_within_rs(seed, n):
    t, p, lc = _covariates(n, seed)
    ratio = np.random.default_rng(seed + 1).uniform(0, 1, n)
    tg, pg, lcg = _covariates(200, seed + 2)
    tg = tg * 3  # far outside the training climate: still bounded
    for name in rh.RATIO_MODELS:
        params, est = rh.fit_ratio_model(name, t, p, lc, ratio, seed)
        pred = rh.predict_ratio(name, params, est, tg, pg, lcg)
        assert pred.min() >= 0 and pred.max() <= 1
    lat, lon = _grid(6, 8)
    coords = {"lat": lat, "lon": lon}
    rng = np.random.default_rng(seed)
    rs = xr.DataArray(
        rng.uniform(0, 3000, (3, lat.size, lon.size)), dims=("member", "lat", "lon"), coords={"member": list("abc"), **coords}
    ).assign_attrs(units="g C m-2 yr-1")
    ratio_map = xr.DataArray(
        rng.uniform(0, 1, (2, lat.size, lon.size)),
        dims=("ratio_model", "lat", "lon"),
        coords={"ratio_model": ["x", "y"], **coords},
    )
    out = rh.rh_from_ratio(rs, ratio_map)
    assert out.sizes["member"] == 6 and "a_x_y" in out["member"].values
    assert out.sel(member="a_x_y")["rs_member"] == "a" and out.sel(member="a_x_y")["ratio_model"] == "y"
    for m in "abc":
        for r in "xy":
            assert bool((out.sel(member=f"{m}_x_{r}") <= rs.sel(member=m)).all())
            np.testing.assert_allclose(out.sel(member=f"{m}_x_{r}"), rs.sel(member=m) * ratio_map.sel(ratio_model=r))
    area = xr.DataArray(np.ones((lat.size, lon.size)), dims=("lat", "lon"), coords=coords)
    mask = area > 0
    assert rh.share_above(out.sel(member="a_x_x"), rs.sel(member="a"), area, mask) == 0.0


def test_ratio_models_refuse_ratios_outside_zero_one():
    t, p, lc = _covariates(10, 0)
    with pytest.raises(ValueError, match="0..1"):
        rh.fit_ratio_model("random_forest", t, p, lc, np.full(10, 1.2))
    with pytest.raises(ValueError, match="unknown ratio model"):
        rh.fit_ratio_model("svm", t, p, lc, np.full(10, 0.5))


def test_share_above_by_hand():
    lat, lon = _grid(2, 2)
    coords = {"lat": lat, "lon": lon}
    rs = xr.DataArray([[1.0, 1.0], [1.0, np.nan]], dims=("lat", "lon"), coords=coords)
    rh_map = xr.DataArray([[2.0, 0.5], [0.5, 5.0]], dims=("lat", "lon"), coords=coords)
    area = xr.DataArray([[1.0, 3.0], [4.0, 1.0]], dims=("lat", "lon"), coords=coords)
    mask = xr.DataArray([[True, True], [True, True]], dims=("lat", "lon"), coords=coords)
    # cells with both values: areas 1, 3, 4; Rh > Rs on the first only
    assert rh.share_above(rh_map, rs, area, mask) == pytest.approx(100 * 1 / 8)


def _obs_table(lat, lon, y, column, seed):
    t, p, lc = _covariates(lat.size, seed)
    t = t - t.mean(1, keepdims=True) + (30 - np.abs(lat))[:, None] / 2  # warmer towards the equator
    frame = pd.DataFrame({column: y(t), "lat": lat, "lon": lon, "landcover_group": lc, "site": inputs.site_id(lat, lon)})
    for m in range(12):
        frame[f"t{m + 1:02d}"] = t[:, m]
        frame[f"p{m + 1:02d}"] = p[:, m] + 50
    return frame


def test_route_cv_holds_out_whole_blocks_and_finds_a_true_ratio():
    rng = np.random.default_rng(3)

    def sites(n):
        return rng.uniform(-50, 60, n), rng.uniform(-170, 170, n)

    def rs_of(t):
        return 300 + 25 * t.mean(1)

    rs_obs = _obs_table(*sites(400), rs_of, "rs_g_m2_yr", 1)
    lat, lon = sites(150)
    rh_obs = _obs_table(lat, lon, lambda t: 0.6 * rs_of(t), "rh_g_m2_yr", 2)
    rh_obs["rs_g_m2_yr"] = rh_obs["rh_g_m2_yr"]
    pairs = _obs_table(*sites(120), lambda t: np.full(t.shape[0], 0.6), "rh_rs_ratio", 3)
    rc = np.full(lat.size, 0.4)
    rc[:5] = np.nan
    pred = rh.cross_validate_routes(rs_obs, rh_obs, pairs, rc, cardamom_at_rh=np.full(lat.size, 100.0))
    assert pred["fold"].nunique() == 5 and pred.shape[0] == 150
    # every record of one 10-degree block is in one fold
    blocks = inputs.spatial_block(rh_obs["lat"], rh_obs["lon"], 10.0)
    assert (pd.Series(pred["fold"].values).groupby(blocks).nunique() == 1).all()
    skill = rh.route_skill(pred)
    assert skill["n_records"].iloc[0] == 145  # the records without RC are left out of every route
    # Rh = 0.6 Rs exactly: the linear Rs member times a constant ratio (or 1 - RC) recovers it
    assert skill.loc[("ratio", "linear_mat_map_x_landcover_mean"), "r2"] > 0.95
    assert skill.loc[("root_contribution", "linear_mat_map_x_1-RC"), "r2"] > 0.95
    assert bool(skill.loc[("ratio", "route mean"), "skilful"])
    assert not bool(skill.loc[("cardamom", "route mean"), "skilful"])  # a constant map has no skill
    ok = pred[[c for c in pred.columns if ":" in c]].notna().all(axis=1)
    cols = [c for c in pred.columns if c.startswith("ratio:")]
    from globalrs.estimates.evaluate import score_predictions

    by_hand = score_predictions(pred.loc[ok, "observed"], pred.loc[ok, cols].mean(axis=1))
    assert skill.loc[("ratio", "route mean"), "r2"] == pytest.approx(by_hand["r2"])
    # a reference of one route scores as that route; of two, as the mean of their route means
    assert rh.reference_skill(pred, ["ratio"])["r2"] == pytest.approx(by_hand["r2"])
    rc_cols = [c for c in pred.columns if c.startswith("root_contribution:")]
    both = (pred.loc[ok, cols].mean(axis=1) + pred.loc[ok, rc_cols].mean(axis=1)) / 2
    assert rh.reference_skill(pred, ["ratio", "root_contribution"])["r2"] == pytest.approx(
        score_predictions(pred.loc[ok, "observed"], both)["r2"]
    )
    with pytest.raises(ValueError, match="no predictions"):
        rh.reference_skill(pred, ["nothing"])


def test_ratio_forest_fitted_in_one_thread_has_the_threaded_trees():
    from synthetic import synthetic_obs

    obs = synthetic_obs(100, seed=8)
    t, p = inputs.monthly_arrays(obs)
    lc = obs["landcover_group"].to_numpy()
    ratio = np.clip(obs["rs_g_m2_yr"].to_numpy(float) / obs["rs_g_m2_yr"].max(), 0, 1)
    _, single = rh.fit_ratio_model("random_forest", t, p, lc, ratio, seed=3)
    threaded = ensemble.make_estimator("random_forest", 3).fit(ensemble.make_features(t, p, lc), ratio)
    assert single.n_jobs == 1 and threaded.n_jobs != 1
    for a, b in zip(single.estimators_, threaded.estimators_, strict=True):
        np.testing.assert_array_equal(a.tree_.threshold, b.tree_.threshold)
        np.testing.assert_array_equal(a.tree_.value, b.tree_.value)
