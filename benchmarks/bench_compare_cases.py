"""Measure ``globalrs compare`` on the cases of issue 22: totals, exit codes and times.

The script writes its own synthetic inputs into a work directory (one field, the same at every
resolution; values constant on each 0.5-degree cell so that every nested resolution has exactly
the same area-weighted total; oceans NaN where the book's 0.5-degree land fraction is <= 0.5),
then runs a ``globalrs`` executable on each case in a child process and prints one line per case
(exit code, wall time, the "global total" line or the first error line, and warnings).

Usage::

    python benchmarks/bench_compare_cases.py --globalrs .venv/bin/globalrs --work /tmp/cases [--with-30s]

Run it once with the unchanged code's executable and once with this branch's (each with its own
``GLOBALRS_CACHE_DIR``) to get the before/after table of the issue. ``--with-30s`` adds the
30 arc-second files (3.7 GB each: an uncompressed contiguous one and one with netCDF's default
chunking and zlib compression).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

#: the resolutions of the issue (deg); 30 arc-seconds only with --with-30s
RESOLUTIONS = {"0.5": 0.5, "0.25": 0.25, "0.1": 0.1, "0.05": 0.05, "1/12": 1 / 12, "1/24": 1 / 24}
RES_30S = 1 / 120


def base_field() -> tuple[np.ndarray, np.ndarray]:
    """(flux on the 0.5-degree grid in g C m-2 yr-1 with NaN oceans, land mask), lat ascending."""
    from globalrs.sources import readers

    lf = readers.read_land_fraction_05().transpose("lat", "lon")
    lat = lf["lat"].values
    lf = lf.values if lat[0] < lat[-1] else lf.values[::-1]
    lat = np.sort(lat)
    lon = np.linspace(-179.75, 179.75, 720)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    flux = 300.0 + 900.0 * np.cos(np.deg2rad(la)) ** 2 + 80.0 * np.sin(np.deg2rad(3 * lo))
    land = np.nan_to_num(lf) > 0.5
    return np.where(land, flux, np.nan), land


def upsample(field05: np.ndarray, res: float) -> np.ndarray:
    """Repeat each 0.5-degree cell into (0.5/res)^2 cells."""
    k = int(round(0.5 / res))
    return np.repeat(np.repeat(field05, k, axis=0), k, axis=1)


def centres(res: float) -> tuple[np.ndarray, np.ndarray]:
    n_lat, n_lon = int(round(180 / res)), int(round(360 / res))
    return -90 + res * (np.arange(n_lat) + 0.5), -180 + res * (np.arange(n_lon) + 0.5)


def write_nc(path: Path, values: np.ndarray, lat, lon, units="g C m-2 yr-1", time=None, chunked=False) -> None:
    import netCDF4

    with netCDF4.Dataset(path, "w") as ds:
        dims = ("lat", "lon") if time is None else ("time", "lat", "lon")
        if time is not None:
            ds.createDimension("time", len(time))
            t = ds.createVariable("time", "f8", ("time",))
            t.units = "days since 2000-01-01"
            t.calendar = "standard"
            t[:] = time
        ds.createDimension("lat", lat.size)
        ds.createDimension("lon", lon.size)
        ds.createVariable("lat", "f8", ("lat",))[:] = lat
        ds.createVariable("lon", "f8", ("lon",))[:] = lon
        ds["lat"].units = "degrees_north"
        ds["lon"].units = "degrees_east"
        kw = {"zlib": True, "complevel": 1} if chunked else {}
        v = ds.createVariable("rs", "f4", dims, fill_value=np.float32(-9999.0), **kw)
        v.units = units
        if values.ndim == 2 and values.shape[0] > 4000:
            step = 1440
            for i in range(0, values.shape[0], step):
                v[i : i + step, :] = values[i : i + step]
        else:
            v[:] = values


def write_tif(path: Path, values: np.ndarray, res: float, units="g C m-2 yr-1") -> None:
    import rasterio
    from rasterio.transform import from_origin

    arr = values[::-1].astype("float32")  # north-up
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=arr.shape[0],
        width=arr.shape[1],
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=from_origin(-180, 90, res, res),
        nodata=-9999.0,
    ) as dst:
        dst.write(np.nan_to_num(arr, nan=-9999.0), 1)
        dst.update_tags(1, units=units)


def write_projected_tif(path: Path, field05: np.ndarray) -> None:
    """Europe on a sinusoidal grid (5 km cells), values of the 0.5-degree field."""
    import rasterio
    from rasterio.transform import from_origin

    r = 6371007.181
    res = 5000.0
    x0, y0 = -1_500_000.0, 7_800_000.0
    nx, ny = 800, 700
    x = x0 + res * (np.arange(nx) + 0.5)
    y = y0 - res * (np.arange(ny) + 0.5)
    xx, yy = np.meshgrid(x, y)
    lat = np.rad2deg(yy / r)
    lon = np.rad2deg(xx / (r * np.cos(np.deg2rad(lat))))
    i = np.clip(((lat + 90) / 0.5).astype(int), 0, 359)
    j = np.clip(((lon + 180) / 0.5).astype(int), 0, 719)
    vals = field05[i, j].astype("float32")
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=ny,
        width=nx,
        count=1,
        dtype="float32",
        crs="+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m +no_defs",
        transform=from_origin(x0, y0, res, res),
        nodata=-9999.0,
    ) as dst:
        dst.write(np.nan_to_num(vals, nan=-9999.0), 1)
        dst.update_tags(1, units="g C m-2 yr-1")


def gaussian_file(path: Path, field05: np.ndarray, nlat=96, nlon=192) -> None:
    nodes, _ = np.polynomial.legendre.leggauss(nlat)
    lat = np.degrees(np.arcsin(nodes))
    lon = np.arange(nlon) * 360.0 / nlon
    i = np.clip(((lat + 90) / 0.5).astype(int), 0, 359)
    j = np.clip((((lon + 180) % 360 - 180 + 180) / 0.5).astype(int), 0, 719)
    write_nc(path, field05[np.ix_(i, j)], lat, lon)


def make_inputs(work: Path, with_30s: bool) -> list[tuple[str, list[str]]]:
    """Write the inputs; return (case label, compare arguments)."""
    work.mkdir(parents=True, exist_ok=True)
    field05, _ = base_field()
    cases = []
    for label, res in RESOLUTIONS.items():
        p = work / f"field_{label.replace('/', 'over')}.nc"
        if not p.exists():
            lat, lon = centres(res)
            write_nc(p, upsample(field05, res), lat, lon)
        cases.append((f"field {label} deg NetCDF", [str(p)]))
        if label == "0.05":
            t = work / "field_0.05.tif"
            if not t.exists():
                write_tif(t, upsample(field05, res), res)
            cases.append(("field 0.05 deg GeoTIFF", [str(t)]))
    if with_30s:
        for chunked in (False, True):
            p = work / f"field_30s{'_chunked' if chunked else ''}.nc"
            if not p.exists():
                lat, lon = centres(RES_30S)
                write_nc(p, upsample(field05, RES_30S), lat, lon, chunked=chunked)
            cases.append((f"field 30 arc-s NetCDF{' (default chunks, zlib)' if chunked else ''}", [str(p)]))
    lat, lon = centres(0.5)
    europe = field05.copy()
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    europe[~((la > 35) & (la < 70) & (lo > -10) & (lo < 40))] = np.nan
    p = work / "regional_on_global_grid.nc"
    write_nc(p, europe, lat, lon)
    cases.append(("Europe only, on a global 0.5 grid", [str(p)]))
    p = work / "kg_labelled_g.nc"
    write_nc(p, field05 / 1000.0, lat, lon)
    cases.append(("kg values labelled g", [str(p)]))
    p = work / "gaussian_T63.nc"
    gaussian_file(p, field05)
    cases.append(("Gaussian T63 (96 x 192)", [str(p)]))
    p = work / "sinusoidal_europe.tif"
    write_projected_tif(p, field05)
    cases.append(("sinusoidal GeoTIFF (Europe)", [str(p)]))
    cases.append(("sinusoidal GeoTIFF --region-only", [str(p), "--region-only"]))
    p = work / "monthly_3yr.nc"
    days = np.array([np.datetime64(f"{y}-{m:02d}-15") for y in (2001, 2002, 2003) for m in range(1, 13)])
    tnum = (days - np.datetime64("2000-01-01")).astype(int)
    monthly = np.repeat((field05 / 365.0)[None], 36, axis=0)
    write_nc(p, monthly, lat, lon, units="g C m-2 d-1", time=tnum)
    cases.append(("3 years monthly (g C m-2 d-1)", [str(p)]))
    cases.append(("--out not writable", [str(work / "field_0.5.nc"), "--out", "/proc/globalrs-report"]))
    cases += real_maps(work)
    return cases


def real_maps(work: Path) -> list[tuple[str, list[str]]]:
    """Two real foreign Rh maps from the offline mirror, written as a reader's NetCDF: CARDAMOM
    (0.5 deg, its own land mask) and CanESM5 on its native T63 Gaussian grid."""
    from globalrs.process_models import cmipmaps

    out = []
    for label, read, fname in (
        ("CARDAMOM Rh (real, 0.5 deg)", cmipmaps.read_cardamom_rh, "cardamom_rh.nc"),
        ("CanESM5 rh (real, native T63 Gaussian)", lambda: cmipmaps.read_native_rh("CanESM5"), "canesm5_rh_native.nc"),
    ):
        da = read()
        keep = {k: v for k, v in da.attrs.items() if k in ("units", "long_name")}
        da = da.copy()
        da.attrs = keep
        da.to_dataset(name="rh").to_netcdf(work / fname)
        out.append((label, [str(work / fname), "--kind", "rh"]))
    return out


def run_case(exe: str, label: str, args: list[str], reports: Path) -> dict:
    out = ["--out", str(reports / label.replace(" ", "_").replace("/", "_"))] if "--out" not in args else []
    t = time.perf_counter()
    proc = subprocess.run([exe, "compare", *args, *out, "--force"], capture_output=True, text=True)
    if "unrecognized arguments: --force" in proc.stderr:
        t = time.perf_counter()
        proc = subprocess.run([exe, "compare", *args, *out], capture_output=True, text=True)
    wall = time.perf_counter() - t
    lines = proc.stdout.splitlines()
    total = next((line for line in lines if "total" in line and "Pg C yr-1" in line and not line.startswith("[")), "")
    err = [line for line in proc.stderr.splitlines() if line.strip()]
    regions = ""
    rep = Path(out[1]) if out else None
    if rep is not None and (rep / "regional_totals.csv").exists():
        import pandas as pd

        tab = pd.read_csv(rep / "regional_totals.csv")
        regions = f"{int((tab['status'] == 'complete').sum())} of {len(tab)} regions compared"
    return {
        "case": label,
        "exit": proc.returncode,
        "seconds": round(wall, 1),
        "total": total,
        "regions": regions,
        "stderr": " | ".join(err[-3:])[:400],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--globalrs", required=True, help="the globalrs executable to measure")
    parser.add_argument("--work", type=Path, required=True, help="folder for the inputs and the reports")
    parser.add_argument("--with-30s", action="store_true", help="also the 30 arc-second files (3.7 GB each)")
    parser.add_argument("--only", default=None, help="only cases whose label contains this")
    parser.add_argument("--json", type=Path, default=None, help="write the rows here too")
    parser.add_argument("--tag", default="run", help="the reports go to WORK/reports-TAG (emptied first)")
    args = parser.parse_args()
    cases = make_inputs(args.work, args.with_30s)
    reports = args.work / f"reports-{args.tag}"
    shutil.rmtree(reports, ignore_errors=True)
    rows = []
    for label, cargs in cases:
        if args.only and args.only not in label:
            continue
        row = run_case(args.globalrs, label, cargs, reports)
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    print(f"cache: {os.environ.get('GLOBALRS_CACHE_DIR')}", file=sys.stderr)


if __name__ == "__main__":
    main()
