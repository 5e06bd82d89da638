"""Streaming a large 2-D file in latitude bands (bounded memory), source cells nested in target cells.

:class:`_BandReader` reads whole rows (``os.preadv`` into reused buffers for uncompressed
contiguous NetCDF-4, one row of chunks at a time for chunked variables, rasterio windows for
GeoTIFFs); :func:`_stream_file` aggregates them conservatively with a reshape-sum per band in
worker threads. Measured figures are in :mod:`globalrs.gridding.harmonize`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import xarray as xr

from globalrs.core.exceptions import HarmonizeError
from globalrs.core.grid import EARTH_RADIUS_M, LAT_NAMES, LON_NAMES, wrap_lon
from globalrs.core.progress import progress_bar

#: Files with more cells than this are streamed in latitude bands instead of loaded.
STREAM_MIN_CELLS = 50_000_000


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
        self._fd = -1  # the file descriptor of the direct (preadv) path; -1: not open
        self._close: list[Callable[[], object]] = []
        suffix = path.suffix.lower()
        if suffix in (".tif", ".tiff"):
            import rasterio

            src = rasterio.open(path)
            self._src = src
            self._kind = "tiff"
            self.chunk_rows = None  # GeoTIFF strips/tiles: read by windows, no chunk-row cache
            self.dtype = np.dtype(src.dtypes[0])
            self.fills = [float(src.nodata)] if src.nodata is not None else []
            self.scale = float(src.scales[0]) if src.scales else 1.0
            self.offset = float(src.offsets[0]) if src.offsets else 0.0
            self.shape: tuple[int, ...] = (src.height, src.width)
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
        self._chunk_row: tuple[int, int, np.ndarray | None] = (0, 0, None)
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
            fd = self._fd = os.open(self.path, os.O_RDONLY)
            self._close.append(lambda: os.close(fd))
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
                if block is None or not (start <= i0 and i1 <= stop):
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


def _nesting(edges, tgt_lat_e: np.ndarray, tgt_lon_e: np.ndarray, n_lat: int, n_lon: int) -> tuple[int, int, int]:
    """(source rows per target row, offset in target rows, source columns per target column)."""
    fy_off = _nested_factors(edges.lat, tgt_lat_e)
    fx_off = _nested_factors(edges.lon, tgt_lon_e)
    if fy_off is None or fx_off is None:
        raise HarmonizeError(
            "streaming needs source cells that nest in the target cells (an integer number of "
            "source cells per target cell, aligned edges); regrid this file with stream=False"
        )
    fy, y_off = fy_off
    fx, _ = fx_off
    if n_lat % fy or n_lon % fx:
        raise HarmonizeError("source grid does not hold whole target cells")
    return fy, y_off, fx


def _band_rows(band_rows: int | None, n_lon: int, fy: int, chunk_rows: int | None) -> int:
    """Source rows per band: whole target rows, about 4 million cells by default."""
    if band_rows is None:
        band_rows = max(1, (4_000_000 // n_lon) // fy) * fy
        if chunk_rows and chunk_rows % fy == 0:
            # bands that never straddle two rows of chunks (the cache holds one row of chunks)
            while chunk_rows % band_rows and band_rows > fy:
                band_rows -= fy
    return max(fy, (band_rows // fy) * fy)


def _covered_area(
    mask: np.ndarray, wa64: np.ndarray, fx: int, n_blocks_x: int, any_missing: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Covered area (m2) and count of valid source cells of each target cell of one band.

    Exact, computed from missing-cell counts; only target cells that are partly missing (coasts)
    need the row weights of their missing source cells. ``wa64`` holds the row areas
    ``(groups, fy)``, ``mask`` the missing source cells ``(groups * fy, n_lon)``.
    """
    groups, fy = wa64.shape
    full = wa64.sum(axis=1)[:, None] * fx  # (groups, 1) area of a whole target cell
    n_cells = fy * fx
    if not any_missing:
        return np.broadcast_to(full, (groups, n_blocks_x)).copy(), np.full((groups, n_blocks_x), n_cells)
    count_dtype = np.uint8 if fy < 256 else np.uint32
    miss_cols = mask.view(np.uint8).reshape(groups, fy, -1).sum(axis=1, dtype=count_dtype)
    miss = miss_cols.reshape(groups, n_blocks_x, fx).sum(axis=2, dtype=np.int64)
    cov = np.where(miss == 0, full, 0.0)
    g_idx, t_idx = np.nonzero((miss > 0) & (miss < n_cells))
    if g_idx.size:
        blocks = mask.reshape(groups, fy, n_blocks_x, fx)[g_idx, :, t_idx, :]  # (k, fy, fx)
        missing_area = np.einsum("kr,kr->k", wa64[g_idx], blocks.sum(axis=2, dtype=np.int64))
        cov[g_idx, t_idx] = full[g_idx, 0] - missing_area
    return cov, n_cells - miss


def _stream_file(path, da, edges, tgt_lat_e, tgt_lon_e, per_cell, workers, band_rows, progress=None):
    """Band-wise conservative aggregation of a large 2-D file (source nested in target)."""
    fy, y_off, fx = _nesting(edges, tgt_lat_e, tgt_lon_e, da.sizes["lat"], da.sizes["lon"])
    n_lat, n_lon = da.sizes["lat"], da.sizes["lon"]
    name = da.encoding.get("source_var_name") or da.name
    reader = _BandReader(Path(path), name)
    file_lon = _file_lon_order(Path(path))
    n_ty, n_tx = tgt_lat_e.size - 1, tgt_lon_e.size - 1
    band_rows = _band_rows(band_rows, n_lon, fy, reader.chunk_rows)
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
        cov, count = _covered_area(mask, wa64, fx, n_blocks_x, any_missing)
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
    opened: xr.DataArray | xr.Dataset
    if path.suffix.lower() in (".tif", ".tiff"):
        opened = xr.open_dataarray(path, engine="rasterio")
    else:
        opened = xr.open_dataset(path, engine="netcdf4", decode_times=False)
    with opened as raw:
        lon_name = next(d for d in raw.dims if d in LON_NAMES)
        lon = np.asarray(raw[lon_name].values, dtype=float)
    return wrap_lon(lon)


def _target_columns(file_lon: np.ndarray, fx: int, n_tx: int) -> np.ndarray:
    """Target longitude column of each block of ``fx`` file columns (by the block's west edge)."""
    step = (file_lon[1] - file_lon[0]) if file_lon.size > 1 else 360.0
    west = file_lon[::fx] - step / 2
    col = np.round((west + 180.0) / (360.0 / n_tx)).astype(int) % n_tx
    if np.unique(col).size != col.size:
        raise HarmonizeError("source longitudes map twice onto one target column")
    return col
