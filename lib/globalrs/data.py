"""The data registry and verified access to every file the book reads.

Every file is named by its path relative to the mirror root (``"srdb/srdb-data_v20200511a.csv"``).
:func:`fetch` returns a local path to bytes whose sha256 matches the registry:

* with ``GLOBALRS_DATA_MIRROR`` set, from that directory (nothing is downloaded);
* otherwise downloaded from the canonical URL into the cache (pooch), verified on arrival.

Anything else (unknown name, missing file, truncated or corrupt bytes, failed download) raises
:class:`DataAccessError` naming the dataset, where it looked and how to fix it. Unverified bytes
are never returned.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pooch

from globalrs.config import MIRROR_ENV, get_cache_dir, get_mirror_dir
from globalrs.exceptions import DataAccessError


@dataclass(frozen=True)
class RegistryEntry:
    """One registered file: where it comes from and how to check it."""

    name: str
    url: str
    sha256: str
    bytes: int
    license: str
    description: str
    citation: str
    bibkeys: tuple[str, ...]


@lru_cache(maxsize=1)
def load_registry() -> dict[str, RegistryEntry]:
    """Read the packaged registry into a dict keyed by file name."""
    text = resources.files("globalrs").joinpath("registry.csv").read_text()
    entries = {}
    for rec in csv.DictReader(text.splitlines()):
        entries[rec["name"]] = RegistryEntry(
            name=rec["name"],
            url=rec["url"],
            sha256=rec["sha256"].lower(),
            bytes=int(rec["bytes"]),
            license=rec["license"],
            description=rec["description"],
            citation=rec["citation"],
            bibkeys=tuple(k for k in rec["bibkeys"].split(";") if k),
        )
    return entries


def get_entry(name: str) -> RegistryEntry:
    """Return the registry entry for ``name``; unknown names raise with close matches."""
    registry = load_registry()
    try:
        return registry[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(registry), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise DataAccessError(
            f"{name!r} is not in the data registry (lib/globalrs/registry.csv).{hint}"
        ) from None


def compute_sha256(path: Path, chunk_bytes: int = 1 << 20) -> str:
    """Return the hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: Path, entry: RegistryEntry, where: str) -> Path:
    """Check size and sha256 of ``path`` against ``entry``; raise a clear error on mismatch.

    Parameters
    ----------
    path
        Local file to check.
    entry
        Its registry entry.
    where
        A phrase naming where the file came from, used in the error message.
    """
    size = path.stat().st_size
    if size != entry.bytes:
        kind = "truncated" if size < entry.bytes else "larger than registered"
        raise DataAccessError(
            f"{entry.name}: the file at {path} ({where}) is {kind}: {size} bytes, "
            f"registry says {entry.bytes}. Replace it with a fresh copy from {entry.url}."
        )
    digest = _cached_sha256(str(path), size, path.stat().st_mtime_ns)
    if digest != entry.sha256:
        raise DataAccessError(
            f"{entry.name}: the file at {path} ({where}) is corrupt or a different version: "
            f"sha256 {digest}, registry says {entry.sha256}. Replace it with a fresh copy "
            f"from {entry.url}."
        )
    return path


@lru_cache(maxsize=512)
def _cached_sha256(path: str, size: int, mtime_ns: int) -> str:
    # Keyed on size and mtime so a file changed on disk is hashed again.
    return compute_sha256(Path(path))


def fetch(name: str) -> Path:
    """Return the local path of the registered file ``name``, verified against its sha256.

    Parameters
    ----------
    name
        The file's path relative to the mirror root, as listed in the registry.

    Returns
    -------
    pathlib.Path
        A path to verified bytes.

    Raises
    ------
    DataAccessError
        Unknown name, file missing from the mirror, wrong size or hash, or a failed download.
    """
    entry = get_entry(name)
    mirror = get_mirror_dir()
    if mirror is not None:
        path = mirror / entry.name
        if not path.is_file():
            raise DataAccessError(
                f"{entry.name}: not found in the offline mirror: looked for {path} "
                f"({MIRROR_ENV}={mirror}). Put the file there (canonical URL: {entry.url}), "
                f"point {MIRROR_ENV} at a directory that has it, or unset {MIRROR_ENV} to download."
            )
        return verify_file(path, entry, f"mirror {MIRROR_ENV}={mirror}")
    return _download(entry)


def _download(entry: RegistryEntry) -> Path:
    """Download ``entry`` into the cache with pooch and verify it."""
    cache = get_cache_dir() / "downloads"
    target = cache / entry.name
    if target.is_file():
        try:
            return verify_file(target, entry, "download cache")
        except DataAccessError:
            target.unlink()  # a stale or damaged cached copy: fetch it again
    try:
        fname = pooch.retrieve(
            url=entry.url,
            known_hash=f"sha256:{entry.sha256}",
            fname=Path(entry.name).name,
            path=target.parent,
            progressbar=False,
        )
    except Exception as exc:  # pooch raises requests/ValueError subclasses
        raise DataAccessError(
            f"{entry.name}: download from {entry.url} failed ({type(exc).__name__}: {exc}). "
            f"On an offline machine set {MIRROR_ENV} to a directory holding the file "
            f"(for example ../shared/data)."
        ) from exc
    return verify_file(Path(fname), entry, f"downloaded from {entry.url}")


def require_columns(frame, required: set[str] | list[str], source: str) -> None:
    """Raise a ValueError naming ``source`` if ``frame`` lacks any of the ``required`` columns.

    Parameters
    ----------
    frame
        A table just read from a file (anything with ``.columns``).
    required
        Column names that must be present.
    source
        What the table is, for the message (a path, or a path with what it should have been).
    """
    missing = set(required) - set(frame.columns)
    if missing:
        raise ValueError(f"{source}: missing columns {sorted(missing)}")


def list_datasets() -> list[RegistryEntry]:
    """Return every registry entry, sorted by name (for the book's Data page)."""
    return sorted(load_registry().values(), key=lambda e: e.name)
