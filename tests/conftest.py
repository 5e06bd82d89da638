"""Shared test fixtures. Tests build their own small inputs; none downloads anything."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def mirror_dir():
    """The offline mirror configured for this run (skips the test when none is configured)."""
    value = os.environ.get("GLOBALRS_DATA_MIRROR")
    if not value:
        pytest.skip("GLOBALRS_DATA_MIRROR is not set")
    return Path(value)
