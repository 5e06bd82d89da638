"""Regular latitude-longitude grids: cell centres, exact spherical cell areas and area totals.

Conventions used across the book (and produced by the harmonizer):

* the common grid is 0.5 degree, latitude ascending from -89.75 to 89.75, longitude ascending
  from -179.75 to 179.75 (coordinates ``lat``/``lon`` in degrees);
* flux densities are in g C m-2 yr-1, areas in m2, global and regional totals in Pg C yr-1.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

#: Radius of the authalic sphere of the WGS84 ellipsoid (m): a sphere with the ellipsoid's area.
EARTH_RADIUS_M = 6_371_007.2
#: grams per petagram
G_PER_PG = 1e15


def make_grid(resolution_deg: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Return ascending cell-centre latitudes and longitudes of a global regular grid.

    Parameters
    ----------
    resolution_deg
        Cell size in degrees; must divide 180 evenly.
    """
    n_lat = 180.0 / resolution_deg
    if not np.isclose(n_lat, round(n_lat)):
        raise ValueError(f"resolution {resolution_deg} deg does not divide 180 degrees evenly")
    n_lat = int(round(n_lat))
    lat = -90.0 + resolution_deg * (np.arange(n_lat) + 0.5)
    lon = -180.0 + resolution_deg * (np.arange(2 * n_lat) + 0.5)
    return lat, lon


def cell_area_m2(
    lat: np.ndarray | xr.DataArray,
    lon: np.ndarray | xr.DataArray,
    radius_m: float = EARTH_RADIUS_M,
) -> xr.DataArray:
    """Exact spherical area of each cell of a regular grid: ``R^2 dlon (sin lat_n - sin lat_s)``.

    Parameters
    ----------
    lat, lon
        Cell-centre coordinates in degrees, evenly spaced (either order).
    radius_m
        Sphere radius in metres.

    Returns
    -------
    xarray.DataArray
        ``(lat, lon)`` areas in m2 with ``units="m2"``.
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    dlat = _spacing(lat, "lat")
    dlon = _spacing(lon, "lon")
    south = np.clip(lat - dlat / 2, -90.0, 90.0)
    north = np.clip(lat + dlat / 2, -90.0, 90.0)
    band = radius_m**2 * np.deg2rad(dlon) * (np.sin(np.deg2rad(north)) - np.sin(np.deg2rad(south)))
    area = np.broadcast_to(band[:, None], (lat.size, lon.size))
    return xr.DataArray(
        area.copy(),
        coords={"lat": lat, "lon": lon},
        dims=("lat", "lon"),
        name="cell_area_m2",
        attrs={"units": "m2", "long_name": "cell area", "radius_m": radius_m},
    )


def _spacing(values: np.ndarray, name: str) -> float:
    if values.ndim != 1 or values.size < 2:
        raise ValueError(f"{name} must be a 1-D array of at least two cell centres")
    steps = np.diff(values)
    step = float(np.abs(steps).mean())
    if not np.allclose(np.abs(steps), step, rtol=1e-6, atol=1e-9):
        raise ValueError(f"{name} is not evenly spaced (steps from {steps.min()} to {steps.max()})")
    return step


def global_total_pg(
    flux_g_m2_yr: xr.DataArray,
    area_m2: xr.DataArray | None = None,
    mask: xr.DataArray | None = None,
    dims: tuple[str, ...] = ("lat", "lon"),
) -> xr.DataArray:
    """Area-integrate a flux density (g C m-2 yr-1) to a total in Pg C yr-1.

    Cells that are NaN everywhere are outside the estimate (ocean, ice). With ``mask`` (True for
    cells that must count) a NaN inside the mask is an error, never a silent zero.

    Parameters
    ----------
    flux_g_m2_yr
        Flux density with ``lat``/``lon`` dimensions (other dimensions are kept).
    area_m2
        Cell areas in m2; computed from the coordinates when omitted.
    mask
        Optional boolean ``(lat, lon)`` field of cells that must hold a value.
    dims
        The dimensions summed over.

    Returns
    -------
    xarray.DataArray
        Totals in Pg C yr-1 (``units="Pg C yr-1"``).
    """
    units = flux_g_m2_yr.attrs.get("units")
    if units is not None and units.replace(" ", "") not in {"gCm-2yr-1", "gm-2yr-1"}:
        raise ValueError(
            f"global_total_pg expects g C m-2 yr-1, got units={units!r}; convert first "
            "(see globalrs.units)"
        )
    if area_m2 is None:
        area_m2 = cell_area_m2(flux_g_m2_yr["lat"].values, flux_g_m2_yr["lon"].values)
    if mask is not None:
        missing = (flux_g_m2_yr.isnull() & mask.astype(bool)).sum(dims)
        if int(missing.max()) > 0:
            raise ValueError(
                f"{int(missing.max())} cells inside the mask have no value; fill or exclude them "
                "explicitly before totalling"
            )
        flux_g_m2_yr = flux_g_m2_yr.where(mask.astype(bool))
    total = (flux_g_m2_yr * area_m2).sum(dims, skipna=True) / G_PER_PG
    total.attrs = {"units": "Pg C yr-1", "long_name": "area-integrated total"}
    return total.rename("total_pg_c_yr")


#: m2 per km2, and km2 per million km2 (the unit land areas are reported in).
M2_PER_KM2 = 1e6


def land_area_km2(
    cell_area_m2: xr.DataArray,
    land_fraction: xr.DataArray,
    mask: xr.DataArray | None = None,
    dims: tuple[str, ...] = ("lat", "lon"),
) -> float:
    """The land area a total integrates over: sum of cell area x land fraction over the mask.

    This is the area behind every ``global_total_pg(flux, area_m2=cell_area_m2 * land_fraction,
    mask=mask)`` of the book; cells outside ``mask`` (permanent ice, Antarctica, cells without
    climate) do not count.

    Parameters
    ----------
    cell_area_m2
        Cell areas (m2) on the ``lat``/``lon`` grid.
    land_fraction
        Land fraction of each cell (0-1; NaN counts as no land).
    mask
        Optional boolean field of the cells that count.

    Returns
    -------
    float
        Land area in km2.

    Raises
    ------
    ValueError
        If a land fraction lies outside 0-1 or a cell area is negative.
    """
    frac = land_fraction.fillna(0.0)
    if float(frac.min()) < 0.0 or float(frac.max()) > 1.0 + 1e-6:
        raise ValueError(f"land fraction outside 0-1 ({float(frac.min())} to {float(frac.max())}); "
                         "a percentage must be divided by 100 first")
    if float(cell_area_m2.min()) < 0.0:
        raise ValueError("negative cell area")
    area = cell_area_m2 * frac
    if mask is not None:
        area = area.where(mask.astype(bool), 0.0)
    return float(area.sum(dims)) / M2_PER_KM2
