"""Regular latitude-longitude grids: cell centres, areas, totals, coordinates and point lookup.

The only home of grid mechanics: cell centres (:func:`make_grid`), exact spherical areas
(:func:`cell_area_m2`), area totals (:func:`global_total_pg`), coordinate normalizing
(:func:`normalize_latlon`, :func:`wrap_lon`), grid checks (:func:`check_grid`) and mapping points
to cells (:func:`cell_index`, :func:`sample_at_sites`).

Conventions used across the book (and produced by the harmonizer):

* the common grid is 0.5 degree, latitude ascending from -89.75 to 89.75, longitude ascending
  from -179.75 to 179.75 (coordinates ``lat``/``lon`` in degrees);
* flux densities are in g C m-2 yr-1, areas in m2, global and regional totals in Pg C yr-1.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from globalrs.core.exceptions import GridError
from globalrs.core.units import G_PER_PG, M2_PER_MKM2

#: Radius of the authalic sphere of the WGS84 ellipsoid (m): a sphere with the ellipsoid's area.
EARTH_RADIUS_M = 6_371_007.2
#: Names a latitude / longitude dimension may carry in the files the book reads.
LAT_NAMES = ("lat", "latitude", "y", "nav_lat", "LAT", "Latitude")
LON_NAMES = ("lon", "longitude", "x", "nav_lon", "LON", "Longitude")


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


def make_grid_edges(resolution_deg: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Cell edges (deg, ascending) of :func:`make_grid`: ``n_lat + 1`` from -90 to 90 and
    ``n_lon + 1`` from -180 to 180.

    Parameters
    ----------
    resolution_deg
        Cell size in degrees, as for :func:`make_grid`.
    """
    lat, lon = make_grid(resolution_deg)
    lat_e = np.concatenate([lat - resolution_deg / 2, [90.0]])
    lon_e = np.concatenate([lon - resolution_deg / 2, [180.0]])
    return lat_e, lon_e


def gaussian_latitudes(nlat: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian latitudes (centres, ascending) and cell edges in degrees.

    The centres are the arcsines of the Gauss-Legendre nodes; the sine of each edge is -1 plus
    the running sum of the quadrature weights (the weights sum to 2), so a cell's area on the
    sphere is proportional to its weight. The grids of the spectral climate models (T42, T63,
    T127 ...) use these latitudes.
    """
    if nlat < 2:
        raise GridError(f"a Gaussian grid needs at least 2 latitudes, got {nlat}")
    nodes, weights = np.polynomial.legendre.leggauss(int(nlat))
    centres = np.degrees(np.arcsin(nodes))
    sin_edges = np.clip(np.concatenate([[-1.0], -1.0 + np.cumsum(weights)]), -1.0, 1.0)
    sin_edges[-1] = 1.0
    return centres, np.degrees(np.arcsin(sin_edges))


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
        raise ValueError(f"global_total_pg expects g C m-2 yr-1, got units={units!r}; convert first (see globalrs.core.units)")
    if area_m2 is None:
        area_m2 = cell_area_m2(flux_g_m2_yr["lat"].values, flux_g_m2_yr["lon"].values)
    if mask is not None:
        missing = (flux_g_m2_yr.isnull() & mask.astype(bool)).sum(dims)
        if int(missing.max()) > 0:
            raise ValueError(
                f"{int(missing.max())} cells inside the mask have no value; fill or exclude them explicitly before totalling"
            )
        flux_g_m2_yr = flux_g_m2_yr.where(mask.astype(bool))
    total = (flux_g_m2_yr * area_m2).sum(dims, skipna=True) / G_PER_PG
    total.attrs = {"units": "Pg C yr-1", "long_name": "area-integrated total"}
    return total.rename("total_pg_c_yr")


def wrap_lon(lon):
    """Longitudes wrapped into ``[-180, 180)`` degrees (0..360 grids become -180..180)."""
    return ((lon + 180.0) % 360.0) - 180.0


def _latlon(grid) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(grid, tuple):
        return np.asarray(grid[0]), np.asarray(grid[1])
    return np.asarray(grid["lat"].values), np.asarray(grid["lon"].values)


def same_grid(a, b) -> bool:
    """Whether two fields lie on the same cells: equal ``lat``/``lon`` sizes and coordinates
    equal to :func:`numpy.allclose`'s default tolerance.

    Parameters
    ----------
    a, b
        DataArrays or Datasets with ``lat``/``lon`` coordinates, or ``(lat, lon)`` pairs of
        arrays of cell centres (deg).
    """
    (lat_a, lon_a), (lat_b, lon_b) = _latlon(a), _latlon(b)
    return bool(
        lat_a.shape == lat_b.shape and lon_a.shape == lon_b.shape and np.allclose(lat_a, lat_b) and np.allclose(lon_a, lon_b)
    )


def check_same_grid(a: xr.DataArray, b: xr.DataArray, name_a: str, name_b: str) -> None:
    """Raise naming both grids unless ``a`` and ``b`` have the same lat/lon shape and coordinates.

    Raises
    ------
    GridError
        (a ``ValueError``) A missing axis, a different shape, or coordinates that differ.
    """
    shape_a = (a.sizes.get("lat"), a.sizes.get("lon"))
    shape_b = (b.sizes.get("lat"), b.sizes.get("lon"))
    if None in shape_a or None in shape_b or shape_a != shape_b:
        raise GridError(f"{name_a} {shape_a} (lat, lon) does not match {name_b} {shape_b}")
    for axis in ("lat", "lon"):
        if not np.allclose(a[axis].values, b[axis].values):
            raise GridError(f"{name_a} and {name_b} {axis} coordinates differ")


def normalize_latlon(da: xr.DataArray, wrap_and_sort: bool = False) -> xr.DataArray:
    """Rename latitude/longitude dimensions to ``lat``/``lon`` and check they are 1-D.

    Parameters
    ----------
    da
        Gridded field whose latitude / longitude dimensions carry one of :data:`LAT_NAMES` /
        :data:`LON_NAMES`.
    wrap_and_sort
        Also wrap longitudes into -180..180 (:func:`wrap_lon`) and sort both axes ascending.

    Returns
    -------
    xarray.DataArray
        The same field with ``lat``/``lon`` dimensions.

    Raises
    ------
    GridError
        No latitude or longitude dimension, or a 2-D (curvilinear) coordinate.
    """
    renames = {}
    for names, target in ((LAT_NAMES, "lat"), (LON_NAMES, "lon")):
        found = [d for d in da.dims if d in names]
        if not found:
            raise GridError(f"no {target} dimension among {da.dims}")
        if found[0] != target:
            renames[found[0]] = target
    da = da.rename(renames)
    for name in ("lat", "lon"):
        if name not in da.coords:
            raise GridError(f"dimension {name!r} has no coordinate values")
        if da[name].ndim != 1:
            raise GridError(f"{name} must be 1-D (curvilinear grids are not supported)")
    if wrap_and_sort:
        da = da.assign_coords(lon=wrap_lon(da["lon"])).sortby("lon").sortby("lat")
    return da


def check_grid(da: xr.DataArray, resolution_deg: float | None = 0.5, units: str | None = None) -> None:
    """Raise a clear error unless ``da`` is on ascending global ``lat``/``lon`` cell centres.

    Parameters
    ----------
    da
        Grid whose last two dimensions must be ``("lat", "lon")``.
    resolution_deg
        Expected cell size; with 0.5 the coordinates must equal ``make_grid(0.5)``.
    units
        When given, ``da.attrs["units"]`` must equal it.

    Raises
    ------
    GridError
        Wrong dimensions, descending or non-global coordinates, or other units.
    """
    if da.dims[-2:] != ("lat", "lon"):
        raise GridError(f"grid dimensions must end with ('lat', 'lon'), got {da.dims}")
    lat = da["lat"].values
    lon = da["lon"].values
    if not (np.all(np.diff(lat) > 0) and np.all(np.diff(lon) > 0)):
        raise GridError("lat and lon must be ascending (flip with .sortby('lat') first)")
    if resolution_deg is not None:
        ref_lat, ref_lon = make_grid(resolution_deg)
        if lat.shape != ref_lat.shape or lon.shape != ref_lon.shape:
            raise GridError(
                f"grid shape {lat.size} x {lon.size} is not the global {resolution_deg}-degree grid "
                f"({ref_lat.size} x {ref_lon.size})"
            )
        if not (np.allclose(lat, ref_lat, atol=1e-4) and np.allclose(lon, ref_lon, atol=1e-4)):
            raise GridError(f"coordinates are not the {resolution_deg}-degree cell centres of make_grid")
    if units is not None and da.attrs.get("units") != units:
        raise GridError(f"expected units {units!r}, got {da.attrs.get('units')!r}")


def cell_index(values, start: float, step: float, n: int, name: str, strict: bool = True) -> np.ndarray:
    """Index of the cell containing each coordinate on a regular axis starting at edge ``start``.

    Parameters
    ----------
    values
        Coordinates in degrees.
    start, step, n
        The axis: first cell edge, cell size and number of cells.
    name
        Axis name for error messages.
    strict
        Raise for coordinates outside the axis (default); otherwise return -1 for them.

    Returns
    -------
    numpy.ndarray
        Integer cell indices (a point exactly on the far edge belongs to the last cell).

    Raises
    ------
    GridError
        With ``strict``, coordinates outside the axis (the count is named).
    """
    values = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        idx = np.floor((values - start) / step)
    idx = np.where(np.isfinite(idx), idx, -1).astype(np.int64)
    idx = np.where(np.isclose(values, start + n * step), n - 1, idx)
    bad = (idx < 0) | (idx >= n) | ~np.isfinite(values)
    if bad.any():
        if strict:
            raise GridError(f"{int(bad.sum())} site(s) have {name} outside the grid [{start}, {start + n * step}]")
        idx = np.where(bad, -1, idx)
    return idx


def sample_at_sites(grid: xr.DataArray, lat, lon) -> np.ndarray:
    """Value of the grid cell containing each site (no interpolation).

    Parameters
    ----------
    grid
        ``(..., lat, lon)`` regular grid with ascending cell-centre coordinates.
    lat, lon
        Site coordinates in degrees (longitudes -180..180).

    Returns
    -------
    numpy.ndarray
        Shape ``(n_sites, ...)``: the leading grid dimensions follow the site axis. NaN where the
        cell holds no value; sites outside the grid raise :class:`GridError`.
    """
    check_grid(grid, resolution_deg=None)
    glat = grid["lat"].values
    glon = grid["lon"].values
    dlat = float(glat[1] - glat[0])
    dlon = float(glon[1] - glon[0])
    i = cell_index(lat, glat[0] - dlat / 2, dlat, glat.size, "latitude")
    j = cell_index(lon, glon[0] - dlon / 2, dlon, glon.size, "longitude")
    values = grid.values[..., i, j]
    return np.moveaxis(values, -1, 0)


def land_area_mkm2(
    cell_area_m2: xr.DataArray,
    land_fraction: xr.DataArray,
    mask: xr.DataArray | None = None,
    dims: tuple[str, ...] = ("lat", "lon"),
) -> float:
    """The land area a total integrates over, in million km2: cell area x land fraction over the mask.

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
    dims
        The dimensions summed over.

    Returns
    -------
    float
        Land area in million km2.

    Raises
    ------
    GridError
        If a land fraction lies outside 0-1 or a cell area is negative.
    """
    frac = land_fraction.fillna(0.0)
    if float(frac.min()) < 0.0 or float(frac.max()) > 1.0 + 1e-6:
        raise GridError(
            f"land fraction outside 0-1 ({float(frac.min())} to {float(frac.max())}); a percentage must be divided by 100 first"
        )
    if float(cell_area_m2.min()) < 0.0:
        raise GridError("negative cell area")
    area = cell_area_m2 * frac
    if mask is not None:
        area = area.where(mask.astype(bool), 0.0)
    return float(area.sum(dims)) / M2_PER_MKM2
