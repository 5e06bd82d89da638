"""The one plausibility check of a harmonized respiration map (values after unit conversion).

A respiration map cannot be negative, and annual values above :data:`PLAUSIBLE_RS_G_M2_YR`'s
upper bound point to wrong units or corrupt data. :func:`check_plausible` is the check both
paths of :func:`globalrs.gridding.harmonize.harmonize_to_grid` call (source cells when the map is loaded,
target cells when it is streamed): it finds the cells out of range and refuses the map or lets
the caller clip them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from globalrs.core.exceptions import PlausibilityError
from globalrs.core.grid import EARTH_RADIUS_M
from globalrs.gridding.harmonize.sources import GridEdges

#: (low, high) plausible annual respiration, g C m-2 yr-1 (see the module docstring)
PLAUSIBLE_RS_G_M2_YR = (0.0, 5000.0)


#: how many example cells an implausibility message names
N_EXAMPLE_CELLS = 3


@dataclass(frozen=True)
class ImplausibleCells:
    """Cells of a map outside a plausible range.

    Attributes
    ----------
    n_low, n_high
        Number of (lat, lon) cells below the low bound in any month/year, and above the high bound.
    examples_low, examples_high
        Up to :data:`N_EXAMPLE_CELLS` ``(lat, lon, value)`` tuples of the most extreme cells.
    """

    n_low: int
    n_high: int
    examples_low: tuple[tuple[float, float, float], ...]
    examples_high: tuple[tuple[float, float, float], ...]

    @property
    def count(self) -> int:
        """Cells out of range (low or high)."""
        return self.n_low + self.n_high


def _examples(score: np.ndarray, shown: np.ndarray, mask: np.ndarray, lat, lon, largest: bool):
    idx = np.flatnonzero(mask)
    order = np.argsort(score.ravel()[idx])
    if largest:
        order = order[::-1]
    picks = idx[order[:N_EXAMPLE_CELLS]]
    rows, cols = np.unravel_index(picks, mask.shape)
    return tuple((float(lat[r]), float(lon[c]), float(shown.ravel()[p])) for r, c, p in zip(rows, cols, picks, strict=True))


def find_implausible(
    low_values: np.ndarray,
    annual_values: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    bounds: tuple[float, float] = PLAUSIBLE_RS_G_M2_YR,
) -> ImplausibleCells:
    """Find cells below ``bounds[0]`` or above ``bounds[1]``.

    Parameters
    ----------
    low_values
        ``(..., lat, lon)`` values checked against the low bound (any leading index counts:
        a negative month or year makes the cell implausible). NaN is ignored.
    annual_values
        ``(..., lat, lon)`` annual values in g C m-2 yr-1 checked against the high bound.
    lat, lon
        Cell centres, for the examples.
    bounds
        (low, high).
    """
    lo, hi = bounds
    low_values = np.asarray(low_values, dtype=float)
    annual_values = np.asarray(annual_values, dtype=float)
    with np.errstate(invalid="ignore"):
        low_min = np.fmin.reduce(low_values.reshape((-1,) + low_values.shape[-2:]), axis=0)
        high_max = np.fmax.reduce(annual_values.reshape((-1,) + annual_values.shape[-2:]), axis=0)
        low = low_min < lo
        high = high_max > hi
    return ImplausibleCells(
        n_low=int(low.sum()),
        n_high=int(high.sum()),
        examples_low=_examples(low_min, low_min, low, lat, lon, largest=False),
        examples_high=_examples(high_max, high_max, high, lat, lon, largest=True),
    )


def _format_cells(examples) -> str:
    def where(lat, lon):
        return f"{abs(lat):.2f}{'N' if lat >= 0 else 'S'} {abs(lon):.2f}{'E' if lon >= 0 else 'W'}"

    return "; ".join(f"{v:.4g} at {where(la, lo)}" for la, lo, v in examples)


def implausible_message(found: ImplausibleCells, bounds: tuple[float, float], what: str, units: str) -> str:
    """The refusal message: how many cells, where, and what to do."""
    parts = []
    if found.n_low:
        parts.append(f"{found.n_low} cells below {bounds[0]:g} g C m-2 yr-1 (e.g. {_format_cells(found.examples_low)})")
    if found.n_high:
        parts.append(f"{found.n_high} cells above {bounds[1]:g} g C m-2 yr-1 (e.g. {_format_cells(found.examples_high)})")
    return (
        f"{what} is not a plausible respiration map: {' and '.join(parts)}, with the units read "
        f"as {units!r}. Check the units and the fill values of the source; to use the map "
        "anyway pass on_implausible='clip' (clipped cells are counted in the output's "
        "attributes) or another plausible_range."
    )


def _clip_source(da: xr.DataArray, kind: str, bounds: tuple[float, float], area_src: np.ndarray | None) -> xr.DataArray:
    """Clip converted source values to ``bounds`` (annual g C m-2 yr-1); for a climatology,
    negative months go to the low bound and months of cells above the high bound are scaled so
    that the annual sum equals it."""
    lo, hi = bounds
    vals = da.transpose(..., "lat", "lon").values.astype(float)
    dens = vals / area_src if area_src is not None else vals
    dens = np.where(np.isfinite(dens), dens, np.nan)  # missing, as in the regridding
    if kind == "climatology":
        dens = np.where(dens < lo / 12.0, lo / 12.0, dens)
        annual = np.nansum(dens, axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(annual > hi, hi / annual, 1.0)
        dens = dens * scale
    else:
        dens = np.where(np.isnan(dens), np.nan, np.clip(dens, lo, hi))
    vals = dens * area_src if area_src is not None else dens
    return da.transpose(..., "lat", "lon").copy(data=vals.astype(da.dtype if da.dtype.kind == "f" else float))


def _check_source(da: xr.DataArray, kind: str, edges: GridEdges, per_cell: bool):
    """Low/annual density arrays of the converted source, and the source cell areas (per-cell).

    Non-finite values (NaN, +-inf) are missing here as in the regridding, which skips them."""
    vals = da.transpose(..., "lat", "lon").values.astype(float)
    vals = np.where(np.isfinite(vals), vals, np.nan)
    area_src = None
    if per_cell:
        dsin = np.diff(np.sin(np.deg2rad(edges.lat)))
        dlon = np.deg2rad(np.diff(edges.lon))
        area_src = np.outer(dsin, dlon) * EARTH_RADIUS_M**2
        vals = vals / area_src
    annual = np.nansum(vals, axis=0) if kind == "climatology" else vals
    if kind == "climatology":
        annual = np.where(np.all(np.isnan(vals), axis=0), np.nan, annual)
    return vals, annual, area_src


def check_plausible(
    low_values: np.ndarray,
    annual_values: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    bounds: tuple[float, float],
    on_implausible: str,
    what: str,
    units: str,
) -> ImplausibleCells:
    """The plausibility check: find the cells out of ``bounds`` and refuse the map if asked to.

    Parameters
    ----------
    low_values, annual_values, lat, lon, bounds
        As in :func:`find_implausible` (g C m-2 yr-1 for the annual values).
    on_implausible
        ``"raise"``: refuse a map with any cell out of range; ``"clip"``: return the cells so
        that the caller clips them.
    what, units
        The map's name and the units it was read in, for the message.

    Returns
    -------
    ImplausibleCells
        The cells out of range (none when the map is plausible).

    Raises
    ------
    PlausibilityError
        Cells out of range with ``on_implausible="raise"``.
    """
    found = find_implausible(low_values, annual_values, lat, lon, bounds)
    if found.count and on_implausible == "raise":
        raise PlausibilityError(implausible_message(found, bounds, what, units))
    return found


def check_source_map(
    da: xr.DataArray,
    kind: str,
    edges: GridEdges,
    per_cell: bool,
    bounds: tuple[float, float],
    on_implausible: str,
    what: str,
    units: str,
) -> tuple[xr.DataArray, ImplausibleCells]:
    """Check a loaded map on its source cells (after unit conversion); clip it if allowed.

    Returns
    -------
    (map, cells)
        The map (clipped where out of range with ``on_implausible="clip"``) and the cells found.
    """
    low_vals, annual_vals, area_src = _check_source(da, kind, edges, per_cell)
    found = check_plausible(low_vals, annual_vals, da["lat"].values, da["lon"].values, bounds, on_implausible, what, units)
    if found.count:
        da = _clip_source(da, kind, bounds, area_src)
    return da, found


def check_target_map(
    annual_g_m2_yr: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    bounds: tuple[float, float],
    on_implausible: str,
    what: str,
    units: str,
) -> tuple[np.ndarray, ImplausibleCells]:
    """Check a streamed map on the harmonized target cells (the source never sits in memory).

    Returns
    -------
    (annual, cells)
        The annual map clipped to ``bounds`` (NaN kept) and the cells that were out of range.
    """
    found = check_plausible(annual_g_m2_yr, annual_g_m2_yr, lat, lon, bounds, on_implausible, what, units)
    return np.where(np.isnan(annual_g_m2_yr), np.nan, np.clip(annual_g_m2_yr, *bounds)), found
