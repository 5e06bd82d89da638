"""The data registry and verified access to every file the book reads.

Every file is named by its path relative to the mirror root (``"srdb/srdb-data_v20200511a.csv"``).
:func:`fetch` returns a local path to bytes whose sha256 matches the registry:

* with ``GLOBALRS_DATA_MIRROR`` set, from that directory (nothing is downloaded);
* otherwise downloaded from the canonical URL into the cache, with retries, back-off and resume
  (:func:`download_to`), verified on arrival.

Anything else (unknown name, missing file, truncated or corrupt bytes, failed download) raises
:class:`DataAccessError` naming the dataset, where it looked and how to fix it. Unverified bytes
are never returned.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import http.client
import os
import shutil
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from globalrs.core.config import (
    MIRROR_ENV,
    REGISTRY_ENV,
    get_cache_dir,
    get_mirror_dir,
    get_registry_override,
)
from globalrs.core.exceptions import DataAccessError
from globalrs.core.progress import progress_bar, progress_enabled


class UnknownDatasetError(DataAccessError):
    """A name that the registry does not list."""


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


#: the columns every registry CSV has
REGISTRY_COLUMNS = frozenset({"name", "url", "sha256", "bytes", "license", "description", "citation", "bibkeys"})


def load_registry() -> dict[str, RegistryEntry]:
    """Read the registry into a dict keyed by file name.

    The packaged ``registry.csv``, or the CSV file named by ``GLOBALRS_REGISTRY`` (same columns:
    a registry of your own files, to mirror or fetch them with the same checks).
    """
    override = get_registry_override()
    return _read_registry(str(override) if override else None)


@lru_cache(maxsize=4)
def _read_registry(path: str | None) -> dict[str, RegistryEntry]:
    if path is None:
        text = resources.files("globalrs").joinpath("registry.csv").read_text()
    else:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise DataAccessError(f"cannot read the registry {path} ({REGISTRY_ENV}): {exc}") from None
    entries = {}
    reader = csv.DictReader(text.splitlines())
    missing = REGISTRY_COLUMNS - set(reader.fieldnames or ())
    if missing:
        raise DataAccessError(
            f"the registry {path or 'registry.csv (packaged)'} lacks the columns {sorted(missing)}"
            + (f" ({REGISTRY_ENV})" if path else "")
        )
    for rec in reader:
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
        raise UnknownDatasetError(f"{name!r} is not in the data registry (lib/globalrs/registry.csv).{hint}") from None


def compute_sha256(path: Path, chunk_bytes: int = 1 << 20) -> str:
    """Return the hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: Path, entry: RegistryEntry, where: str, sha256: str | None = None) -> Path:
    """Check size and sha256 of ``path`` against ``entry``; raise a clear error on mismatch.

    Parameters
    ----------
    path
        Local file to check.
    entry
        Its registry entry.
    where
        A phrase naming where the file came from, used in the error message.
    sha256
        The file's digest when the caller has just computed it from these very bytes (a
        download, hashed as it was checked): the file is then not read again.
    """
    size = path.stat().st_size
    if size != entry.bytes:
        kind = "truncated" if size < entry.bytes else "larger than registered"
        raise DataAccessError(
            f"{entry.name}: the file at {path} ({where}) is {kind}: {size} bytes, "
            f"registry says {entry.bytes}. Replace it with a fresh copy from {entry.url}."
        )
    digest = sha256 or _cached_sha256(str(path), size, path.stat().st_mtime_ns)
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


def fetch(name: str, progress: bool | None = None) -> Path:
    """Return the local path of the registered file ``name``, verified against its sha256.

    Parameters
    ----------
    name
        The file's path relative to the mirror root, as listed in the registry.
    progress
        Byte progress bar on stdout while downloading (default: only on an interactive
        terminal, see :mod:`globalrs.core.progress`).

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
    return _download(entry, progress=progress)


def _download(entry: RegistryEntry, progress: bool | None = None) -> Path:
    """Download ``entry`` into the cache and verify it (a valid cached copy is reused)."""
    cache = get_cache_dir() / "downloads"
    target = cache / entry.name
    if target.is_file():
        try:
            return verify_file(target, entry, "download cache")
        except DataAccessError:
            target.unlink()  # a stale or damaged cached copy: fetch it again
    return download_to(entry, cache, progress=progress)


#: attempts per download (the first and the retries), and the back-off before retry k (s):
#: BACKOFF_S * 2**k, at most BACKOFF_MAX_S
DOWNLOAD_ATTEMPTS = 5
BACKOFF_S = 1.0
BACKOFF_MAX_S = 30.0
#: seconds to wait for the connection and for each block of data (a stalled server times out)
READ_TIMEOUT_S = 60.0
#: bytes per read
DOWNLOAD_BLOCK = 1 << 20
#: HTTP statuses worth retrying (the rest of 4xx are final: the file is not there)
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class _RetryableError(Exception):
    """A transient failure of one attempt (dropped connection, stall, 5xx, wrong bytes)."""


def _partial_path(target: Path) -> Path:
    return target.with_name(target.name + ".part")


class _FinalError(Exception):
    """A failure that retrying cannot mend (e.g. HTTP 404)."""


def _one_attempt(entry: RegistryEntry, part: Path, bar) -> str:
    """Download into ``part``, resuming from its length when the server honours ``Range``;
    returns the sha256 of the complete, verified bytes."""
    have = part.stat().st_size if part.exists() else 0
    if have > entry.bytes:
        part.unlink()
        have = 0
    request = urllib.request.Request(entry.url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        # the timeout bounds the connection and every read: a stalled server times out
        with urllib.request.urlopen(request, timeout=READ_TIMEOUT_S) as resp:
            resumed = resp.status == 206 and (resp.headers.get("Content-Range") or "").startswith(f"bytes {have}-")
            if not resumed:
                have = 0  # the server sent the whole file
            if bar is not None:
                bar.reset(total=entry.bytes)
                bar.update(have)
            with open(part, "ab" if resumed else "wb") as out:
                while block := resp.read(DOWNLOAD_BLOCK):
                    out.write(block)
                    if bar is not None:
                        bar.update(len(block))
    except urllib.error.HTTPError as exc:
        if exc.code in RETRY_STATUSES:
            raise _RetryableError(f"HTTP {exc.code} {exc.reason}") from exc
        raise _FinalError(f"HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:  # refused, reset, timed out, cut short
        raise _RetryableError(f"{type(exc).__name__}: {exc}") from exc
    return _checked_part(entry, part)


def _checked_part(entry: RegistryEntry, part: Path) -> str:
    """The sha256 of a complete download in ``part``; a short one is resumed, wrong bytes deleted."""
    size = part.stat().st_size
    if size < entry.bytes:
        raise _RetryableError(f"connection closed after {size} of {entry.bytes} bytes")
    digest = compute_sha256(part) if size == entry.bytes else None
    if digest != entry.sha256:
        part.unlink()  # wrong bytes: never kept, never resumed from
        raise _RetryableError("the bytes received do not match the registry's size and sha256")
    return digest


def download_to(entry: RegistryEntry, root: Path, progress: bool | None = None) -> Path:
    """Download ``entry`` from its canonical URL to ``root / entry.name`` and verify it.

    Transient failures (dropped connection, a server that stalls longer than
    :data:`READ_TIMEOUT_S`, HTTP 5xx/429, bytes that do not match the registry) are retried up to
    :data:`DOWNLOAD_ATTEMPTS` times with exponential back-off (:data:`BACKOFF_S`). The bytes go to
    ``<name>.part`` first; a retry resumes from its length when the server honours HTTP
    ``Range`` requests (206), else starts again. Only bytes whose size and sha256 match the
    registry are moved to ``root / entry.name``; wrong bytes are deleted.

    Parameters
    ----------
    entry
        The registry entry.
    root
        Directory in the registry's layout (the download cache, or a mirror being built).
    progress
        Show a byte progress bar on stdout (default: only on an interactive terminal; see
        :mod:`globalrs.core.progress`).

    Raises
    ------
    DataAccessError
        The download failed on every attempt, or failed for good (e.g. HTTP 404); nothing
        unverified is left under ``root / entry.name``.
    """
    target = Path(root) / entry.name
    target.parent.mkdir(parents=True, exist_ok=True)
    part = _partial_path(target)
    bar = None
    if progress_enabled(progress):
        bar = progress_bar(desc=entry.name, total=entry.bytes, unit="B", enabled=True)
    failures: list[str] = []
    try:
        for attempt in range(DOWNLOAD_ATTEMPTS):
            if attempt:
                time.sleep(min(BACKOFF_MAX_S, BACKOFF_S * 2 ** (attempt - 1)))
            try:
                digest = _one_attempt(entry, part, bar)
                break
            except _RetryableError as exc:
                failures.append(str(exc))
        else:
            part.unlink(missing_ok=True)
            raise DataAccessError(
                f"{entry.name}: download from {entry.url} failed {DOWNLOAD_ATTEMPTS} times "
                f"({'; '.join(dict.fromkeys(failures))}). On an offline machine set {MIRROR_ENV} to a "
                "directory holding the file (for example ../shared/data)."
            )
    except _FinalError as exc:
        part.unlink(missing_ok=True)
        raise DataAccessError(
            f"{entry.name}: download from {entry.url} failed ({exc}). "
            f"On an offline machine set {MIRROR_ENV} to a directory holding the file "
            f"(for example ../shared/data)."
        ) from exc
    finally:
        if bar is not None:
            bar.close()
    os.replace(part, target)
    # the bytes were hashed once, in the last attempt: the renamed file is not read again
    return verify_file(target, entry, f"downloaded from {entry.url}", sha256=digest)


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


#: How a file may be used under each licence statement of the registry (book's Data page).
#: A licence missing here fails tests/test_data.py, so a new source cannot appear without a note.
LICENCE_TERMS = {
    "MIT": "reuse, change and redistribute, keeping the copyright and licence notice; cite the authors",
    "MIT (repository); NASA GISTEMP data": (
        "repository under MIT; the values are NASA's GISTEMP, which NASA publishes for free use: "
        "cite GISTEMP (Lenssen et al. 2019)"
    ),
    "CC0 (Natural Earth: public domain)": "public domain: any use; crediting Natural Earth is welcome, not required",
    "AGPL-3.0 (stated in repository README)": (
        "copies and changed versions must stay under AGPL-3.0 with the source offered; the book only reads the files"
    ),
    "no license file in repository; cite the data's authors": (
        "no licence was granted: the book reads the public copy for analysis and never "
        "redistributes it; get it from its source, do not republish it, and cite the authors"
    ),
    "no license file in repository; cite Varney et al. 2020 (Nat Commun 11:5544) and the CMIP modelling groups": (
        "no licence was granted: the book reads the public copy for analysis and never "
        "redistributes it; do not republish it, and cite Varney et al. 2020 and the CMIP modelling "
        "groups"
    ),
}


def licence_terms(entry: RegistryEntry) -> str:
    """How the file of ``entry`` may be used, from :data:`LICENCE_TERMS`.

    Raises
    ------
    KeyError
        The registry states a licence that has no note yet.
    """
    try:
        return LICENCE_TERMS[entry.license]
    except KeyError:
        raise KeyError(f"{entry.name}: licence {entry.license!r} has no entry in globalrs.sources.data.LICENCE_TERMS") from None


def list_datasets() -> list[RegistryEntry]:
    """Return every registry entry, sorted by name (for the book's Data page)."""
    return sorted(load_registry().values(), key=lambda e: e.name)


# --------------------------------------------------------------------------- offline mirrors


@dataclass
class MirrorReport:
    """What a mirror directory holds, file by file, against the registry.

    Attributes
    ----------
    root
        The mirror directory.
    ok
        Registered files present with the right size and sha256.
    missing
        Registered files absent from the mirror (or that could not be downloaded).
    bad
        Registered files present but truncated, corrupt or another version: name -> message.
    unregistered
        Files in the mirror that the registry does not list (reported, never touched).
    """

    root: Path
    ok: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    bad: dict[str, str] = field(default_factory=dict)
    unregistered: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when every checked file is present and verified."""
        return not self.missing and not self.bad


def select_entries(names: list[str] | None = None) -> list[RegistryEntry]:
    """Registry entries for ``names`` (all of them when ``names`` is empty or None).

    A name may also be a folder (``"srdb"`` or ``"srdb/"``) meaning every file under it.
    Unknown names raise :class:`DataAccessError` (with close matches).
    """
    registry = load_registry()
    if not names:
        return list_datasets()
    chosen: dict[str, RegistryEntry] = {}
    for name in names:
        folder = name.rstrip("/") + "/"
        under = [e for n, e in registry.items() if n.startswith(folder)]
        if name in registry:
            chosen[name] = registry[name]
        elif under:
            chosen.update((e.name, e) for e in under)
        else:
            get_entry(name)  # raises with close matches
    return sorted(chosen.values(), key=lambda e: e.name)


def check_mirror(root: Path, names: list[str] | None = None, progress: bool | None = None) -> MirrorReport:
    """Check every registered file (or ``names``) in the mirror directory ``root``.

    Raises
    ------
    DataAccessError
        ``root`` is not a directory.
    """
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise DataAccessError(f"{root} is not a directory: nothing to verify")
    entries = select_entries(names)
    report = MirrorReport(root=root)
    for entry in progress_bar(entries, desc="verify", unit="file", enabled=progress):
        path = root / entry.name
        if not path.is_file():
            report.missing.append(entry.name)
            continue
        try:
            verify_file(path, entry, f"mirror {root}")
        except DataAccessError as exc:
            report.bad[entry.name] = str(exc)
        else:
            report.ok.append(entry.name)
    if not names:
        registered = set(load_registry())
        report.unregistered = sorted(
            p.relative_to(root).as_posix()
            for p in root.rglob("*")
            if p.is_file() and p.relative_to(root).as_posix() not in registered
        )
    return report


def build_mirror(root: Path, names: list[str] | None = None, progress: bool | None = None, log=print) -> MirrorReport:
    """Download every registered file (or ``names``) into ``root`` in the registry's layout.

    Files already present and verified are kept; damaged ones are downloaded again. Failures do
    not stop the others: they are listed in the returned report's ``missing`` (the message is
    passed to ``log``). The mirror is then checked with :func:`check_mirror`.
    """
    root = Path(root).expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    entries = select_entries(names)
    failed: dict[str, str] = {}
    total_mb = sum(e.bytes for e in entries) / 1e6
    log(f"mirror {root}: {len(entries)} registered files, {total_mb:.1f} MB")
    for i, entry in enumerate(entries, 1):
        path = root / entry.name
        if path.is_file():
            try:
                verify_file(path, entry, f"mirror {root}")
                continue
            except DataAccessError:
                path.unlink()
        log(f"[{i}/{len(entries)}] {entry.name} ({entry.bytes / 1e6:.2f} MB) from {entry.url}")
        try:
            download_to(entry, root, progress=progress)
        except DataAccessError as exc:
            failed[entry.name] = str(exc)
            log(f"  failed: {exc}")
    report = check_mirror(root, [e.name for e in entries], progress=False)
    if not names:
        report.unregistered = check_mirror(root, None, progress=False).unregistered
    for name in failed:
        report.bad.pop(name, None)
        if name not in report.missing:
            report.missing.append(name)
    return report


def clear_cache(downloads_only: bool = False) -> tuple[int, int]:
    """Delete the cache directory's contents (``GLOBALRS_CACHE_DIR``); return (files, bytes).

    Parameters
    ----------
    downloads_only
        Remove only downloaded files (``downloads/``), keep computed results.
    """
    cache = get_cache_dir()
    target = cache / "downloads" if downloads_only else cache
    if not target.exists():
        return 0, 0
    files = [p for p in target.rglob("*") if p.is_file()]
    n_bytes = sum(p.stat().st_size for p in files)
    for child in list(target.iterdir()):
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    return len(files), n_bytes
