"""The registry and verified fetch: every success and error path, with files the tests make."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import os
from pathlib import Path

import pytest

from globalrs.sources import data
from globalrs.sources.data import DataAccessError, RegistryEntry, fetch


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


def test_a_download_is_hashed_once(fake_registry, online, loopback_server, monkeypatch):
    """The bytes are read for their sha256 once, when the download is checked, not again after
    the rename into the cache; a second fetch in the same session reads them once more."""
    served, base = loopback_server
    payload = b"year,rs\n2000,88.1\n"
    (served / "rs.csv").write_bytes(payload)
    fake_registry["remote/rs.csv"] = make_entry("remote/rs.csv", payload, url=f"{base}/rs.csv")
    hashed = []
    real = data.compute_sha256
    monkeypatch.setattr(data, "compute_sha256", lambda path, *a: hashed.append(Path(path).name) or real(path, *a))
    fetch("remote/rs.csv")
    assert hashed == ["rs.csv.part"]
    fetch("remote/rs.csv")  # the cached copy is checked (a new path for the hash cache)
    assert hashed == ["rs.csv.part", "rs.csv"]


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


# ----------------------------------------------------------------------------- retry, back-off, resume


class FlakyServer:
    """A loopback HTTP server whose misbehaviour the test scripts, request by request.

    ``plan`` is a list of actions, one per request (the last repeats): ``"drop"`` sends the
    headers and part of the file then closes the connection, ``"stall"`` sends part of it then
    sleeps past the client's timeout, ``"wrong"`` sends the right length of wrong bytes,
    ``"ok"`` serves the file (honouring ``Range`` when ``ranges`` is True). ``requests`` records
    each request's Range header.
    """

    def __init__(self, payload: bytes, plan: list[str], ranges: bool = True):
        import http.server
        import threading

        self.payload, self.plan, self.ranges, self.requests = payload, list(plan), ranges, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                action = outer.plan[min(len(outer.requests), len(outer.plan) - 1)]
                rng = self.headers.get("Range")
                outer.requests.append(rng)
                body, start = outer.payload, 0
                if rng and outer.ranges:
                    start = int(rng.split("=")[1].split("-")[0])
                    body = body[start:]
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(outer.payload) - 1}/{len(outer.payload)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if action == "drop":
                    self.wfile.write(body[: len(body) // 3])
                    self.wfile.flush()
                    self.connection.shutdown(2)
                elif action == "stall":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    threading.Event().wait(1.5)
                elif action == "wrong":
                    self.wfile.write(bytes(b ^ 0xFF for b in body))
                else:
                    self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/file.bin"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fast_retries(monkeypatch):
    monkeypatch.setattr(data, "BACKOFF_S", 0.01)
    monkeypatch.setattr(data, "READ_TIMEOUT_S", 0.5)
    monkeypatch.setattr(data, "DOWNLOAD_BLOCK", 4096)


PAYLOAD = bytes(range(256)) * 400  # 100 kB


@pytest.mark.parametrize(
    ("plan", "ranges", "expected_ranges"),
    [
        (["drop", "ok"], True, [None, f"bytes={len(PAYLOAD) // 3}-"]),  # resumed where it broke
        (
            ["drop", "drop", "ok"],
            False,
            [None, f"bytes={len(PAYLOAD) // 3}-", f"bytes={len(PAYLOAD) // 3}-"],
        ),  # no Range: whole file again
        # a stall times out mid-block: resumed after the last whole block written (4096-byte reads)
        (["stall", "ok"], True, [None, f"bytes={len(PAYLOAD) // 2 // 4096 * 4096}-"]),
        (["wrong", "ok"], True, [None, None]),  # wrong bytes are deleted, never resumed from
    ],
)
def test_download_retries_resumes_and_keeps_only_verified_bytes(
    fake_registry, online, fast_retries, plan, ranges, expected_ranges
):
    server = FlakyServer(PAYLOAD, plan, ranges=ranges)
    try:
        fake_registry["r/file.bin"] = make_entry("r/file.bin", PAYLOAD, url=server.url)
        path = fetch("r/file.bin")
    finally:
        server.close()
    assert path.read_bytes() == PAYLOAD
    assert server.requests == expected_ranges
    assert sorted(p.name for p in path.parent.iterdir()) == ["file.bin"]  # no .part left


def test_a_download_that_always_fails_leaves_nothing_in_the_cache(fake_registry, online, fast_retries):
    server = FlakyServer(PAYLOAD, ["wrong"])
    try:
        fake_registry["r/file.bin"] = make_entry("r/file.bin", PAYLOAD, url=server.url)
        with pytest.raises(DataAccessError, match=rf"failed {data.DOWNLOAD_ATTEMPTS} times .*do not match"):
            fetch("r/file.bin")
    finally:
        server.close()
    assert len(server.requests) == data.DOWNLOAD_ATTEMPTS
    folder = online / "downloads" / "r"
    assert not folder.exists() or not any(folder.iterdir())


def test_a_missing_file_is_not_retried(fake_registry, online, fast_retries, loopback_server):
    _, base = loopback_server
    calls = []
    real = data._one_attempt
    fake_registry["r/gone.bin"] = make_entry("r/gone.bin", b"x", url=f"{base}/gone.bin")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(data, "_one_attempt", lambda *a: calls.append(1) or real(*a))
        with pytest.raises(DataAccessError, match="HTTP 404"):
            fetch("r/gone.bin")
    assert len(calls) == 1
