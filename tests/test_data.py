"""The registry and verified fetch: every success and error path, with files the tests make."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import os

import pytest

from globalrs import data
from globalrs.data import DataAccessError, RegistryEntry, fetch


def make_entry(name: str, payload: bytes, url: str = "http://127.0.0.1:9/none") -> RegistryEntry:
    return RegistryEntry(
        name=name,
        url=url,
        sha256=hashlib.sha256(payload).hexdigest(),
        bytes=len(payload),
        license="test",
        description="test file",
        citation="test",
        bibkeys=(),
    )


@pytest.fixture
def fake_registry(monkeypatch):
    """Replace the packaged registry with entries a test defines."""
    entries: dict[str, RegistryEntry] = {}
    monkeypatch.setattr(data, "load_registry", lambda: entries)
    data._cached_sha256.cache_clear()
    return entries


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    root = tmp_path / "mirror"
    root.mkdir()
    monkeypatch.setenv("GLOBALRS_DATA_MIRROR", str(root))
    return root


@pytest.fixture
def online(tmp_path, monkeypatch):
    """No mirror: downloads go to a temporary cache."""
    monkeypatch.delenv("GLOBALRS_DATA_MIRROR", raising=False)
    monkeypatch.setenv("GLOBALRS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_packaged_registry_has_required_fields():
    registry = data.load_registry()
    assert len(registry) > 100
    for entry in registry.values():
        assert entry.url.startswith("https://")
        assert len(entry.sha256) == 64 and int(entry.sha256, 16) >= 0
        assert entry.bytes > 0
        assert entry.license and entry.citation


def test_registry_matches_mirror_manifest(mirror_dir):
    with (mirror_dir / "MANIFEST.csv").open(newline="") as fh:
        manifest = {row["file"]: row for row in csv.DictReader(fh)}
    registry = data.load_registry()
    assert set(manifest) == set(registry)
    for name, row in manifest.items():
        assert registry[name].sha256 == row["sha256"]
        assert registry[name].url == row["url"]
        assert registry[name].bytes == int(row["bytes"])


def test_unknown_name_suggests_close_matches(fake_registry):
    fake_registry["srdb/srdb-data.csv"] = make_entry("srdb/srdb-data.csv", b"x")
    with pytest.raises(DataAccessError, match=r"not in the data registry.*srdb/srdb-data.csv"):
        fetch("srdb/srdb-dat.csv")


def test_fetch_from_mirror_returns_verified_path(fake_registry, mirror):
    payload = b"Rs_annual\n750\n"
    fake_registry["obs/rs.csv"] = make_entry("obs/rs.csv", payload)
    (mirror / "obs").mkdir()
    (mirror / "obs" / "rs.csv").write_bytes(payload)
    path = fetch("obs/rs.csv")
    assert path == mirror / "obs" / "rs.csv"
    assert path.read_bytes() == payload


def test_missing_file_in_mirror_names_file_place_and_fix(fake_registry, mirror):
    fake_registry["obs/rs.csv"] = make_entry("obs/rs.csv", b"abc", url="https://example.org/rs.csv")
    with pytest.raises(DataAccessError) as err:
        fetch("obs/rs.csv")
    message = str(err.value)
    assert "obs/rs.csv" in message
    assert str(mirror / "obs" / "rs.csv") in message
    assert "GLOBALRS_DATA_MIRROR" in message and "https://example.org/rs.csv" in message


def test_truncated_file_is_refused(fake_registry, mirror):
    payload = b"0123456789" * 10
    fake_registry["a.bin"] = make_entry("a.bin", payload)
    (mirror / "a.bin").write_bytes(payload[:37])
    with pytest.raises(DataAccessError, match=r"a.bin.*truncated: 37 bytes, registry says 100"):
        fetch("a.bin")


def test_corrupt_file_of_right_size_is_refused(fake_registry, mirror):
    payload = b"0123456789"
    fake_registry["a.bin"] = make_entry("a.bin", payload)
    (mirror / "a.bin").write_bytes(b"0123456780")
    with pytest.raises(DataAccessError, match=r"a.bin.*corrupt or a different version"):
        fetch("a.bin")


def test_file_changed_after_first_check_is_hashed_again(fake_registry, mirror):
    payload = b"0123456789"
    fake_registry["a.bin"] = make_entry("a.bin", payload)
    target = mirror / "a.bin"
    target.write_bytes(payload)
    fetch("a.bin")
    target.write_bytes(b"9876543210")
    os.utime(target, ns=(1, 1))  # a different mtime, as any rewrite gives
    with pytest.raises(DataAccessError, match="corrupt"):
        fetch("a.bin")


def test_download_verifies_and_caches(fake_registry, online, loopback_server):
    served, base = loopback_server
    payload = b"year,rs\n2000,88.1\n"
    (served / "rs.csv").write_bytes(payload)
    fake_registry["remote/rs.csv"] = make_entry("remote/rs.csv", payload, url=f"{base}/rs.csv")
    path = fetch("remote/rs.csv")
    assert path.read_bytes() == payload
    assert online in path.parents
    (served / "rs.csv").unlink()  # a second fetch is served from the verified cache
    assert fetch("remote/rs.csv") == path


def test_download_with_wrong_hash_is_refused(fake_registry, online, loopback_server):
    served, base = loopback_server
    (served / "rs.csv").write_bytes(b"tampered!")
    entry = make_entry("remote/rs.csv", b"original", url=f"{base}/rs.csv")
    fake_registry["remote/rs.csv"] = entry
    with pytest.raises(DataAccessError) as err:
        fetch("remote/rs.csv")
    assert f"{base}/rs.csv" in str(err.value)
    assert not (online / "downloads" / "remote" / "rs.csv").exists()


def test_unreachable_url_explains_offline_fix(fake_registry, online, loopback_server):
    _, base = loopback_server
    fake_registry["remote/gone.csv"] = make_entry("remote/gone.csv", b"x", url=f"{base}/gone.csv")
    with pytest.raises(DataAccessError, match=r"remote/gone.csv: download from .*gone.csv failed.*GLOBALRS_DATA_MIRROR"):
        fetch("remote/gone.csv")


def test_damaged_cached_download_is_fetched_again(fake_registry, online, loopback_server):
    served, base = loopback_server
    payload = b"good bytes"
    (served / "f.txt").write_bytes(payload)
    fake_registry["r/f.txt"] = make_entry("r/f.txt", payload, url=f"{base}/f.txt")
    path = fetch("r/f.txt")
    path.write_bytes(b"bad")
    assert fetch("r/f.txt").read_bytes() == payload


def test_list_datasets_is_sorted_and_complete():
    names = [e.name for e in data.list_datasets()]
    assert names == sorted(names)
    assert len(names) == len(data.load_registry())


def test_require_columns_names_source_and_missing():
    import pandas as pd

    frame = pd.DataFrame({"year": [2000], "rs": [88.0]})
    data.require_columns(frame, {"year", "rs"}, "x.csv")  # complete: no error
    with pytest.raises(ValueError, match=r"x.csv: missing columns \['rh', 'sd'\]"):
        data.require_columns(frame, {"year", "rh", "sd"}, "x.csv")


def test_every_registered_licence_has_a_usage_note():
    missing = sorted({e.license for e in data.list_datasets()} - set(data.LICENCE_TERMS))
    assert not missing, f"licences without a note in LICENCE_TERMS: {missing}"
    for entry in data.list_datasets():
        assert data.licence_terms(entry)
    with pytest.raises(KeyError, match="has no entry"):
        data.licence_terms(dataclasses.replace(make_entry("x/y.csv", b"1"), license="WTFPL"))
