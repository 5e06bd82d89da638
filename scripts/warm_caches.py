"""Fill the caches the chapters read, so that a reader's first run of any chapter only loads.

Binder's ``postBuild`` runs this while the image is built; the image then holds:

1. every file of the registry (``globalrs fetch --all``: downloaded from its URL, or read from
   ``GLOBALRS_DATA_MIRROR``, and verified against the registry's sha256 either way; a file that
   fails verification stops the build, so nothing unverified enters the image);
2. the results the chapters compute and keep in the result cache (``GLOBALRS_CACHE_DIR``, by
   default ``~/.cache/globalrs``): the standardized Rs and Rh ensembles, their evaluation, the
   year-by-year series, the ilamb3 score tables and the rest. They are made by executing every
   chapter once, exactly as the book build does (``scripts/execute_chapters.py``), into a
   throwaway notebook cache; the chapters' recorded values go to a throwaway folder too.

Derived results are keyed on the verified inputs and the code (``globalrs.sources.cache.cache_key``), so
a cache that no longer matches is rebuilt, never read.

Usage::

    python scripts/warm_caches.py [--jobs N] [--skip-fetch]

Exit status 0 when every file verified and every chapter ran, else 1.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "scripts"))

import execute_chapters  # noqa: E402 - the book build's own executor, from this folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="the book's folder (holds _toc.yml)")
    parser.add_argument("--jobs", type=int, default=None, help="chapters run at once (default: as the book build)")
    parser.add_argument("--skip-fetch", action="store_true", help="do not fetch the registry's files first")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    t0 = time.perf_counter()
    if not args.skip_fetch:
        print("warm_caches: fetching and verifying every registered file", flush=True)
        fetched = subprocess.run([sys.executable, "-m", "globalrs", "fetch", "--all"], cwd=root)
        if fetched.returncode != 0:
            print("warm_caches: a registered file could not be fetched or verified (above)", file=sys.stderr)
            return 1
    with tempfile.TemporaryDirectory(prefix="globalrs-warm-") as scratch:
        os.environ["GLOBALRS_RESULTS_DIR"] = str(Path(scratch) / "results")
        print(f"warm_caches: executing every chapter once (result cache: {cache_dir_text()})", flush=True)
        status = execute_chapters.run(root, Path(scratch) / "jupyter-cache", args.jobs or execute_chapters.default_jobs(), True)
    print(f"warm_caches: {'done' if status == 0 else 'FAILED'} in {time.perf_counter() - t0:.0f} s", flush=True)
    return status


def cache_dir_text() -> str:
    """The result cache folder the chapters will use, for the log."""
    from globalrs.core.config import get_cache_dir

    return str(get_cache_dir())


if __name__ == "__main__":
    raise SystemExit(main())
