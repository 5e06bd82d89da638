"""Shared figure helpers. Maps draw coastlines from the registered Natural Earth GeoJSON,
so no figure ever reaches for the network (cartopy's own Natural Earth download is never used).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache

import cartopy.crs as ccrs
import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from cartopy.feature import ShapelyFeature
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch
from shapely.geometry import shape

from globalrs.sources.data import fetch

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
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, subplot_kw={"projection": ccrs.Robinson()}, squeeze=False)
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
    undefined: xr.DataArray | None = None,
    undefined_label: str = "undefined",
    undefined_color: str = "0.75",
    crop_empty_south: bool = True,
):
    """Draw a ``(lat, lon)`` field on a map axis (data in PlateCarree); return the mesh.

    Parameters
    ----------
    undefined
        Optional boolean ``(lat, lon)`` field of cells where the statistic exists in principle but
        is undefined (e.g. a CV where the mean is not positive); drawn in ``undefined_color`` and
        named ``undefined_label`` in a small legend, so they are not read as low values.
    crop_empty_south
        When no cell south of 60 degrees S holds data (Antarctica excluded), the map stops at
        60 degrees S instead of drawing an empty outline of Antarctica.
    """
    if undefined is not None and bool(undefined.any()):
        ax.pcolormesh(
            undefined["lon"].values,
            undefined["lat"].values,
            np.ma.masked_where(~undefined.values.astype(bool), np.ones(undefined.shape)),
            transform=ccrs.PlateCarree(),
            cmap=ListedColormap([undefined_color]),
            shading="auto",
            rasterized=True,
        )
        ax.legend(handles=[Patch(color=undefined_color, label=undefined_label)], loc="lower left", fontsize=7, frameon=False)
    if crop_empty_south:
        has_data = np.isfinite(field.transpose("lat", "lon").values)
        if undefined is not None:
            has_data = has_data | undefined.transpose("lat", "lon").values.astype(bool)
        if not has_data[field["lat"].values < -60.0].any():
            ax.set_extent([-180, 180, -60, 90], crs=ccrs.PlateCarree())
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


def colorbar_extend(values, vmin: float | None, vmax: float | None) -> str:
    """The ``extend`` argument of a colour bar: "max", "min", "both" or "neither", depending on
    whether finite ``values`` lie above ``vmax`` or below ``vmin`` (the colours saturate there)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    above = vmax is not None and v.size > 0 and bool((v > vmax).any())
    below = vmin is not None and v.size > 0 and bool((v < vmin).any())
    return {(True, True): "both", (True, False): "max", (False, True): "min"}.get((above, below), "neither")


def set_symlog_count_axis(ax, max_count: float, axis: str = "x", linthresh: float = 10.0) -> None:
    """A symmetric-log axis for counts (0, small counts linear, large ones logarithmic) with ticks
    at 0, 1, 2, 5, 10, 20, 50, ... up to ``max_count``, labelled as plain numbers."""
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

    ticks = [0.0]
    decade = 1.0
    while decade <= max(max_count, 1.0):
        ticks += [m * decade for m in (1, 2, 5) if m * decade <= max(max_count, 1.0) * 1.0001]
        decade *= 10.0
    target = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("symlog", linthresh=linthresh)
    target.set_major_locator(FixedLocator(ticks))
    target.set_major_formatter(ScalarFormatter())
    target.set_minor_formatter(NullFormatter())
    (ax.set_xlim if axis == "x" else ax.set_ylim)(-0.5 if linthresh >= 1 else 0, max(max_count, 1.0) * 1.3)


#: One colour per method family (globalrs.sources.literature.METHOD_FAMILIES), shared by the literature
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
# chapters (globalrs.core.stats / globalrs.sources.timeseries)


def mark_named_years(ax, lows: Sequence[Sequence[int]], highs: Sequence[Sequence[int]], alpha: float = 0.15) -> None:
    """Shade the named low years blue and high years red on a time axis.

    Parameters
    ----------
    ax
        Matplotlib axes with years on x.
    lows, highs
        Named events, each a sequence of adjacent years (the paper's:
        :data:`globalrs.reproduction.paper.NAMED_LOW_YEARS`, :data:`globalrs.reproduction.paper.NAMED_HIGH_YEARS`).
    """
    for years, color in [(y, "tab:blue") for y in lows] + [(y, "tab:red") for y in highs]:
        ax.axvspan(min(years) - 0.5, max(years) + 0.5, color=color, alpha=alpha, lw=0)


def plot_anomaly_panels(
    anomalies,
    groups: list[str],
    value: str = "anomaly_pg_c_yr",
    ncols: int = 2,
    xlim: tuple[int, int] | None = None,
    figsize: tuple[float, float] | None = None,
    named_years: tuple[Sequence[Sequence[int]], Sequence[Sequence[int]]] | None = None,
):
    """One panel per series group of annual anomalies, named years shaded.

    Parameters
    ----------
    anomalies
        Long table with ``series``, ``group``, ``year`` and ``value`` (Pg C yr-1).
    groups
        Group names, one panel each, in order.
    named_years
        ``(lows, highs)`` to shade (:func:`mark_named_years`), e.g. the paper's; None: none.

    Returns
    -------
    matplotlib.figure.Figure
    """
    nrows = int(np.ceil(len(groups) / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, sharex=True, figsize=figsize or (5.2 * ncols, 2.9 * nrows), squeeze=False, constrained_layout=True
    )
    # strict=False: the grid may hold more axes than groups; the spare ones are hidden below
    for ax, group in zip(axes.ravel(), groups, strict=False):
        sub = anomalies[anomalies["group"] == group]
        if sub.empty:
            raise ValueError(f"no series in group {group!r}")
        if named_years is not None:
            mark_named_years(ax, *named_years)
        for name, s in sub.groupby("series", sort=False):
            ax.plot(s["year"], s[value], lw=1.1, label=str(name))
        ax.axhline(0, color="0.4", lw=0.6)
        ax.set_title(group, fontsize=9)
        ax.set_ylabel("anomaly (Pg C yr$^{-1}$)", fontsize=8)
        ax.legend(fontsize=6, ncol=2, frameon=False, loc="upper left")
        if xlim:
            ax.set_xlim(*xlim)
    shown = axes.ravel()[: len(groups)]
    for i, ax in enumerate(shown):
        # the x label (year) on the lowest visible panel of each column
        if i + ncols >= len(groups):
            ax.set_xlabel("year")
            ax.tick_params(labelbottom=True)
    for ax in axes.ravel()[len(groups) :]:
        ax.set_visible(False)
    return fig


def plot_anomaly_with_temperature(
    anomalies,
    temperature,
    value: str = "anomaly_pg_c_yr",
    temperature_label: str = "land temperature anomaly (deg C)",
    xlim: tuple[int, int] | None = None,
    figsize: tuple[float, float] = (8.0, 3.6),
    named_years: tuple[Sequence[Sequence[int]], Sequence[Sequence[int]]] | None = None,
):
    """Annual Rs anomalies of several series with a temperature anomaly on a second axis (Fig. 4b).

    Parameters
    ----------
    anomalies
        Long table with ``series``, ``year`` and ``value`` (Pg C yr-1).
    temperature
        pandas Series of temperature anomaly (deg C) indexed by year; drawn as a red dashed line.
    named_years
        ``(lows, highs)`` to shade (:func:`mark_named_years`), e.g. the paper's; None: none.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=figsize, constrained_layout=True)
    if named_years is not None:
        mark_named_years(ax, *named_years)
    for name, s in anomalies.groupby("series", sort=False):
        ax.plot(s["year"], s[value], lw=1.1, label=str(name))
    ax.axhline(0, color="0.4", lw=0.6)
    ax.set_xlabel("year")
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
    fig, axes = plt.subplots(
        1, len(panels), figsize=figsize or (3.6 * len(panels), 3.2), sharey=sharey, squeeze=False, constrained_layout=True
    )
    month_letters = list("JFMAMJJASOND")
    for ax, panel in zip(axes[0], panels, strict=True):
        sub = cycles[cycles[panel_col] == panel]
        if sub.empty:
            raise ValueError(f"no rows for {panel_col}={panel!r}")
        for name, s in sub.groupby(series_col, sort=False):
            s = s.sort_values("month")
            ax.plot(s["month"], s[value], marker="o", ms=3, lw=1.2, label=str(name))
        ax.set_xticks(range(1, 13), month_letters)
        ax.set_xlabel("month")
        ax.set_title(str(panel), fontsize=9)
        ax.grid(alpha=0.3)
        if not sharey or ax is axes[0][0]:  # every independent y axis carries its label and units
            ax.set_ylabel(ylabel)
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
        ax.scatter(
            table[flux_col],
            table[cv_col],
            marker=markers[i % len(markers)],
            s=36,
            facecolor="none" if i else color,
            edgecolor=color,
            label=label,
            zorder=3,
        )
    ax.set_xlabel("regional flux (Pg C yr$^{-1}$)")
    ax.set_ylabel("inter-model CV (%)")
    ax.grid(alpha=0.3)
    legend = ax.legend(frameon=False, fontsize=8)
    # labels placed after every point is drawn, so no label covers a point or another label
    all_x = np.concatenate([np.asarray(t[flux_col], float) for t in tables.values()])
    all_y = np.concatenate([np.asarray(t[cv_col], float) for t in tables.values()])
    ax.figure.canvas.draw()
    placed = [legend.get_window_extent(ax.figure.canvas.get_renderer())]
    from matplotlib.text import Text

    for i, table in enumerate(tables.values()):
        labels = place_labels(
            ax,
            table[flux_col],
            table[cv_col],
            [str(r) for r in table.index],
            fontsize=7,
            color=colors[i % len(colors)],
            avoid=placed,
            marker_points=(all_x, all_y),
            fontweights=["bold" if r in highlight else "normal" for r in table.index],
        )
        placed += [Text.get_window_extent(t) for t in labels]
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
        ``last_year`` (from :func:`globalrs.core.stats.sensitivity_table`); one panel per row.

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = list(fits.index)
    nrows = int(np.ceil(len(names) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 2.8 * nrows), squeeze=False, constrained_layout=True)
    # strict=False: the grid may hold more axes than series; the spare ones are hidden below
    for ax, name in zip(axes.ravel(), names, strict=False):
        fit = fits.loc[name]
        s = series[(series["series"] == name) & series["year"].between(fit["first_year"], fit["last_year"])]
        t = temperature.reindex(s["year"].to_numpy())
        ax.scatter(t.to_numpy(), s[value].to_numpy(), s=10)
        xs = np.array([np.nanmin(t.to_numpy()), np.nanmax(t.to_numpy())])
        ax.plot(xs, fit["intercept"] + fit["slope"] * xs, color="k", lw=1)
        ax.set_title(str(name), fontsize=8)
        ax.text(
            0.03,
            0.97,
            f"{fit['slope']:.2f} Pg C yr$^{{-1}}$ $^\\circ$C$^{{-1}}$\nR$^2$ = {fit['r2']:.2f}, p = {fit['p']:.1g}",
            transform=ax.transAxes,
            va="top",
            fontsize=7,
        )
        ax.set_xlabel(xlabel, fontsize=7)
        ax.set_ylabel("Pg C yr$^{-1}$", fontsize=7)
    for ax in axes.ravel()[len(names) :]:
        ax.set_visible(False)
    return fig


# ----------------------------------------------------------------------------- point labels

#: Candidate label offsets (points) tried in order by :func:`place_labels`: right, above, left,
#: below, the diagonals, then the same further out (with a leader line).
_LABEL_OFFSETS: list[tuple[float, float]] = [(5, 3), (0, 8), (-5, 3), (0, -11), (6, -9), (-6, -9), (6, 10), (-6, 10)]
_LABEL_OFFSETS += [(2.6 * dx, 2.6 * dy) for dx, dy in _LABEL_OFFSETS] + [(4 * dx, 4 * dy) for dx, dy in _LABEL_OFFSETS]


def place_labels(
    ax,
    xs,
    ys,
    texts,
    fontsize: float = 7,
    color: str = "k",
    avoid=None,
    marker_points=None,
    marker_radius_pt: float = 4.5,
    fontweights=None,
    **kwargs,
) -> list:
    """Label points without overlaps and inside the axes (greedy: first free candidate position).

    Each label tries the offsets of ``_LABEL_OFFSETS`` in turn and takes the first whose box
    overlaps no label placed before it (and no box of ``avoid``) and lies inside the axes; labels
    moved far from their point get a thin leader line. If no candidate is free, the least
    overlapping one inside the axes is used.

    Parameters
    ----------
    ax
        Matplotlib axes (limits must be final: set them before calling).
    xs, ys, texts
        Point coordinates (data units) and label texts.
    avoid
        Optional list of display-space ``Bbox`` objects to keep clear (e.g. a legend).
    marker_points
        Optional (xs, ys) of markers labels must not cover (default: the labelled points);
        each is a square of half-side ``marker_radius_pt`` points.
    fontweights
        Optional font weight of each label ("bold", "normal").

    Returns
    -------
    list
        The matplotlib ``Annotation`` objects, in input order.
    """
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    axes_box = ax.get_window_extent(renderer)
    placed = list(avoid or [])
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

    radius_px = marker_radius_pt * fig.dpi / 72.0
    mx, my = marker_points if marker_points is not None else (xs, ys)
    for px, py in ax.transData.transform(np.column_stack([np.asarray(mx, float), np.asarray(my, float)])):
        placed.append(Bbox.from_extents(px - radius_px, py - radius_px, px + radius_px, py + radius_px))
    out = []
    texts = list(texts)
    weights = list(fontweights) if fontweights is not None else ["normal"] * len(texts)
    for x, y, text, weight in zip(xs, ys, texts, weights, strict=True):
        best, best_score = None, None
        for dx, dy in _LABEL_OFFSETS:
            far = (dx, dy) != _LABEL_OFFSETS[0]
            ann = ax.annotate(
                str(text),
                (x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                fontsize=fontsize,
                color=color,
                ha="left" if dx > 0 else ("right" if dx < 0 else "center"),
                va="bottom" if dy >= 0 else "top",
                arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "0.5"} if far else None,
                fontweight=weight,
                **kwargs,
            )
            ann.update_positions(renderer)
            box = Text.get_window_extent(ann, renderer)  # the text alone, not its leader line
            inside = box.x0 >= axes_box.x0 and box.x1 <= axes_box.x1 and box.y0 >= axes_box.y0 and box.y1 <= axes_box.y1
            overlap = sum(box.overlaps(other) for other in placed)
            score = (not inside, overlap)
            if best_score is None or score < best_score:
                if best is not None:
                    best.remove()
                best, best_score = ann, score
            else:
                ann.remove()
            if score == (False, 0):
                break
        if best is None:  # not reached: _LABEL_OFFSETS is not empty
            raise RuntimeError("no label position was tried")
        placed.append(Text.get_window_extent(best, renderer))
        out.append(best)
    return out


def spread_within_year(years, width: float = 0.8):
    """Give x positions for points of the same year, spread evenly over ``year +- width/2`` (display only).

    Parameters
    ----------
    years
        pandas Series of integer years.

    Returns
    -------
    pandas.Series
        Float positions, same index.
    """
    rank = years.groupby(years).cumcount()
    size = years.groupby(years).transform("size")
    offset = (rank / (size - 1).clip(lower=1) - 0.5) * width
    return years.astype(float) + offset.where(size > 1, 0.0)
