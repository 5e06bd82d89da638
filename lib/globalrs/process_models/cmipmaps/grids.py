"""The CMIP models' native grids, rebuilt from the documented table ``tables/cmip_model_grids.csv``.

Gaussian grids take the Gauss-Legendre latitudes and cell edges of
:func:`globalrs.core.grid.gaussian_latitudes`; regular grids are evenly spaced from ``first_lat``;
longitudes start at ``first_lon``. Also the book's land fraction regridded onto a native grid.
See :mod:`globalrs.process_models.cmipmaps` for the reconstruction and how it is checked.
"""

from __future__ import annotations

import io
from importlib import resources

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.core.exceptions import ModelGridError
from globalrs.core.grid import EARTH_RADIUS_M, gaussian_latitudes, make_grid, make_grid_edges
from globalrs.gridding.harmonize import GridEdges, regrid_conservative

GRID_TABLE = "cmip_model_grids.csv"


GRID_COLUMNS = ("model", "mip", "nlat", "nlon", "grid_type", "first_lat", "first_lon", "grid_source")


GRID_TYPES = ("gaussian", "regular")


MIPS = ("CMIP6", "CMIP5")


def load_model_grids() -> pd.DataFrame:
    """The table of documented native grids (``tables/cmip_model_grids.csv``).

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``mip`` (CMIP6/CMIP5), ``nlat``, ``nlon`` (int), ``grid_type``
        (gaussian/regular), ``first_lat``, ``first_lon`` (deg, cell centres of row 0 / column 0),
        ``grid_source``; one row per model.

    Raises
    ------
    ModelGridError
        Missing columns, unknown grid types or MIPs, duplicated models, or a Gaussian row whose
        ``first_lat`` disagrees with the Gauss-Legendre nodes.
    """
    text = resources.files("globalrs").joinpath("tables", GRID_TABLE).read_text()
    table = pd.read_csv(io.StringIO(text))
    return check_model_grids(table)


def check_model_grids(table: pd.DataFrame) -> pd.DataFrame:
    """Validate a grid table (see :func:`load_model_grids`) and return it typed."""
    missing = set(GRID_COLUMNS) - set(table.columns)
    if missing:
        raise ModelGridError(f"grid table lacks columns {sorted(missing)}")
    table = table.loc[:, list(GRID_COLUMNS)].copy()
    table["nlat"] = table["nlat"].astype(int)
    table["nlon"] = table["nlon"].astype(int)
    table["first_lat"] = table["first_lat"].astype(float)
    table["first_lon"] = table["first_lon"].astype(float)
    bad_type = set(table["grid_type"]) - set(GRID_TYPES)
    if bad_type:
        raise ModelGridError(f"unknown grid types {sorted(bad_type)}; use {GRID_TYPES}")
    bad_mip = set(table["mip"]) - set(MIPS)
    if bad_mip:
        raise ModelGridError(f"unknown MIPs {sorted(bad_mip)}; use {MIPS}")
    if table["model"].duplicated().any():
        raise ModelGridError(f"duplicated models {sorted(table.loc[table['model'].duplicated(), 'model'])}")
    for row in table.itertuples():
        lat = native_coordinates(row._asdict())[0]
        if abs(lat[0] - row.first_lat) > 1e-3:
            raise ModelGridError(
                f"{row.model}: first_lat {row.first_lat} but the {row.grid_type} grid of {row.nlat} rows starts at {lat[0]:.4f}"
            )
    return table.reset_index(drop=True)


def grid_entry(model: str, grids: pd.DataFrame | None = None) -> dict:
    """The grid table row of ``model`` as a dict.

    Raises
    ------
    ModelGridError
        The model has no grid entry.
    """
    grids = load_model_grids() if grids is None else grids
    rows = grids[grids["model"] == model]
    if rows.empty:
        raise ModelGridError(f"no grid entry for model {model!r} in {GRID_TABLE}; known: {', '.join(grids['model'])}")
    return rows.iloc[0].to_dict()


def native_coordinates(entry: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rebuild ``(lat, lon, lat_edges, lon_edges)`` in degrees from one grid table entry.

    Latitudes ascend (row 0 southernmost); longitudes ascend from ``first_lon`` by 360 / nlon.
    Regular latitudes run evenly from ``first_lat`` to ``-first_lat``; edges are midpoints,
    clipped at the poles.
    """
    nlat, nlon = int(entry["nlat"]), int(entry["nlon"])
    if entry["grid_type"] == "gaussian":
        lat, lat_e = gaussian_latitudes(nlat)
    elif entry["grid_type"] == "regular":
        first = float(entry["first_lat"])
        if not -90.0 <= first < 0.0:
            raise ModelGridError(f"{entry.get('model')}: first_lat {first} must be in [-90, 0)")
        lat = np.linspace(first, -first, nlat)
        step = lat[1] - lat[0]
        lat_e = np.clip(np.concatenate([lat - step / 2, [lat[-1] + step / 2]]), -90.0, 90.0)
    else:
        raise ModelGridError(f"{entry.get('model')}: unknown grid type {entry['grid_type']!r}")
    dlon = 360.0 / nlon
    lon = float(entry["first_lon"]) + dlon * np.arange(nlon)
    lon_e = np.concatenate([lon - dlon / 2, [lon[-1] + dlon / 2]])
    return lat, lon, lat_e, lon_e


def native_cell_area_m2(entry: dict) -> xr.DataArray:
    """Exact spherical cell areas (m2) of a native grid from its reconstructed edges."""
    lat, lon, lat_e, lon_e = native_coordinates(entry)
    dsin = np.diff(np.sin(np.deg2rad(lat_e)))
    dlon = np.deg2rad(np.diff(lon_e))
    area = EARTH_RADIUS_M**2 * np.outer(dsin, dlon)
    return xr.DataArray(area, dims=("lat", "lon"), coords={"lat": lat, "lon": lon}, attrs={"units": "m2"})


def models_with_shape(shape: tuple[int, ...], grids: pd.DataFrame | None = None) -> list[str]:
    """Models whose documented grid has ``shape`` (nlat, nlon)."""
    grids = load_model_grids() if grids is None else grids
    if len(shape) != 2:
        return []
    hit = grids[(grids["nlat"] == shape[0]) & (grids["nlon"] == shape[1])]
    return list(hit["model"])


def _grid_edges_05(resolution_deg: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    lat, lon = make_grid(resolution_deg)
    lat_e, lon_e = make_grid_edges(resolution_deg)
    return lat, lon, lat_e, lon_e


def land_fraction_on_native(land_fraction_05: xr.DataArray, entry: dict) -> xr.DataArray:
    """The book's 0.5-degree land fraction averaged (area-weighted) onto a native grid."""
    _, _, lat_e05, lon_e05 = _grid_edges_05()
    lat, lon, lat_e, lon_e = native_coordinates(entry)
    frac = land_fraction_05.transpose("lat", "lon").values.astype(np.float64)
    integ, cover = regrid_conservative(frac, GridEdges(lat=lat_e05, lon=lon_e05, lat_descending=False), lat_e, lon_e, "density")
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(cover > 0, integ / cover, 0.0)
    return xr.DataArray(
        np.clip(share, 0.0, 1.0),
        dims=("lat", "lon"),
        coords={"lat": lat, "lon": lon},
        attrs={"units": "1", "long_name": "book land fraction on the native grid"},
    )
