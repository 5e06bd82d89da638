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
public Pangeo CMIP6 Zarr catalogue (intake-esm), see :func:`load_cmip6_gridded_rh`. That path is
lazy: :func:`open_zarr_store` returns dask-backed arrays in the stores' chunks and
:func:`compute_rh_mean_map` only builds a graph; the ``.load()`` in :func:`load_cmip6_model_map`
runs it on whatever dask scheduler is active. With a ``dask.distributed.Client`` connected (a
``LocalCluster`` or a remote scheduler, ``Client("tcp://scheduler:8786")``) the same calls run on
that cluster unchanged (tested with a two-worker ``LocalCluster``).

Offline gridded CMIP6/CMIP5 rh (Varney et al. 2020) is read by :mod:`globalrs.cmipmaps`; the
Fig. 5 comparison (regional CV of model rh against the data-driven CV, the paper's three claims
judged by stated rules, labelled plot) is at the end of this module.
"""

from __future__ import annotations

import hashlib
import json
import socket
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from globalrs import paper
from globalrs.cache import write_netcdf_atomic
from globalrs.data import fetch, load_registry
from globalrs.exceptions import OnlineUnavailableError
from globalrs.stats import compute_anomaly, linear_trend, temperature_sensitivity
from globalrs.units import DAYS_PER_NOLEAP_YEAR

HECTOR_RH = "cmip6-hector/CMIP6_annual_rh_land.csv"
TAS_LAND_DIR = "cmip6-hector/tas_land/"
CMIPCARBON_RH = "cmip6-cmipcarbon/rh_global_1980-2015.csv"
LANDMODEL_FILES = {
    "CASA-CNP": ("landmodels/casaclm_pool_flux_2000-2010_mean.nc", "cresp"),
    "MIMICS": ("landmodels/mimics_pool_flux_2000-2010_mean.nc", "cHresp"),
    "CORPSE": ("landmodels/corpse_pool_flux_2000-2010_mean.nc", "Soil_CO2"),
}
PANGEO_CMIP6_CATALOG = "https://storage.googleapis.com/cmip6/pangeo-cmip6.json"
DAYS_PER_YEAR = DAYS_PER_NOLEAP_YEAR
#: The common period of the model means and trends (years, inclusive): the paper's 1980-2010
#: window of the data-driven trends and sensitivities.
PERIOD = (1980, 2010)
#: The factor the cmip6-cmipcarbon README states for its values (about, to Pg C yr-1) and how far
#: the derived factor may lie from it (a fraction).
CMIPCARBON_README_FACTOR = 1.53e-10
CMIPCARBON_README_TOLERANCE = 0.005
#: The global totals the landmodels files state ("about 52-55 Pg C yr-1") and the slack (Pg C yr-1)
#: allowed around that rounded statement.
LANDMODELS_STATED_TOTAL_PG = (52.0, 55.0)
LANDMODELS_STATED_SLACK_PG = 0.5
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


# --------------------------------------------------------------------------------------------
# Global statistics across models
# --------------------------------------------------------------------------------------------


def summarize_period_means(
    df: pd.DataFrame, start: int = PERIOD[0], end: int = PERIOD[1], value: str = "rh_pg_c_yr"
) -> pd.DataFrame:
    """Each model's mean over ``start..end`` (inclusive), members averaged with equal weight.

    Each member's mean over the years it has inside the period is taken first, then the members
    of a model are averaged, so a model with 32 members weighs as much as one with one.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``model``: ``n_members``, ``first_year``, ``last_year``, ``n_years``,
        ``mean_<value>`` and ``member_sd`` (SD across member means; NaN for one member).
    """
    sub = df[(df["year"] >= start) & (df["year"] <= end)]
    if sub.empty:
        raise ValueError(f"no rows between {start} and {end}")
    member_means = sub.groupby(["model", "member"])[value].mean()
    per_model = member_means.groupby("model")
    years = sub.groupby("model")["year"]
    out = pd.DataFrame(
        {
            "n_members": per_model.size(),
            "first_year": years.min(),
            "last_year": years.max(),
            "n_years": years.nunique(),
            f"mean_{value}": per_model.mean(),
            "member_sd": per_model.std(ddof=1),
        }
    )
    out.index.name = "model"
    return out


def intermodel_spread(values: pd.Series | np.ndarray) -> pd.Series:
    """Inter-model mean, sample SD (ddof=1) and coefficient of variation (percent).

    Raises
    ------
    ValueError
        Fewer than two finite values, or a non-positive mean.
    """
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size < 2:
        raise ValueError(f"need at least two values for a spread, got {arr.size}")
    mean = float(arr.mean())
    if mean <= 0:
        raise ValueError(f"coefficient of variation needs a positive mean, got {mean}")
    sd = float(arr.std(ddof=1))
    return pd.Series(
        {"n": arr.size, "mean": mean, "sd": sd, "cv_percent": 100.0 * sd / mean, "min": float(arr.min()), "max": float(arr.max())}
    )


def model_mean_series(df: pd.DataFrame, value: str = "rh_pg_c_yr") -> pd.DataFrame:
    """Average each model's members year by year (members present that year, equal weight)."""
    out = df.groupby(["model", "year"], as_index=False)[value].mean()
    return out.sort_values(["model", "year"], ignore_index=True)


_FIT_COLUMNS = ["slope", "ci_low", "ci_high", "p", "r2", "n", "hac_p", "durbin_watson"]


def compute_model_trends(
    df: pd.DataFrame, start: int = PERIOD[0], end: int = PERIOD[1], value: str = "rh_pg_c_yr"
) -> pd.DataFrame:
    """OLS trend (per year) of each model's member-mean annual series over ``start..end``.

    Returns
    -------
    pandas.DataFrame
        Indexed by model: ``slope`` (units of ``value`` per year, Pg C yr-2 for rh), ``ci_low``,
        ``ci_high`` (95%), ``p`` (two-sided), ``r2``, ``n``, ``hac_p`` (Newey-West) and
        ``durbin_watson``, from :func:`globalrs.stats.linear_trend`.
    """
    series = model_mean_series(df[(df["year"] >= start) & (df["year"] <= end)], value)
    rows = {}
    for model, grp in series.groupby("model"):
        if len(grp) < 3:
            raise ValueError(f"{model}: only {len(grp)} years in {start}-{end}; cannot fit a trend")
        fit = linear_trend(grp["year"].to_numpy(), grp[value].to_numpy(float))
        rows[model] = fit[_FIT_COLUMNS]
    out = pd.DataFrame.from_dict(rows, orient="index")
    out["n"] = out["n"].astype(int)
    out.index.name = "model"
    return out


def compute_temperature_sensitivity(
    rh: pd.DataFrame, tas: pd.DataFrame, start: int = PERIOD[0], end: int = PERIOD[1]
) -> pd.DataFrame:
    """Each model's rh sensitivity to its own land temperature: OLS of rh on tas anomaly.

    rh and tas are matched on (model, member, year) over ``start..end``; the anomaly is tas
    minus its own mean over the matched years (K = degC difference).

    Returns
    -------
    pandas.DataFrame
        Indexed by model: ``member``, ``slope`` (Pg C yr-1 K-1), ``ci_low``, ``ci_high``, ``p``,
        ``r2``, ``n``, ``hac_p``, ``durbin_watson`` (:func:`globalrs.stats.temperature_sensitivity`)
        and ``tas_mean_c`` (mean land temperature, degC).
    """
    both = rh.merge(tas, on=["model", "member", "year"], how="inner")
    both = both[(both["year"] >= start) & (both["year"] <= end)]
    if both.empty:
        raise ValueError("no (model, member, year) shared by rh and tas in the period")
    rows = {}
    for (model, member), grp in both.groupby(["model", "member"]):
        grp = grp.set_index("year")
        anomaly_k = pd.Series(compute_anomaly(grp["tas_k"]), index=grp.index)
        fit = temperature_sensitivity(grp["rh_pg_c_yr"], anomaly_k)
        rows[model] = {"member": member, **fit[_FIT_COLUMNS].to_dict(), "tas_mean_c": float(grp["tas_k"].mean() - 273.15)}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out["n"] = out["n"].astype(int)
    out.index.name = "model"
    return out


# --------------------------------------------------------------------------------------------
# Gridded soil-carbon models (landmodels)
# --------------------------------------------------------------------------------------------


def read_landmodel_rh(model: str) -> xr.Dataset:
    """Read one landmodels file: 2000-2010 mean rh per m2 of land and the land area per cell.

    The files' own comment says "None of the variables are weighted by land fraction": fluxes
    are per m2 of land and ``landarea`` (km2; ice and water 0) is the land area of each cell.
    CORPSE labels ``Soil_CO2`` "g C m-2" (a daily mean): it is read as g C m-2 day-1 like the
    other two, which is checked by the global totals (all three 52-55 Pg C yr-1).

    Parameters
    ----------
    model
        ``"CASA-CNP"``, ``"MIMICS"`` or ``"CORPSE"``.

    Returns
    -------
    xarray.Dataset
        ``rh`` (lat, lon) ``"g C m-2 day-1"`` per m2 of land and ``land_area_m2`` (lat, lon) in
        m2, longitudes -180..180 ascending; NaN where the model has no land cell.
    """
    if model not in LANDMODEL_FILES:
        raise ValueError(f"unknown land model {model!r}; choose from {sorted(LANDMODEL_FILES)}")
    name, var = LANDMODEL_FILES[model]
    with xr.open_dataset(fetch(name)) as ds:
        flux = ds[var].squeeze("time", drop=True).astype("float64").load()
        land_km2 = ds["landarea"].astype("float64").load()
        land_units = ds["landarea"].attrs.get("units")
        flux_units = ds[var].attrs.get("units", "").replace("gC", "g C")
    if land_units not in ("km^2", "km2"):
        raise ValueError(f"{name}: landarea in {land_units!r}, expected km^2")
    if flux_units not in ("g C m-2 day-1", "g C m-2"):
        raise ValueError(f"{name}: {var} units {flux_units!r} not g C m-2 (day-1)")
    if flux.dims != ("lat", "lon"):
        raise ValueError(f"{name}: {var} has dims {flux.dims}, expected (lat, lon)")
    out = xr.Dataset(
        {
            "rh": flux.assign_attrs(
                units="g C m-2 day-1", long_name=f"{model} heterotrophic respiration", per="m2 of land", source_units=flux_units
            ),
            "land_area_m2": (land_km2 * 1e6).assign_attrs(units="m2", long_name="land area of cell"),
        },
        attrs={"model": model, "source": name, "period": "2000-2010 mean"},
    )
    out = out.assign_coords(lon=((out["lon"] + 180.0) % 360.0) - 180.0).sortby("lon")
    out["lat"] = out["lat"].astype("float64")
    out["lon"] = out["lon"].astype("float64")
    return out


def read_landmodels_rh() -> xr.Dataset:
    """The three landmodels on their shared native grid, stacked along ``model``.

    Returns
    -------
    xarray.Dataset
        ``rh`` (model, lat, lon) g C m-2 day-1 per m2 of land; ``land_area_m2`` (lat, lon).
    """
    parts = [read_landmodel_rh(m) for m in LANDMODEL_FILES]
    area = parts[0]["land_area_m2"]
    for p in parts[1:]:
        if not np.allclose(p["lat"], parts[0]["lat"]) or not np.allclose(p["lon"], parts[0]["lon"]):
            raise ValueError("landmodels files are on different grids")
        if not np.allclose(p["land_area_m2"].fillna(0), area.fillna(0), rtol=1e-5):
            raise ValueError("landmodels files disagree on land area")
    rh = xr.concat([p["rh"].assign_coords(lat=parts[0]["lat"], lon=parts[0]["lon"]) for p in parts], dim="model").assign_coords(
        model=np.array(list(LANDMODEL_FILES), dtype="U")
    )
    rh.attrs = {k: v for k, v in parts[0]["rh"].attrs.items() if k != "long_name"}
    rh.attrs["long_name"] = "heterotrophic respiration"
    return xr.Dataset({"rh": rh, "land_area_m2": area}, attrs={"period": "2000-2010 mean"})


def landmodel_global_totals_pg(ds: xr.Dataset) -> pd.Series:
    """Global rh totals (Pg C yr-1) of the landmodels on their native grid (flux x land area)."""
    from globalrs.units import flux_to_total_pg_c_yr

    total = flux_to_total_pg_c_yr(ds["rh"], ds["land_area_m2"])
    return total.to_series().rename("rh_pg_c_yr")


# --------------------------------------------------------------------------------------------
# Online path: CMIP6 gridded rh from the Pangeo CMIP6 intake-esm catalogue
# --------------------------------------------------------------------------------------------


#: bump when the code that computes the cached mean maps changes
_ONLINE_CODE_VERSION = "1"


def check_online(url: str = PANGEO_CMIP6_CATALOG, timeout_s: float = 5.0) -> None:
    """Fail fast with a clear message when ``url``'s host cannot be reached.

    Local paths and ``file://`` URLs pass when the file exists. Nothing is downloaded.

    Raises
    ------
    OnlineUnavailableError
        The host does not answer within ``timeout_s`` seconds, or a local catalogue is missing.
    """
    parsed = urllib.parse.urlparse(str(url))
    if parsed.scheme in ("", "file"):
        path = Path(parsed.path if parsed.scheme == "file" else str(url))
        if not path.exists():
            raise OnlineUnavailableError(f"CMIP6 catalogue {path} does not exist")
        return
    host = parsed.hostname
    port = parsed.port or (443 if parsed.scheme in ("https", "gs") else 80)
    if parsed.scheme == "gs":
        host, port = "storage.googleapis.com", 443
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as err:
        raise OnlineUnavailableError(
            f"cannot reach {host}:{port} within {timeout_s:g} s ({err}). The CMIP6 gridded path "
            "needs internet access; offline, the chapter uses the registered stand-ins "
            "(set GLOBALRS_ENSEMBLE=standardized)."
        ) from err


def open_cmip6_catalog(catalog: str | Path = PANGEO_CMIP6_CATALOG, timeout_s: float = 5.0):
    """Open an intake-esm CMIP6 catalogue (default: the public Pangeo one) after a reachability check.

    Returns
    -------
    intake_esm.esm_datastore
    """
    check_online(str(catalog), timeout_s=timeout_s)
    import intake_esm

    return intake_esm.esm_datastore(str(catalog), progressbar=False)


def _pick_member(members: pd.Series) -> str:
    """Prefer r1i1p1f1, then the lowest realization number."""

    def key(m: str) -> tuple[int, str]:
        digits = "".join(ch for ch in m.split("i")[0] if ch.isdigit())
        return (int(digits) if digits else 10**9, m)

    return sorted(members.unique(), key=key)[0]


def find_rh_stores(
    catalog_df: pd.DataFrame,
    experiment: str = "historical",
    models: list[str] | None = None,
) -> pd.DataFrame:
    """Choose, per model, one historical ``rh`` (Lmon) store with its ``areacella`` and ``sftlf``.

    The rh member is r1i1p1f1 when available, else the lowest realization. Cell area and land
    fraction (table fx) come from the same member and grid when present, else from any
    experiment/member of that model on the same grid. Models lacking one of the three are
    excluded and listed in ``attrs["excluded"]`` (model -> reason), never silently.

    Parameters
    ----------
    catalog_df
        The catalogue table (``esm_datastore.df``) with columns ``source_id``, ``experiment_id``,
        ``member_id``, ``table_id``, ``variable_id``, ``grid_label``, ``zstore``.
    experiment
        Experiment of the rh run.
    models
        Restrict to these ``source_id`` values.

    Returns
    -------
    pandas.DataFrame
        One row per model: ``model``, ``member``, ``grid_label``, ``rh_zstore``,
        ``areacella_zstore``, ``sftlf_zstore``.
    """
    needed = {"source_id", "experiment_id", "member_id", "table_id", "variable_id", "grid_label", "zstore"}
    missing = needed - set(catalog_df.columns)
    if missing:
        raise ValueError(f"catalogue lacks columns {sorted(missing)}")
    df = catalog_df
    rh = df[(df["variable_id"] == "rh") & (df["table_id"] == "Lmon") & (df["experiment_id"] == experiment)]
    candidates = sorted(rh["source_id"].unique()) if models is None else list(models)
    rows, excluded = [], {}
    for model in candidates:
        m_rh = rh[rh["source_id"] == model]
        if m_rh.empty:
            excluded[model] = f"no rh Lmon {experiment}"
            continue
        member = _pick_member(m_rh["member_id"])
        pick = m_rh[m_rh["member_id"] == member].sort_values("grid_label").iloc[0]
        stores = {}
        for var in ("areacella", "sftlf"):
            fx = df[
                (df["source_id"] == model)
                & (df["variable_id"] == var)
                & (df["table_id"] == "fx")
                & (df["grid_label"] == pick["grid_label"])
            ]
            if fx.empty:
                break
            same = fx[(fx["member_id"] == member) & (fx["experiment_id"] == experiment)]
            stores[var] = (same if not same.empty else fx.sort_values(["experiment_id", "member_id"])).iloc[0]["zstore"]
        if len(stores) < 2:
            excluded[model] = f"no {'areacella' if 'areacella' not in stores else 'sftlf'} (fx) on grid {pick['grid_label']}"
            continue
        rows.append(
            {
                "model": model,
                "member": member,
                "grid_label": pick["grid_label"],
                "rh_zstore": pick["zstore"],
                "areacella_zstore": stores["areacella"],
                "sftlf_zstore": stores["sftlf"],
            }
        )
    out = pd.DataFrame(rows, columns=["model", "member", "grid_label", "rh_zstore", "areacella_zstore", "sftlf_zstore"])
    out.attrs["excluded"] = excluded
    return out


def open_zarr_store(zstore: str) -> xr.Dataset:
    """Open a CMIP6 Zarr store (``gs://`` anonymously through gcsfs, or a local path)."""
    kwargs = {}
    if str(zstore).startswith("gs://"):
        try:
            import gcsfs  # noqa: F401
        except ImportError as err:
            raise OnlineUnavailableError("reading gs:// Zarr stores needs the gcsfs package") from err
        kwargs["storage_options"] = {"token": "anon"}
    return xr.open_zarr(str(zstore), consolidated=None, decode_times=xr.coders.CFDatetimeCoder(use_cftime=True), **kwargs)


def _standardize_latlon(da: xr.DataArray) -> xr.DataArray:
    renames = {
        d: n for d, n in (("latitude", "lat"), ("longitude", "lon"), ("nav_lat", "lat"), ("nav_lon", "lon")) if d in da.dims
    }
    da = da.rename(renames)
    if "lat" not in da.dims or "lon" not in da.dims:
        raise ValueError(f"expected a regular lat/lon grid, got dims {da.dims} (curvilinear grids are not supported)")
    da = da.assign_coords(lon=((da["lon"] + 180.0) % 360.0) - 180.0).sortby("lon").sortby("lat")
    drop = [c for c in da.coords if c not in da.dims]
    return da.drop_vars(drop)


def compute_rh_mean_map(rh: xr.DataArray, start_year: int, end_year: int) -> xr.DataArray:
    """Mean of the annual means of monthly ``rh`` over ``start_year..end_year`` (complete years only).

    Months are weighted by their length. Units are unchanged (kg m-2 s-1 per m2 of land).

    Raises
    ------
    ValueError
        If any year of the period lacks one of its 12 months.
    """
    sub = rh.sel(time=slice(f"{start_year}-01-01", f"{end_year}-12-31"))
    years = sub["time"].dt.year
    counts = years.groupby(years).count()
    want = set(range(start_year, end_year + 1))
    complete = {int(y) for y, c in zip(counts[counts.dims[0]].values, counts.values) if c == 12}
    if want - complete:
        raise ValueError(f"rh lacks complete years {sorted(want - complete)} in {start_year}-{end_year}")
    days = sub["time"].dt.days_in_month.astype(float)
    annual = (sub * days).groupby(years).sum("time") / days.groupby(years).sum("time")
    out = annual.mean(annual.dims[0])
    out.attrs = dict(rh.attrs)
    out.attrs["period"] = f"{start_year}-{end_year}"
    return _standardize_latlon(out)


def rh_cell_mean_g_m2_yr(rh_mean: xr.DataArray, sftlf: xr.DataArray) -> xr.DataArray:
    """CMIP ``rh`` (kg m-2 s-1 per m2 of land) -> g C m-2 yr-1 per m2 of cell (x land fraction)."""
    from globalrs.units import convert_flux_density, land_flux_to_cell_mean, land_fraction_from_sftlf

    frac = land_fraction_from_sftlf(_standardize_latlon(sftlf))
    dens = convert_flux_density(rh_mean, "g C m-2 yr-1")
    return land_flux_to_cell_mean(dens.fillna(0.0).where(frac > 0), frac)


def load_cmip6_model_map(row: pd.Series, start_year: int, end_year: int, refresh: bool = False) -> xr.Dataset:
    """One model's period-mean rh on its native grid, cached on disk.

    Returns
    -------
    xarray.Dataset
        ``rh_land`` (lat, lon) g C m-2 yr-1 per m2 of land, ``land_fraction`` (lat, lon) 0..1,
        ``areacella`` (lat, lon) m2, and attr ``total_pg_c_yr`` (rh x areacella x land fraction).
    """
    from globalrs.config import get_cache_dir
    from globalrs.units import convert_flux_density, flux_to_total_pg_c_yr, land_fraction_from_sftlf

    key = hashlib.sha256(
        json.dumps(
            [row["rh_zstore"], row["areacella_zstore"], row["sftlf_zstore"], start_year, end_year, _ONLINE_CODE_VERSION]
        ).encode()
    ).hexdigest()[:16]
    path = get_cache_dir() / "cmip6" / f"rh_{row['model']}_{start_year}-{end_year}_{key}.nc"
    if path.exists() and not refresh:
        with xr.open_dataset(path) as cached:
            return cached.load()
    rh = open_zarr_store(row["rh_zstore"])["rh"]
    if rh.attrs.get("units") not in ("kg m-2 s-1",):
        raise ValueError(f"{row['model']}: rh units {rh.attrs.get('units')!r}, expected kg m-2 s-1")
    mean = compute_rh_mean_map(rh, start_year, end_year).load()
    area = _standardize_latlon(open_zarr_store(row["areacella_zstore"])["areacella"]).load()
    frac = land_fraction_from_sftlf(_standardize_latlon(open_zarr_store(row["sftlf_zstore"])["sftlf"]).load())
    area.attrs["units"] = "m2"
    total = float(flux_to_total_pg_c_yr(mean, area, frac))
    out = xr.Dataset(
        {"rh_land": convert_flux_density(mean, "g C m-2 yr-1").where(frac > 0), "land_fraction": frac, "areacella": area},
        attrs={
            "model": row["model"],
            "member": row["member"],
            "period": f"{start_year}-{end_year}",
            "total_pg_c_yr": total,
            "rh_zstore": row["rh_zstore"],
        },
    )
    write_netcdf_atomic(out, path)
    return out


def load_cmip6_gridded_rh(
    catalog: str | Path = PANGEO_CMIP6_CATALOG,
    experiment: str = "historical",
    start_year: int = 2000,
    end_year: int = 2010,
    models: list[str] | None = None,
    timeout_s: float = 5.0,
    refresh: bool = False,
    progress: bool = True,
) -> tuple[dict[str, xr.Dataset], pd.DataFrame]:
    """CMIP6 gridded rh period means (native grids) for every model with rh, areacella and sftlf.

    Returns
    -------
    maps : dict
        model -> :func:`load_cmip6_model_map` Dataset.
    chosen : pandas.DataFrame
        The stores used (:func:`find_rh_stores`); ``attrs["excluded"]`` maps every model left out
        (missing fields, or a map that could not be used: curvilinear grid, wrong units,
        incomplete period) to the reason.

    Raises
    ------
    OnlineUnavailableError
        The catalogue (or its stores) cannot be reached; raised within ``timeout_s`` seconds.
    """
    cat = open_cmip6_catalog(catalog, timeout_s=timeout_s)
    chosen = find_rh_stores(cat.df, experiment=experiment, models=models)
    if chosen.empty:
        raise ValueError(f"no model in {catalog} has rh + areacella + sftlf for {experiment}")
    maps = {}
    excluded = dict(chosen.attrs.get("excluded", {}))
    for i, row in enumerate(chosen.itertuples(index=False), start=1):
        if progress:
            print(f"CMIP6 rh {i}/{len(chosen)}: {row.model} {row.member}", file=sys.stdout, flush=True)
        try:
            maps[row.model] = load_cmip6_model_map(pd.Series(row._asdict()), start_year, end_year, refresh=refresh)
        except (ValueError, KeyError) as err:  # unusable grid, units or period: counted, not hidden
            excluded[row.model] = f"unusable: {err}"
    chosen = chosen[chosen["model"].isin(list(maps))].reset_index(drop=True)
    chosen.attrs["excluded"] = excluded
    if not maps:
        raise ValueError(f"no usable CMIP6 rh map; exclusions: {excluded}")
    return maps, chosen


def combine_cmip6_sets(hector: pd.DataFrame, cmipcarbon: pd.DataFrame) -> pd.DataFrame:
    """One table of CMIP6 global rh from both offline sets, each model once.

    Models in both sets are taken from cmip6-hector (native Pg C yr-1, no calibration); the
    others from cmip6-cmipcarbon (calibrated). A ``source`` column says which.

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``member``, ``year``, ``rh_pg_c_yr``, ``source``.
    """
    cols = ["model", "member", "year", "rh_pg_c_yr"]
    a = hector[cols].assign(source="cmip6-hector")
    b = cmipcarbon.loc[~cmipcarbon["model"].isin(set(a["model"])), cols].assign(source="cmip6-cmipcarbon (calibrated)")
    return pd.concat([a, b], ignore_index=True).sort_values(["model", "member", "year"], ignore_index=True)


# --------------------------------------------------------------------------------------------
# Gridded models on the common grid (regional comparison)
# --------------------------------------------------------------------------------------------


def harmonize_model_maps(
    rh_land: xr.DataArray | dict[str, xr.DataArray],
    land_mask: xr.DataArray,
    land_fraction: xr.DataArray,
    resolution_deg: float = 0.5,
) -> xr.Dataset:
    """Put gridded model rh (flux per m2 of land) on the book's grid, one member per model.

    Each model goes through :func:`globalrs.harmonize.harmonize_to_grid` with ``fill="mean"``
    (the mean flux per m2 of land over the covered part of each target cell): the same
    flux-per-land-area footing as the data-driven members, whose totals use cell area x land
    fraction on the land mask. Cells of ``land_mask`` without a value in every model are
    removed from the returned ``land_mask`` and counted in ``attrs["n_mask_cells_without_model"]``.

    Parameters
    ----------
    rh_land
        (model, lat, lon) DataArray, or a dict model -> (lat, lon) DataArray (models on their own
        native grids); flux per m2 of land with a ``units`` attribute, NaN where there is no land.
    land_mask, land_fraction
        (lat, lon) on the target grid (from the data-driven ensemble).

    Returns
    -------
    xarray.Dataset
        Schema of :func:`globalrs.ensemble.load_ensemble`: ``rs_annual`` (member, lat, lon)
        g C m-2 yr-1, NaN outside ``land_mask``; ``land_mask``; ``cell_area_m2``;
        ``land_fraction``; coordinate ``method_family`` ("Process model") along ``member``.
    """
    from globalrs.harmonize import harmonize_to_grid

    if isinstance(rh_land, xr.DataArray):
        if "model" not in rh_land.dims:
            raise ValueError(f"rh_land needs a 'model' dimension, got {rh_land.dims}")
        rh_land = {str(m): rh_land.sel(model=m, drop=True).assign_attrs(rh_land.attrs) for m in rh_land["model"].values}
    if not rh_land:
        raise ValueError("no model maps given")
    parts = []
    for model, field in rh_land.items():
        h = harmonize_to_grid(field, resolution_deg=resolution_deg, fill="mean")
        parts.append(h["rs_annual"])
        area = h["cell_area_m2"]
    rs = xr.concat(parts, dim="member").assign_coords(member=np.asarray(list(rh_land), dtype="U"))
    if not (np.allclose(rs["lat"], land_mask["lat"]) and np.allclose(rs["lon"], land_mask["lon"])):
        raise ValueError("land_mask is not on the harmonized grid")
    land_mask = land_mask.astype(bool)
    valid_all = rs.notnull().all("member")
    mask = land_mask & valid_all
    out = xr.Dataset(
        {
            "rs_annual": rs.where(mask).assign_attrs(units="g C m-2 yr-1", long_name="heterotrophic respiration"),
            "land_mask": mask,
            "cell_area_m2": area,
            "land_fraction": land_fraction,
        },
        attrs={
            "n_mask_cells_without_model": int((land_mask & ~valid_all).sum()),
            "n_mask_cells": int(land_mask.sum()),
            "totals_area": "cell_area_m2 x land_fraction",
        },
    )
    return out.assign_coords(method_family=("member", ["Process model"] * rs.sizes["member"]))


def landmodels_on_grid(land_mask: xr.DataArray, land_fraction: xr.DataArray) -> xr.Dataset:
    """The three soil-carbon models (CASA-CNP, MIMICS, CORPSE) on the common grid.

    Cells whose ``landarea`` is 0 (ice, water) are set to NaN before regridding.
    """
    ds = read_landmodels_rh()
    rh = ds["rh"].where(ds["land_area_m2"] > 0)
    out = harmonize_model_maps(rh, land_mask, land_fraction)
    out.attrs["source"] = "landmodels (CASA-CNP, MIMICS, CORPSE), 2000-2010 mean"
    return out


def cmip6_maps_on_grid(maps: dict[str, xr.Dataset], land_mask: xr.DataArray, land_fraction: xr.DataArray) -> xr.Dataset:
    """CMIP6 period-mean maps from :func:`load_cmip6_gridded_rh` (native grids) on the common grid."""
    out = harmonize_model_maps({m: ds["rh_land"] for m, ds in maps.items()}, land_mask, land_fraction)
    out.attrs["source"] = "CMIP6 historical rh (Pangeo CMIP6 catalogue)"
    return out


# --------------------------------------------------------------------------------------------
# Fig. 5: regional inter-model CV of model rh against the data-driven CV
# --------------------------------------------------------------------------------------------

#: The paper's three Fig. 5 claims (their text lives in :mod:`globalrs.paper`).
FIG5_CLAIMS = {
    key: paper.get_claim(claim_id).quote
    for key, claim_id in (("twice", "cmip6.cv_ratio"), ("b2_c2", "cmip6.b2_c2_higher"), ("c5", "cmip6.c5_similar"))
}
#: "about twice": median regional CV of the models / median regional CV of the data within the
#: paper claim's tolerance (2 +- 0.5: the ratios that round to 2)
TWICE_RANGE = (
    paper.paper_value("cmip6.cv_ratio") - paper.get_claim("cmip6.cv_ratio").tolerance,
    paper.paper_value("cmip6.cv_ratio") + paper.get_claim("cmip6.cv_ratio").tolerance,
)
#: "same magnitude": the C5 CV ratio (models / data) inside this range
SAME_MAGNITUDE_RANGE = (2.0 / 3.0, 1.5)


def regional_totals_by_model_pg(
    rh_g_m2_yr: xr.DataArray,
    cell_area_m2: xr.DataArray,
    land_fraction: xr.DataArray,
    land_mask: xr.DataArray,
    weights: xr.DataArray | None = None,
) -> xr.DataArray:
    """Regional totals (Pg C yr-1) of each model's rh on the 0.5-degree grid.

    A land cell of ``land_mask`` where a model has no value (its own land-sea mask has no land
    there) contributes nothing to that model: the model's own land, as in its global total.

    Parameters
    ----------
    rh_g_m2_yr
        (model, lat, lon) flux per m2 of land, g C m-2 yr-1 (:func:`globalrs.cmipmaps.load_rh_maps_05`).
    cell_area_m2, land_fraction, land_mask
        (lat, lon) fields of the same grid.
    weights
        Region weights (:func:`globalrs.regions.region_weights`; computed when omitted).

    Returns
    -------
    xarray.DataArray
        (model, region) totals in Pg C yr-1.
    """
    from globalrs import regions

    if weights is None:
        weights = regions.region_weights(rh_g_m2_yr["lat"].values, rh_g_m2_yr["lon"].values)
    if rh_g_m2_yr.attrs.get("units") not in (None, "g C m-2 yr-1"):
        raise ValueError(f"expected rh in g C m-2 yr-1, got {rh_g_m2_yr.attrs.get('units')!r}")
    mask = land_mask.astype(bool)
    flux = rh_g_m2_yr.fillna(0.0).assign_attrs(units="g C m-2 yr-1")  # no model land: no flux
    return regions.regional_totals_pg(flux, weights=weights, area_m2=cell_area_m2 * land_fraction, mask=mask)


def regional_cv_percent(totals: xr.DataArray, dim: str) -> pd.DataFrame:
    """:func:`globalrs.regions.regional_cv` across ``dim`` with the CV and its interval in percent."""
    from globalrs import regions

    table = regions.regional_cv(totals, dim=dim)
    return table.assign(
        cv_percent=100 * table["cv"], cv_low_percent=100 * table["cv_low"], cv_high_percent=100 * table["cv_high"]
    )


def cv_change_table(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Regional CV of two model generations side by side (e.g. CMIP5 -> CMIP6) and the change.

    Returns
    -------
    pandas.DataFrame
        Indexed by region: ``cv_before_percent``, ``cv_after_percent``, ``change_points``
        (after - before, percentage points), ``flux_before_pg``, ``flux_after_pg``.
    """
    if list(before.index) != list(after.index):
        raise ValueError("the two tables do not cover the same regions in the same order")
    return pd.DataFrame(
        {
            "cv_before_percent": before["cv_percent"],
            "cv_after_percent": after["cv_percent"],
            "change_points": after["cv_percent"] - before["cv_percent"],
            "flux_before_pg": before["mean_pg"],
            "flux_after_pg": after["mean_pg"],
        }
    )


def judge_fig5_claims(models: pd.DataFrame, data: pd.DataFrame) -> pd.DataFrame:
    """Judge the paper's three Fig. 5 claims from two regional CV tables.

    Rules (stated so that a reader can disagree with them):

    * "twice": the ratio of the median regional CVs, median CV(models) / median CV(data), lies in
      :data:`TWICE_RANGE` (the ratios that round to 2); above 1 but outside it is "models higher,
      but not about twice"; at most 1 is "not supported";
    * "B2 and C2 higher for CMIP6": CV(models) > CV(data) in both B2 and C2;
    * "C5 same magnitude": CV(models) / CV(data) in C5 lies in :data:`SAME_MAGNITUDE_RANGE`.

    Parameters
    ----------
    models, data
        :func:`regional_cv_percent` tables (index = region codes, column ``cv_percent``).

    Returns
    -------
    pandas.DataFrame
        Indexed by claim key: ``claim`` (the paper's words), ``rule``, ``computed`` (the numbers
        behind the verdict), ``verdict``.
    """
    ratio = models["cv_percent"] / data.loc[models.index, "cv_percent"]
    median_ratio = float(models["cv_percent"].median() / data["cv_percent"].median())
    lo, hi = TWICE_RANGE
    if lo <= median_ratio <= hi:
        twice = "supported"
    elif median_ratio > 1:
        twice = "models higher, but not about twice"
    else:
        twice = "not supported"
    b2c2 = {r: (float(models.loc[r, "cv_percent"]), float(data.loc[r, "cv_percent"])) for r in ("B2", "C2")}
    n_higher = sum(m > d for m, d in b2c2.values())
    b2c2_verdict = {2: "supported", 1: "partly supported (one of the two)", 0: "not supported"}[n_higher]
    c5_ratio = float(ratio.loc["C5"])
    slo, shi = SAME_MAGNITUDE_RANGE
    c5_verdict = (
        "supported"
        if slo <= c5_ratio <= shi
        else ("not supported (models higher)" if c5_ratio > shi else "not supported (models lower)")
    )
    rows = {
        "twice": (
            f"median regional CV of the models / that of the data in [{lo:g}, {hi:g}]",
            f"ratio {median_ratio:.2f} (median regional CV: models {models['cv_percent'].median():.1f} %, "
            f"data {data['cv_percent'].median():.1f} %; median of the 14 regional ratios "
            f"{float(ratio.median()):.2f})",
            twice,
        ),
        "b2_c2": (
            "CV models > CV data in both B2 and C2",
            "; ".join(f"{r}: {m:.1f} % vs {d:.1f} %" for r, (m, d) in b2c2.items()),
            b2c2_verdict,
        ),
        "c5": (
            f"C5 CV ratio models/data in [{slo:.2f}, {shi:g}]",
            f"C5: {models.loc['C5', 'cv_percent']:.1f} % vs {data.loc['C5', 'cv_percent']:.1f} % (ratio {c5_ratio:.2f})",
            c5_verdict,
        ),
    }
    out = pd.DataFrame.from_dict(rows, orient="index", columns=["rule", "computed", "verdict"])
    out.insert(0, "claim", [FIG5_CLAIMS[k] for k in out.index])
    out.attrs["median_ratio"] = median_ratio
    out.attrs["c5_ratio"] = c5_ratio
    return out


def _text_box(ann, renderer):
    """Display-space box of an annotation's text alone (without its leader line)."""
    from matplotlib.text import Text

    return Text.get_window_extent(ann, renderer)


def place_labels(
    ax,
    xs,
    ys,
    labels,
    color="0.2",
    fontsize: float = 7.0,
    bold: tuple[str, ...] = (),
    avoid: list | None = None,
    max_radius_pt: float = 40.0,
) -> list:
    """Annotate points with labels that do not overlap each other (greedy placement).

    Each label tries offsets on growing rings around its point (8 directions, 4 to
    ``max_radius_pt`` points) and takes the first whose box lies inside the axes and overlaps no
    label already placed and no box in ``avoid`` (outside the axes only if nothing inside is
    free); a leader line is drawn when it moved away from its point. A label that finds no free
    place keeps the last try and gets ``overlapping = True``.

    Returns
    -------
    list of matplotlib.text.Annotation
        The labels; ``len([a for a in out if a.overlapping])`` counts those without a free place.
    """
    from matplotlib.transforms import Bbox

    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    placed = list(avoid or [])
    frame = ax.get_window_extent(renderer)  # labels stay inside the axes when they can
    px_per_pt = fig.dpi / 72.0
    out = []
    directions = [(1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1)]
    radii = np.arange(4.0, max_radius_pt + 1e-9, 4.0)
    for x, y, label in zip(xs, ys, labels):
        weight = "bold" if label in bold else "normal"
        # the label's size in pixels, measured once; candidate boxes are then computed directly
        probe = ax.text(0, 0, str(label), fontsize=fontsize, fontweight=weight)
        size = _text_box(probe, renderer)
        w, h = size.width, size.height
        probe.remove()
        px, py = ax.transData.transform((x, y))
        chosen, free = None, False
        for need_inside in (True, False):  # inside the axes if possible, else anywhere free
            for r in radii:
                for dx, dy in directions:
                    ox, oy = px + dx * r * px_per_pt, py + dy * r * px_per_pt
                    x0 = ox if dx > 0 else (ox - w if dx < 0 else ox - w / 2)
                    y0 = oy if dy > 0 else (oy - h if dy < 0 else oy - h / 2)
                    box = Bbox.from_bounds(x0, y0, w, h).expanded(1.05, 1.1)
                    inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
                    chosen = (dx, dy, r, box)
                    if (inside or not need_inside) and not any(box.overlaps(b) for b in placed):
                        free = True
                        break
                if free:
                    break
            if free:
                break
        dx, dy, r, box = chosen
        arrow = {"arrowstyle": "-", "color": color, "lw": 0.5, "alpha": 0.7} if r > 8.0 else None
        ann = ax.annotate(
            str(label),
            (x, y),
            xytext=(dx * r, dy * r),
            textcoords="offset points",
            fontsize=fontsize,
            color=color,
            fontweight=weight,
            ha="left" if dx > 0 else ("right" if dx < 0 else "center"),
            va="bottom" if dy > 0 else ("top" if dy < 0 else "center"),
            arrowprops=arrow,
        )
        ann.overlapping = not free
        placed.append(box)
        out.append(ann)
    return out


def plot_regional_cv(
    tables: dict[str, pd.DataFrame],
    ax=None,
    highlight: tuple[str, ...] = paper.HIGH_CV_REGIONS,
    markers: tuple[str, ...] = ("o", "s", "^", "D"),
    colors: tuple[str, ...] = ("0.25", "tab:red", "tab:blue", "tab:green"),
):
    """Fig. 5 layout: regional CV (%) against regional flux (Pg C yr-1), every point labelled.

    Labels are placed by :func:`place_labels` so that none overlap (B2 and C2, B1 and B3 sit close
    together in the paper's figure).

    Parameters
    ----------
    tables
        Label -> :func:`regional_cv_percent` table (``mean_pg``, ``cv_percent``).
    """
    import matplotlib.pyplot as plt
    from matplotlib.transforms import Bbox

    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 5.5))
    for i, (label, table) in enumerate(tables.items()):
        missing = {"mean_pg", "cv_percent"} - set(table.columns)
        if missing:
            raise ValueError(f"{label}: columns {sorted(missing)} missing")
        ax.scatter(
            table["mean_pg"],
            table["cv_percent"],
            marker=markers[i % len(markers)],
            s=34,
            facecolor=colors[i % len(colors)] if i == 0 else "none",
            edgecolor=colors[i % len(colors)],
            label=label,
            zorder=3,
        )
    ax.set_xscale("log")
    ax.set_xlabel("regional flux (Pg C yr$^{-1}$, log scale)")
    ax.set_ylabel("inter-model CV (%)")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=1)
    ax.figure.tight_layout()  # final layout BEFORE placing labels (offsets are in points)
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    # markers are obstacles too
    avoid = []
    for table in tables.values():
        for x, y in zip(table["mean_pg"], table["cv_percent"]):
            px, py = ax.transData.transform((x, y))
            avoid.append(Bbox.from_extents(px - 3, py - 3, px + 3, py + 3))
    texts = []
    for i, (label, table) in enumerate(tables.items()):
        texts += place_labels(
            ax,
            table["mean_pg"].to_numpy(),
            table["cv_percent"].to_numpy(),
            list(table.index),
            color=colors[i % len(colors)],
            bold=highlight,
            avoid=avoid,
        )
        avoid = avoid + [_text_box(t, renderer) for t in texts]
    return ax
