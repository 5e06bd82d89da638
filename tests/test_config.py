"""Book-wide settings."""

from __future__ import annotations

import pytest

from globalrs import config


def test_ensemble_choice_defaults_to_standardized(monkeypatch):
    monkeypatch.delenv("GLOBALRS_ENSEMBLE", raising=False)
    assert config.get_ensemble_choice() == "standardized"


@pytest.mark.parametrize("value", ["published", "Both", " standardized "])
def test_ensemble_choice_accepts_known_values(monkeypatch, value):
    monkeypatch.setenv("GLOBALRS_ENSEMBLE", value)
    assert config.get_ensemble_choice() == value.strip().lower()


def test_ensemble_choice_rejects_unknown(monkeypatch):
    monkeypatch.setenv("GLOBALRS_ENSEMBLE", "cmip7")
    with pytest.raises(ValueError, match="GLOBALRS_ENSEMBLE='cmip7' is not one of"):
        config.get_ensemble_choice()


def test_mirror_unset_means_download(monkeypatch):
    monkeypatch.delenv("GLOBALRS_DATA_MIRROR", raising=False)
    assert config.get_mirror_dir() is None


def test_cache_dir_is_created(monkeypatch, tmp_path):
    monkeypatch.setenv("GLOBALRS_CACHE_DIR", str(tmp_path / "c" / "d"))
    assert config.get_cache_dir().is_dir()
