"""An optional monthly machine-learning member: a random forest trained on MGRsD monthly records.

Not one of :data:`globalrs.estimates.ensemble.MEMBERS`: it uses other observations, so it stays out of the
same-data method spread and of :func:`globalrs.estimates.ensemble.load_ensemble`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.core.schema import GRID_RS_ANNUAL_UNITS, GRID_RS_MONTHLY_UNITS, validate_gridded
from globalrs.estimates.ensemble import (
    FEATURE_NAMES,
    MODEL_VERSION,
    SEED,
    FittedMember,
    grid_cells,
    input_names,
    make_features,
    read_gridded,
    write_gridded,
)
from globalrs.estimates.evaluate import blocked_folds, score_predictions
from globalrs.estimates.inputs import (
    forcing_land_mask,
    load_climatology,
    load_monthly_observations,
    load_static_05,
    monthly_arrays,
)
from globalrs.sources import readers
from globalrs.sources.cache import cache_key, cache_path, cached_build

if TYPE_CHECKING:
    from sklearn.ensemble import RandomForestRegressor

#: Name of the monthly random forest trained on MGRsD (not one of :data:`MEMBERS`: it uses other
#: observations, so it stays out of the same-data method spread and of ``load_ensemble``).
MGRSD_MEMBER = "random_forest_monthly_mgrsd"

MONTHLY_FEATURE_NAMES = ("t_month_c", "p_month_mm") + FEATURE_NAMES


def make_monthly_features(
    month: np.ndarray, tmean_c: np.ndarray, prec_mm_month: np.ndarray, landcover_group: np.ndarray
) -> np.ndarray:
    """Features of the monthly member: that month's T and P, then :func:`make_features` columns."""
    idx = np.asarray(month, int) - 1
    rows = np.arange(idx.size)
    t = np.asarray(tmean_c, float)
    p = np.asarray(prec_mm_month, float)
    return np.column_stack([t[rows, idx], p[rows, idx], make_features(t, p, landcover_group)])


def make_monthly_estimator(seed: int = SEED) -> RandomForestRegressor:
    """Random forest of the monthly MGRsD member (fixed hyper-parameters)."""
    from sklearn.ensemble import RandomForestRegressor  # imported when needed, as in ensemble.make_estimator

    return RandomForestRegressor(n_estimators=100, min_samples_leaf=5, max_features=0.5, n_jobs=2, random_state=seed)


def fit_mgrsd_member_on(obs: pd.DataFrame, forcing: str, seed: int = SEED) -> FittedMember:
    """Fit the monthly random forest on a monthly observation table."""
    t, p = monthly_arrays(obs)
    est = make_monthly_estimator(seed)
    est.fit(make_monthly_features(obs["month"], t, p, obs["landcover_group"]), obs["rs_g_m2_month"])
    names = list(MONTHLY_FEATURE_NAMES) + [f"lc_{g}" for g in readers.LANDCOVER_GROUPS]
    params = {"importance_" + k: float(v) for k, v in zip(names, est.feature_importances_, strict=True)}
    return FittedMember(
        name=MGRSD_MEMBER,
        method_family="Machine learning",
        description="random forest on MGRsD monthly records",
        params=params,
        data_version="mgrsd",
        forcing=forcing,
        n_obs=len(obs),
        n_sites=int(obs["site"].nunique()),
        estimator=est,
        monthly=True,
    )


def predict_mgrsd_monthly(fitted: FittedMember, climate: xr.Dataset, landcover: xr.DataArray) -> xr.DataArray:
    """Monthly Rs (g C m-2 month-1), ``(month, lat, lon)``, of the MGRsD member, month by month."""
    tmean, t, p, lc, valid = grid_cells(climate, landcover)
    out = np.full((12, lc.size), np.nan, dtype=np.float32)
    for m in range(1, 13):
        month = np.full(int(valid.sum()), m)
        pred = fitted.estimator.predict(make_monthly_features(month, t[valid], p[valid], lc[valid]))
        out[m - 1, valid] = np.maximum(pred, 0.0)
    return xr.DataArray(
        out.reshape(12, *tmean.shape[1:]),
        dims=("month", "lat", "lon"),
        coords={"month": np.arange(1, 13), "lat": tmean["lat"], "lon": tmean["lon"]},
        name="rs_monthly",
        attrs={"units": GRID_RS_MONTHLY_UNITS, "member": fitted.name},
    )


def cross_validate_mgrsd(obs: pd.DataFrame, n_splits: int = 5, block_deg: float = 10.0, seed: int = SEED) -> dict[str, float]:
    """Spatially blocked CV of the monthly member; scores in g C m-2 month-1 (R2 unitless)."""
    t, p = monthly_arrays(obs)
    x = make_monthly_features(obs["month"], t, p, obs["landcover_group"])
    y = obs["rs_g_m2_month"].to_numpy(float)
    pred = np.full(y.size, np.nan)
    for train, test in blocked_folds(obs, n_splits, block_deg, seed):
        est = make_monthly_estimator(seed).fit(x[train], y[train])
        pred[test] = np.maximum(est.predict(x[test]), 0.0)
    return score_predictions(y, pred)


def build_mgrsd_member(forcing: str = "worldclim", seed: int = SEED) -> xr.Dataset:
    """Fit, cross-validate and predict the MGRsD monthly member (no cache)."""
    static = load_static_05()
    climate = load_climatology(forcing)
    obs, steps = load_monthly_observations(forcing)
    fitted = fit_mgrsd_member_on(obs, forcing, seed)
    mask = forcing_land_mask(static, climate)
    monthly = predict_mgrsd_monthly(fitted, climate, static["landcover_group"]).where(mask)
    if int((monthly.isnull() & mask).sum()):
        raise ValueError("MGRsD member: NaN inside the land mask")
    annual = monthly.sum("month", min_count=12).where(mask)
    annual.attrs = {"units": GRID_RS_ANNUAL_UNITS, "long_name": "annual soil respiration (sum of months)"}
    scores = cross_validate_mgrsd(obs, seed=seed)
    return validate_gridded(
        xr.Dataset(
            {
                "rs_monthly": monthly,
                "rs_annual": annual,
                "land_mask": mask,
                "cell_area_m2": static["cell_area_m2"],
                "land_fraction": static["land_fraction"],
            },
            attrs={
                "member": MGRSD_MEMBER,
                "method_family": "Machine learning",
                "data_file": readers.MGRSD_FILE,
                "forcing": forcing,
                "seed": seed,
                "n_obs": len(obs),
                "n_sites": int(obs["site"].nunique()),
                "filter_steps": steps.to_json(orient="records"),
                "params": json.dumps(fitted.params),
                "cv_scores_g_m2_month": json.dumps(scores),
                "cv": "5-fold spatially blocked (10-degree blocks), scored on monthly values",
                "totals_area": "cell_area_m2 x land_fraction",
            },
        )
    )


def load_mgrsd_member(forcing: str = "worldclim", refresh: bool = False) -> xr.Dataset:
    """Cached :func:`build_mgrsd_member`: ``rs_monthly`` (month, lat, lon), ``rs_annual`` (lat, lon)."""
    key = cache_key("mgrsd", MODEL_VERSION, [*input_names("v5"), readers.MGRSD_FILE], forcing=forcing, seed=SEED)
    path = cache_path("ensemble", f"mgrsd-{forcing}", key)
    return cached_build(
        path,
        lambda: build_mgrsd_member(forcing),
        read_gridded,
        lambda ds, target: write_gridded(ds, target, key),
        refresh=refresh,
    )
