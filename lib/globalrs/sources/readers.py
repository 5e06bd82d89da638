"""Readers for the observations and forcing grids used by the standardized-protocol ensemble.

One function per source. Every reader goes through :func:`globalrs.sources.data.fetch` (verified bytes)
and returns a tidy object with units in names or attributes:

* observations as :class:`pandas.DataFrame` (``read_srdb``, ``read_mgrsd``); the observation
  filters are in :mod:`globalrs.estimates.filters`;
* grids as :class:`xarray.DataArray` on ascending ``lat``/``lon`` (degrees, longitudes -180..180),
  at 0.5 degree (``*_05``) or the native 10 arc-minute WorldClim grid.

Grid conventions follow :mod:`globalrs.core.grid`: ``make_grid(0.5)`` cell centres, latitude ascending.
Slow readers (xlsx, majority of fine pixels, 10' aggregation) are cached through
:func:`globalrs.sources.cache.cached_build`, keyed on the input files and :data:`READER_VERSION`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import rasterio
import xarray as xr

from globalrs.core.grid import cell_index, make_grid, same_grid, wrap_lon
from globalrs.sources.cache import NETCDF_ENGINE, cache_key, cache_path, cached_build, read_netcdf_array, write_netcdf_atomic
from globalrs.sources.data import fetch

#: Result version of the cached reader grids: bump it when a reader's output changes meaning.
READER_VERSION = "1"

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
WORLDCLIM_VARIABLES = {"tmean": ("deg C", 0.1), "prec": ("mm month-1", 1.0)}


def worldclim_file(variable: str, month: int, ext: str) -> str:
    """Registry name of one WorldClim 1.4 10' file (``ext`` ``"bil"`` or ``"hdr"``).

    Parameters
    ----------
    variable
        ``"tmean"`` or ``"prec"``.
    month
        1..12.
    ext
        ``"bil"`` (data) or ``"hdr"`` (header).

    Returns
    -------
    str
        The registry name.
    """
    return f"worldclim10m/{variable}{month}.{ext}"


def worldclim_files(variables: tuple[str, ...] = tuple(WORLDCLIM_VARIABLES)) -> list[str]:
    """Registry names of every WorldClim file (data and header, 12 months) of ``variables``.

    Parameters
    ----------
    variables
        WorldClim variables.

    Returns
    -------
    list of str
        Registry names.
    """
    return [worldclim_file(v, m, e) for v in variables for m in range(1, 13) for e in ("bil", "hdr")]


def _cached_grid(kind: str, names: list[str], build: Callable[[], xr.DataArray]) -> xr.DataArray:
    key = cache_key(kind, READER_VERSION, names)
    return cached_build(cache_path("readers", kind, key), build, read_netcdf_array, write_netcdf_atomic)


#: MODIS land cover (IGBP classes 1-16) grouped into the vegetation types of the area x mean
#: member. 0 and 17 are water in this file; 15 (snow and ice) is outside the estimate.
MODIS_IGBP_GROUPS = {
    1: "forest",
    2: "forest",
    3: "forest",
    4: "forest",
    5: "forest",
    6: "shrubland",
    7: "shrubland",
    8: "savanna",
    9: "savanna",
    10: "grassland",
    11: "wetland",
    12: "cropland",
    13: "cropland",
    14: "cropland",
    15: "snow_ice",
    16: "barren",
}
LANDCOVER_GROUPS = ("forest", "shrubland", "savanna", "grassland", "wetland", "cropland", "snow_ice", "barren")


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
        fetch(SRDB_FILES[version]),
        keep_default_na=False,
        na_values=[""],
        low_memory=False,
        encoding="latin-1",
    )
    needed = {"Rs_annual", "Latitude", "Longitude", "Manipulation", "Quality_flag"}
    missing = needed - set(frame.columns)
    if missing:
        raise ValueError(f"SRDB {version}: columns {sorted(missing)} are missing")
    for col in ("Rs_annual", "Latitude", "Longitude", "Study_midyear"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    frame.attrs.update(source=SRDB_FILES[version], version=version, units_Rs_annual="g C m-2 yr-1")
    return frame


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
        header = read_bil_header(fetch(worldclim_file(variable, month, "hdr")))
        nrows, ncols = int(header["NROWS"]), int(header["NCOLS"])
        if int(header["NBITS"]) != 16 or header.get("BYTEORDER", "I") != "I":
            raise ValueError(f"worldclim {variable}{month}: expected little-endian int16 BIL")
        raw = np.fromfile(fetch(worldclim_file(variable, month, "bil")), dtype="<i2")
        if raw.size != nrows * ncols:
            raise ValueError(f"worldclim {variable}{month}: {raw.size} values, header says {nrows}x{ncols}")
        grid = raw.reshape(nrows, ncols).astype(np.float32)
        grid[raw.reshape(nrows, ncols) == int(float(header["NODATA"]))] = np.nan
        layers.append(grid[::-1] * np.float32(scale))  # north-up rows -> latitude ascending
    step = float(header["XDIM"])
    lon = float(header["ULXMAP"]) + step * np.arange(ncols)
    lat = (float(header["ULYMAP"]) - step * np.arange(nrows))[::-1]
    return xr.DataArray(
        np.stack(layers),
        dims=("month", "lat", "lon"),
        coords={"month": np.arange(1, 13), "lat": np.round(lat, 6), "lon": np.round(lon, 6)},
        name=f"{variable}_worldclim",
        attrs={"units": units, "source": "WorldClim 1.4, 10 arc-minutes"},
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
    out[..., i0 : i0 + nblk, :] = block
    coords: dict[Hashable, Any] = {k: fine[k] for k in fine.dims[:-2]}
    coords.update(lat=lat05, lon=lon05)
    return xr.DataArray(out, dims=fine.dims, coords=coords, name=fine.name, attrs=dict(fine.attrs))


def read_worldclim_monthly_05(variable: str = "tmean") -> xr.DataArray:
    """WorldClim monthly ``variable`` aggregated to 0.5 degree (cached on disk)."""
    return _cached_grid(
        f"worldclim05-{variable}", worldclim_files((variable,)), lambda: aggregate_to_05(read_worldclim_monthly(variable))
    )


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
        out[name] = xr.DataArray(
            grid,
            dims=("lat", "lon"),
            coords={"lat": lat, "lon": lon},
            attrs={"units": units, "source": "University of Delaware (UDel)"},
        )
    return xr.Dataset(out)


def read_koppen_05() -> xr.DataArray:
    """Koeppen-Geiger climate classes (strings like ``"Cfa"``) on the 0.5-degree grid.

    Returns
    -------
    xarray.DataArray
        ``(lat, lon)`` of dtype ``<U3``; ``""`` where the file has no class (ocean).
    """

    def build() -> xr.DataArray:
        frame = pd.read_excel(fetch(KOPPEN_FILE), engine="calamine")  # python-calamine: same frame, ~6x faster than openpyxl
        lat, lon = make_grid(0.5)
        i = cell_index(frame["Latitude"].values, -90.0, 0.5, lat.size, "latitude")
        j = cell_index(frame["Longitude"].values, -180.0, 0.5, lon.size, "longitude")
        grid = np.full((lat.size, lon.size), "", dtype="<U3")
        grid[i, j] = frame["ClimateTypes"].astype(str).str.strip().values
        return xr.DataArray(
            grid,
            dims=("lat", "lon"),
            coords={"lat": lat, "lon": lon},
            name="koppen",
            attrs={"source": "Kottek et al. 2006, 0.5 degree"},
        )

    return _cached_grid("koppen05", [KOPPEN_FILE], build).astype("<U3")


def read_land_fraction_05() -> xr.DataArray:
    """Fraction of land (0-1) in each 0.5-degree cell, on ``make_grid(0.5)`` coordinates."""
    # The time axis ("hours since 1-1-1") is irrelevant and makes xarray warn when decoding it:
    # decode only the data variable's mask and scale, leave time alone.
    with xr.open_dataset(
        fetch(LAND_FRACTION_FILE), engine=NETCDF_ENGINE, decode_times=False, decode_timedelta=False, drop_variables=["time"]
    ) as ds:
        da = ds["data"].squeeze(drop=True).load()
    da = da.assign_coords(lon=wrap_lon(da["lon"])).sortby("lon").sortby("lat")
    lat, lon = make_grid(0.5)
    if not same_grid(da, (lat, lon)):
        raise ValueError("land fraction file is not on the 0.5-degree grid")
    da = da.assign_coords(lat=lat, lon=lon).fillna(0.0).clip(0.0, 1.0).astype(np.float32)
    da.name = "land_fraction"
    da.attrs = {"units": "1", "source": "fractional_land.0.5-deg.nc (TBASE 5-minute)"}
    return da.drop_vars("time", errors="ignore")


def read_modis_landcover() -> xr.DataArray:
    """MODIS 2010 land cover (IGBP codes) at 0.1 degree, latitude ascending.

    Codes 1-16 are the IGBP classes; 0 and 17 are water in this file.
    """
    with rasterio.open(fetch(MODIS_LC_FILE)) as src:
        codes = src.read(1)
        t = src.transform
    nrow, ncol = codes.shape
    lat = t.f + t.e * (np.arange(nrow) + 0.5)
    lon = t.c + t.a * (np.arange(ncol) + 0.5)
    return xr.DataArray(
        codes[::-1].copy(),
        dims=("lat", "lon"),
        coords={"lat": np.round(lat[::-1], 6), "lon": np.round(lon, 6)},
        name="modis_igbp",
        attrs={"source": "MODIS land cover 2010, 0.1 degree"},
    )


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
        return xr.DataArray(
            grid,
            dims=("lat", "lon"),
            coords={"lat": lat, "lon": lon},
            name="landcover_group",
            attrs={"groups": ",".join(LANDCOVER_GROUPS), "source": "MODIS 2010 majority of 0.1-degree pixels"},
        )

    return _cached_grid("landcover05", [MODIS_LC_FILE], build)


def read_landcover_group_10m() -> xr.DataArray:
    """MODIS land-cover group (index into LANDCOVER_GROUPS) at the WorldClim 10' cell centres.

    Nearest 0.1-degree pixel to each 10 arc-minute cell centre, 60S-90N; -1 for water.
    """
    lc = read_modis_landcover()
    table, _ = landcover_group_codes()
    lat = -60.0 + (np.arange(900) + 0.5) / 6.0
    lon = -180.0 + (np.arange(2160) + 0.5) / 6.0
    i = cell_index(lat, -90.0, 0.1, lc.sizes["lat"], "latitude")
    j = cell_index(lon, -180.0, 0.1, lc.sizes["lon"], "longitude")
    grid = table[lc.values[np.ix_(i, j)]]
    return xr.DataArray(
        grid,
        dims=("lat", "lon"),
        coords={"lat": lat, "lon": lon},
        name="landcover_group",
        attrs={"groups": ",".join(LANDCOVER_GROUPS)},
    )
