"""The comparison's typed results: what :func:`~globalrs.app.compare.compute.compute_comparison` returns.

Small records, one per analysis (ilamb3-like), with units in the field names; the figures and
the report are drawn from them. :meth:`ComparisonResult.summary_values` gives the report's summary
table (summary.csv) under its historical names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import xarray as xr

#: how the report names a map kind
KIND_LABELS = {"rs": "Rs", "rh": "Rh"}


@dataclass(frozen=True)
class SeasonalRange:
    """The paper's statement on the global seasonal cycle of Rs (Supplementary Fig. 5)."""

    peak_months: tuple[int, ...]
    peak_pg_c_month: tuple[float, float]
    min_months: tuple[int, ...]
    min_pg_c_month: tuple[float, float]
    amplitude_pg_c_month: tuple[float, float]
    sentence: str
    source: str


@dataclass
class GlobalTotals:
    """The map's totals and the members', on the cells the comparison uses.

    Attributes
    ----------
    table
        :func:`~globalrs.app.compare.totals.global_totals_table` (one row per estimate and set of cells).
    total_pg_c_yr, land_area_mkm2
        The map's total and the land it covers (own land; for a partial map the cells it shares
        with the ensemble's land mask).
    total_common_pg_c_yr
        The map's total on the cells it shares with the ensemble's land mask.
    total_own_cells_pg_c_yr, own_cells_area_mkm2
        The map's total over its own cell areas (no land fraction) and that area.
    ensemble_land_area_mkm2
        Land area of the ensemble's land mask.
    mask_cells_without_map
        Land cells of the ensemble where the map has no value.
    land_coverage_share
        Share of the ensemble's land where the map has a value (0-1).
    members_pg_c_yr
        The members' totals on the same cells as ``total_pg_c_yr``.
    """

    table: pd.DataFrame
    total_pg_c_yr: float
    land_area_mkm2: float
    total_common_pg_c_yr: float
    total_own_cells_pg_c_yr: float
    own_cells_area_mkm2: float
    ensemble_land_area_mkm2: float
    mask_cells_without_map: int
    land_coverage_share: float
    members_pg_c_yr: pd.Series

    @property
    def members_min_pg_c_yr(self) -> float:
        """The smallest member total (Pg C yr-1)."""
        return float(self.members_pg_c_yr.min())

    @property
    def members_max_pg_c_yr(self) -> float:
        """The largest member total (Pg C yr-1)."""
        return float(self.members_pg_c_yr.max())


@dataclass
class Placement:
    """Where the map's total lies among the members' and the published totals.

    Attributes
    ----------
    position_members
        ``below``, ``within`` or ``above`` the members' range (Rs maps; None for Rh).
    n_published, published_min_pg_c_yr, published_max_pg_c_yr, published_share_below
        The counted published totals and the share below the map's total (global Rs maps only).
    rh_rs_ratio_min, rh_rs_ratio_max
        The map's Rh total over the members' Rs totals (Rh maps only).
    sanity_warning
        The sentence of :func:`~globalrs.app.compare.totals.total_sanity` when the total lies far outside every reference.
    """

    position_members: str | None = None
    n_published: int | None = None
    published_min_pg_c_yr: float | None = None
    published_max_pg_c_yr: float | None = None
    published_share_below: float | None = None
    rh_rs_ratio_min: float | None = None
    rh_rs_ratio_max: float | None = None
    sanity_warning: str | None = None

    @property
    def total_far_outside(self) -> bool:
        """True when the total is flagged by :func:`~globalrs.app.compare.totals.total_sanity`."""
        return self.sanity_warning is not None


@dataclass
class RegionalComparison:
    """The map on the 14 regions beside the members.

    Attributes
    ----------
    table
        :func:`~globalrs.app.compare.regional.regional_table` (for an Rh map with the ratio to the members' median Rs).
    map_totals_pg_c_yr, member_totals_pg_c_yr
        The map's and the members' regional totals (members on the map's footprint).
    cv
        :func:`~globalrs.app.compare.regional.regional_cv_table` (Rs maps; None for Rh).
    """

    table: pd.DataFrame
    map_totals_pg_c_yr: xr.DataArray
    member_totals_pg_c_yr: xr.DataArray
    cv: pd.DataFrame | None

    @property
    def complete(self) -> list[str]:
        """The regions the map covers enough to be compared."""
        return list(self.table.index[self.table["status"] == "complete"])

    def regions_above_25pct(self, with_map: bool) -> str | None:
        """The regions whose CV exceeds the paper's 25 % line (comma-separated; None without CV)."""
        if self.cv is None or self.cv.empty:
            return None
        column = "above_25pct_with" if with_map else "above_25pct_without"
        return ", ".join(self.cv.index[self.cv[column].astype(bool)])


@dataclass
class SeasonalComparison:
    """The global monthly cycle of the map and of the monthly members.

    Attributes
    ----------
    cycle_pg_c_month
        :func:`~globalrs.app.compare.seasonal.seasonal_tables`' cycle (month 1..12, one column per series).
    metrics
        Its cycle metrics, one row per series.
    paper_range
        The paper's range (global Rs maps only).
    vs_paper
        :func:`~globalrs.app.compare.seasonal.compare_with_paper_cycle` (with ``paper_range`` only).
    """

    cycle_pg_c_month: pd.DataFrame
    metrics: pd.DataFrame
    paper_range: SeasonalRange | None = None
    vs_paper: pd.DataFrame | None = None


@dataclass
class ScoreSummary:
    """The reader's ilamb3 scores against the data-driven Rh benchmark, beside the models.

    Attributes
    ----------
    table
        :func:`globalrs.process_models.benchmark.score_rh_map`'s table (the reader's row first).
    overall, bias, spatial_distribution
        The reader's scores (0-1).
    rank, n_models
        Its rank among the reader's map and the models (1 = best) and the number of models.
    reference
        What it was scored against.
    """

    table: pd.DataFrame
    overall: float
    bias: float
    spatial_distribution: float
    rank: int
    n_models: int
    reference: str


@dataclass
class ComparisonResult:
    """Everything :func:`~globalrs.app.compare.compute.compute_comparison` found, typed; figures and report are drawn from it.

    Attributes
    ----------
    name, kind, partial
        The map's label, ``"rs"`` or ``"rh"``, and whether it covers part of the globe only.
    map_g_m2_yr
        The harmonized annual map (g C m-2 yr-1) on the book's grid.
    cells
        The cells its totals use (a value and land).
    ensemble_choice, n_members
        The ensemble compared with and its size.
    created_utc
        When the comparison was made.
    totals, placement, regional, seasonal, scores
        The parts (``seasonal`` None for an annual map, ``scores`` None for an Rs map).
    published_totals
        The published totals drawn in the history figure (global Rs maps only).
    notes, warnings
        Sentences the report prints; warnings (doubtful results) come first and go to stderr.
    """

    name: str
    kind: str
    partial: bool
    map_g_m2_yr: xr.DataArray
    cells: xr.DataArray
    ensemble_choice: str
    n_members: int
    created_utc: str
    totals: GlobalTotals
    placement: Placement
    regional: RegionalComparison
    seasonal: SeasonalComparison | None = None
    scores: ScoreSummary | None = None
    published_totals: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary_values(self) -> dict[str, object]:
        """Return the headline values under the names of the report's summary table (summary.csv).

        Returns
        -------
        dict
            Name -> value, in the table's order; values a map does not have are left out.
        """
        t, p = self.totals, self.placement
        values: dict[str, object] = {
            "name": self.name,
            "kind": self.kind,
            "partial": self.partial,
            "total_pg_c_yr": t.total_pg_c_yr,
            "land_area_mkm2": t.land_area_mkm2,
            "total_common_pg_c_yr": t.total_common_pg_c_yr,
            "total_own_cells_pg_c_yr": t.total_own_cells_pg_c_yr,
            "own_cells_area_mkm2": t.own_cells_area_mkm2,
            "ensemble": self.ensemble_choice,
            "n_members": self.n_members,
            "ensemble_land_area_mkm2": t.ensemble_land_area_mkm2,
            "mask_cells_without_map": t.mask_cells_without_map,
            "land_coverage_share": t.land_coverage_share,
            "members_min": t.members_min_pg_c_yr,
            "members_max": t.members_max_pg_c_yr,
            "created_utc": self.created_utc,
            "position_members": p.position_members,
            "n_published": p.n_published,
            "published_min": p.published_min_pg_c_yr,
            "published_max": p.published_max_pg_c_yr,
            "published_share_below": p.published_share_below,
            "rh_rs_ratio_min": p.rh_rs_ratio_min,
            "rh_rs_ratio_max": p.rh_rs_ratio_max,
            "total_far_outside": p.total_far_outside,
            "n_regions_compared": len(self.regional.complete),
            "regions_above_25pct_without": self.regional.regions_above_25pct(with_map=False),
            "regions_above_25pct_with": self.regional.regions_above_25pct(with_map=True),
        }
        if self.scores is not None:
            values.update(score_summary_values(self.scores))
        return {k: v for k, v in values.items() if v is not None}

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the report's tables (each written as ``<name>.csv``), in the report's order.

        Returns
        -------
        dict
            Name -> DataFrame, ending with ``summary`` (:meth:`summary_values`).
        """
        out = {"global_totals": self.totals.table.set_index(["estimate", "cells"]), "regional_totals": self.regional.table}
        if self.regional.cv is not None:
            out["regional_cv"] = self.regional.cv
        if self.seasonal is not None:
            out["seasonal_cycle"] = self.seasonal.cycle_pg_c_month
            out["seasonal_metrics"] = self.seasonal.metrics
            if self.seasonal.vs_paper is not None:
                out["seasonal_vs_paper"] = self.seasonal.vs_paper
        if self.scores is not None:
            out["scores"] = self.scores.table
        out["summary"] = pd.Series(self.summary_values(), name="value").to_frame()
        return out


def score_summary_values(scores: ScoreSummary) -> dict[str, object]:
    """Return a score summary under the names of the report's summary table.

    Parameters
    ----------
    scores
        The reader's scores.

    Returns
    -------
    dict
        ``score_overall``, ``score_bias``, ``score_spatial_distribution``, ``score_rank``,
        ``score_n_models``, ``score_reference``.
    """
    return {
        "score_overall": scores.overall,
        "score_bias": scores.bias,
        "score_spatial_distribution": scores.spatial_distribution,
        "score_rank": scores.rank,
        "score_n_models": scores.n_models,
        "score_reference": scores.reference,
    }
