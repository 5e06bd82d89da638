"""Tiny synthetic inputs shared by the ensemble tests (built here, never read from disk)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.core.grid import EARTH_RADIUS_M, cell_area_m2, make_grid
from globalrs.estimates import ensemble, inputs, models

SPHERE_M2 = 4 * np.pi * EARTH_RADIUS_M**2


def synthetic_obs(n_sites: int = 80, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lat = rng.uniform(-40, 60, n_sites)
    lon = rng.uniform(-170, 170, n_sites)
    seasonal = np.sin(np.linspace(0, 2 * np.pi, 12, endpoint=False))
    t = rng.uniform(-5, 25, (n_sites, 1)) + 8 * seasonal
    p = rng.uniform(10, 150, (n_sites, 12))
    rs = models.annual_sum(models.raich_potter_monthly(t, p, 1.2, 0.05, 30.0))
    frame = pd.DataFrame(
        {
            "rs_g_m2_yr": rs,
            "lat": lat,
            "lon": lon,
            "site": inputs.site_id(lat, lon),
            "landcover_group": rng.integers(0, 3, n_sites),
        }
    )
    for m in range(12):
        frame[f"t{m + 1:02d}"] = t[:, m]
    for m in range(12):
        frame[f"p{m + 1:02d}"] = p[:, m]
    return frame


def tiny_climate(t_value: float = 10.0, p_value: float = 50.0) -> xr.Dataset:
    lat, lon = make_grid(0.5)
    shape = (12, lat.size, lon.size)
    coords = {"month": np.arange(1, 13), "lat": lat, "lon": lon}
    tm = np.full(shape, t_value, dtype=np.float32)
    tm[:, :10] = np.nan  # a few rows without climate
    return xr.Dataset(
        {
            "tmean_c": (("month", "lat", "lon"), tm),
            "prec_mm_month": (("month", "lat", "lon"), np.full(shape, p_value, np.float32)),
        },
        coords=coords,
    )


def known_field_dataset(flux: float, land_fraction: float) -> xr.Dataset:
    lat, lon = make_grid(1.0)
    coords = {"lat": lat, "lon": lon}
    shape = (lat.size, lon.size)
    return xr.Dataset(
        {
            "rs_annual": xr.DataArray(
                np.full((1, *shape), flux),
                dims=("member", "lat", "lon"),
                coords={"member": ["m"], **coords},
                attrs={"units": "g C m-2 yr-1"},
            ),
            "land_mask": xr.DataArray(np.ones(shape, bool), dims=("lat", "lon"), coords=coords),
            "land_fraction": xr.DataArray(np.full(shape, land_fraction), dims=("lat", "lon"), coords=coords),
            "cell_area_m2": cell_area_m2(lat, lon),
        }
    )


def rp_member() -> ensemble.FittedMember:
    return ensemble.FittedMember("raich_potter", "", "", {"f_g_m2_day": 1.0, "q_per_c": 0.0, "k_mm": 50.0}, "x", "x", 1, 1)


def grid_landcover() -> xr.DataArray:
    lat, lon = make_grid(0.5)
    return xr.DataArray(np.zeros((lat.size, lon.size), np.int8), coords={"lat": lat, "lon": lon}, dims=("lat", "lon"))


def write_global_geotiff(path, north_up: np.ndarray, res_deg: float, tags: dict | None = None) -> None:
    """Write a global float32 GeoTIFF (EPSG:4326, first row at 90 N, nodata -9999) the way map files come.

    ``north_up`` is ``(lat, lon)`` with the northern row first; NaN is written as nodata.
    """
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=north_up.shape[1],
        height=north_up.shape[0],
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        nodata=-9999.0,
        transform=from_origin(-180, 90, res_deg, res_deg),
    ) as dst:
        dst.write(np.nan_to_num(north_up, nan=-9999.0).astype("float32"), 1)
        if tags:
            dst.update_tags(**tags)
