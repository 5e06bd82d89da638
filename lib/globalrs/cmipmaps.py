"""CMIP6 and CMIP5 heterotrophic respiration (rh) maps from Varney et al. (2020), offline.

``varney2020/historical_rh_data_<MODEL>.npy`` (with ``_mask_``) hold the 1995-2005 mean CMIP
``historical`` rh of 7 CMIP6 and 9 CMIP5 models on each model's NATIVE grid, in kg C m-2 yr-1 per
m2 of land (CMIP kg m-2 s-1 x 86400 x 365, as the mirrored ``pofp_cmip6_analysis.py`` wrote them).
The files carry no coordinates. **The latitudes and longitudes returned here are a
reconstruction**: they are rebuilt from each model's documented grid, kept in the data table
``tables/cmip_model_grids.csv`` (model, mip, nlat, nlon, grid type, first latitude and longitude,
source of the grid description):

* ``gaussian`` grids (the spectral models) take the Gauss-Legendre nodes of
  :func:`numpy.polynomial.legendre.leggauss` as sines of latitude, and cell edges whose sines
  are the running sums of the quadrature weights (so each cell's area is exact);
* ``regular`` grids are evenly spaced from ``first_lat`` to ``-first_lat`` (pole-centred rows
  get half cells, clipped at the poles);
* row 0 is the southernmost row (checked against temperature by the mirror's README), longitudes
  start at ``first_lon`` and step by 360 / nlon (0..360 as in the CMIP files).

The reconstruction is tested in ways that could each disagree with it: the share of cells with
rh > 0 that fall on land (:func:`land_share_of_positive_cells`, at least :data:`LAND_SHARE_MIN`),
each model's global total against the independent annual series of ``cmip6-hector``
(:func:`compare_with_hector`, within :data:`HECTOR_TOLERANCE`), and the latitude profile against
published zonal shares of two of the models (:func:`compare_zonal_shares`).

Maps are put on the book's 0.5-degree grid with the harmonizer's conservative regridding
(:func:`globalrs.harmonize.regrid_conservative`, the core of
:func:`~globalrs.harmonize.harmonize_to_grid`, called directly with the edges rebuilt from each
model's grid table) with its ``fill="mean"`` rule: a 0.5-degree cell gets the mean rh per m2 of land
of the model cells covering it. Totals then use the book's land fraction (cell area x land
fraction), an approximation of each model's own land fraction, which is not in the mirror.

Also here: CARDAMOM Rh 2001-2010 (:func:`read_cardamom_rh`) and the two digitised global Rh series
of ``landmodels/`` (:func:`read_digitised_rh`).
"""

from __future__ import annotations

import io
import json
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.cache import cache_key, cache_path, cached_build, read_netcdf, write_netcdf_atomic
from globalrs.cmip6 import read_cmip6_annual_rh, summarize_period_means
from globalrs.data import fetch
from globalrs.exceptions import GridError, ModelGridError
from globalrs.grid import EARTH_RADIUS_M, cell_area_m2, make_grid
from globalrs.grid import gaussian_latitudes as grid_gaussian_latitudes
from globalrs.harmonize import GridEdges, regrid_conservative
from globalrs.modelspread import regional_cv_percent, regional_totals_by_model_pg
from globalrs.progress import progress_enabled
from globalrs.readers import LAND_FRACTION_FILE, read_land_fraction_05
from globalrs.units import G_PER_PG

GRID_TABLE = "cmip_model_grids.csv"
GRID_COLUMNS = ("model", "mip", "nlat", "nlon", "grid_type", "first_lat", "first_lon", "grid_source")
GRID_TYPES = ("gaussian", "regular")
MIPS = ("CMIP6", "CMIP5")
VARNEY_DIR = "varney2020"
CARDAMOM_DATA = f"{VARNEY_DIR}/observational_rh_data.npy"
CARDAMOM_MASK = f"{VARNEY_DIR}/observational_rh_mask.npy"
ZONAL_SHARES = "landmodels/CMIP6_percent_of_global_RH.csv"
DIGITISED_FILES = {
    "Hashimoto et al. 2015 (digitised)": "landmodels/hashimoto2015_rh.txt",
    "Tang et al. 2020 (digitised)": "landmodels/tang2020_rh.txt",
}
RH_UNITS = "kg C m-2 yr-1"
#: The years (inclusive) of the mean rh maps saved by Varney et al. (2020), and as text.
RH_YEARS = (1995, 2005)
RH_PERIOD = f"{RH_YEARS[0]}-{RH_YEARS[1]}"
CARDAMOM_PERIOD = "2001-2010"
G_PER_KG = 1000.0
#: Largest negative rh (kg C m-2 yr-1) read as numerical noise and set to 0 (HadGEM2-ES has
#: values down to -7.5e-5, i.e. -0.075 g C m-2 yr-1); anything more negative is an error.
NEGATIVE_NOISE_KG = 1e-3
#: Minimum share of cells with rh > 0 whose area holds some land (book's 0.5-degree land
#: fraction regridded onto the native grid) for a grid reconstruction to be accepted.
LAND_SHARE_MIN = 0.95
#: Largest accepted |total / cmip6-hector - 1| for the 1995-2005 mean global rh.
HECTOR_TOLERANCE = 0.10
#: Smallest accepted correlation across 5-degree bands with the published zonal shares.
ZONAL_CORRELATION_MIN = 0.95
#: Result version of the cached 0.5-degree maps: bump it when their computation changes.
#: 3: the regridding no longer counts touching cells as overlapping (~1e-13 overlaps), so a few
#: hundred coastal cells lose a neighbour's value (issue 22)
CODE_VERSION = "3"


# --------------------------------------------------------------------------------------------
# grid table and coordinate reconstruction
# --------------------------------------------------------------------------------------------


def load_model_grids() -> pd.DataFrame:
    """The table of documented native grids (``tables/cmip_model_grids.csv``).

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``mip`` (CMIP6/CMIP5), ``nlat``, ``nlon`` (int), ``grid_type``
        (gaussian/regular), ``first_lat``, ``first_lon`` (deg, cell centres of row 0 / column 0),
        ``grid_source``; one row per model.

    Raises
    ------
    ModelGridError
        Missing columns, unknown grid types or MIPs, duplicated models, or a Gaussian row whose
        ``first_lat`` disagrees with the Gauss-Legendre nodes.
    """
    text = resources.files("globalrs").joinpath("tables", GRID_TABLE).read_text()
    table = pd.read_csv(io.StringIO(text))
    return check_model_grids(table)


def check_model_grids(table: pd.DataFrame) -> pd.DataFrame:
    """Validate a grid table (see :func:`load_model_grids`) and return it typed."""
    missing = set(GRID_COLUMNS) - set(table.columns)
    if missing:
        raise ModelGridError(f"grid table lacks columns {sorted(missing)}")
    table = table.loc[:, list(GRID_COLUMNS)].copy()
    table["nlat"] = table["nlat"].astype(int)
    table["nlon"] = table["nlon"].astype(int)
    table["first_lat"] = table["first_lat"].astype(float)
    table["first_lon"] = table["first_lon"].astype(float)
    bad_type = set(table["grid_type"]) - set(GRID_TYPES)
    if bad_type:
        raise ModelGridError(f"unknown grid types {sorted(bad_type)}; use {GRID_TYPES}")
    bad_mip = set(table["mip"]) - set(MIPS)
    if bad_mip:
        raise ModelGridError(f"unknown MIPs {sorted(bad_mip)}; use {MIPS}")
    if table["model"].duplicated().any():
        raise ModelGridError(f"duplicated models {sorted(table.loc[table['model'].duplicated(), 'model'])}")
    for row in table.itertuples():
        lat = native_coordinates(row._asdict())[0]
        if abs(lat[0] - row.first_lat) > 1e-3:
            raise ModelGridError(
                f"{row.model}: first_lat {row.first_lat} but the {row.grid_type} grid of {row.nlat} rows starts at {lat[0]:.4f}"
            )
    return table.reset_index(drop=True)


def grid_entry(model: str, grids: pd.DataFrame | None = None) -> dict:
    """The grid table row of ``model`` as a dict.

    Raises
    ------
    ModelGridError
        The model has no grid entry.
    """
    grids = load_model_grids() if grids is None else grids
    rows = grids[grids["model"] == model]
    if rows.empty:
        raise ModelGridError(f"no grid entry for model {model!r} in {GRID_TABLE}; known: {', '.join(grids['model'])}")
    return rows.iloc[0].to_dict()


def gaussian_latitudes(nlat: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian latitudes (centres, ascending) and cell edges in degrees
    (:func:`globalrs.grid.gaussian_latitudes`, which the harmonizer also uses)."""
    if nlat < 2:
        raise ModelGridError(f"a Gaussian grid needs at least 2 latitudes, got {nlat}")
    return grid_gaussian_latitudes(nlat)


def native_coordinates(entry: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rebuild ``(lat, lon, lat_edges, lon_edges)`` in degrees from one grid table entry.

    Latitudes ascend (row 0 southernmost); longitudes ascend from ``first_lon`` by 360 / nlon.
    Regular latitudes run evenly from ``first_lat`` to ``-first_lat``; edges are midpoints,
    clipped at the poles.
    """
    nlat, nlon = int(entry["nlat"]), int(entry["nlon"])
    if entry["grid_type"] == "gaussian":
        lat, lat_e = gaussian_latitudes(nlat)
    elif entry["grid_type"] == "regular":
        first = float(entry["first_lat"])
        if not -90.0 <= first < 0.0:
            raise ModelGridError(f"{entry.get('model')}: first_lat {first} must be in [-90, 0)")
        lat = np.linspace(first, -first, nlat)
        step = lat[1] - lat[0]
        lat_e = np.clip(np.concatenate([lat - step / 2, [lat[-1] + step / 2]]), -90.0, 90.0)
    else:
        raise ModelGridError(f"{entry.get('model')}: unknown grid type {entry['grid_type']!r}")
    dlon = 360.0 / nlon
    lon = float(entry["first_lon"]) + dlon * np.arange(nlon)
    lon_e = np.concatenate([lon - dlon / 2, [lon[-1] + dlon / 2]])
    return lat, lon, lat_e, lon_e


def native_cell_area_m2(entry: dict) -> xr.DataArray:
    """Exact spherical cell areas (m2) of a native grid from its reconstructed edges."""
    lat, lon, lat_e, lon_e = native_coordinates(entry)
    dsin = np.diff(np.sin(np.deg2rad(lat_e)))
    dlon = np.deg2rad(np.diff(lon_e))
    area = EARTH_RADIUS_M**2 * np.outer(dsin, dlon)
    return xr.DataArray(area, dims=("lat", "lon"), coords={"lat": lat, "lon": lon}, attrs={"units": "m2"})


def models_with_shape(shape: tuple[int, ...], grids: pd.DataFrame | None = None) -> list[str]:
    """Models whose documented grid has ``shape`` (nlat, nlon)."""
    grids = load_model_grids() if grids is None else grids
    if len(shape) != 2:
        return []
    hit = grids[(grids["nlat"] == shape[0]) & (grids["nlon"] == shape[1])]
    return list(hit["model"])


# --------------------------------------------------------------------------------------------
# reading maps
# --------------------------------------------------------------------------------------------


def build_native_map(data: np.ndarray, mask: np.ndarray | None, entry: dict) -> xr.DataArray:
    """Attach reconstructed coordinates to a raw native-grid rh array and clean it explicitly.

    Parameters
    ----------
    data
        (nlat, nlon) rh in kg C m-2 yr-1, row 0 southernmost.
    mask
        Same shape, True = masked (ocean); None when there is no mask.
    entry
        Grid table row (:func:`grid_entry`).

    Returns
    -------
    xarray.DataArray
        (lat, lon) rh with NaN where masked or non-finite. ``attrs`` count what was changed:
        ``n_masked``, ``n_nonfinite_set_missing`` (inf/NaN outside the mask, e.g. CESM1-CAM5's
        ocean), ``n_negative_set_zero`` (tiny negatives, e.g. HadGEM2-ES) and
        ``min_negative_kg_m2_yr``.

    Raises
    ------
    ModelGridError
        The array's shape is not the entry's grid (the message names the models it would fit).
    ValueError
        A mask of another shape, an all-masked map, or negatives below -:data:`NEGATIVE_NOISE_KG`.
    """
    model = entry.get("model", "?")
    data = np.asarray(data)
    want = (int(entry["nlat"]), int(entry["nlon"]))
    if data.shape != want:
        fits = models_with_shape(data.shape)
        hint = f"it matches the grid of {', '.join(fits)}" if fits else "it matches no known grid"
        raise ModelGridError(f"{model}: array of shape {data.shape} is not the documented {want} grid ({hint})")
    values = data.astype(np.float64)
    if mask is None:
        mask = np.zeros(want, dtype=bool)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != want:
        raise ValueError(f"{model}: mask of shape {mask.shape} does not match data {want}")
    nonfinite = ~np.isfinite(values) & ~mask
    values[mask | nonfinite] = np.nan
    if not np.isfinite(values).any():
        raise ValueError(f"{model}: the map is all masked or non-finite: no cell holds rh")
    negative = np.isfinite(values) & (values < 0)
    min_negative = float(values[negative].min()) if negative.any() else 0.0
    if min_negative < -NEGATIVE_NOISE_KG:
        raise ValueError(
            f"{model}: rh down to {min_negative:g} {RH_UNITS}, below the noise "
            f"level -{NEGATIVE_NOISE_KG:g}: not a respiration field"
        )
    values[negative] = 0.0
    lat, lon, _, _ = native_coordinates(entry)
    return xr.DataArray(
        values,
        dims=("lat", "lon"),
        coords={"lat": ("lat", lat, {"units": "degrees_north"}), "lon": ("lon", lon, {"units": "degrees_east"})},
        name="rh",
        attrs={
            "units": RH_UNITS,
            "long_name": "heterotrophic respiration",
            "per": "m2 of land",
            "mip": entry.get("mip", ""),
            "model": model,
            "grid_type": entry["grid_type"],
            "grid_source": entry.get("grid_source", ""),
            "coordinates_reconstructed": "yes",
            "n_masked": int(mask.sum()),
            "n_nonfinite_set_missing": int(nonfinite.sum()),
            "n_negative_set_zero": int(negative.sum()),
            "min_negative_kg_m2_yr": min_negative,
        },
    )


def read_native_rh(model: str, grids: pd.DataFrame | None = None) -> xr.DataArray:
    """One model's 1995-2005 mean rh on its native grid with reconstructed coordinates.

    Parameters
    ----------
    model
        A model of the grid table (:func:`load_model_grids`).

    Returns
    -------
    xarray.DataArray
        (lat, lon), lat ascending, lon from the table's ``first_lon`` (0..360); NaN where masked;
        ``units="kg C m-2 yr-1"`` (per m2 of land); attrs ``mip``, ``model``, ``period``,
        ``grid_source``, ``coordinates_reconstructed="yes"`` and the counts of
        :func:`build_native_map`.

    Raises
    ------
    ModelGridError
        Unknown model, or a file whose shape is not the documented grid.
    """
    entry = grid_entry(model, grids)
    data = np.load(fetch(f"{VARNEY_DIR}/historical_rh_data_{model}.npy"), allow_pickle=False)
    mask = np.load(fetch(f"{VARNEY_DIR}/historical_rh_mask_{model}.npy"), allow_pickle=False)
    out = build_native_map(data, mask, entry)
    out.attrs["period"] = RH_PERIOD
    out.attrs["source"] = f"{VARNEY_DIR}/historical_rh_data_{model}.npy (Varney et al. 2020)"
    return out


def read_cardamom_rh() -> xr.DataArray:
    """CARDAMOM Rh (model-data fusion), 2001-2010 mean on 0.5 degree, kg C m-2 yr-1.

    Coordinates follow the mirror's README: latitude ascending from -89.75, longitude from
    -179.75 (the book's 0.5-degree grid). Masked cells are NaN.
    """
    data = np.load(fetch(CARDAMOM_DATA), allow_pickle=False)
    mask = np.load(fetch(CARDAMOM_MASK), allow_pickle=False)
    lat, lon = make_grid(0.5)
    entry = {
        "model": "CARDAMOM",
        "mip": "",
        "nlat": lat.size,
        "nlon": lon.size,
        "grid_type": "regular",
        "first_lat": float(lat[0]),
        "first_lon": float(lon[0]),
        "grid_source": "0.5-degree grid as stated in the mirror's README",
    }
    out = build_native_map(data, mask, entry)
    out = out.assign_coords(lat=lat, lon=lon)
    out.attrs.update(
        period=CARDAMOM_PERIOD,
        model="CARDAMOM",
        mip="",
        product="CARDAMOM model-data fusion (Bloom et al. 2016)",
        source=f"{CARDAMOM_DATA} (Varney et al. 2020)",
    )
    return out


# --------------------------------------------------------------------------------------------
# checks of the reconstruction
# --------------------------------------------------------------------------------------------


def _grid_edges_05(resolution_deg: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    lat, lon = make_grid(resolution_deg)
    lat_e = np.concatenate([lat - resolution_deg / 2, [90.0]])
    lon_e = np.concatenate([lon - resolution_deg / 2, [180.0]])
    return lat, lon, lat_e, lon_e


def land_fraction_on_native(land_fraction_05: xr.DataArray, entry: dict) -> xr.DataArray:
    """The book's 0.5-degree land fraction averaged (area-weighted) onto a native grid."""
    _, _, lat_e05, lon_e05 = _grid_edges_05()
    lat, lon, lat_e, lon_e = native_coordinates(entry)
    frac = land_fraction_05.transpose("lat", "lon").values.astype(np.float64)
    integ, cover = regrid_conservative(frac, GridEdges(lat=lat_e05, lon=lon_e05, lat_descending=False), lat_e, lon_e, "density")
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(cover > 0, integ / cover, 0.0)
    return xr.DataArray(
        np.clip(share, 0.0, 1.0),
        dims=("lat", "lon"),
        coords={"lat": lat, "lon": lon},
        attrs={"units": "1", "long_name": "book land fraction on the native grid"},
    )


def land_share_of_positive_cells(rh: xr.DataArray, land_fraction_05: xr.DataArray, entry: dict | None = None) -> float:
    """Share of native cells with rh > 0 whose area holds any land (book land fraction > 0).

    Parameters
    ----------
    rh
        Native map (:func:`read_native_rh` or :func:`build_native_map`).
    land_fraction_05
        The book's 0.5-degree land fraction (``globalrs.readers.read_land_fraction_05``).
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


# --------------------------------------------------------------------------------------------
# on the book's 0.5-degree grid
# --------------------------------------------------------------------------------------------


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


def mask_unmasked_ocean(rh: xr.DataArray, land_fraction_native: xr.DataArray) -> xr.DataArray:
    """Set exact zeros over cells without any land to missing, for maps saved without a mask.

    CanESM5, CanESM2, GFDL-ESM2G and NorESM1-M were saved with an empty mask and rh = 0 over the
    ocean. A zero there is "no land", not a measured flux: left in, it would dilute coastal cells
    of the 0.5-degree grid under the ``fill="mean"`` rule. Only cells whose area holds no land at
    all in the book's land fraction are changed, and only exact zeros; the count is kept in
    ``attrs["n_zero_ocean_set_missing"]``. Maps with a mask are returned unchanged (count 0).
    """
    out = rh.copy()
    if int(rh.attrs.get("n_masked", 0)) > 0:
        out.attrs["n_zero_ocean_set_missing"] = 0
        return out
    ocean_zero = (rh.values == 0.0) & (land_fraction_native.values <= 0.0)
    out.values[ocean_zero] = np.nan
    out.attrs["n_zero_ocean_set_missing"] = int(ocean_zero.sum())
    return out


def _native_mean_05(values: np.ndarray, entry: dict, resolution_deg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A native (lat, lon) field conservatively on the book's grid, ``fill="mean"``: values, lat, lon.

    Each target cell gets the area-weighted mean of the model cells with a value that overlap it,
    NaN where none has (:func:`globalrs.harmonize.regrid_conservative` with the model's
    reconstructed cell edges).
    """
    _, _, lat_e, lon_e = native_coordinates(entry)
    lat, lon, tgt_lat_e, tgt_lon_e = _grid_edges_05(resolution_deg)
    integ, cover = regrid_conservative(
        values, GridEdges(lat=lat_e, lon=lon_e, lat_descending=False), tgt_lat_e, tgt_lon_e, "density"
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(cover > 0, integ / cover, np.nan)
    return mean, lat, lon


def regrid_native_to_05(rh: xr.DataArray, entry: dict, resolution_deg: float = 0.5) -> xr.DataArray:
    """Conservative regridding of a native map to the book's grid, ``fill="mean"``, g C m-2 yr-1.

    Uses :func:`globalrs.harmonize.regrid_conservative` with the reconstructed (Gaussian or
    regular) cell edges; a target cell receives the area-weighted mean of the model cells with a
    value that overlap it (the harmonizer's ``fill="mean"`` rule), NaN where none has.
    """
    if rh.attrs.get("units") != RH_UNITS:
        raise ValueError(f"expected rh in {RH_UNITS}, got {rh.attrs.get('units')!r}")
    mean, lat, lon = _native_mean_05(rh.transpose("lat", "lon").values * G_PER_KG, entry, resolution_deg)
    return xr.DataArray(
        mean,
        dims=("lat", "lon"),
        coords={"lat": lat, "lon": lon},
        name="rh",
        attrs={"units": "g C m-2 yr-1", "per": "m2 of land", "regridding": "first-order conservative, fill='mean'"},
    )


#: Plausible near-surface air temperature of a period-mean map (degC): outside it, not a tas field.
TAS_RANGE_C = (-90.0, 60.0)


def tas_map_05(model: str, grids: pd.DataFrame | None = None, resolution_deg: float = 0.5) -> xr.DataArray:
    """One model's 1995-2005 mean near-surface air temperature (tas) on the book's grid, degC.

    Read from ``varney2020/historical_tas_data_<model>.npy`` (and its mask) on the same
    reconstructed native grid as the model's rh (:func:`grid_entry`), then regridded
    conservatively (area-weighted mean of the overlapping model cells, like
    :func:`regrid_native_to_05`). tas covers land and ocean; callers keep the cells they need.

    Raises
    ------
    ModelGridError
        Unknown model, or a file whose shape is not the documented grid.
    ValueError
        Values outside :data:`TAS_RANGE_C` (e.g. a field in kelvin or another variable).
    """
    entry = grid_entry(model, grids)
    data = np.load(fetch(f"{VARNEY_DIR}/historical_tas_data_{model}.npy"), allow_pickle=False).astype(np.float64)
    mask = np.load(fetch(f"{VARNEY_DIR}/historical_tas_mask_{model}.npy"), allow_pickle=False).astype(bool)
    want = (int(entry["nlat"]), int(entry["nlon"]))
    if data.shape != want or mask.shape != want:
        raise ModelGridError(f"{model}: tas of shape {data.shape} (mask {mask.shape}) is not the documented {want} grid")
    data[mask | ~np.isfinite(data)] = np.nan
    lo, hi = float(np.nanmin(data)), float(np.nanmax(data))
    if lo < TAS_RANGE_C[0] or hi > TAS_RANGE_C[1]:
        raise ValueError(f"{model}: tas from {lo:g} to {hi:g}, outside {TAS_RANGE_C} degC: not a temperature in degC")
    mean, lat, lon = _native_mean_05(data, entry, resolution_deg)
    return xr.DataArray(
        mean,
        dims=("lat", "lon"),
        coords={"lat": lat, "lon": lon},
        name="tas",
        attrs={"units": "degC", "model": model, "period": RH_PERIOD, "regridding": "first-order conservative, fill='mean'"},
    )


def rh_map_inputs(models: list[str]) -> list[str]:
    """Registry names of the files :func:`build_rh_maps_05` reads for ``models`` (the cache key's inputs).

    Parameters
    ----------
    models
        Model names of the grid table.

    Returns
    -------
    list of str
        The rh data and mask files of each model, and the 0.5-degree land fraction.
    """
    files = [f"{VARNEY_DIR}/historical_rh_{kind}_{model}.npy" for model in models for kind in ("data", "mask")]
    return files + [LAND_FRACTION_FILE]


def build_rh_maps_05(models: list[str] | None = None, progress: bool | None = None) -> xr.Dataset:
    """Every table model's rh on the 0.5-degree grid (uncached; see :func:`load_rh_maps_05`).

    A line per model is printed when ``progress`` is True, or when it is None and
    :func:`globalrs.progress.progress_enabled` says so (an interactive session): a book page
    does not show a log of 16 lines."""
    grids = load_model_grids()
    models = list(grids["model"]) if models is None else list(models)
    frac = read_land_fraction_05()
    parts, counts = [], {}
    for i, model in enumerate(models, start=1):
        if progress_enabled(progress):
            print(f"rh map {i}/{len(models)}: {model}", file=sys.stdout, flush=True)
        entry = grid_entry(model, grids)
        native = mask_unmasked_ocean(read_native_rh(model, grids), land_fraction_on_native(frac, entry))
        parts.append(regrid_native_to_05(native, entry))
        counts[model] = {
            k: native.attrs[k]
            for k in (
                "n_masked",
                "n_nonfinite_set_missing",
                "n_negative_set_zero",
                "min_negative_kg_m2_yr",
                "n_zero_ocean_set_missing",
            )
        }
    rh = xr.concat(parts, dim="model").assign_coords(model=np.asarray(models, dtype="U"))
    mips = grids.set_index("model").loc[models, "mip"].to_numpy().astype("U")
    lat, lon = make_grid(0.5)
    ds = xr.Dataset(
        {
            "rh": rh.astype(np.float32).assign_attrs(
                units="g C m-2 yr-1", per="m2 of land", long_name="heterotrophic respiration", period=RH_PERIOD
            ),
            "cell_area_m2": cell_area_m2(lat, lon),
            "land_fraction": frac,
            "land_mask": frac > 0,
        },
        attrs={
            "source": "Varney et al. 2020 (varney2020/*.npy), coordinates reconstructed",
            "coordinates_reconstructed": "yes",
            "cleaning_counts": json.dumps(counts),
            "regridding": "first-order conservative (globalrs.harmonize), fill='mean'",
            "totals_area": "cell_area_m2 x land_fraction (book land fraction: an approximation)",
        },
    )
    return ds.assign_coords(mip=("model", mips))


def load_rh_maps_05(mip: str | None = None, refresh: bool = False) -> xr.Dataset:
    """CMIP6/CMIP5 rh maps on the book's 0.5-degree grid, cached on disk.

    Parameters
    ----------
    mip
        ``"CMIP6"``, ``"CMIP5"`` or None (all 16 models).
    refresh
        Rebuild the cached file.

    Returns
    -------
    xarray.Dataset
        ``rh`` (model, lat, lon) g C m-2 yr-1 per m2 of land (NaN where the model has no land
        cell), coordinate ``mip`` along ``model``; ``cell_area_m2``, ``land_fraction``,
        ``land_mask`` (land fraction > 0) (lat, lon).
    """
    if mip is not None and mip not in MIPS:
        raise ValueError(f"mip must be one of {MIPS} or None, got {mip!r}")
    table = load_model_grids()
    models = list(table["model"])
    key = cache_key("rh_maps_05", CODE_VERSION, rh_map_inputs(models), grid_table=table.to_csv(index=False))
    path = cache_path("cmipmaps", "rh_maps_05", key)
    ds = cached_build(
        path, lambda: build_rh_maps_05(models), read_netcdf, lambda d, target: write_netcdf_atomic(d, target), refresh
    )
    ds["land_mask"] = ds["land_mask"].astype(bool)
    if mip is not None:
        ds = ds.isel(model=np.flatnonzero(ds["mip"].values == mip))
    return ds


def rh_global_totals_pg(ds: xr.Dataset, mask: xr.DataArray | None = None) -> pd.DataFrame:
    """Global rh totals (Pg C yr-1) of each model: rh x cell area x land fraction.

    Land cells without a model value (the model's own land-sea mask differs from the book's)
    contribute nothing; their share of the land area is reported, not hidden.

    Parameters
    ----------
    ds
        :func:`load_rh_maps_05` output.
    mask
        Cells that count (default ``ds["land_mask"]``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``model``: ``mip``, ``rh_total_pg_c_yr`` and ``land_area_without_value_pct``
        (share of the masked land area, weighted by land fraction, with no model value).
    """
    mask = ds["land_mask"] if mask is None else mask.astype(bool)
    land_area = (ds["cell_area_m2"] * ds["land_fraction"]).where(mask, 0.0)
    rh = ds["rh"].where(mask)
    total = (rh.fillna(0.0) * land_area).sum(("lat", "lon")) / G_PER_PG
    missing = (rh.isnull() * land_area).sum(("lat", "lon")) / land_area.sum()
    return pd.DataFrame(
        {"mip": ds["mip"].values, "rh_total_pg_c_yr": total.values, "land_area_without_value_pct": 100.0 * missing.values},
        index=pd.Index(ds["model"].values.astype(str), name="model"),
    )


def regional_cv_by_mip(
    maps: xr.Dataset, mip: str, weights: xr.DataArray, land_mask: xr.DataArray | None = None
) -> tuple[pd.DataFrame, xr.DataArray]:
    """Regional totals of one MIP's maps and their inter-model CV (Fig. 5 of the paper).

    Parameters
    ----------
    maps
        :func:`load_rh_maps_05` output (several MIPs).
    mip
        ``"CMIP6"`` or ``"CMIP5"``.
    weights
        Region weights on the maps' grid (:func:`globalrs.regions.region_weights`).
    land_mask
        Optional (lat, lon) land definition to total over instead of the maps' own (every cell
        of the book's land fraction, ice included): with the data-driven land mask both sides of
        a model-data comparison sum over the same land. Cells of it outside the maps' land mask
        count nothing.

    Returns
    -------
    tuple of pandas.DataFrame and xarray.DataArray
        :func:`globalrs.modelspread.regional_cv_percent` across models, and the (model, region) totals in
        Pg C yr-1 (:func:`globalrs.modelspread.regional_totals_by_model_pg`).

    Raises
    ------
    ValueError
        If no map belongs to ``mip``.
    """
    chosen = np.flatnonzero(maps["mip"].values == mip)
    if chosen.size == 0:
        raise ValueError(f"no {mip!r} maps in the dataset (MIPs: {sorted(set(maps['mip'].values.astype(str)))})")
    sub = maps.isel(model=chosen)
    mask = sub["land_mask"].astype(bool)
    if land_mask is not None:
        same = land_mask.shape == mask.shape and all(np.allclose(land_mask[c], mask[c]) for c in ("lat", "lon"))
        if not same:
            raise GridError(f"{mip}: the land mask is not on the maps' grid")
        mask = mask & land_mask.astype(bool)
    totals = regional_totals_by_model_pg(sub["rh"], sub["cell_area_m2"], sub["land_fraction"], mask, weights)
    return regional_cv_percent(totals, dim="model"), totals


# --------------------------------------------------------------------------------------------
# against the independent annual series (cmip6-hector)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# against published zonal shares (landmodels/CMIP6_percent_of_global_RH.csv)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# digitised global series
# --------------------------------------------------------------------------------------------


def read_digitised_series(path: Path, label: str) -> pd.DataFrame:
    """Read one DataThief export (first line ``#DataThief``; then x, y pairs) as annual values.

    Digitised points fall near, not on, whole years: each is assigned to the nearest year, and
    a year with two points (or none) is an error rather than a silent average or gap.

    Returns
    -------
    pandas.DataFrame
        Columns ``series``, ``year`` (int), ``rh_pg_c_yr``, ``year_digitised`` (the raw x).
    """
    text = Path(path).read_text(encoding="latin-1")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or not lines[0].lower().startswith("#datathief"):
        raise ValueError(f"{path}: first line is not '#DataThief': not a DataThief export")
    rows = []
    for ln in lines[1:]:
        if ln.startswith("#"):
            continue
        parts = [p for p in ln.replace(";", ",").replace("\t", ",").split(",") if p.strip()]
        if len(parts) == 1:
            parts = ln.split()
        try:
            x, y = float(parts[0]), float(parts[1])
        except (ValueError, IndexError) as err:
            if not rows:
                continue  # a header line such as "x, y"
            raise ValueError(f"{path}: cannot read line {ln!r}") from err
        rows.append((x, y))
    if not rows:
        raise ValueError(f"{path}: no data points")
    frame = pd.DataFrame(rows, columns=["year_digitised", "rh_pg_c_yr"])
    frame["year"] = np.rint(frame["year_digitised"]).astype(int)
    if (frame["year_digitised"] - frame["year"]).abs().max() > 0.35:
        raise ValueError(f"{path}: digitised x values are not close to whole years")
    dup = frame["year"].duplicated()
    if dup.any():
        raise ValueError(f"{path}: years {sorted(frame.loc[dup, 'year'])} digitised twice")
    if not frame["rh_pg_c_yr"].between(10.0, 150.0).all():
        raise ValueError(f"{path}: values outside 10-150 Pg C yr-1; not a global Rh series?")
    frame.insert(0, "series", label)
    return frame[["series", "year", "rh_pg_c_yr", "year_digitised"]].sort_values("year", ignore_index=True)


def read_digitised_rh() -> pd.DataFrame:
    """The digitised global Rh series (Hashimoto et al. 2015; Tang et al. 2020), labelled as such."""
    return pd.concat([read_digitised_series(fetch(name), label) for label, name in DIGITISED_FILES.items()], ignore_index=True)
