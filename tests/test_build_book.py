"""What ``./run.sh book`` decides (scripts/build_book.py): when to stop at once, when to re-render
every page, when to vouch for the HTML. The executor and jupyter-book are replaced by recorders
here; tests/test_execute_chapters.py runs the executor for real."""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def build_book(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO_ROOT / "scripts"))
    module = importlib.import_module("build_book")
    yield module
    sys.modules.pop("build_book", None)


@pytest.fixture
def book(tmp_path) -> Path:
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    (tmp_path / "intro.md").write_text("# Intro\n")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "m.py").write_text("X = 1\n")
    return tmp_path


@pytest.fixture
def recorder(monkeypatch, book):
    """Fake executor (runs ``executes`` notebooks) and fake jupyter-book (writes index.html)."""
    calls = {"executor": [], "jupyter_book": []}
    state = {"executes": [], "status": 0}

    def run(root, cache_dir, jobs, force, executed=None):
        calls["executor"].append({"force": force, "jobs": jobs})
        executed.extend(state["executes"])
        return state["status"]

    fake = types.ModuleType("execute_chapters")
    fake.run = run
    fake.default_jobs = lambda: 2
    monkeypatch.setitem(sys.modules, "execute_chapters", fake)

    def fake_subprocess_run(cmd, cwd, env):
        calls["jupyter_book"].append(cmd)
        assert "MPLBACKEND" not in env
        (book / "_build" / "html").mkdir(parents=True, exist_ok=True)
        (book / "_build" / "html" / "index.html").write_text("<html></html>")
        return types.SimpleNamespace(returncode=0)

    return calls, state, fake_subprocess_run


def test_no_input_changed_stops_at_once_and_any_change_builds(build_book, book, recorder, monkeypatch):
    calls, state, fake = recorder
    monkeypatch.setattr(build_book.subprocess, "run", fake)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    assert build_book.build(book, force=False, jobs=None, extra=[]) == 0
    assert len(calls["executor"]) == 1 and len(calls["jupyter_book"]) == 1
    assert build_book.build(book, force=False, jobs=None, extra=[]) == 0
    assert len(calls["executor"]) == 1, "nothing changed, yet the build ran"
    # build output, caches and environments are not inputs
    for folder in ("_build", ".venv", "__pycache__"):
        (book / folder).mkdir(exist_ok=True)
        (book / folder / "x.txt").write_text("not an input")
    assert build_book.build(book, force=False, jobs=None, extra=[]) == 0
    assert len(calls["executor"]) == 1
    # a library edit is an input
    (book / "lib" / "m.py").write_text("X = 2\n")
    assert build_book.build(book, force=False, jobs=None, extra=[]) == 0
    assert len(calls["executor"]) == 2
    # so is --force, whatever the fingerprint says
    assert build_book.build(book, force=True, jobs=None, extra=[]) == 0
    assert calls["executor"][-1]["force"] is True


def test_pages_are_all_rendered_again_when_anything_was_executed(build_book, book, recorder, monkeypatch):
    calls, state, fake = recorder
    monkeypatch.setattr(build_book.subprocess, "run", fake)
    build_book.build(book, force=False, jobs=None, extra=[])
    assert "--all" not in calls["jupyter_book"][-1]  # nothing executed: Sphinx decides
    (book / "intro.md").write_text("# Intro, edited\n")
    state["executes"] = [book / "ch.ipynb"]
    build_book.build(book, force=False, jobs=None, extra=[])
    assert "--all" in calls["jupyter_book"][-1]
    state["executes"] = []
    build_book.build(book, force=True, jobs=None, extra=[])
    assert "--all" in calls["jupyter_book"][-1]


def test_a_build_with_other_options_or_a_failure_does_not_vouch_for_the_html(build_book, book, recorder, monkeypatch):
    calls, state, fake = recorder
    monkeypatch.setattr(build_book.subprocess, "run", fake)
    stamp = book / "_build" / build_book.STAMP_NAME
    assert build_book.build(book, force=False, jobs=None, extra=["--builder", "linkcheck"]) == 0
    assert calls["jupyter_book"][-1][-2:] == ["--builder", "linkcheck"] and not stamp.exists()
    state["status"] = 1
    assert build_book.build(book, force=False, jobs=None, extra=[]) == 1
    assert not stamp.exists() and len(calls["jupyter_book"]) == 1
    with pytest.raises(SystemExit, match="at least 1"):
        build_book.build(book, force=False, jobs=0, extra=[])


def test_a_chapter_whose_download_file_is_gone_runs_again(build_book, book, recorder, monkeypatch):
    """Files the chapters write for their download links are outputs: not inputs, but a build brings them back."""
    import json

    calls, state, fake = recorder
    monkeypatch.setattr(build_book.subprocess, "run", fake)
    uncached = []
    sys.modules["execute_chapters"].uncache = lambda cache_dir, paths: uncached.extend(paths)
    chapter = book / "ch.ipynb"
    cell = {"cell_type": "markdown", "metadata": {}, "source": ["Data: {download}`the mask <downloads/mask.nc>`."]}
    chapter.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    (book / "downloads").mkdir()
    (book / "downloads" / "mask.nc").write_text("written by the chapter")
    assert build_book.build(book, force=False, jobs=None, extra=[]) == 0
    assert len(calls["executor"]) == 1 and uncached == []
    # the chapter rewrote its file (new bytes): not an input change, the build stops at once
    (book / "downloads" / "mask.nc").write_text("written again, other bytes")
    assert build_book.build(book, force=False, jobs=None, extra=[]) == 0
    assert len(calls["executor"]) == 1
    # the file is gone: the chapter is dropped from the execution cache and the build runs
    (book / "downloads" / "mask.nc").unlink()
    assert build_book.missing_downloads(book) == [chapter]
    assert build_book.build(book, force=False, jobs=None, extra=[]) == 0
    assert len(calls["executor"]) == 2 and uncached == [chapter]
