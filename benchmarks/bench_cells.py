"""CPU-seconds of the costliest computations of a cold book build, each run alone, uncached.

Each named computation is the library call behind one of the slowest cells of a cold build
(``bench_build.py`` lists them by wall time, which on a shared host includes waiting for other
chapters). Here each one is rebuilt from its inputs (the raw readers' caches may be warm; the
computed result is not read from the result cache; the temporal series is rebuilt with
``refresh=True``, which rewrites its cache entry) in this process, and timed in CPU-seconds
(user + system of the process and its threads) and wall seconds; ``--repeat`` runs each more
than once. ``--profile NAME`` prints a cProfile of one computation instead.

Usage::

    python benchmarks/bench_cells.py [--only evaluation temporal ...] [--repeat 2] [--profile temporal]

Prints one line per computation and writes ``benchmarks/output/bench_cells-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import pstats
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

OUTPUT_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "output"


def _evaluation() -> object:
    from globalrs.estimates import evaluate

    return evaluate.build_evaluation("v5", "worldclim", n_boot=30)


def _temporal() -> object:
    from globalrs.estimates import forcing

    return forcing.load_standardized_annual_series(refresh=True)


def _rh_ensemble() -> object:
    from globalrs.estimates import rh

    return rh.build_rh_ensemble("v5", "worldclim")


def _rh_evaluation() -> object:
    from globalrs.estimates import rh

    return rh.build_rh_evaluation("v5", "worldclim", n_boot=30)


def _ratio_route() -> object:
    from globalrs.estimates import rh

    return rh.build_ratio_route("v5", "worldclim", n_boot=30)


def _route_cv() -> object:
    from globalrs.process_models import benchmark

    return benchmark.build_route_cv("v5", "worldclim")


def _mgrsd() -> object:
    from globalrs.estimates import mgrsd

    return mgrsd.build_mgrsd_member("worldclim")


def _ensemble() -> object:
    from globalrs.estimates import ensemble

    return ensemble.build_ensemble("v5", "worldclim")


COMPUTATIONS: dict[str, Callable[[], object]] = {
    "evaluation": _evaluation,
    "temporal": _temporal,
    "rh_ensemble": _rh_ensemble,
    "rh_evaluation": _rh_evaluation,
    "ratio_route": _ratio_route,
    "route_cv": _route_cv,
    "mgrsd": _mgrsd,
    "ensemble": _ensemble,
}


def cpu_seconds() -> float:
    """User plus system CPU seconds of this process (all its threads) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def warm_inputs() -> None:
    """Read the shared inputs once, so the first computation does not pay for them."""
    from globalrs.estimates.inputs import load_climatology, load_observations, load_static_05

    load_static_05()
    load_climatology("worldclim")
    load_observations("v5", "worldclim")


def time_one(func: Callable[[], object]) -> tuple[float, float]:
    """``(cpu_s, wall_s)`` of one call."""
    c0, w0 = cpu_seconds(), time.perf_counter()
    func()
    return cpu_seconds() - c0, time.perf_counter() - w0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=sorted(COMPUTATIONS), help="computations to run (default: all)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each computation")
    parser.add_argument("--profile", choices=sorted(COMPUTATIONS), help="print a cProfile of one computation")
    args = parser.parse_args(argv)
    warm_inputs()
    if args.profile:
        prof = cProfile.Profile()
        prof.runcall(COMPUTATIONS[args.profile])
        pstats.Stats(prof).sort_stats("tottime").print_stats(30)
        return 0
    results = {}
    for name in args.only or list(COMPUTATIONS):
        runs = [time_one(COMPUTATIONS[name]) for _ in range(max(1, args.repeat))]
        results[name] = [{"cpu_s": round(c, 2), "wall_s": round(w, 2)} for c, w in runs]
        print(f"{name:<14s} " + "  ".join(f"{c:7.1f} CPU-s {w:7.1f} s" for c, w in runs), flush=True)
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = OUTPUT_DIR / f"bench_cells-{stamp}.json"
    out.write_text(json.dumps({"utc": stamp, "results": results}, indent=1))
    print(f"[bench] results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
