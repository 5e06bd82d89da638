"""A productivity covariate as a data choice: members refitted with FLUXCOM GPP beside the baseline.

Climate alone lets a member put a forest-level flux into a hyper-arid desert (the linear member
is linear in MAT and MAP). Soil respiration is fed by recent photosynthate and litter, so a
productivity covariate is a natural addition. This module refits three members with gross primary
productivity (GPP) as an extra covariate (:data:`GPP_MEMBERS`):

* ``linear_mat_map_gpp``: OLS of Rs on MAT, MAP and GPP;
* ``random_forest_gpp``, ``gradient_boosting_gpp``: the machine-learning members' features plus GPP.

GPP is the 0.5-degree FLUXCOM grid of the mirror (:data:`GPP_FILE`). Its scaling is not
documented, so it is **calibrated**: one factor makes its total over the book's land mask (cell
area x land fraction) equal the mean of the published FLUXCOM global GPP totals in the GlobalC
compilation (:func:`published_fluxcom_gpp`: the RS and RS-METEO set-ups of Jung et al. 2020).
A cell with 0 in the file (no nodata value is set; zeros lie in the Sahara, Arabia and the high
Arctic) is read as zero productivity. For a tree ensemble the factor changes nothing; for the
linear member it sets the units of its slope. The baseline members are unchanged
(:func:`globalrs.estimates.ensemble.load_ensemble`): these are extra rows, never replacements.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import rasterio
import xarray as xr

from globalrs.core.grid import make_grid, sample_at_sites
from globalrs.core.schema import GRID_RS_ANNUAL_UNITS
from globalrs.core.units import G_PER_PG
from globalrs.estimates.applicability import member_aoa
from globalrs.estimates.ensemble import MODEL_VERSION, SEED, feature_names, grid_cells, input_names, make_estimator, make_features
from globalrs.estimates.evaluate import blocked_folds, score_predictions
from globalrs.estimates.inputs import forcing_land_mask, load_climatology, load_observations, load_static_05, monthly_arrays
from globalrs.sources.cache import cache_key, cache_path, cached_build, read_netcdf, write_netcdf_atomic
from globalrs.sources.data import fetch

GPP_FILE = "grids/fluxcom_gpp2.tif"
GPP_COMPILATION_FILE = "compilations/GlobalC_GlobalGPP_Sum.csv"
GPP_NAME = "gpp_g_m2_yr"
#: The FLUXCOM synthesis (Jung et al. 2020, Biogeosciences 17:1343; discussion paper doi) and its
#: set-ups whose global GPP calibrates the grid.
CALIBRATION_DOI = "10.5194/bg-2019-368"
CALIBRATION_SETUPS = ("RS", "RS-METEO")
#: Member with GPP -> the baseline member it extends.
GPP_MEMBERS = {
    "linear_mat_map_gpp": "linear_mat_map",
    "random_forest_gpp": "random_forest",
    "gradient_boosting_gpp": "gradient_boosting",
}
#: Result version of the productivity runs (part of their cache key).
PRODUCTIVITY_VERSION = "1"


def read_fluxcom_gpp_raw_05() -> xr.DataArray:
    """The FLUXCOM GPP grid as stored (uncalibrated integers), latitude ascending on the 0.5-degree grid.

    Raises
    ------
    ValueError
        If the file is not a global 0.5-degree grid starting at 180 W, 90 N.
    """
    with rasterio.open(fetch(GPP_FILE)) as src:
        raw = src.read(1).astype(np.float64)
        t = src.transform
    lat, lon = make_grid(0.5)
    if raw.shape != (lat.size, lon.size) or not np.allclose([t.a, t.e, t.c, t.f], [0.5, -0.5, -180.0, 90.0]):
        raise ValueError(f"{GPP_FILE}: expected a global 0.5-degree grid from 180W, 90N; got {raw.shape} with {t}")
    return xr.DataArray(
        raw[::-1].copy(),
        dims=("lat", "lon"),
        coords={"lat": lat, "lon": lon},
        name="gpp_raw",
        attrs={"units": "unknown (uncalibrated)"},
    )


def published_fluxcom_gpp() -> pd.DataFrame:
    """The FLUXCOM global GPP totals of the GlobalC compilation (Pg C yr-1) and which calibrate the grid.

    The calibration uses the FLUXCOM synthesis of Jung et al. (2020; listed as the 2019
    discussion paper, doi 10.5194/bg-2019-368) in its two set-ups, RS and RS-METEO
    (:data:`CALIBRATION_SETUPS`); the TRENDY models that paper compares against, the older
    per-method FLUXCOM values read from a figure (Ryu et al. 2019) and an MTE product are listed
    but not used.

    Returns
    -------
    pandas.DataFrame
        Rows whose ``Flag_comment`` names FLUXCOM: ``method``, ``note`` (the set-up, or where a value was read), ``period``,
        ``gpp_pg_c_yr``, ``reference``, ``doi_or_url``, ``used_for_calibration``.
    """
    table = pd.read_csv(fetch(GPP_COMPILATION_FILE), skiprows=1, encoding="latin-1")  # not UTF-8
    rows = table[table["Flag_comment"].astype(str).str.contains("FLUXCOM", case=False)]
    out = pd.DataFrame(
        {
            "method": rows["Flag_comment"].astype(str).str.strip().to_numpy(),
            "note": rows["Note1"].fillna("").astype(str).str.strip().to_numpy(),
            "period": rows["Period"].astype(str).to_numpy(),
            "gpp_pg_c_yr": rows["GPP"].astype(float).to_numpy(),
            "reference": rows["Reference"].astype(str).str.strip().to_numpy(),
            "doi_or_url": rows["URL"].astype(str).str.strip().to_numpy(),
        }
    )
    out["used_for_calibration"] = (
        out["doi_or_url"].str.contains(CALIBRATION_DOI, regex=False) & out["note"].isin(CALIBRATION_SETUPS)
    ).to_numpy()
    if not out["used_for_calibration"].any():
        raise ValueError(f"{GPP_COMPILATION_FILE}: no FLUXCOM {CALIBRATION_SETUPS} row of {CALIBRATION_DOI} to calibrate against")
    return out


def calibrated_gpp_05(static: xr.Dataset | None = None) -> xr.DataArray:
    """FLUXCOM GPP (g C m-2 yr-1) scaled so its land-mask total is the published FLUXCOM mean.

    Parameters
    ----------
    static
        :func:`globalrs.estimates.inputs.load_static_05` (its land mask, cell areas and land fraction).

    Returns
    -------
    xarray.DataArray
        ``(lat, lon)`` GPP; attributes ``scale_factor`` (g C m-2 yr-1 per stored unit),
        ``calibrated_to_pg_c_yr``, ``raw_total``, ``calibration``.
    """
    static = load_static_05() if static is None else static
    raw = read_fluxcom_gpp_raw_05()
    published = published_fluxcom_gpp()
    target = float(published.loc[published["used_for_calibration"], "gpp_pg_c_yr"].mean())
    weight = (static["cell_area_m2"] * static["land_fraction"]).where(static["land_mask"])
    raw_total = float((raw * weight).sum()) / G_PER_PG
    if raw_total <= 0:
        raise ValueError(f"{GPP_FILE}: no productivity on the land mask")
    factor = target / raw_total
    gpp = (raw * factor).rename(GPP_NAME)
    gpp.attrs = {
        "units": "g C m-2 yr-1",
        "scale_factor": factor,
        "calibrated_to_pg_c_yr": target,
        "raw_total": raw_total,
        "calibration": "one factor: total over the land mask (cell area x land fraction) = mean published FLUXCOM global GPP",
    }
    return gpp


def fit_gpp_member(name: str, t: np.ndarray, p: np.ndarray, lc: np.ndarray, gpp: np.ndarray, rs: np.ndarray, seed: int = SEED):
    """Fit one member of :data:`GPP_MEMBERS` on per-record arrays; return ``(params, estimator)``."""
    if name not in GPP_MEMBERS:
        raise ValueError(f"{name!r} is not a productivity member ({list(GPP_MEMBERS)})")
    if name == "linear_mat_map_gpp":
        x = np.column_stack([np.ones(len(rs)), t.mean(1), p.sum(1), gpp])
        coef, *_ = np.linalg.lstsq(x, rs, rcond=None)
        return dict(zip(("intercept", "slope_per_c", "slope_per_mm", "slope_per_gpp"), map(float, coef), strict=True)), None
    est = make_estimator(GPP_MEMBERS[name], seed)
    est.fit(np.column_stack([make_features(t, p, lc), gpp]), rs)
    names = [*feature_names(), GPP_NAME]
    return {"importance_" + k: float(v) for k, v in zip(names, est.feature_importances_, strict=True)}, est


def predict_gpp_member(name: str, params: dict, est, t: np.ndarray, p: np.ndarray, lc: np.ndarray, gpp: np.ndarray) -> np.ndarray:
    """Annual Rs (g C m-2 yr-1) of a productivity member; negative values set to zero."""
    if name == "linear_mat_map_gpp":
        out = (
            params["intercept"]
            + params["slope_per_c"] * t.mean(1)
            + params["slope_per_mm"] * p.sum(1)
            + params["slope_per_gpp"] * gpp
        )
    else:
        out = est.predict(np.column_stack([make_features(t, p, lc), gpp]))
    return np.maximum(out, 0.0)


def build_productivity(data_version: str = "v5", forcing: str = "worldclim", seed: int = SEED) -> xr.Dataset:
    """Fit, cross-validate, predict and assess (AOA) the productivity members (no cache).

    Returns
    -------
    xarray.Dataset
        ``rs_annual`` (member, lat, lon) g C m-2 yr-1 NaN off the land mask; ``gpp`` (lat, lon);
        ``cv_score`` (member, metric) on the same blocked folds as the baseline members;
        ``di``, ``inside_aoa``, ``threshold`` from :func:`globalrs.estimates.applicability.member_aoa`;
        ``land_mask``, ``cell_area_m2``, ``land_fraction``. Parameters and the calibration in attrs.
    """
    static = load_static_05()
    climate = load_climatology(forcing)
    mask = forcing_land_mask(static, climate)
    obs, _ = load_observations(data_version, forcing)
    gpp = calibrated_gpp_05(static)
    t, p = monthly_arrays(obs)
    lc = obs["landcover_group"].to_numpy(int)
    rs = obs["rs_g_m2_yr"].to_numpy(float)
    g_sites = sample_at_sites(gpp, obs["lat"].to_numpy(float), obs["lon"].to_numpy(float))
    inside = mask.values.reshape(-1)
    _, t_all, p_all, lc_all, _ = grid_cells(climate, static["landcover_group"])
    tg, pg, lcg = t_all[inside], p_all[inside], lc_all[inside]
    gg = gpp.values.reshape(-1)[inside]
    folds = blocked_folds(obs, 5, 10.0, seed)
    maps, scores, params = [], [], {}
    for name in GPP_MEMBERS:
        pred = np.full(rs.size, np.nan)
        for train, test in folds:
            pa, est = fit_gpp_member(name, t[train], p[train], lc[train], g_sites[train], rs[train], seed)
            pred[test] = predict_gpp_member(name, pa, est, t[test], p[test], lc[test], g_sites[test])
        scores.append(score_predictions(rs, pred))
        pa, est = fit_gpp_member(name, t, p, lc, g_sites, rs, seed)
        params[name] = pa
        flat = np.full(inside.size, np.nan, np.float32)
        flat[inside] = predict_gpp_member(name, pa, est, tg, pg, lcg, gg)
        maps.append(flat.reshape(mask.shape))
    names = list(GPP_MEMBERS)
    coords = {"member": names, "lat": mask["lat"].values, "lon": mask["lon"].values}
    aoa = member_aoa(obs, params, climate, static["landcover_group"], mask, {GPP_NAME: g_sites}, {GPP_NAME: gpp}, seed=seed)
    metrics = ["rmse", "mae", "r2", "bias"]
    ds = xr.Dataset(
        {
            "rs_annual": xr.DataArray(
                np.stack(maps), dims=("member", "lat", "lon"), coords=coords, attrs={"units": GRID_RS_ANNUAL_UNITS}
            ),
            "gpp": gpp,
            "cv_score": xr.DataArray(
                [[s[m] for m in metrics] for s in scores], dims=("member", "metric"), coords={"member": names, "metric": metrics}
            ),
            "di": aoa["di"],
            "inside_aoa": aoa["inside_aoa"],
            "threshold": aoa["threshold"],
            "land_mask": mask.astype(np.int8),
            "cell_area_m2": static["cell_area_m2"],
            "land_fraction": static["land_fraction"],
        },
        attrs={
            **{f"params_{n}": json.dumps(params[n]) for n in names},
            "baseline_member": json.dumps(GPP_MEMBERS),
            "gpp_scale_factor": float(gpp.attrs["scale_factor"]),
            "gpp_calibrated_to_pg_c_yr": float(gpp.attrs["calibrated_to_pg_c_yr"]),
            "gpp_calibration": gpp.attrs["calibration"],
            "data_version": data_version,
            "forcing": forcing,
            "seed": seed,
            "n_obs": len(obs),
            "cv": "spatially blocked, 10-degree blocks, 5 folds (the baseline members' folds)",
        },
    )
    ds["rs_annual"] = ds["rs_annual"].where(mask)
    return ds


def load_productivity(data_version: str = "v5", forcing: str = "worldclim", refresh: bool = False) -> xr.Dataset:
    """Cached :func:`build_productivity` (NetCDF under ``get_cache_dir()/ensemble``); ``land_mask`` as bool."""
    key = cache_key(
        "productivity",
        f"{MODEL_VERSION}.{PRODUCTIVITY_VERSION}",
        [*input_names(data_version), GPP_FILE, GPP_COMPILATION_FILE],
        data_version=data_version,
        forcing=forcing,
        seed=SEED,
    )
    path = cache_path("ensemble", f"productivity-{data_version}-{forcing}", key)
    ds = cached_build(
        path,
        lambda: build_productivity(data_version, forcing),
        read_netcdf,
        lambda ds, target: write_netcdf_atomic(ds.assign_attrs(cache_key=key), target),
        refresh=refresh,
    )
    return ds.assign(land_mask=ds["land_mask"].astype(bool))
