"""The comparison: every number of the report, computed in order and returned typed.

:func:`compute_comparison` runs the analyses (:mod:`~globalrs.app.compare.totals`,
:mod:`~globalrs.app.compare.regional`, :mod:`~globalrs.app.compare.seasonal` and, for an Rh map,
the ilamb3 scores) and returns a :class:`~globalrs.app.compare.results.ComparisonResult`;
nothing here draws or writes (:mod:`~globalrs.app.compare.figures`,
:mod:`~globalrs.app.compare.report`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import pandas as pd
import xarray as xr

from globalrs.app.compare.footprint import map_cells
from globalrs.app.compare.regional import regional_comparison, regional_note
from globalrs.app.compare.results import ComparisonResult, Placement, ScoreSummary
from globalrs.app.compare.seasonal import seasonal_comparison
from globalrs.app.compare.totals import global_totals, place_total
from globalrs.process_models import benchmark


def summarize_scores(scores: pd.DataFrame) -> ScoreSummary:
    """Return the headline values of :func:`globalrs.process_models.benchmark.score_rh_map`'s table.

    Parameters
    ----------
    scores
        The score table (``attrs["reader"]`` names the reader's row, ``attrs["period"]`` the
        observations' period).

    Returns
    -------
    ScoreSummary
        The reader's ilamb3 overall, bias and spatial-distribution scores, its rank among the
        reader's map and the models (1 = best) and the number of models.
    """
    row = scores.loc[scores.attrs["reader"]]
    return ScoreSummary(
        table=scores,
        overall=float(row["Overall Score [1]"]),
        bias=float(row["Bias Score [1]"]),
        spatial_distribution=float(row["Spatial Distribution Score [1]"]),
        rank=int(row["rank"]),
        n_models=int(len(scores) - 1),
        reference=f"data-driven Rh benchmark ({scores.attrs['period']}), ilamb3",
    )


def input_notes(harmonized: xr.Dataset, kind: str, partial: bool, placement: Placement) -> list[str]:
    """Return the report's notes on the input: partial map, Rh ratio, time axis, reprojection.

    Parameters
    ----------
    harmonized
        The harmonized map (its ``time_averaging`` and ``reprojected_from`` attributes).
    kind
        ``"rs"`` or ``"rh"``.
    partial
        Whether the map is partial.
    placement
        The placement (the Rh/Rs ratio).

    Returns
    -------
    list of str
        The sentences, in the report's order.
    """
    notes = []
    if partial:
        notes.append("Partial map: totals are of the covered area only; members are totalled over the same footprint.")
    if kind == "rh":
        notes.append(
            f"Rh map: the members are soil respiration (Rs) maps, so the comparison is a ratio: this "
            f"Rh total is {placement.rh_rs_ratio_min:.2f}-{placement.rh_rs_ratio_max:.2f} of the members' Rs totals. "
            "The published totals of the history figure are Rs totals and are not drawn."
        )
    if harmonized.attrs.get("time_averaging"):
        notes.append(f"Time axis: {harmonized.attrs['time_averaging']}.")
    if harmonized.attrs.get("reprojected_from"):
        notes.append(
            f"The GeoTIFF was reprojected from {harmonized.attrs['reprojected_from']} to latitude-longitude "
            "(mean of the pixels in each cell) before the conservative regridding."
        )
    if partial and kind == "rs":
        notes.append("The history of published GLOBAL totals is not drawn for a partial map.")
    return notes


def later_notes(kind: str, partial: bool, monthly: bool) -> list[str]:
    """Return the report's notes on what was not computed (Rh regional CV, seasonal cycle, partial scores).

    Parameters
    ----------
    kind
        ``"rs"`` or ``"rh"``.
    partial
        Whether the map is partial.
    monthly
        Whether the map resolves months.

    Returns
    -------
    list of str
        The sentences, in the report's order.
    """
    notes = []
    if kind == "rh":
        notes.append(
            "Regional CV with and without the map is computed for Rs maps only (the "
            "members are Rs); the regional table gives the ratio of the map's Rh to the "
            "members' median Rs instead of a position."
        )
    if not monthly:
        notes.append("The map has no months (an annual map): no seasonal cycle.")
    if kind == "rh" and partial:
        notes.append("Partial Rh map: ilamb3 scores it on the cells it covers only.")
    return notes


def sentence(text: str) -> str:
    """Return ``text`` as a sentence: capital first letter and a final stop.

    Parameters
    ----------
    text
        A clause (lower-case start, no final stop).

    Returns
    -------
    str
        The sentence.
    """
    return text[0].upper() + text[1:] + "."


def compute_comparison(
    harmonized: xr.Dataset,
    ens: xr.Dataset,
    weights: xr.DataArray,
    published_totals: pd.DataFrame,
    name: str,
    kind: str,
    partial: bool,
    load_rh_benchmark: Callable[[], benchmark.RhBenchmark] | None = None,
    step: Callable[[str], None] | None = None,
) -> ComparisonResult:
    """Compare a harmonized map with the book's ensemble, regions, published totals and (Rh) models.

    Parameters
    ----------
    harmonized
        The map on the book's grid (:func:`globalrs.app.compare.inputs.harmonize_input`).
    ens
        The ensemble, on the same grid.
    weights
        ``(region, lat, lon)`` region weights.
    published_totals
        The counted published totals.
    name
        The map's label.
    kind
        ``"rs"`` or ``"rh"``.
    partial
        Whether the map covers part of the globe only.
    load_rh_benchmark
        For ``kind="rh"``: returns the benchmark the map is scored against
        (:func:`globalrs.process_models.benchmark.load_rh_benchmark` when omitted).
    step
        Called with one line per step (progress); silent when None.

    Returns
    -------
    ComparisonResult
        Every number of the report, typed.
    """
    step = step or (lambda _msg: None)
    step("global totals")
    totals = global_totals(harmonized, ens, name, partial)
    placement = place_total(totals, kind, partial, published_totals)
    created_utc = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    notes = input_notes(harmonized, kind, partial, placement)
    step("regional totals on the 14 regions")
    regional = regional_comparison(harmonized, ens, weights, kind, name)
    notes.append(regional_note(regional.table))
    result = ComparisonResult(
        name=name,
        kind=kind,
        partial=partial,
        map_g_m2_yr=harmonized["rs_annual"],
        cells=map_cells(harmonized, ens),
        ensemble_choice=ens.attrs.get("ensemble_choice", "given"),
        n_members=int(ens.sizes["member"]),
        created_utc=created_utc,
        totals=totals,
        placement=placement,
        regional=regional,
        published_totals=published_totals if (kind == "rs" and not partial) else None,
        notes=notes,
        warnings=[] if placement.sanity_warning is None else [sentence(placement.sanity_warning)],
    )
    monthly = "rs_monthly" in harmonized
    if monthly:
        step("seasonal cycle")
        result.seasonal = seasonal_comparison(harmonized, ens, kind, partial, name)
    if kind == "rh":
        step("ilamb3 scores against the data-driven Rh benchmark, beside the models")
        bench = load_rh_benchmark() if load_rh_benchmark is not None else benchmark.load_rh_benchmark(log=step)
        result.scores = summarize_scores(benchmark.score_rh_map(harmonized["rs_annual"], name, bench))
    result.notes.extend(later_notes(kind, partial, monthly))
    return result
