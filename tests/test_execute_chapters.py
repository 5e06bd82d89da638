"""The parallel chapter executor (scripts/execute_chapters.py), on tiny books the tests make.

Real kernels run here: the notebooks write files, so the tests can see where and in which order
they ran, and what the jupyter-cache database then holds is read back the way myst-nb reads it.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_cache import get_cache

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def executor():
    # imported by name from scripts/ (not from a file spec): the worker processes, started with
    # "spawn", import the module again by that name from the sys.path they inherit
    scripts = str(REPO_ROOT / "scripts")
    sys.path.insert(0, scripts)
    try:
        yield importlib.import_module("execute_chapters")
    finally:
        sys.path.remove(scripts)
        sys.modules.pop("execute_chapters", None)


def _nb(path: Path, sources: list[str], metadata: dict | None = None) -> None:
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.metadata.update(metadata or {})
    nb.cells = [nbformat.v4.new_markdown_cell("# T")] + [nbformat.v4.new_code_cell(s) for s in sources]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def _book(root: Path, chapters: dict[str, list[str]], after: dict[str, list[str]] | None = None) -> Path:
    entries = list(chapters) + list(after or {})
    toc = "format: jb-book\nroot: intro\nchapters:\n" + "".join(f"  - file: {e}\n" for e in entries)
    (root / "_toc.yml").write_text(toc)
    (root / "_config.yml").write_text("execute:\n  execute_notebooks: cache\n  timeout: 120\n  allow_errors: false\n")
    (root / "intro.md").write_text("# Intro\n")
    for entry, sources in chapters.items():
        _nb(root / f"{entry}.ipynb", sources)
    for entry, sources in (after or {}).items():
        _nb(root / f"{entry}.ipynb", sources, {"globalrs": {"runs_after_chapters": True}})
    return root


WRITE_CWD = "import os, pathlib; pathlib.Path('ran-' + '{name}').write_text(os.getcwd())"


def test_chapters_run_in_their_folder_and_land_in_the_cache_myst_nb_reads(executor, tmp_path, monkeypatch, capsys):
    # run.sh exports MPLBACKEND=Agg for its tools; the kernels must still draw inline figures
    monkeypatch.setenv("MPLBACKEND", "Agg")
    book = _book(
        tmp_path,
        {
            "ch/a": [WRITE_CWD.format(name="a"), "print(6 * 7)"],
            "ch/b": [WRITE_CWD.format(name="b"), "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()"],
        },
        after={"ref/summary": ["import pathlib; print(sorted(p.name for p in pathlib.Path('../ch').glob('ran-*')))"]},
    )
    cache_dir = tmp_path / "_build" / ".jupyter_cache"
    assert executor.run(book, cache_dir, jobs=2, force=False) == 0
    assert (book / "ch" / "ran-a").read_text() == str(book / "ch")
    assert (book / "ch" / "ran-b").exists()
    cache = get_cache(str(cache_dir))
    # matched by code, as myst-nb matches: the outputs are those of the run above
    _, merged = cache.merge_match_into_notebook(nbformat.read(book / "ch" / "a.ipynb", as_version=4))
    assert merged.cells[2].outputs[0]["text"] == "42\n"
    _, drawn = cache.merge_match_into_notebook(nbformat.read(book / "ch" / "b.ipynb", as_version=4))
    assert any("image/png" in out.get("data", {}) for out in drawn.cells[2].outputs), "the figure was not drawn inline"
    # the page flagged to run after the chapters saw both chapters' files
    _, summary = cache.merge_match_into_notebook(nbformat.read(book / "ref" / "summary.ipynb", as_version=4))
    assert summary.cells[1].outputs[0]["text"] == "['ran-a', 'ran-b']\n"
    seconds = {Path(r.uri).name: r.data["execution_seconds"] for r in cache.list_cache_records()}
    assert set(seconds) == {"a.ipynb", "b.ipynb", "summary.ipynb"} and all(s > 0 for s in seconds.values())
    # a second run executes only what changed
    capsys.readouterr()
    assert executor.run(book, cache_dir, jobs=2, force=False) == 0
    assert "0 to run (3 cached)" in capsys.readouterr().out
    _nb(book / "ch" / "a.ipynb", [WRITE_CWD.format(name="a"), "print(6 * 9)"])
    executed = []
    assert executor.run(book, cache_dir, jobs=2, force=False, executed=executed) == 0
    out = capsys.readouterr().out
    # the changed chapter, and the page that reads the chapters' results although its code is cached
    assert "2 to run (1 cached)" in out and "ch/a.ipynb in" in out and "ref/summary.ipynb in" in out
    assert sorted(p.name for p in executed) == ["a.ipynb", "summary.ipynb"]
    _, merged = get_cache(str(cache_dir)).merge_match_into_notebook(nbformat.read(book / "ch" / "a.ipynb", as_version=4))
    assert merged.cells[2].outputs[0]["text"] == "54\n"


def test_a_failing_chapter_is_named_and_stops_the_pages_that_need_it(executor, tmp_path, capsys):
    book = _book(
        tmp_path,
        {"ch/good": ["z = 1"], "ch/bad": ["raise RuntimeError('no data for this chapter')"]},
        after={"ref/summary": ["open('summary-ran', 'w').close()"]},
    )
    cache_dir = tmp_path / "cache"
    assert executor.run(book, cache_dir, jobs=2, force=False) == 1
    err = capsys.readouterr().err
    assert "FAILED ch/bad.ipynb" in err and "no data for this chapter" in err
    assert not (book / "ref" / "summary-ran").exists()
    uris = {Path(r.uri).name for r in get_cache(str(cache_dir)).list_cache_records()}
    assert uris == {"good.ipynb"}


def test_the_book_flags_its_scorecard_to_run_after_the_chapters(executor):
    chapters = executor.chapter_notebooks(REPO_ROOT)
    flagged = [
        p.relative_to(REPO_ROOT).as_posix() for p in chapters if executor.runs_after_chapters(nbformat.read(p, as_version=4))
    ]
    assert flagged == ["reference/scorecard.ipynb"]
    assert json.loads((REPO_ROOT / "reference" / "scorecard.ipynb").read_text())["metadata"]["globalrs"]["runs_after_chapters"]


def test_warm_caches_runs_every_chapter_into_the_result_cache_and_keeps_nothing_else(tmp_path):
    """Binder's postBuild step: each chapter runs once; what it caches stays, its records do not."""
    import subprocess

    cache = tmp_path / "result-cache"
    note = (
        "import os, pathlib; c = pathlib.Path(os.environ['GLOBALRS_CACHE_DIR']); c.mkdir(parents=True, exist_ok=True); "
        "(c / '{name}.txt').write_text(os.environ['GLOBALRS_RESULTS_DIR'])"
    )
    (tmp_path / "book").mkdir()
    book = _book(tmp_path / "book", {"a": [note.format(name="a")], "b": [note.format(name="b")]})
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("GLOBALRS_")}
    env["GLOBALRS_CACHE_DIR"] = str(cache)
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "warm_caches.py"), "--root", str(book), "--skip-fetch", "--jobs", "2"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    written = {p.name: Path(p.read_text()) for p in cache.glob("*.txt")}
    assert set(written) == {"a.txt", "b.txt"}
    # the chapters' records went to a throwaway folder, gone after the run; no notebook cache left in the book
    assert all(not d.exists() and not d.is_relative_to(book) for d in written.values())
    assert not (book / "_build").exists()

    # a chapter that fails makes the step fail (the image build stops)
    _nb(book / "a.ipynb", ["raise RuntimeError('broken chapter')"])
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "warm_caches.py"), "--root", str(book), "--skip-fetch", "--jobs", "1"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "broken chapter" in proc.stderr


def test_an_uncached_chapter_runs_again_and_only_it(executor, tmp_path):
    (tmp_path / "book").mkdir()
    book = _book(tmp_path / "book", {"a": [WRITE_CWD.format(name="a")], "b": [WRITE_CWD.format(name="b")]})
    cache_dir = tmp_path / "cache"
    assert executor.run(book, cache_dir, 1, False) == 0
    (book / "ran-a").unlink()
    (book / "ran-b").unlink()
    assert executor.run(book, cache_dir, 1, False) == 0
    assert not (book / "ran-a").exists() and not (book / "ran-b").exists()  # both cached
    executor.uncache(cache_dir, [book / "a.ipynb"])
    executed = []
    assert executor.run(book, cache_dir, 1, False, executed) == 0
    assert executed == [book / "a.ipynb"] and (book / "ran-a").exists() and not (book / "ran-b").exists()
