"""Shared figure helpers. Maps draw coastlines from the registered Natural Earth GeoJSON,
so no figure ever reaches for the network (cartopy's own Natural Earth download is never used).
"""

from __future__ import annotations

import json
from functools import lru_cache

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from globalrs.data import fetch

NATURAL_EARTH_LAND = {
    "110m": "natural-earth/ne_110m_land.json",
    "50m": "natural-earth/ne_50m_land.json",
}


@lru_cache(maxsize=4)
def read_land_geometries(resolution: str = "110m") -> tuple:
    """Return the Natural Earth land polygons at ``resolution`` ('110m' or '50m') as shapely
    geometries, read from the verified registry file."""
    from shapely.geometry import shape

    if resolution not in NATURAL_EARTH_LAND:
        raise ValueError(f"resolution must be one of {sorted(NATURAL_EARTH_LAND)}, got {resolution!r}")
    with fetch(NATURAL_EARTH_LAND[resolution]).open() as fh:
        collection = json.load(fh)
    return tuple(shape(feature["geometry"]) for feature in collection["features"])


def add_coastlines(ax, resolution: str = "110m", linewidth: float = 0.4, color: str = "0.2") -> None:
    """Draw land outlines on a cartopy GeoAxes from the registered Natural Earth file."""
    import cartopy.crs as ccrs
    from cartopy.feature import ShapelyFeature

    feature = ShapelyFeature(read_land_geometries(resolution), ccrs.PlateCarree())
    ax.add_feature(feature, facecolor="none", edgecolor=color, linewidth=linewidth)


def make_map_axes(nrows: int = 1, ncols: int = 1, figsize: tuple[float, float] | None = None):
    """Return ``(fig, axes)`` of Robinson-projection map axes with the global extent set."""
    import cartopy.crs as ccrs

    figsize = figsize or (4.2 * ncols, 2.4 * nrows + 0.6)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=figsize, subplot_kw={"projection": ccrs.Robinson()}, squeeze=False
    )
    for ax in axes.flat:
        ax.set_global()
    return fig, axes


def plot_map(
    field: xr.DataArray,
    ax,
    vmin: float | None = None,
    vmax: float | None = None,
    cmap: str = "viridis",
    title: str | None = None,
    coastlines: bool = True,
):
    """Draw a ``(lat, lon)`` field on a map axis (data in PlateCarree); return the mesh."""
    import cartopy.crs as ccrs

    mesh = ax.pcolormesh(
        field["lon"].values,
        field["lat"].values,
        np.ma.masked_invalid(field.values),
        transform=ccrs.PlateCarree(),
        vmin=vmin,
        vmax=vmax,
        cmap=cmap,
        shading="auto",
        rasterized=True,
    )
    if coastlines:
        add_coastlines(ax)
    if title:
        ax.set_title(title, fontsize=9)
    return mesh


#: One colour per method family (globalrs.literature.METHOD_FAMILIES), shared by the literature
#: chapters so a family keeps its colour from figure to figure (colour-blind-safe Okabe-Ito set).
METHOD_FAMILY_COLORS: dict[str, str] = {
    "Carbon balance": "#000000",
    "Area x Mean": "#E69F00",
    "Linear model": "#56B4E9",
    "Semi-empirical model": "#009E73",
    "Statistical model": "#F0E442",
    "Machine learning": "#D55E00",
    "mixed": "#CC79A7",
}


def color_method_family(family: str) -> str:
    """Return the hex colour of a method family (see ``METHOD_FAMILY_COLORS``); ValueError if
    the family is unknown."""
    if family not in METHOD_FAMILY_COLORS:
        raise ValueError(f"unknown method family {family!r}; known: {list(METHOD_FAMILY_COLORS)}")
    return METHOD_FAMILY_COLORS[family]
