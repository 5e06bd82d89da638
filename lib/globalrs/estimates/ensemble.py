"""The standardized-protocol ensemble members: fit on observations, predict on a grid, cache.

Every member is fitted on the same filtered observations (SRDB annual Rs, :mod:`globalrs.estimates.inputs`)
with the same forcing and covariates, and predicted on the same land mask. :func:`load_ensemble`
returns all members as one Dataset in the gridded-estimates schema (:mod:`globalrs.estimates.gridded`):

* ``rs_annual`` (member, lat, lon), g C m-2 yr-1, NaN outside ``land_mask`` and never inside;
* ``rs_monthly`` (member_monthly, month, lat, lon), g C m-2 month-1, for the monthly members;
* ``land_mask`` (lat, lon) bool, ``cell_area_m2`` (lat, lon), ``land_fraction`` (lat, lon).

Global totals use cell area x land fraction (:func:`ensemble_totals_pg`), for every member alike.
Members (:data:`MEMBERS`) are declared once each in the member registry (:mod:`globalrs.estimates.members`):
``area_x_mean``, ``linear_mat_map``, ``raich_potter`` and ``lloyd_taylor`` (monthly),
``random_forest``, ``gradient_boosting``, and any member registered there. Evaluation (CV, bootstrap)
lives in :mod:`globalrs.estimates.evaluate`, the divergence split in :mod:`globalrs.estimates.divergence`, the MGRsD
monthly member in :mod:`globalrs.estimates.mgrsd`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.core.grid import check_grid, global_total_pg, land_area_mkm2
from globalrs.core.schema import GRID_RS_ANNUAL_UNITS, GRID_RS_MONTHLY_UNITS, validate_gridded
from globalrs.core.units import G_PER_PG
from globalrs.estimates import members as member_registry
from globalrs.estimates.inputs import (
    DATA_VERSIONS,
    FORCINGS,
    check_climate,
    forcing_land_mask,
    load_climatology,
    load_observations,
    load_static_05,
    monthly_arrays,
)
from globalrs.estimates.members import (  # noqa: F401 - re-exported: callers import the features from here
    FEATURE_NAMES,
    feature_names,
    make_estimator,
    make_features,
)
from globalrs.sources import readers
from globalrs.sources.cache import NETCDF_ENGINE, cache_key, cache_path, cached_build, write_netcdf_atomic

#: Member name -> (method family of Table 1, short description) of the ensemble's members: a
#: live view of the member registry (:mod:`globalrs.estimates.members`), so a registered member appears here.
MEMBERS: Mapping[str, tuple[str, str]] = member_registry.MemberTable(in_ensemble=True)

#: Forms that can be fitted and predicted but are not ensemble members by default (declared with
#: ``in_ensemble=False``; see :data:`globalrs.estimates.members.PAPER_MEMBERS`).
OPTIONAL_MEMBERS: Mapping[str, tuple[str, str]] = member_registry.MemberTable(in_ensemble=False)

SEED = member_registry.SEED


#: Result version of the fitted ensembles and evaluations: bump it whenever a change alters
#: the numbers they produce (it is part of every cache key; source text is not).
MODEL_VERSION = "3"


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


def fit_member_arrays(
    name: str,
    tmean_c: np.ndarray,
    prec_mm_month: np.ndarray,
    landcover_group: np.ndarray,
    rs_g_m2_yr: np.ndarray,
    seed: int = SEED,
) -> tuple[dict[str, Any], Any]:
    """Fit member ``name`` on per-observation arrays; return ``(params, estimator)``."""
    data = member_registry.FitData(
        np.asarray(tmean_c, float), np.asarray(prec_mm_month, float), landcover_group, np.asarray(rs_g_m2_yr, float), seed
    )
    return member_registry.get(name).fit(data)


def predict_member_arrays(
    name: str,
    params: dict[str, Any],
    estimator: Any,
    tmean_c: np.ndarray,
    prec_mm_month: np.ndarray,
    landcover_group: np.ndarray,
    clip: bool = True,
) -> np.ndarray:
    """Annual Rs (g C m-2 yr-1) of member ``name`` for ``(n, 12)`` climate and ``(n,)`` land cover.

    Negative predictions (possible for the linear and boosting members in cold or dry places)
    are set to zero unless ``clip`` is False; :func:`predict_member` counts them.
    """
    cells = member_registry.CellData(np.asarray(tmean_c, float), np.asarray(prec_mm_month, float), landcover_group)
    out = member_registry.get(name).predict_annual(params, estimator, cells)
    return np.maximum(out, 0.0) if clip else np.asarray(out, dtype=float)


def predict_monthly_arrays(name: str, params: dict[str, Any], tmean_c: np.ndarray, prec_mm_month: np.ndarray) -> np.ndarray:
    """Monthly Rs (g C m-2 month-1), shape ``(n, 12)``, of a monthly member."""
    member = member_registry.get(name)
    if member.monthly is None:
        raise ValueError(f"{name!r} does not resolve months")
    return member.monthly(params, tmean_c, prec_mm_month)


def fit_members_on(
    obs: pd.DataFrame, data_version: str, forcing: str, members: tuple[str, ...] | None = None, seed: int = SEED
) -> dict[str, FittedMember]:
    """Fit members on a ready observation table (see :func:`globalrs.estimates.inputs.load_observations`)."""
    t, p = monthly_arrays(obs)
    fitted = {}
    for name in members or tuple(MEMBERS):
        params, est = fit_member_arrays(name, t, p, obs["landcover_group"].to_numpy(), obs["rs_g_m2_yr"].to_numpy(), seed)
        member = member_registry.get(name)
        fitted[name] = FittedMember(
            name=name,
            method_family=member.family,
            description=member.description,
            params=params,
            data_version=data_version,
            forcing=forcing,
            n_obs=len(obs),
            n_sites=int(obs["site"].nunique()),
            estimator=est,
            monthly=member.is_monthly,
        )
    return fitted


def grid_cells(climate: xr.Dataset, landcover: xr.DataArray):
    """Flatten a climate Dataset and a land-cover grid into per-cell covariate arrays.

    Parameters
    ----------
    climate
        ``tmean_c`` and ``prec_mm_month`` (month, lat, lon), checked by
        :func:`globalrs.estimates.inputs.check_climate`.
    landcover
        Land-cover group index on the same grid (-1: no land cover).

    Returns
    -------
    tuple
        ``(tmean, t, p, lc, valid)``: the ``(month, lat, lon)`` temperature array, ``(n, 12)``
        temperature and precipitation, ``(n,)`` land cover and the ``(n,)`` mask of cells with
        every covariate.
    """
    check_climate(climate)
    tmean = climate["tmean_c"].transpose("month", "lat", "lon")
    prec = climate["prec_mm_month"].transpose("month", "lat", "lon")
    check_grid(tmean, resolution_deg=None)
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


def predict_member(fitted: FittedMember, climate: xr.Dataset, landcover: xr.DataArray | None = None) -> xr.DataArray:
    """Annual Rs (g C m-2 yr-1) of a fitted member for a monthly climate Dataset.

    Parameters
    ----------
    fitted
        From :func:`fit_members`.
    climate
        ``tmean_c`` and ``prec_mm_month`` (month, lat, lon), like :func:`globalrs.estimates.inputs.load_climatology`.
    landcover
        Land-cover group grid matching ``climate``, e.g. ``load_static_05()["landcover_group"]``;
        when omitted, that 0.5-degree grid (kept for existing callers; ``climate`` must then be on
        the 0.5-degree grid).

    Returns
    -------
    xarray.DataArray
        ``(lat, lon)``; NaN where a covariate is missing (apply the land mask afterwards).
    """
    if landcover is None:
        check_grid(climate["tmean_c"], resolution_deg=0.5)
        landcover = load_static_05()["landcover_group"]
    tmean, t, p, lc, valid = grid_cells(climate, landcover)
    raw = predict_member_arrays(fitted.name, fitted.params, fitted.estimator, t[valid], p[valid], lc[valid], clip=False)
    return member_map(raw, valid, tmean, fitted.name)


def member_map(raw: np.ndarray, valid: np.ndarray, tmean: xr.DataArray, name: str) -> xr.DataArray:
    """A member's annual map from its unclipped predictions on the valid cells of :func:`grid_cells`.

    Parameters
    ----------
    raw
        Predictions (g C m-2 yr-1) on the cells where ``valid`` is true, negatives not yet clipped.
    valid
        Flattened ``(lat * lon,)`` flags of the cells with every covariate.
    tmean
        The ``(month, lat, lon)`` temperature :func:`grid_cells` returns (its grid).
    name
        The member's name.

    Returns
    -------
    xarray.DataArray
        ``rs_annual`` ``(lat, lon)`` in g C m-2 yr-1 (float32), negatives set to zero, NaN where a
        covariate is missing, with the ``units``, ``member`` and ``n_negative_set_to_zero`` attributes.
    """
    out = np.full(valid.size, np.nan)
    out[valid] = np.maximum(raw, 0.0)
    da = xr.DataArray(
        out.reshape(tmean.shape[1:]).astype(np.float32),
        dims=("lat", "lon"),
        coords={"lat": tmean["lat"], "lon": tmean["lon"]},
        name="rs_annual",
    )
    da.attrs = {"units": GRID_RS_ANNUAL_UNITS, "member": name, "n_negative_set_to_zero": int((raw < 0).sum())}
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
    da = xr.DataArray(
        np.moveaxis(monthly, -1, 0).astype(np.float32),
        dims=("month", "lat", "lon"),
        coords={"month": np.arange(1, 13), "lat": tmean["lat"], "lon": tmean["lon"]},
        name="rs_monthly",
        attrs={"units": GRID_RS_MONTHLY_UNITS, "member": fitted.name},
    )
    return da


def predict_member_chunked(
    fitted: FittedMember, tmean_c: xr.DataArray, prec_mm_month: xr.DataArray, landcover: xr.DataArray, chunk_rows: int = 60
) -> xr.DataArray:
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
        raise ValueError(f"climate {tmean_c.shape}/{prec_mm_month.shape} and land cover {landcover.shape} grids differ")
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
    return xr.DataArray(
        out,
        dims=("lat", "lon"),
        coords={"lat": landcover["lat"], "lon": landcover["lon"]},
        name="rs_annual",
        attrs={"units": GRID_RS_ANNUAL_UNITS, "member": fitted.name},
    )


def input_names(data_version: str = "v5") -> list[str]:
    """Registry names of every file the ensemble reads for ``data_version``."""
    names = [readers.SRDB_FILES[data_version], readers.UDEL_FILE, readers.LAND_FRACTION_FILE, readers.MODIS_LC_FILE]
    names += readers.worldclim_files()
    return names


def write_gridded(ds: xr.Dataset, target: Path, key: str) -> None:
    """Cache a gridded result atomically (the boolean land mask stored as int8, the key in attrs).

    Parameters
    ----------
    ds
        Gridded-estimates Dataset.
    target
        Cache file.
    key
        Cache key recorded in ``attrs["cache_key"]``.
    """
    ds = ds.copy()
    ds["land_mask"] = ds["land_mask"].astype(np.int8)
    write_netcdf_atomic(ds.assign_attrs(cache_key=key), target)


def read_gridded(path: Path) -> xr.Dataset:
    """Read a cached gridded result (restoring the boolean land mask) and validate it.

    Parameters
    ----------
    path
        Cache file written by :func:`write_gridded`.

    Returns
    -------
    xarray.Dataset
        The gridded-estimates Dataset.
    """
    with xr.open_dataset(path, engine=NETCDF_ENGINE) as ds:
        ds = ds.load()
    ds["land_mask"] = ds["land_mask"].astype(bool)
    return validate_gridded(ds)


def predict_on_mask(
    fitted: dict[str, FittedMember],
    climate: xr.Dataset,
    landcover: xr.DataArray,
    mask: xr.DataArray,
    what: str = "member",
    t0: float | None = None,
) -> tuple[xr.DataArray, dict[str, object]]:
    """Predict every fitted member on ``mask`` (NaN inside it is an error).

    Parameters
    ----------
    fitted
        Member name -> fitted member (:func:`fit_members_on`).
    climate, landcover
        As for :func:`predict_member`.
    mask
        ``(lat, lon)`` cells every member must cover.
    what
        How the members are named in messages (``"member"``, ``"Rh member"``).
    t0
        With a start time (``time.perf_counter()``), one progress line per member.

    Returns
    -------
    maps, attrs
        The members' annual maps ``(member, lat, lon)``, NaN outside ``mask``, in ``fitted``
        order with their ``method_family``, and the ``params_<name>`` and
        ``n_negative_set_to_zero_<name>`` provenance attributes.
    """
    maps: list[xr.DataArray] = []
    attrs: dict[str, object] = {}
    for name, fm in fitted.items():
        da = predict_member(fm, climate, landcover).where(mask)
        if int((da.isnull() & mask).sum()):
            raise ValueError(f"{what} {name}: NaN inside the land mask")
        maps.append(da)
        attrs[f"params_{name}"] = json.dumps(fm.params)
        attrs[f"n_negative_set_to_zero_{name}"] = int(da.attrs["n_negative_set_to_zero"])
        if t0 is not None:
            print(f"  {what} {name}: fitted and predicted ({time.perf_counter() - t0:.1f} s)", flush=True)
    names = list(fitted)
    stacked = xr.concat(maps, dim="member").assign_coords(
        member=names, method_family=("member", [member_registry.get(n).family for n in names])
    )
    return stacked, attrs


def fit_attrs(obs: pd.DataFrame, steps: pd.DataFrame, data_version: str, forcing: str, seed: int) -> dict[str, object]:
    """Provenance attributes of an ensemble fitted on ``obs`` (filtered by ``steps``): data, forcing, seed, counts."""
    return {
        "data_version": data_version,
        "data_file": readers.SRDB_FILES[data_version],
        "forcing": forcing,
        "seed": seed,
        "n_obs": len(obs),
        "n_sites": int(obs["site"].nunique()),
        "filter_steps": steps.to_json(orient="records"),
        "totals_area": "cell_area_m2 x land_fraction",
    }


def build_ensemble(data_version: str = "v5", forcing: str = "worldclim", seed: int = SEED, verbose: bool = False) -> xr.Dataset:
    """Fit and predict every member (no cache); see :func:`load_ensemble` for the schema."""
    obs, steps = load_observations(data_version, forcing)
    return assemble_ensemble(obs, steps, load_static_05(), load_climatology(forcing), data_version, forcing, seed, verbose)


def assemble_ensemble(
    obs: pd.DataFrame,
    steps: pd.DataFrame,
    static: xr.Dataset,
    climate: xr.Dataset,
    data_version: str,
    forcing: str,
    seed: int = SEED,
    verbose: bool = False,
) -> xr.Dataset:
    """Fit every member on ``obs`` and predict it on ``static``'s land mask: the ensemble Dataset.

    Parameters
    ----------
    obs, steps
        Observations and their filter steps (:func:`globalrs.estimates.inputs.load_observations`).
    static
        ``landcover_group``, ``land_mask``, ``cell_area_m2``, ``land_fraction`` on the climate's
        grid, with the mask's provenance attributes (:func:`globalrs.estimates.inputs.load_static_05`).
    climate
        Monthly climate on the same grid (:func:`globalrs.estimates.inputs.load_climatology`).
    data_version, forcing
        Their names, for provenance.
    seed
        Seed of the stochastic members.
    verbose
        One progress line per member.

    Returns
    -------
    xarray.Dataset
        The gridded-estimates Dataset of :func:`load_ensemble`, one member per registered member.
    """
    t0 = time.perf_counter()
    fitted = fit_members_on(obs, data_version, forcing, seed=seed)
    mask = forcing_land_mask(static, climate)
    rs_annual, attrs = predict_on_mask(fitted, climate, static["landcover_group"], mask, "member", t0 if verbose else None)
    monthly = [predict_member_monthly(fm, climate).where(mask) for fm in fitted.values() if fm.monthly]
    names = list(fitted)
    rs_annual.attrs = {"units": GRID_RS_ANNUAL_UNITS, "long_name": "annual soil respiration"}
    mnames = [n for n in names if member_registry.get(n).is_monthly]
    rs_monthly = xr.concat(monthly, dim="member_monthly").assign_coords(member_monthly=mnames)
    rs_monthly.attrs = {"units": GRID_RS_MONTHLY_UNITS, "long_name": "monthly soil respiration"}
    ds = xr.Dataset(
        {
            "rs_annual": rs_annual,
            "rs_monthly": rs_monthly,
            "land_mask": mask,
            "cell_area_m2": static["cell_area_m2"],
            "land_fraction": static["land_fraction"],
        }
    )
    ds["rs_annual"].attrs = {"units": GRID_RS_ANNUAL_UNITS, "long_name": "annual soil respiration"}
    ds["rs_monthly"].attrs = {"units": GRID_RS_MONTHLY_UNITS, "long_name": "monthly soil respiration"}
    ds.attrs.update(attrs)
    ds.attrs.update(fit_attrs(obs, steps, data_version, forcing, seed))
    ds.attrs.update(
        {
            "title": "Standardized-protocol soil respiration ensemble",
            "mask_cells_removed_per_step": static.attrs["mask_cells_removed_per_step"],
            "land_mask_rule": static.attrs["land_mask_rule"],
            "cells_without_forcing": int(mask.attrs["cells_without_forcing"]),
            "land_area_mkm2": land_area_mkm2(static["cell_area_m2"], static["land_fraction"], mask),
            "member_descriptions": json.dumps({n: member_registry.get(n).description for n in names}),
            "code": "globalrs.estimates.ensemble.build_ensemble",
        }
    )
    return validate_gridded(ds)


def load_ensemble(data_version: str = "v5", forcing: str = "worldclim", refresh: bool = False) -> xr.Dataset:
    """The standardized-protocol ensemble on the 0.5-degree grid, cached as NetCDF.

    Parameters
    ----------
    data_version
        ``"v5"`` (SRDB-V5) or ``"v2022"`` (SRDB 2022-10-09 update).
    forcing
        ``"worldclim"`` or ``"udel"`` (see :func:`globalrs.estimates.inputs.load_climatology`).
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
    key = cache_key(
        "ensemble",
        MODEL_VERSION,
        input_names(data_version),
        data_version=data_version,
        forcing=forcing,
        seed=SEED,
        **member_registry.cache_params(),
    )
    path = cache_path("ensemble", f"ensemble-{data_version}-{forcing}", key)
    return cached_build(
        path,
        lambda: build_ensemble(data_version, forcing),
        read_gridded,
        lambda ds, target: write_gridded(ds, target, key),
        refresh=refresh,
    )


def ensemble_totals_pg(ds: xr.Dataset, var: str = "rs_annual") -> xr.DataArray:
    """Global totals (Pg C yr-1) of every member: flux x cell area x land fraction on the mask."""
    return global_total_pg(ds[var], area_m2=ds["cell_area_m2"] * ds["land_fraction"], mask=ds["land_mask"])


def monthly_totals_pg(ds: xr.Dataset) -> xr.DataArray:
    """Global monthly totals (Pg C month-1) of ``rs_monthly``: flux x cell area x land fraction."""
    rs = ds["rs_monthly"]
    if rs.attrs.get("units") != GRID_RS_MONTHLY_UNITS:
        raise ValueError(f"rs_monthly must be in {GRID_RS_MONTHLY_UNITS}, got {rs.attrs.get('units')!r}")
    inside = ds["land_mask"].astype(bool)
    if int((rs.isnull() & inside).sum()):
        raise ValueError("rs_monthly has NaN inside the land mask")
    weight = ds["cell_area_m2"] * ds["land_fraction"]
    total = (rs.where(inside) * weight).sum(("lat", "lon")) / G_PER_PG
    total.attrs = {"units": "Pg C month-1"}
    return total.rename("total_pg_c_month")
