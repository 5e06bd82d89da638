"""Progress bars: on stdout (never stderr, which fails the -W book build), off when not interactive."""

from __future__ import annotations

from globalrs.core.progress import PROGRESS_ENV, progress_bar, progress_enabled
from globalrs.estimates import evaluate


def test_enabled_follows_caller_then_environment_then_terminal(monkeypatch):
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    assert progress_enabled() is False  # pytest's captured stdout is not a terminal
    assert progress_enabled(True) is True
    monkeypatch.setenv(PROGRESS_ENV, "1")
    assert progress_enabled() is True and progress_enabled(False) is False
    monkeypatch.setenv(PROGRESS_ENV, "off")
    assert progress_enabled() is False


def test_bar_goes_to_stdout_only_when_enabled(monkeypatch, capsys):
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    assert list(progress_bar(range(3), desc="quiet")) == [0, 1, 2]
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert list(progress_bar(range(3), desc="loud", enabled=True)) == [0, 1, 2]
    captured = capsys.readouterr()
    assert "loud" in captured.out and "3/3" in captured.out and captured.err == ""


def test_cross_validation_shows_progress_and_gives_the_same_scores(monkeypatch, capsys):
    from test_ensemble import synthetic_obs

    obs = synthetic_obs()
    members = ("raich_potter", "area_x_mean")
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    quiet = evaluate.cross_validate_members(obs, members=members, n_splits=3)
    assert capsys.readouterr().out == ""
    monkeypatch.setenv(PROGRESS_ENV, "1")
    loud = evaluate.cross_validate_members(obs, members=members, n_splits=3)
    captured = capsys.readouterr()
    assert "cross-validation" in captured.out and "2/2" in captured.out and captured.err == ""
    assert loud.drop(columns=[c for c in loud if "second" in c or "time" in c]).equals(
        quiet.drop(columns=[c for c in quiet if "second" in c or "time" in c])
    )
