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

The online CMIP6 gridded path (Pangeo catalogue) is :mod:`globalrs.process_models.pangeo`; offline gridded
CMIP6/CMIP5 rh (Varney et al. 2020) is read by :mod:`globalrs.process_models.cmipmaps`; the Fig. 5 regional
spread (regional CV of model rh against the data-driven CV, the paper's three claims judged by
stated rules, labelled plot) is :mod:`globalrs.reproduction.modelspread`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.core.grid import same_grid, wrap_lon
from globalrs.core.stats import compute_anomaly, linear_trend, temperature_sensitivity
from globalrs.core.units import flux_to_total_pg_c_yr
from globalrs.gridding.harmonize import harmonize_to_grid
from globalrs.sources.cache import NETCDF_ENGINE
from globalrs.sources.data import fetch, load_registry

HECTOR_RH = "cmip6-hector/CMIP6_annual_rh_land.csv"
TAS_LAND_DIR = "cmip6-hector/tas_land/"
CMIPCARBON_RH = "cmip6-cmipcarbon/rh_global_1980-2015.csv"
LANDMODEL_FILES = {
    "CASA-CNP": ("landmodels/casaclm_pool_flux_2000-2010_mean.nc", "cresp"),
    "MIMICS": ("landmodels/mimics_pool_flux_2000-2010_mean.nc", "cHresp"),
    "CORPSE": ("landmodels/corpse_pool_flux_2000-2010_mean.nc", "Soil_CO2"),
}
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
        ``durbin_watson``, from :func:`globalrs.core.stats.linear_trend`; ``mean`` (the series' mean
        over the fitted years) and ``relative_slope_pct_per_yr`` (100 x slope / mean: the trend in
        % of the model's own level per year, comparable across models of different levels).
    """
    series = model_mean_series(df[(df["year"] >= start) & (df["year"] <= end)], value)
    rows = {}
    for model, grp in series.groupby("model"):
        if len(grp) < 3:
            raise ValueError(f"{model}: only {len(grp)} years in {start}-{end}; cannot fit a trend")
        fit = linear_trend(grp["year"].to_numpy(), grp[value].to_numpy(float))
        level = float(grp[value].mean())
        if level <= 0:
            raise ValueError(f"{model}: mean {value} over {start}-{end} is {level:g}; a relative trend needs a positive level")
        rows[model] = {**fit[_FIT_COLUMNS].to_dict(), "mean": level, "relative_slope_pct_per_yr": 100.0 * fit["slope"] / level}
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
        ``r2``, ``n``, ``hac_p``, ``durbin_watson`` (:func:`globalrs.core.stats.temperature_sensitivity`)
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
    with xr.open_dataset(fetch(name), engine=NETCDF_ENGINE) as ds:
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
    out = out.assign_coords(lon=wrap_lon(out["lon"])).sortby("lon")
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
        if not same_grid(p, parts[0]):
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
    total = flux_to_total_pg_c_yr(ds["rh"], ds["land_area_m2"])
    return total.to_series().rename("rh_pg_c_yr")


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

    Each model goes through :func:`globalrs.gridding.harmonize.harmonize_to_grid` with ``fill="mean"``
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
        Schema of :func:`globalrs.estimates.ensemble.load_ensemble`: ``rs_annual`` (member, lat, lon)
        g C m-2 yr-1, NaN outside ``land_mask``; ``land_mask``; ``cell_area_m2``;
        ``land_fraction``; coordinate ``method_family`` ("Process model") along ``member``.
    """
    if isinstance(rh_land, xr.DataArray):
        if "model" not in rh_land.dims:
            raise ValueError(f"rh_land needs a 'model' dimension, got {rh_land.dims}")
        rh_land = {str(m): rh_land.sel(model=m, drop=True).assign_attrs(rh_land.attrs) for m in rh_land["model"].values}
    if not rh_land:
        raise ValueError("no model maps given")
    parts = []
    for field in rh_land.values():
        h = harmonize_to_grid(field, resolution_deg=resolution_deg, fill="mean")
        parts.append(h["rs_annual"])
        area = h["cell_area_m2"]
    rs = xr.concat(parts, dim="member").assign_coords(member=np.asarray(list(rh_land), dtype="U"))
    if not same_grid(rs, land_mask):
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


# --------------------------------------------------------------------------------------------
# the chapter "Process models against data: CMIP6": its tables and checks
# --------------------------------------------------------------------------------------------
def compilation_table(hector: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    """The two offline CMIP6 compilations side by side: models, model-member runs and years.

    Parameters
    ----------
    hector
        :func:`read_cmip6_annual_rh`.
    raw
        :func:`read_cmipcarbon_rh_raw`.

    Returns
    -------
    pandas.DataFrame
        Index ``set`` (``cmip6-hector``, ``cmip6-cmipcarbon``).
    """
    frames = {"cmip6-hector": hector, "cmip6-cmipcarbon": raw}
    return pd.DataFrame(
        {
            "set": list(frames),
            "models": [f["model"].nunique() for f in frames.values()],
            "model-member runs": [f.groupby(["model", "member"]).ngroups for f in frames.values()],
            "years": [f"{f['year'].min()}-{f['year'].max()}" for f in frames.values()],
        }
    ).set_index("set")


def check_cmipcarbon_calibration(cal: Calibration, max_rms: float = 0.01) -> None:
    """Refuse a derived cmip6-cmipcarbon factor that misses the README's or fits the shared runs badly.

    Parameters
    ----------
    cal
        :func:`derive_cmipcarbon_factor`.
    max_rms
        The largest RMS relative residual accepted over the shared runs.

    Raises
    ------
    ValueError
        The factor is more than :data:`CMIPCARBON_README_TOLERANCE` (relative) off
        :data:`CMIPCARBON_README_FACTOR`, or the RMS residual exceeds ``max_rms``.
    """
    readme = CMIPCARBON_README_FACTOR
    if abs(cal.factor / readme - 1) > CMIPCARBON_README_TOLERANCE or cal.rms_rel_residual > max_rms:
        raise ValueError(f"calibration {cal.factor:.4e} (RMS {cal.rms_rel_residual:.3%}) off the README's {readme:.2e}")


def check_landmodel_totals(totals_pg: pd.Series) -> None:
    """Refuse soil-carbon model totals outside the files' stated range (with :data:`LANDMODELS_STATED_SLACK_PG`).

    Parameters
    ----------
    totals_pg
        :func:`landmodel_global_totals_pg`, Pg C yr-1.

    Raises
    ------
    ValueError
        Naming the totals and the stated range.
    """
    low, high = LANDMODELS_STATED_TOTAL_PG
    if not totals_pg.between(low - LANDMODELS_STATED_SLACK_PG, high + LANDMODELS_STATED_SLACK_PG).all():
        raise ValueError(f"landmodels totals {totals_pg.round(2).to_dict()} outside the stated {low:g}-{high:g}")


def _model_series_row(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """One summary row of model series: median count per model, mean of model means, min, max."""
    by_model = frame.groupby("model")
    return pd.DataFrame(
        {
            "count": [by_model.size().median()],
            "mean": [by_model["rh_pg_c_yr"].mean().mean()],
            "min": [frame["rh_pg_c_yr"].min()],
            "max": [frame["rh_pg_c_yr"].max()],
            "kind": ["process models"],
        },
        index=[label],
    )


def overlap_series_table(
    data_series: pd.DataFrame, esm_series: pd.DataFrame, isimip: pd.DataFrame, overlap: tuple[int, int]
) -> pd.DataFrame:
    """Data-driven and model global Rh series over the years they share, one row per series.

    Parameters
    ----------
    data_series
        ``series``, ``year``, ``rh_pg_c_yr``: the data-driven Rh series.
    esm_series
        ``model``, ``year``, ``rh_pg_c_yr``: the CMIP6 model-mean series (:func:`model_mean_series`).
    isimip
        The same for the ISIMIP2a models.
    overlap
        First and last year (inclusive).

    Returns
    -------
    pandas.DataFrame
        ``count``, ``mean``, ``min``, ``max`` (Pg C yr-1) and ``kind``; a model ensemble's count is
        the median number of years per model and its mean the mean of the model means.
    """
    data_o, esm_o, isimip_o = (df[df["year"].between(*overlap)] for df in (data_series, esm_series, isimip))
    table = pd.concat(
        [
            data_o.groupby("series")["rh_pg_c_yr"].agg(["count", "mean", "min", "max"]).assign(kind="data-driven Rh"),
            _model_series_row(esm_o, f"CMIP6 ESMs ({esm_series['model'].nunique()}, mean of model means)"),
            _model_series_row(isimip_o, f"ISIMIP2a ({isimip['model'].nunique()}, mean of model means)"),
        ]
    )
    table.index.name = f"series, {overlap[0]}-{overlap[1]} (Pg C yr-1)"
    return table


def trend_summary_table(
    trends: pd.DataFrame,
    sensitivity: pd.DataFrame,
    paper_trend: tuple[float, float],
    paper_trend_mean: float,
    paper_sensitivity: tuple[float, float],
    paper_sensitivity_mean: float,
    paper_level_pg: float,
) -> pd.DataFrame:
    """The models' trends and temperature sensitivities summarized beside the paper's data-driven values.

    Parameters
    ----------
    trends
        Index ``(ensemble, model)`` (``CMIP6 ESM``, ``ISIMIP2a``) with ``slope`` (Pg C yr-2) and
        ``relative_slope_pct_per_yr`` (:func:`compute_model_trends`).
    sensitivity
        :func:`compute_temperature_sensitivity` (``slope``, Pg C yr-1 K-1).
    paper_trend, paper_trend_mean
        The paper's data-driven trend range and mean, Pg C yr-2.
    paper_sensitivity, paper_sensitivity_mean
        The paper's data-driven sensitivity range and mean, Pg C yr-1 K-1.
    paper_level_pg
        The global Rs level the relative trends are taken against, Pg C yr-1.

    Returns
    -------
    pandas.DataFrame
        One row per quantity: count, mean, min, max and the paper's (mean, min, max) as text.
    """
    stats = ["count", "mean", "min", "max"]
    table = pd.DataFrame(
        {
            "CMIP6 ESM trend (Pg C yr-2)": trends.loc["CMIP6 ESM", "slope"].describe()[stats],
            "ISIMIP2a trend (Pg C yr-2)": trends.loc["ISIMIP2a", "slope"].describe()[stats],
            "CMIP6 ESM trend (% yr-1)": trends.loc["CMIP6 ESM", "relative_slope_pct_per_yr"].describe()[stats],
            "ISIMIP2a trend (% yr-1)": trends.loc["ISIMIP2a", "relative_slope_pct_per_yr"].describe()[stats],
            "CMIP6 sensitivity (Pg C yr-1 K-1)": sensitivity["slope"].describe()[stats],
        }
    ).T
    rel = [100 * t / paper_level_pg for t in paper_trend]
    trend_text = f"{paper_trend_mean:g}, {paper_trend[0]:g}, {paper_trend[1]:g}"
    rel_text = f"{100 * paper_trend_mean / paper_level_pg:.2f}, {rel[0]:.2f}, {rel[1]:.2f} (approx.)"
    sens_text = f"{paper_sensitivity_mean:g}, {paper_sensitivity[0]:.1f}, {paper_sensitivity[1]:.1f}"
    table["paper, data-driven (mean, min, max)"] = [trend_text, trend_text, rel_text, rel_text, sens_text]
    return table


def plot_trends_and_sensitivities(
    trends: pd.DataFrame,
    sensitivity: pd.DataFrame,
    paper_trend: tuple[float, float],
    paper_sensitivity: tuple[float, float],
    period: tuple[int, int] = PERIOD,
):
    """Each model's trend and temperature sensitivity with its interval, beside the paper's data-driven ranges.

    Parameters
    ----------
    trends
        :func:`compute_model_trends` of both ensembles, index ``(ensemble, model)``.
    sensitivity
        :func:`compute_temperature_sensitivity` of the CMIP6 models.
    paper_trend, paper_sensitivity
        The paper's data-driven ranges (shaded).
    period
        The years of the trends (axis label).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
    panels = (
        (axes[0], trends.reset_index(), "trend {}-{} (Pg C yr$^{{-2}}$)".format(*period), paper_trend),
        (
            axes[1],
            sensitivity.reset_index().assign(ensemble="CMIP6 ESM"),
            "sensitivity (Pg C yr$^{-1}$ K$^{-1}$)",
            paper_sensitivity,
        ),
    )
    for ax, frame, xlabel, paper_range in panels:
        frame = frame.sort_values("slope")
        colors = frame["ensemble"].map({"CMIP6 ESM": "tab:blue", "ISIMIP2a": "tab:orange"})
        xerr = [frame["slope"] - frame["ci_low"], frame["ci_high"] - frame["slope"]]
        ax.barh(frame["model"], frame["slope"], xerr=xerr, color=colors, error_kw={"lw": 0.8})
        ax.set_xlabel(xlabel)
        ax.set_ylabel("model")
        ax.tick_params(axis="y", labelsize=7)
        ax.axvspan(*paper_range, color="0.85", zorder=0, label="data-driven range (paper)")
        ax.legend(frameon=False, fontsize=7, loc="lower right")
    axes[0].legend(
        handles=[plt.Rectangle((0, 0), 1, 1, facecolor=c, edgecolor="0.5", lw=0.5) for c in ("tab:blue", "tab:orange", "0.85")],
        labels=["CMIP6 ESM", "ISIMIP2a", "data-driven range (paper)"],
        frameon=False,
        fontsize=7,
        loc="lower right",
    )
    fig.tight_layout()
    return fig


def global_cv_ratios(
    models_cv_pct: float,
    data_cv_pct: pd.Series,
    plausible_cv_pct: tuple[float, float] = (15.0, 40.0),
    plausible_ratio: tuple[float, float] = (1.0, 5.0),
) -> pd.DataFrame:
    """The models' global inter-model CV over each data-driven version's, checked against sanity ranges.

    The ranges are sanity checks, not reproduced values: the paper gives no global CV, only
    "about twice".

    Parameters
    ----------
    models_cv_pct
        The CMIP6 models' CV of global rh (%).
    data_cv_pct
        Each data-driven version's CV of global Rs (%); the first is the one the ratio check reads.
    plausible_cv_pct, plausible_ratio
        Open ranges the models' CV and the first ratio must fall in.

    Returns
    -------
    pandas.DataFrame
        One row per data-driven version: its CV, the models' CV and their ratio.

    Raises
    ------
    ValueError
        The models' CV or the first ratio outside its range.
    """
    ratios = pd.DataFrame(
        {"data-driven CV (%)": data_cv_pct, "CMIP6 ESM CV (%)": models_cv_pct, "ratio ESM / data": models_cv_pct / data_cv_pct}
    )
    first = float(ratios["ratio ESM / data"].iloc[0])
    if not plausible_cv_pct[0] < models_cv_pct < plausible_cv_pct[1]:
        raise ValueError(
            f"CMIP6 inter-model CV {models_cv_pct:.1f} % outside a plausible {plausible_cv_pct[0]:g}-{plausible_cv_pct[1]:g} %"
        )
    if not plausible_ratio[0] < first < plausible_ratio[1]:
        raise ValueError(f"ESM/data CV ratio {first:.2f} outside {plausible_ratio[0]:g}-{plausible_ratio[1]:g}")
    return ratios
