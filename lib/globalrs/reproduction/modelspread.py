"""Fig. 5: the regional inter-model spread of model rh against the data-driven spread.

Regional totals of each model's rh map on the 0.5-degree grid and their regional CV in percent
come from :mod:`globalrs.process_models.regional`; here: the change between two model
generations (:func:`cv_change_table`), the paper's three Fig. 5 claims judged by stated rules
(:func:`judge_fig5_claims`) and the labelled Fig. 5 plot (:func:`plot_regional_cv`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.gridding import regions
from globalrs.reproduction import paper
from globalrs.viz.plots import place_labels

#: The paper's three Fig. 5 claims (their text lives in :mod:`globalrs.reproduction.paper`).
FIG5_CLAIMS = {
    key: paper.get_claim(claim_id).quote
    for key, claim_id in (("twice", "cmip6.cv_ratio"), ("b2_c2", "cmip6.b2_c2_higher"), ("c5", "cmip6.c5_similar"))
}
#: "about twice": median regional CV of the models / median regional CV of the data within the
#: paper claim's tolerance (2 +- 0.5: the ratios that round to 2)
TWICE_RANGE = (
    paper.paper_value("cmip6.cv_ratio") - paper.get_claim("cmip6.cv_ratio").tolerance,
    paper.paper_value("cmip6.cv_ratio") + paper.get_claim("cmip6.cv_ratio").tolerance,
)
#: "same magnitude": the C5 CV ratio (models / data) inside this range
SAME_MAGNITUDE_RANGE = (2.0 / 3.0, 1.5)


def cv_change_table(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Regional CV of two model generations side by side (e.g. CMIP5 -> CMIP6) and the change.

    Returns
    -------
    pandas.DataFrame
        Indexed by region: ``cv_before_percent``, ``cv_after_percent``, ``change_points``
        (after - before, percentage points), ``flux_before_pg``, ``flux_after_pg``.
    """
    if list(before.index) != list(after.index):
        raise ValueError("the two tables do not cover the same regions in the same order")
    return pd.DataFrame(
        {
            "cv_before_percent": before["cv_percent"],
            "cv_after_percent": after["cv_percent"],
            "change_points": after["cv_percent"] - before["cv_percent"],
            "flux_before_pg": before["mean_pg"],
            "flux_after_pg": after["mean_pg"],
        }
    )


def paper_analogues(region_set: str = regions.PAPER_SET) -> dict[str, str]:
    """The region of a set standing in for each of the paper's B2, C2 and C5 (its table's
    ``paper_analogue`` column; the paper's own labels for the paper's set).

    Raises
    ------
    ValueError
        If the table names no analogue, or not exactly one, for one of the three.
    """
    if region_set == regions.PAPER_SET:
        return {r: r for r in paper.HIGH_CV_REGIONS}
    table = regions.load_regions(region_set)
    if "paper_analogue" not in table.columns:
        raise ValueError(f"region set {region_set!r} has no paper_analogue column")
    out = {}
    for label in paper.HIGH_CV_REGIONS:
        hits = list(table.index[table["paper_analogue"].astype(str) == label])
        if len(hits) != 1:
            raise ValueError(f"region set {region_set!r}: {len(hits)} analogues of {label} ({hits}); need exactly one")
        out[label] = hits[0]
    return out


def judge_fig5_claims(models: pd.DataFrame, data: pd.DataFrame, analogues: dict[str, str] | None = None) -> pd.DataFrame:
    """Judge the paper's three Fig. 5 claims from two regional CV tables.

    Rules (stated so that a reader can disagree with them):

    * "twice": the ratio of the median regional CVs, median CV(models) / median CV(data), lies in
      :data:`TWICE_RANGE` (the ratios that round to 2); above 1 but outside it is "models higher,
      but not about twice"; at most 1 is "not supported";
    * "B2 and C2 higher for CMIP6": CV(models) > CV(data) in both B2 and C2;
    * "C5 same magnitude": CV(models) / CV(data) in C5 lies in :data:`SAME_MAGNITUDE_RANGE`.

    Parameters
    ----------
    models, data
        :func:`globalrs.process_models.regional.regional_cv_percent` tables (index = region codes, column ``cv_percent``).
    analogues
        On another region set, the region judged in place of each of B2, C2 and C5
        (:func:`paper_analogues`); default the paper's own labels.

    Returns
    -------
    pandas.DataFrame
        Indexed by claim key: ``claim`` (the paper's words), ``rule``, ``computed`` (the numbers
        behind the verdict), ``verdict``.
    """
    names = analogues or {r: r for r in paper.HIGH_CV_REGIONS}

    def tag(label: str) -> str:
        """The region judged for a paper label, with the label when it differs."""
        return label if names[label] == label else f"{names[label]} (for {label})"

    ratio = models["cv_percent"] / data.loc[models.index, "cv_percent"]
    median_ratio = float(models["cv_percent"].median() / data["cv_percent"].median())
    lo, hi = TWICE_RANGE
    if lo <= median_ratio <= hi:
        twice = "supported"
    elif median_ratio > 1:
        twice = "models higher, but not about twice"
    else:
        twice = "not supported"
    b2c2 = {tag(r): (float(models.loc[names[r], "cv_percent"]), float(data.loc[names[r], "cv_percent"])) for r in ("B2", "C2")}
    n_higher = sum(m > d for m, d in b2c2.values())
    b2c2_verdict = {2: "supported", 1: "partly supported (one of the two)", 0: "not supported"}[n_higher]
    c5 = names["C5"]
    c5_ratio = float(ratio.loc[c5])
    slo, shi = SAME_MAGNITUDE_RANGE
    c5_verdict = (
        "supported"
        if slo <= c5_ratio <= shi
        else ("not supported (models higher)" if c5_ratio > shi else "not supported (models lower)")
    )
    rows = {
        "twice": (
            f"median regional CV of the models / that of the data in [{lo:g}, {hi:g}]",
            f"ratio {median_ratio:.2f} (median regional CV: models {models['cv_percent'].median():.1f} %, "
            f"data {data['cv_percent'].median():.1f} %; median of the {len(ratio)} regional ratios "
            f"{float(ratio.median()):.2f})",
            twice,
        ),
        "b2_c2": (
            f"CV models > CV data in both {tag('B2')} and {tag('C2')}",
            "; ".join(f"{r}: {m:.1f} % vs {d:.1f} %" for r, (m, d) in b2c2.items()),
            b2c2_verdict,
        ),
        "c5": (
            f"{tag('C5')} CV ratio models/data in [{slo:.2f}, {shi:g}]",
            f"{tag('C5')}: {models.loc[c5, 'cv_percent']:.1f} % vs {data.loc[c5, 'cv_percent']:.1f} % (ratio {c5_ratio:.2f})",
            c5_verdict,
        ),
    }
    out = pd.DataFrame.from_dict(rows, orient="index", columns=["rule", "computed", "verdict"])
    out.insert(0, "claim", [FIG5_CLAIMS[k] for k in out.index])
    out.attrs["median_ratio"] = median_ratio
    out.attrs["c5_ratio"] = c5_ratio
    return out


def plot_regional_cv(
    tables: dict[str, pd.DataFrame],
    ax=None,
    highlight: tuple[str, ...] = paper.HIGH_CV_REGIONS,
    markers: tuple[str, ...] = ("o", "s", "^", "D"),
    colors: tuple[str, ...] = ("0.25", "tab:red", "tab:blue", "tab:green"),
):
    """Fig. 5 layout: regional CV (%) against regional flux (Pg C yr-1), every point labelled.

    Labels are placed by :func:`globalrs.viz.plots.place_labels` so that none overlap (B2 and C2, B1 and B3 sit close
    together in the paper's figure).

    Parameters
    ----------
    tables
        Label -> :func:`globalrs.process_models.regional.regional_cv_percent` table (``mean_pg``, ``cv_percent``).
    """
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 5.5))
    for i, (label, table) in enumerate(tables.items()):
        missing = {"mean_pg", "cv_percent"} - set(table.columns)
        if missing:
            raise ValueError(f"{label}: columns {sorted(missing)} missing")
        ax.scatter(
            table["mean_pg"],
            table["cv_percent"],
            marker=markers[i % len(markers)],
            s=34,
            facecolor=colors[i % len(colors)] if i == 0 else "none",
            edgecolor=colors[i % len(colors)],
            label=label,
            zorder=3,
        )
    ax.set_xscale("log")
    ax.set_xlabel("regional flux (Pg C yr$^{-1}$, log scale)")
    ax.set_ylabel("inter-model CV (%)")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=1)
    ax.figure.tight_layout()  # final layout BEFORE placing labels (offsets are in points)
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    # every table's markers are obstacles (3 px half-side squares), and so are the labels placed before
    all_x = np.concatenate([table["mean_pg"].to_numpy(float) for table in tables.values()])
    all_y = np.concatenate([table["cv_percent"].to_numpy(float) for table in tables.values()])
    marker_radius_pt = 3.0 * 72.0 / ax.figure.dpi
    texts: list = []
    for i, table in enumerate(tables.values()):
        texts += place_labels(
            ax,
            table["mean_pg"].to_numpy(),
            table["cv_percent"].to_numpy(),
            list(table.index),
            color=colors[i % len(colors)],
            avoid=[Text.get_window_extent(t, renderer) for t in texts],
            marker_points=(all_x, all_y),
            marker_radius_pt=marker_radius_pt,
            fontweights=["bold" if region in highlight else "normal" for region in table.index],
        )
    return ax


#: The columns of a regional CV table shown in the chapter's Fig. 5 tables.
FIG5_COLUMNS = ["mean_pg", "cv_percent", "cv_low_percent", "cv_high_percent"]


def outside_mask_totals(all_land: xr.DataArray, on_mask: xr.DataArray) -> tuple[pd.Series, float]:
    """The model flux that falls outside the data-driven land mask: per region, and its share of the total.

    Parameters
    ----------
    all_land
        ``(model, region)`` regional totals over every cell the models cover, Pg C yr-1.
    on_mask
        The same restricted to the data-driven land mask.

    Returns
    -------
    outside, outside_pct
        Per region, the model mean of the difference (Pg C yr-1); and its sum as a percentage of
        the model-mean total over all land.
    """
    outside = (all_land - on_mask).mean("model").to_series()
    return outside, 100 * float(outside.sum() / all_land.mean("model").sum())


def fig5_table(tables: dict[str, pd.DataFrame], outside_mask_pg: pd.Series | None = None) -> pd.DataFrame:
    """Regional flux and CV of several ensembles side by side (:data:`FIG5_COLUMNS` of each).

    Parameters
    ----------
    tables
        Label -> :func:`globalrs.process_models.regional.regional_cv_percent` table.
    outside_mask_pg
        Optional per-region model flux outside the data-driven land mask (:func:`outside_mask_totals`).

    Returns
    -------
    pandas.DataFrame
        Regions x (label, column).
    """
    table = pd.concat({label: t[FIG5_COLUMNS] for label, t in tables.items()}, axis=1)
    if outside_mask_pg is not None:
        table[("CMIP6 rh outside the data-driven land mask", "mean_pg")] = outside_mask_pg
    return table


def aoa_note(aoa_table: pd.DataFrame, regions_checked: tuple[str, str] = ("B2", "C2")) -> str:
    """What the members' area of applicability says about the regions of the "higher for CMIP6" claim.

    Parameters
    ----------
    aoa_table
        :func:`globalrs.estimates.applicability.regional_aoa_table` of the data-driven members.
    regions_checked
        The two regions of the claim.

    Returns
    -------
    str
        One paragraph: the share of each region's land inside every member's AOA, the members' CV
        there, and whether the claim compares the models with a spread of extrapolations.
    """
    land = "land inside the common AOA (%)"
    cv = "CV across members, common AOA (%)"
    first, second = regions_checked
    shares = {label: float(aoa_table.loc[label, land]) for label in regions_checked}
    mostly_out = [label for label, share in shares.items() if share < 50]
    verdict = (
        f"In {' and '.join(mostly_out)} the data side's CV is mostly a spread of extrapolations, so 'higher for "
        "CMIP6' there compares the models with how differently the members extrapolate, not with a known "
        "uncertainty of the flux."
        if mostly_out
        else "Both regions lie mostly inside the members' areas of applicability."
    )
    return (
        f"On the data side, {shares[first]:.0f} % of {first}'s land and {shares[second]:.0f} % of {second}'s lie inside every "
        "member's area of applicability (the standardized ensemble chapter); on that land the members' CV is "
        f"{aoa_table.loc[first, cv]:.0f} % in {first} and {aoa_table.loc[second, cv]:.0f} % in {second}. " + verdict
    )
