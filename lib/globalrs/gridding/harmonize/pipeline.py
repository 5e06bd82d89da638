"""The harmonizer's entry point, :func:`harmonize_to_grid`, as a few short steps.

Open and read the units (:mod:`.sources`), build the edges of both grids, then either stream a
large 2-D file (:mod:`.streaming`) or load it, reduce its time axis and check it
(:mod:`.plausibility`) before regridding (:mod:`.regrid`); divide by the target area and
assemble the output Dataset.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from globalrs.core import units as gunits
from globalrs.core.exceptions import HarmonizeError
from globalrs.core.grid import cell_area_m2, make_grid, make_grid_edges, wrap_lon
from globalrs.gridding.harmonize.plausibility import PLAUSIBLE_RS_G_M2_YR, ImplausibleCells, check_source_map, check_target_map
from globalrs.gridding.harmonize.regrid import LAT_KIND_NOTES, regrid_conservative
from globalrs.gridding.harmonize.sources import (
    MIN_LAT_COVERAGE,
    GridEdges,
    _prepare_time,
    _scalar_factor,
    _series_note,
    _to_canonical,
    check_global_coverage,
    grid_edges,
    open_source,
)
from globalrs.gridding.harmonize.streaming import STREAM_MIN_CELLS, _stream_file


def harmonize_to_grid(
    source: str | os.PathLike | xr.Dataset | xr.DataArray,
    resolution_deg: float = 0.5,
    variable: str | None = None,
    units: str | None = None,
    fill: str = "conserve",
    band_as: str | None = None,
    min_lat_coverage: tuple[float, float] = MIN_LAT_COVERAGE,
    stream: bool | None = None,
    workers: int = 2,
    band_rows: int | None = None,
    plausible_range: tuple[float, float] | None = PLAUSIBLE_RS_G_M2_YR,
    on_implausible: str = "raise",
    progress: bool | None = None,
) -> xr.Dataset:
    """Put a gridded Rs product on the common global grid in g C m-2 yr-1.

    Parameters
    ----------
    source
        NetCDF/GeoTIFF path, Dataset or DataArray (see :func:`open_source`).
    resolution_deg
        Target resolution (default 0.5 deg; grid of :func:`globalrs.core.grid.make_grid`).
    variable
        Variable name inside a multi-variable Dataset/NetCDF.
    units
        Units to use instead of (or where missing) the file's ``units`` attribute.
    fill
        ``"conserve"`` (default) or ``"mean"``: rule for partly covered target cells (module doc).
    band_as
        ``"month"`` for 12-band monthly GeoTIFFs.
    min_lat_coverage
        (south, north) latitudes the source must cover to count as global.
    stream
        Force (True) or forbid (False) band-wise streaming of a 2-D file; default: stream files
        with more than :data:`STREAM_MIN_CELLS` cells.
    workers
        Threads used when streaming.
    band_rows
        Source rows per streamed band (default: about 32 MB of float32 per band).
    plausible_range
        (low, high) annual respiration in g C m-2 yr-1 (default :data:`PLAUSIBLE_RS_G_M2_YR`,
        0 to 5,000); ``None`` turns the check off.
    on_implausible
        ``"raise"`` (default): refuse a map with cells outside ``plausible_range``
        (:class:`PlausibilityError` naming how many and where); ``"clip"``: clip them to the
        range and count them in ``attrs["n_cells_clipped_low"]`` / ``["n_cells_clipped_high"]``.
    progress
        Progress bar (rows read) while streaming a large file; default: on at a terminal
        (:func:`globalrs.core.progress.progress_enabled`).

    Returns
    -------
    xarray.Dataset
        ``rs_annual`` (lat, lon) g C m-2 yr-1, ``rs_monthly`` (month, lat, lon) g C m-2 month-1
        when the input resolves months, ``valid_fraction`` (lat, lon) and ``cell_area_m2``.

    Raises
    ------
    HarmonizeError
        Unknown or missing units, non-global or irregular grid, all-missing map, bad time axis.
    PlausibilityError
        Cells outside ``plausible_range`` with ``on_implausible="raise"``.
    """
    _check_options(fill, on_implausible)
    da, parsed = _open_with_units(source, variable, band_as, units)
    what = _map_name(source, da)
    da = _wrap_and_sort_lon(da)
    edges = grid_edges(da["lat"].values, da["lon"].values)
    check_global_coverage(edges, min_lat_coverage)
    target = _TargetGrid.of(resolution_deg)
    check = _Check(plausible_range, on_implausible, what, parsed.text)
    is_path = not isinstance(source, (xr.Dataset, xr.DataArray))
    stream = _decide_stream(stream, is_path, da)
    if stream:
        integ = _harmonize_streamed(source, da, edges, target, parsed, workers, band_rows, progress)
    else:
        integ = _harmonize_loaded(da, edges, target, parsed, check)
    if not np.any(integ.cover > 0):
        raise HarmonizeError("the map is all missing: no cell holds a value")
    annual, denom = _densities(integ.integ, integ.cover, target.area_m2.values, fill)
    if stream and plausible_range is not None:
        annual, integ.found = check_target_map(annual, target.lat, target.lon, plausible_range, on_implausible, what, parsed.text)
    out = _assemble(annual, denom, integ, target, fill)
    if plausible_range is not None and integ.found is not None:  # found: checked whenever a range is given
        out.attrs.update(
            {
                "plausible_range_g_m2_yr": list(plausible_range),
                "n_cells_clipped_low": integ.found.n_low,
                "n_cells_clipped_high": integ.found.n_high,
            }
        )
    out.attrs = {
        **out.attrs,
        "source": str(source) if is_path else (da.name or "in-memory array"),
        "source_units": parsed.text,
        "source_time_axis": integ.kind,
        "regridding": f"first-order conservative, fill={fill!r}"
        + (", streamed" if stream else "")
        + LAT_KIND_NOTES[edges.lat_kind],
        "time_averaging": integ.time_note,
        "reprojected_from": str(da.attrs.get("reprojected_from", "")),
        "resolution_deg": resolution_deg,
    }
    return out


def _check_options(fill: str, on_implausible: str) -> None:
    if fill not in ("conserve", "mean"):
        raise ValueError(f"fill must be 'conserve' or 'mean', got {fill!r}")
    if on_implausible not in ("raise", "clip"):
        raise ValueError(f"on_implausible must be 'raise' or 'clip', got {on_implausible!r}")


def _open_with_units(
    source, variable: str | None, band_as: str | None, units: str | None
) -> tuple[xr.DataArray, gunits.FluxUnits]:
    """The opened map and its parsed units (``units`` overrides the file's attribute)."""
    da = open_source(source, variable=variable, band_as=band_as)
    if units is not None:
        da = da.copy()
        da.attrs["units"] = units
    try:
        parsed = gunits.parse_flux_units(da.attrs.get("units"))
    except gunits.UnitsError as exc:
        raise HarmonizeError(f"unusable units for {da.name or 'the variable'}: {exc}") from exc
    reprojected_from = str(da.attrs.get("reprojected_from", ""))
    if parsed.is_per_cell and reprojected_from:
        raise HarmonizeError(
            f"per-cell totals ({parsed.text!r}) on a projected grid ({da.attrs['reprojected_from']}) cannot be "
            "reprojected by averaging: give the map as a flux density (per m2)"
        )
    return da, parsed


def _map_name(source, da: xr.DataArray) -> str:
    """How messages name the map: its path, else its variable name."""
    if not isinstance(source, (xr.Dataset, xr.DataArray)):
        return str(source)
    return f"the map {da.name!r}" if da.name else "the map"


def _wrap_and_sort_lon(da: xr.DataArray) -> xr.DataArray:
    """0..360 (or shifted, or -180..180 starting elsewhere): wrap to -180..180 and sort; lazy for
    files (index only)."""
    lon_vals = np.asarray(da["lon"].values, dtype=float)
    if np.any(lon_vals >= 180.0) or np.any(lon_vals < -180.0) or np.any(np.diff(lon_vals) <= 0):
        da = da.assign_coords(lon=wrap_lon(lon_vals)).sortby("lon")
    return da


@dataclass(frozen=True)
class _TargetGrid:
    """The book's grid at one resolution: centres, edges (deg) and cell areas."""

    lat: np.ndarray
    lon: np.ndarray
    lat_e: np.ndarray
    lon_e: np.ndarray
    area_m2: xr.DataArray

    @classmethod
    def of(cls, resolution_deg: float) -> _TargetGrid:
        lat, lon = make_grid(resolution_deg)
        lat_e, lon_e = make_grid_edges(resolution_deg)
        return cls(lat, lon, lat_e, lon_e, cell_area_m2(lat, lon))


@dataclass(frozen=True)
class _Check:
    """The plausibility settings of one call (``bounds`` None: no check)."""

    bounds: tuple[float, float] | None
    on_implausible: str
    what: str
    units: str


@dataclass
class _Integrals:
    """What a path hands back: integrals and covered areas on the target cells, and notes."""

    integ: np.ndarray
    cover: np.ndarray
    monthly: np.ndarray | None
    kind: str
    time_note: str = ""
    found: ImplausibleCells | None = None


def _decide_stream(stream: bool | None, is_path: bool, da: xr.DataArray) -> bool:
    """Stream 2-D files above :data:`STREAM_MIN_CELLS` cells unless told otherwise."""
    spatial_only = set(da.dims) == {"lat", "lon"}
    if stream is None:
        n_cells = int(da.sizes["lat"]) * int(da.sizes["lon"])
        return is_path and spatial_only and n_cells > STREAM_MIN_CELLS
    if stream and not (is_path and spatial_only):
        raise HarmonizeError("streaming needs a 2-D (lat, lon) variable in a file")
    return bool(stream)


def _harmonize_streamed(source, da, edges: GridEdges, target: _TargetGrid, parsed, workers, band_rows, progress) -> _Integrals:
    """Stream the file in bands; streamed values are in the file's units, so the (scalar) unit
    factor is applied to the integrals."""
    integ, cover = _stream_file(
        Path(source), da, edges, target.lat_e, target.lon_e, parsed.is_per_cell, workers, band_rows, progress
    )
    factor = _scalar_factor(parsed.text, "g C yr-1" if parsed.is_per_cell else "g C m-2 yr-1")
    return _Integrals(integ * factor, cover, None, "static")


def _harmonize_loaded(da: xr.DataArray, edges: GridEdges, target: _TargetGrid, parsed, check: _Check) -> _Integrals:
    """Load the map, reduce its time axis, check it on the source cells and regrid it."""
    da, kind, quantity, time_note = _canonical_loaded(da, edges, parsed)
    found = None
    if check.bounds is not None:
        da, found = check_source_map(
            da, kind, edges, parsed.is_per_cell, check.bounds, check.on_implausible, check.what, check.units
        )
    if kind == "yearly":
        time_note = _series_note(da["time"], "yearly", "averaged into one mean annual map")
        da = da.mean("time")
    values = da.transpose(..., "lat", "lon").values
    integ, cover = regrid_conservative(values, edges, target.lat_e, target.lon_e, quantity)
    if kind == "climatology":
        return _Integrals(integ.sum(axis=0), cover.max(axis=0), integ, kind, time_note, found)
    return _Integrals(integ, cover, None, kind, time_note, found)


def _canonical_loaded(da: xr.DataArray, edges: GridEdges, parsed) -> tuple[xr.DataArray, str, str, str]:
    """The loaded map, latitude ascending, in canonical units; a monthly series becomes a
    climatology. Returns (map, time kind, quantity, note on the time averaging)."""
    da, kind = _prepare_time(da.load())
    if edges.lat_descending:
        da = da.isel(lat=slice(None, None, -1))
    if kind == "yearly" and parsed.time == "month":
        raise HarmonizeError("a yearly time axis with per-month units is ambiguous")
    try:
        da, quantity = _to_canonical(da, kind)
    except gunits.UnitsError as exc:
        raise HarmonizeError(str(exc)) from exc
    time_note = ""
    if kind == "monthly":
        time_note = _series_note(da["time"], "monthly", "averaged month by month into a 12-month climatology")
        da = da.groupby("time.month").mean("time")
        kind = "climatology"
    return da, kind, quantity, time_note


def _densities(integ: np.ndarray, cover: np.ndarray, area: np.ndarray, fill: str) -> tuple[np.ndarray, np.ndarray]:
    """Annual flux density (g C m-2 yr-1) and the denominator used (full or covered area)."""
    denom = area if fill == "conserve" else np.where(cover > 0, cover, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        annual = np.where(cover > 0, integ / denom, np.nan)
    return annual, denom


def _assemble(annual: np.ndarray, denom: np.ndarray, integ: _Integrals, target: _TargetGrid, fill: str) -> xr.Dataset:
    """The output Dataset: annual (and monthly) densities, covered share and cell areas."""
    area = target.area_m2.values
    coords = {"lat": target.lat, "lon": target.lon}
    out = xr.Dataset(coords=coords)
    out["rs_annual"] = xr.DataArray(
        annual,
        dims=("lat", "lon"),
        attrs={"units": "g C m-2 yr-1", "long_name": "mean annual soil respiration"},
    )
    if integ.monthly is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            rs_m = np.where(integ.cover > 0, integ.monthly / (area if fill == "conserve" else denom), np.nan)
        out["rs_monthly"] = xr.DataArray(
            rs_m,
            dims=("month", "lat", "lon"),
            coords={"month": np.arange(1, 13), **coords},
            attrs={"units": "g C m-2 month-1", "long_name": "monthly climatology of soil respiration"},
        )
    out["valid_fraction"] = xr.DataArray(
        np.clip(integ.cover / area, 0.0, 1.0),
        dims=("lat", "lon"),
        attrs={"units": "1", "long_name": "share of the cell area covered by source data"},
    )
    out["cell_area_m2"] = target.area_m2
    return out
