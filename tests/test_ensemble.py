"""Ensemble members: fitting and predicting, grid checks, totals and the cached ensemble.

Synthetic inputs come from ``synthetic.py``; the schema test needs the offline mirror.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from synthetic import SPHERE_M2, grid_landcover, known_field_dataset, rp_member, synthetic_obs, tiny_climate

from globalrs.core.grid import make_grid
from globalrs.estimates import ensemble


def test_area_x_mean_member_predicts_class_means_and_fills_empty_classes():
    t = np.zeros((4, 12))
    p = np.ones((4, 12))
    params, _ = ensemble.fit_member_arrays("area_x_mean", t, p, np.array([0, 0, 2, 2]), np.array([100.0, 300.0, 50.0, 70.0]))
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


def test_predict_member_on_grid_matches_hand_value():
    lat, lon = make_grid(0.5)
    fm = ensemble.FittedMember(
        "raich_potter",
        "Semi-empirical model",
        "",
        {"f_g_m2_day": 1.0, "q_per_c": 0.0, "k_mm": 50.0},
        "x",
        "x",
        1,
        1,
        monthly=True,
    )
    landcover = xr.DataArray(np.zeros((lat.size, lon.size), np.int8), coords={"lat": lat, "lon": lon}, dims=("lat", "lon"))
    out = ensemble.predict_member(fm, tiny_climate(), landcover=landcover)
    assert out.attrs["units"] == "g C m-2 yr-1"
    assert float(out.isel(lat=100, lon=3)) == pytest.approx(365 * 0.5)
    assert np.isnan(out.isel(lat=5)).all()
    monthly = ensemble.predict_member_monthly(fm, tiny_climate())
    assert float(monthly.isel(lat=100, lon=3).sum()) == pytest.approx(365 * 0.5, rel=1e-6)


def test_predict_member_refuses_mismatched_landcover():
    fm = ensemble.FittedMember("raich_potter", "", "", {"f_g_m2_day": 1.0, "q_per_c": 0.0, "k_mm": 50.0}, "x", "x", 1, 1)
    bad = xr.DataArray(np.zeros((10, 10), np.int8), dims=("lat", "lon"))
    with pytest.raises(ValueError, match="grids differ"):
        ensemble.predict_member(fm, tiny_climate(), landcover=bad)


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
    assert set(ds["method_family"].values) == {"Area x Mean", "Linear model", "Semi-empirical model", "Machine learning"}
    assert ds["rs_monthly"].dims == ("member_monthly", "month", "lat", "lon")
    assert ds["rs_monthly"].attrs["units"] == "g C m-2 month-1"
    assert ds["land_mask"].dtype == bool
    inside = ds["rs_annual"].where(ds["land_mask"])
    assert int(inside.isnull().where(ds["land_mask"], False).sum()) == 0
    assert int(ds["rs_annual"].where(~ds["land_mask"]).notnull().sum()) == 0
    totals = ensemble.ensemble_totals_pg(ds)
    assert ((totals > 40) & (totals < 150)).all()
    monthly_sum = ds["rs_monthly"].sum("month").rename(member_monthly="member")
    xr.testing.assert_allclose(
        monthly_sum.where(ds["land_mask"]),
        ds["rs_annual"].sel(member=monthly_sum["member"].values).drop_vars("method_family"),
        rtol=1e-4,
    )
    again = ensemble.load_ensemble()  # from the cache
    xr.testing.assert_identical(ds["rs_annual"], again["rs_annual"])


def test_chunked_prediction_equals_whole_grid_prediction():
    obs = synthetic_obs()
    fitted = ensemble.fit_members_on(obs, "synthetic", "synthetic", members=("linear_mat_map",))
    fm = fitted["linear_mat_map"]
    clim = tiny_climate(t_value=12.0).isel(lat=slice(0, 37), lon=slice(0, 50))
    rng = np.random.default_rng(0)
    clim["tmean_c"] = clim["tmean_c"] + xr.DataArray(rng.normal(0, 5, (37, 50)), dims=("lat", "lon"))
    lc = xr.DataArray(
        rng.integers(-1, 3, (37, 50)).astype(np.int8), dims=("lat", "lon"), coords={"lat": clim["lat"], "lon": clim["lon"]}
    )
    whole = ensemble.predict_member(fm, clim, landcover=lc)
    chunked = ensemble.predict_member_chunked(fm, clim["tmean_c"], clim["prec_mm_month"], lc, chunk_rows=7)
    np.testing.assert_allclose(chunked.values, whole.values, rtol=1e-6)
    assert np.isnan(chunked.values[lc.values < 0]).all()
    assert int(np.isfinite(chunked.values).sum()) > 0


def test_monthly_totals_of_known_field():
    ds = known_field_dataset(1000.0, 0.5)
    lat, lon = ds["lat"], ds["lon"]
    ds["rs_monthly"] = xr.DataArray(
        np.full((1, 12, lat.size, lon.size), 10.0),
        dims=("member_monthly", "month", "lat", "lon"),
        coords={"member_monthly": ["m"], "month": np.arange(1, 13)},
        attrs={"units": "g C m-2 month-1"},
    )
    out = ensemble.monthly_totals_pg(ds)
    np.testing.assert_allclose(out.values, 5.0 * SPHERE_M2 / 1e15, rtol=1e-10)
    ds["rs_monthly"].attrs["units"] = "g C m-2 yr-1"
    with pytest.raises(ValueError, match="month-1"):
        ensemble.monthly_totals_pg(ds)


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
