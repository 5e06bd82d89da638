"""Book-wide settings."""

from __future__ import annotations

import pytest

from globalrs.core import config


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


def test_the_readers_moved_into_config_keep_their_behaviour(monkeypatch, tmp_path):
    from globalrs.core import config

    monkeypatch.setenv(config.PROGRESS_ENV, " ON ")
    assert config.get_progress_setting() is True
    monkeypatch.setenv(config.PROGRESS_ENV, "0")
    assert config.get_progress_setting() is False
    monkeypatch.setenv(config.PROGRESS_ENV, "maybe")
    assert config.get_progress_setting() is None
    monkeypatch.setenv(config.RESULTS_DIR_ENV, str(tmp_path))
    assert config.get_results_dir_override() == tmp_path
    monkeypatch.setenv(config.RESULTS_DIR_ENV, "")
    assert config.get_results_dir_override() is None
    monkeypatch.setenv(config.ZENODO_API_ENV, " http://127.0.0.1:9/api/ ")
    assert config.get_zenodo_api_override() == "http://127.0.0.1:9/api"
    monkeypatch.delenv(config.ZENODO_API_ENV)
    assert config.get_zenodo_api_override() is None
