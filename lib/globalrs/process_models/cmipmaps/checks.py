"""Checks of the grid reconstruction that could each disagree with it.

Land share of cells with rh > 0 (and the same on deliberately wrong grid guesses), each model's
global total against the independent ``cmip6-hector`` series, and the latitude profile against
published zonal shares.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.process_models.cmip6 import read_cmip6_annual_rh, summarize_period_means
from globalrs.process_models.cmipmaps.grids import grid_entry, land_fraction_on_native
from globalrs.process_models.cmipmaps.maps import RH_YEARS
from globalrs.sources.data import fetch

ZONAL_SHARES = "landmodels/CMIP6_percent_of_global_RH.csv"


#: Minimum share of cells with rh > 0 whose area holds some land (book's 0.5-degree land
#: fraction regridded onto the native grid) for a grid reconstruction to be accepted.
LAND_SHARE_MIN = 0.95


#: Largest accepted |total / cmip6-hector - 1| for the 1995-2005 mean global rh.
HECTOR_TOLERANCE = 0.10


#: Smallest accepted correlation across 5-degree bands with the published zonal shares.
ZONAL_CORRELATION_MIN = 0.95


def land_share_of_positive_cells(rh: xr.DataArray, land_fraction_05: xr.DataArray, entry: dict | None = None) -> float:
    """Share of native cells with rh > 0 whose area holds any land (book land fraction > 0).

    Parameters
    ----------
    rh
        Native map (:func:`read_native_rh` or :func:`build_native_map`).
    land_fraction_05
        The book's 0.5-degree land fraction (``globalrs.sources.readers.read_land_fraction_05``).
    entry
        The grid entry the map's coordinates were built from (default: the map's model).

    Returns
    -------
    float
        Between 0 and 1; a correct reconstruction gives at least :data:`LAND_SHARE_MIN`.
    """
    entry = grid_entry(rh.attrs["model"]) if entry is None else entry
    frac = land_fraction_on_native(land_fraction_05, entry)
    positive = np.isfinite(rh.values) & (rh.values > 0)
    if not positive.any():
        raise ValueError(f"{rh.attrs.get('model')}: no cell with rh > 0")
    return float((frac.values[positive] > 0).sum() / positive.sum())


#: A gross longitude error in native cells, one of the wrong guesses of :func:`grid_guess_land_shares`.
GROSS_SHIFT_CELLS = 10


def grid_guesses(
    rh: xr.DataArray, entry: dict, gross_shift_cells: int = GROSS_SHIFT_CELLS
) -> dict[str, tuple[xr.DataArray, dict]]:
    """The documented grid of a native map and wrong guesses of it, as ``label -> (field, grid entry)``.

    Wrong guesses: rows flipped (row 0 taken as the northernmost), longitudes shifted by half a turn,
    by ``gross_shift_cells`` cells and by one cell either way, and Gaussian and regular latitudes
    swapped.
    """
    dlon = 360.0 / entry["nlon"]
    swapped = (
        {**entry, "grid_type": "regular", "first_lat": -90 + 90 / entry["nlat"]}
        if entry["grid_type"] == "gaussian"
        else {**entry, "grid_type": "gaussian"}
    )
    return {
        "documented grid": (rh, entry),
        "rows flipped": (rh.copy(data=rh.values[::-1]), entry),
        "lon +180 deg": (rh, {**entry, "first_lon": entry["first_lon"] + 180.0}),
        f"lon +{gross_shift_cells} cells": (rh, {**entry, "first_lon": entry["first_lon"] + gross_shift_cells * dlon}),
        "lon -1 cell": (rh, {**entry, "first_lon": entry["first_lon"] - dlon}),
        "lon +1 cell": (rh, {**entry, "first_lon": entry["first_lon"] + dlon}),
        "gaussian/regular swapped": (rh, swapped),
    }


def grid_guess_land_shares(
    native: dict[str, xr.DataArray],
    land_fraction_05: xr.DataArray,
    grids: pd.DataFrame | None = None,
    gross_shift_cells: int = GROSS_SHIFT_CELLS,
) -> pd.DataFrame:
    """Check 1 of the rebuilt grids: :func:`land_share_of_positive_cells` on the documented grid and wrong guesses.

    Parameters
    ----------
    native
        Model -> native rh map (:func:`read_native_rh`).
    land_fraction_05
        The book's 0.5-degree land fraction.
    grids
        The grid table (default :func:`load_model_grids`).
    gross_shift_cells
        The gross longitude shift of one wrong guess, in native cells.

    Returns
    -------
    pandas.DataFrame
        Index ``model``: ``mip``, ``grid``, one share (0..1) per guess of :func:`grid_guesses`, and
        ``accepted`` (the documented grid's share is at least :data:`LAND_SHARE_MIN`).
    """
    rows = {}
    for model, rh in native.items():
        entry = grid_entry(model, grids)
        guesses = grid_guesses(rh, entry, gross_shift_cells)
        rows[model] = {
            "mip": entry["mip"],
            "grid": f"{entry['grid_type']} {entry['nlat']}x{entry['nlon']}",
            **{label: land_share_of_positive_cells(f, land_fraction_05, e) for label, (f, e) in guesses.items()},
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    table["accepted"] = table["documented grid"] >= LAND_SHARE_MIN
    return table


def hector_period_means(start: int = RH_YEARS[0], end: int = RH_YEARS[1]) -> pd.DataFrame:
    """Each cmip6-hector historical model's mean rh over ``start..end`` (members averaged)."""
    return summarize_period_means(read_cmip6_annual_rh("historical"), start, end)


def compare_with_hector(
    totals: pd.DataFrame, hector: pd.DataFrame | None = None, tolerance: float = HECTOR_TOLERANCE
) -> pd.DataFrame:
    """Map totals beside the cmip6-hector 1995-2005 means for the models both hold.

    Parameters
    ----------
    totals
        :func:`rh_global_totals_pg` output.
    hector
        :func:`hector_period_means` output (default: 1995-2005).
    tolerance
        Largest accepted |ratio - 1|.

    Returns
    -------
    pandas.DataFrame
        Indexed by model: ``map_total_pg_c_yr``, ``hector_pg_c_yr``, ``hector_members``,
        ``ratio`` (map / hector), ``within_tolerance`` and ``status`` ("kept" or
        "excluded: ..."). Raises if no model is shared.
    """
    hector = hector_period_means() if hector is None else hector
    shared = sorted(set(totals.index) & set(hector.index))
    if not shared:
        raise ValueError("no model is in both the maps and cmip6-hector")
    out = pd.DataFrame(
        {
            "map_total_pg_c_yr": totals.loc[shared, "rh_total_pg_c_yr"],
            "hector_pg_c_yr": hector.loc[shared, "mean_rh_pg_c_yr"],
            "hector_members": hector.loc[shared, "n_members"].astype(int),
        },
    )
    out["ratio"] = out["map_total_pg_c_yr"] / out["hector_pg_c_yr"]
    out["within_tolerance"] = (out["ratio"] - 1.0).abs() <= tolerance
    out["status"] = np.where(
        out["within_tolerance"],
        "kept",
        [f"excluded: total off cmip6-hector by {100 * (r - 1):+.1f} % (tolerance {100 * tolerance:.0f} %)" for r in out["ratio"]],
    )
    out.index.name = "model"
    return out


def read_zonal_rh_shares() -> pd.DataFrame:
    """Published share (%) of global CMIP6 rh per 5-degree latitude band, members averaged.

    ``landmodels/CMIP6_percent_of_global_RH.csv`` lists, per model and member, the share of global
    historical rh in bands labelled by their southern edge (-90, -85, ...). Each member's shares
    sum to 100 over the bands it lists; the file's band lists have gaps (CNRM-ESM2-1 has no 40
    band, IPSL-CM6A-LR none north of 55), so comparisons use the bands both sides hold.

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``band_south_deg``, ``share_pct`` (member mean), ``n_members``.
    """
    raw = pd.read_csv(fetch(ZONAL_SHARES))
    expected = {"variable", "model", "experiment", "coords", "value", "units"}
    if not expected <= set(raw.columns):
        raise ValueError(f"{ZONAL_SHARES}: expected columns {sorted(expected)}, got {list(raw.columns)}")
    raw = raw[(raw["variable"] == "rh") & (raw["experiment"] == "historical")]
    if set(raw["units"]) != {"%"}:
        raise ValueError(f"{ZONAL_SHARES}: units {sorted(set(raw['units']))}, expected %")
    raw = raw.assign(member=raw.groupby(["model", "coords"]).cumcount())
    out = (
        raw.groupby(["model", "coords"])
        .agg(share_pct=("value", "mean"), n_members=("member", "size"))
        .reset_index()
        .rename(columns={"coords": "band_south_deg"})
    )
    out["band_south_deg"] = out["band_south_deg"].astype(float)
    return out


def zonal_rh_shares_pct(rh_g_m2_yr: xr.DataArray, land_area_m2: xr.DataArray, band_deg: float = 5.0) -> pd.Series:
    """Share (%) of a map's global rh in latitude bands labelled by their southern edge.

    Cells with no value contribute nothing; cells are assigned to the band holding their centre.
    """
    zonal = (rh_g_m2_yr.fillna(0.0) * land_area_m2).sum("lon").to_series()
    band = np.floor(zonal.index.to_numpy() / band_deg) * band_deg
    totals = zonal.groupby(band).sum()
    if totals.sum() <= 0:
        raise ValueError("the map has no positive rh: no zonal shares")
    out = 100.0 * totals / totals.sum()
    out.index.name = "band_south_deg"
    return out.rename("share_pct")


def compare_zonal_shares(maps: xr.Dataset, published: pd.DataFrame | None = None) -> pd.DataFrame:
    """Zonal shares of the 0.5-degree maps against the published ones, for the models both hold.

    Both sides are restricted to the bands both list and renormalised to 100 % there.

    Returns
    -------
    pandas.DataFrame
        Indexed by model: ``n_bands``, ``correlation`` (Pearson, across bands) and
        ``max_abs_diff_points`` (largest band difference, percentage points).
    """
    published = read_zonal_rh_shares() if published is None else published
    land_area = maps["cell_area_m2"] * maps["land_fraction"]
    rows = {}
    for model in sorted(set(map(str, maps["model"].values)) & set(published["model"])):
        ours = zonal_rh_shares_pct(maps["rh"].sel(model=model), land_area)
        theirs = published[published["model"] == model].set_index("band_south_deg")["share_pct"]
        both = pd.concat([ours, theirs], axis=1, keys=["map", "published"], join="inner")
        both = 100.0 * both / both.sum()
        rows[model] = {
            "n_bands": len(both),
            "correlation": float(np.corrcoef(both["map"], both["published"])[0, 1]),
            "max_abs_diff_points": float((both["map"] - both["published"]).abs().max()),
        }
    if not rows:
        raise ValueError("no model is in both the maps and the published zonal shares")
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "model"
    return out
