"""The comparison's figures, drawn from a :class:`~globalrs.app.compare.results.ComparisonResult`.

Nothing here computes a number the report states: each figure draws what
:mod:`globalrs.app.compare.compute` found (as ilamb3's ``plots()`` draw what its analyses
tabulated). :func:`draw_figures` returns every figure of a result by its report key.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

from globalrs.app.compare.results import KIND_LABELS, ComparisonResult, SeasonalRange
from globalrs.reproduction import paper
from globalrs.sources import literature
from globalrs.viz import plots
from globalrs.viz.plots import color_method_family

#: the colour scale of the book's Rs maps (the standardized-ensemble chapter's member maps)
MAP_CMAP = "YlGnBu"
MAP_RANGE_G_M2_YR = (0.0, 2000.0)


def draw_figures(result: ComparisonResult) -> dict[str, plt.Figure]:
    """Draw every figure of a comparison.

    Parameters
    ----------
    result
        The comparison.

    Returns
    -------
    dict
        ``map``, ``totals``, ``regional`` and (monthly maps) ``seasonal`` -> Figure.
    """
    members_label = "members' range" if result.kind == "rs" else "Rs members' range"
    figs = {
        "map": plot_map_figure(result.map_g_m2_yr, result.name, result.kind, result.cells),
        "totals": plot_totals_figure(result.totals.table, result.published_totals, result.name, result.kind, result.partial),
        "regional": plot_regional_figure(
            result.regional.table, result.regional.member_totals_pg_c_yr, result.regional.cv, result.name, members_label
        ),
    }
    if result.seasonal is not None:
        figs["seasonal"] = plot_seasonal_figure(result.seasonal.cycle_pg_c_month, result.name, result.seasonal.paper_range)
    return figs


def plot_map_figure(map_g_m2_yr: xr.DataArray, name: str, kind: str, cells: xr.DataArray) -> plt.Figure:
    """Draw the map on the book's colour scale (land cells the totals use).

    Parameters
    ----------
    map_g_m2_yr
        The harmonized annual map.
    name
        The map's label.
    kind
        ``"rs"`` or ``"rh"``.
    cells
        The cells drawn.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig, axes = plots.make_map_axes(1, 1, figsize=(8.0, 4.6))
    mesh = plots.plot_map(
        map_g_m2_yr.where(cells),
        axes[0, 0],
        vmin=MAP_RANGE_G_M2_YR[0],
        vmax=MAP_RANGE_G_M2_YR[1],
        cmap=MAP_CMAP,
        title=f"{name} ({KIND_LABELS[kind]})",
    )
    fig.colorbar(
        mesh,
        ax=axes,
        orientation="horizontal",
        fraction=0.05,
        pad=0.05,
        shrink=0.7,
        extend="max",
        label=f"annual {KIND_LABELS[kind]} (g C m$^{{-2}}$ yr$^{{-1}}$)",
    )
    return fig


def _plot_history(ax: plt.Axes, published: pd.DataFrame, mine: float, label: str) -> None:
    """Draw the published totals by year with their cumulative mean and the map's total."""
    cum = literature.cumulative_mean(published)
    ax.step(
        cum["pub_year"],
        cum["cumulative_mean_pg_c_yr"],
        where="post",
        color="tab:blue",
        lw=1.5,
        label="cumulative mean of published totals",
    )
    for row in published.itertuples():
        color = color_method_family(row.method_family)
        ax.scatter(row.pub_year, row.estimate_pg_c_yr, s=40, color=color, edgecolor="0.2", zorder=3)
    ax.axhline(mine, color="crimson", ls="--", lw=1.2)
    x_new = int(published["pub_year"].max()) + 2
    ax.scatter(
        [x_new],
        [mine],
        marker="*",
        s=260,
        color="crimson",
        edgecolor="k",
        zorder=4,
        label=f"this map ({label} Pg C yr$^{{-1}}$)",
    )
    families = [f for f in literature.METHOD_FAMILIES if f in set(published["method_family"])]
    for f in families:
        ax.scatter([], [], color=color_method_family(f), edgecolor="0.2", label=f)
    ax.set_xlabel("year of publication")
    ax.set_ylabel("global soil respiration (Pg C yr$^{-1}$)")
    ax.set_title("published global totals (Fig. 1a style)", fontsize=9)
    ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3)


def plot_totals_figure(totals: pd.DataFrame, published: pd.DataFrame | None, name: str, kind: str, partial: bool) -> plt.Figure:
    """Draw the published totals by year (global Rs maps) and the members' totals, each with the map's.

    Parameters
    ----------
    totals
        :func:`globalrs.app.compare.totals.global_totals_table`.
    published
        The counted published totals; None leaves the history panel out.
    name
        The map's label.
    kind
        ``"rs"`` or ``"rh"``.
    partial
        A partial map and its members are compared on its footprint.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    show_history = published is not None
    fig, axes = plt.subplots(
        1,
        2 if show_history else 1,
        figsize=(11 if show_history else 5.5, 4.8),
        squeeze=False,
        constrained_layout=True,
        gridspec_kw={"width_ratios": [2.2, 1]} if show_history else None,
    )
    cells = "common" if partial else "own land"
    on_cells = totals[totals["cells"] == cells]
    mine = float(on_cells.loc[on_cells["estimate_kind"] == "this map", "total_pg_c_yr"].iloc[0])
    if show_history:
        _plot_history(axes[0, 0], published, mine, f"{name}: {mine:.1f}")
    ax = axes[0, -1]
    members = on_cells[on_cells["estimate_kind"] != "this map"]
    y = np.arange(len(members))
    ax.scatter(
        members["total_pg_c_yr"], y, color=[_family_color(f) for f in members["method_family"]], edgecolor="0.2", s=40, zorder=3
    )
    ax.set_yticks(y, members["estimate"])
    ax.axvline(mine, color="crimson", ls="--", lw=1.2, label=f"this map ({KIND_LABELS[kind]}): {mine:.1f}")
    what = "covered area" if partial else "global"
    ax.set_xlabel(f"{what} total (Pg C yr$^{{-1}}$)")
    ax.set_title("ensemble members (Rs)" + (", map's footprint" if partial else ""), fontsize=9)
    ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.14))
    ax.margins(x=0.12, y=0.08)
    ax.grid(alpha=0.3)
    return fig


def _family_color(family: str) -> str:
    return plots.METHOD_FAMILY_COLORS.get(family, "0.5")


def _plot_cv(ax: plt.Axes, cv: pd.DataFrame, table: pd.DataFrame, x: np.ndarray, name: str) -> None:
    """Draw the regional CV without and with the map, and the paper's 25 % line."""
    cvr = cv.reindex(table.index)
    ax.bar(x - 0.2, cvr["cv_without_pct"], width=0.4, color="0.6", label="members")
    ax.bar(x + 0.2, cvr["cv_with_pct"], width=0.4, color="crimson", label=f"members + {name}")
    ax.axhline(100 * paper.CV_THRESHOLD, color="k", ls=":", lw=1, label="the paper's 25 % line")
    ax.set_ylabel("regional CV (%)")
    ax.legend(fontsize=7, frameon=False)
    ax.grid(alpha=0.3, axis="y")


def plot_regional_figure(
    table: pd.DataFrame, member_totals: xr.DataArray, cv: pd.DataFrame | None, name: str, members_label: str = "members' range"
) -> plt.Figure:
    """Draw, per region, the members' totals (range and points) and the map's; below, the regional CV.

    Parameters
    ----------
    table
        :func:`globalrs.app.compare.regional.regional_table`'s table.
    member_totals
        The members' regional totals (Pg C yr-1).
    cv
        The regional CV without and with the map; None or empty leaves the lower panel out.
    name
        The map's label.
    members_label
        Legend label of the members' range.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    nrows = 2 if cv is not None and not cv.empty else 1
    fig, axes = plt.subplots(nrows, 1, figsize=(9, 3.3 * nrows), squeeze=False, constrained_layout=True, sharex=True)
    x = np.arange(len(table))
    ax = axes[0, 0]
    ax.vlines(x, table["members_min"], table["members_max"], color="0.6", lw=6, alpha=0.6, label=members_label)
    mt = member_totals.transpose("member", "region").to_pandas()[table.index]
    for _member, values in mt.iterrows():
        ax.scatter(x, values, s=10, color="0.3", zorder=3)
    done = table["status"] == "complete"
    ax.scatter(x[done], table.loc[done, "map_pg_c_yr"], marker="*", s=140, color="crimson", edgecolor="k", zorder=4, label=name)
    if (~done).any():
        ax.scatter(
            x[~done],
            table.loc[~done, "map_pg_c_yr"],
            marker="*",
            s=140,
            facecolor="none",
            edgecolor="crimson",
            zorder=4,
            label=f"{name} (region not fully covered)",
        )
    ax.set_ylabel("regional total (Pg C yr$^{-1}$)")
    ax.legend(fontsize=7, frameon=False)
    ax.grid(alpha=0.3)
    if nrows == 2:
        _plot_cv(axes[1, 0], cv, table, x, name)
    axes[-1, 0].set_xticks(x, table.index)
    return fig


def plot_seasonal_figure(cycle: pd.DataFrame, name: str, paper_range: SeasonalRange | None) -> plt.Figure:
    """Draw the global monthly totals of the map and the monthly members, with the paper's range (Rs).

    Parameters
    ----------
    cycle
        Month 1..12 by series (Pg C month-1).
    name
        The map's label (its column).
    paper_range
        The paper's range; None leaves it out.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig, ax = plt.subplots(figsize=(7, 3.8), constrained_layout=True)
    if paper_range is not None:
        ax.fill_between(
            [min(paper_range.peak_months) - 0.5, max(paper_range.peak_months) + 0.5],
            *paper_range.peak_pg_c_month,
            color="tab:red",
            alpha=0.15,
            lw=0,
            label="paper: peak range",
        )
        ax.fill_between(
            [min(paper_range.min_months) - 0.5, max(paper_range.min_months) + 0.5],
            *paper_range.min_pg_c_month,
            color="tab:blue",
            alpha=0.15,
            lw=0,
            label="paper: minimum range",
        )
    for column in cycle.columns:
        mine = column == name
        ax.plot(
            cycle.index,
            cycle[column],
            marker="o",
            ms=3 if not mine else 5,
            lw=1 if not mine else 2.4,
            color="crimson" if mine else None,
            label=column,
            zorder=3 if mine else 2,
        )
    ax.set_xticks(range(1, 13), list("JFMAMJJASOND"))
    ax.set_ylabel("Pg C month$^{-1}$")
    ax.legend(fontsize=7, frameon=False, ncol=2)
    ax.grid(alpha=0.3)
    return fig
