"""Build the book: execute the chapters in parallel, then render with jupyter-book.

What ``./run.sh book [--force]`` runs (and ``benchmarks/bench_build.py`` times):

1. If the book's inputs (every file under the book's folder but build output, environments and
   caches) are byte for byte those of the last successful build and its HTML is there, stop:
   nothing would change. ``--force`` never stops here.
2. ``execute_chapters.py``: the chapter notebooks not in the execution cache run, ``--jobs`` at a
   time (``--force`` empties the cache first, so every notebook runs).
3. ``jupyter-book build . -W -n --keep-going`` (with ``--all`` when anything was executed):
   renders every page from that cache, executing only the MyST data page.
4. The inputs' fingerprint is written next to the HTML (not after a build with extra
   jupyter-book options, which may not have written that HTML).

The kernels run with ``MPLBACKEND`` unset: with ``Agg`` inherited from the shell, ``plt.show()``
draws nothing and every figure silently disappears from the book.

Usage::

    python scripts/build_book.py [--root DIR] [--force] [--jobs N] [jupyter-book options...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Folders (by name, anywhere) and file suffixes that are not inputs of the book.
NOT_INPUTS = {".git", ".venv", "_build", "__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".ruff_cache", "output"}
# ... and the files the chapters write for their pages' download links (outputs, not inputs)
NOT_INPUTS |= {"downloads"}
#: A page's {download} link to a file a chapter writes when it runs (``downloads/...``).
DOWNLOAD_LINK = re.compile(r"\{download\}`[^`<]*<([^>`]+)>`")
NOT_INPUT_SUFFIXES = (".egg-info", ".pyc")
#: The fingerprint of the inputs of the last successful build, inside the build folder.
STAMP_NAME = "book-inputs.sha256"


def input_files(root: Path) -> list[Path]:
    """Every file that can change the book, in a stable order."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in NOT_INPUTS and not d.endswith(NOT_INPUT_SUFFIXES))
        found.extend(Path(dirpath) / f for f in sorted(filenames) if not f.endswith(NOT_INPUT_SUFFIXES))
    return found


def inputs_fingerprint(root: Path) -> str:
    """sha256 over the relative paths and contents of :func:`input_files`."""
    digest = hashlib.sha256()
    for path in input_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def missing_downloads(root: Path) -> list[Path]:
    """Notebooks whose ``{download}`` links point to a file that is not there.

    The chapters write those files (``notebooks/downloads/``, not inputs, not in git) when they
    run; a notebook served from the execution cache does not run, so Sphinx would find its link
    dangling. Such notebooks must run again.
    """
    missing = []
    for path in input_files(root):
        if path.suffix != ".ipynb":
            continue
        cells = json.loads(path.read_text()).get("cells", [])
        text = "".join("".join(c.get("source", "")) for c in cells if c.get("cell_type") == "markdown")
        if any(not (path.parent / target).is_file() for target in DOWNLOAD_LINK.findall(text)):
            missing.append(path)
    return missing


def build(root: Path, force: bool, jobs: int | None, extra: list[str]) -> int:
    """Build the book at ``root``; return the exit status."""
    stamp = root / "_build" / STAMP_NAME
    fingerprint = inputs_fingerprint(root)
    rerun = [] if force else missing_downloads(root)
    if not force and not extra and not rerun and stamp.is_file() and stamp.read_text().strip() == fingerprint:
        if (root / "_build" / "html" / "index.html").is_file():
            print(f"build_book: no input changed since the last build; {root / '_build' / 'html'} is current")
            return 0
    stamp.unlink(missing_ok=True)
    # Imported only when something is to be built: it loads nbformat (about 1 s), which would
    # be most of the time of a rebuild that finds nothing changed.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import execute_chapters

    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    t0 = time.perf_counter()
    if jobs is not None and jobs < 1:
        raise SystemExit(f"build_book: --jobs must be at least 1, got {jobs}")
    executed: list[Path] = []
    if rerun:
        print(
            f"build_book: {len(rerun)} chapter(s) run again to write the files their pages link to: "
            + ", ".join(str(p.relative_to(root)) for p in rerun)
        )
        execute_chapters.uncache(root / "_build" / ".jupyter_cache", rerun)
    status = execute_chapters.run(
        root, root / "_build" / ".jupyter_cache", jobs or execute_chapters.default_jobs(), force, executed
    )
    if status != 0:
        return status
    jupyter_book = shutil.which("jupyter-book", path=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]))
    cmd = [jupyter_book or "jupyter-book", "build", str(root), "-W", "-n", "--keep-going"]
    if force or executed:
        # Sphinx re-reads only source files whose time stamp changed; outputs that are new in the
        # execution cache (a forced run, a scorecard run again after a chapter) must be rendered too
        cmd.append("--all")
    status = subprocess.run(cmd + extra, cwd=root, env=env).returncode
    if status == 0 and not extra:
        # a build with other options (another builder, another output folder) is not the HTML
        # this fingerprint vouches for
        stamp.write_text(fingerprint + "\n")
        print(f"build_book: built in {time.perf_counter() - t0:.1f} s: {root / '_build' / 'html' / 'index.html'}")
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="the book's folder (holds _toc.yml)")
    parser.add_argument("--force", action="store_true", help="execute every notebook from an empty execution cache")
    parser.add_argument("--jobs", type=int, help="chapters executed at once (default: GLOBALRS_BUILD_JOBS, else CPUs, at most 4)")
    args, extra = parser.parse_known_args(argv)
    return build(args.root.resolve(), args.force, args.jobs, extra)


if __name__ == "__main__":
    sys.exit(main())
