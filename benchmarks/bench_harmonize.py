"""Benchmark: aggregate a global 30 arc-second map (43200 x 21600 float32, 3.7 GB) to 0.5 deg.

One run:

1. writes an uncompressed NetCDF-4 file of that size in a temporary directory (a smooth
   latitude-longitude field in g C m-2 yr-1 with NaN "oceans", written band by band);
2. reads the whole file once to put it in the page cache (timed: the plain-read floor);
3. runs, each in its own child process, measuring wall time and peak resident memory
   (``ru_maxrss`` from ``os.wait4``):

   * a plain read of the file (64 MB blocks, no computation),
   * ``globalrs.gridding.harmonize.harmonize_to_grid(path)`` (band-wise streaming, 2 threads),
   * ``cdo gridboxmean,60,60`` and ``cdo --single gridboxmean,60,60`` when ``cdo`` is installed
     (Debian package ``cdo``); cdo holds the whole field in memory, so it is killed above a
     memory cap (default 60 % of the available memory; the machine may be shared);

4. prints a table and checks the harmonizer's global total against the 30" total.

Usage::

    python benchmarks/bench_harmonize.py [--keep DIR] [--rows 21600] [--cols 43200]

With ``--keep DIR`` the generated file (and its exact total) are kept and reused next time.

Targets (issue 4): harmonizer <= 4 s wall and < 1 GB peak with the file in the page cache on 2
cores. Smaller ``--rows/--cols`` (same 0.5-deg nesting) give a quick smoke run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CHILD_READ = """
import sys, time
t = time.perf_counter()
buf = bytearray(64 << 20)
n = 0
with open(sys.argv[1], 'rb', buffering=0) as fh:
    while True:
        k = fh.readinto(buf)
        if not k:
            break
        n += k
print(f"INNER {time.perf_counter() - t:.3f} {n}")
"""

CHILD_HARMONIZE = """
import sys, time
t0 = time.perf_counter()
from globalrs.gridding.harmonize import harmonize_to_grid
t = time.perf_counter()
# the synthetic field dips below zero near the poles: the plausibility check is off so the
# benchmark measures the regridding and its total stays comparable with the exact one
out = harmonize_to_grid(sys.argv[1], stream=True, workers=2, plausible_range=None)
inner = time.perf_counter() - t
total = float((out['rs_annual'] * out['cell_area_m2']).sum()) / 1e15
print(f"INNER {inner:.3f} {total:.9f} import={t - t0:.3f}")
"""


def write_test_file(path: Path, n_lat: int, n_lon: int) -> float:
    """Write the synthetic map band by band; return its exact global total in Pg C yr-1."""
    import netCDF4

    res = 180.0 / n_lat
    lat = 90.0 - res * (np.arange(n_lat) + 0.5)  # descending, like most 30" products
    lon = -180.0 + res * (np.arange(n_lon) + 0.5)
    radius = 6_371_007.2
    total_g = 0.0
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        ds.createDimension("lat", n_lat)
        ds.createDimension("lon", n_lon)
        vlat = ds.createVariable("lat", "f8", ("lat",))
        vlon = ds.createVariable("lon", "f8", ("lon",))
        vlat[:] = lat
        vlat.units = "degrees_north"
        vlon[:] = lon
        vlon.units = "degrees_east"
        var = ds.createVariable("rs", "f4", ("lat", "lon"), contiguous=True, fill_value=np.float32(np.nan))
        var.units = "g C m-2 yr-1"
        var.set_auto_maskandscale(False)
        band = max(1, 4_000_000 // n_lon)
        lon_term = np.cos(np.deg2rad(lon) * 3.0).astype(np.float32)
        for i0 in range(0, n_lat, band):
            i1 = min(i0 + band, n_lat)
            la = lat[i0:i1, None].astype(np.float32)
            block = (900.0 * np.cos(np.deg2rad(la)) ** 2 + 100.0 * lon_term[None, :]).astype(np.float32)
            # "oceans": a band-limited pattern of missing cells (~35 % of the globe)
            ocean = np.sin(np.deg2rad(la) * 4.0) * np.cos(np.deg2rad(lon)[None, :] * 2.0) > 0.3
            block[ocean] = np.nan
            var[i0:i1, :] = block
            north = np.deg2rad(lat[i0:i1] + res / 2)
            south = np.deg2rad(lat[i0:i1] - res / 2)
            row_area = radius**2 * np.deg2rad(res) * (np.sin(north) - np.sin(south))
            total_g += float(np.nansum(block.astype(np.float64), axis=1) @ row_area)
    return total_g / 1e15


def run_child(argv: list[str], rss_cap_mb: float | None = None) -> dict:
    """Run a child process; return wall seconds, CPU seconds, peak RSS (MB) and its stdout.

    With ``rss_cap_mb`` the child is polled and killed once its resident memory passes the cap
    (the machine is shared): the result then has ``killed=True`` and the peak seen so far.
    """
    import psutil

    t = time.perf_counter()
    with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
        proc = subprocess.Popen(argv, stdout=out_f, stderr=err_f)
        killed = False
        handle = psutil.Process(proc.pid)
        while True:
            # poll with WNOHANG so the child's own rusage (peak RSS, CPU) is collected here
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if rss_cap_mb is not None and not killed:
                try:
                    if handle.memory_info().rss / 2**20 > rss_cap_mb:
                        proc.kill()
                        killed = True
                except psutil.NoSuchProcess:
                    pass
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t
        out_f.seek(0)
        err_f.seek(0)
        out, err = out_f.read().decode(), err_f.read().decode()
    code = os.waitstatus_to_exitcode(status)
    if code != 0 and not killed:
        raise RuntimeError(f"{argv[:3]} failed ({code}): {err[-2000:]}")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024.0,
        "stdout": out,
        "killed": killed,
    }


def time_cdo(path: Path, workdir: Path, cols: int, rows: int, cap_gb: float | None) -> list:
    """Time cdo's gridboxmean on the file (threaded and --single), if cdo is installed; one row each.

    cdo is killed above ``cap_gb`` of resident memory (default: 60% of what is available).
    """
    cdo = shutil.which("cdo")
    if not cdo:
        print("cdo not installed (apt-get install -y cdo): skipped")
        return []
    import psutil

    out = []
    cap_mb = cap_gb * 1024 if cap_gb else 0.6 * psutil.virtual_memory().available / 2**20
    op = f"gridboxmean,{cols // 720},{rows // 360}"
    for extra in ([], ["--single"]):
        out_nc = workdir / "cdo_gridboxmean.nc"
        label = " ".join(["cdo", *extra, op])
        try:
            r = run_child([cdo, *extra, "-s", "-O", op, str(path), str(out_nc)], cap_mb)
        except RuntimeError as exc:
            print(f"{label} failed: {exc}")
            continue
        if r["killed"]:
            label += f" (KILLED at the {cap_mb / 1024:.1f} GB memory cap)"
        out.append((label, r, "-"))
    return out


def print_steps(rows: list) -> None:
    """Print every timed run, then the best and median of the plain read and of the harmonizer."""
    print(f"\n{'step':32s} {'wall s':>8s} {'in-call s':>10s} {'cpu s':>7s} {'peak MB':>9s}")
    for name, res, inner_s in rows:
        print(f"{name:32s} {res['wall_s']:8.2f} {inner_s:>10s} {res['cpu_s']:7.2f} {res['peak_mb']:9.0f}")
    for prefix in ("plain read", "globalrs harmonize_to_grid"):
        walls = [res["wall_s"] for name, res, _ in rows if name.startswith(prefix)]
        calls = [float(inner_s) for name, _, inner_s in rows if name.startswith(prefix)]
        peaks = [res["peak_mb"] for name, res, _ in rows if name.startswith(prefix)]
        print(
            f"{prefix}: wall best {min(walls):.2f} s, median {np.median(walls):.2f} s; "
            f"in-call best {min(calls):.2f} s, median {np.median(calls):.2f} s; "
            f"peak {max(peaks):.0f} MB ({len(walls)} runs)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=21600)
    parser.add_argument("--cols", type=int, default=43200)
    parser.add_argument(
        "--cdo-cap-gb", type=float, default=None, help="kill cdo above this resident memory (default: 60%% of available)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of the plain read and of the harmonizer (default 3)")
    parser.add_argument(
        "--save", type=Path, default=None, help="also write the results as JSON (e.g. benchmarks/results/bench_harmonize.json)"
    )
    parser.add_argument(
        "--keep", type=Path, default=None, help="directory to keep (and on later runs reuse) the generated file in"
    )
    args = parser.parse_args()

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench_harmonize_"))
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"rs_{args.cols}x{args.rows}.nc"
    try:
        sidecar = path.with_suffix(".total_pg.txt")
        t = time.perf_counter()
        if args.keep is not None and path.exists() and sidecar.exists():
            expected_pg = float(sidecar.read_text())
            print(f"reusing {path}", flush=True)
        else:
            expected_pg = write_test_file(path, args.rows, args.cols)
            sidecar.write_text(repr(expected_pg))
        size_gb = path.stat().st_size / 1e9
        print(
            f"{path} ({size_gb:.2f} GB, {time.perf_counter() - t:.1f} s to write or find); "
            f"exact total {expected_pg:.6f} Pg C yr-1",
            flush=True,
        )
        run_child([sys.executable, "-c", CHILD_READ, str(path)])  # warm the page cache

        rows = []
        # the plain read and the harmonizer are repeated (the fastest run is reported, with the
        # median beside it): on a shared machine single runs vary with the load of others
        for i in range(args.repeat):
            r = run_child([sys.executable, "-c", CHILD_READ, str(path)])
            rows.append((f"plain read (64 MB blocks) #{i + 1}", r, r["stdout"].split()[1]))
            r = run_child([sys.executable, "-c", CHILD_HARMONIZE, str(path)])
            inner, total = r["stdout"].split()[1:3]
            rows.append((f"globalrs harmonize_to_grid #{i + 1}", r, inner))
        rel = float(total) / expected_pg - 1.0
        rows += time_cdo(path, workdir, args.cols, args.rows, args.cdo_cap_gb)
        print_steps(rows)
        print(
            f"\nharmonizer global total {float(total):.6f} vs exact {expected_pg:.6f} Pg C yr-1 (relative difference {rel:.2e})"
        )
        print(
            f"cores: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f}; 'wall s' includes "
            "interpreter start-up and imports, 'in-call s' is harmonize_to_grid alone"
        )
        if args.save is not None:
            import datetime
            import json
            import platform

            args.save.parent.mkdir(parents=True, exist_ok=True)
            record = {
                "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "grid": f"{args.cols} x {args.rows} float32, uncompressed NetCDF-4",
                "file_gb": round(size_gb, 3),
                "cores": os.cpu_count(),
                "load_average_1min": round(os.getloadavg()[0], 2),
                "machine": platform.platform(),
                "harmonizer_total_pg": float(total),
                "exact_total_pg": expected_pg,
                "relative_difference": rel,
                "steps": [
                    {
                        "step": name,
                        "wall_s": round(res["wall_s"], 3),
                        "in_call_s": None if inner_s == "-" else float(inner_s),
                        "cpu_s": round(res["cpu_s"], 3),
                        "peak_mb": round(res["peak_mb"], 1),
                        "killed_at_memory_cap": bool(res.get("killed", False)),
                    }
                    for name, res, inner_s in rows
                ],
            }
            args.save.write_text(json.dumps(record, indent=1))
            print(f"saved {args.save}")
        ok = abs(rel) < 1e-7  # float32 input: ~1e-7 is the precision of the data itself
        if not ok:
            print("FAILED: global total not conserved")
        return 0 if ok else 1
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
