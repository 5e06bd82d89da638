"""Put regionmask's IPCC AR6 region shapefile into regionmask's own cache, from regionmask's sdist on PyPI.

``regionmask.defined_regions.ar6`` (Iturbide et al. 2020) is not in regionmask's wheel: regionmask
downloads ``IPCC-WGI-reference-regions-v4.zip`` from its GitHub repository the first time (with
pooch, which checks the file's sha256 on every use). On a machine that reaches only the package
registries that download fails, but regionmask's source distribution on PyPI carries the same file
(``regionmask-<version>/data/``). This script, run by ``./run.sh`` when it sets up the environment:

1. does nothing when the file is already in regionmask's cache with the sha256 regionmask expects;
2. otherwise downloads the sdist of the installed regionmask version from the package index
   (``pip download --no-binary :all: --no-deps``), takes the zip out of it, checks its sha256
   against the one regionmask itself registers, and writes it where regionmask's pooch looks
   (``<regionmask cache>/v<version>/``).

A wrong hash or a failed download is reported and the script exits 1; nothing unverified is left
in the cache. Online (Binder), regionmask would fetch the file itself if this step were skipped.

Usage::

    python scripts/seed_regionmask_cache.py
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path

#: The AR6 file and the sha256 regionmask's own pooch registry gives it
#: (``regionmask.defined_regions._ressources.fetch_remote_shapefile``; tests/test_regionmask_seed.py
#: checks that regionmask still registers this value).
AR6_FILE = "IPCC-WGI-reference-regions-v4.zip"
AR6_SHA256 = "c83881a18e74912385ad578282de721cc8e866b62cbbc75446e52e7041c81cff"


def sha256_of(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def cache_target(version: str) -> Path:
    """Where regionmask's pooch looks for the AR6 file of regionmask ``version``."""
    from regionmask.defined_regions._ressources import _get_cache_dir

    return _get_cache_dir() / f"v{version}" / AR6_FILE


def already_there(target: Path) -> bool:
    """Whether ``target`` holds the file with the expected hash."""
    return target.is_file() and sha256_of(target.read_bytes()) == AR6_SHA256


def zip_from_sdist(sdist: Path, version: str) -> bytes:
    """The AR6 zip's bytes, read from regionmask's source distribution ``sdist``."""
    member = f"regionmask-{version}/data/{AR6_FILE}"
    with tarfile.open(sdist) as tar:
        try:
            handle = tar.extractfile(member)
        except KeyError:
            handle = None
        if handle is None:
            raise FileNotFoundError(f"{sdist.name} holds no {member}")
        return handle.read()


def seed(version: str | None = None, sdist: Path | None = None) -> Path:
    """Make sure regionmask's cache holds the verified AR6 file; return its path.

    Parameters
    ----------
    version
        regionmask's version (default: the installed one).
    sdist
        A regionmask source distribution already on disk (default: downloaded from the index).

    Raises
    ------
    RuntimeError
        The sdist could not be downloaded, holds no such file, or the file's hash is wrong.
    """
    version = version or metadata.version("regionmask")
    target = cache_target(version)
    if already_there(target):
        return target
    with tempfile.TemporaryDirectory(prefix="regionmask-sdist-") as tmp:
        if sdist is None:
            cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:"]
            cmd += [f"regionmask=={version}", "-d", tmp]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            found = sorted(Path(tmp).glob(f"regionmask-{version}.tar.gz"))
            if proc.returncode != 0 or not found:
                raise RuntimeError(
                    f"could not download regionmask {version}'s source distribution from the package index "
                    f"(pip exit {proc.returncode}): {proc.stderr.strip()[-500:]}. The AR6 regions need "
                    f"{AR6_FILE} in {target.parent}: go online once (regionmask fetches it) or put it there."
                )
            sdist = found[0]
        try:
            data = zip_from_sdist(sdist, version)
        except FileNotFoundError as exc:
            raise RuntimeError(str(exc)) from exc
    got = sha256_of(data)
    if got != AR6_SHA256:
        raise RuntimeError(f"{AR6_FILE} from {sdist.name} has sha256 {got}, regionmask expects {AR6_SHA256}: not used")
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_suffix(".part")
    part.write_bytes(data)
    part.replace(target)
    return target


def main() -> int:
    try:
        path = seed()
    except RuntimeError as exc:
        print(f"seed_regionmask_cache: {exc}", file=sys.stderr)
        return 1
    print(f"seed_regionmask_cache: AR6 regions verified in {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
