"""Opening a gridded product for the harmonizer: files, variables, coordinates, CRS, time, units.

:func:`open_source` reads a NetCDF or GeoTIFF (a projected GeoTIFF reprojected to a
latitude-longitude grid nested in 0.5 degrees), picks the variable and names its axes
``lat``/``lon``; :func:`grid_edges` rebuilds the cell edges from the centres (regular, Gaussian
or irregular latitudes) and :func:`check_global_coverage` refuses a map that is not global.
:func:`_prepare_time` classifies the non-spatial axis and :func:`_to_canonical` converts the
units (:mod:`globalrs.core.units`). See :mod:`globalrs.gridding.harmonize` for the rules.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from globalrs.core import units as gunits
from globalrs.core.exceptions import GridError, HarmonizeError
from globalrs.core.grid import EARTH_RADIUS_M, LAT_NAMES, LON_NAMES, gaussian_latitudes, normalize_latlon

#: Minimum latitude span a "global" map must cover (deg): all vegetated land outside Antarctica.
MIN_LAT_COVERAGE = (-55.0, 80.0)


def open_source(
    source: str | os.PathLike | xr.Dataset | xr.DataArray,
    variable: str | None = None,
    band_as: str | None = None,
) -> xr.DataArray:
    """Open a gridded product lazily as a DataArray with ``lat``/``lon`` dimensions.

    Parameters
    ----------
    source
        Path to a NetCDF (``.nc``, ``.nc4``, ``.cdf``) or GeoTIFF (``.tif``, ``.tiff``), or an
        in-memory Dataset / DataArray.
    variable
        Variable to use from a Dataset; required when it holds several gridded variables.
    band_as
        For multi-band GeoTIFFs: ``"month"`` treats 12 bands as January..December.

    Returns
    -------
    xarray.DataArray
        Decoded values (fill values -> NaN, scale/offset applied), dims renamed to
        ``lat``/``lon`` (plus ``time`` or ``month``).
    """
    if isinstance(source, xr.DataArray):
        da = source
    elif isinstance(source, xr.Dataset):
        da = _pick_variable(source, variable)
    else:
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"no such gridded product: {path}")
        suffix = path.suffix.lower()
        if suffix in (".tif", ".tiff"):
            da = _open_geotiff(path, band_as)
        elif suffix in (".nc", ".nc4", ".cdf", ".netcdf", ".h5"):
            try:
                ds = xr.open_dataset(path, engine="netcdf4", mask_and_scale=True, decode_times=True)
            except Exception as exc:  # corrupt or not NetCDF
                raise HarmonizeError(f"cannot read {path} as NetCDF: {exc}") from exc
            da = _pick_variable(ds, variable)
        else:
            raise HarmonizeError(f"unknown file type {suffix!r} for {path} (NetCDF or GeoTIFF)")
    return _normalize_coords(da)


def _open_geotiff(path: Path, band_as: str | None) -> xr.DataArray:
    import rioxarray  # noqa: F401  (registers the engine)

    try:
        da = xr.open_dataarray(path, engine="rasterio", mask_and_scale=True)
    except Exception as exc:
        raise HarmonizeError(f"cannot read {path} as GeoTIFF: {exc}") from exc
    if "band" in da.dims:
        if da.sizes["band"] == 1:
            da = da.isel(band=0, drop=True)
        elif band_as == "month" and da.sizes["band"] == 12:
            da = da.rename(band="month").assign_coords(month=np.arange(1, 13))
        else:
            raise HarmonizeError(f"{path} has {da.sizes['band']} bands: pass band_as='month' for a 12-band monthly climatology")
    crs = da.rio.crs
    if crs is not None and not crs.is_geographic:
        da = _reproject_to_latlon(da, path)
    elif crs is None:
        x, y = np.asarray(da["x"].values, dtype=float), np.asarray(da["y"].values, dtype=float)
        if np.abs(y).max() > 90.0 or np.abs(x).max() > 360.0:
            raise HarmonizeError(
                f"{path} has no coordinate reference system and its coordinates (x {x.min():g}..{x.max():g}, "
                f"y {y.min():g}..{y.max():g}) are not degrees: write its CRS into the file (e.g. gdal_edit.py -a_srs) "
                "or reproject it to latitude-longitude"
            )
    if "spatial_ref" in da.coords:
        da = da.drop_vars("spatial_ref")
    return da


#: resampling of a projected GeoTIFF onto latitude-longitude: the mean of the source pixels in
#: each target cell (the target is never finer than the source pixels)
REPROJECT_RESAMPLING = "average"


#: metres per degree of latitude on the authalic sphere (pixel size of a projected map in degrees)
M_PER_DEG = 2 * np.pi * EARTH_RADIUS_M / 360.0


def _crs_name(crs) -> str:
    """A short name of a CRS: its EPSG code, else its PROJ string."""
    try:
        epsg = crs.to_epsg()
        return f"EPSG:{epsg}" if epsg else crs.to_proj4()
    except Exception:  # a CRS that PROJ cannot express
        return str(crs)


def _reproject_to_latlon(da: xr.DataArray, path: Path) -> xr.DataArray:
    """A projected GeoTIFF (sinusoidal, Lambert equal-area ...) on a latitude-longitude grid.

    The target grid nests in the book's 0.5-degree grid (0.5 / k degrees, the finest such step
    not finer than the source pixels) and covers the map's extent; each target cell gets the mean
    of the source pixels in it (``rioxarray``/``rasterio`` ``average`` resampling), so that the
    harmonizer then aggregates it conservatively. Flux densities only: a per-cell total cannot
    be averaged (the harmonizer refuses that).
    """
    from rasterio.enums import Resampling
    from rasterio.transform import from_origin

    crs = da.rio.crs
    try:
        west, south, east, north = da.rio.transform_bounds("EPSG:4326", densify_pts=21)
        units_m = float(crs.linear_units_factor[1]) if crs.linear_units_factor else 1.0
    except Exception as exc:  # unknown or broken projection
        raise HarmonizeError(f"{path}: cannot transform its projection to latitude-longitude ({_crs_name(crs)}): {exc}") from exc
    if not all(np.isfinite([west, south, east, north])):
        raise HarmonizeError(f"{path}: its projection ({_crs_name(crs)}) gives no finite latitude-longitude bounds")
    pixel_deg = min(abs(v) for v in da.rio.resolution()) * units_m / M_PER_DEG
    k = max(1, int(np.floor(0.5 / max(pixel_deg, 1e-9))))
    step = 0.5 / k
    west, east = np.floor(west / step) * step, np.ceil(east / step) * step
    south, north = max(-90.0, np.floor(south / step) * step), min(90.0, np.ceil(north / step) * step)
    if east - west > 360.0:
        west, east = -180.0, 180.0
    shape = (int(round((north - south) / step)), int(round((east - west) / step)))
    src = da.astype("float64").rio.write_nodata(np.nan, encoded=False)
    try:
        out = src.rio.reproject(
            "EPSG:4326",
            transform=from_origin(west, north, step, step),
            shape=shape,
            resampling=getattr(Resampling, REPROJECT_RESAMPLING),
            nodata=np.nan,
        )
    except Exception as exc:
        raise HarmonizeError(f"{path}: reprojecting from {_crs_name(crs)} to latitude-longitude failed: {exc}") from exc
    out.attrs = {**da.attrs, "reprojected_from": _crs_name(crs)}
    return out


def _pick_variable(ds: xr.Dataset, variable: str | None) -> xr.DataArray:
    if variable is not None:
        if variable not in ds.data_vars:
            raise HarmonizeError(f"variable {variable!r} not in {sorted(map(str, ds.data_vars))}")
        return ds[variable]
    gridded = [
        name
        for name, var in ds.data_vars.items()
        if any(d in LAT_NAMES for d in var.dims) and any(d in LON_NAMES for d in var.dims)
    ]
    if len(gridded) != 1:
        among = gridded or sorted(map(str, ds.data_vars))
        raise HarmonizeError(f"cannot choose the variable to harmonize among {among}: pass variable=")
    return ds[gridded[0]]


def _normalize_coords(da: xr.DataArray) -> xr.DataArray:
    try:
        return normalize_latlon(da)
    except GridError as exc:
        raise HarmonizeError(str(exc)) from exc


@dataclass(frozen=True)
class GridEdges:
    """Cell edges of a regular grid in degrees; ``lon`` edges may start anywhere (periodic)."""

    lat: np.ndarray  # ascending, n_lat + 1
    lon: np.ndarray  # ascending, n_lon + 1
    lat_descending: bool
    #: how the latitude edges were found: "regular", "gaussian" (Gauss-Legendre latitudes) or
    #: "midpoints" (other monotonic latitudes: edges half-way between centres)
    lat_kind: str = "regular"


def grid_edges(lat: np.ndarray, lon: np.ndarray) -> GridEdges:
    """Return cell edges of a regular grid given its centres (lat either order, lon ascending
    after wrapping)."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    descending = lat.size > 1 and lat[1] < lat[0]
    lat_asc = lat[::-1] if descending else lat
    lat_e, lat_kind = latitude_edges(lat_asc)
    if lon.size > 1 and np.any(np.diff(lon) <= 0):
        raise HarmonizeError("longitudes must be strictly increasing (after reading the file)")
    lon_e = _edges_from_centres(lon, "lon")
    return GridEdges(lat=lat_e, lon=lon_e, lat_descending=descending, lat_kind=lat_kind)


#: Gaussian latitudes in files are often rounded (float32, or a few decimals): centres within this
#: many degrees of the Gauss-Legendre latitudes of the same count are taken as a Gaussian grid
GAUSSIAN_LAT_TOL_DEG = 2e-3


def latitude_edges(lat_asc: np.ndarray) -> tuple[np.ndarray, str]:
    """Cell edges (deg, ascending, clipped to +-90) of ascending latitude centres, and their kind.

    * evenly spaced centres: edges half a step either side (``"regular"``);
    * the Gauss-Legendre latitudes of the spectral climate models (T42, T63 ...), within
      :data:`GAUSSIAN_LAT_TOL_DEG`: the Gaussian cell edges of :func:`globalrs.core.grid.gaussian_latitudes`,
      whose areas are the quadrature weights (``"gaussian"``; the library's own CMIP maps use
      the same edges);
    * any other strictly increasing latitudes: edges half-way between neighbouring centres,
      the outer ones half a neighbouring step beyond the first and last centre (``"midpoints"``).
    """
    lat_asc = np.asarray(lat_asc, dtype=float)
    if lat_asc.size < 2:
        raise HarmonizeError("lat needs at least two cells")
    steps = np.diff(lat_asc)
    step = float(np.median(steps))
    if step > 0 and np.allclose(steps, step, rtol=1e-4, atol=1e-7):
        return np.clip(_edges_from_centres(lat_asc, "lat"), -90.0, 90.0), "regular"
    if np.any(steps <= 0):
        raise HarmonizeError(
            f"lat is not monotonic (steps {steps.min():g}..{steps.max():g}): the file's latitudes are not a grid"
        )
    gauss_c, gauss_e = gaussian_latitudes(lat_asc.size)
    if np.allclose(lat_asc, gauss_c, rtol=0.0, atol=GAUSSIAN_LAT_TOL_DEG):
        return gauss_e, "gaussian"
    mid = (lat_asc[1:] + lat_asc[:-1]) / 2
    edges = np.concatenate([[lat_asc[0] - steps[0] / 2], mid, [lat_asc[-1] + steps[-1] / 2]])
    return np.clip(edges, -90.0, 90.0), "midpoints"


def _edges_from_centres(c: np.ndarray, name: str) -> np.ndarray:
    if c.size < 2:
        raise HarmonizeError(f"{name} needs at least two cells")
    steps = np.diff(c)
    step = float(np.median(steps))
    if step <= 0 or not np.allclose(steps, step, rtol=1e-4, atol=1e-7):
        raise HarmonizeError(f"{name} is not a regular, monotonic axis (steps {steps.min():g}..{steps.max():g})")
    return np.concatenate([c - step / 2, [c[-1] + step / 2]])


def check_global_coverage(edges: GridEdges, min_lat: tuple[float, float] = MIN_LAT_COVERAGE) -> None:
    """Raise :class:`HarmonizeError` unless the grid spans 360 deg of longitude and at least
    ``min_lat`` (south, north) of latitude."""
    span = edges.lon[-1] - edges.lon[0]
    if span < 360.0 - 1e-6 * 360 or span > 360.0 + 1e-6 * 360:
        raise HarmonizeError(f"the grid does not cover the globe: longitudes span {span:.4f} deg, not 360")
    if edges.lat[0] > min_lat[0] + 1e-9 or edges.lat[-1] < min_lat[1] - 1e-9:
        raise HarmonizeError(
            f"the grid does not cover the globe: latitudes {edges.lat[0]:.3f}..{edges.lat[-1]:.3f}"
            f" do not include {min_lat[0]}..{min_lat[1]}"
        )


def _prepare_time(da: xr.DataArray) -> tuple[xr.DataArray, str]:
    """Classify the non-spatial axis: returns (da, kind) with kind in
    'static', 'climatology' (month 1..12), 'monthly' (time series) or 'yearly'."""
    extra = [d for d in da.dims if d not in ("lat", "lon")]
    if not extra:
        return da, "static"
    if len(extra) > 1:
        raise HarmonizeError(f"cannot reduce more than one non-spatial dimension: {extra}")
    dim = extra[0]
    if da.sizes[dim] == 1:
        return da.isel({dim: 0}, drop=True), "static"
    if dim == "month":
        return _month_axis(da), "climatology"
    if dim != "time":
        raise HarmonizeError(f"unknown non-spatial dimension {dim!r} (expected time or month)")
    return da, _time_step_kind(da["time"])


def _month_axis(da: xr.DataArray) -> xr.DataArray:
    """A 12-month climatology with its month coordinate 1..12, sorted."""
    if da.sizes["month"] != 12:
        raise HarmonizeError(f"a month axis needs 12 months, got {da.sizes['month']}")
    if "month" not in da.coords:
        da = da.assign_coords(month=np.arange(1, 13))
    if sorted(int(m) for m in da["month"].values) != list(range(1, 13)):
        raise HarmonizeError(f"month coordinate must be 1..12, got {da['month'].values}")
    return da.sortby("month")


def _time_step_kind(time: xr.DataArray) -> str:
    """'monthly' or 'yearly' for a regular time axis of dates."""
    if not (np.issubdtype(time.dtype, np.datetime64) or time.dtype == object):
        raise HarmonizeError("the time axis is not decodable to dates; fix its units attribute")
    years = time.dt.year.values
    months = time.dt.month.values
    step_months = np.diff(years * 12 + months)
    if np.all(step_months == 1):
        return "monthly"
    if np.all(step_months == 12):
        return "yearly"
    raise HarmonizeError("time axis is neither monthly nor yearly (gaps or irregular steps)")


def _to_canonical(da: xr.DataArray, kind: str) -> tuple[xr.DataArray, str]:
    """Convert to a density (per m2) or per-cell unit in g C per year or month."""
    parsed = gunits.parse_flux_units(da.attrs.get("units"))
    per_cell = parsed.is_per_cell
    if kind in ("climatology", "monthly"):
        target = "g C month-1" if per_cell else "g C m-2 month-1"
    else:
        target = "g C yr-1" if per_cell else "g C m-2 yr-1"
    out = gunits.convert_flux_density(da, target, area_m2=None)
    return out, ("total" if per_cell else "density")


def _series_note(time: xr.DataArray, what: str, done: str) -> str:
    """E.g. "monthly series 2001-01 to 2003-12 (36 steps, 3 years) averaged ..."."""
    years = time.dt.year.values
    months = time.dt.month.values
    n_years = len(set(int(y) for y in years))
    return (
        f"{what} series {int(years[0])}-{int(months[0]):02d} to {int(years[-1])}-{int(months[-1]):02d} "
        f"({time.size} steps, {n_years} years) {done}"
    )


def _scalar_factor(from_units: str, to_units: str) -> float:
    one = xr.DataArray(1.0, attrs={"units": from_units})
    return float(gunits.convert_flux_density(one, to_units).values)
