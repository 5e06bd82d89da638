"""The year-by-year runner's shared-covariate prediction against the plain per-member call."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from synthetic import synthetic_obs

from globalrs.core.grid import make_grid
from globalrs.estimates import ensemble, forcing, members
from globalrs.sources import timeseries as ts


def _climate_and_landcover(seed: int = 3, res_deg: float = 2.0) -> tuple[xr.Dataset, xr.DataArray]:
    """A random climate on a coarse global grid, with cells lacking climate or land cover."""
    rng = np.random.default_rng(seed)
    lat, lon = make_grid(res_deg)
    shape = (12, lat.size, lon.size)
    t = rng.uniform(-30, 35, shape).astype(np.float32)
    p = rng.uniform(0, 300, shape).astype(np.float32)
    t[:, :5] = np.nan  # rows without climate
    p[3, 10, :] = np.nan  # one month missing in a row
    coords = {"month": np.arange(1, 13), "lat": lat, "lon": lon}
    climate = xr.Dataset({"tmean_c": (("month", "lat", "lon"), t), "prec_mm_month": (("month", "lat", "lon"), p)}, coords=coords)
    lc = rng.integers(-1, 3, (lat.size, lon.size)).astype(np.int8)  # -1: no land cover
    return climate, xr.DataArray(lc, dims=("lat", "lon"), coords={"lat": lat, "lon": lon})


@pytest.fixture(scope="module")
def fitted() -> dict[str, ensemble.FittedMember]:
    members = ensemble.fit_members_on(synthetic_obs(120), "v5", "worldclim")
    for member in members.values():
        if member.estimator is not None and "n_jobs" in member.estimator.get_params():
            member.estimator.set_params(n_jobs=1)  # summation order of the trees fixed for a bitwise comparison
    return members


def test_shared_covariates_give_the_per_member_maps(fitted):
    climate, landcover = _climate_and_landcover()
    fast = forcing.predict_members_on_climate(fitted, climate, landcover)
    assert list(fast) == list(fitted)
    for name, member in fitted.items():
        plain = ensemble.predict_member(member, climate, landcover)
        xr.testing.assert_identical(fast[name], plain)
        assert fast[name].attrs == plain.attrs
    assert int(fast["linear_mat_map"].attrs["n_negative_set_to_zero"]) > 0  # the clipping count is carried too


def test_runner_with_predict_year_equals_per_member_predict(fitted, tmp_path):
    climate, landcover = _climate_and_landcover(seed=5)
    lines = ["Year,Decades,MiddleClimate,Tm,Pm,Model_PJ4,Rs_Annomaly,Tm_Annomaly,Pm_Annomaly"]
    for zone, dt in zip(("A", "B"), (0.5, -1.0), strict=True):
        lines += [f"1990,1990s,{zone},20,100,1,0,{dt},{10 * dt}", f"1991,1990s,{zone},20,100,1,0,{-dt},{-10 * dt}"]
    path = tmp_path / "z.csv"
    path.write_bytes("\r".join(lines).encode("latin-1"))
    zone_series = ts.read_zone_climate_series(path)
    zones = xr.DataArray(
        np.where(np.arange(climate.sizes["lon"]) % 2 == 0, "A", "B")[None, :].repeat(climate.sizes["lat"], 0).astype(object),
        dims=("lat", "lon"),
    )
    area = xr.DataArray(np.full((climate.sizes["lat"], climate.sizes["lon"]), 1e9), dims=("lat", "lon"))

    def predict(member, clim):
        return ensemble.predict_member(member, clim, landcover)

    plain = forcing.run_members_by_year(fitted, predict, climate, zones, zone_series, [1990, 1991], area, workers=2)
    fast = forcing.run_members_by_year(
        fitted,
        predict,
        climate,
        zones,
        zone_series,
        [1990, 1991],
        area,
        workers=2,
        predict_year=lambda members, clim: forcing.predict_members_on_climate(members, clim, landcover),
    )
    pd.testing.assert_frame_equal(plain, fast)
    assert plain["rs_pg_c_yr"].nunique() > len(fitted)  # years and members differ


def test_single_threaded_copy_predicts_like_the_threaded_forest_and_leaves_it_alone(fitted):
    forest = fitted["random_forest"].estimator
    threaded = forest.set_params(n_jobs=2)
    climate, landcover = _climate_and_landcover(seed=7)
    _, t, p, lc, valid = ensemble.grid_cells(climate, landcover)
    features = ensemble.make_features(t[valid], p[valid], lc[valid])
    single = members.single_threaded(threaded)
    assert single.n_jobs == 1 and threaded.n_jobs == 2 and single.estimators_ is threaded.estimators_
    np.testing.assert_allclose(single.predict(features), threaded.predict(features), rtol=1e-13, atol=0)
    forest.set_params(n_jobs=1)
    boosting = fitted["gradient_boosting"].estimator
    assert members.single_threaded(boosting) is boosting  # no n_jobs: unchanged
