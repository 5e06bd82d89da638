"""The library's exceptions: one base class, :class:`GlobalRsError`, for every specific error.

Each specific error also keeps the built-in base it had before (``ValueError`` or
``RuntimeError``), so ``except ValueError`` in callers keeps working, while
``except GlobalRsError`` catches anything this library raises on purpose.
"""

from __future__ import annotations


class GlobalRsError(Exception):
    """Base class of every error raised on purpose by :mod:`globalrs`."""


class DataAccessError(GlobalRsError, RuntimeError):
    """A registered file could not be found, downloaded or verified."""


class GridError(GlobalRsError, ValueError):
    """A grid is not what a function needs (dimensions, spacing, coverage, coordinates)."""


class HarmonizeError(GridError):
    """A gridded product cannot be harmonized to the common 0.5-degree grid."""


class PlausibilityError(HarmonizeError):
    """A respiration map holds negative values or values above the plausible bound."""


class ModelGridError(GridError):
    """A model map matches no documented grid, or a model has no grid entry (:mod:`globalrs.process_models.cmipmaps`)."""


class CompareError(GlobalRsError, ValueError):
    """A reader's map cannot be compared (e.g. it holds no land cell of the book's land mask)."""


class UnitsError(GlobalRsError, ValueError):
    """Units that cannot be read, or a conversion that is not defined."""


class GriddedSchemaError(GlobalRsError, ValueError):
    """A gridded-estimates Dataset does not follow the schema of :mod:`globalrs.estimates.gridded`."""


class OnlineUnavailableError(GlobalRsError, RuntimeError):
    """An online source (CMIP6 catalogue, cloud store) cannot be reached from this machine."""


class PublishedMapsUnavailable(GlobalRsError, RuntimeError):
    """The published maps could not be discovered or downloaded (offline, server error)."""


class VerificationError(GlobalRsError, RuntimeError):
    """A downloaded file does not match the size or checksum the record states."""
