"""Process models against data: CMIP6 and other model heterotrophic respiration (rh).

Offline sources (registry):

* ``cmip6-hector/CMIP6_annual_rh_land.csv``: annual land rh per model / experiment / member,
  already in Pg C yr-1; ``cmip6-hector/tas_land/*.csv``: annual land-mean near-surface air
  temperature (K) of the first member of each historical model.
* ``cmip6-cmipcarbon/rh_global_1980-2015.csv``: annual global rh of 15 models whose ``units``
  column is wrong. The factor to Pg C yr-1 is *derived* here (:func:`derive_cmipcarbon_factor`)
  from the models and members both sets share, and reported with its residual.
* ``landmodels/*_pool_flux_2000-2010_mean.nc``: 2000-2010 mean rh of three soil-carbon models
  (CASA-CNP ``cresp``, MIMICS ``cHresp``, CORPSE ``Soil_CO2``) in g C m-2 day-1 per m2 of land,
  with per-cell land area ``landarea`` (km2).

Online source: CMIP6 gridded ``rh`` (Lmon, kg m-2 s-1) with ``areacella`` and ``sftlf`` from the
public Pangeo CMIP6 Zarr catalogue (intake-esm), see :func:`load_cmip6_gridded_rh`.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import tempfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.data import fetch, load_registry

HECTOR_RH = "cmip6-hector/CMIP6_annual_rh_land.csv"
TAS_LAND_DIR = "cmip6-hector/tas_land/"
CMIPCARBON_RH = "cmip6-cmipcarbon/rh_global_1980-2015.csv"
LANDMODEL_FILES = {
    "CASA-CNP": ("landmodels/casaclm_pool_flux_2000-2010_mean.nc", "cresp"),
    "MIMICS": ("landmodels/mimics_pool_flux_2000-2010_mean.nc", "cHresp"),
    "CORPSE": ("landmodels/corpse_pool_flux_2000-2010_mean.nc", "Soil_CO2"),
}
PANGEO_CMIP6_CATALOG = "https://storage.googleapis.com/cmip6/pangeo-cmip6.json"
DAYS_PER_YEAR = 365.0
SECONDS_PER_YEAR = DAYS_PER_YEAR * 86400.0

_PG_UNITS = {"Pg/yr", "Pg C yr-1", "PgC/yr", "Pg C/yr"}


# --------------------------------------------------------------------------------------------
# Annual global series
# --------------------------------------------------------------------------------------------


def read_cmip6_annual_rh(experiment: str = "historical") -> pd.DataFrame:
    """Read CMIP6 annual land heterotrophic respiration (cmip6-hector) for one experiment.

    Parameters
    ----------
    experiment
        CMIP6 experiment id, e.g. ``"historical"``, ``"esm-hist"``, ``"ssp585"``.

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``member``, ``year`` (int), ``rh_pg_c_yr`` (float, Pg C yr-1), sorted.

    Raises
    ------
    ValueError
        If the experiment is absent, a unit other than Pg C yr-1 appears, or rows are duplicated.
    """
    raw = pd.read_csv(fetch(HECTOR_RH))
    expected = {"model", "experiment", "ensemble", "variable", "year", "value", "units"}
    if not expected <= set(raw.columns):
        raise ValueError(f"{HECTOR_RH}: expected columns {sorted(expected)}, got {list(raw.columns)}")
    raw = raw[(raw["variable"] == "rh") & (raw["experiment"] == experiment)]
    if raw.empty:
        raise ValueError(f"{HECTOR_RH}: no rh rows for experiment {experiment!r}")
    bad_units = set(raw["units"].unique()) - _PG_UNITS
    if bad_units:
        raise ValueError(f"{HECTOR_RH}: unexpected units {sorted(bad_units)} (expected Pg/yr)")
    out = pd.DataFrame(
        {
            "model": raw["model"].astype(str).to_numpy(),
            "member": raw["ensemble"].astype(str).to_numpy(),
            "year": raw["year"].astype(int).to_numpy(),
            "rh_pg_c_yr": raw["value"].astype(float).to_numpy(),
        }
    )
    _check_unique(out, ["model", "member", "year"], HECTOR_RH)
    if out["rh_pg_c_yr"].isna().any():
        raise ValueError(f"{HECTOR_RH}: {int(out['rh_pg_c_yr'].isna().sum())} missing rh values")
    return out.sort_values(["model", "member", "year"], ignore_index=True)


def read_cmip6_tas_land() -> pd.DataFrame:
    """Read the annual land-mean near-surface air temperature of the cmip6-hector models.

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``member``, ``year``, ``tas_k`` (K), one file per model (first member).
    """
    names = sorted(n for n in load_registry() if n.startswith(TAS_LAND_DIR) and n.endswith(".csv"))
    if not names:
        raise ValueError(f"no registered files under {TAS_LAND_DIR}")
    frames = []
    for name in names:
        raw = pd.read_csv(fetch(name))
        bad = set(raw["units"].unique()) - {"K"}
        if bad or set(raw["variable"].unique()) != {"tas"}:
            raise ValueError(f"{name}: expected variable 'tas' in K, got {sorted(bad)}")
        frames.append(
            pd.DataFrame(
                {
                    "model": raw["model"].astype(str).to_numpy(),
                    "member": raw["ensemble"].astype(str).to_numpy(),
                    "year": raw["year"].astype(int).to_numpy(),
                    "tas_k": raw["value"].astype(float).to_numpy(),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    _check_unique(out, ["model", "member", "year"], TAS_LAND_DIR)
    if not out["tas_k"].between(200.0, 330.0).all():
        raise ValueError(f"{TAS_LAND_DIR}: land temperature outside 200-330 K; not Kelvin?")
    return out.sort_values(["model", "member", "year"], ignore_index=True)


def read_cmipcarbon_rh_raw() -> pd.DataFrame:
    """Read cmip6-cmipcarbon global rh in its raw (mislabelled) unit.

    The file's ``units`` column says kg m-2 yr-1 but the values are sums over latitude bands of
    unknown unit. They are returned unchanged as ``rh_raw``; calibrate with
    :func:`derive_cmipcarbon_factor`.

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``member``, ``year``, ``rh_raw``.
    """
    raw = pd.read_csv(fetch(CMIPCARBON_RH))
    raw = raw[(raw["variable"] == "rh") & (raw["experiment"] == "historical")]
    out = pd.DataFrame(
        {
            "model": raw["model"].astype(str).to_numpy(),
            "member": raw["ensemble"].astype(str).to_numpy(),
            "year": raw["year"].astype(int).to_numpy(),
            "rh_raw": raw["value"].astype(float).to_numpy(),
        }
    )
    _check_unique(out, ["model", "member", "year"], CMIPCARBON_RH)
    return out.sort_values(["model", "member", "year"], ignore_index=True)


@dataclass(frozen=True)
class Calibration:
    """An empirical unit factor and how well it fits.

    Attributes
    ----------
    factor
        Multiply raw values by this to get Pg C yr-1 (least squares through the origin).
    n_pairs
        Number of matched (model, member, year) pairs used.
    models
        The models both sets share.
    max_abs_rel_residual
        Largest |reference / (factor x raw) - 1| over the pairs.
    rms_rel_residual
        Root-mean-square relative residual.
    pairs
        The matched pairs with columns ``model``, ``member``, ``year``, ``rh_raw``,
        ``rh_pg_c_yr`` (reference), ``ratio`` and ``rel_residual``.
    """

    factor: float
    n_pairs: int
    models: tuple[str, ...]
    max_abs_rel_residual: float
    rms_rel_residual: float
    pairs: pd.DataFrame


def derive_cmipcarbon_factor(raw: pd.DataFrame, reference: pd.DataFrame) -> Calibration:
    """Derive the factor that turns raw cmipcarbon rh into Pg C yr-1 from shared models.

    Pairs are matched on (model, member, year). The factor is the least-squares slope through
    the origin of reference on raw, ``sum(ref * raw) / sum(raw ** 2)``.

    Parameters
    ----------
    raw
        Output of :func:`read_cmipcarbon_rh_raw` (``rh_raw``).
    reference
        Output of :func:`read_cmip6_annual_rh` (``rh_pg_c_yr``).

    Returns
    -------
    Calibration

    Raises
    ------
    ValueError
        If no (model, member, year) is shared.
    """
    pairs = raw.merge(reference, on=["model", "member", "year"], how="inner")
    pairs = pairs[(pairs["rh_raw"] > 0) & np.isfinite(pairs["rh_pg_c_yr"])]
    if pairs.empty:
        raise ValueError("no (model, member, year) is shared by the two sets: cannot calibrate")
    x = pairs["rh_raw"].to_numpy()
    y = pairs["rh_pg_c_yr"].to_numpy()
    factor = float(np.sum(x * y) / np.sum(x * x))
    pairs = pairs.assign(ratio=y / x, rel_residual=y / (factor * x) - 1.0)
    res = pairs["rel_residual"].to_numpy()
    return Calibration(
        factor=factor,
        n_pairs=len(pairs),
        models=tuple(sorted(pairs["model"].unique())),
        max_abs_rel_residual=float(np.max(np.abs(res))),
        rms_rel_residual=float(np.sqrt(np.mean(res**2))),
        pairs=pairs.reset_index(drop=True),
    )


def read_cmipcarbon_rh(calibration: Calibration | None = None) -> pd.DataFrame:
    """Read cmip6-cmipcarbon global rh calibrated to Pg C yr-1.

    Parameters
    ----------
    calibration
        A :class:`Calibration`; derived from the historical cmip6-hector set when omitted.

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``member``, ``year``, ``rh_pg_c_yr``; ``attrs["factor"]`` holds the
        factor used.
    """
    raw = read_cmipcarbon_rh_raw()
    if calibration is None:
        calibration = derive_cmipcarbon_factor(raw, read_cmip6_annual_rh("historical"))
    out = raw.assign(rh_pg_c_yr=raw["rh_raw"] * calibration.factor).drop(columns="rh_raw")
    out.attrs["factor"] = calibration.factor
    return out


def _check_unique(df: pd.DataFrame, keys: list[str], source: str) -> None:
    dup = df.duplicated(keys)
    if dup.any():
        raise ValueError(f"{source}: {int(dup.sum())} duplicated {tuple(keys)} rows")
