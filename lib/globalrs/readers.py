"""Readers for the observations and forcing grids used by the standardized-protocol ensemble.

One function per source. Every reader goes through :func:`globalrs.data.fetch` (verified bytes)
and returns a tidy object with units in names or attributes:

* observations as :class:`pandas.DataFrame` (``read_srdb``, ``read_mgrsd``), with the observation
  filter :func:`filter_srdb` returning the kept records and a table of counts removed per step;
* grids as :class:`xarray.DataArray` on ascending ``lat``/``lon`` (degrees, longitudes -180..180),
  at 0.5 degree (``*_05``) or the native 10 arc-minute WorldClim grid.

Grid conventions follow :mod:`globalrs.grid`: ``make_grid(0.5)`` cell centres, latitude ascending.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.config import get_cache_dir
from globalrs.cache import write_netcdf_atomic
from globalrs.data import fetch, get_entry
from globalrs.grid import make_grid

#: Registry names of the two SRDB releases, by version label.
SRDB_FILES = {
    "v5": "srdb/srdb-data_v20200511a.csv",
    "v2022": "srdb/srdb-data_20221009.csv",
}
MGRSD_FILE = "mgrsd/MGRsDAllData_TimeForWarm.csv"
UDEL_FILE = "grids/summarized_climate.csv"
KOPPEN_FILE = "grids/KoeppenGeigerASCII.xlsx"
LAND_FRACTION_FILE = "grids/fractional_land.0.5-deg.nc"
MODIS_LC_FILE = "grids/MODIS_LC_2010.tif"
IGBP_FILE = "grids/IGBP.txt"
IGBP_MAPPING_FILE = "grids/igbp_mapping.csv"
WORLDCLIM_VARIABLES = {"tmean": ("deg C", 0.1), "prec": ("mm month-1", 1.0)}

#: SRDB quality flags that mark a record as problematic (fields file: Q10 potential problem,
#: Q11 suspected problem, Q12 known problem, Q13 duplicate?, Q14 inconsistency).
SRDB_BAD_QUALITY_FLAGS = ("Q10", "Q11", "Q12", "Q13", "Q14")
#: Plausible range of annual soil respiration (g C m-2 yr-1); outside it a record is excluded.
RS_ANNUAL_RANGE_G_M2_YR = (0.0, 4000.0)

#: MODIS land cover (IGBP classes 1-16) grouped into the vegetation types of the area x mean
#: member. 0 and 17 are water in this file; 15 (snow and ice) is outside the estimate.
MODIS_IGBP_GROUPS = {
    1: "forest", 2: "forest", 3: "forest", 4: "forest", 5: "forest",
    6: "shrubland", 7: "shrubland",
    8: "savanna", 9: "savanna",
    10: "grassland",
    11: "wetland",
    12: "cropland", 13: "cropland", 14: "cropland",
    15: "snow_ice",
    16: "barren",
}
LANDCOVER_GROUPS = ("forest", "shrubland", "savanna", "grassland", "wetland", "cropland",
                    "snow_ice", "barren")


# --------------------------------------------------------------------------------------------
# observations
# --------------------------------------------------------------------------------------------
def read_srdb(version: str = "v5") -> pd.DataFrame:
    """Read an SRDB release as a DataFrame, keeping the literal string ``"None"``.

    Parameters
    ----------
    version
        ``"v5"`` (SRDB-V5, 2020-05-11 release) or ``"v2022"`` (2022-10-09 update).

    Returns
    -------
    pandas.DataFrame
        One row per record; ``Rs_annual`` in g C m-2 yr-1, ``Latitude``/``Longitude`` in degrees.
        ``Manipulation`` holds ``"None"`` for unmanipulated records (only empty cells are NaN).
    """
    if version not in SRDB_FILES:
        raise ValueError(f"SRDB version must be one of {sorted(SRDB_FILES)}, got {version!r}")
    frame = pd.read_csv(
        fetch(SRDB_FILES[version]), keep_default_na=False, na_values=[""], low_memory=False,
        encoding="latin-1",
    )
    needed = {"Rs_annual", "Latitude", "Longitude", "Manipulation", "Quality_flag"}
    missing = needed - set(frame.columns)
    if missing:
        raise ValueError(f"SRDB {version}: columns {sorted(missing)} are missing")
    for col in ("Rs_annual", "Latitude", "Longitude", "Study_midyear"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    frame.attrs.update(source=SRDB_FILES[version], version=version,
                       units_Rs_annual="g C m-2 yr-1")
    return frame


def has_bad_quality_flag(flags: pd.Series, bad: tuple[str, ...] = SRDB_BAD_QUALITY_FLAGS) -> pd.Series:
    """Return True where an SRDB ``Quality_flag`` string contains any of ``bad`` flags.

    Flags are comma-separated codes such as ``"Q01, Q11"``; missing flags count as clean.
    """
    codes = flags.fillna("").astype(str).str.replace(" ", "").str.split(",")
    bad_set = set(bad)
    return codes.apply(lambda items: any(code in bad_set for code in items)).astype(bool)


def filter_srdb(
    frame: pd.DataFrame,
    land_mask: xr.DataArray | None = None,
    rs_range: tuple[float, float] = RS_ANNUAL_RANGE_G_M2_YR,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the observation filter step by step and count what each step removes.

    Steps: annual Rs reported; no manipulation (``Manipulation == "None"``); no problem quality
    flag (:data:`SRDB_BAD_QUALITY_FLAGS`); valid coordinates; plausible Rs range; and, when
    ``land_mask`` is given, the site's 0.5-degree cell is inside the land mask.

    Returns
    -------
    kept, steps
        The kept records, and a table with columns ``step``, ``removed``, ``remaining``.
    """
    rules = [
        ("Rs_annual reported", lambda f: f["Rs_annual"].notna()),
        ('Manipulation == "None"', lambda f: f["Manipulation"].astype(str).str.strip() == "None"),
        ("no problem quality flag (Q10-Q14)", lambda f: ~has_bad_quality_flag(f["Quality_flag"])),
        ("valid coordinates", lambda f: f["Latitude"].between(-90, 90) & f["Longitude"].between(-180, 180)),
        (f"Rs_annual in [{rs_range[0]:g}, {rs_range[1]:g}] g C m-2 yr-1",
         lambda f: f["Rs_annual"].between(rs_range[0], rs_range[1], inclusive="right")),
    ]
    if land_mask is not None:
        rules.append(("site cell on the land mask",
                      lambda f: sample_at_sites(land_mask, f["Latitude"], f["Longitude"]).astype(bool)))
    return apply_filter_steps(frame, rules)


def apply_filter_steps(frame: pd.DataFrame, rules: list) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply ``(label, rule)`` filters in order, counting what each removes.

    Parameters
    ----------
    frame
        Records to filter.
    rules
        ``(label, rule)`` pairs; ``rule(frame)`` returns a boolean mask of rows to keep.

    Returns
    -------
    kept, steps
        The kept records (index reset) and a table with columns ``step``, ``removed``,
        ``remaining`` whose first row is ``("all records", 0, len(frame))``.
    """
    steps = [("all records", 0, len(frame))]
    kept = frame
    for label, rule in rules:
        keep = np.asarray(rule(kept), dtype=bool)
        kept = kept.loc[keep]
        steps.append((label, int((~keep).sum()), len(kept)))
    return kept.reset_index(drop=True), pd.DataFrame(steps, columns=["step", "removed", "remaining"])


def read_mgrsd() -> pd.DataFrame:
    """Read the MGRsD monthly soil respiration records that carry site coordinates.

    Returns
    -------
    pandas.DataFrame
        One row per site-month; ``Rs_Norm`` in g C m-2 day-1, ``Tm`` deg C, ``Pm`` mm month-1.
    """
    frame = pd.read_csv(fetch(MGRSD_FILE), encoding="latin-1", low_memory=False)
    for col in ("Rs_Norm", "Latitude", "Longitude", "Tm", "Pm", "Measure_Month", "Measure_Year"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    frame.attrs.update(source=MGRSD_FILE, units_Rs_Norm="g C m-2 day-1")
    return frame


#: Plausible range of MGRsD monthly mean soil respiration (g C m-2 day-1).
RS_NORM_RANGE_G_M2_DAY = (0.0, 30.0)


def filter_mgrsd(frame: pd.DataFrame, land_mask: xr.DataArray | None = None,
                 rs_range: tuple[float, float] = RS_NORM_RANGE_G_M2_DAY) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Filter MGRsD monthly records step by step, counting what each step removes.

    Steps: ``Rs_Norm`` reported; calendar month 1-12; valid coordinates; ``Rs_Norm`` within
    ``rs_range`` (g C m-2 day-1); and, with ``land_mask``, the site's cell on the mask.

    Returns
    -------
    kept, steps
        Kept records and a table with columns ``step``, ``removed``, ``remaining``.
    """
    rules = [
        ("Rs_Norm reported", lambda f: f["Rs_Norm"].notna()),
        ("month in 1-12", lambda f: f["Measure_Month"].between(1, 12)),
        ("valid coordinates", lambda f: f["Latitude"].between(-90, 90) & f["Longitude"].between(-180, 180)),
        (f"Rs_Norm in ({rs_range[0]:g}, {rs_range[1]:g}] g C m-2 day-1",
         lambda f: f["Rs_Norm"].between(rs_range[0], rs_range[1], inclusive="right")),
    ]
    if land_mask is not None:
        rules.append(("site cell on the land mask",
                      lambda f: sample_at_sites(land_mask, f["Latitude"], f["Longitude"]).astype(bool)))
    return apply_filter_steps(frame, rules)


# --------------------------------------------------------------------------------------------
# grid checks and sampling
# --------------------------------------------------------------------------------------------
def check_grid(da: xr.DataArray, resolution_deg: float | None = 0.5, units: str | None = None) -> None:
    """Raise a clear error unless ``da`` is on ascending global ``lat``/``lon`` cell centres.

    Parameters
    ----------
    da
        Grid whose last two dimensions must be ``("lat", "lon")``.
    resolution_deg
        Expected cell size; with 0.5 the coordinates must equal ``make_grid(0.5)``.
    units
        When given, ``da.attrs["units"]`` must equal it.
    """
    if da.dims[-2:] != ("lat", "lon"):
        raise ValueError(f"grid dimensions must end with ('lat', 'lon'), got {da.dims}")
    lat = da["lat"].values
    lon = da["lon"].values
    if not (np.all(np.diff(lat) > 0) and np.all(np.diff(lon) > 0)):
        raise ValueError("lat and lon must be ascending (flip with .sortby('lat') first)")
    if resolution_deg is not None:
        ref_lat, ref_lon = make_grid(resolution_deg)
        if lat.shape != ref_lat.shape or lon.shape != ref_lon.shape:
            raise ValueError(
                f"grid shape {lat.size} x {lon.size} is not the global {resolution_deg}-degree grid "
                f"({ref_lat.size} x {ref_lon.size})"
            )
        if not (np.allclose(lat, ref_lat, atol=1e-4) and np.allclose(lon, ref_lon, atol=1e-4)):
            raise ValueError(f"coordinates are not the {resolution_deg}-degree cell centres of make_grid")
    if units is not None and da.attrs.get("units") != units:
        raise ValueError(f"expected units {units!r}, got {da.attrs.get('units')!r}")


def cell_index(values: np.ndarray, start: float, step: float, n: int, name: str) -> np.ndarray:
    """Index of the cell containing each coordinate on a regular axis starting at edge ``start``.

    Coordinates outside the axis raise ``ValueError`` naming how many are outside.
    """
    values = np.asarray(values, dtype=float)
    idx = np.floor((values - start) / step).astype(np.int64)
    # a point exactly on the far edge (lat 90, lon 180) belongs to the last cell
    idx = np.where(np.isclose(values, start + n * step), n - 1, idx)
    bad = (idx < 0) | (idx >= n) | ~np.isfinite(values)
    if bad.any():
        raise ValueError(f"{int(bad.sum())} site(s) have {name} outside the grid "
                         f"[{start}, {start + n * step}]")
    return idx


def sample_at_sites(grid: xr.DataArray, lat, lon) -> np.ndarray:
    """Value of the grid cell containing each site (no interpolation).

    Parameters
    ----------
    grid
        ``(..., lat, lon)`` regular grid with ascending cell-centre coordinates.
    lat, lon
        Site coordinates in degrees (longitudes -180..180).

    Returns
    -------
    numpy.ndarray
        Shape ``(n_sites, ...)``: the leading grid dimensions follow the site axis. NaN where the
        cell holds no value; sites outside the grid raise ``ValueError``.
    """
    check_grid(grid, resolution_deg=None)
    glat = grid["lat"].values
    glon = grid["lon"].values
    dlat = float(glat[1] - glat[0])
    dlon = float(glon[1] - glon[0])
    i = cell_index(lat, glat[0] - dlat / 2, dlat, glat.size, "latitude")
    j = cell_index(lon, glon[0] - dlon / 2, dlon, glon.size, "longitude")
    values = grid.values[..., i, j]
    return np.moveaxis(values, -1, 0)


# --------------------------------------------------------------------------------------------
# small disk cache for slow readers (xlsx, 0.1-degree majority)
# --------------------------------------------------------------------------------------------
def _cache_path(kind: str, names: tuple[str, ...]) -> Path:
    digest = hashlib.sha256()
    for name in names:
        digest.update(get_entry(name).sha256.encode())
    digest.update(kind.encode())
    digest.update(Path(__file__).read_bytes())
    folder = get_cache_dir() / "readers"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{kind}-{digest.hexdigest()[:16]}.nc"


def _cached(kind: str, names: tuple[str, ...], build):
    path = _cache_path(kind, names)
    if path.is_file():
        try:
            with xr.open_dataarray(path) as da:
                return da.load()
        except Exception:  # a damaged cache file is rebuilt, never trusted
            path.unlink(missing_ok=True)
    da = build()
    write_netcdf_atomic(da, path)
    return da


# --------------------------------------------------------------------------------------------
# forcing and covariate grids
# --------------------------------------------------------------------------------------------
def read_bil_header(path: Path) -> dict[str, str]:
    """Parse an ESRI BIL ``.hdr`` file into a dict of upper-case keys."""
    header = {}
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2:
            header[parts[0].upper()] = " ".join(parts[1:])
    return header


def read_worldclim_monthly(variable: str = "tmean") -> xr.DataArray:
    """Read the 12 WorldClim 1.4 monthly grids of one variable at 10 arc-minutes.

    Parameters
    ----------
    variable
        ``"tmean"`` (returned in deg C) or ``"prec"`` (mm month-1).

    Returns
    -------
    xarray.DataArray
        ``(month, lat, lon)`` float32, 900 x 2160 cells from 60S to 90N, latitude ascending,
        NaN where WorldClim has no data.
    """
    if variable not in WORLDCLIM_VARIABLES:
        raise ValueError(f"variable must be one of {sorted(WORLDCLIM_VARIABLES)}, got {variable!r}")
    units, scale = WORLDCLIM_VARIABLES[variable]
    layers = []
    for month in range(1, 13):
        header = read_bil_header(fetch(f"worldclim10m/{variable}{month}.hdr"))
        nrows, ncols = int(header["NROWS"]), int(header["NCOLS"])
        if int(header["NBITS"]) != 16 or header.get("BYTEORDER", "I") != "I":
            raise ValueError(f"worldclim {variable}{month}: expected little-endian int16 BIL")
        raw = np.fromfile(fetch(f"worldclim10m/{variable}{month}.bil"), dtype="<i2")
        if raw.size != nrows * ncols:
            raise ValueError(f"worldclim {variable}{month}: {raw.size} values, header says {nrows}x{ncols}")
        grid = raw.reshape(nrows, ncols).astype(np.float32)
        grid[raw.reshape(nrows, ncols) == int(float(header["NODATA"]))] = np.nan
        layers.append(grid[::-1] * np.float32(scale))  # north-up rows -> latitude ascending
    step = float(header["XDIM"])
    lon = float(header["ULXMAP"]) + step * np.arange(ncols)
    lat = (float(header["ULYMAP"]) - step * np.arange(nrows))[::-1]
    return xr.DataArray(
        np.stack(layers), dims=("month", "lat", "lon"),
        coords={"month": np.arange(1, 13), "lat": np.round(lat, 6), "lon": np.round(lon, 6)},
        name=f"{variable}_worldclim", attrs={"units": units, "source": "WorldClim 1.4, 10 arc-minutes"},
    )


def aggregate_to_05(fine: xr.DataArray) -> xr.DataArray:
    """Area-weighted mean of a 10 arc-minute grid (3 x 3 blocks) onto the global 0.5-degree grid.

    A 0.5-degree cell is valid when at least one of its fine cells is; rows outside the fine
    grid's latitude range are NaN.
    """
    lat_f = fine["lat"].values
    step = float(lat_f[1] - lat_f[0])
    if not np.isclose(step * 3, 0.5, atol=1e-6):
        raise ValueError(f"expected a 10 arc-minute grid, got a {step:.4f}-degree spacing")
    lat05, lon05 = make_grid(0.5)
    south = lat_f[0] - step / 2
    i0 = int(round((south + 90) / 0.5))
    nblk = lat_f.size // 3
    weight = np.cos(np.deg2rad(lat_f)).astype(np.float32)
    data = fine.values
    lead = data.shape[:-2]
    w = np.broadcast_to(weight[:, None], data.shape[-2:])
    valid = np.isfinite(data)
    num = np.where(valid, data * w, 0).reshape(*lead, nblk, 3, lon05.size, 3).sum(axis=(-3, -1))
    den = np.where(valid, w, 0).reshape(*lead, nblk, 3, lon05.size, 3).sum(axis=(-3, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        block = np.where(den > 0, num / den, np.nan)
    out = np.full((*lead, lat05.size, lon05.size), np.nan, dtype=np.float32)
    out[..., i0:i0 + nblk, :] = block
    coords = {k: fine[k] for k in fine.dims[:-2]}
    coords.update(lat=lat05, lon=lon05)
    return xr.DataArray(out, dims=fine.dims, coords=coords, name=fine.name, attrs=dict(fine.attrs))


def read_worldclim_monthly_05(variable: str = "tmean") -> xr.DataArray:
    """WorldClim monthly ``variable`` aggregated to 0.5 degree (cached on disk)."""
    names = tuple(f"worldclim10m/{variable}{m}.{ext}" for m in range(1, 13) for ext in ("bil", "hdr"))
    da = _cached(f"worldclim05-{variable}", names,
                 lambda: aggregate_to_05(read_worldclim_monthly(variable)))
    return da


def read_udel_climate_05() -> xr.Dataset:
    """UDel mean annual air temperature and precipitation on the 0.5-degree grid.

    Returns
    -------
    xarray.Dataset
        ``mat_c`` (deg C) and ``map_mm`` (mm yr-1), NaN where the file has no land cell.
    """
    frame = pd.read_csv(fetch(UDEL_FILE), comment="#")
    lat, lon = make_grid(0.5)
    i = cell_index(frame["Latitude"].values, -90.0, 0.5, lat.size, "latitude")
    j = cell_index(frame["Longitude"].values, -180.0, 0.5, lon.size, "longitude")
    out = {}
    for col, name, units in (("MAT_Del", "mat_c", "deg C"), ("MAP_Del", "map_mm", "mm yr-1")):
        grid = np.full((lat.size, lon.size), np.nan, dtype=np.float32)
        grid[i, j] = frame[col].values
        out[name] = xr.DataArray(grid, dims=("lat", "lon"), coords={"lat": lat, "lon": lon},
                                 attrs={"units": units, "source": "University of Delaware (UDel)"})
    return xr.Dataset(out)


def read_koppen_05() -> xr.DataArray:
    """Koeppen-Geiger climate classes (strings like ``"Cfa"``) on the 0.5-degree grid.

    Returns
    -------
    xarray.DataArray
        ``(lat, lon)`` of dtype ``<U3``; ``""`` where the file has no class (ocean).
    """
    def build() -> xr.DataArray:
        frame = pd.read_excel(fetch(KOPPEN_FILE))
        lat, lon = make_grid(0.5)
        i = cell_index(frame["Latitude"].values, -90.0, 0.5, lat.size, "latitude")
        j = cell_index(frame["Longitude"].values, -180.0, 0.5, lon.size, "longitude")
        grid = np.full((lat.size, lon.size), "", dtype="<U3")
        grid[i, j] = frame["ClimateTypes"].astype(str).str.strip().values
        return xr.DataArray(grid, dims=("lat", "lon"), coords={"lat": lat, "lon": lon},
                            name="koppen", attrs={"source": "Kottek et al. 2006, 0.5 degree"})

    return _cached("koppen05", (KOPPEN_FILE,), build).astype("<U3")


def read_land_fraction_05() -> xr.DataArray:
    """Fraction of land (0-1) in each 0.5-degree cell, on ``make_grid(0.5)`` coordinates."""
    # The time axis ("hours since 1-1-1") is irrelevant and makes xarray warn when decoding it:
    # decode only the data variable's mask and scale, leave time alone.
    with xr.open_dataset(fetch(LAND_FRACTION_FILE), decode_times=False, decode_timedelta=False,
                         drop_variables=["time"]) as ds:
        da = ds["data"].squeeze(drop=True).load()
    da = da.assign_coords(lon=((da["lon"] + 180.0) % 360.0) - 180.0).sortby("lon").sortby("lat")
    lat, lon = make_grid(0.5)
    if not (np.allclose(da["lat"], lat) and np.allclose(da["lon"], lon)):
        raise ValueError("land fraction file is not on the 0.5-degree grid")
    da = da.assign_coords(lat=lat, lon=lon).fillna(0.0).clip(0.0, 1.0).astype(np.float32)
    da.name = "land_fraction"
    da.attrs = {"units": "1", "source": "fractional_land.0.5-deg.nc (TBASE 5-minute)"}
    return da.drop_vars("time", errors="ignore")


def read_modis_landcover() -> xr.DataArray:
    """MODIS 2010 land cover (IGBP codes) at 0.1 degree, latitude ascending.

    Codes 1-16 are the IGBP classes; 0 and 17 are water in this file.
    """
    import rasterio

    with rasterio.open(fetch(MODIS_LC_FILE)) as src:
        codes = src.read(1)
        t = src.transform
    nrow, ncol = codes.shape
    lat = t.f + t.e * (np.arange(nrow) + 0.5)
    lon = t.c + t.a * (np.arange(ncol) + 0.5)
    return xr.DataArray(codes[::-1].copy(), dims=("lat", "lon"),
                        coords={"lat": np.round(lat[::-1], 6), "lon": np.round(lon, 6)},
                        name="modis_igbp", attrs={"source": "MODIS land cover 2010, 0.1 degree"})


def landcover_group_codes() -> tuple[np.ndarray, tuple[str, ...]]:
    """Lookup table from MODIS code (0..255) to an index into :data:`LANDCOVER_GROUPS` (-1: water)."""
    table = np.full(256, -1, dtype=np.int8)
    for code, group in MODIS_IGBP_GROUPS.items():
        table[code] = LANDCOVER_GROUPS.index(group)
    return table, LANDCOVER_GROUPS


def majority_landcover(codes: np.ndarray, factor_lat: int, factor_lon: int) -> np.ndarray:
    """Majority land-cover group in blocks of ``factor_lat x factor_lon`` fine cells.

    Parameters
    ----------
    codes
        2-D array of MODIS IGBP codes.

    Returns
    -------
    numpy.ndarray
        Group index per block (see :data:`LANDCOVER_GROUPS`); -1 where no land cell; ties go to
        the lower group index.
    """
    table, groups = landcover_group_codes()
    idx = table[codes]
    nr, nc = idx.shape[0] // factor_lat, idx.shape[1] // factor_lon
    blocks = idx[: nr * factor_lat, : nc * factor_lon].reshape(nr, factor_lat, nc, factor_lon)
    counts = np.stack([(blocks == g).sum(axis=(1, 3)) for g in range(len(groups))])
    best = counts.argmax(axis=0).astype(np.int8)
    return np.where(counts.max(axis=0) > 0, best, -1).astype(np.int8)


def read_landcover_group_05() -> xr.DataArray:
    """Majority MODIS land-cover group of each 0.5-degree cell (index into LANDCOVER_GROUPS).

    Returns
    -------
    xarray.DataArray
        ``(lat, lon)`` int8, -1 where the cell has no land pixel; attribute ``groups`` lists the
        group names in index order.
    """
    def build() -> xr.DataArray:
        lc = read_modis_landcover()
        grid = majority_landcover(lc.values, 5, 5)
        lat, lon = make_grid(0.5)
        return xr.DataArray(grid, dims=("lat", "lon"), coords={"lat": lat, "lon": lon},
                            name="landcover_group",
                            attrs={"groups": ",".join(LANDCOVER_GROUPS),
                                   "source": "MODIS 2010 majority of 0.1-degree pixels"})

    return _cached("landcover05", (MODIS_LC_FILE,), build)


def read_landcover_group_10m() -> xr.DataArray:
    """MODIS land-cover group (index into LANDCOVER_GROUPS) at the WorldClim 10' cell centres.

    Nearest 0.1-degree pixel to each 10 arc-minute cell centre, 60S-90N; -1 for water.
    """
    lc = read_modis_landcover()
    table, _ = landcover_group_codes()
    lat = -60.0 + (np.arange(900) + 0.5) / 6.0
    lon = -180.0 + (np.arange(2160) + 0.5) / 6.0
    i = np.clip(np.floor((lat + 90.0) / 0.1).astype(int), 0, lc.sizes["lat"] - 1)
    j = np.clip(np.floor((lon + 180.0) / 0.1).astype(int), 0, lc.sizes["lon"] - 1)
    grid = table[lc.values[np.ix_(i, j)]]
    return xr.DataArray(grid, dims=("lat", "lon"), coords={"lat": lat, "lon": lon},
                        name="landcover_group", attrs={"groups": ",".join(LANDCOVER_GROUPS)})


def read_igbp_05() -> xr.DataArray:
    """IGBP land-cover code (``IGBP2001Pr``, 0-16) of each 0.5-degree land cell.

    Returns
    -------
    xarray.DataArray
        ``(lat, lon)`` int8, -1 where the file has no cell; attribute ``codes`` maps each numeric
        code to its IGBP abbreviation (from ``grids/igbp_mapping.csv``).
    """
    frame = pd.read_csv(fetch(IGBP_FILE))
    mapping = pd.read_csv(fetch(IGBP_MAPPING_FILE), comment="#")
    lat, lon = make_grid(0.5)
    i = cell_index(frame["Latitude"].values, -90.0, 0.5, lat.size, "latitude")
    j = cell_index(frame["Longitude"].values, -180.0, 0.5, lon.size, "longitude")
    grid = np.full((lat.size, lon.size), -1, dtype=np.int8)
    grid[i, j] = frame["IGBP2001Pr"].astype(int).values
    codes = ",".join(f"{int(c)}:{a}" for c, a in zip(mapping["IGBP2001Pr"], mapping["IGBP"]))
    return xr.DataArray(grid, dims=("lat", "lon"), coords={"lat": lat, "lon": lon}, name="igbp",
                        attrs={"codes": codes, "source": "IGBP.txt (0.5 degree)"})


BIOME5_FILE = "grids/Ecoregions_5_classes_0.05.tif"
#: Class names of the 5-class biome map, in code order 1..5, as documented with the data mirror.
#: Spot checks find large deserts (Sahara, Gobi, Great Basin) as no-data rather than class 4, so
#: the ensemble uses MODIS land cover instead; this map is offered for comparison only.
BIOME5_CLASSES = ("forest", "shrubland", "grassland", "desert", "cropland")


def read_biome5_05() -> xr.DataArray:
    """Majority class of the 0.05-degree 5-class biome map in each 0.5-degree cell.

    Returns
    -------
    xarray.DataArray
        ``(lat, lon)`` int8 codes 1..5 (see :data:`BIOME5_CLASSES`), 0 where the cell holds no
        classified pixel.
    """
    import rasterio

    def build() -> xr.DataArray:
        with rasterio.open(fetch(BIOME5_FILE)) as src:
            raw = src.read(1)
            if src.shape != (3600, 7200) or not np.isclose(src.transform.a, 0.05):
                raise ValueError(f"{BIOME5_FILE}: expected a global 0.05-degree grid, got {src.shape}")
        codes = np.where(np.isfinite(raw) & (raw >= 1) & (raw <= 5), raw, 0).astype(np.int8)[::-1]
        blocks = codes.reshape(360, 10, 720, 10)
        counts = np.stack([(blocks == c).sum(axis=(1, 3)) for c in range(1, 6)])
        grid = np.where(counts.max(axis=0) > 0, counts.argmax(axis=0) + 1, 0).astype(np.int8)
        lat, lon = make_grid(0.5)
        return xr.DataArray(grid, dims=("lat", "lon"), coords={"lat": lat, "lon": lon}, name="biome5",
                            attrs={"classes": ",".join(f"{i + 1}:{c}" for i, c in enumerate(BIOME5_CLASSES)),
                                   "source": "Ecoregions_5_classes_0.05.tif, majority of 0.05-degree pixels"})

    return _cached("biome5-05", (BIOME5_FILE,), build).astype(np.int8)
