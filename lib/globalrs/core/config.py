"""Book-wide settings, read from environment variables in one place.

=========================  ===============================================================
variable                   meaning
=========================  ===============================================================
``GLOBALRS_DATA_MIRROR``   directory holding an offline mirror of the registered files, by
                           the same relative paths (CI and offline machines point it at
                           ``../shared/data``). Unset: files are downloaded.
``GLOBALRS_CACHE_DIR``     where downloads and computed results are cached
                           (default: ``~/.cache/globalrs``).
``GLOBALRS_REGISTRY``      a registry CSV to use instead of the packaged one (same columns;
                           for mirroring or fetching files of your own with the same checks).
``GLOBALRS_ENSEMBLE``      which ensemble of gridded Rs estimates the chapters use:
                           ``standardized`` (default; offline), ``published`` (online) or
                           ``both``.
``GLOBALRS_RESULTS_DIR``   where chapters write their recorded values
                           (default: ``<book root>/_build/results``; :mod:`globalrs.reproduction.record`).
``GLOBALRS_PROGRESS``      ``1`` forces progress bars on, ``0`` off (default: on exactly at
                           an interactive terminal; :mod:`globalrs.core.progress`).
``GLOBALRS_ZENODO_API``    the Zenodo REST API base for the published maps (default
                           https://zenodo.org/api; :mod:`globalrs.estimates.published`).
``GLOBALRS_BUILD_LOG``     a file to which every computed result that is built (not read
                           from the cache) appends one JSON line: its cache file, CPU and
                           wall seconds (``benchmarks/bench_build.py`` sets it; default: none).
=========================  ===============================================================

No other module reads the environment (``tests/test_one_home.py`` enforces it).
"""

from __future__ import annotations

import os
from pathlib import Path

MIRROR_ENV = "GLOBALRS_DATA_MIRROR"
CACHE_ENV = "GLOBALRS_CACHE_DIR"
REGISTRY_ENV = "GLOBALRS_REGISTRY"
ENSEMBLE_ENV = "GLOBALRS_ENSEMBLE"
RESULTS_DIR_ENV = "GLOBALRS_RESULTS_DIR"
PROGRESS_ENV = "GLOBALRS_PROGRESS"
ZENODO_API_ENV = "GLOBALRS_ZENODO_API"
BUILD_LOG_ENV = "GLOBALRS_BUILD_LOG"
ENSEMBLE_CHOICES = ("standardized", "published", "both")
#: What a reader's map can be (``globalrs compare --kind``): soil or heterotrophic respiration.
MAP_KINDS = ("rs", "rh")


def get_mirror_dir() -> Path | None:
    """Return the configured offline mirror directory, or None when downloads are to be used."""
    value = os.environ.get(MIRROR_ENV, "").strip()
    return Path(value).expanduser().resolve() if value else None


def get_registry_override() -> Path | None:
    """Return the registry CSV named by ``GLOBALRS_REGISTRY``, or None for the packaged one."""
    value = os.environ.get(REGISTRY_ENV, "").strip()
    return Path(value).expanduser().resolve() if value else None


def get_build_log() -> Path | None:
    """Return the file named by ``GLOBALRS_BUILD_LOG`` (one JSON line per computed result built), or None."""
    value = os.environ.get(BUILD_LOG_ENV, "").strip()
    return Path(value).expanduser().resolve() if value else None


def get_cache_dir() -> Path:
    """Return (and create) the cache directory for downloads and computed results."""
    value = os.environ.get(CACHE_ENV, "").strip()
    path = Path(value).expanduser() if value else Path.home() / ".cache" / "globalrs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def get_ensemble_choice() -> str:
    """Return the book-wide ensemble switch: 'standardized', 'published' or 'both'.

    Raises
    ------
    ValueError
        If ``GLOBALRS_ENSEMBLE`` holds anything else.
    """
    value = os.environ.get(ENSEMBLE_ENV, "standardized").strip().lower() or "standardized"
    if value not in ENSEMBLE_CHOICES:
        raise ValueError(f"{ENSEMBLE_ENV}={value!r} is not one of {', '.join(ENSEMBLE_CHOICES)}")
    return value


def get_results_dir_override() -> Path | None:
    """Return the directory named by ``GLOBALRS_RESULTS_DIR``, or None for the book's default."""
    value = os.environ.get(RESULTS_DIR_ENV)
    return Path(value).expanduser() if value else None


def get_progress_setting() -> bool | None:
    """Return ``GLOBALRS_PROGRESS`` as True (1/true/yes/on), False (0/false/no/off) or None
    (unset or anything else: the caller decides)."""
    value = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    return None


def get_zenodo_api_override() -> str | None:
    """Return the Zenodo API base named by ``GLOBALRS_ZENODO_API`` (no trailing slash), or None."""
    return os.environ.get(ZENODO_API_ENV, "").strip().rstrip("/") or None
