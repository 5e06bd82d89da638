"""The on-disk result cache: one keyed, locked, atomic :func:`cached_build` for every cached result.

Every cached result (reader grids, fitted ensembles, evaluations, year-by-year series, regional
weights, CMIP6 maps) goes through :func:`cached_build`:

* the **key** (:func:`cache_key`) hashes the sha256 of every input file (from the registry), the
  parameters, and an explicit **version** string that the producing module declares and bumps when
  the meaning of its results changes. The key never hashes source text, so editing a docstring or
  a comment does not invalidate minutes of fitting; changing what a result means requires
  bumping that module's version constant (``ensemble.MODEL_VERSION`` etc.);
* a **lock** (``fcntl.flock`` on ``<file>.lock``): two processes asking at once (nbval runs chapters
  in parallel) build once; the second waits and reads;
* **atomic writes** (temporary file in the target folder + ``os.replace``): a reader sees no file or
  a complete one; a damaged file is rebuilt, never trusted.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import resource
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import xarray as xr

from globalrs.core.config import BUILD_LOG_ENV, get_build_log, get_cache_dir
from globalrs.sources.data import get_entry

T = TypeVar("T")

#: The xarray engine every NetCDF read of the library names: the one xarray would guess for these
#: files anyway, named so that a read does not first load every installed backend's entry point
#: (rioxarray, kerchunk, zarr: about a CPU-second in each fresh kernel).
NETCDF_ENGINE = "netcdf4"


def write_atomic(path: Path, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then move it into place.

    Parameters
    ----------
    path
        Target file.
    write
        Writes the content to the path it is given.

    Returns
    -------
    pathlib.Path
        ``path``. The temporary file is removed if ``write`` fails.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem + ".", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def write_netcdf_atomic(obj: xr.Dataset | xr.DataArray, path: Path) -> Path:
    """Write an xarray object to NetCDF at ``path`` atomically.

    Parameters
    ----------
    obj
        Dataset or DataArray.
    path
        Target file.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    return write_atomic(path, obj.to_netcdf)


def write_csv_atomic(frame: pd.DataFrame, path: Path) -> Path:
    """Write a DataFrame to CSV at ``path`` atomically (without the index).

    Parameters
    ----------
    frame
        Table to write.
    path
        Target file.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    return write_atomic(path, lambda tmp: frame.to_csv(tmp, index=False))


def cache_key(kind: str, version: str, inputs: Iterable[str] = (), **params: Any) -> str:
    """Hash of the inputs' sha256, the parameters and an explicit result version.

    Parameters
    ----------
    kind
        What is cached (``"ensemble"``, ``"evaluation"``...).
    version
        The producing module's result version; bump it when results change meaning.
    inputs
        Registry names of the files the result is computed from.
    **params
        Parameters of the computation (JSON-serializable or rendered with ``str``).

    Returns
    -------
    str
        20 hex digits.
    """
    digest = hashlib.sha256()
    for name in inputs:
        digest.update(get_entry(name).sha256.encode())
    digest.update(json.dumps({"kind": kind, "version": version, **params}, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:20]


def cache_path(folder: str, stem: str, key: str, suffix: str = ".nc") -> Path:
    """Path ``get_cache_dir()/folder/stem-key.suffix`` of a cached result.

    Parameters
    ----------
    folder
        Sub-folder of the cache directory.
    stem
        Readable start of the file name.
    key
        From :func:`cache_key`.
    suffix
        File suffix.

    Returns
    -------
    pathlib.Path
        The path (its folder exists).
    """
    path = get_cache_dir() / folder / f"{stem}-{key}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _logged_build(path: Path, build: Callable[[], T], write: Callable[[T, Path], Any]) -> None:
    """Build and write one result; with ``GLOBALRS_BUILD_LOG`` set, append what it cost to that file.

    CPU seconds are the process's (user + system, all threads) over the build and write, so a
    result built inside another's build counts in both lines.
    """
    log = get_build_log()
    if log is None:
        write(build(), path)
        return
    cpu0, wall0 = _process_cpu_s(), time.perf_counter()
    write(build(), path)
    root = get_cache_dir()
    line: dict[str, Any] = {"result": str(path.relative_to(root)) if path.is_relative_to(root) else str(path)}
    line |= {"cpu_s": round(_process_cpu_s() - cpu0, 3), "wall_s": round(time.perf_counter() - wall0, 3), "pid": os.getpid()}
    try:
        with open(log, "a") as f:
            f.write(json.dumps(line) + "\n")
    except OSError as exc:  # a diagnostics setting must not stop the work it measures
        warnings.warn(f"{BUILD_LOG_ENV}={log}: cannot append to it ({exc}); this build's cost is not logged", stacklevel=3)


def _process_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cached_build(
    path: Path, build: Callable[[], T], read: Callable[[Path], T], write: Callable[[T, Path], Any], refresh: bool = False
) -> T:
    """Return ``read(path)``; build and write it first if absent, under an exclusive file lock.

    Parameters
    ----------
    path
        Cache file (from :func:`cache_path`).
    build
        Computes the result.
    read
        Reads a cached result.
    write
        Writes a result to a path; must be atomic (see :func:`write_atomic`).
    refresh
        Rebuild even if a cached file exists.

    Returns
    -------
    object
        The result as ``read`` returns it (also right after a build, so a fresh and a cached
        result are the same object type and precision).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if refresh:
        path.unlink(missing_ok=True)
    if path.is_file():
        try:
            return read(path)
        except Exception:  # noqa: BLE001 - a damaged cache file is rebuilt under the lock
            pass
    with open(str(path) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if path.is_file():
                try:
                    return read(path)
                except Exception:  # noqa: BLE001 - damaged: rebuild
                    path.unlink(missing_ok=True)
            _logged_build(path, build, write)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return read(path)


def read_netcdf(path: Path) -> xr.Dataset:
    """Load a cached NetCDF Dataset fully into memory (the file is closed afterwards).

    Parameters
    ----------
    path
        Cached file.

    Returns
    -------
    xarray.Dataset
        The loaded Dataset.
    """
    with xr.open_dataset(path, engine=NETCDF_ENGINE) as ds:
        return ds.load()


def read_netcdf_array(path: Path) -> xr.DataArray:
    """Load a cached NetCDF DataArray fully into memory.

    Parameters
    ----------
    path
        Cached file.

    Returns
    -------
    xarray.DataArray
        The loaded array.
    """
    with xr.open_dataarray(path, engine=NETCDF_ENGINE) as da:
        return da.load()


def read_csv(path: Path) -> pd.DataFrame:
    """Read a cached CSV table.

    Parameters
    ----------
    path
        Cached file.

    Returns
    -------
    pandas.DataFrame
        The table.
    """
    return pd.read_csv(path)
