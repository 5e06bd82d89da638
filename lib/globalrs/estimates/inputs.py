"""Inputs of the standardized ensemble: climate forcing, static grids (the land mask), observations.

* :func:`load_climatology` - monthly climate on the 0.5-degree grid (WorldClim, or UDel annual
  means with WorldClim's seasonal shape);
* :func:`load_static_05` - the land mask, land fraction, land-cover groups and cell areas shared by
  every member (the land mask is defined here and nowhere else);
* :func:`load_observations` / :func:`load_monthly_observations` - filtered SRDB / MGRsD records
  with covariates read at each site from the same grids the prediction uses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.core.grid import cell_area_m2, make_grid, sample_at_sites
from globalrs.core.units import DAYS_IN_MONTH
from globalrs.estimates import filters
from globalrs.sources import readers

DATA_VERSIONS = tuple(readers.SRDB_FILES)
FORCINGS = ("worldclim", "udel")
#: The land every estimate integrates over, stated once (chapters show it with the land area).
LAND_MASK_RULE = (
    "0.5-degree cells with a land fraction above zero, WorldClim climate in all 12 months (60S-90N) and a "
    "MODIS majority land cover other than water and permanent snow/ice (ice-covered land is outside every "
    "estimate); totals use cell area x land fraction"
)


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


def rescale_to_annual(
    tmean_c: xr.DataArray, prec_mm_month: xr.DataArray, mat_c: xr.DataArray, map_mm: xr.DataArray
) -> tuple[xr.DataArray, xr.DataArray]:
    """Give a monthly climatology new annual means while keeping its seasonal shape.

    ``T_m' = T_m - mean(T) + MAT`` and ``P_m' = P_m x MAP / sum(P)`` (``MAP / 12`` per month
    where ``sum(P) = 0``). Cells where either input is missing are NaN.
    """
    tmean = tmean_c - tmean_c.mean("month") + mat_c
    total = prec_mm_month.sum("month", min_count=prec_mm_month.sizes["month"])
    share = xr.where(total > 0, prec_mm_month / total, 1.0 / prec_mm_month.sizes["month"])
    prec = (share * map_mm).where(prec_mm_month.notnull() & map_mm.notnull())
    return tmean.where(mat_c.notnull()), prec


CLIMATE_UNITS = {"tmean_c": ("deg C", "degC", "°C", "C"), "prec_mm_month": ("mm month-1", "mm", "mm/month")}


def check_climate(climate: xr.Dataset) -> None:
    """Raise a clear error unless ``climate`` looks like :func:`load_climatology` output.

    Checks: both variables present with ``(month, lat, lon)`` dimensions and 12 months;
    ``units`` attributes, where present, are deg C and mm month-1; temperatures are within
    -90..60 deg C (a Kelvin or tenths-of-degree grid fails); precipitation is not negative.
    """
    for var, allowed in CLIMATE_UNITS.items():
        if var not in climate:
            raise ValueError(f"climate is missing {var!r} (has {sorted(map(str, climate.data_vars))})")
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


def load_static_05() -> xr.Dataset:
    """Static 0.5-degree grids (a fresh copy of a per-process cache); see :func:`build_static_05`."""
    return _static_cached().copy(deep=True)


@lru_cache(maxsize=1)
def _static_cached() -> xr.Dataset:
    return build_static_05()


def build_static_05() -> xr.Dataset:
    """Static 0.5-degree grids shared by every member: land mask, land fraction, land cover, area.

    The land mask (:data:`LAND_MASK_RULE`) does not depend on the forcing: a run whose forcing lacks
    climate in some of its cells (UDel) leaves those cells out of that run only
    (:func:`forcing_land_mask`).

    Returns
    -------
    xarray.Dataset
        ``land_mask`` bool, ``land_fraction`` (0-1), ``landcover_group`` (int8 index into
        :data:`globalrs.sources.readers.LANDCOVER_GROUPS`), ``cell_area_m2``. Attributes count the land
        cells each mask condition removes and state the rule.
    """
    lat, lon = make_grid(0.5)
    wc_t = readers.read_worldclim_monthly_05("tmean")
    wc_p = readers.read_worldclim_monthly_05("prec")
    frac = readers.read_land_fraction_05()
    lc = readers.read_landcover_group_05()
    snow = readers.LANDCOVER_GROUPS.index("snow_ice")
    conditions = {
        "land fraction > 0": (frac > 0).values,
        "WorldClim climate (all 12 months)": (wc_t.notnull().all("month") & wc_p.notnull().all("month")).values,
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
        attrs={
            "mask_cells_removed_per_step": json.dumps(removed),
            "land_mask_rule": LAND_MASK_RULE,
            "landcover_groups": ",".join(readers.LANDCOVER_GROUPS),
        },
    )
    ds["landcover_group"].attrs = {"groups": ",".join(readers.LANDCOVER_GROUPS)}
    return ds


def forcing_land_mask(static: xr.Dataset, climate: xr.Dataset) -> xr.DataArray:
    """The land mask of one run: the static land mask where the forcing has climate in all months.

    With WorldClim forcing this is the static mask itself; UDel has no value in some coastal and
    island cells, which are then outside that run only.

    Parameters
    ----------
    static
        From :func:`load_static_05`.
    climate
        From :func:`load_climatology`.

    Returns
    -------
    xarray.DataArray
        ``(lat, lon)`` bool; ``attrs["cells_without_forcing"]`` counts the static-mask cells the
        forcing leaves out.
    """
    complete = climate["tmean_c"].notnull().all("month") & climate["prec_mm_month"].notnull().all("month")
    static_mask = static["land_mask"].astype(bool)
    mask = (static_mask & complete).rename("land_mask")
    mask.attrs = {
        "cells_without_forcing": int((static_mask & ~complete).sum()),
        "forcing": str(climate.attrs.get("forcing", "")),
    }
    return mask


def site_id(lat, lon) -> np.ndarray:
    """Site identifier from coordinates rounded to 0.01 degree (records at one site share it)."""
    return np.char.add(
        np.char.add(np.round(np.asarray(lat, float), 2).astype(str), "_"), np.round(np.asarray(lon, float), 2).astype(str)
    )


def spatial_block(lat, lon, block_deg: float = 10.0) -> np.ndarray:
    """Integer id of the ``block_deg`` x ``block_deg`` block containing each site."""
    i = np.floor((np.asarray(lat, float) + 90.0) / block_deg).astype(int)
    j = np.floor((np.asarray(lon, float) + 180.0) / block_deg).astype(int)
    return i * 1000 + j


def sample_site_covariates(lat, lon, climate: xr.Dataset, landcover: xr.DataArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    t = sample_at_sites(climate["tmean_c"], lat, lon)
    p = sample_at_sites(climate["prec_mm_month"], lat, lon)
    lc = sample_at_sites(landcover, lat, lon)
    ok = np.isfinite(t).all(axis=1) & np.isfinite(p).all(axis=1) & (lc >= 0)
    if (~ok).any():
        bad = list(zip(np.asarray(lat, float)[~ok][:3], np.asarray(lon, float)[~ok][:3], strict=True))
        raise ValueError(f"{int((~ok).sum())} site(s) lack a covariate in their grid cell, e.g. {bad}")
    return t, p, lc.astype(int)


def observation_table(
    kept: pd.DataFrame,
    climate: xr.Dataset,
    landcover: xr.DataArray,
    responses: Mapping[str, np.ndarray],
    *,
    annual: bool = True,
) -> pd.DataFrame:
    """Kept SRDB or MGRsD records as an observation table, the covariates read from the grids.

    Parameters
    ----------
    kept
        Filtered records with ``Latitude`` and ``Longitude`` (and, for annual records,
        ``Study_midyear``).
    climate
        The forcing's monthly climatology (:func:`load_climatology`).
    landcover
        The grid's land-cover group codes.
    responses
        The leading columns (the response and anything that goes with it), one value per record.
    annual
        Annual records (SRDB) carry ``block10`` (the 10-degree block of the blocked CV) and
        ``study_midyear``; monthly ones (MGRsD) do not.

    Returns
    -------
    pandas.DataFrame
        ``responses``, ``lat``, ``lon``, ``site``, [``block10``], ``landcover_group``,
        [``study_midyear``], ``t01..t12`` (deg C) and ``p01..p12`` (mm month-1).
    """
    lat = kept["Latitude"].to_numpy(float)
    lon = kept["Longitude"].to_numpy(float)
    t, p, lc = sample_site_covariates(lat, lon, climate, landcover)
    columns = {**responses, "lat": lat, "lon": lon, "site": site_id(lat, lon)}
    if annual:
        columns["block10"] = spatial_block(lat, lon, 10.0)
    columns["landcover_group"] = lc.astype(int)
    if annual:
        columns["study_midyear"] = pd.to_numeric(kept["Study_midyear"], errors="coerce").to_numpy(float)
    obs = pd.DataFrame(columns)
    for m in range(12):
        obs[f"t{m + 1:02d}"] = t[:, m]
    for m in range(12):
        obs[f"p{m + 1:02d}"] = p[:, m]
    return obs


def load_observations(data_version: str = "v5", forcing: str = "worldclim") -> tuple[pd.DataFrame, pd.DataFrame]:
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
    kept, steps = filters.filter_srdb(raw, land_mask=forcing_land_mask(static, climate))
    obs = observation_table(kept, climate, static["landcover_group"], {"rs_g_m2_yr": kept["Rs_annual"].to_numpy(float)})
    obs.attrs.update(data_version=data_version, forcing=forcing)
    return obs, steps


def observation_period(*tables: pd.DataFrame) -> tuple[int, int]:
    """First and last study year of the records behind an estimate (mid-years, floored).

    Parameters
    ----------
    *tables
        Observation tables with a ``study_midyear`` column (:func:`load_observations`,
        :func:`globalrs.estimates.rh.load_rh_observations`); records without a year are ignored.

    Returns
    -------
    tuple of int
        ``(first, last)`` year.

    Raises
    ------
    ValueError
        If no table is given, a table has no ``study_midyear`` column, or no record has a year.
    """
    if not tables:
        raise ValueError("observation_period needs at least one observation table")
    for table in tables:
        if "study_midyear" not in table.columns:
            raise ValueError(f"observation table without a study_midyear column (columns: {list(table.columns)})")
    years = pd.concat([pd.to_numeric(t["study_midyear"], errors="coerce") for t in tables]).dropna()
    if years.empty:
        raise ValueError("no observation has a study year")
    return int(np.floor(years.min())), int(np.floor(years.max()))


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
    kept, steps = filters.filter_mgrsd(readers.read_mgrsd(), land_mask=forcing_land_mask(static, climate))
    month = kept["Measure_Month"].to_numpy(int)
    responses = {"rs_g_m2_month": kept["Rs_Norm"].to_numpy(float) * DAYS_IN_MONTH[month - 1], "month": month}
    obs = observation_table(kept, climate, static["landcover_group"], responses, annual=False)
    return obs, steps


def monthly_arrays(obs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``(n, 12)`` temperature and precipitation arrays from an observation table."""
    t = obs[[f"t{m:02d}" for m in range(1, 13)]].to_numpy(float)
    p = obs[[f"p{m:02d}" for m in range(1, 13)]].to_numpy(float)
    return t, p
