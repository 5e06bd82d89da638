"""Harmonize any gridded Rs product onto the book's common grid (0.5 deg, g C m-2 yr-1).

Inputs: a NetCDF or GeoTIFF path, an ``xarray.Dataset`` or an ``xarray.DataArray`` on a
latitude-longitude grid, with

* longitudes 0..360 or -180..180 (any origin), latitudes ascending or descending; latitudes
  evenly spaced, Gaussian (the spectral climate models' grids: cell edges from the
  Gauss-Legendre weights, as for the book's own CMIP maps) or any other monotonic set (edges
  half-way between centres), see :func:`latitude_edges`;
* GeoTIFFs in a projected CRS (sinusoidal, Lambert equal-area ...) reprojected to a
  latitude-longitude grid nested in 0.5 degrees with ``rioxarray`` (mean of the pixels in each
  cell); a GeoTIFF without a CRS whose coordinates are not degrees is refused;
* fill values, ``missing_value``, ``scale_factor`` / ``add_offset`` (decoded);
* flux densities per year, month, day or second, or per-cell totals (see :mod:`globalrs.units`);
* no time axis, a 12-month climatology (``month``), or a monthly or yearly ``time`` axis
  (reduced to a mean annual map and, for monthly data, a monthly climatology with month lengths
  accounted).

Regridding is first-order conservative: each target cell receives the area-weighted integral of
the source cells overlapping it (overlaps computed exactly on the sphere, separable in
``sin(lat)`` and longitude). Two documented rules for cells only partly covered by data
(coasts):

* ``fill="conserve"`` (default): missing source area counts as zero flux, so the target value is
  the integral divided by the FULL target cell area and the global total is conserved exactly;
* ``fill="mean"``: the integral is divided by the covered area (mean flux density of the covered
  part; the global total then grows by the uncovered coastal area).

Cells that only touch do not overlap: edges of the source and target grids closer than
:data:`EDGE_SNAP_SHARE` of a cell are one edge (rounding leaves differences of ~1e-13 deg, which
would otherwise make coastal target cells with no real overlap "covered"). So the conservative
total equals the source's own area-weighted total to rounding for any grid, and ``fill="mean"``
covers exactly the cells with a real overlap (tests/test_harmonize_properties.py).

The output always carries ``valid_fraction`` (the covered share of each target cell). Target cells
with no data are NaN.

Plausibility: a respiration map (soil or heterotrophic) cannot be negative, and annual values above
:data:`PLAUSIBLE_RS_G_M2_YR`'s upper bound (5,000 g C m-2 yr-1) point to wrong units or corrupt
data. By default such a map is refused with :class:`PlausibilityError`, naming how many cells
are out of range and where (latitude/longitude of examples); ``on_implausible="clip"`` clips them
instead and counts them in the output's attributes. The check runs on the source cells after the
unit conversion (per-cell totals divided by the source cell area; a monthly climatology is checked
month by month for negatives and on its annual sum for the upper bound); for streamed files it
runs on the harmonized target cells.

Large 2-D files (a global 30 arc-second map is 43200 x 21600 float32 = 3.7 GB) are never loaded
whole: :func:`harmonize_to_grid` streams them in latitude bands with a reshape-sum per band
(bounded memory, two worker threads) whenever the source cells nest in the target cells.
Uncompressed contiguous NetCDF-4 variables are then read with ``os.preadv`` straight into reused
buffers when ``h5py`` is installed (it reports the data offset); without it the rows come
through netCDF4 (one read at a time, into fresh arrays; on the benchmark file the two paths took
similar times on a loaded 2-core machine). Chunked (e.g. zlib-compressed) variables are read one
whole row of chunks at a time and the bands served from it, so that every chunk is decompressed
once: a 30 arc-second map with netCDF's default chunking (1,440-row chunks) took 1,059 s through
``globalrs compare`` before (60-row bands decompressed each chunk 24 times) and about 8-14 s in
this call after (``benchmarks/bench_compare_cases.py --with-30s``, loaded 2-core machine, about
700 MB peak). A progress bar (rows read) is shown at a terminal. Streaming handles 2-D maps;
inputs with a time or month axis are loaded whole.

Measured with ``benchmarks/bench_harmonize.py`` (2 cores, shared machine): the 3.7 GB
30 arc-second map in about 1.2 s inside the call (2.3 s including interpreter start-up) at
about 200 MB peak memory; ``cdo gridboxmean,60,60`` passed 8 GB and was stopped.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
from scipy import sparse

from globalrs import units as gunits
from globalrs.exceptions import GridError, HarmonizeError, PlausibilityError
from globalrs.grid import EARTH_RADIUS_M, LAT_NAMES, LON_NAMES, cell_area_m2, gaussian_latitudes, make_grid, normalize_latlon
from globalrs.progress import progress_bar

#: Minimum latitude span a "global" map must cover (deg): all vegetated land outside Antarctica.
MIN_LAT_COVERAGE = (-55.0, 80.0)
#: Files with more cells than this are streamed in latitude bands instead of loaded.
STREAM_MIN_CELLS = 50_000_000

#: (low, high) plausible annual respiration, g C m-2 yr-1 (see the module docstring)
PLAUSIBLE_RS_G_M2_YR = (0.0, 5000.0)
#: how many example cells an implausibility message names
N_EXAMPLE_CELLS = 3


# --------------------------------------------------------------------------- opening inputs


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
            raise HarmonizeError(f"variable {variable!r} not in {sorted(ds.data_vars)}")
        return ds[variable]
    gridded = [
        name
        for name, var in ds.data_vars.items()
        if any(d in LAT_NAMES for d in var.dims) and any(d in LON_NAMES for d in var.dims)
    ]
    if len(gridded) != 1:
        raise HarmonizeError(f"cannot choose the variable to harmonize among {gridded or sorted(ds.data_vars)}: pass variable=")
    return ds[gridded[0]]


def _normalize_coords(da: xr.DataArray) -> xr.DataArray:
    try:
        return normalize_latlon(da)
    except GridError as exc:
        raise HarmonizeError(str(exc)) from exc


# --------------------------------------------------------------------------- grid geometry


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
      :data:`GAUSSIAN_LAT_TOL_DEG`: the Gaussian cell edges of :func:`globalrs.grid.gaussian_latitudes`,
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


#: Two cell edges closer than this share of the finer of the two grids' smallest cell width are
#: the same edge: rounding (e.g. ``-180 + 0.1 * k`` against ``-180 + 0.5 * m``) leaves
#: differences of about 1e-13 deg, which would otherwise count as overlaps of that size and
#: make a target cell with no real overlap "covered".
EDGE_SNAP_SHARE = 1e-6


def _deg_to_sin(edges_deg: np.ndarray) -> np.ndarray:
    return np.sin(np.deg2rad(edges_deg))


def overlap_lat(src_e: np.ndarray, tgt_e: np.ndarray) -> sparse.csr_matrix:
    """Sparse ``(n_tgt, n_src)`` overlaps of latitude bands in ``sin(lat)`` (area-proportional).

    Overlaps are exact up to rounding and zero where the bands only touch: edges of the two
    grids that differ by less than :data:`EDGE_SNAP_SHARE` of a cell are taken as one edge.
    """
    return _interval_overlaps(np.asarray(src_e, dtype=float), np.asarray(tgt_e, dtype=float), _deg_to_sin)


def overlap_lon(src_e: np.ndarray, tgt_e: np.ndarray) -> sparse.csr_matrix:
    """Sparse ``(n_tgt, n_src)`` overlaps of longitude intervals in radians, periodic in 360."""
    src_e = np.asarray(src_e, dtype=float)
    tgt_e = np.asarray(tgt_e, dtype=float)
    mats = [_interval_overlaps(src_e + shift, tgt_e, np.deg2rad) for shift in (-360.0, 0.0, 360.0)]
    return (mats[0] + mats[1] + mats[2]).tocsr()


def _snap_edges(src_e: np.ndarray, tgt_e: np.ndarray, tol: float) -> np.ndarray:
    """``src_e`` with every edge within ``tol`` of a target edge replaced by that target edge."""
    idx = np.clip(np.searchsorted(tgt_e, src_e), 1, tgt_e.size - 1)
    left, right = tgt_e[idx - 1], tgt_e[idx]
    nearest = np.where(np.abs(src_e - left) <= np.abs(right - src_e), left, right)
    return np.where(np.abs(nearest - src_e) <= tol, nearest, src_e)


def _interval_overlaps(src_e: np.ndarray, tgt_e: np.ndarray, measure) -> sparse.csr_matrix:
    """Overlaps between the intervals of two ascending edge arrays (degrees).

    Source edges within a tolerance of a target edge are snapped onto it, the overlap of each
    pair is decided in degrees (``min(hi) > max(lo)``) and measured as
    ``measure(min(hi)) - measure(max(lo))`` on the snapped edges, so that the overlaps of a
    source cell sum to its own measure (the pieces telescope) and touching cells get no
    overlap at all.
    """
    steps = np.concatenate([np.diff(src_e), np.diff(tgt_e)])
    tol = EDGE_SNAP_SHARE * float(steps[steps > 0].min()) if np.any(steps > 0) else 0.0
    s = _snap_edges(src_e, tgt_e, tol)
    s_lo, s_hi = s[:-1], s[1:]
    t_lo, t_hi = tgt_e[:-1], tgt_e[1:]
    start = np.searchsorted(s_hi, t_lo, side="right")
    stop = np.searchsorted(s_lo, t_hi, side="left")
    counts = np.maximum(stop - start, 0)
    rows = np.repeat(np.arange(t_lo.size), counts)
    if rows.size:
        offsets = np.cumsum(counts) - counts
        cols = start[rows] + (np.arange(rows.size) - offsets[rows])
    else:
        cols = np.zeros(0, dtype=int)
    hi = np.minimum(s_hi[cols], t_hi[rows])
    lo = np.maximum(s_lo[cols], t_lo[rows])
    keep = hi > lo
    rows, cols = rows[keep], cols[keep]
    vals = measure(hi[keep]) - measure(lo[keep])
    return sparse.csr_matrix((vals, (rows, cols)), shape=(t_lo.size, s_lo.size))


#: what the output's "regridding" attribute adds for each kind of source latitudes
LAT_KIND_NOTES = {
    "regular": "",
    "gaussian": ", from a Gaussian grid (Gauss-Legendre latitudes, cell edges from the quadrature weights)",
    "midpoints": ", from irregular latitudes (cell edges half-way between the centres)",
}


# --------------------------------------------------------------------------- core regridding


def regrid_conservative(
    values: np.ndarray,
    src: GridEdges,
    tgt_lat_e: np.ndarray,
    tgt_lon_e: np.ndarray,
    quantity: str = "density",
) -> tuple[np.ndarray, np.ndarray]:
    """Conservatively integrate ``values`` (..., lat, lon) over target cells.

    Parameters
    ----------
    values
        Source values, latitude ascending, NaN for missing.
    src
        Source cell edges.
    tgt_lat_e, tgt_lon_e
        Target edges in degrees (ascending).
    quantity
        ``"density"`` (per m2: integrate value x overlap area) or ``"total"`` (per cell:
        distribute each cell's total by the share of its area in each target cell).

    Returns
    -------
    (integral, covered_m2)
        Per target cell: the integral (density x m2, or the summed totals) and the area (m2)
        of source cells with data inside it; arrays shaped ``(..., n_tgt_lat, n_tgt_lon)``.
    """
    s_lat = overlap_lat(src.lat, tgt_lat_e)
    s_lon = overlap_lon(src.lon, tgt_lon_e)
    r2 = EARTH_RADIUS_M**2
    if quantity == "total":
        src_dsin = np.diff(np.sin(np.deg2rad(src.lat)))
        src_dlon = np.deg2rad(np.diff(src.lon))
        s_lat_v = s_lat.multiply(1.0 / src_dsin[None, :]).tocsr()
        s_lon_v = s_lon.multiply(1.0 / src_dlon[None, :]).tocsr()
        scale = 1.0
    elif quantity == "density":
        s_lat_v, s_lon_v, scale = s_lat, s_lon, r2
    else:
        raise ValueError(f"quantity must be 'density' or 'total', got {quantity!r}")
    valid = np.isfinite(values)
    filled = np.where(valid, values, 0.0).astype(np.float64)
    lead = values.shape[:-2]
    flat = filled.reshape((-1,) + values.shape[-2:])
    vflat = valid.reshape((-1,) + values.shape[-2:]).astype(np.float64)
    integ = np.empty((flat.shape[0], tgt_lat_e.size - 1, tgt_lon_e.size - 1))
    cover = np.empty_like(integ)
    for k in range(flat.shape[0]):
        integ[k] = (s_lon_v @ (s_lat_v @ flat[k]).T).T * scale
        cover[k] = (s_lon @ (s_lat @ vflat[k]).T).T * r2
    shape = lead + integ.shape[-2:]
    return integ.reshape(shape), cover.reshape(shape)


# --------------------------------------------------------------------------- time and units


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
        if da.sizes["month"] != 12:
            raise HarmonizeError(f"a month axis needs 12 months, got {da.sizes['month']}")
        if "month" not in da.coords:
            da = da.assign_coords(month=np.arange(1, 13))
        if sorted(int(m) for m in da["month"].values) != list(range(1, 13)):
            raise HarmonizeError(f"month coordinate must be 1..12, got {da['month'].values}")
        return da.sortby("month"), "climatology"
    if dim != "time":
        raise HarmonizeError(f"unknown non-spatial dimension {dim!r} (expected time or month)")
    time = da["time"]
    if not (np.issubdtype(time.dtype, np.datetime64) or time.dtype == object):
        raise HarmonizeError("the time axis is not decodable to dates; fix its units attribute")
    years = time.dt.year.values
    months = time.dt.month.values
    step_months = np.diff(years * 12 + months)
    if np.all(step_months == 1):
        return da, "monthly"
    if np.all(step_months == 12):
        return da, "yearly"
    raise HarmonizeError("time axis is neither monthly nor yearly (gaps or irregular steps)")


def _to_canonical(da: xr.DataArray, kind: str, area_src_m2: xr.DataArray) -> tuple[xr.DataArray, str]:
    """Convert to a density (per m2) or per-cell unit in g C per year or month."""
    parsed = gunits.parse_flux_units(da.attrs.get("units"))
    per_cell = parsed.is_per_cell
    if kind in ("climatology", "monthly"):
        target = "g C month-1" if per_cell else "g C m-2 month-1"
    else:
        target = "g C yr-1" if per_cell else "g C m-2 yr-1"
    out = gunits.convert_flux_density(da, target, area_m2=None)
    return out, ("total" if per_cell else "density")


# --------------------------------------------------------------------------- plausibility


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
    return tuple((float(lat[r]), float(lon[c]), float(shown.ravel()[p])) for r, c, p in zip(rows, cols, picks))


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


# --------------------------------------------------------------------------- main entry


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
        Target resolution (default 0.5 deg; grid of :func:`globalrs.grid.make_grid`).
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
        (:func:`globalrs.progress.progress_enabled`).

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
    if fill not in ("conserve", "mean"):
        raise ValueError(f"fill must be 'conserve' or 'mean', got {fill!r}")
    if on_implausible not in ("raise", "clip"):
        raise ValueError(f"on_implausible must be 'raise' or 'clip', got {on_implausible!r}")
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
    what = (
        str(source) if not isinstance(source, (xr.Dataset, xr.DataArray)) else (f"the map {da.name!r}" if da.name else "the map")
    )
    lon_vals = np.asarray(da["lon"].values, dtype=float)
    if np.any(lon_vals >= 180.0) or np.any(lon_vals < -180.0) or np.any(np.diff(lon_vals) <= 0):
        # 0..360 (or shifted, or -180..180 starting elsewhere): wrap to -180..180 and sort;
        # lazy for files (index only)
        wrapped = ((lon_vals + 180.0) % 360.0) - 180.0
        da = da.assign_coords(lon=wrapped).sortby("lon")
    edges = grid_edges(da["lat"].values, da["lon"].values)
    check_global_coverage(edges, min_lat_coverage)
    tgt_lat, tgt_lon = make_grid(resolution_deg)
    tgt_lat_e = np.concatenate([tgt_lat - resolution_deg / 2, [90.0]])
    tgt_lon_e = np.concatenate([tgt_lon - resolution_deg / 2, [180.0]])
    area_tgt = cell_area_m2(tgt_lat, tgt_lon)

    is_path = not isinstance(source, (xr.Dataset, xr.DataArray))
    n_cells = int(da.sizes["lat"]) * int(da.sizes["lon"])
    spatial_only = set(da.dims) == {"lat", "lon"}
    if stream is None:
        stream = is_path and spatial_only and n_cells > STREAM_MIN_CELLS
    time_note = ""
    if stream:
        if not (is_path and spatial_only):
            raise HarmonizeError("streaming needs a 2-D (lat, lon) variable in a file")
        integ, cover = _stream_file(
            Path(source), da, edges, tgt_lat_e, tgt_lon_e, parsed.is_per_cell, workers, band_rows, progress
        )
        kind = "static"
        # streamed values are in the file's units: apply the (scalar) unit factor now
        factor = _scalar_factor(parsed.text, "g C yr-1" if parsed.is_per_cell else "g C m-2 yr-1")
        integ = integ * factor
        monthly = None
    else:
        da, kind = _prepare_time(da.load())
        if edges.lat_descending:
            da = da.isel(lat=slice(None, None, -1))
        if kind == "yearly" and parsed.time == "month":
            raise HarmonizeError("a yearly time axis with per-month units is ambiguous")
        try:
            da, quantity = _to_canonical(da, kind, None)
        except gunits.UnitsError as exc:
            raise HarmonizeError(str(exc)) from exc
        if kind == "monthly":
            time_note = _series_note(da["time"], "monthly", "averaged month by month into a 12-month climatology")
            da = da.groupby("time.month").mean("time")
            kind = "climatology"
        if plausible_range is not None:
            low_vals, annual_vals, area_src = _check_source(da, kind, edges, parsed.is_per_cell)
            found = find_implausible(low_vals, annual_vals, da["lat"].values, da["lon"].values, plausible_range)
            if found.count and on_implausible == "raise":
                raise PlausibilityError(implausible_message(found, plausible_range, what, parsed.text))
            if found.count:
                da = _clip_source(da, kind, plausible_range, area_src)
        if kind == "yearly":
            time_note = _series_note(da["time"], "yearly", "averaged into one mean annual map")
            da = da.mean("time")
        values = da.transpose(..., "lat", "lon").values
        integ, cover = regrid_conservative(values, edges, tgt_lat_e, tgt_lon_e, quantity)
        monthly = None
        if kind == "climatology":
            monthly_integ = integ
            integ = monthly_integ.sum(axis=0)
            cover = cover.max(axis=0)
            monthly = monthly_integ
    if not np.any(cover > 0):
        raise HarmonizeError("the map is all missing: no cell holds a value")
    area = area_tgt.values
    denom = area if fill == "conserve" else np.where(cover > 0, cover, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        annual = np.where(cover > 0, integ / denom, np.nan)
    if stream and plausible_range is not None:
        # streamed files are checked on the target cells (the source never sits in memory)
        found = find_implausible(annual, annual, tgt_lat, tgt_lon, plausible_range)
        if found.count and on_implausible == "raise":
            raise PlausibilityError(implausible_message(found, plausible_range, what, parsed.text))
        annual = np.where(np.isnan(annual), np.nan, np.clip(annual, *plausible_range))
    coords = {"lat": tgt_lat, "lon": tgt_lon}
    out = xr.Dataset(coords=coords)
    out["rs_annual"] = xr.DataArray(
        annual,
        dims=("lat", "lon"),
        attrs={"units": "g C m-2 yr-1", "long_name": "mean annual soil respiration"},
    )
    if monthly is not None:
        cover_m = cover
        with np.errstate(invalid="ignore", divide="ignore"):
            rs_m = np.where(cover_m > 0, monthly / (area if fill == "conserve" else denom), np.nan)
        out["rs_monthly"] = xr.DataArray(
            rs_m,
            dims=("month", "lat", "lon"),
            coords={"month": np.arange(1, 13), **coords},
            attrs={"units": "g C m-2 month-1", "long_name": "monthly climatology of soil respiration"},
        )
    out["valid_fraction"] = xr.DataArray(
        np.clip(cover / area, 0.0, 1.0),
        dims=("lat", "lon"),
        attrs={"units": "1", "long_name": "share of the cell area covered by source data"},
    )
    out["cell_area_m2"] = area_tgt
    if plausible_range is not None:
        out.attrs.update(
            {
                "plausible_range_g_m2_yr": list(plausible_range),
                "n_cells_clipped_low": found.n_low,
                "n_cells_clipped_high": found.n_high,
            }
        )
    out.attrs = {
        **out.attrs,
        "source": str(source) if is_path else (da.name or "in-memory array"),
        "source_units": parsed.text,
        "source_time_axis": kind,
        "regridding": f"first-order conservative, fill={fill!r}"
        + (", streamed" if stream else "")
        + LAT_KIND_NOTES[edges.lat_kind],
        "time_averaging": time_note,
        "reprojected_from": reprojected_from,
        "resolution_deg": resolution_deg,
    }
    return out


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


# --------------------------------------------------------------------------- streaming path


def _nested_factors(src_e: np.ndarray, tgt_e: np.ndarray) -> tuple[int, int] | None:
    """(factor, offset in target cells) when source cells nest exactly in target cells."""
    step_s = (src_e[-1] - src_e[0]) / (src_e.size - 1)
    step_t = (tgt_e[-1] - tgt_e[0]) / (tgt_e.size - 1)
    factor = step_t / step_s
    if abs(factor - round(factor)) > 1e-6 or round(factor) < 1:
        return None
    offset = (src_e[0] - tgt_e[0]) / step_t
    if abs(offset - round(offset)) > 1e-6:
        return None
    return int(round(factor)), int(round(offset))


class _BandReader:
    """Reads whole source rows ``[i0, i1)`` of a 2-D variable, in file order, into a buffer.

    Uncompressed, contiguous NetCDF-4/HDF5 variables are read with ``os.preadv`` straight into
    the caller's buffer (thread-safe, no allocation, the GIL released) when ``h5py`` is
    available to report the data offset; everything else goes through netCDF4 or rasterio
    under a lock.
    """

    def __init__(self, path: Path, name: str):
        self.path = path
        self._lock = threading.Lock()
        self._fd = None
        self._close = []
        suffix = path.suffix.lower()
        if suffix in (".tif", ".tiff"):
            import rasterio

            src = rasterio.open(path)
            self._src = src
            self._kind = "tiff"
            self.dtype = np.dtype(src.dtypes[0])
            self.fills = [float(src.nodata)] if src.nodata is not None else []
            self.scale = float(src.scales[0]) if src.scales else 1.0
            self.offset = float(src.offsets[0]) if src.offsets else 0.0
            self.shape = (src.height, src.width)
            self._close.append(src.close)
            return
        import netCDF4

        ds = netCDF4.Dataset(path)
        self._close.append(ds.close)
        var = ds.variables[name]
        var.set_auto_maskandscale(False)
        self._var = var
        self._kind = "netcdf"
        self.dtype = np.dtype(var.dtype)
        self.fills = [float(getattr(var, a)) for a in ("_FillValue", "missing_value") if hasattr(var, a)]
        if not hasattr(var, "_FillValue") and self.dtype.kind in "fiu":
            self.fills.append(float(netCDF4.default_fillvals[self.dtype.str[1:]]))
        self.scale = float(getattr(var, "scale_factor", 1.0))
        self.offset = float(getattr(var, "add_offset", 0.0))
        self._lat_axis = var.dimensions.index(next(d for d in var.dimensions if d in LAT_NAMES))
        self.shape = tuple(var.shape) if self._lat_axis == 0 else tuple(var.shape[::-1])
        self.chunk_rows = None
        #: rows [start, stop) of the last row of chunks read, and the rows themselves
        self._chunk_row = (0, 0, None)
        #: how many times a whole row of chunks was read from the file
        self.n_chunk_row_reads = 0
        chunking = var.chunking()
        if chunking != "contiguous" and chunking is not None:
            # a chunked (usually compressed) variable: bands are served from one whole row of
            # chunks read at a time, so that each chunk is read and decompressed once (HDF5's
            # chunk cache, 64 MB by default and shared with any other handle on the file, held a
            # few chunks: 60-row bands of 1,440-row chunks decompressed every chunk 24 times)
            self.chunk_rows = int(chunking[0] if self._lat_axis == 0 else chunking[1])
        if self._lat_axis == 0 and ds.data_model in ("NETCDF4", "NETCDF4_CLASSIC"):
            self._try_direct(name)

    def _try_direct(self, name: str) -> None:
        try:
            import h5py
        except ImportError:
            return
        try:
            with h5py.File(self.path, "r") as h5:
                dset = h5[name]
                offset = dset.id.get_offset()
                ok = (
                    dset.chunks is None
                    and dset.compression is None
                    and offset is not None
                    and dset.dtype.isnative
                    and dset.ndim == 2
                )
        except Exception:  # any h5py trouble: keep the netCDF4 path
            return
        if ok and self._lat_axis == 0:
            self._data_offset = int(offset)
            self._fd = os.open(self.path, os.O_RDONLY)
            self._close.append(lambda: os.close(self._fd))
            self._kind = "direct"

    def read_into(self, i0: int, i1: int, out: np.ndarray) -> np.ndarray:
        """Rows i0..i1 (dtype :attr:`dtype`), in ``out[: i1 - i0]`` or in a fresh array that the
        reading library allocated; the caller may modify the result in place."""
        rows = out[: i1 - i0]
        if self._kind == "direct":
            nbytes = rows.nbytes
            start = self._data_offset + i0 * self.shape[1] * self.dtype.itemsize
            view = memoryview(rows.reshape(-1).view(np.uint8))
            got = 0
            while got < nbytes:
                n = os.preadv(self._fd, [view[got:]], start + got)
                if n <= 0:
                    raise HarmonizeError(f"{self.path} is truncated (short read at row {i0})")
                got += n
            return rows
        with self._lock:
            if self._kind == "tiff":
                from rasterio.windows import Window

                fresh = self._src.read(1, window=Window(0, i0, self.shape[1], i1 - i0))
            elif self.chunk_rows and (i1 - 1) // self.chunk_rows == i0 // self.chunk_rows:
                start, stop, block = self._chunk_row
                if not (start <= i0 and i1 <= stop):
                    start = (i0 // self.chunk_rows) * self.chunk_rows
                    stop = min(start + self.chunk_rows, self.shape[0])
                    self._chunk_row = (start, stop, None)
                    block = None  # free the previous row of chunks before reading the next
                    block = self._var[start:stop, :] if self._lat_axis == 0 else self._var[:, start:stop].T
                    block = np.ascontiguousarray(block)
                    self._chunk_row = (start, stop, block)
                    self.n_chunk_row_reads += 1
                rows[...] = block[i0 - start : i1 - start]
                return rows
            elif self._lat_axis == 0:
                fresh = self._var[i0:i1, :]
            else:
                fresh = self._var[:, i0:i1].T
        fresh = np.asarray(fresh)
        if fresh.flags.c_contiguous and fresh.flags.writeable and fresh.dtype == self.dtype:
            return fresh  # a new array from the library: use it rather than copy it
        rows[...] = fresh
        return rows

    def close(self) -> None:
        for fn in reversed(self._close):
            fn()


def _stream_file(path, da, edges, tgt_lat_e, tgt_lon_e, per_cell, workers, band_rows, progress=None):
    """Band-wise conservative aggregation of a large 2-D file (source nested in target)."""
    fy_off = _nested_factors(edges.lat, tgt_lat_e)
    fx_off = _nested_factors(edges.lon, tgt_lon_e)
    if fy_off is None or fx_off is None:
        raise HarmonizeError(
            "streaming needs source cells that nest in the target cells (an integer number of "
            "source cells per target cell, aligned edges); regrid this file with stream=False"
        )
    fy, y_off = fy_off
    fx, _ = fx_off
    n_lat, n_lon = da.sizes["lat"], da.sizes["lon"]
    if n_lat % fy or n_lon % fx:
        raise HarmonizeError("source grid does not hold whole target cells")
    name = da.encoding.get("source_var_name") or da.name
    reader = _BandReader(Path(path), name)
    file_lon = _file_lon_order(Path(path))
    n_ty, n_tx = tgt_lat_e.size - 1, tgt_lon_e.size - 1
    if band_rows is None:
        band_rows = max(1, (4_000_000 // n_lon) // fy) * fy
        if reader.chunk_rows and reader.chunk_rows % fy == 0:
            # bands that never straddle two rows of chunks (the cache holds one row of chunks)
            while reader.chunk_rows % band_rows and band_rows > fy:
                band_rows -= fy
    band_rows = max(fy, (band_rows // fy) * fy)
    # row weights (ascending-lat order): spherical area of each source row
    row_w = np.diff(np.sin(np.deg2rad(edges.lat))) * (EARTH_RADIUS_M**2)
    row_w = row_w * np.deg2rad((edges.lon[-1] - edges.lon[0]) / n_lon)
    integ = np.zeros((n_ty, n_tx))
    cover = np.zeros((n_ty, n_tx))
    n_blocks_x = n_lon // fx
    finite_fills = [np.float32(f) for f in reader.fills if np.isfinite(f)]
    local = threading.local()

    def buffers():
        if not hasattr(local, "raw"):
            local.raw = np.empty((band_rows, n_lon), dtype=reader.dtype)
            local.buf = local.raw if reader.dtype == np.float32 else np.empty((band_rows, n_lon), dtype=np.float32)
            local.mask = np.empty((band_rows, n_lon), dtype=bool)
            local.tmp = np.empty((band_rows, n_lon), dtype=bool)
        return local

    def work(i0):
        i1 = min(i0 + band_rows, n_lat)
        rows = i1 - i0
        groups = rows // fy  # bands hold whole target rows (band_rows and n_lat divisible by fy)
        b = buffers()
        raw = reader.read_into(i0, i1, b.raw)
        if reader.dtype == np.float32:
            buf = raw
        else:
            buf = b.buf[:rows]
            buf[...] = raw
        mask = np.isnan(buf, out=b.mask[:rows])
        for f in finite_fills:
            mask |= np.equal(buf, f, out=b.tmp[:rows])
        any_missing = bool(mask.any())
        if edges.lat_descending:
            asc = np.arange(n_lat - 1 - i0, n_lat - 1 - i1, -1)
        else:
            asc = np.arange(i0, i1)
        wa64 = row_w[asc].reshape(groups, fy)
        wa = wa64.astype(np.float32)
        wv = np.ones_like(wa) if per_cell else wa
        # weighted sums over the fy source rows of each target row (float32, contiguous),
        # then over the fx source columns of each target column (float64, small arrays)
        if any_missing:
            np.copyto(buf, 0.0, where=mask)
        rows_val = np.einsum("gr,grc->gc", wv, buf.reshape(groups, fy, n_lon))
        val_int = rows_val.astype(np.float64).reshape(groups, n_blocks_x, fx).sum(axis=2)
        # covered area: exact, computed from missing-cell counts; only target cells that are
        # partly missing (coasts) need the row weights of their missing source cells
        full = wa64.sum(axis=1)[:, None] * fx  # (groups, 1) area of a whole target cell
        n_cells = fy * fx
        if any_missing:
            count_dtype = np.uint8 if fy < 256 else np.uint32
            miss_cols = mask.view(np.uint8).reshape(groups, fy, n_lon).sum(axis=1, dtype=count_dtype)
            miss = miss_cols.reshape(groups, n_blocks_x, fx).sum(axis=2, dtype=np.int64)
            cov = np.where(miss == 0, full, 0.0)
            g_idx, t_idx = np.nonzero((miss > 0) & (miss < n_cells))
            if g_idx.size:
                blocks = mask.reshape(groups, fy, n_blocks_x, fx)[g_idx, :, t_idx, :]  # (k, fy, fx)
                missing_area = np.einsum("kr,kr->k", wa64[g_idx], blocks.sum(axis=2, dtype=np.int64))
                cov[g_idx, t_idx] = full[g_idx, 0] - missing_area
            count = n_cells - miss
        else:
            cov = np.broadcast_to(full, (groups, n_blocks_x)).copy()
            count = np.full((groups, n_blocks_x), n_cells)
        # scale/offset: sum(w*(raw*s+o)) = s*sum(w*raw) + o*sum(w*valid)
        if reader.scale != 1.0 or reader.offset != 0.0:
            cnt = count if per_cell else cov
            val_int = val_int * reader.scale + reader.offset * cnt
        ty = asc[::fy] // fy + y_off
        return ty, val_int, cov

    col = _target_columns(file_lon, fx, n_tx)
    starts = range(0, n_lat, band_rows)
    bar = progress_bar(total=n_lat, desc=f"reading {Path(path).name}", unit="rows", enabled=progress)
    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for ty, val_int, cov in pool.map(work, starts):
                integ[np.ix_(ty, col)] += val_int
                cover[np.ix_(ty, col)] += cov
                bar.update(ty.size * fy)
    finally:
        bar.close()
        reader.close()
    return integ, cover


def _file_lon_order(path: Path) -> np.ndarray:
    """Longitudes of the file's columns in file order, wrapped to -180..180."""
    if path.suffix.lower() in (".tif", ".tiff"):
        opened = xr.open_dataarray(path, engine="rasterio")
    else:
        opened = xr.open_dataset(path, engine="netcdf4", decode_times=False)
    with opened as raw:
        lon_name = next(d for d in raw.dims if d in LON_NAMES)
        lon = np.asarray(raw[lon_name].values, dtype=float)
    return ((lon + 180.0) % 360.0) - 180.0


def _target_columns(file_lon: np.ndarray, fx: int, n_tx: int) -> np.ndarray:
    """Target longitude column of each block of ``fx`` file columns (by the block's west edge)."""
    step = (file_lon[1] - file_lon[0]) if file_lon.size > 1 else 360.0
    west = file_lon[::fx] - step / 2
    col = np.round((west + 180.0) / (360.0 / n_tx)).astype(int) % n_tx
    if np.unique(col).size != col.size:
        raise HarmonizeError("source longitudes map twice onto one target column")
    return col
