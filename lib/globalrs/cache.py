"""Atomic writes for the on-disk result cache (``globalrs.config.get_cache_dir()``).

Two notebooks may compute the same cached result at once (nbval runs chapters in parallel), so
every cache file is written to a temporary file in its target folder and moved into place with
``os.replace``: a reader sees either no file or a complete one, never a partial write.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import xarray as xr


def write_atomic(path: Path, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then move it into place.

    The temporary file is removed if ``write`` fails.
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
    """Write an xarray object to NetCDF at ``path`` atomically."""
    return write_atomic(path, obj.to_netcdf)


def write_csv_atomic(frame: pd.DataFrame, path: Path) -> Path:
    """Write a DataFrame to CSV at ``path`` atomically (without the index)."""
    return write_atomic(path, lambda tmp: frame.to_csv(tmp, index=False))
