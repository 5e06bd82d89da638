"""Tests for globalrs.estimates.published: the online path against a local stand-in.

The tests write a Zenodo-style record-metadata document (``records/<id>``: ``files[]`` with
key, size, ``checksum`` "md5:...", ``links.self``) and small NetCDF/GeoTIFF maps into a temp
directory, and serve it from a loopback HTTP server (127.0.0.1) or as ``file://`` URLs. Nothing
reaches the real internet.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from synthetic import write_global_geotiff

from globalrs.core.grid import make_grid
from globalrs.estimates import ensemble, gridded, published
from globalrs.sources import readers

RECORD_ID = "8404747"


def _global(res, value_fn, units="g C m-2 yr-1", name="rs"):
    lat, lon = make_grid(res)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    values = value_fn(la, lo).astype("float32")
    values[np.abs(la) > 70] = np.nan  # "no land" near the poles
    return xr.DataArray(values, dims=("lat", "lon"), coords={"lat": lat, "lon": lon}, name=name, attrs={"units": units})


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _make_record(root: Path, base_url: str, corrupt: str | None = None) -> dict:
    """Write three maps and records/<id> into ``root``; return the record."""
    files = root / "files"
    files.mkdir(parents=True)
    # 1) an annual NetCDF at 0.5 deg, 0..360 longitudes, descending latitudes
    a = _global(0.5, lambda la, lo: 600 + 0 * la)
    a = a.assign_coords(lon=a["lon"] % 360).sortby("lon").isel(lat=slice(None, None, -1))
    a.to_dataset().to_netcdf(files / "Hashimoto2015_Rs_annual.nc")
    # 2) a monthly climatology in kg C m-2 s-1 with an extra non-flux variable
    lat, lon = make_grid(1.0)
    month_rate = np.arange(1, 13, dtype=float)[:, None, None] * 1e-9 * np.ones((12, 180, 360))
    ds = xr.Dataset(
        {
            "Rs": (("month", "lat", "lon"), month_rate, {"units": "kg C m-2 s-1"}),
            "quality": (("lat", "lon"), np.ones((180, 360)), {"units": "1"}),
        },
        coords={"month": np.arange(1, 13), "lat": lat, "lon": lon},
    )
    ds.to_netcdf(files / "Lu2021_monthly.nc")
    # 3) a GeoTIFF at 0.25 deg with nodata and a units tag
    t = _global(0.25, lambda la, lo: 900 + 0 * la).isel(lat=slice(None, None, -1))
    write_global_geotiff(files / "Warner2019_rs.tif", t.values, 0.25, tags={"units": "g C m-2 yr-1"})
    (files / "README.txt").write_text("not a map")
    entries = []
    for path in sorted(files.iterdir()):
        checksum = _md5(path)
        if corrupt == path.name:
            checksum = "0" * 32
        entries.append(
            {
                "key": path.name,
                "size": path.stat().st_size,
                "checksum": f"md5:{checksum}",
                "links": {"self": f"{base_url}/files/{path.name}"},
            }
        )
    record = {"id": int(RECORD_ID), "metadata": {"license": {"id": "cc-by-4.0"}}, "files": entries}
    (root / "records").mkdir()
    (root / "records" / RECORD_ID).write_text(json.dumps(record))
    return record


@pytest.fixture
def loopback(tmp_path):
    """A loopback HTTP server over a temp directory; yields (root, base_url)."""
    root = tmp_path / "server"
    root.mkdir()
    handler = partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GLOBALRS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _land_fraction():
    lat, lon = make_grid(0.5)
    return xr.DataArray(np.ones((lat.size, lon.size)), dims=("lat", "lon"), coords={"lat": lat, "lon": lon})


def test_catalogue_entries_are_complete():
    cat = published.load_catalogue()
    assert "collection" in cat.index
    assert cat.loc["collection", "doi"] == published.COLLECTION_DOI
    for col in ("doi", "licence", "citation", "harmonize", "access"):
        assert (cat[col].str.len() > 0).all(), col
    assert set(cat["method_family"][cat.index != "collection"]) <= set(published.METHOD_FAMILIES)
    assert published.match_family("Warner2019_rs")[1] == "Machine learning"
    assert published.match_family("Hashimoto2015_Rs_annual")[0] == "hashimoto2015"
    assert published.match_family("Lu2021_monthly:Rs")[0] == "lu2021"
    assert published.match_family("something_else")[1] == published.UNKNOWN_FAMILY


def test_record_id_from_doi():
    assert published.zenodo_record_id("10.5281/zenodo.8404747") == "8404747"
    assert published.zenodo_record_id("https://doi.org/10.5281/zenodo.4708444") == "4708444"
    with pytest.raises(ValueError):
        published.zenodo_record_id("10.3334/ORNLDAAC/1736")


def test_discovery_reads_files_from_the_record(loopback):
    root, base = loopback
    record = _make_record(root, base)
    files = published.discover_zenodo_files(api=base)
    assert [f.key for f in files] == [e["key"] for e in record["files"]]
    assert all(f.checksum.startswith("md5:") and f.size > 0 for f in files)


def test_parse_record_files_accepts_the_entries_layout_and_rejects_bad_entries():
    entries = {"a.nc": {"key": "a.nc", "size": 3, "checksum": "md5:abc", "links": {"content": "http://127.0.0.1/a"}}}
    files = published.parse_record_files({"files": {"entries": entries}})
    assert files[0].url == "http://127.0.0.1/a"
    legacy = [{"filename": "b.nc", "filesize": 5, "checksum": "0123abcd", "links": {"download": "http://127.0.0.1/b"}}]
    (b,) = published.parse_record_files({"files": legacy})
    assert (b.key, b.size, b.checksum, b.url) == ("b.nc", 5, "md5:0123abcd", "http://127.0.0.1/b")
    with pytest.raises(published.PublishedMapsUnavailable, match="md5"):
        published.parse_record_files({"files": [{"key": "a", "links": {"self": "x"}, "checksum": "sha256:00"}]})
    with pytest.raises(published.PublishedMapsUnavailable, match="no files"):
        published.parse_record_files({"id": 1, "files": []})


def test_download_verifies_and_rejects_corrupt_files(loopback, tmp_path):
    root, base = loopback
    _make_record(root, base, corrupt="Lu2021_monthly.nc")
    files = {f.key: f for f in published.discover_zenodo_files(api=base)}
    good = published.download_verified(files["Warner2019_rs.tif"], tmp_path / "dl")
    assert good.read_bytes() == (root / "files" / "Warner2019_rs.tif").read_bytes()
    with pytest.raises(published.VerificationError, match="md5"):
        published.download_verified(files["Lu2021_monthly.nc"], tmp_path / "dl")
    assert not (tmp_path / "dl" / "Lu2021_monthly.nc").exists()
    assert not list((tmp_path / "dl").glob("*.part"))
    wrong_size = published.RemoteFile("x.nc", 1, files["README.txt"].checksum, files["README.txt"].url)
    with pytest.raises(published.VerificationError, match="bytes"):
        published.download_verified(wrong_size, tmp_path / "dl")


def test_published_ensemble_from_loopback(loopback, cache):
    root, base = loopback
    _make_record(root, base)
    ds = published.load_published_ensemble(api=base, land_fraction=_land_fraction())
    assert list(ds["member"].values) == ["Hashimoto2015_Rs_annual", "Lu2021_monthly:Rs", "Warner2019_rs"]
    assert list(ds["method_family"].values) == ["Semi-empirical model", "Machine learning", "Machine learning"]
    mask = ds["land_mask"]
    assert bool(mask.sel(lat=0.25, lon=0.25)) and not bool(mask.sel(lat=80.25, lon=0.25))
    rs = ds["rs_annual"].where(mask)
    np.testing.assert_allclose(rs.sel(member="Hashimoto2015_Rs_annual").max(), 600.0, rtol=1e-6)
    np.testing.assert_allclose(rs.sel(member="Warner2019_rs").min(), 900.0, rtol=1e-6)
    # monthly kg C m-2 s-1 -> g C m-2 month-1 with month lengths; annual = sum of months
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    expected_month = np.arange(1, 13) * 1e-9 * 1000 * 86400 * days
    got = ds["rs_monthly"].sel(member_monthly="Lu2021_monthly:Rs", lat=0.25, lon=0.25).values
    np.testing.assert_allclose(got, expected_month, rtol=1e-6)
    np.testing.assert_allclose(rs.sel(member="Lu2021_monthly:Rs", lat=0.25, lon=0.25), expected_month.sum(), rtol=1e-6)
    skipped = json.loads(ds.attrs["skipped_variables"])
    assert [s["variable"] for s in skipped] == ["quality"]
    assert ds.attrs["licence"] == "cc-by-4.0"
    # second call reuses the verified cache
    assert (cache / "published" / RECORD_ID / "Warner2019_rs.tif").exists()


def test_file_url_stand_in(tmp_path, cache):
    root = tmp_path / "mirror"
    root.mkdir()
    _make_record(root, root.as_uri())
    ds = published.load_published_ensemble(api=root.as_uri(), land_fraction=_land_fraction())
    assert ds.sizes["member"] == 3


def test_offline_fails_with_a_clear_message(monkeypatch, cache):
    import socket

    with socket.socket() as s:  # a loopback port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(published.ZENODO_API_ENV, f"http://127.0.0.1:{port}/api")
    monkeypatch.setenv("GLOBALRS_ENSEMBLE", "published")
    with pytest.raises(published.PublishedMapsUnavailable, match="GLOBALRS_ENSEMBLE=standardized"):
        gridded.load_gridded_estimates()


def test_switch_selects_standardized_published_or_both(loopback, cache, monkeypatch):
    root, base = loopback
    _make_record(root, base)
    monkeypatch.setenv(published.ZENODO_API_ENV, base)
    lat, lon = make_grid(0.5)
    lf = _land_fraction()
    std = xr.Dataset(
        {
            "rs_annual": (
                ("member", "lat", "lon"),
                np.full((2, lat.size, lon.size), 700.0, "float32"),
                {"units": "g C m-2 yr-1"},
            ),
            "land_mask": (("lat", "lon"), np.abs(lat)[:, None].repeat(lon.size, 1) < 60),
            "cell_area_m2": (("lat", "lon"), np.ones((lat.size, lon.size))),
            "land_fraction": lf,
        },
        coords={"member": ["a", "b"], "method_family": ("member", ["Area x Mean", "Linear model"]), "lat": lat, "lon": lon},
    )
    monkeypatch.setattr(ensemble, "load_ensemble", lambda *a, **k: std)
    monkeypatch.setattr(readers, "read_land_fraction_05", lambda: lf)
    monkeypatch.setenv("GLOBALRS_ENSEMBLE", "standardized")
    assert gridded.load_gridded_estimates().attrs["ensemble_choice"] == "standardized"
    pub = gridded.load_gridded_estimates("published")
    assert pub.sizes["member"] == 3
    both = gridded.load_gridded_estimates("both")
    assert list(both["member"].values)[:2] == ["std:a", "std:b"]
    assert both.sizes["member"] == 5
    assert bool((both["land_mask"] <= std["land_mask"]).all())
    assert not bool(both["rs_annual"].where(both["land_mask"]).isnull().where(both["land_mask"], False).any())
    with pytest.raises(ValueError):
        gridded.load_gridded_estimates("everything")


def test_summarize_members():
    lat, lon = make_grid(0.5)
    ds = xr.Dataset(
        {
            "rs_annual": (("member", "lat", "lon"), np.ones((1, lat.size, lon.size))),
            "land_mask": (("lat", "lon"), np.ones((lat.size, lon.size), bool)),
        },
        coords={"member": ["m"], "method_family": ("member", ["Linear model"])},
    )
    table = gridded.summarize_members(ds)
    assert isinstance(table, pd.DataFrame)
    assert table.loc["m", "cells_on_mask"] == lat.size * lon.size


def test_zip_archives_are_extracted_and_unsafe_members_skipped(tmp_path):
    import zipfile

    nc = tmp_path / "Stell2021_rs.nc"
    _global(1.0, lambda la, lo: 500 + 0 * la).to_dataset().to_netcdf(nc)
    archive = tmp_path / "maps.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(nc, "inner/Stell2021_rs.nc")
        z.writestr("../evil.nc", b"not extracted")
        z.writestr("notes.txt", b"text")
    found = published.map_files([archive, tmp_path / "readme.md"], tmp_path / "out")
    assert [p.name for p in found] == ["Stell2021_rs.nc"]
    members, skipped = published.harmonize_map_file(found[0])
    assert skipped == [] and members[0][0] == "Stell2021_rs"
    assert published.match_family(members[0][0])[0] == "stell2021"
    assert not (tmp_path / "evil.nc").exists()
