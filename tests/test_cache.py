"""The result cache: atomic writes, one locked build per key, keys from inputs, parameters and versions."""

from __future__ import annotations

import importlib
import json
import multiprocessing
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from globalrs.sources.cache import cache_key, cached_build, write_atomic, write_csv_atomic, write_netcdf_atomic


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


def _json_cache(calls):
    def build():
        calls.append(1)
        return {"value": len(calls)}

    def write(obj, path):
        write_atomic(path, lambda tmp: Path(tmp).write_text(json.dumps(obj)))

    def read(path):
        return json.loads(Path(path).read_text())

    return build, read, write


def test_cached_build_builds_once_rebuilds_damaged_and_refreshes(tmp_path):
    calls = []
    build, read, write = _json_cache(calls)
    target = tmp_path / "sub" / "x.json"
    assert cached_build(target, build, read, write) == {"value": 1}
    assert cached_build(target, build, read, write) == {"value": 1}
    assert len(calls) == 1
    target.write_text("{not json")
    assert cached_build(target, build, read, write) == {"value": 2}
    assert cached_build(target, build, read, write, refresh=True) == {"value": 3}


def _build_in_process(target: str, log: str) -> None:
    def build():
        with open(log, "a") as fh:
            fh.write("built\n")
        time.sleep(0.5)  # long enough for the other process to wait on the lock
        return {"value": 1}

    def write(obj, path):
        write_atomic(path, lambda tmp: Path(tmp).write_text(json.dumps(obj)))

    cached_build(Path(target), build, lambda p: json.loads(Path(p).read_text()), write)


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_cached_build_builds_once_for_two_processes(tmp_path):
    target, log = tmp_path / "x.json", tmp_path / "log.txt"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_build_in_process, args=(str(target), str(log))) for _ in range(2)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    assert log.read_text().count("built") == 1
    assert json.loads(target.read_text()) == {"value": 1}


def test_cache_key_follows_parameters_version_and_inputs(mirror_dir):
    base = cache_key("e", "1", ["grids/summarized_climate.csv"], data_version="v5", forcing="worldclim")
    assert base == cache_key("e", "1", ["grids/summarized_climate.csv"], forcing="worldclim", data_version="v5")
    assert base != cache_key("e", "1", ["grids/summarized_climate.csv"], data_version="v5", forcing="udel")
    assert base != cache_key("e", "2", ["grids/summarized_climate.csv"], data_version="v5", forcing="worldclim")
    assert base != cache_key("e", "1", ["grids/fractional_land.0.5-deg.nc"], data_version="v5", forcing="worldclim")


def test_cache_keys_do_not_hash_source_text():
    """Editing a docstring must not invalidate fitted results: no key reads a module's file."""
    for name in (
        "sources.cache",
        "estimates.ensemble",
        "estimates.evaluate",
        "estimates.mgrsd",
        "estimates.forcing",
        "sources.readers",
        "gridding.regions",
    ):
        source = Path(importlib.import_module(f"globalrs.{name}").__file__).read_text()
        assert "__file__" not in source, f"globalrs.{name} reads module source (for a cache key?)"


def test_the_build_log_has_a_line_per_build_and_none_per_read(tmp_path, monkeypatch):
    """With GLOBALRS_BUILD_LOG set, each build (not each read) appends its cache file and its cost."""
    log = tmp_path / "built.jsonl"
    monkeypatch.setenv("GLOBALRS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GLOBALRS_BUILD_LOG", str(log))
    calls = []
    build, read, write = _json_cache(calls)

    def busy_build():
        deadline = time.process_time() + 0.05
        while time.process_time() < deadline:
            pass
        return build()

    target = tmp_path / "cache" / "sub" / "x.json"
    cached_build(target, busy_build, read, write)
    cached_build(target, busy_build, read, write)
    cached_build(tmp_path / "elsewhere.json", busy_build, read, write)
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert [line["result"] for line in lines] == ["sub/x.json", str(tmp_path / "elsewhere.json")]
    assert all(line["cpu_s"] >= 0.05 and line["wall_s"] >= line["cpu_s"] * 0.5 for line in lines)


def test_a_build_log_that_cannot_be_written_warns_and_the_result_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("GLOBALRS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GLOBALRS_BUILD_LOG", str(tmp_path / "no such folder" / "built.jsonl"))
    calls = []
    build, read, write = _json_cache(calls)
    target = tmp_path / "cache" / "x.json"
    with pytest.warns(UserWarning, match="GLOBALRS_BUILD_LOG=.*cannot append"):
        assert cached_build(target, build, read, write) == {"value": 1}
    assert target.is_file() and len(calls) == 1
