"""Benchmark a Binder reader's first run of each chapter, against caches built the way ``postBuild`` builds them.

The book (the working tree minus .git, .venv and _build) is copied to a scratch folder whose
result cache stands where Binder's would (``<scratch>/home/.cache/globalrs``, empty at first).

1. *image build*: postBuild's steps after the install (:data:`IMAGE_STEPS`) run there as
   ``postBuild`` runs them (the AR6 regions' shapefile into regionmask's cache under the scratch
   home, every registered file fetched and verified, every chapter executed once into the result
   cache);
2. *reader*: each chapter of ``_toc.yml`` is then executed alone, one after another, each in a
   fresh kernel, as a reader who opens only that chapter would run it.

Prints each step's wall time and CPU seconds (user + system of the kernels and workers waited
for) and, per chapter, whether it met the target, and writes
``benchmarks/output/bench_binder-<UTC time>.json``.

Usage::

    GLOBALRS_DATA_MIRROR=../shared/data python benchmarks/bench_binder.py [--keep]

Target (issue 24): every chapter, alone in a fresh kernel against the warm caches, <= 30 s on two
cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "_build", "__pycache__", ".pytest_cache", "output")
TARGET_S = 30.0
#: postBuild's steps after the library is installed, in its order (tests/test_environment.py
#: checks that postBuild ends with exactly these).
IMAGE_STEPS = ("scripts/seed_regionmask_cache.py", "scripts/warm_caches.py")


def cpu_seconds_since(before: resource.struct_rusage) -> float:
    """User plus system CPU seconds of the child processes waited for since ``before``."""
    now = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (now.ru_utime - before.ru_utime) + (now.ru_stime - before.ru_stime)


def timed_run(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, float, float, str]:
    """Run ``cmd``; return its exit status, wall seconds, CPU seconds and output."""
    t0, usage0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    return proc.returncode, time.perf_counter() - t0, cpu_seconds_since(usage0), proc.stdout + proc.stderr


ALONE = """
import sys, time
sys.path.insert(0, {scripts!r})
import execute_chapters
timeout, allow_errors = execute_chapters.read_execution_config(__import__("pathlib").Path({root!r}))
path, nb, seconds, error = execute_chapters.execute_notebook({path!r}, timeout, allow_errors)
if error:
    print(error, file=sys.stderr)
    raise SystemExit(1)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO_ROOT / "scripts"))
    import execute_chapters

    scratch = Path(tempfile.mkdtemp(prefix="bench-binder-"))
    book = scratch / "book"
    shutil.copytree(REPO_ROOT, book, ignore=COPY_IGNORE)
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)
    env.update(
        HOME=str(scratch / "home"),
        GLOBALRS_CACHE_DIR=str(scratch / "home" / ".cache" / "globalrs"),
        GLOBALRS_RESULTS_DIR=str(scratch / "results"),
        PYTHONUNBUFFERED="1",
    )
    # Binder's kernels find the environment's own Jupyter kernel; keep the runtime folder private.
    env.setdefault("JUPYTER_RUNTIME_DIR", str(scratch / "jupyter-runtime"))
    report: dict = {"when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "cpus": os.cpu_count(), "chapters": []}
    print(f"[binder] scratch book: {book}; result cache: {env['GLOBALRS_CACHE_DIR']}", flush=True)

    report["image_build"] = []
    for step in IMAGE_STEPS:
        rc, wall, cpu, log = timed_run([sys.executable, *step.split()], book, env)
        print(f"[binder] image build, {step}: {wall:.0f} s wall, {cpu:.0f} CPU-s, exit {rc}", flush=True)
        report["image_build"].append({"step": step, "wall_s": wall, "cpu_s": cpu, "exit": rc})
        if rc != 0:
            print(log[-4000:], file=sys.stderr)
            return 1

    failed = 0
    print(f"[binder] {'chapter':<40} {'wall s':>7} {'CPU s':>7}  target {TARGET_S:.0f} s")
    for path in execute_chapters.chapter_notebooks(book):
        code = ALONE.format(scripts=str(book / "scripts"), root=str(book), path=str(path))
        rc, wall, cpu, log = timed_run([sys.executable, "-c", code], book, env)
        rel = str(path.relative_to(book))
        met = rc == 0 and wall <= TARGET_S
        failed += rc != 0
        status = "met" if met else ("FAILED" if rc else "missed")
        print(f"[binder] {rel:<40} {wall:7.1f} {cpu:7.1f}  {status}", flush=True)
        if rc:
            print(log[-3000:], file=sys.stderr)
        report["chapters"].append({"notebook": rel, "wall_s": wall, "cpu_s": cpu, "exit": rc, "target_met": met})
    slowest = max(report["chapters"], key=lambda c: c["wall_s"])
    print(f"[binder] slowest chapter: {slowest['notebook']} {slowest['wall_s']:.1f} s", flush=True)
    out = REPO_ROOT / "benchmarks" / "output"
    out.mkdir(exist_ok=True)
    target = out / f"bench_binder-{report['when'].replace(':', '')}.json"
    target.write_text(json.dumps(report, indent=2))
    print(f"[binder] written {target}")
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
