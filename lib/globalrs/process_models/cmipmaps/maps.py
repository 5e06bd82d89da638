"""Reading the models' rh maps (Varney et al. 2020) on their native grids and putting them on 0.5 degrees.

The cached 0.5-degree maps are keyed on :data:`CODE_VERSION`, the input files and the grid
table; totals and regional spreads by MIP are computed here.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.core.exceptions import GridError, ModelGridError
from globalrs.core.grid import cell_area_m2, make_grid
from globalrs.core.progress import progress_enabled
from globalrs.core.units import G_PER_KG, G_PER_PG
from globalrs.gridding.harmonize import GridEdges, regrid_conservative
from globalrs.process_models.cmipmaps.grids import (
    MIPS,
    _grid_edges_05,
    grid_entry,
    land_fraction_on_native,
    load_model_grids,
    models_with_shape,
    native_coordinates,
)
from globalrs.process_models.regional import regional_cv_percent, regional_totals_by_model_pg
from globalrs.sources.cache import cache_key, cache_path, cached_build, read_netcdf, write_netcdf_atomic
from globalrs.sources.data import fetch
from globalrs.sources.readers import LAND_FRACTION_FILE, read_land_fraction_05

VARNEY_DIR = "varney2020"


RH_UNITS = "kg C m-2 yr-1"


#: The years (inclusive) of the mean rh maps saved by Varney et al. (2020), and as text.
RH_YEARS = (1995, 2005)


RH_PERIOD = f"{RH_YEARS[0]}-{RH_YEARS[1]}"


#: Largest negative rh (kg C m-2 yr-1) read as numerical noise and set to 0 (HadGEM2-ES has
#: values down to -7.5e-5, i.e. -0.075 g C m-2 yr-1); anything more negative is an error.
NEGATIVE_NOISE_KG = 1e-3


#: Result version of the cached 0.5-degree maps: bump it when their computation changes.
#: 3: the regridding no longer counts touching cells as overlapping (~1e-13 overlaps), so a few
#: hundred coastal cells lose a neighbour's value (issue 22)
CODE_VERSION = "3"


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
    NaN where none has (:func:`globalrs.gridding.harmonize.regrid_conservative` with the model's
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

    Uses :func:`globalrs.gridding.harmonize.regrid_conservative` with the reconstructed (Gaussian or
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
    :func:`globalrs.core.progress.progress_enabled` says so (an interactive session): a book page
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
            "regridding": "first-order conservative (globalrs.gridding.harmonize), fill='mean'",
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
        Region weights on the maps' grid (:func:`globalrs.gridding.regions.region_weights`).
    land_mask
        Optional (lat, lon) land definition to total over instead of the maps' own (every cell
        of the book's land fraction, ice included): with the data-driven land mask both sides of
        a model-data comparison sum over the same land. Cells of it outside the maps' land mask
        count nothing.

    Returns
    -------
    tuple of pandas.DataFrame and xarray.DataArray
        :func:`globalrs.process_models.regional.regional_cv_percent` across models, and the (model, region) totals in
        Pg C yr-1 (:func:`globalrs.process_models.regional.regional_totals_by_model_pg`).

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
