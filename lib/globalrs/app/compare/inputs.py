"""The inputs of a comparison: the reader's map on the book's grid, and what it is compared with."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.core.grid import wrap_lon
from globalrs.estimates import gridded
from globalrs.gridding import harmonize, regions
from globalrs.reproduction import paper
from globalrs.sources import literature


def pad_to_full_longitude(da: xr.DataArray) -> xr.DataArray:
    """Extend a regular grid that covers part of the longitudes to all 360 degrees with NaN.

    Parameters
    ----------
    da
        ``(..., lat, lon)`` with a regular longitude axis (any wrapping).

    Returns
    -------
    xarray.DataArray
        The same values on a longitude axis of ``360 / step`` cells (-180..180, ascending).

    Raises
    ------
    globalrs.gridding.harmonize.HarmonizeError
        If the longitude step does not divide 360 degrees.
    """
    lon = wrap_lon(np.asarray(da["lon"].values, dtype=float))
    da = da.assign_coords(lon=lon).sortby("lon")
    lon = np.asarray(da["lon"].values, dtype=float)
    if lon.size < 2:
        raise harmonize.HarmonizeError("lon needs at least two cells")
    step = float(np.median(np.diff(lon)))
    if step <= 0:
        raise harmonize.HarmonizeError(f"the longitudes are not a regular increasing axis (median step {step:g} deg)")
    n_full = 360.0 / step
    if abs(n_full - round(n_full)) > 1e-6 * n_full:
        raise harmonize.HarmonizeError(
            f"the longitude step {step:g} deg does not divide 360 deg: a regional map needs a grid "
            "that could be extended to the globe"
        )
    n_full = int(round(n_full))
    if lon.size >= n_full:
        return da
    index = np.round((lon - lon[0]) / step).astype(int)
    if not np.allclose(lon[0] + index * step, lon, atol=1e-6 * step + 1e-9):
        raise harmonize.HarmonizeError("longitudes are not a regular axis")
    full = wrap_lon(lon[0] + step * np.arange(n_full))
    order = np.argsort(full)
    values = np.full(da.shape[:-1] + (n_full,), np.nan)
    values[..., index] = da.transpose(..., "lon").values
    return xr.DataArray(
        values[..., order],
        dims=da.transpose(..., "lon").dims,
        coords={**{d: da[d] for d in da.dims if d != "lon" and d in da.coords}, "lon": full[order]},
        attrs=da.attrs,
        name=da.name,
    )


def harmonize_input(
    source: str | Path | xr.DataArray | xr.Dataset,
    variable: str | None = None,
    units: str | None = None,
    band_as: str | None = None,
    region_only: bool = False,
    on_implausible: str = "raise",
) -> tuple[xr.Dataset, bool]:
    """Put the map on the book's grid with :func:`globalrs.gridding.harmonize.harmonize_to_grid`.

    Parameters
    ----------
    source
        File path (NetCDF or GeoTIFF) or an in-memory array.
    variable, units, band_as
        Passed to the harmonizer (``units`` overrides the file's attribute).
    region_only
        Accept a map that covers only part of the globe (reported as partial).
    on_implausible
        ``"raise"`` or ``"clip"`` (see :func:`globalrs.gridding.harmonize.harmonize_to_grid`).

    Returns
    -------
    (harmonized, partial)
        The harmonizer's Dataset (``fill="mean"``) and whether the map is reported as partial
        (always with ``region_only``: the caller said the map is regional).

    Raises
    ------
    globalrs.gridding.harmonize.HarmonizeError
        Whatever the harmonizer refuses, with its message (a coverage refusal also names
        ``--region-only``).
    """
    if not region_only:
        try:
            out = harmonize.harmonize_to_grid(
                source, variable=variable, units=units, band_as=band_as, fill="mean", on_implausible=on_implausible
            )
            return out, False
        except harmonize.HarmonizeError as exc:
            if "does not cover the globe" in str(exc):
                raise harmonize.HarmonizeError(
                    f"{exc}. For a regional map pass --region-only (region_only=True): it is then "
                    "reported as partial, never totalled as global"
                ) from exc
            raise
    da = harmonize.open_source(source, variable=variable, band_as=band_as)
    if units is not None:
        da = da.copy()
        da.attrs["units"] = units
    da = pad_to_full_longitude(da.load())
    edges = harmonize.grid_edges(da["lat"].values, da["lon"].values)
    out = harmonize.harmonize_to_grid(
        da, fill="mean", min_lat_coverage=(float(edges.lat[0]), float(edges.lat[-1])), on_implausible=on_implausible
    )
    out.attrs["source"] = str(source) if isinstance(source, (str, Path)) else out.attrs["source"]
    return out, True


def counted_published_totals() -> pd.DataFrame:
    """Return the published global Rs totals the book counts.

    Returns
    -------
    pandas.DataFrame
        :func:`globalrs.sources.literature.screen_estimates` with the paper's stated maximum.
    """
    kept, _ = literature.screen_estimates(literature.read_global_rs_estimates(), max_pg=paper.MAX_COUNTED_PG_C_YR)
    return kept


def load_comparison_inputs() -> tuple[xr.Dataset, xr.DataArray, pd.DataFrame]:
    """Load what :func:`globalrs.app.compare.compare_map` compares against.

    Returns
    -------
    (ensemble, weights, published_totals)
        The book's ensemble (book-wide switch), the 14-region weights on its grid and the counted
        published totals.
    """
    ens = gridded.load_gridded_estimates()
    weights = regions.region_weights(ens["lat"].values, ens["lon"].values)
    return ens, weights, counted_published_totals()
