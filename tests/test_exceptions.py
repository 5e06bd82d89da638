"""One base class for the library's errors; the built-in bases callers catch are kept."""

from __future__ import annotations

import pytest

from globalrs.core import exceptions, units
from globalrs.core.exceptions import GlobalRsError
from globalrs.estimates import published
from globalrs.gridding import harmonize
from globalrs.process_models import pangeo
from globalrs.sources import data


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (exceptions.DataAccessError, RuntimeError),
        (exceptions.GridError, ValueError),
        (exceptions.HarmonizeError, ValueError),
        (exceptions.UnitsError, ValueError),
        (exceptions.GriddedSchemaError, ValueError),
        (exceptions.OnlineUnavailableError, RuntimeError),
        (exceptions.PublishedMapsUnavailable, RuntimeError),
        (exceptions.VerificationError, RuntimeError),
    ],
)
def test_errors_derive_from_the_base_and_keep_their_builtin(error, builtin):
    assert issubclass(error, GlobalRsError) and issubclass(error, builtin)


def test_modules_raise_the_shared_classes():
    """The names modules have always exported are the shared classes, not copies."""
    assert data.DataAccessError is exceptions.DataAccessError
    assert harmonize.HarmonizeError is exceptions.HarmonizeError
    assert units.UnitsError is exceptions.UnitsError
    assert pangeo.OnlineUnavailableError is exceptions.OnlineUnavailableError
    assert published.PublishedMapsUnavailable is exceptions.PublishedMapsUnavailable
    assert published.VerificationError is exceptions.VerificationError


def test_a_real_library_error_is_caught_by_the_base():
    with pytest.raises(GlobalRsError):
        units.parse_flux_units("furlongs per fortnight")
