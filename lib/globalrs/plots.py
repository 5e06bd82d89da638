"""Shared figure helpers. Maps draw coastlines from the registered Natural Earth GeoJSON,
so no figure ever reaches for the network (cartopy's own Natural Earth download is never used).
"""

from __future__ import annotations

import json
from functools import lru_cache

import cartopy.crs as ccrs
import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from cartopy.feature import ShapelyFeature
from shapely.geometry import shape

from globalrs.data import fetch

NATURAL_EARTH_LAND = {
    "110m": "natural-earth/ne_110m_land.json",
    "50m": "natural-earth/ne_50m_land.json",
}


@lru_cache(maxsize=4)
def read_land_geometries(resolution: str = "110m") -> tuple:
    """Return the Natural Earth land polygons at ``resolution`` ('110m' or '50m') as shapely
    geometries, read from the verified registry file."""
    if resolution not in NATURAL_EARTH_LAND:
        raise ValueError(f"resolution must be one of {sorted(NATURAL_EARTH_LAND)}, got {resolution!r}")
    with fetch(NATURAL_EARTH_LAND[resolution]).open() as fh:
        collection = json.load(fh)
    return tuple(shape(feature["geometry"]) for feature in collection["features"])


def add_coastlines(ax, resolution: str = "110m", linewidth: float = 0.4, color: str = "0.2") -> None:
    """Draw land outlines on a cartopy GeoAxes from the registered Natural Earth file."""
    feature = ShapelyFeature(read_land_geometries(resolution), ccrs.PlateCarree())
    ax.add_feature(feature, facecolor="none", edgecolor=color, linewidth=linewidth)


def make_map_axes(nrows: int = 1, ncols: int = 1, figsize: tuple[float, float] | None = None):
    """Return ``(fig, axes)`` of Robinson-projection map axes with the global extent set."""
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


# ----------------------------------------------------------------------------- temporal and seasonal
# chapters (globalrs.stats / globalrs.timeseries)

#: The years the paper names as common lows and highs of the Rs anomalies (Fig. 4a).
PAPER_LOW_YEARS: tuple[tuple[int, ...], ...] = ((1984, 1985), (1992,))
PAPER_HIGH_YEARS: tuple[tuple[int, ...], ...] = ((1998,), (2010,))


def mark_named_years(ax, lows=PAPER_LOW_YEARS, highs=PAPER_HIGH_YEARS, alpha: float = 0.15) -> None:
    """Shade the named low years blue and high years red on a time axis."""
    for years, color in [(y, "tab:blue") for y in lows] + [(y, "tab:red") for y in highs]:
        ax.axvspan(min(years) - 0.5, max(years) + 0.5, color=color, alpha=alpha, lw=0)


def plot_anomaly_panels(
    anomalies,
    groups: list[str],
    value: str = "anomaly_pg_c_yr",
    ncols: int = 2,
    xlim: tuple[int, int] | None = None,
    figsize: tuple[float, float] | None = None,
):
    """One panel per series group of annual anomalies, the paper's named years shaded.

    Parameters
    ----------
    anomalies
        Long table with ``series``, ``group``, ``year`` and ``value`` (Pg C yr-1).
    groups
        Group names, one panel each, in order.

    Returns
    -------
    matplotlib.figure.Figure
    """
    nrows = int(np.ceil(len(groups) / ncols))
    fig, axes = plt.subplots(nrows, ncols, sharex=True, figsize=figsize or (5.2 * ncols, 2.9 * nrows),
                             squeeze=False, constrained_layout=True)
    for ax, group in zip(axes.ravel(), groups):
        sub = anomalies[anomalies["group"] == group]
        if sub.empty:
            raise ValueError(f"no series in group {group!r}")
        mark_named_years(ax)
        for name, s in sub.groupby("series", sort=False):
            ax.plot(s["year"], s[value], lw=1.1, label=str(name))
        ax.axhline(0, color="0.4", lw=0.6)
        ax.set_title(group, fontsize=9)
        ax.set_ylabel("anomaly (Pg C yr$^{-1}$)", fontsize=8)
        ax.legend(fontsize=6, ncol=2, frameon=False, loc="upper left")
        if xlim:
            ax.set_xlim(*xlim)
    for ax in axes.ravel()[len(groups):]:
        ax.set_visible(False)
    return fig


def plot_anomaly_with_temperature(
    anomalies,
    temperature,
    value: str = "anomaly_pg_c_yr",
    temperature_label: str = "land temperature anomaly (deg C)",
    xlim: tuple[int, int] | None = None,
    figsize: tuple[float, float] = (8.0, 3.6),
):
    """Annual Rs anomalies of several series with a temperature anomaly on a second axis (Fig. 4b).

    Parameters
    ----------
    anomalies
        Long table with ``series``, ``year`` and ``value`` (Pg C yr-1).
    temperature
        pandas Series of temperature anomaly (deg C) indexed by year; drawn as a red dashed line.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=figsize, constrained_layout=True)
    mark_named_years(ax)
    for name, s in anomalies.groupby("series", sort=False):
        ax.plot(s["year"], s[value], lw=1.1, label=str(name))
    ax.axhline(0, color="0.4", lw=0.6)
    ax.set_ylabel("Rs anomaly (Pg C yr$^{-1}$)")
    twin = ax.twinx()
    t = temperature
    if xlim:
        t = t[(t.index >= xlim[0]) & (t.index <= xlim[1])]
        ax.set_xlim(*xlim)
    twin.plot(t.index, t.to_numpy(), color="red", ls="--", lw=1.4, label=temperature_label)
    twin.set_ylabel(temperature_label, color="red")
    twin.tick_params(axis="y", colors="red")
    handles, labels = ax.get_legend_handles_labels()
    h2, l2 = twin.get_legend_handles_labels()
    ax.legend(handles + h2, labels + l2, fontsize=7, ncol=3, frameon=False, loc="upper left")
    return fig


def plot_monthly_cycles(
    cycles,
    value: str,
    panels: list[str],
    panel_col: str = "region",
    series_col: str = "series",
    ylabel: str = "Pg C month$^{-1}$",
    figsize: tuple[float, float] | None = None,
    sharey: bool = True,
):
    """Monthly cycles (month 1..12) of several series, one panel per value of ``panel_col``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = plt.subplots(1, len(panels), figsize=figsize or (3.6 * len(panels), 3.2),
                             sharey=sharey, squeeze=False, constrained_layout=True)
    month_letters = list("JFMAMJJASOND")
    for ax, panel in zip(axes[0], panels):
        sub = cycles[cycles[panel_col] == panel]
        if sub.empty:
            raise ValueError(f"no rows for {panel_col}={panel!r}")
        for name, s in sub.groupby(series_col, sort=False):
            s = s.sort_values("month")
            ax.plot(s["month"], s[value], marker="o", ms=3, lw=1.2, label=str(name))
        ax.set_xticks(range(1, 13), month_letters)
        ax.set_title(str(panel), fontsize=9)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(ylabel)
    axes[0][-1].legend(fontsize=7, frameon=False)
    return fig


def plot_cv_against_flux(
    tables: dict,
    flux_col: str = "mean",
    cv_col: str = "cv_percent",
    ax=None,
    markers: tuple[str, ...] = ("o", "^", "s", "D"),
    colors: tuple[str, ...] = ("tab:blue", "tab:red", "tab:green", "tab:purple"),
    highlight: tuple[str, ...] = (),
):
    """Regional CV against regional flux for several ensembles (the layout of the paper's Fig. 5).

    Parameters
    ----------
    tables
        Label -> DataFrame indexed by region code with ``flux_col`` (Pg C yr-1) and ``cv_col`` (%).
    highlight
        Region codes whose labels are drawn in bold.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.4))
    for i, (label, table) in enumerate(tables.items()):
        missing = {flux_col, cv_col} - set(table.columns)
        if missing:
            raise ValueError(f"{label}: columns {sorted(missing)} missing")
        color = colors[i % len(colors)]
        ax.scatter(table[flux_col], table[cv_col], marker=markers[i % len(markers)], s=36,
                   facecolor="none" if i else color, edgecolor=color, label=label, zorder=3)
        for region, row in table.iterrows():
            ax.annotate(str(region), (row[flux_col], row[cv_col]), xytext=(3, 2), textcoords="offset points",
                        fontsize=7, color=color, fontweight="bold" if region in highlight else "normal")
    ax.set_xlabel("regional flux (Pg C yr$^{-1}$)")
    ax.set_ylabel("inter-model CV (%)")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8)
    return ax


def plot_sensitivity_panels(
    series,
    temperature,
    fits,
    value: str = "value_pg_c_yr",
    ncols: int = 3,
    xlabel: str = "land temperature anomaly (deg C)",
):
    """Scatter of each annual series against the temperature anomaly with its OLS line (Supp. Fig. 4).

    Parameters
    ----------
    series
        Long table with ``series``, ``year`` and ``value`` (Pg C yr-1).
    temperature
        pandas Series of temperature anomaly (deg C) indexed by year.
    fits
        Table indexed by series name with ``slope``, ``intercept``, ``r2``, ``p``, ``first_year``,
        ``last_year`` (from :func:`globalrs.stats.sensitivity_table`); one panel per row.

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = list(fits.index)
    nrows = int(np.ceil(len(names) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 2.8 * nrows), squeeze=False,
                             constrained_layout=True)
    for ax, name in zip(axes.ravel(), names):
        fit = fits.loc[name]
        s = series[(series["series"] == name) & series["year"].between(fit["first_year"], fit["last_year"])]
        t = temperature.reindex(s["year"].to_numpy())
        ax.scatter(t.to_numpy(), s[value].to_numpy(), s=10)
        xs = np.array([np.nanmin(t.to_numpy()), np.nanmax(t.to_numpy())])
        ax.plot(xs, fit["intercept"] + fit["slope"] * xs, color="k", lw=1)
        ax.set_title(str(name), fontsize=8)
        ax.text(0.03, 0.97, f"{fit['slope']:.2f} Pg C yr$^{{-1}}$ $^\\circ$C$^{{-1}}$\nR$^2$ = {fit['r2']:.2f}, "
                f"p = {fit['p']:.1g}", transform=ax.transAxes, va="top", fontsize=7)
        ax.set_xlabel(xlabel, fontsize=7)
        ax.set_ylabel("Pg C yr$^{-1}$", fontsize=7)
    for ax in axes.ravel()[len(names):]:
        ax.set_visible(False)
    return fig
