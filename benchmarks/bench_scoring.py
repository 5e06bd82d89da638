"""Benchmark ilamb3's scoring of model Rh maps in the book's regions: plain, and with grid work done once.

Scores the first ``--models`` model maps of the chapter "Heterotrophic respiration" against its
data-driven Rh reference in the whole domain and the book's 14 regions (15 in all), with ilamb3's
bias and spatial-distribution analyses, twice per repetition:

1. *plain*: ilamb3's functions as they are (each regional scalar interpolates the region mask onto
   the grid again and guesses the cell bounds again);
2. *grid work once*: inside :func:`globalrs.process_models.ilambcache.grid_work_once`, as the library scores.

Prints wall time and CPU seconds (this process: user + system) of each, their ratio, and whether
every scalar of the two tables is equal (to 1e-12 relative; it also reports how many are equal to
the last bit). The reference, the members and the model maps come from the result cache (the first
run fits them, about a minute).

Usage::

    GLOBALRS_DATA_MIRROR=../shared/data python benchmarks/bench_scoring.py [--models 2] [--repeat 2]

Target (issue 24): the same scores in at most a third of the plain call's time.
"""

from __future__ import annotations

import argparse
import contextlib
import time

import numpy as np


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=2, help="how many model maps to score (default 2)")
    parser.add_argument("--repeat", type=int, default=2, help="repetitions of the pair of runs (default 2)")
    args = parser.parse_args(argv)

    from globalrs.gridding import regions
    from globalrs.process_models import benchmark

    bench = benchmark.load_rh_benchmark(log=print)
    mask = bench.land_mask
    weights = regions.region_weights(mask["lat"].values, mask["lon"].values)
    labels = benchmark.register_regions(weights, regions.load_regions()["name"].to_dict())
    maps = bench.model_maps.isel(model=slice(0, args.models))
    scored_regions = [None] + labels
    print(f"scoring {maps.sizes['model']} models in {len(scored_regions)} regions (whole domain + {len(labels)})")

    def plain():
        original = benchmark.grid_work_once
        benchmark.grid_work_once = contextlib.nullcontext
        try:
            return benchmark.score_maps(bench.ref, maps, "rh", regions=scored_regions)[0]
        finally:
            benchmark.grid_work_once = original

    def once():
        return benchmark.score_maps(bench.ref, maps, "rh", regions=scored_regions)[0]

    for rep in range(1, args.repeat + 1):
        plain_table, plain_wall, plain_cpu = _timed(plain)
        fast_table, fast_wall, fast_cpu = _timed(once)
        a, b = plain_table["value"].to_numpy(float), fast_table["value"].to_numpy(float)
        same_nan = np.array_equal(np.isnan(a), np.isnan(b))
        close = same_nan and np.allclose(b[~np.isnan(b)], a[~np.isnan(a)], rtol=1e-12, atol=0)
        labels_equal = plain_table.drop(columns="value").equals(fast_table.drop(columns="value"))
        bitwise = int(np.sum((a == b) | (np.isnan(a) & np.isnan(b))))
        print(
            f"run {rep}: plain {plain_wall:.2f} s wall, {plain_cpu:.2f} CPU-s; "
            f"grid work once {fast_wall:.2f} s wall, {fast_cpu:.2f} CPU-s; "
            f"ratio {plain_wall / fast_wall:.2f}x wall, {plain_cpu / fast_cpu:.2f}x CPU; "
            f"{len(a)} scalars, equal to 1e-12: {close and labels_equal}, bit for bit: {bitwise}/{len(a)}"
        )
        if not (close and labels_equal):
            print("the two tables differ")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
