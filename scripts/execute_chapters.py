"""Execute the book's chapter notebooks in parallel into jupyter-book's execution cache.

jupyter-book 1.x executes notebooks one after another while Sphinx reads them. This script runs
them first, ``--jobs`` at a time (default: ``GLOBALRS_BUILD_JOBS``, else the number of CPUs, at most 4), each kernel in its
notebook's folder exactly as myst-nb would (same timeout, errors not allowed), and stores every
executed notebook in the jupyter-cache database that ``jupyter-book build`` then reads
(``execute_notebooks: cache``). The build itself then executes only what is not cached.

What runs where:

- every ``.ipynb`` page of ``_toc.yml`` whose code is not already in the cache runs here;
- a notebook whose metadata says ``"globalrs": {"runs_after_chapters": true}`` (the reproduction
  scorecard, which reads the results every chapter has just written) runs only after all the
  others have finished, and again whenever any chapter ran, even if its own code is cached;
- MyST markdown pages with code (``book/data.md``) are left to the build.

Notebooks that share an expensive result (the fitted ensembles) do not compute it twice: the
library's result cache (``globalrs.sources.cache.cached_build``) is locked across processes, so the
second kernel waits for the first and then reads its result.

Chapters are started in reverse table-of-contents order: the "Beyond the paper" chapters run
longest and build the shared results the earlier chapters reuse. When the cache holds an earlier
execution time for a notebook, the longest ones start first instead.

Usage::

    python scripts/execute_chapters.py [--jobs N] [--cache _build/.jupyter_cache] [--force]

``--force`` empties the cache first (every notebook runs). Exit status 0 when every notebook ran
(or was cached), 1 when one failed: its traceback is printed, the other chapters still finish and
are cached, and the pages that run after the chapters are skipped.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import time
import traceback
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

import nbformat
import yaml
from nbformat.validator import MissingIDFieldWarning

from globalrs.core.booktoc import resolve_source, toc_entries

REPO_ROOT = Path(__file__).resolve().parents[1]
# nbformat normalizes notebooks saved without cell ids as it reads them; nothing to tell the reader
warnings.filterwarnings("ignore", category=MissingIDFieldWarning)
#: Notebook metadata flag of a page that must run after every chapter.
RUNS_AFTER_KEY = ("globalrs", "runs_after_chapters")


def default_jobs() -> int:
    """``GLOBALRS_BUILD_JOBS`` when set, else the number of CPUs, at most 4."""
    value = os.environ.get("GLOBALRS_BUILD_JOBS", "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise SystemExit(f"GLOBALRS_BUILD_JOBS must be a whole number >= 1, got {value!r}")
        return int(value)
    return min(4, os.cpu_count() or 1)


def chapter_notebooks(root: Path) -> list[Path]:
    """The ``.ipynb`` pages of ``_toc.yml`` in reading order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    found = []
    for entry in toc_entries(toc):
        path = resolve_source(entry, root)
        if path is not None and path.suffix == ".ipynb":
            found.append(path.resolve())
    return found


def runs_after_chapters(nb: nbformat.NotebookNode) -> bool:
    """Whether the notebook's metadata asks for it to run after all chapters."""
    outer, inner = RUNS_AFTER_KEY
    return bool(nb.metadata.get(outer, {}).get(inner, False))


def read_execution_config(root: Path) -> tuple[int, bool]:
    """The execution timeout and ``allow_errors`` the book's ``_config.yml`` gives myst-nb."""
    cfg = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")).get("execute", {})
    return int(cfg.get("timeout", 30)), bool(cfg.get("allow_errors", False))


def execute_notebook(path: str, timeout: int, allow_errors: bool) -> tuple[str, dict, float, str | None]:
    """Execute one notebook in its folder (run in a worker process).

    Returns
    -------
    path, notebook, seconds, error
        The executed notebook as a plain dict and the traceback text, or None on success.
    """
    from jupyter_cache.executors.utils import single_nb_execution

    warnings.filterwarnings("ignore", category=MissingIDFieldWarning)
    # The kernel inherits this environment. With MPLBACKEND=Agg (run.sh exports it for the tools)
    # plt.show() would draw nothing in a chapter without %matplotlib inline, and its figures
    # would silently be missing from the book; unset, kernels use the inline backend.
    os.environ.pop("MPLBACKEND", None)
    t0 = time.perf_counter()
    try:
        nb = nbformat.read(path, as_version=4)
        result = single_nb_execution(
            nb, cwd=str(Path(path).parent), timeout=timeout, allow_errors=allow_errors, meta_override=True
        )
    except Exception:  # noqa: BLE001 - a kernel that dies or fails to start: reported with its notebook
        return path, {}, time.perf_counter() - t0, traceback.format_exc()
    error = None if result.err is None else (result.exc_string or repr(result.err))
    return path, nb, float(result.time), error


def previous_seconds(cache, paths: list[Path]) -> dict[Path, float]:
    """Execution seconds recorded in the cache for each path (any earlier version of it)."""
    out: dict[Path, float] = {}
    for rec in cache.list_cache_records():
        seconds = (rec.data or {}).get("execution_seconds")
        if seconds is not None and Path(rec.uri).resolve() in paths:
            out[Path(rec.uri).resolve()] = max(float(seconds), out.get(Path(rec.uri).resolve(), 0.0))
    return out


def uncache(cache_dir: Path, paths: list[Path]) -> None:
    """Drop the cached executions of ``paths`` (their current code), so that :func:`run` runs them again."""
    from jupyter_cache import get_cache

    cache = get_cache(str(cache_dir))
    for path in paths:
        try:
            record = cache.match_cache_notebook(nbformat.read(path, as_version=4))
        except KeyError:
            continue
        cache.remove_cache(record.pk)


def is_cached(cache, nb) -> bool:
    """True when the cache holds an execution of ``nb``'s current code."""
    try:
        cache.match_cache_notebook(nb)
    except KeyError:
        return False
    return True


def plan_runs(cache, paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Split the book's notebooks into the chapters to run and the pages run after them.

    Chapters whose code is cached are left out; the pages that read the chapters' results run
    again whenever a chapter runs. Chapters come longest first (by their recorded execution
    seconds; without a record, in reverse table-of-contents order).

    Parameters
    ----------
    cache
        The jupyter-cache the book reads.
    paths
        The notebooks, in table-of-contents order.

    Returns
    -------
    tuple of list of Path
        ``(chapters, after)``: the chapters to run, then the pages to run after them.
    """
    history = previous_seconds(cache, paths)
    todo, after, after_cached = [], [], []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        cached_code = is_cached(cache, nb)
        if runs_after_chapters(nb):
            (after_cached if cached_code else after).append(path)
        elif not cached_code:
            todo.append(path)
    if todo:
        after += after_cached  # they read what the chapters write: run again whenever one runs
    todo.reverse()  # reverse toc order: the long "Beyond the paper" chapters first
    if history:
        todo.sort(key=lambda p: -history.get(p, float("inf")))
    return todo, after


def execute_groups(groups, jobs: int, timeout: int, allow_errors: bool, store, failures: list) -> None:
    """Execute each group of notebooks in worker processes, handing every result to ``store``.

    A group starts when the one before it has finished; after a group with a failure (``store``
    appends to ``failures``) the rest do not run.
    """
    # spawn: each worker starts clean (no inherited zmq or sqlite state)
    with ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=multiprocessing.get_context("spawn")) as pool:
        for group in groups:
            submitted = {pool.submit(execute_notebook, str(p), timeout, allow_errors): p for p in group}
            pending = set(submitted)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    try:
                        path, nb_dict, seconds, error = fut.result()
                    except Exception:  # noqa: BLE001 - the worker process itself died
                        path, nb_dict, seconds, error = str(submitted[fut]), {}, 0.0, traceback.format_exc()
                    store(path, nb_dict, seconds, error)
            if failures:
                break  # pages that read the chapters' results would only fail after them


def run(root: Path, cache_dir: Path, jobs: int, force: bool, executed: list[Path] | None = None) -> int:
    """Execute the uncached chapter notebooks of the book at ``root``; return the exit status.

    Parameters
    ----------
    root
        The book's folder (holds ``_toc.yml`` and ``_config.yml``).
    cache_dir
        The jupyter-cache folder jupyter-book reads.
    jobs
        Notebooks run at once.
    force
        Empty the cache first, so every notebook runs.
    executed
        When given, the notebooks that ran successfully are appended to it.

    Returns
    -------
    int
        0 when every notebook ran or was cached, 1 when one failed.
    """
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    if force and cache_dir.exists():
        shutil.rmtree(cache_dir)
    cache = get_cache(str(cache_dir))
    timeout, allow_errors = read_execution_config(root)
    paths = chapter_notebooks(root)
    todo, after = plan_runs(cache, paths)
    cached = len(paths) - len(todo) - len(after)
    print(f"execute_chapters: {len(todo) + len(after)} to run ({cached} cached), {jobs} at a time", flush=True)

    failures = []
    t_start = time.perf_counter()

    def store(path: str, nb_dict: dict, seconds: float, error: str | None) -> None:
        rel = Path(path).relative_to(root)
        if error is not None:
            failures.append(rel)
            print(f"execute_chapters: FAILED {rel} after {seconds:.1f} s\n{error}", file=sys.stderr, flush=True)
            return
        nb = nbformat.from_dict(nb_dict)
        if executed is not None:
            executed.append(Path(path))
        cache.add_nb_to_project(path)
        cache.cache_notebook_bundle(
            CacheBundleIn(nb, path, data={"execution_seconds": seconds}), check_validity=False, overwrite=True
        )
        print(f"execute_chapters: {rel} in {seconds:.1f} s (at {time.perf_counter() - t_start:.0f} s)", flush=True)

    execute_groups((todo, after), jobs, timeout, allow_errors, store, failures)
    print(f"execute_chapters: done in {time.perf_counter() - t_start:.1f} s", flush=True)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="the book's folder (holds _toc.yml)")
    parser.add_argument("--cache", type=Path, default=None, help="jupyter-cache folder (default: ROOT/_build/.jupyter_cache)")
    parser.add_argument(
        "--jobs", type=int, default=None, help="notebooks run at once (default: GLOBALRS_BUILD_JOBS, else CPUs, at most 4)"
    )
    parser.add_argument("--force", action="store_true", help="empty the cache first, so every notebook runs")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    cache_dir = (args.cache or root / "_build" / ".jupyter_cache").resolve()
    return run(root, cache_dir, args.jobs or default_jobs(), args.force)


if __name__ == "__main__":
    sys.exit(main())
