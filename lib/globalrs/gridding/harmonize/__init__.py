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
* flux densities per year, month, day or second, or per-cell totals (see :mod:`globalrs.core.units`);
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

The package, by job: :mod:`.sources` (opening files, coordinates, CRS, time axis and units),
:mod:`.regrid` (conservative regridding, the overlap maths), :mod:`.streaming` (band-wise
reading of large files), :mod:`.plausibility` (the one check of values and units) and
:mod:`.pipeline` (:func:`harmonize_to_grid`, a few short steps through them).
"""

from globalrs.core.exceptions import GridError, HarmonizeError, PlausibilityError
from globalrs.gridding.harmonize.pipeline import harmonize_to_grid
from globalrs.gridding.harmonize.plausibility import (
    N_EXAMPLE_CELLS,
    PLAUSIBLE_RS_G_M2_YR,
    ImplausibleCells,
    check_plausible,
    find_implausible,
    implausible_message,
)
from globalrs.gridding.harmonize.regrid import EDGE_SNAP_SHARE, LAT_KIND_NOTES, overlap_lat, overlap_lon, regrid_conservative
from globalrs.gridding.harmonize.sources import (
    GAUSSIAN_LAT_TOL_DEG,
    M_PER_DEG,
    MIN_LAT_COVERAGE,
    REPROJECT_RESAMPLING,
    GridEdges,
    check_global_coverage,
    grid_edges,
    latitude_edges,
    open_source,
)
from globalrs.gridding.harmonize.streaming import STREAM_MIN_CELLS, _BandReader

__all__ = [
    "EDGE_SNAP_SHARE",
    "GAUSSIAN_LAT_TOL_DEG",
    "LAT_KIND_NOTES",
    "M_PER_DEG",
    "MIN_LAT_COVERAGE",
    "N_EXAMPLE_CELLS",
    "PLAUSIBLE_RS_G_M2_YR",
    "REPROJECT_RESAMPLING",
    "STREAM_MIN_CELLS",
    "GridEdges",
    "GridError",
    "HarmonizeError",
    "ImplausibleCells",
    "PlausibilityError",
    "_BandReader",
    "check_global_coverage",
    "check_plausible",
    "find_implausible",
    "grid_edges",
    "harmonize_to_grid",
    "implausible_message",
    "latitude_edges",
    "open_source",
    "overlap_lat",
    "overlap_lon",
    "regrid_conservative",
]
