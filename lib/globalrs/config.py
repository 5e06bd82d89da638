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
=========================  ===============================================================
"""

from __future__ import annotations

import os
from pathlib import Path

MIRROR_ENV = "GLOBALRS_DATA_MIRROR"
CACHE_ENV = "GLOBALRS_CACHE_DIR"
REGISTRY_ENV = "GLOBALRS_REGISTRY"
ENSEMBLE_ENV = "GLOBALRS_ENSEMBLE"
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
