"""Where the map has values: the cells its totals use and its coverage of the land and of each region."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

#: a cell is "mostly land" when its land fraction is at least this: the cells an ordinary land
#: mask of a map-maker (land fraction > 0.5, or any coarser land/sea mask) keeps
MOSTLY_LAND_FRACTION = 0.5
#: share of a region's mostly-land area (ensemble land mask, cell area x land fraction, cells of
#: land fraction >= MOSTLY_LAND_FRACTION) a map must cover for its regional total to be compared
#: and counted in the regional CV; coastal cells that are mostly sea do not count here, and the
#: comparison itself is made on the cells the map covers (members totalled there too)
REGION_COVERAGE_COMPLETE = 0.95
#: share of the ensemble's land (cell area x land fraction) a map must have values on to count as
#: global; below it the map is refused (or, with --region-only, reported as PARTIAL) whatever the
#: extent of its grid
GLOBAL_LAND_COVERAGE = 0.9


def land_area_m2(ens: xr.Dataset) -> xr.DataArray:
    """Return the book's integration area of each cell: cell area x land fraction (m2).

    Parameters
    ----------
    ens
        The ensemble (``cell_area_m2``, ``land_fraction``).

    Returns
    -------
    xarray.DataArray
        ``(lat, lon)`` area in m2.
    """
    return ens["cell_area_m2"] * ens["land_fraction"]


def map_cells(harmonized: xr.Dataset, ens: xr.Dataset) -> xr.DataArray:
    """Return the cells the map's totals use: the map has a value and the cell holds land.

    Parameters
    ----------
    harmonized
        The harmonized map (``rs_annual``).
    ens
        The ensemble (``land_fraction``).

    Returns
    -------
    xarray.DataArray
        Boolean ``(lat, lon)``.
    """
    return harmonized["rs_annual"].notnull() & (ens["land_fraction"] > 0)


def region_coverage(harmonized: xr.Dataset, ens: xr.Dataset, weights: xr.DataArray, mostly_land: bool = False) -> pd.Series:
    """Return the share of each region's land where the map has a value.

    Land is cell area x land fraction on the ensemble's land mask; with ``mostly_land`` only
    cells of land fraction >= :data:`MOSTLY_LAND_FRACTION` count.

    Parameters
    ----------
    harmonized
        The harmonized map.
    ens
        The ensemble.
    weights
        ``(region, lat, lon)`` region weights.
    mostly_land
        Count only mostly-land cells.

    Returns
    -------
    pandas.Series
        Share (0-1) by region; NaN for a region without such land.
    """
    area = land_area_m2(ens)
    cells = ens["land_mask"].astype(bool)
    if mostly_land:
        cells = cells & (ens["land_fraction"] >= MOSTLY_LAND_FRACTION)
    land_w = weights * area.where(cells, 0.0)
    covered = land_w.where(map_cells(harmonized, ens), 0.0).sum(("lat", "lon"))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (covered / land_w.sum(("lat", "lon"))).to_series()


def land_coverage(harmonized: xr.Dataset, ens: xr.Dataset) -> float:
    """Return the share of the ensemble's land where the map has a value.

    The footprint test of a global map (:data:`GLOBAL_LAND_COVERAGE`); land is cell area x land
    fraction on the ensemble's land mask.

    Parameters
    ----------
    harmonized
        The harmonized map.
    ens
        The ensemble.

    Returns
    -------
    float
        Share 0-1.
    """
    area = land_area_m2(ens).where(ens["land_mask"].astype(bool), 0.0)
    return float(area.where(map_cells(harmonized, ens), 0.0).sum() / area.sum())
