"""The published gridded Rs maps (online): the Zenodo client and the harmonized published ensemble.

* :func:`load_catalogue` - the paper's map sources as data (``tables/published_maps.csv``): DOI,
  repository, access, licence, citation, and how each is harmonized.
* :func:`discover_zenodo_files` - the file list of a Zenodo record, read at run time from the
  record's metadata (``GET {api}/records/{id}`` -> ``files[]`` with ``key``, ``size``,
  ``checksum`` "md5:...", ``links.self``); no file name is guessed.
* :func:`download_verified` - download into the cache, checking size and md5 from the record.
* :func:`load_published_ensemble` - every map of the collection (doi 10.5281/zenodo.8404747)
  harmonized to the common grid, in the gridded-estimates schema (:mod:`globalrs.estimates.gridded`).

The book-wide switch between the standardized and the published ensemble is
:func:`globalrs.estimates.gridded.load_gridded_estimates`.

The API address comes from ``GLOBALRS_ZENODO_API`` (default ``https://zenodo.org/api``), so
tests serve a record-metadata document and files from a local directory (``file://``) or a
loopback HTTP server. Offline, the published path fails with :class:`PublishedMapsUnavailable`
and a message saying how to switch back.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from importlib import resources
from io import StringIO
from pathlib import Path

import pandas as pd
import xarray as xr

from globalrs.core.config import ENSEMBLE_ENV, ZENODO_API_ENV, get_cache_dir, get_zenodo_api_override  # noqa: F401  (ZENODO_API_ENV: its old home)
from globalrs.core.exceptions import HarmonizeError, PublishedMapsUnavailable, UnitsError, VerificationError
from globalrs.core.schema import GRID_RS_ANNUAL_UNITS, validate_gridded
from globalrs.core.units import parse_flux_units
from globalrs.gridding import harmonize

DEFAULT_ZENODO_API = "https://zenodo.org/api"
COLLECTION_DOI = "10.5281/zenodo.8404747"
MAP_SUFFIXES = (".nc", ".nc4", ".tif", ".tiff")
METHOD_FAMILIES = ("Area x Mean", "Linear model", "Semi-empirical model", "Machine learning")
UNKNOWN_FAMILY = "Unknown (not matched in the catalogue)"


@dataclass(frozen=True)
class RemoteFile:
    """One file of a repository record."""

    key: str
    size: int
    checksum: str  # "md5:<hex>"
    url: str


def load_catalogue() -> pd.DataFrame:
    """The paper's map sources (index ``key``) with DOI, access, licence, citation, bibkey,
    file-name pattern, method family and harmonization notes."""
    text = resources.files("globalrs").joinpath("tables/published_maps.csv").read_text()
    table = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    return table.set_index("key")


def zenodo_api() -> str:
    """The Zenodo REST API base (``GLOBALRS_ZENODO_API`` or https://zenodo.org/api)."""
    return get_zenodo_api_override() or DEFAULT_ZENODO_API


def zenodo_record_id(doi: str) -> str:
    """Record id of a Zenodo DOI (``10.5281/zenodo.8404747`` -> ``8404747``)."""
    match = re.fullmatch(r"(?:https?://doi\.org/)?10\.5281/zenodo\.(\d+)", doi.strip())
    if not match:
        raise ValueError(f"not a Zenodo DOI: {doi!r}")
    return match.group(1)


def _open_url(url: str, timeout: float = 60.0):
    try:
        return urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 (http/https/file only)
    except (urllib.error.URLError, OSError) as exc:
        raise PublishedMapsUnavailable(
            f"cannot reach {url} ({exc}). The published maps need internet access; offline, "
            f"use the standardized ensemble ({ENSEMBLE_ENV}=standardized)."
        ) from exc


def fetch_record_metadata(record_id: str, api: str | None = None) -> dict:
    """GET ``{api}/records/{record_id}`` and return the JSON document."""
    api = api or zenodo_api()
    url = f"{api}/records/{record_id}"
    with _open_url(url) as response:
        try:
            return json.load(response)
        except json.JSONDecodeError as exc:
            raise PublishedMapsUnavailable(f"{url} did not return JSON: {exc}") from exc


def parse_record_files(record: dict) -> list[RemoteFile]:
    """The ``files[]`` of a Zenodo record (both the current and the legacy REST layouts)."""
    files = record.get("files")
    if isinstance(files, dict):  # InvenioRDM: {"entries": {...}} or {"entries": [...]}
        entries = files.get("entries", {})
        files = list(entries.values()) if isinstance(entries, dict) else entries
    if not files:
        raise PublishedMapsUnavailable(f"record {record.get('id', '?')} lists no files in its metadata")
    out = []
    for item in files:
        key = item.get("key") or item.get("filename")
        links = item.get("links", {})
        url = links.get("self") or links.get("content") or links.get("download")
        checksum = str(item.get("checksum", ""))
        if checksum and ":" not in checksum:  # legacy layout: bare md5 hex
            checksum = f"md5:{checksum}"
        if not key or not url:
            raise PublishedMapsUnavailable(f"a file entry lacks key or links.self: {item}")
        if not str(checksum).startswith("md5:"):
            raise PublishedMapsUnavailable(f"{key}: no md5 checksum in the record ({checksum!r})")
        size = item.get("size", item.get("filesize", -1))
        out.append(RemoteFile(key=key, size=int(size), checksum=checksum, url=url))
    return out


def discover_zenodo_files(doi: str = COLLECTION_DOI, api: str | None = None) -> list[RemoteFile]:
    """List the files of the Zenodo record behind ``doi`` from its metadata (at run time)."""
    return parse_record_files(fetch_record_metadata(zenodo_record_id(doi), api))


def record_licence(record: dict) -> str:
    """The licence id stated in a Zenodo record's metadata ('' when absent)."""
    lic = record.get("metadata", {}).get("license", {})
    if isinstance(lic, dict):
        return str(lic.get("id", ""))
    return str(lic or "")


def md5_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex md5 of a file."""
    digest = hashlib.md5()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def download_verified(remote: RemoteFile, dest_dir: Path) -> Path:
    """Download ``remote`` into ``dest_dir`` (atomically) and verify size and md5.

    A cached file that verifies is reused; one that does not is downloaded again.

    Raises
    ------
    VerificationError
        Size or checksum differs from the record.
    PublishedMapsUnavailable
        The download failed.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / Path(remote.key).name
    want = remote.checksum.split(":", 1)[1].lower()
    if target.exists() and md5_file(target) == want:
        return target
    fd, tmp = tempfile.mkstemp(dir=dest_dir, suffix=".part")
    try:
        digest = hashlib.md5()
        size = 0
        with os.fdopen(fd, "wb") as out, _open_url(remote.url) as response:
            for block in iter(lambda: response.read(1 << 20), b""):
                out.write(block)
                digest.update(block)
                size += len(block)
        if remote.size >= 0 and size != remote.size:
            raise VerificationError(f"{remote.key}: got {size} bytes, the record states {remote.size}")
        if digest.hexdigest() != want:
            raise VerificationError(f"{remote.key}: md5 {digest.hexdigest()} differs from the record's {want}")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def map_files(paths: list[Path], extract_dir: Path) -> list[Path]:
    """NetCDF/GeoTIFF files among ``paths``, with zip archives extracted (members kept)."""
    out = []
    for path in paths:
        suffix = path.suffix.lower()
        if suffix in MAP_SUFFIXES:
            out.append(path)
        elif suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    if Path(member).suffix.lower() in MAP_SUFFIXES and ".." not in member:
                        archive.extract(member, extract_dir)
                        out.append(extract_dir / member)
    return out


def match_family(name: str, catalogue: pd.DataFrame | None = None) -> tuple[str, str]:
    """(catalogue key, method family) of a map file by the catalogue's ``file_pattern``."""
    catalogue = load_catalogue() if catalogue is None else catalogue
    lower = name.lower()
    for key, row in catalogue.iterrows():
        if row["file_pattern"] and re.search(row["file_pattern"], lower):
            return str(key), row["method_family"]
    return "", UNKNOWN_FAMILY


def harmonize_map_file(path: Path) -> tuple[list[tuple[str, xr.Dataset]], list[dict]]:
    """Harmonize every gridded flux variable of one file.

    Returns
    -------
    (members, skipped)
        ``members``: (member name, harmonized Dataset); ``skipped``: one dict per variable not
        used, with the reason (no flux units, not global, all missing...).
    """
    members, skipped = [], []
    candidates: list[tuple[str | None, str | None]]  # (variable name, its units)
    if path.suffix.lower() in (".tif", ".tiff"):
        candidates = [(None, None)]
    else:
        with xr.open_dataset(path, engine="netcdf4", decode_times=True) as ds:
            candidates = [(str(name), var.attrs.get("units")) for name, var in ds.data_vars.items() if len(var.dims) >= 2]
    for name, units in candidates:
        label = path.stem if name is None or len(candidates) == 1 else f"{path.stem}:{name}"
        if name is not None:
            try:
                parse_flux_units(units)
            except UnitsError as exc:
                skipped.append({"file": path.name, "variable": name, "reason": str(exc)})
                continue
        try:
            members.append((label, harmonize.harmonize_to_grid(path, variable=name, fill="mean")))
        except (HarmonizeError, UnitsError) as exc:
            skipped.append({"file": path.name, "variable": name or "band 1", "reason": str(exc)})
    return members, skipped


def load_published_ensemble(land_fraction: xr.DataArray, doi: str = COLLECTION_DOI, api: str | None = None) -> xr.Dataset:
    """The published maps of the Zenodo record ``doi``, harmonized, in the ensemble schema.

    Parameters
    ----------
    land_fraction
        ``(lat, lon)`` land fraction used for totals (``readers.read_land_fraction_05()``).
    doi
        Zenodo DOI of the collection (default: the paper's, 10.5281/zenodo.8404747).
    api
        Zenodo API base (default :func:`zenodo_api`).

    Returns
    -------
    xarray.Dataset
        ``rs_annual`` (member, lat, lon) with ``method_family``; ``rs_monthly`` when some maps
        resolve months; ``land_mask`` (cells valid in every member), ``cell_area_m2``,
        ``land_fraction``; attrs list the record, its licence and every skipped variable.
    """
    record_id = zenodo_record_id(doi)
    record = fetch_record_metadata(record_id, api)
    files = parse_record_files(record)
    cache = get_cache_dir() / "published" / record_id
    paths = [download_verified(f, cache) for f in files]
    catalogue = load_catalogue()
    members, skipped = [], []
    for path in map_files(paths, cache / "extracted"):
        got, skip = harmonize_map_file(path)
        members += got
        skipped += skip
    if not members:
        raise PublishedMapsUnavailable(
            f"record {record_id} holds no harmonizable map ({len(skipped)} variables skipped: {skipped[:3]})"
        )
    names = [m[0] for m in members]
    annual = xr.concat([m[1]["rs_annual"] for m in members], dim="member")
    annual = annual.assign_coords(member=names, method_family=("member", [match_family(n, catalogue)[1] for n in names]))
    land_mask = annual.notnull().all("member") & (land_fraction > 0)
    out = xr.Dataset(
        {
            "rs_annual": annual.where(land_mask).astype("float32"),
            "land_mask": land_mask,
            "cell_area_m2": members[0][1]["cell_area_m2"],
            "land_fraction": land_fraction.astype("float32"),
        }
    )
    monthly = [(n, m["rs_monthly"]) for n, m in members if "rs_monthly" in m]
    if monthly:
        out["rs_monthly"] = (
            xr.concat([m for _, m in monthly], dim="member_monthly")
            .assign_coords(member_monthly=[n for n, _ in monthly])
            .where(land_mask)
            .astype("float32")
        )
    out["rs_annual"].attrs = {"units": GRID_RS_ANNUAL_UNITS, "long_name": "mean annual soil respiration"}
    out.attrs = {
        "source": f"doi:{doi} (Zenodo record {record_id})",
        "licence": record_licence(record),
        "files": json.dumps([{"key": f.key, "size": f.size, "checksum": f.checksum} for f in files]),
        "skipped_variables": json.dumps(skipped),
        "n_skipped": len(skipped),
        "code": "globalrs.estimates.published.load_published_ensemble",
    }
    return validate_gridded(out)
