"""Benchmark the standardized-protocol ensemble: fit + predict at 0.5 degree, then 10' chunked.

Prints wall time and peak resident memory of

1. the whole ensemble (read and filter SRDB, build covariate grids from the raw files, fit all
   members, predict them on the 0.5-degree grid), with an empty temporary cache so nothing is
   reused;
2. prediction of every fitted member on the native 10 arc-minute WorldClim grid, a block of
   latitude rows at a time, with the global total of each member at both resolutions.

Usage::

    GLOBALRS_DATA_MIRROR=../shared/data python benchmarks/bench_ensemble.py [--chunk-rows 60]

Targets (issue 3): step 1 under 2 minutes and 4 GB on 2 cores; step 2 within memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time

import numpy as np
import psutil


class PeakMemory:
    """Sample this process's resident memory (RSS) in a background thread; keep the peak."""

    def __init__(self, interval_s: float = 0.05) -> None:
        self.interval_s = interval_s
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._proc = psutil.Process()

    def __enter__(self) -> "PeakMemory":
        self.peak_bytes = self._proc.memory_info().rss
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, self._proc.memory_info().rss)
            time.sleep(self.interval_s)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_bytes = max(self.peak_bytes, self._proc.memory_info().rss)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunk-rows", type=int, default=60, help="10' latitude rows per prediction chunk")
    parser.add_argument("--data-version", default="v5")
    parser.add_argument("--forcing", default="worldclim")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-ensemble-") as cache:
        os.environ["GLOBALRS_CACHE_DIR"] = cache  # cold: nothing computed is reused
        from globalrs.core.grid import cell_area_m2
        from globalrs.core.units import G_PER_PG
        from globalrs.estimates import ensemble, inputs
        from globalrs.sources import readers

        print(f"cpus available: {len(os.sched_getaffinity(0))}; cache: {cache} (empty)")
        print(f"1) fit + predict the whole ensemble at 0.5 deg ({args.data_version}, {args.forcing})")
        with PeakMemory() as mem:
            t0 = time.perf_counter()
            ds = ensemble.build_ensemble(args.data_version, args.forcing, verbose=True)
            totals = ensemble.ensemble_totals_pg(ds)
            wall = time.perf_counter() - t0
        print(
            f"   wall time {wall:.1f} s, peak RSS {mem.peak_bytes / 2**30:.2f} GiB "
            f"({ds.sizes['member']} members, {ds.attrs['n_obs']} records at {ds.attrs['n_sites']} sites)"
        )
        target = "OK" if wall < 120 and mem.peak_bytes < 4 * 2**30 else "MISSED"
        print(f"   target (< 120 s, < 4 GiB): {target}")

        print(f"2) predict every member at the native 10' grid, {args.chunk_rows} rows per chunk")
        with PeakMemory() as mem:
            t0 = time.perf_counter()
            obs, _ = inputs.load_observations(args.data_version, args.forcing)
            fitted = ensemble.fit_members_on(obs, args.data_version, args.forcing)
            tmean = readers.read_worldclim_monthly("tmean")
            prec = readers.read_worldclim_monthly("prec")
            if args.forcing == "udel":
                print("   (10' prediction uses WorldClim forcing; UDel has no 10' grid)")
            landcover = readers.read_landcover_group_10m()
            area = cell_area_m2(landcover["lat"].values, landcover["lon"].values).values
            t_read = time.perf_counter() - t0
            print(f"   inputs read and members refitted in {t_read:.1f} s")
            rows = []
            for name, fm in fitted.items():
                t1 = time.perf_counter()
                fine = ensemble.predict_member_chunked(fm, tmean, prec, landcover, args.chunk_rows)
                total_fine = float(np.nansum(fine.values * area) / G_PER_PG)
                rows.append((name, time.perf_counter() - t1, total_fine, float(totals.sel(member=name))))
                print(
                    f"   {name:<20s} {rows[-1][1]:6.1f} s   10' total {total_fine:6.1f} Pg C/yr (0.5 deg: {rows[-1][3]:6.1f})",
                    flush=True,
                )
            wall = time.perf_counter() - t0
        n_cells = int(np.isfinite(fine.values).sum())
        print(
            f"   wall time {wall:.1f} s for {len(rows)} members on {n_cells} land cells "
            f"(900 x 2160 grid), peak RSS {mem.peak_bytes / 2**30:.2f} GiB"
        )
        print(
            "   note: the 10' totals use full cell areas of WorldClim land cells (no land-fraction"
            " grid at 10'), the 0.5-deg totals cell area x land fraction"
        )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"process max RSS (getrusage): {usage.ru_maxrss / 2**20:.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
