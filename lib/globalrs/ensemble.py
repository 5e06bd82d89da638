"""The standardized-protocol upscaling ensemble: fit, cross-validate, bootstrap, predict, cache.

Every member is fitted on the same filtered observations (SRDB annual Rs) with the same forcing
and covariates, read at each site from the same 0.5-degree grids the prediction uses, and
predicted on the same land mask. :func:`load_ensemble` returns all members as one Dataset:

* ``rs_annual`` (member, lat, lon), g C m-2 yr-1, NaN outside ``land_mask`` and never inside;
* ``rs_monthly`` (member_monthly, month, lat, lon), g C m-2 month-1, for the monthly members;
* ``land_mask`` (lat, lon) bool, ``cell_area_m2`` (lat, lon), ``land_fraction`` (lat, lon).

Global totals in this book use cell area x land fraction (:func:`ensemble_totals_pg`), for every
member alike.

The land mask is the same for every data version and forcing: cells with WorldClim monthly
climate (60S-90N), UDel annual climate, a land fraction above zero and a MODIS land-cover
majority other than water and permanent snow/ice.

Members (:data:`MEMBERS`): ``area_x_mean``, ``linear_mat_map``, ``raich_potter`` and
``lloyd_taylor`` (monthly), ``random_forest``, ``gradient_boosting``. Other entry points:
:func:`load_evaluation` (blocked CV and site bootstrap), :func:`load_configurations` with
:func:`split_divergence` / :func:`divergence_cv_maps` (method vs data vs forcing),
:func:`load_mgrsd_member` (an optional monthly random forest trained on MGRsD, kept out of
``load_ensemble`` because it uses other observations), :func:`predict_member_chunked` (fine grids).
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from globalrs import models, readers
from globalrs.config import get_cache_dir
from globalrs.cache import write_netcdf_atomic
from globalrs.data import get_entry
from globalrs.grid import cell_area_m2, global_total_pg, make_grid
from globalrs.progress import progress_bar

#: Member name -> (method family of Table 1, short description).
MEMBERS: dict[str, tuple[str, str]] = {
    "area_x_mean": ("Area x Mean", "mean observed Rs per MODIS vegetation class x class area"),
    "linear_mat_map": ("Linear model", "OLS of annual Rs on MAT and MAP"),
    "raich_potter": ("Semi-empirical model", "Raich & Potter (1995) F exp(QT) P/(K+P), monthly"),
    "lloyd_taylor": ("Semi-empirical model", "Lloyd & Taylor (1994) temperature response x P/(K+P), monthly"),
    "random_forest": ("Machine learning", "random forest on climate and land-cover covariates"),
    "gradient_boosting": ("Machine learning", "gradient boosting on climate and land-cover covariates"),
}
#: Forms that can be fitted and predicted but are not ensemble members by default. The
#: temperature-optimum form is fitted in the chapter: on annual SRDB totals its curvature b goes
#: to its bound 0, i.e. it collapses onto Raich-Potter, so Lloyd-Taylor is the second
#: semi-empirical member instead.
OPTIONAL_MEMBERS: dict[str, tuple[str, str]] = {
    "temperature_optimum": ("Semi-empirical model", "F exp(aT - bT^2) P/(K+P), monthly"),
}
MONTHLY_MEMBERS = ("raich_potter", "lloyd_taylor", "temperature_optimum")
DATA_VERSIONS = tuple(readers.SRDB_FILES)
FORCINGS = ("worldclim", "udel")
SEED = 20231128
#: Bump when the meaning of cached results changes without a code change.
CACHE_VERSION = "1"
FEATURE_NAMES = ("mat_c", "map_mm", "tmax_month_c", "tmin_month_c", "pmax_month_mm", "pmin_month_mm")

GRID_RS_ANNUAL_UNITS = "g C m-2 yr-1"
GRID_RS_MONTHLY_UNITS = "g C m-2 month-1"


@dataclass
class FittedMember:
    """One fitted ensemble member: what it is, its parameters, and how to predict with it."""

    name: str
    method_family: str
    description: str
    params: dict[str, Any]
    data_version: str
    forcing: str
    n_obs: int
    n_sites: int
    estimator: Any = None
    monthly: bool = False
    notes: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# inputs: climate, static grids, observations
# --------------------------------------------------------------------------------------------
def load_climatology(forcing: str = "worldclim") -> xr.Dataset:
    """Monthly climatology on the 0.5-degree grid.

    Parameters
    ----------
    forcing
        ``"worldclim"``: WorldClim 1.4 monthly means aggregated (area-weighted) from 10'.
        ``"udel"``: UDel annual MAT/MAP with WorldClim's monthly shape: ``T_m = T_m^WC -
        MAT^WC + MAT^UDel`` and ``P_m = P_m^WC x MAP^UDel / MAP^WC`` (``MAP^UDel / 12`` per
        month where WorldClim has no precipitation at all).

    Returns
    -------
    xarray.Dataset
        ``tmean_c`` (month, lat, lon) deg C and ``prec_mm_month`` (month, lat, lon) mm month-1.
    """
    if forcing not in FORCINGS:
        raise ValueError(f"forcing must be one of {FORCINGS}, got {forcing!r}")
    tmean = readers.read_worldclim_monthly_05("tmean")
    prec = readers.read_worldclim_monthly_05("prec")
    if forcing == "udel":
        udel = readers.read_udel_climate_05()
        tmean, prec = rescale_to_annual(tmean, prec, udel["mat_c"], udel["map_mm"])
    tmean = tmean.astype(np.float32).transpose("month", "lat", "lon")
    prec = prec.astype(np.float32).transpose("month", "lat", "lon")
    tmean.attrs = {"units": "deg C", "long_name": "monthly mean air temperature"}
    prec.attrs = {"units": "mm month-1", "long_name": "monthly precipitation"}
    return xr.Dataset({"tmean_c": tmean, "prec_mm_month": prec}, attrs={"forcing": forcing})


def rescale_to_annual(tmean_c: xr.DataArray, prec_mm_month: xr.DataArray, mat_c: xr.DataArray,
                      map_mm: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    """Give a monthly climatology new annual means while keeping its seasonal shape.

    ``T_m' = T_m - mean(T) + MAT`` and ``P_m' = P_m x MAP / sum(P)`` (``MAP / 12`` per month
    where ``sum(P) = 0``). Cells where either input is missing are NaN.
    """
    tmean = tmean_c - tmean_c.mean("month") + mat_c
    total = prec_mm_month.sum("month", min_count=prec_mm_month.sizes["month"])
    share = xr.where(total > 0, prec_mm_month / total, 1.0 / prec_mm_month.sizes["month"])
    prec = (share * map_mm).where(prec_mm_month.notnull() & map_mm.notnull())
    return tmean.where(mat_c.notnull()), prec


def load_static_05() -> xr.Dataset:
    """Static 0.5-degree grids (a fresh copy of a per-process cache); see :func:`build_static_05`."""
    return _static_cached().copy(deep=True)


@lru_cache(maxsize=1)
def _static_cached() -> xr.Dataset:
    return build_static_05()


def build_static_05() -> xr.Dataset:
    """Static 0.5-degree grids shared by every member: land mask, land fraction, land cover, area.

    Returns
    -------
    xarray.Dataset
        ``land_mask`` bool, ``land_fraction`` (0-1), ``landcover_group`` (int8 index into
        :data:`globalrs.readers.LANDCOVER_GROUPS`), ``cell_area_m2``. Attributes count the land
        cells each mask condition removes.
    """
    lat, lon = make_grid(0.5)
    wc_t = readers.read_worldclim_monthly_05("tmean")
    wc_p = readers.read_worldclim_monthly_05("prec")
    udel = readers.read_udel_climate_05()
    frac = readers.read_land_fraction_05()
    lc = readers.read_landcover_group_05()
    snow = readers.LANDCOVER_GROUPS.index("snow_ice")
    conditions = {
        "land fraction > 0": (frac > 0).values,
        "WorldClim climate (all 12 months)": (wc_t.notnull().all("month") & wc_p.notnull().all("month")).values,
        "UDel MAT and MAP": (udel["mat_c"].notnull() & udel["map_mm"].notnull()).values,
        "MODIS land cover not water": (lc >= 0).values,
        "not permanent snow/ice": (lc != snow).values,
    }
    mask = np.ones((lat.size, lon.size), dtype=bool)
    removed = {}
    for label, cond in conditions.items():
        removed[label] = int((mask & ~cond).sum())
        mask &= cond
    area = cell_area_m2(lat, lon)
    coords = {"lat": lat, "lon": lon}
    ds = xr.Dataset(
        {
            "land_mask": xr.DataArray(mask, dims=("lat", "lon"), coords=coords),
            "land_fraction": frac,
            "landcover_group": lc.where(mask, -1).astype(np.int8),
            "cell_area_m2": area,
        },
        attrs={"mask_cells_removed_per_step": json.dumps(removed),
               "landcover_groups": ",".join(readers.LANDCOVER_GROUPS)},
    )
    ds["landcover_group"].attrs = {"groups": ",".join(readers.LANDCOVER_GROUPS)}
    return ds


def site_id(lat, lon) -> np.ndarray:
    """Site identifier from coordinates rounded to 0.01 degree (records at one site share it)."""
    return np.char.add(np.char.add(np.round(np.asarray(lat, float), 2).astype(str), "_"),
                       np.round(np.asarray(lon, float), 2).astype(str))


def spatial_block(lat, lon, block_deg: float = 10.0) -> np.ndarray:
    """Integer id of the ``block_deg`` x ``block_deg`` block containing each site."""
    i = np.floor((np.asarray(lat, float) + 90.0) / block_deg).astype(int)
    j = np.floor((np.asarray(lon, float) + 180.0) / block_deg).astype(int)
    return i * 1000 + j


def sample_site_covariates(lat, lon, climate: xr.Dataset, landcover: xr.DataArray
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Monthly climate and land cover of the grid cell containing each site.

    Returns
    -------
    tmean_c, prec_mm_month, landcover_group
        ``(n, 12)``, ``(n, 12)`` and ``(n,)`` arrays.

    Raises
    ------
    ValueError
        A site outside the grid, or any site whose cell lacks a covariate (the count and the
        first few coordinates are named): sites are filtered to the land mask beforehand, so a
        gap here is a bug to fix, never a record to drop silently.
    """
    t = readers.sample_at_sites(climate["tmean_c"], lat, lon)
    p = readers.sample_at_sites(climate["prec_mm_month"], lat, lon)
    lc = readers.sample_at_sites(landcover, lat, lon)
    ok = np.isfinite(t).all(axis=1) & np.isfinite(p).all(axis=1) & (lc >= 0)
    if (~ok).any():
        bad = list(zip(np.asarray(lat, float)[~ok][:3], np.asarray(lon, float)[~ok][:3]))
        raise ValueError(f"{int((~ok).sum())} site(s) lack a covariate in their grid cell, e.g. {bad}")
    return t, p, lc.astype(int)


def load_observations(data_version: str = "v5", forcing: str = "worldclim"
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Filtered SRDB observations with covariates read from the prediction grids.

    Returns
    -------
    obs, steps
        ``obs``: one row per kept record with ``rs_g_m2_yr``, ``lat``, ``lon``, ``site``,
        ``block10``, ``landcover_group``, ``t01..t12`` (deg C) and ``p01..p12`` (mm month-1).
        ``steps``: the filter table (step, removed, remaining).
    """
    static = load_static_05()
    climate = load_climatology(forcing)
    raw = readers.read_srdb(data_version)
    kept, steps = readers.filter_srdb(raw, land_mask=static["land_mask"])
    lat = kept["Latitude"].to_numpy(float)
    lon = kept["Longitude"].to_numpy(float)
    t, p, lc = sample_site_covariates(lat, lon, climate, static["landcover_group"])
    obs = pd.DataFrame({
        "rs_g_m2_yr": kept["Rs_annual"].to_numpy(float), "lat": lat, "lon": lon,
        "site": site_id(lat, lon), "block10": spatial_block(lat, lon, 10.0),
        "landcover_group": lc.astype(int),
        "study_midyear": kept["Study_midyear"].to_numpy(float),
    })
    for m in range(12):
        obs[f"t{m + 1:02d}"] = t[:, m]
    for m in range(12):
        obs[f"p{m + 1:02d}"] = p[:, m]
    obs.attrs.update(data_version=data_version, forcing=forcing)
    return obs, steps


def monthly_arrays(obs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``(n, 12)`` temperature and precipitation arrays from an observation table."""
    t = obs[[f"t{m:02d}" for m in range(1, 13)]].to_numpy(float)
    p = obs[[f"p{m:02d}" for m in range(1, 13)]].to_numpy(float)
    return t, p


def make_features(tmean_c: np.ndarray, prec_mm_month: np.ndarray, landcover_group: np.ndarray) -> np.ndarray:
    """Machine-learning covariates: climate summaries plus one-hot land-cover groups.

    Columns: :data:`FEATURE_NAMES`, then one column per land-cover group.
    """
    t = np.asarray(tmean_c, float)
    p = np.asarray(prec_mm_month, float)
    lc = np.asarray(landcover_group, int)
    onehot = (lc[:, None] == np.arange(len(readers.LANDCOVER_GROUPS))[None, :]).astype(float)
    climate = np.column_stack([t.mean(1), p.sum(1), t.max(1), t.min(1), p.max(1), p.min(1)])
    return np.column_stack([climate, onehot])


def feature_names() -> list[str]:
    """Names of the columns of :func:`make_features`."""
    return list(FEATURE_NAMES) + [f"lc_{g}" for g in readers.LANDCOVER_GROUPS]


# --------------------------------------------------------------------------------------------
# fitting and predicting one member from arrays
# --------------------------------------------------------------------------------------------
def make_estimator(name: str, seed: int = SEED):
    """The scikit-learn estimator of a machine-learning member (fixed hyper-parameters)."""
    if name == "random_forest":
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(n_estimators=100, min_samples_leaf=3, max_features=0.5,
                                     n_jobs=2, random_state=seed)
    if name == "gradient_boosting":
        from sklearn.ensemble import GradientBoostingRegressor

        return GradientBoostingRegressor(n_estimators=150, max_depth=3, learning_rate=0.1,
                                         subsample=0.8, random_state=seed)
    raise ValueError(f"{name!r} is not a machine-learning member")


def fit_member_arrays(name: str, tmean_c: np.ndarray, prec_mm_month: np.ndarray,
                      landcover_group: np.ndarray, rs_g_m2_yr: np.ndarray,
                      seed: int = SEED) -> tuple[dict[str, Any], Any]:
    """Fit member ``name`` on per-observation arrays; return ``(params, estimator)``."""
    t, p = np.asarray(tmean_c, float), np.asarray(prec_mm_month, float)
    rs = np.asarray(rs_g_m2_yr, float)
    if name == "area_x_mean":
        n = len(readers.LANDCOVER_GROUPS)
        means, counts = models.fit_class_means(landcover_group, rs, n)
        overall = float(rs.mean())
        filled = [g for g in range(n) if counts[g] == 0]
        params = {f"mean_{g}": (float(means[i]) if counts[i] else overall)
                  for i, g in enumerate(readers.LANDCOVER_GROUPS)}
        params.update({f"n_{g}": int(counts[i]) for i, g in enumerate(readers.LANDCOVER_GROUPS)})
        params["classes_without_obs_use_overall_mean"] = ",".join(readers.LANDCOVER_GROUPS[g] for g in filled)
        return params, None
    if name == "linear_mat_map":
        return models.fit_linear_mat_map(t.mean(1), p.sum(1), rs), None
    if name == "raich_potter":
        return models.fit_raich_potter(t, p, rs), None
    if name == "temperature_optimum":
        return models.fit_temperature_optimum(t, p, rs), None
    if name == "lloyd_taylor":
        return models.fit_lloyd_taylor(t, p, rs), None
    est = make_estimator(name, seed)
    est.fit(make_features(t, p, landcover_group), rs)
    importances = dict(zip(feature_names(), map(float, est.feature_importances_)))
    return {"importance_" + k: v for k, v in importances.items()}, est


def predict_member_arrays(name: str, params: dict[str, Any], estimator: Any, tmean_c: np.ndarray,
                          prec_mm_month: np.ndarray, landcover_group: np.ndarray,
                          clip: bool = True) -> np.ndarray:
    """Annual Rs (g C m-2 yr-1) of member ``name`` for ``(n, 12)`` climate and ``(n,)`` land cover.

    Negative predictions (possible for the linear and boosting members in cold or dry places)
    are set to zero unless ``clip`` is False; :func:`predict_member` counts them.
    """
    t, p = np.asarray(tmean_c, float), np.asarray(prec_mm_month, float)
    if name == "area_x_mean":
        lc = np.asarray(landcover_group, int)
        if lc.size and lc.min() < 0:
            raise ValueError(f"{int((lc < 0).sum())} cells have no land-cover class")
        table = np.array([params[f"mean_{g}"] for g in readers.LANDCOVER_GROUPS])
        out = table[lc]
    elif name == "linear_mat_map":
        out = models.linear_mat_map(t.mean(1), p.sum(1), params["intercept"], params["slope_per_c"],
                                    params["slope_per_mm"])
    elif name in MONTHLY_MEMBERS:
        out = models.annual_sum(predict_monthly_arrays(name, params, t, p))
    else:
        out = estimator.predict(make_features(t, p, landcover_group))
    return np.maximum(out, 0.0) if clip else np.asarray(out, dtype=float)


def predict_monthly_arrays(name: str, params: dict[str, Any], tmean_c: np.ndarray,
                           prec_mm_month: np.ndarray) -> np.ndarray:
    """Monthly Rs (g C m-2 month-1), shape ``(n, 12)``, of a monthly member."""
    if name == "raich_potter":
        return models.raich_potter_monthly(tmean_c, prec_mm_month, params["f_g_m2_day"],
                                           params["q_per_c"], params["k_mm"])
    if name == "temperature_optimum":
        return models.temperature_optimum_monthly(tmean_c, prec_mm_month, params["f_g_m2_day"],
                                                  params["a_per_c"], params["b_per_c2"], params["k_mm"])
    if name == "lloyd_taylor":
        return models.lloyd_taylor_monthly(tmean_c, prec_mm_month, params["f_g_m2_day"],
                                           params["e0_k"], params["k_mm"])
    raise ValueError(f"{name!r} does not resolve months")


def count_negative(name: str, params: dict[str, Any], estimator: Any, tmean_c, prec_mm_month,
                   landcover_group) -> int:
    """How many cells the raw (unclipped) model would predict below zero."""
    raw = predict_member_arrays(name, params, estimator, tmean_c, prec_mm_month, landcover_group, clip=False)
    return int((raw < 0).sum())


# --------------------------------------------------------------------------------------------
# public fit / predict on grids
# --------------------------------------------------------------------------------------------
def fit_members(data_version: str = "v5", forcing: str = "worldclim",
                members: tuple[str, ...] | None = None, seed: int = SEED) -> dict[str, FittedMember]:
    """Fit every member on the filtered observations of ``data_version`` with ``forcing``.

    Returns
    -------
    dict
        Member name -> :class:`FittedMember`.
    """
    obs, _ = load_observations(data_version, forcing)
    return fit_members_on(obs, data_version, forcing, members, seed)


def fit_members_on(obs: pd.DataFrame, data_version: str, forcing: str,
                   members: tuple[str, ...] | None = None, seed: int = SEED) -> dict[str, FittedMember]:
    """Fit members on a ready observation table (see :func:`load_observations`)."""
    t, p = monthly_arrays(obs)
    fitted = {}
    for name in members or tuple(MEMBERS):
        params, est = fit_member_arrays(name, t, p, obs["landcover_group"].to_numpy(),
                                        obs["rs_g_m2_yr"].to_numpy(), seed)
        family, desc = {**MEMBERS, **OPTIONAL_MEMBERS}[name]
        fitted[name] = FittedMember(name=name, method_family=family, description=desc, params=params,
                                    data_version=data_version, forcing=forcing, n_obs=len(obs),
                                    n_sites=int(obs["site"].nunique()), estimator=est,
                                    monthly=name in MONTHLY_MEMBERS)
    return fitted


CLIMATE_UNITS = {"tmean_c": ("deg C", "degC", "°C", "C"), "prec_mm_month": ("mm month-1", "mm", "mm/month")}


def check_climate(climate: xr.Dataset) -> None:
    """Raise a clear error unless ``climate`` looks like :func:`load_climatology` output.

    Checks: both variables present with ``(month, lat, lon)`` dimensions and 12 months;
    ``units`` attributes, where present, are deg C and mm month-1; temperatures are within
    -90..60 deg C (a Kelvin or tenths-of-degree grid fails); precipitation is not negative.
    """
    for var, allowed in CLIMATE_UNITS.items():
        if var not in climate:
            raise ValueError(f"climate is missing {var!r} (has {sorted(climate.data_vars)})")
        da = climate[var]
        if set(da.dims) != {"month", "lat", "lon"}:
            raise ValueError(f"{var} must have dimensions (month, lat, lon), got {da.dims}")
        if da.sizes["month"] != 12:
            raise ValueError(f"climate must hold 12 months, got {da.sizes['month']}")
        units = da.attrs.get("units")
        if units is not None and units not in allowed:
            raise ValueError(f"{var} has units {units!r}; expected {allowed[0]!r}")
    t_max = float(climate["tmean_c"].max(skipna=True))
    t_min = float(climate["tmean_c"].min(skipna=True))
    if t_max > 60 or t_min < -90:
        raise ValueError(f"tmean_c spans {t_min:.1f}..{t_max:.1f}: not deg C (Kelvin? tenths of a degree?)")
    if float(climate["prec_mm_month"].min(skipna=True)) < 0:
        raise ValueError("prec_mm_month has negative values")


def _grid_cells(climate: xr.Dataset, landcover: xr.DataArray | None):
    check_climate(climate)
    tmean = climate["tmean_c"].transpose("month", "lat", "lon")
    prec = climate["prec_mm_month"].transpose("month", "lat", "lon")
    readers.check_grid(tmean, resolution_deg=None)
    if landcover is None:
        static = load_static_05()
        readers.check_grid(tmean, resolution_deg=0.5)
        landcover = static["landcover_group"]
    if landcover.shape != tmean.shape[1:]:
        raise ValueError(f"land cover {landcover.shape} and climate {tmean.shape[1:]} grids differ")
    for axis in ("lat", "lon"):
        if axis in landcover.coords and not np.allclose(landcover[axis].values, tmean[axis].values):
            raise ValueError(f"land cover and climate {axis} coordinates differ")
    t = tmean.values.reshape(12, -1).T
    p = prec.values.reshape(12, -1).T
    lc = landcover.values.reshape(-1).astype(int)
    valid = np.isfinite(t).all(1) & np.isfinite(p).all(1) & (lc >= 0)
    return tmean, t, p, lc, valid


def predict_member(fitted: FittedMember, climate: xr.Dataset,
                   landcover: xr.DataArray | None = None) -> xr.DataArray:
    """Annual Rs (g C m-2 yr-1) of a fitted member for a monthly climate Dataset.

    Parameters
    ----------
    fitted
        From :func:`fit_members`.
    climate
        ``tmean_c`` and ``prec_mm_month`` (month, lat, lon), like :func:`load_climatology`.
    landcover
        Land-cover group grid matching ``climate``; defaults to the 0.5-degree one (then
        ``climate`` must be on the 0.5-degree grid).

    Returns
    -------
    xarray.DataArray
        ``(lat, lon)``; NaN where a covariate is missing (apply the land mask afterwards).
    """
    tmean, t, p, lc, valid = _grid_cells(climate, landcover)
    raw = predict_member_arrays(fitted.name, fitted.params, fitted.estimator, t[valid], p[valid],
                                lc[valid], clip=False)
    out = np.full(lc.size, np.nan)
    out[valid] = np.maximum(raw, 0.0)
    da = xr.DataArray(out.reshape(tmean.shape[1:]).astype(np.float32), dims=("lat", "lon"),
                      coords={"lat": tmean["lat"], "lon": tmean["lon"]}, name="rs_annual")
    da.attrs = {"units": GRID_RS_ANNUAL_UNITS, "member": fitted.name,
                "n_negative_set_to_zero": int((raw < 0).sum())}
    return da


def predict_member_monthly(fitted: FittedMember, climate: xr.Dataset) -> xr.DataArray:
    """Monthly Rs (g C m-2 month-1), ``(month, lat, lon)``, of a monthly member."""
    check_climate(climate)
    tmean = climate["tmean_c"].transpose("month", "lat", "lon")
    prec = climate["prec_mm_month"].transpose("month", "lat", "lon")
    t = np.moveaxis(tmean.values, 0, -1)
    p = np.moveaxis(prec.values, 0, -1)
    with np.errstate(invalid="ignore"):
        monthly = predict_monthly_arrays(fitted.name, fitted.params, t, np.where(np.isfinite(p), p, 0.0))
    monthly = np.where(np.isfinite(t) & np.isfinite(p), monthly, np.nan)
    da = xr.DataArray(np.moveaxis(monthly, -1, 0).astype(np.float32), dims=("month", "lat", "lon"),
                      coords={"month": np.arange(1, 13), "lat": tmean["lat"], "lon": tmean["lon"]},
                      name="rs_monthly", attrs={"units": GRID_RS_MONTHLY_UNITS, "member": fitted.name})
    return da


# --------------------------------------------------------------------------------------------
# cache
# --------------------------------------------------------------------------------------------
def input_names(data_version: str) -> list[str]:
    """Registry names of every file the ensemble reads for ``data_version``."""
    names = [readers.SRDB_FILES[data_version], readers.UDEL_FILE, readers.LAND_FRACTION_FILE,
             readers.MODIS_LC_FILE]
    names += [f"worldclim10m/{v}{m}.{e}" for v in ("tmean", "prec") for m in range(1, 13)
              for e in ("bil", "hdr")]
    return names


def cache_key(kind: str, **params: Any) -> str:
    """Hash of (inputs' sha256, source of readers/models/ensemble, parameters, cache version)."""
    digest = hashlib.sha256()
    for name in input_names(params.get("data_version", "v5")):
        digest.update(get_entry(name).sha256.encode())
    for module in (readers, models, sys.modules[__name__]):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(json.dumps({"kind": kind, "cache_version": CACHE_VERSION, **params},
                             sort_keys=True, default=str).encode())
    return digest.hexdigest()[:20]


def cached_build(path: Path, build, read, write):
    """Return ``read(path)``; build and write it first if absent, under an exclusive file lock.

    Two processes asking at once: one builds, the other waits for the lock and then reads.
    Writes are atomic (temporary file + ``os.replace``).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file():
        try:
            return read(path)
        except Exception:
            pass
    with open(str(path) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if path.is_file():
                try:
                    return read(path)
                except Exception:
                    path.unlink(missing_ok=True)  # damaged: rebuild
            obj = build()
            write(obj, path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return read(path)


def _write_gridded(ds: xr.Dataset, target: Path, key: str) -> None:
    """Cache a gridded result: the boolean land mask stored as int8 (NetCDF has no bool), the
    cache key in attrs; :func:`_read_nc` restores the mask."""
    ds = ds.copy()
    ds["land_mask"] = ds["land_mask"].astype(np.int8)
    write_netcdf_atomic(ds.assign_attrs(cache_key=key), target)


def _read_nc(path: Path) -> xr.Dataset:
    with xr.open_dataset(path) as ds:
        ds = ds.load()
    ds["land_mask"] = ds["land_mask"].astype(bool)
    return ds


def build_ensemble(data_version: str = "v5", forcing: str = "worldclim", seed: int = SEED,
                   verbose: bool = False) -> xr.Dataset:
    """Fit and predict every member (no cache); see :func:`load_ensemble` for the schema."""
    t0 = time.perf_counter()
    static = load_static_05()
    climate = load_climatology(forcing)
    obs, steps = load_observations(data_version, forcing)
    fitted = fit_members_on(obs, data_version, forcing, seed=seed)
    mask = static["land_mask"]
    annual, monthly, attrs = [], [], {}
    for name, fm in fitted.items():
        da = predict_member(fm, climate).where(mask)
        if int((da.isnull() & mask).sum()):
            raise ValueError(f"member {name}: NaN inside the land mask")
        annual.append(da)
        attrs[f"params_{name}"] = json.dumps(fm.params)
        attrs[f"n_negative_set_to_zero_{name}"] = int(da.attrs["n_negative_set_to_zero"])
        if fm.monthly:
            monthly.append(predict_member_monthly(fm, climate).where(mask))
        if verbose:
            print(f"  {name}: fitted and predicted ({time.perf_counter() - t0:.1f} s)", flush=True)
    names = list(fitted)
    rs_annual = xr.concat(annual, dim="member").assign_coords(
        member=names, method_family=("member", [MEMBERS[n][0] for n in names]))
    rs_annual.attrs = {"units": GRID_RS_ANNUAL_UNITS, "long_name": "annual soil respiration"}
    mnames = [n for n in names if n in MONTHLY_MEMBERS]
    rs_monthly = xr.concat(monthly, dim="member_monthly").assign_coords(member_monthly=mnames)
    rs_monthly.attrs = {"units": GRID_RS_MONTHLY_UNITS, "long_name": "monthly soil respiration"}
    ds = xr.Dataset({
        "rs_annual": rs_annual,
        "rs_monthly": rs_monthly,
        "land_mask": mask,
        "cell_area_m2": static["cell_area_m2"],
        "land_fraction": static["land_fraction"],
    })
    ds["rs_annual"].attrs = {"units": GRID_RS_ANNUAL_UNITS, "long_name": "annual soil respiration"}
    ds["rs_monthly"].attrs = {"units": GRID_RS_MONTHLY_UNITS, "long_name": "monthly soil respiration"}
    ds.attrs.update(attrs)
    ds.attrs.update({
        "title": "Standardized-protocol soil respiration ensemble",
        "data_version": data_version,
        "data_file": readers.SRDB_FILES[data_version],
        "forcing": forcing,
        "seed": seed,
        "n_obs": len(obs),
        "n_sites": int(obs["site"].nunique()),
        "filter_steps": steps.to_json(orient="records"),
        "mask_cells_removed_per_step": static.attrs["mask_cells_removed_per_step"],
        "totals_area": "cell_area_m2 x land_fraction",
        "member_descriptions": json.dumps({n: MEMBERS[n][1] for n in names}),
        "code": "globalrs.ensemble.build_ensemble",
    })
    return ds


def load_ensemble(data_version: str = "v5", forcing: str = "worldclim", refresh: bool = False) -> xr.Dataset:
    """The standardized-protocol ensemble on the 0.5-degree grid, cached as NetCDF.

    Parameters
    ----------
    data_version
        ``"v5"`` (SRDB-V5) or ``"v2022"`` (SRDB 2022-10-09 update).
    forcing
        ``"worldclim"`` or ``"udel"`` (see :func:`load_climatology`).
    refresh
        Rebuild even if a cached file exists.

    Returns
    -------
    xarray.Dataset
        ``rs_annual`` (member, lat, lon) g C m-2 yr-1 with coordinate ``method_family``;
        ``rs_monthly`` (member_monthly, month, lat, lon) g C m-2 month-1; ``land_mask``,
        ``cell_area_m2``, ``land_fraction`` (lat, lon). Provenance in ``attrs``.
    """
    if data_version not in DATA_VERSIONS:
        raise ValueError(f"data_version must be one of {DATA_VERSIONS}, got {data_version!r}")
    if forcing not in FORCINGS:
        raise ValueError(f"forcing must be one of {FORCINGS}, got {forcing!r}")
    key = cache_key("ensemble", data_version=data_version, forcing=forcing, seed=SEED)
    path = get_cache_dir() / "ensemble" / f"ensemble-{data_version}-{forcing}-{key}.nc"
    if refresh:
        path.unlink(missing_ok=True)

    write = functools.partial(_write_gridded, key=key)
    return cached_build(path, lambda: build_ensemble(data_version, forcing), _read_nc, write)


def ensemble_totals_pg(ds: xr.Dataset, var: str = "rs_annual") -> xr.DataArray:
    """Global totals (Pg C yr-1) of every member: flux x cell area x land fraction on the mask."""
    return global_total_pg(ds[var], area_m2=ds["cell_area_m2"] * ds["land_fraction"],
                           mask=ds["land_mask"])


# --------------------------------------------------------------------------------------------
# evaluation: spatially blocked cross-validation and site bootstrap of the global total
# --------------------------------------------------------------------------------------------
def score_predictions(observed, predicted) -> dict[str, float]:
    """RMSE, MAE, R2 (1 - SSE/SST) and bias (mean predicted - observed) of paired values."""
    obs = np.asarray(observed, float)
    pred = np.asarray(predicted, float)
    if obs.shape != pred.shape or obs.size < 2:
        raise ValueError("observed and predicted must be paired arrays of at least two values")
    err = pred - obs
    sst = float(((obs - obs.mean()) ** 2).sum())
    return {"rmse": float(np.sqrt(np.mean(err**2))), "mae": float(np.mean(np.abs(err))),
            "r2": float(1.0 - (err**2).sum() / sst) if sst > 0 else float("nan"),
            "bias": float(err.mean())}


def blocked_folds(obs: pd.DataFrame, n_splits: int = 5, block_deg: float = 10.0,
                  seed: int = SEED) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train/test index pairs of a spatially blocked K-fold split (whole blocks held out).

    Blocks are ``block_deg`` x ``block_deg`` boxes; each block is assigned to one fold at random
    (seeded), so no site of a test block is ever in its training set.
    """
    blocks = spatial_block(obs["lat"], obs["lon"], block_deg)
    unique = np.unique(blocks)
    if unique.size < n_splits:
        raise ValueError(f"only {unique.size} spatial blocks for {n_splits} folds")
    rng = np.random.default_rng(seed)
    fold_of_block = dict(zip(rng.permutation(unique), np.arange(unique.size) % n_splits))
    fold = np.array([fold_of_block[b] for b in blocks])
    return [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(n_splits)]


def cross_validate_members(obs: pd.DataFrame, members: tuple[str, ...] | None = None,
                           n_splits: int = 5, block_deg: float = 10.0, seed: int = SEED) -> pd.DataFrame:
    """Spatially blocked cross-validation of every member on an observation table.

    Returns
    -------
    pandas.DataFrame
        One row per member: ``rmse``, ``mae``, ``bias`` (g C m-2 yr-1), ``r2``, ``n_obs``,
        ``n_blocks``, ``n_splits``, ``block_deg`` (out-of-fold predictions pooled over folds).
    """
    t, p = monthly_arrays(obs)
    lc = obs["landcover_group"].to_numpy()
    rs = obs["rs_g_m2_yr"].to_numpy(float)
    folds = blocked_folds(obs, n_splits, block_deg, seed)
    rows = []
    for name in progress_bar(members or tuple(MEMBERS), desc="cross-validation", unit="member"):
        pred = np.full(rs.size, np.nan)
        for train, test in folds:
            params, est = fit_member_arrays(name, t[train], p[train], lc[train], rs[train], seed)
            pred[test] = predict_member_arrays(name, params, est, t[test], p[test], lc[test])
        scores = score_predictions(rs, pred)
        rows.append({"member": name, "method_family": {**MEMBERS, **OPTIONAL_MEMBERS}[name][0], **scores,
                     "n_obs": int(rs.size),
                     "n_blocks": int(np.unique(spatial_block(obs["lat"], obs["lon"], block_deg)).size),
                     "n_splits": n_splits, "block_deg": block_deg})
    return pd.DataFrame(rows)


def bootstrap_totals(obs: pd.DataFrame, climate: xr.Dataset, static: xr.Dataset,
                     members: tuple[str, ...] | None = None, n_boot: int = 30, seed: int = SEED,
                     verbose: bool = False) -> pd.DataFrame:
    """Refit each member on sites resampled with replacement and total each refit globally.

    Parameters
    ----------
    obs
        Observation table (:func:`load_observations`); resampling is by ``site`` (all records of
        a drawn site come along).
    climate, static
        :func:`load_climatology` and :func:`load_static_05` outputs.
    n_boot
        Number of resamples.

    Returns
    -------
    pandas.DataFrame
        Columns ``member``, ``replicate``, ``total_pg_c_yr`` (cell area x land fraction).
    """
    _, tg, pg, lcg, valid = _grid_cells(climate, static["landcover_group"])
    inside = static["land_mask"].values.reshape(-1)
    if (inside & ~valid).any():
        raise ValueError("cells inside the land mask lack a covariate")
    weight = (static["cell_area_m2"] * static["land_fraction"]).values.reshape(-1)[inside]
    tg, pg, lcg = tg[inside], pg[inside], lcg[inside]
    t, p = monthly_arrays(obs)
    lc = obs["landcover_group"].to_numpy()
    rs = obs["rs_g_m2_yr"].to_numpy(float)
    sites = obs["site"].to_numpy()
    unique_sites, inverse = np.unique(sites, return_inverse=True)
    rows_of_site = [np.flatnonzero(inverse == k) for k in range(unique_sites.size)]
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, unique_sites.size, unique_sites.size) for _ in range(n_boot)]
    out = []
    for name in progress_bar(members or tuple(MEMBERS), desc="bootstrap", unit="member"):
        t0 = time.perf_counter()
        for rep, draw in enumerate(draws):
            idx = np.concatenate([rows_of_site[k] for k in draw])
            params, est = fit_member_arrays(name, t[idx], p[idx], lc[idx], rs[idx], seed + rep)
            pred = predict_member_arrays(name, params, est, tg, pg, lcg)
            out.append({"member": name, "replicate": rep,
                        "total_pg_c_yr": float((pred * weight).sum() / 1e15)})
        if verbose:
            print(f"  bootstrap {name}: {n_boot} refits in {time.perf_counter() - t0:.1f} s", flush=True)
    return pd.DataFrame(out)


def build_evaluation(data_version: str = "v5", forcing: str = "worldclim", n_boot: int = 30,
                     n_splits: int = 5, block_deg: float = 10.0, seed: int = SEED,
                     verbose: bool = False) -> xr.Dataset:
    """Cross-validation scores and bootstrap totals of every member, as one Dataset (no cache)."""
    obs, _ = load_observations(data_version, forcing)
    cv = cross_validate_members(obs, n_splits=n_splits, block_deg=block_deg, seed=seed)
    if verbose:
        print("  cross-validation done", flush=True)
    boot = bootstrap_totals(obs, load_climatology(forcing), load_static_05(), n_boot=n_boot, seed=seed,
                            verbose=verbose)
    metrics = ["rmse", "mae", "r2", "bias"]
    members = list(cv["member"])
    ds = xr.Dataset(
        {
            "cv_score": xr.DataArray(cv[metrics].to_numpy(float), dims=("member", "metric"),
                                     coords={"member": members, "metric": metrics},
                                     attrs={"units": "g C m-2 yr-1 (rmse, mae, bias); 1 (r2)"}),
            "bootstrap_total": xr.DataArray(
                boot.pivot(index="member", columns="replicate", values="total_pg_c_yr")
                .loc[members].to_numpy(float),
                dims=("member", "replicate"), coords={"member": members, "replicate": np.arange(n_boot)},
                attrs={"units": "Pg C yr-1"}),
        },
        attrs={"data_version": data_version, "forcing": forcing, "n_boot": n_boot, "n_splits": n_splits,
               "block_deg": block_deg, "seed": seed, "n_obs": len(obs),
               "n_sites": int(obs["site"].nunique()),
               "n_blocks": int(cv["n_blocks"].iloc[0]),
               "bootstrap": "refit on sites resampled with replacement; totals use cell area x land fraction"},
    )
    return ds.assign_coords(method_family=("member", [MEMBERS[m][0] for m in members]))


def load_evaluation(data_version: str = "v5", forcing: str = "worldclim", n_boot: int = 30,
                    refresh: bool = False) -> xr.Dataset:
    """Cached :func:`build_evaluation` (NetCDF under ``get_cache_dir()/ensemble``).

    Returns
    -------
    xarray.Dataset
        ``cv_score`` (member, metric) for metrics rmse, mae, r2, bias (spatially blocked 10-degree
        5-fold CV) and ``bootstrap_total`` (member, replicate) in Pg C yr-1.
    """
    key = cache_key("evaluation", data_version=data_version, forcing=forcing, n_boot=n_boot, seed=SEED)
    path = get_cache_dir() / "ensemble" / f"evaluation-{data_version}-{forcing}-{key}.nc"
    if refresh:
        path.unlink(missing_ok=True)

    def read(target: Path) -> xr.Dataset:
        with xr.open_dataset(target) as ds:
            return ds.load()

    def write(ds: xr.Dataset, target: Path) -> None:
        write_netcdf_atomic(ds.assign_attrs(cache_key=key), target)

    return cached_build(path, lambda: build_evaluation(data_version, forcing, n_boot=n_boot), read, write)


def predict_member_chunked(fitted: FittedMember, tmean_c: xr.DataArray, prec_mm_month: xr.DataArray,
                           landcover: xr.DataArray, chunk_rows: int = 60) -> xr.DataArray:
    """Annual Rs of a member on any (fine) grid, ``chunk_rows`` latitude rows at a time.

    Memory stays bounded by one chunk of covariates, so the native 10 arc-minute WorldClim grid
    (900 x 2160 cells) is predicted without building a full feature table.

    Parameters
    ----------
    tmean_c, prec_mm_month
        ``(month, lat, lon)`` climate in deg C and mm month-1.
    landcover
        ``(lat, lon)`` land-cover group index on the same grid (-1: no land cover).

    Returns
    -------
    xarray.DataArray
        ``(lat, lon)`` g C m-2 yr-1, NaN where a covariate is missing or the cell is not land.
    """
    if tmean_c.shape != prec_mm_month.shape or tmean_c.shape[1:] != landcover.shape:
        raise ValueError(f"climate {tmean_c.shape}/{prec_mm_month.shape} and land cover "
                         f"{landcover.shape} grids differ")
    nlat, nlon = landcover.shape
    out = np.full((nlat, nlon), np.nan, dtype=np.float32)
    snow = readers.LANDCOVER_GROUPS.index("snow_ice")
    for start in range(0, nlat, chunk_rows):
        rows = slice(start, min(start + chunk_rows, nlat))
        t = tmean_c.values[:, rows].reshape(12, -1).T
        p = prec_mm_month.values[:, rows].reshape(12, -1).T
        lc = landcover.values[rows].reshape(-1).astype(int)
        ok = np.isfinite(t).all(1) & np.isfinite(p).all(1) & (lc >= 0) & (lc != snow)
        block = np.full(lc.size, np.nan, dtype=np.float32)
        if ok.any():
            block[ok] = predict_member_arrays(fitted.name, fitted.params, fitted.estimator, t[ok], p[ok], lc[ok])
        out[rows] = block.reshape(-1, nlon)
    return xr.DataArray(out, dims=("lat", "lon"), coords={"lat": landcover["lat"], "lon": landcover["lon"]},
                        name="rs_annual", attrs={"units": GRID_RS_ANNUAL_UNITS, "member": fitted.name})


# --------------------------------------------------------------------------------------------
# divergence split: method vs data vs forcing
# --------------------------------------------------------------------------------------------
#: The three protocol runs: the baseline, one with the other SRDB release, one with the other
#: climate forcing. Each source of divergence is measured by varying one thing.
CONFIGURATIONS: dict[str, tuple[str, str]] = {
    "baseline (SRDB-V5, WorldClim)": ("v5", "worldclim"),
    "data (SRDB 2022, WorldClim)": ("v2022", "worldclim"),
    "forcing (SRDB-V5, UDel)": ("v5", "udel"),
}


def load_configurations(configurations: dict[str, tuple[str, str]] | None = None) -> xr.Dataset:
    """All protocol runs stacked along ``config`` (each from the :func:`load_ensemble` cache).

    Returns
    -------
    xarray.Dataset
        ``rs_annual`` (config, member, lat, lon) plus the shared ``land_mask``, ``cell_area_m2``,
        ``land_fraction``; ``data_version`` and ``forcing`` as coordinates along ``config``.
    """
    configurations = configurations or CONFIGURATIONS
    runs = {label: load_ensemble(dv, f) for label, (dv, f) in configurations.items()}
    first = next(iter(runs.values()))
    for label, ds in runs.items():
        if not bool((ds["land_mask"] == first["land_mask"]).all()):
            raise ValueError(f"run {label!r} has a different land mask")
    rs = xr.concat([ds["rs_annual"] for ds in runs.values()], dim="config")
    rs = rs.assign_coords(config=list(runs),
                          data_version=("config", [c[0] for c in configurations.values()]),
                          forcing=("config", [c[1] for c in configurations.values()]))
    rs.attrs = dict(first["rs_annual"].attrs)
    return xr.Dataset({"rs_annual": rs, "land_mask": first["land_mask"], "cell_area_m2": first["cell_area_m2"],
                       "land_fraction": first["land_fraction"]},
                      attrs={"n_obs": json.dumps({k: int(v.attrs["n_obs"]) for k, v in runs.items()}),
                             "n_sites": json.dumps({k: int(v.attrs["n_sites"]) for k, v in runs.items()})})


def cell_cv(field: xr.DataArray, dim: str) -> xr.DataArray:
    """Per-cell coefficient of variation along ``dim``: SD (ddof = 1) / mean, as a fraction.

    NaN where the mean is not positive.
    """
    mean = field.mean(dim)
    sd = field.std(dim, ddof=1)
    cv = (sd / mean).where(mean > 0)
    cv.attrs = {"units": "1", "long_name": f"coefficient of variation across {dim}"}
    return cv


def split_divergence(totals: pd.DataFrame, baseline: str, data: str, forcing: str) -> pd.DataFrame:
    """Spread of global totals by source of divergence.

    Parameters
    ----------
    totals
        Global totals (Pg C yr-1), members as rows and protocol runs as columns.
    baseline, data, forcing
        Column names of the baseline run and of the runs that change only the data or only the
        forcing.

    Returns
    -------
    pandas.DataFrame
        One row per source: ``sd_pg`` (SD, ddof = 1), ``range_pg`` (max - min) and ``cv_percent``;
        for method these are across the baseline members; for data and forcing they are computed
        per member across its two runs and then averaged over members.
    """
    rows = []
    base = totals[baseline]
    rows.append({"source": "method", "compared": f"{len(base)} members, {baseline}",
                 "sd_pg": float(base.std(ddof=1)), "range_pg": float(base.max() - base.min()),
                 "cv_percent": float(100 * base.std(ddof=1) / base.mean())})
    for source, other in (("data", data), ("forcing", forcing)):
        pair = totals[[baseline, other]]
        sd = pair.std(axis=1, ddof=1)
        rows.append({"source": source, "compared": f"{baseline} vs {other}, per member, averaged",
                     "sd_pg": float(sd.mean()),
                     "range_pg": float((pair.max(axis=1) - pair.min(axis=1)).mean()),
                     "cv_percent": float((100 * sd / pair.mean(axis=1)).mean())})
    return pd.DataFrame(rows).set_index("source")


def divergence_cv_maps(configs: xr.Dataset, baseline: str, data: str, forcing: str) -> xr.DataArray:
    """Per-cell CV maps of the three sources, ``(source, lat, lon)`` as fractions.

    Method: CV across the baseline members. Data, forcing: CV across the two runs of each member,
    averaged over members.
    """
    rs = configs["rs_annual"]
    maps = [
        cell_cv(rs.sel(config=baseline), "member"),
        cell_cv(rs.sel(config=[baseline, data]), "config").mean("member"),
        cell_cv(rs.sel(config=[baseline, forcing]), "config").mean("member"),
    ]
    out = xr.concat([m.drop_vars([c for c in m.coords if c not in ("lat", "lon")]) for m in maps],
                    dim="source").assign_coords(source=["method", "data", "forcing"])
    out.attrs = {"units": "1", "long_name": "per-cell coefficient of variation"}
    return out.where(configs["land_mask"])


def area_mean(field: xr.DataArray, weight: xr.DataArray) -> xr.DataArray:
    """Weighted mean over ``lat``/``lon`` ignoring NaN cells (e.g. land-area-weighted CV)."""
    w = weight.where(field.notnull())
    return (field * w).sum(("lat", "lon")) / w.sum(("lat", "lon"))


def monthly_totals_pg(ds: xr.Dataset) -> xr.DataArray:
    """Global monthly totals (Pg C month-1) of ``rs_monthly``: flux x cell area x land fraction."""
    rs = ds["rs_monthly"]
    if rs.attrs.get("units") != GRID_RS_MONTHLY_UNITS:
        raise ValueError(f"rs_monthly must be in {GRID_RS_MONTHLY_UNITS}, got {rs.attrs.get('units')!r}")
    inside = ds["land_mask"].astype(bool)
    if int((rs.isnull() & inside).sum()):
        raise ValueError("rs_monthly has NaN inside the land mask")
    weight = ds["cell_area_m2"] * ds["land_fraction"]
    total = (rs.where(inside) * weight).sum(("lat", "lon")) / 1e15
    total.attrs = {"units": "Pg C month-1"}
    return total.rename("total_pg_c_month")


# --------------------------------------------------------------------------------------------
# optional monthly machine-learning member trained on MGRsD monthly records
# --------------------------------------------------------------------------------------------
#: Name of the monthly random forest trained on MGRsD (not one of :data:`MEMBERS`: it uses other
#: observations, so it stays out of the same-data method spread and of ``load_ensemble``).
MGRSD_MEMBER = "random_forest_monthly_mgrsd"
MONTHLY_FEATURE_NAMES = ("t_month_c", "p_month_mm") + FEATURE_NAMES


def load_monthly_observations(forcing: str = "worldclim") -> tuple[pd.DataFrame, pd.DataFrame]:
    """MGRsD monthly records with covariates from the prediction grids.

    Returns
    -------
    obs, steps
        ``obs``: one row per site-month with ``rs_g_m2_month`` (``Rs_Norm`` x days in the
        month), ``month``, ``lat``, ``lon``, ``site``, ``landcover_group``, ``t01..t12``,
        ``p01..p12`` (the grid cell's climatology); ``steps``: the filter table.
    """
    static = load_static_05()
    climate = load_climatology(forcing)
    kept, steps = readers.filter_mgrsd(readers.read_mgrsd(), land_mask=static["land_mask"])
    lat = kept["Latitude"].to_numpy(float)
    lon = kept["Longitude"].to_numpy(float)
    month = kept["Measure_Month"].to_numpy(int)
    t, p, lc = sample_site_covariates(lat, lon, climate, static["landcover_group"])
    obs = pd.DataFrame({"rs_g_m2_month": kept["Rs_Norm"].to_numpy(float) * models.DAYS_IN_MONTH[month - 1],
                        "month": month, "lat": lat, "lon": lon, "site": site_id(lat, lon),
                        "landcover_group": lc.astype(int)})
    for m in range(12):
        obs[f"t{m + 1:02d}"] = t[:, m]
    for m in range(12):
        obs[f"p{m + 1:02d}"] = p[:, m]
    return obs, steps


def make_monthly_features(month: np.ndarray, tmean_c: np.ndarray, prec_mm_month: np.ndarray,
                          landcover_group: np.ndarray) -> np.ndarray:
    """Features of the monthly member: that month's T and P, then :func:`make_features` columns."""
    idx = np.asarray(month, int) - 1
    rows = np.arange(idx.size)
    t = np.asarray(tmean_c, float)
    p = np.asarray(prec_mm_month, float)
    return np.column_stack([t[rows, idx], p[rows, idx], make_features(t, p, landcover_group)])


def make_monthly_estimator(seed: int = SEED):
    """Random forest of the monthly MGRsD member (fixed hyper-parameters)."""
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(n_estimators=100, min_samples_leaf=5, max_features=0.5, n_jobs=2,
                                 random_state=seed)


def fit_mgrsd_member_on(obs: pd.DataFrame, forcing: str, seed: int = SEED) -> FittedMember:
    """Fit the monthly random forest on a monthly observation table."""
    t, p = monthly_arrays(obs)
    est = make_monthly_estimator(seed)
    est.fit(make_monthly_features(obs["month"], t, p, obs["landcover_group"]), obs["rs_g_m2_month"])
    names = list(MONTHLY_FEATURE_NAMES) + [f"lc_{g}" for g in readers.LANDCOVER_GROUPS]
    params = {"importance_" + k: float(v) for k, v in zip(names, est.feature_importances_)}
    return FittedMember(name=MGRSD_MEMBER, method_family="Machine learning",
                        description="random forest on MGRsD monthly records", params=params,
                        data_version="mgrsd", forcing=forcing, n_obs=len(obs),
                        n_sites=int(obs["site"].nunique()), estimator=est, monthly=True)


def predict_mgrsd_monthly(fitted: FittedMember, climate: xr.Dataset, landcover: xr.DataArray | None = None
                          ) -> xr.DataArray:
    """Monthly Rs (g C m-2 month-1), ``(month, lat, lon)``, of the MGRsD member, month by month."""
    tmean, t, p, lc, valid = _grid_cells(climate, landcover)
    out = np.full((12, lc.size), np.nan, dtype=np.float32)
    for m in range(1, 13):
        month = np.full(int(valid.sum()), m)
        pred = fitted.estimator.predict(make_monthly_features(month, t[valid], p[valid], lc[valid]))
        out[m - 1, valid] = np.maximum(pred, 0.0)
    return xr.DataArray(out.reshape(12, *tmean.shape[1:]), dims=("month", "lat", "lon"),
                        coords={"month": np.arange(1, 13), "lat": tmean["lat"], "lon": tmean["lon"]},
                        name="rs_monthly", attrs={"units": GRID_RS_MONTHLY_UNITS, "member": fitted.name})


def cross_validate_mgrsd(obs: pd.DataFrame, n_splits: int = 5, block_deg: float = 10.0,
                         seed: int = SEED) -> dict[str, float]:
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
    monthly = predict_mgrsd_monthly(fitted, climate, static["landcover_group"]).where(static["land_mask"])
    if int((monthly.isnull() & static["land_mask"]).sum()):
        raise ValueError("MGRsD member: NaN inside the land mask")
    annual = monthly.sum("month", min_count=12).where(static["land_mask"])
    annual.attrs = {"units": GRID_RS_ANNUAL_UNITS, "long_name": "annual soil respiration (sum of months)"}
    scores = cross_validate_mgrsd(obs, seed=seed)
    return xr.Dataset(
        {"rs_monthly": monthly, "rs_annual": annual, "land_mask": static["land_mask"],
         "cell_area_m2": static["cell_area_m2"], "land_fraction": static["land_fraction"]},
        attrs={"member": MGRSD_MEMBER, "method_family": "Machine learning", "data_file": readers.MGRSD_FILE,
               "forcing": forcing, "seed": seed, "n_obs": len(obs), "n_sites": int(obs["site"].nunique()),
               "filter_steps": steps.to_json(orient="records"), "params": json.dumps(fitted.params),
               "cv_scores_g_m2_month": json.dumps(scores),
               "cv": "5-fold spatially blocked (10-degree blocks), scored on monthly values",
               "totals_area": "cell_area_m2 x land_fraction"},
    )


def load_mgrsd_member(forcing: str = "worldclim", refresh: bool = False) -> xr.Dataset:
    """Cached :func:`build_mgrsd_member`: ``rs_monthly`` (month, lat, lon), ``rs_annual`` (lat, lon)."""
    key = cache_key("mgrsd", data_version="v5", forcing=forcing, seed=SEED,
                    mgrsd=get_entry(readers.MGRSD_FILE).sha256)
    path = get_cache_dir() / "ensemble" / f"mgrsd-{forcing}-{key}.nc"
    if refresh:
        path.unlink(missing_ok=True)

    write = functools.partial(_write_gridded, key=key)
    return cached_build(path, lambda: build_mgrsd_member(forcing), _read_nc, write)
