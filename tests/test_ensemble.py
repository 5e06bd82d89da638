"""Ensemble engine: scores, blocked folds, fitting/predicting members, totals, cache.

Synthetic inputs are built here; the last test needs the offline mirror.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from globalrs import divergence, ensemble, evaluate, inputs, mgrsd, models, readers
from globalrs.grid import EARTH_RADIUS_M, cell_area_m2, land_area_mkm2, make_grid

SPHERE_M2 = 4 * np.pi * EARTH_RADIUS_M**2


def test_score_predictions_by_hand():
    scores = evaluate.score_predictions([1.0, 2.0, 3.0], [2.0, 2.0, 5.0])
    # errors 1, 0, 2: rmse sqrt(5/3), mae 1, bias 1, r2 = 1 - 5/2
    assert scores["rmse"] == pytest.approx(np.sqrt(5 / 3))
    assert scores["mae"] == pytest.approx(1.0)
    assert scores["bias"] == pytest.approx(1.0)
    assert scores["r2"] == pytest.approx(-1.5)


def test_score_predictions_refuses_unpaired():
    with pytest.raises(ValueError, match="paired"):
        evaluate.score_predictions([1.0, 2.0], [1.0])


def synthetic_obs(n_sites: int = 80, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lat = rng.uniform(-40, 60, n_sites)
    lon = rng.uniform(-170, 170, n_sites)
    seasonal = np.sin(np.linspace(0, 2 * np.pi, 12, endpoint=False))
    t = rng.uniform(-5, 25, (n_sites, 1)) + 8 * seasonal
    p = rng.uniform(10, 150, (n_sites, 12))
    rs = models.annual_sum(models.raich_potter_monthly(t, p, 1.2, 0.05, 30.0))
    frame = pd.DataFrame({"rs_g_m2_yr": rs, "lat": lat, "lon": lon,
                          "site": inputs.site_id(lat, lon),
                          "landcover_group": rng.integers(0, 3, n_sites)})
    for m in range(12):
        frame[f"t{m + 1:02d}"] = t[:, m]
    for m in range(12):
        frame[f"p{m + 1:02d}"] = p[:, m]
    return frame


def test_spatial_block_ids():
    ids = inputs.spatial_block([0.5, 9.9, 10.1, -0.1], [0.5, 0.5, 0.5, 0.5], 10.0)
    assert ids[0] == ids[1] and ids[2] != ids[0] and ids[3] != ids[0]


def test_blocked_folds_never_split_a_block():
    obs = synthetic_obs()
    folds = evaluate.blocked_folds(obs, n_splits=4, block_deg=10.0, seed=3)
    blocks = inputs.spatial_block(obs["lat"], obs["lon"], 10.0)
    seen = np.concatenate([test for _, test in folds])
    assert np.sort(seen).tolist() == list(range(len(obs)))
    for train, test in folds:
        assert not set(blocks[train]) & set(blocks[test])
    again = evaluate.blocked_folds(obs, n_splits=4, block_deg=10.0, seed=3)
    assert all((a[1] == b[1]).all() for a, b in zip(folds, again))


def test_blocked_folds_refuse_too_few_blocks():
    obs = synthetic_obs().assign(lat=1.0, lon=1.0)
    with pytest.raises(ValueError, match="spatial blocks"):
        evaluate.blocked_folds(obs, n_splits=5)


def test_cross_validation_of_exact_raich_potter_data_is_perfect():
    obs = synthetic_obs()
    cv = evaluate.cross_validate_members(obs, members=("raich_potter", "area_x_mean"), n_splits=3)
    rp = cv.set_index("member").loc["raich_potter"]
    assert rp["rmse"] == pytest.approx(0.0, abs=1e-3)
    assert rp["r2"] == pytest.approx(1.0, abs=1e-6)
    assert cv.set_index("member").loc["area_x_mean", "r2"] < 0.5


def test_area_x_mean_member_predicts_class_means_and_fills_empty_classes():
    t = np.zeros((4, 12))
    p = np.ones((4, 12))
    params, _ = ensemble.fit_member_arrays("area_x_mean", t, p, np.array([0, 0, 2, 2]),
                                           np.array([100.0, 300.0, 50.0, 70.0]))
    assert params["mean_forest"] == 200.0 and params["mean_savanna"] == 60.0
    assert params["mean_shrubland"] == 130.0  # no observation: overall mean, and said so
    assert "shrubland" in params["classes_without_obs_use_overall_mean"]
    pred = ensemble.predict_member_arrays("area_x_mean", params, None, t[:2], p[:2], np.array([2, 1]))
    np.testing.assert_allclose(pred, [60.0, 130.0])
    with pytest.raises(ValueError, match="no land-cover class"):
        ensemble.predict_member_arrays("area_x_mean", params, None, t[:1], p[:1], np.array([-1]))


def test_linear_member_negative_predictions_are_zeroed_and_counted():
    params = {"intercept": -100.0, "slope_per_c": 10.0, "slope_per_mm": 0.0}
    t = np.array([[0.0] * 12, [20.0] * 12])
    p = np.ones((2, 12))
    pred = ensemble.predict_member_arrays("linear_mat_map", params, None, t, p, np.zeros(2, int))
    np.testing.assert_allclose(pred, [0.0, 100.0])
    raw = ensemble.predict_member_arrays("linear_mat_map", params, None, t, p, np.zeros(2, int), clip=False)
    assert int((raw < 0).sum()) == 1


def test_machine_learning_members_fit_and_report_importances():
    obs = synthetic_obs()
    fitted = ensemble.fit_members_on(obs, "synthetic", "synthetic", members=("random_forest",))
    imp = {k: v for k, v in fitted["random_forest"].params.items() if k.startswith("importance_")}
    assert len(imp) == len(ensemble.feature_names())
    assert sum(imp.values()) == pytest.approx(1.0)


def tiny_climate(t_value: float = 10.0, p_value: float = 50.0) -> xr.Dataset:
    lat, lon = make_grid(0.5)
    shape = (12, lat.size, lon.size)
    coords = {"month": np.arange(1, 13), "lat": lat, "lon": lon}
    tm = np.full(shape, t_value, dtype=np.float32)
    tm[:, :10] = np.nan  # a few rows without climate
    return xr.Dataset({"tmean_c": (("month", "lat", "lon"), tm),
                       "prec_mm_month": (("month", "lat", "lon"), np.full(shape, p_value, np.float32))},
                      coords=coords)


def test_predict_member_on_grid_matches_hand_value():
    lat, lon = make_grid(0.5)
    fm = ensemble.FittedMember("raich_potter", "Semi-empirical model", "", {"f_g_m2_day": 1.0, "q_per_c": 0.0,
                               "k_mm": 50.0}, "x", "x", 1, 1, monthly=True)
    landcover = xr.DataArray(np.zeros((lat.size, lon.size), np.int8), coords={"lat": lat, "lon": lon},
                             dims=("lat", "lon"))
    out = ensemble.predict_member(fm, tiny_climate(), landcover=landcover)
    assert out.attrs["units"] == "g C m-2 yr-1"
    assert float(out.isel(lat=100, lon=3)) == pytest.approx(365 * 0.5)
    assert np.isnan(out.isel(lat=5)).all()
    monthly = ensemble.predict_member_monthly(fm, tiny_climate())
    assert float(monthly.isel(lat=100, lon=3).sum()) == pytest.approx(365 * 0.5, rel=1e-6)


def test_predict_member_refuses_mismatched_landcover():
    fm = ensemble.FittedMember("raich_potter", "", "", {"f_g_m2_day": 1.0, "q_per_c": 0.0, "k_mm": 50.0},
                               "x", "x", 1, 1)
    bad = xr.DataArray(np.zeros((10, 10), np.int8), dims=("lat", "lon"))
    with pytest.raises(ValueError, match="grids differ"):
        ensemble.predict_member(fm, tiny_climate(), landcover=bad)


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


def known_field_dataset(flux: float, land_fraction: float) -> xr.Dataset:
    lat, lon = make_grid(1.0)
    coords = {"lat": lat, "lon": lon}
    shape = (lat.size, lon.size)
    return xr.Dataset({
        "rs_annual": xr.DataArray(np.full((1, *shape), flux), dims=("member", "lat", "lon"),
                                  coords={"member": ["m"], **coords}, attrs={"units": "g C m-2 yr-1"}),
        "land_mask": xr.DataArray(np.ones(shape, bool), dims=("lat", "lon"), coords=coords),
        "land_fraction": xr.DataArray(np.full(shape, land_fraction), dims=("lat", "lon"), coords=coords),
        "cell_area_m2": cell_area_m2(lat, lon),
    })


def test_totals_of_known_field_use_land_fraction():
    full = ensemble.ensemble_totals_pg(known_field_dataset(1000.0, 1.0))
    assert float(full.sel(member="m")) == pytest.approx(1000 * SPHERE_M2 / 1e15, rel=1e-10)
    half = ensemble.ensemble_totals_pg(known_field_dataset(1000.0, 0.5))
    assert float(half.sel(member="m")) == pytest.approx(500 * SPHERE_M2 / 1e15, rel=1e-10)


def test_totals_refuse_nan_inside_mask():
    ds = known_field_dataset(1000.0, 1.0)
    ds["rs_annual"][0, 3, 3] = np.nan
    with pytest.raises(ValueError, match="inside the mask"):
        ensemble.ensemble_totals_pg(ds)


def test_load_ensemble_rejects_unknown_choices():
    with pytest.raises(ValueError, match="data_version"):
        ensemble.load_ensemble(data_version="v4")
    with pytest.raises(ValueError, match="forcing"):
        ensemble.load_ensemble(forcing="cru")


def test_load_ensemble_schema(mirror_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("GLOBALRS_CACHE_DIR", str(tmp_path))
    ds = ensemble.load_ensemble()
    assert ds["rs_annual"].dims == ("member", "lat", "lon")
    assert ds["rs_annual"].attrs["units"] == "g C m-2 yr-1"
    assert set(ds["method_family"].values) == {"Area x Mean", "Linear model", "Semi-empirical model",
                                               "Machine learning"}
    assert ds["rs_monthly"].dims == ("member_monthly", "month", "lat", "lon")
    assert ds["rs_monthly"].attrs["units"] == "g C m-2 month-1"
    assert ds["land_mask"].dtype == bool
    inside = ds["rs_annual"].where(ds["land_mask"])
    assert int(inside.isnull().where(ds["land_mask"], False).sum()) == 0
    assert int(ds["rs_annual"].where(~ds["land_mask"]).notnull().sum()) == 0
    totals = ensemble.ensemble_totals_pg(ds)
    assert ((totals > 40) & (totals < 150)).all()
    monthly_sum = ds["rs_monthly"].sum("month").rename(member_monthly="member")
    xr.testing.assert_allclose(monthly_sum.where(ds["land_mask"]),
                               ds["rs_annual"].sel(member=monthly_sum["member"].values)
                               .drop_vars("method_family"), rtol=1e-4)
    again = ensemble.load_ensemble()  # from the cache
    xr.testing.assert_identical(ds["rs_annual"], again["rs_annual"])


def test_chunked_prediction_equals_whole_grid_prediction():
    obs = synthetic_obs()
    fitted = ensemble.fit_members_on(obs, "synthetic", "synthetic", members=("linear_mat_map",))
    fm = fitted["linear_mat_map"]
    clim = tiny_climate(t_value=12.0).isel(lat=slice(0, 37), lon=slice(0, 50))
    rng = np.random.default_rng(0)
    clim["tmean_c"] = clim["tmean_c"] + xr.DataArray(rng.normal(0, 5, (37, 50)), dims=("lat", "lon"))
    lc = xr.DataArray(rng.integers(-1, 3, (37, 50)).astype(np.int8), dims=("lat", "lon"),
                      coords={"lat": clim["lat"], "lon": clim["lon"]})
    whole = ensemble.predict_member(fm, clim, landcover=lc)
    chunked = ensemble.predict_member_chunked(fm, clim["tmean_c"], clim["prec_mm_month"], lc, chunk_rows=7)
    np.testing.assert_allclose(chunked.values, whole.values, rtol=1e-6)
    assert np.isnan(chunked.values[lc.values < 0]).all()
    assert int(np.isfinite(chunked.values).sum()) > 0


def test_monthly_totals_of_known_field():
    ds = known_field_dataset(1000.0, 0.5)
    lat, lon = ds["lat"], ds["lon"]
    ds["rs_monthly"] = xr.DataArray(np.full((1, 12, lat.size, lon.size), 10.0),
                                    dims=("member_monthly", "month", "lat", "lon"),
                                    coords={"member_monthly": ["m"], "month": np.arange(1, 13)},
                                    attrs={"units": "g C m-2 month-1"})
    out = ensemble.monthly_totals_pg(ds)
    np.testing.assert_allclose(out.values, 5.0 * SPHERE_M2 / 1e15, rtol=1e-10)
    ds["rs_monthly"].attrs["units"] = "g C m-2 yr-1"
    with pytest.raises(ValueError, match="month-1"):
        ensemble.monthly_totals_pg(ds)


def test_split_divergence_by_hand():
    totals = pd.DataFrame({"base": [80.0, 90.0, 100.0], "data": [82.0, 90.0, 100.0],
                           "forc": [80.0, 94.0, 100.0]}, index=["a", "b", "c"])
    out = divergence.split_divergence(totals, "base", "data", "forc")
    assert out.loc["method", "sd_pg"] == pytest.approx(10.0)
    assert out.loc["method", "range_pg"] == pytest.approx(20.0)
    assert out.loc["data", "range_pg"] == pytest.approx(2.0 / 3)
    assert out.loc["data", "sd_pg"] == pytest.approx(np.sqrt(2) / 3)
    assert out.loc["forcing", "range_pg"] == pytest.approx(4.0 / 3)


def test_cell_cv_by_hand():
    field = xr.DataArray([[1.0, 3.0], [0.0, 0.0]], dims=("lat", "member"))
    cv = divergence.cellwise_cv(field, "member")
    assert float(cv[0]) == pytest.approx(np.sqrt(2) / 2)
    assert np.isnan(float(cv[1]))


def rp_member() -> ensemble.FittedMember:
    return ensemble.FittedMember("raich_potter", "", "", {"f_g_m2_day": 1.0, "q_per_c": 0.0, "k_mm": 50.0},
                                 "x", "x", 1, 1)


def grid_landcover() -> xr.DataArray:
    lat, lon = make_grid(0.5)
    return xr.DataArray(np.zeros((lat.size, lon.size), np.int8), coords={"lat": lat, "lon": lon},
                        dims=("lat", "lon"))


def test_predict_member_refuses_kelvin_and_wrong_units():
    kelvin = tiny_climate(t_value=283.0)
    with pytest.raises(ValueError, match="Kelvin"):
        ensemble.predict_member(rp_member(), kelvin, landcover=grid_landcover())
    labelled = tiny_climate()
    labelled["tmean_c"].attrs["units"] = "K"
    with pytest.raises(ValueError, match="units 'K'"):
        ensemble.predict_member(rp_member(), labelled, landcover=grid_landcover())


def test_predict_member_refuses_descending_latitude_and_shifted_grid():
    flipped = tiny_climate().isel(lat=slice(None, None, -1))
    with pytest.raises(ValueError, match="ascending"):
        ensemble.predict_member(rp_member(), flipped, landcover=grid_landcover())
    shifted = grid_landcover().assign_coords(lon=grid_landcover()["lon"] + 180.0)
    with pytest.raises(ValueError, match="lon coordinates differ"):
        ensemble.predict_member(rp_member(), tiny_climate(), landcover=shifted)


def test_predict_member_refuses_missing_month_or_variable():
    with pytest.raises(ValueError, match="12 months"):
        ensemble.predict_member(rp_member(), tiny_climate().isel(month=slice(0, 11)), landcover=grid_landcover())
    with pytest.raises(ValueError, match="missing 'prec_mm_month'"):
        ensemble.predict_member(rp_member(), tiny_climate()[["tmean_c"]], landcover=grid_landcover())


def test_monthly_features_pick_the_record_month():
    t = np.tile(np.arange(12.0), (2, 1))
    p = np.tile(np.arange(12.0) * 10, (2, 1))
    x = mgrsd.make_monthly_features(np.array([1, 12]), t, p, np.array([0, 1]))
    np.testing.assert_allclose(x[:, 0], [0.0, 11.0])
    np.testing.assert_allclose(x[:, 1], [0.0, 110.0])
    np.testing.assert_allclose(x[:, 2], [5.5, 5.5])  # then the annual features: MAT
    assert x.shape[1] == len(mgrsd.MONTHLY_FEATURE_NAMES) + len(readers.LANDCOVER_GROUPS)


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
        0.25 * whole_sphere_mkm2, rel=1e-9)
    north = ds["land_mask"] & (ds["lat"] > 0)
    assert land_area_mkm2(ds["cell_area_m2"], ds["land_fraction"], north) == pytest.approx(
        0.125 * whole_sphere_mkm2, rel=1e-9)


def test_configurations_are_compared_on_their_common_mask(monkeypatch):
    base = known_field_dataset(1000.0, 1.0).assign_coords(method_family=("member", ["Linear model"]))
    other = base.copy(deep=True)
    other["land_mask"] = other["land_mask"] & (other["lat"] > -60)  # a forcing without climate there
    other["rs_annual"] = (other["rs_annual"] * 1.1).where(other["land_mask"])
    for ds, n in ((base, 100), (other, 90)):
        ds.attrs.update(n_obs=n, n_sites=n)
    runs = {("v5", "worldclim"): base, ("v5", "udel"): other}
    monkeypatch.setattr(divergence, "load_ensemble", lambda dv, f: runs[(dv, f)])
    configs = divergence.load_configurations({"baseline": ("v5", "worldclim"), "forcing": ("v5", "udel")})
    assert bool((configs["land_mask"] == other["land_mask"]).all())
    lost = json.loads(configs.attrs["cells_outside_common_mask"])
    assert lost == {"baseline": int((~other["land_mask"]).sum()), "forcing": 0}
    areas = json.loads(configs.attrs["land_area_mkm2"])
    assert areas["common"] == pytest.approx(areas["forcing"]) and areas["common"] < areas["baseline"]
    totals = ensemble.ensemble_totals_pg(configs.sel(config="baseline"))
    assert float(totals.squeeze()) * 1.1 == pytest.approx(
        float(ensemble.ensemble_totals_pg(configs.sel(config="forcing")).squeeze()))


def test_static_land_mask_keeps_worldclim_cells_without_udel_and_leaves_ice_out(mirror_dir):
    static = inputs.load_static_05()
    udel = readers.read_udel_climate_05()
    no_udel = static["land_mask"] & udel["mat_c"].isnull()
    assert int(no_udel.sum()) > 1000  # coasts and islands UDel lacks are in the WorldClim land mask
    snow = readers.LANDCOVER_GROUPS.index("snow_ice")
    assert not bool((static["land_mask"] & (readers.read_landcover_group_05() == snow)).any())
    udel_mask = inputs.forcing_land_mask(static, inputs.load_climatology("udel"))
    assert int(udel_mask.sum()) == int(static["land_mask"].sum()) - int(no_udel.sum())
