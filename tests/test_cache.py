"""Atomic cache writes: a complete file or none, and no temporary file left behind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from globalrs.cache import write_atomic, write_csv_atomic, write_netcdf_atomic


def test_netcdf_round_trip(tmp_path):
    da = xr.DataArray(np.arange(6.0).reshape(2, 3), dims=("lat", "lon"), name="rs", attrs={"units": "g C m-2 yr-1"})
    path = write_netcdf_atomic(da, tmp_path / "sub" / "rs.nc")
    with xr.open_dataarray(path) as back:
        np.testing.assert_array_equal(back.values, da.values)
        assert back.attrs["units"] == "g C m-2 yr-1"
    assert [p.name for p in path.parent.iterdir()] == ["rs.nc"]


def test_csv_round_trip(tmp_path):
    path = write_csv_atomic(pd.DataFrame({"year": [2000, 2001], "rs": [88.0, 89.5]}), tmp_path / "s.csv")
    assert pd.read_csv(path)["rs"].tolist() == [88.0, 89.5]


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "x.csv"
    target.write_text("old\n")

    def broken(tmp: str) -> None:
        with open(tmp, "w") as fh:
            fh.write("half a fi")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, broken)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]
