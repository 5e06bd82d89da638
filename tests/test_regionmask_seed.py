"""scripts/seed_regionmask_cache.py: the AR6 file goes into regionmask's cache only when verified."""

from __future__ import annotations

import importlib.util
import inspect
import io
import tarfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def seeder(tmp_path):
    import regionmask

    spec = importlib.util.spec_from_file_location("seed_regionmask_cache", REPO_ROOT / "scripts" / "seed_regionmask_cache.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with regionmask.set_options(cache_dir=str(tmp_path / "regionmask-cache")):
        yield module


def _sdist(path: Path, version: str, payload: bytes | None) -> Path:
    """A source distribution shaped like regionmask's, holding ``payload`` as the AR6 zip (or nothing)."""
    with tarfile.open(path, "w:gz") as tar:
        members = {f"regionmask-{version}/README.md": b"regionmask"}
        if payload is not None:
            members[f"regionmask-{version}/data/IPCC-WGI-reference-regions-v4.zip"] = payload
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_the_hash_is_the_one_regionmask_registers(seeder):
    from regionmask.defined_regions import _ressources

    assert seeder.AR6_SHA256 in inspect.getsource(_ressources.fetch_remote_shapefile)
    assert seeder.AR6_FILE in inspect.getsource(_ressources.fetch_remote_shapefile)


def test_wrong_bytes_are_refused_and_nothing_is_left(seeder, tmp_path):
    sdist = _sdist(tmp_path / "regionmask-9.9.tar.gz", "9.9", b"not the AR6 shapefile")
    with pytest.raises(RuntimeError, match="sha256 .* regionmask expects"):
        seeder.seed("9.9", sdist)
    assert not [p for p in (tmp_path / "regionmask-cache").rglob("*") if p.is_file()]


def test_an_sdist_without_the_file_is_refused(seeder, tmp_path):
    sdist = _sdist(tmp_path / "regionmask-9.9.tar.gz", "9.9", None)
    with pytest.raises(RuntimeError, match="holds no regionmask-9.9/data/IPCC-WGI-reference-regions-v4.zip"):
        seeder.seed("9.9", sdist)


def test_verified_bytes_land_where_regionmask_looks_and_are_not_fetched_again(seeder, tmp_path, monkeypatch):
    real = Path.home() / ".cache" / "regionmask"
    found = sorted(real.glob(f"v*/{seeder.AR6_FILE}"))
    if not found or seeder.sha256_of(found[0].read_bytes()) != seeder.AR6_SHA256:
        pytest.skip("regionmask's AR6 file is not in this machine's regionmask cache (./run.sh env puts it there)")
    sdist = _sdist(tmp_path / "regionmask-9.9.tar.gz", "9.9", found[0].read_bytes())
    target = seeder.seed("9.9", sdist)
    assert target == seeder.cache_target("9.9") and target.read_bytes() == found[0].read_bytes()
    assert target.is_relative_to(tmp_path / "regionmask-cache")

    # already there and verified: no download is attempted
    def no_download(*args, **kwargs):
        raise AssertionError("downloaded again")

    monkeypatch.setattr(seeder.subprocess, "run", no_download)
    assert seeder.seed("9.9") == target
