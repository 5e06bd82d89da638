"""The NetCDF engine the library names is the one xarray would guess, and naming it skips the backend scan."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import xarray as xr
from xarray.backends.plugins import guess_engine

from globalrs.estimates import rh
from globalrs.process_models import cmip6
from globalrs.sources import readers
from globalrs.sources.cache import NETCDF_ENGINE, read_netcdf, read_netcdf_array, write_netcdf_atomic
from globalrs.sources.data import fetch


def test_cache_files_are_read_with_the_engine_xarray_would_guess(tmp_path):
    ds = xr.Dataset({"a": (("x",), np.arange(3.0))}, coords={"x": [1, 2, 3]}, attrs={"k": "v"})
    path = write_netcdf_atomic(ds, tmp_path / "a.nc")
    assert guess_engine(str(path)) == NETCDF_ENGINE
    with xr.open_dataset(path) as guessed:
        xr.testing.assert_identical(read_netcdf(path), guessed.load())
    with xr.open_dataarray(path) as guessed:
        xr.testing.assert_identical(read_netcdf_array(path), guessed.load())


def test_mirror_files_read_by_name_are_the_guessed_engine(mirror_dir):
    names = [readers.LAND_FRACTION_FILE, rh.RC_FILE] + [name for name, _ in cmip6.LANDMODEL_FILES.values()]
    for name in names:
        assert guess_engine(str(fetch(name))) == NETCDF_ENGINE, name


def test_reading_a_cached_file_does_not_load_other_backends(tmp_path):
    path = write_netcdf_atomic(xr.Dataset({"a": (("x",), np.arange(3.0))}), tmp_path / "b.nc")
    code = (
        "import sys; from globalrs.sources.cache import read_netcdf; "
        f"read_netcdf({str(path)!r}); print(sorted(m for m in ('rioxarray', 'kerchunk') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
