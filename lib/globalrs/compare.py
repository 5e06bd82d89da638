"""Bring your own estimate: place a new gridded Rs or Rh map among the book's estimates.

:func:`compare_map` takes any gridded file the harmonizer reads (NetCDF or GeoTIFF, any regular
grid, any supported units, annual or monthly; see :mod:`globalrs.harmonize`), puts it on the
book's 0.5-degree grid and writes to a directory a short HTML report with its figures and the
CSV tables behind them:

* the map on the book's colour scale;
* its global total with the land area it covers, placed on the history of published totals
  (Fig. 1a style) and among the members of the book's ensemble (the book-wide switch,
  :func:`globalrs.gridded.load_gridded_estimates`);
* its totals on the 14 regions beside the members' regional range, and the regional CV of the
  members without and with the new map;
* when the map resolves months, its global monthly cycle beside the members' and the paper's
  range (:func:`paper_seasonal_range`);
* for heterotrophic respiration (``kind="rh"``), its ilamb3 scores against the book's
  data-driven Rh benchmark beside the CMIP6, CMIP5, soil-carbon and CARDAMOM models' scores
  (:func:`globalrs.benchmark.score_rh_map`; the reference is the one of the chapter
  "Heterotrophic respiration").

Totals follow the book's convention (as for the published maps and the model maps): the map is
harmonized with ``fill="mean"`` (flux per covered area) and integrated over cell area x land
fraction on the cells where it has a value. The total over the map's own cell areas (no land
fraction, what the file itself integrates to) is reported beside it.

A map that does not cover the globe is refused, as the harmonizer refuses it, unless
``region_only=True`` (``--region-only``): then it is reported as PARTIAL, its total is the total
of the covered area only (never called global) and the members are totalled over the same
footprint. Coverage is judged from the data, not the grid: a map with values on less than
:data:`GLOBAL_LAND_COVERAGE` of the ensemble's land is refused (or PARTIAL) even on a global grid.
A region is compared when the map covers :data:`REGION_COVERAGE_COMPLETE` of its mostly-land
area (cells of land fraction >= :data:`MOSTLY_LAND_FRACTION`, what an ordinary land mask keeps),
and map and members are then totalled on the cells where the map has a value. A global total far
outside every published and member total (:func:`total_sanity`) is flagged in the report and on
stderr, not refused.

Command line (``python -m globalrs compare --help``)::

    python -m globalrs compare my_map.nc --units "g C m-2 yr-1" --out report/

Exit codes: 0 report written (warnings on stderr), 1 the map or ``--out`` cannot be used (the
message on stderr). ``--out`` is checked before the work and the report is written into a
temporary folder beside it, then moved into place.
"""

from __future__ import annotations

import argparse
import html
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

from globalrs import __version__, benchmark, gridded, harmonize, literature, paper, plots, regions, stats
from globalrs import units as gunits
from globalrs.config import MAP_KINDS
from globalrs.exceptions import CompareError
from globalrs.plots import color_method_family
from globalrs.units import G_PER_PG

KIND_LABELS = {"rs": "Rs", "rh": "Rh"}
REPORT_FILE = "report.html"
#: m2 per million km2 (land areas are reported in M km2)
M2_PER_MKM2 = 1e12
#: the colour scale of the book's Rs maps (the standardized-ensemble chapter's member maps)
MAP_CMAP = "YlGnBu"
MAP_RANGE_G_M2_YR = (0.0, 2000.0)
#: a cell is "mostly land" when its land fraction is at least this: the cells an ordinary land
#: mask of a map-maker (land fraction > 0.5, or any coarser land/sea mask) keeps
MOSTLY_LAND_FRACTION = 0.5
#: share of a region's mostly-land area (ensemble land mask, cell area x land fraction, cells of
#: land fraction >= MOSTLY_LAND_FRACTION) a map must cover for its regional total to be compared
#: and counted in the regional CV; coastal cells that are mostly sea do not count here, and the
#: comparison itself is made on the cells the map covers (members totalled there too)
REGION_COVERAGE_COMPLETE = 0.95
#: share of the ensemble's land (cell area x land fraction) a map must have values on to count as
#: global; below it the map is refused (or, with --region-only, reported as PARTIAL) whatever the
#: extent of its grid
GLOBAL_LAND_COVERAGE = 0.9
#: a global total is flagged (report and stderr, not refused) when it lies below the smallest
#: published or member total divided by this factor, or above the largest times this factor
TOTAL_SANITY_FACTOR = 2.0
#: for an Rh map the references are the members' Rs totals: flagged below the smallest divided
#: by this factor (Rh is half to two thirds of Rs), or above the largest times TOTAL_SANITY_FACTOR
RH_SANITY_LOW_FACTOR = 4.0
#: background of the reader's row in the report's score table
READER_ROW_COLOR = "#fff4c2"


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


def paper_seasonal_range() -> SeasonalRange:
    """The paper's range of the global monthly cycle, read from :mod:`globalrs.paper`."""
    claims = {
        name: paper.get_claim(f"seasonality.{name}")
        for name in ("peak_months", "peak_range", "minimum_month", "minimum_range", "amplitude_range")
    }
    month_number = {name: i + 1 for i, name in enumerate(stats.MONTH_NAMES)}
    return SeasonalRange(
        peak_months=tuple(month_number[m] for m in claims["peak_months"].value),
        peak_pg_c_month=tuple(float(v) for v in claims["peak_range"].value),
        min_months=tuple(month_number[m] for m in claims["minimum_month"].value),
        min_pg_c_month=tuple(float(v) for v in claims["minimum_range"].value),
        amplitude_pg_c_month=tuple(float(v) for v in claims["amplitude_range"].value),
        sentence=" ... ".join(c.quote for c in claims.values()),
        source=f"{paper.PAPER}, Results (globalrs.paper)",
    )


@dataclass
class CompareResult:
    """What :func:`compare_map` computed and wrote.

    Attributes
    ----------
    name, kind
        The map's label and ``"rs"`` or ``"rh"``.
    partial
        True for a map that does not cover the globe (``region_only``): totals are of the
        covered area only.
    report_path
        The HTML report.
    tables
        Name -> DataFrame; each is also written as ``<name>.csv`` beside the report.
    figures
        Name -> PNG path.
    summary
        Headline values (global total, land area, position among members ...).
    notes
        Sentences the report prints (what was skipped and why).
    warnings
        Sentences about doubtful results (e.g. a total far outside every published and member
        total); the report shows them first and the command line prints them on stderr.
    """

    name: str
    kind: str
    partial: bool
    out_dir: Path
    report_path: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Path] = field(default_factory=dict)
    summary: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# input: the harmonizer, and partial (regional) maps
# --------------------------------------------------------------------------------------------
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
    globalrs.harmonize.HarmonizeError
        If the longitude step does not divide 360 degrees.
    """
    lon = ((np.asarray(da["lon"].values, dtype=float) + 180.0) % 360.0) - 180.0
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
    full = lon[0] + step * np.arange(n_full)
    full = ((full + 180.0) % 360.0) - 180.0
    order = np.argsort(full)
    values = np.full(da.shape[:-1] + (n_full,), np.nan)
    values[..., index] = da.transpose(..., "lon").values
    out = xr.DataArray(
        values[..., order],
        dims=da.transpose(..., "lon").dims,
        coords={**{d: da[d] for d in da.dims if d != "lon" and d in da.coords}, "lon": full[order]},
        attrs=da.attrs,
        name=da.name,
    )
    return out


def harmonize_input(
    source: str | Path | xr.DataArray | xr.Dataset,
    variable: str | None = None,
    units: str | None = None,
    band_as: str | None = None,
    region_only: bool = False,
    on_implausible: str = "raise",
) -> tuple[xr.Dataset, bool]:
    """Put the map on the book's grid with :func:`globalrs.harmonize.harmonize_to_grid`.

    Parameters
    ----------
    source
        File path (NetCDF or GeoTIFF) or an in-memory array.
    variable, units, band_as
        Passed to the harmonizer (``units`` overrides the file's attribute).
    region_only
        Accept a map that covers only part of the globe (reported as partial).
    on_implausible
        ``"raise"`` or ``"clip"`` (see :func:`globalrs.harmonize.harmonize_to_grid`).

    Returns
    -------
    (harmonized, partial)
        The harmonizer's Dataset (``fill="mean"``) and whether the map is reported as partial
        (always with ``region_only``: the caller said the map is regional).

    Raises
    ------
    globalrs.harmonize.HarmonizeError
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


# --------------------------------------------------------------------------------------------
# totals
# --------------------------------------------------------------------------------------------
def land_area_m2(ens: xr.Dataset) -> xr.DataArray:
    """The book's integration area of each cell: cell area x land fraction (m2)."""
    return ens["cell_area_m2"] * ens["land_fraction"]


def map_cells(harmonized: xr.Dataset, ens: xr.Dataset) -> xr.DataArray:
    """Cells the map's totals use: the map has a value and the cell holds land."""
    return harmonized["rs_annual"].notnull() & (ens["land_fraction"] > 0)


def total_pg(flux_g_m2_yr: xr.DataArray, area: xr.DataArray, cells: xr.DataArray) -> xr.DataArray:
    """Sum of flux x area over ``cells`` in Pg C yr-1 (``(..., lat, lon)`` -> ``(...)``)."""
    return (flux_g_m2_yr.where(cells) * area).sum(("lat", "lon")) / G_PER_PG


def global_totals_table(harmonized: xr.Dataset, ens: xr.Dataset, name: str) -> pd.DataFrame:
    """Totals of the map and of every member, on their own cells and on the common cells.

    Returns
    -------
    pandas.DataFrame
        One row per (estimate, cells): ``estimate``, ``estimate_kind`` (``this map`` or
        ``member``), ``method_family``, ``cells`` (``own land``,
        ``common`` = ensemble land mask and the map's cells, or ``map's own cell areas``),
        ``total_pg_c_yr``, ``land_area_mkm2``.
    """
    area = land_area_m2(ens)
    own = map_cells(harmonized, ens)
    mask = ens["land_mask"].astype(bool)
    common = mask & own
    rs = harmonized["rs_annual"]
    raw_cells = rs.notnull()
    raw_area = harmonized["valid_fraction"] * harmonized["cell_area_m2"]
    rows = [
        (name, "this map", "", "own land", float(total_pg(rs, area, own)), float(area.where(own).sum())),
        (name, "this map", "", "common", float(total_pg(rs, area, common)), float(area.where(common).sum())),
        (
            name,
            "this map",
            "",
            "map's own cell areas",
            float(total_pg(rs, raw_area, raw_cells)),
            float(raw_area.where(raw_cells).sum()),
        ),
    ]
    members = ens["rs_annual"]
    own_m = total_pg(members, area, mask).to_series()
    common_m = total_pg(members, area, common).to_series()
    family = members["method_family"].to_series() if "method_family" in members.coords else pd.Series("", index=own_m.index)
    mask_area = float(area.where(mask).sum())
    common_area = float(area.where(common).sum())
    for member in own_m.index:
        rows.append((str(member), "member", str(family[member]), "own land", float(own_m[member]), mask_area))
        rows.append((str(member), "member", str(family[member]), "common", float(common_m[member]), common_area))
    table = pd.DataFrame(rows, columns=["estimate", "estimate_kind", "method_family", "cells", "total_pg_c_yr", "land_area_m2"])
    table["land_area_mkm2"] = table.pop("land_area_m2") / M2_PER_MKM2
    return table


def position_among(value: float, others: Sequence[float]) -> str:
    """``"below"``, ``"within"`` or ``"above"`` the range of ``others``."""
    others = np.asarray(others, dtype=float)
    if value < others.min():
        return "below"
    if value > others.max():
        return "above"
    return "within"


def counted_published_totals() -> pd.DataFrame:
    """The published global Rs totals the book counts (:func:`globalrs.literature.screen_estimates`
    with the paper's stated maximum)."""
    kept, _ = literature.screen_estimates(literature.read_global_rs_estimates(), max_pg=paper.MAX_COUNTED_PG_C_YR)
    return kept


# --------------------------------------------------------------------------------------------
# regions
# --------------------------------------------------------------------------------------------
def regional_table(
    harmonized: xr.Dataset,
    ens: xr.Dataset,
    weights: xr.DataArray,
) -> tuple[pd.DataFrame, xr.DataArray, xr.DataArray]:
    """Regional totals of the map beside the members' range, with the map's coverage of each region.

    The members are totalled on the map's footprint (ensemble land mask and the map's cells), so
    that map and members cover the same land; their median on their own land mask is given beside.
    A region is compared ("complete") when the map covers at least
    :data:`REGION_COVERAGE_COMPLETE` of its mostly-land area (cells of land fraction >=
    :data:`MOSTLY_LAND_FRACTION`); ``coverage_share`` is the covered share of all its land.

    Returns
    -------
    (table, map_totals, member_totals)
        ``table`` indexed by region: ``name``, ``coverage_share`` (all land),
        ``coverage_mostly_land``, ``status`` (complete / partial / not covered), ``map_pg_c_yr``,
        ``members_min``, ``members_median``, ``members_max`` (on the map's footprint),
        ``members_median_own_land``, ``position``; the two DataArrays in Pg C yr-1 (members on
        the footprint).
    """
    area = land_area_m2(ens)
    mask = ens["land_mask"].astype(bool)
    own = map_cells(harmonized, ens)
    rs = harmonized["rs_annual"].where(own)
    map_totals = regions.regional_totals_pg(rs, weights, area_m2=area)
    members = ens["rs_annual"]
    member_totals = regions.regional_totals_pg(members.where(mask & own), weights, area_m2=area)
    own_land = regions.regional_totals_pg(members.where(mask), weights, area_m2=area).transpose("member", "region").to_pandas()
    share = region_coverage(harmonized, ens, weights)
    mostly = region_coverage(harmonized, ens, weights, mostly_land=True)
    complete = mostly >= REGION_COVERAGE_COMPLETE
    status = pd.Series(np.where(complete, "complete", np.where(share > 0, "partial", "not covered")), index=share.index)
    mt = member_totals.transpose("member", "region").to_pandas()
    table = pd.DataFrame(
        {
            "name": regions.load_regions()["name"].reindex(share.index),
            "coverage_share": share,
            "coverage_mostly_land": mostly,
            "status": status,
            "map_pg_c_yr": map_totals.to_series(),
            "members_min": mt.min(),
            "members_median": mt.median(),
            "members_max": mt.max(),
            "members_median_own_land": own_land.median(),
        }
    )
    table.index.name = "region"
    table["position"] = [
        position_among(row.map_pg_c_yr, mt[r]) if row.status == "complete" else "not compared" for r, row in table.iterrows()
    ]
    return table, map_totals, member_totals


def region_coverage(harmonized: xr.Dataset, ens: xr.Dataset, weights: xr.DataArray, mostly_land: bool = False) -> pd.Series:
    """Share of each region's land (cell area x land fraction on the ensemble's land mask) where
    the map has a value; with ``mostly_land`` only cells of land fraction >=
    :data:`MOSTLY_LAND_FRACTION` count. NaN for a region without such land."""
    area = land_area_m2(ens)
    cells = ens["land_mask"].astype(bool)
    if mostly_land:
        cells = cells & (ens["land_fraction"] >= MOSTLY_LAND_FRACTION)
    land_w = weights * area.where(cells, 0.0)
    covered = land_w.where(map_cells(harmonized, ens), 0.0).sum(("lat", "lon"))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (covered / land_w.sum(("lat", "lon"))).to_series()


def land_coverage(harmonized: xr.Dataset, ens: xr.Dataset) -> float:
    """Share of the ensemble's land (cell area x land fraction on its land mask) where the map has
    a value: the footprint test of a global map (:data:`GLOBAL_LAND_COVERAGE`)."""
    area = land_area_m2(ens).where(ens["land_mask"].astype(bool), 0.0)
    return float(area.where(map_cells(harmonized, ens), 0.0).sum() / area.sum())


def total_sanity(total_pg: float, kind: str, published: Sequence[float], members: Sequence[float]) -> str | None:
    """A warning when a total lies far outside every published and member total, else None.

    Rule (Rs): below the smallest of the published and member totals divided by
    :data:`TOTAL_SANITY_FACTOR`, or above the largest times it. Rh: the references are the
    members' Rs totals; below the smallest divided by :data:`RH_SANITY_LOW_FACTOR` or above the
    largest times :data:`TOTAL_SANITY_FACTOR`. The map is not refused: the caller reports it.
    """
    refs = np.concatenate([np.asarray(published, dtype=float), np.asarray(members, dtype=float)])
    refs = refs[np.isfinite(refs)]
    if refs.size == 0 or not np.isfinite(total_pg):
        return None
    low_factor = TOTAL_SANITY_FACTOR if kind == "rs" else RH_SANITY_LOW_FACTOR
    low, high = refs.min() / low_factor, refs.max() * TOTAL_SANITY_FACTOR
    what = "published and member Rs totals" if kind == "rs" else "members' Rs totals"
    if low <= total_pg <= high:
        return None
    side = (
        f"below {low:.3g} (the smallest divided by {low_factor:g})"
        if total_pg < low
        else f"above {high:.3g} (the largest times {TOTAL_SANITY_FACTOR:g})"
    )
    return (
        f"the total {total_pg:.3g} Pg C yr-1 is far outside every one of the {refs.size} {what} "
        f"({refs.min():.3g}-{refs.max():.3g} Pg C yr-1): {side}. Check the units (--units): a map in "
        "kg labelled as g gives a total 1000 times too small, g labelled as kg 1000 times too large"
    )


def regional_cv_table(map_totals: xr.DataArray, member_totals: xr.DataArray, complete: Sequence[str], name: str) -> pd.DataFrame:
    """The members' regional CV without and with the map (regions the map covers completely).

    Returns
    -------
    pandas.DataFrame
        Indexed by region: ``cv_without_pct``, ``cv_with_pct``, ``change_pct_points``,
        ``n_members_without``, ``n_members_with``, ``above_25pct_without``, ``above_25pct_with``.
    """
    complete = [r for r in member_totals["region"].values if r in set(complete)]
    if not complete:
        return pd.DataFrame(columns=["cv_without_pct", "cv_with_pct", "change_pct_points"])
    without = member_totals.sel(region=complete)
    without = without.drop_vars([c for c in without.coords if c not in ("member", "region")])
    added = map_totals.sel(region=complete).expand_dims(member=[f"new: {name}"])
    with_map = xr.concat([without, added], dim="member")
    cv0 = regions.regional_cv(without, cv_threshold=paper.CV_THRESHOLD)
    cv1 = regions.regional_cv(with_map, cv_threshold=paper.CV_THRESHOLD)
    out = pd.DataFrame(
        {
            "cv_without_pct": 100 * cv0["cv"],
            "cv_with_pct": 100 * cv1["cv"],
            "n_members_without": cv0["n_members"],
            "n_members_with": cv1["n_members"],
        }
    )
    out["change_pct_points"] = out["cv_with_pct"] - out["cv_without_pct"]
    out["above_25pct_without"] = cv0["exceeds_25pct"]
    out["above_25pct_with"] = cv1["exceeds_25pct"]
    out.index.name = "region"
    return out


# --------------------------------------------------------------------------------------------
# seasonal cycle
# --------------------------------------------------------------------------------------------
def seasonal_tables(harmonized: xr.Dataset, ens: xr.Dataset, partial: bool, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Global monthly totals (Pg C month-1) of the map and of the monthly members, and their
    cycle metrics (:func:`globalrs.stats.seasonal_cycle_metrics`).

    Returns
    -------
    (cycle, metrics)
        ``cycle``: index month 1..12, one column per series; ``metrics``: one row per series.
    """
    area = land_area_m2(ens)
    own = map_cells(harmonized, ens)
    mask = ens["land_mask"].astype(bool)
    series = {name: stats.monthly_global_totals_pg(harmonized["rs_monthly"].where(own), area).to_series()}
    if "rs_monthly" in ens:
        cells = (mask & own) if partial else mask
        members = stats.monthly_global_totals_pg(ens["rs_monthly"].where(cells), area)
        for member in members["member_monthly"].values:
            series[str(member)] = members.sel(member_monthly=member).to_series()
    cycle = pd.DataFrame(series)
    cycle.index.name = "month"
    metrics = pd.DataFrame({k: stats.seasonal_cycle_metrics(v.to_numpy()) for k, v in cycle.items()}).T
    metrics.index.name = "series"
    metrics[["peak_month", "min_month"]] = metrics[["peak_month", "min_month"]].astype(int)
    return cycle, metrics


def compare_with_paper_cycle(metrics_row: pd.Series, paper: SeasonalRange) -> pd.DataFrame:
    """The map's cycle metrics beside the paper's range: value, paper, inside (True/False)."""

    def month_row(label: str, key: str, months: tuple[int, ...]) -> tuple:
        """Return the row of a month metric: the map's month, the paper's months, inside."""
        month = int(metrics_row[key])
        return label, stats.MONTH_NAMES[month - 1], "-".join(stats.MONTH_NAMES[m - 1] for m in months), month in months

    def value_row(label: str, key: str, lo_hi: tuple[float, float]) -> tuple:
        """Return the row of a value metric: the map's value, the paper's range, inside."""
        value = float(metrics_row[key])
        return label, round(value, 2), f"{lo_hi[0]:g}-{lo_hi[1]:g}", bool(lo_hi[0] <= value <= lo_hi[1])

    rows = [
        month_row("peak month", "peak_month", paper.peak_months),
        value_row("peak (Pg C month-1)", "peak_value", paper.peak_pg_c_month),
        month_row("minimum month", "min_month", paper.min_months),
        value_row("minimum (Pg C month-1)", "min_value", paper.min_pg_c_month),
        value_row("amplitude (Pg C month-1)", "amplitude", paper.amplitude_pg_c_month),
    ]
    return pd.DataFrame(rows, columns=["metric", "this map", "paper", "inside paper's range"]).set_index("metric")


# --------------------------------------------------------------------------------------------
# Rh: benchmark scores
# --------------------------------------------------------------------------------------------
def summarize_scores(scores: pd.DataFrame) -> dict[str, object]:
    """Headline values of :func:`globalrs.benchmark.score_rh_map`'s table for the summary.

    Returns
    -------
    dict
        The reader's ilamb3 overall, bias and spatial-distribution scores, its rank among the
        reader's map and the models (1 = best) and the number of models.
    """
    label = scores.attrs["reader"]
    row = scores.loc[label]
    return {
        "score_overall": float(row["Overall Score [1]"]),
        "score_bias": float(row["Bias Score [1]"]),
        "score_spatial_distribution": float(row["Spatial Distribution Score [1]"]),
        "score_rank": int(row["rank"]),
        "score_n_models": int(len(scores) - 1),
        "score_reference": f"data-driven Rh benchmark ({scores.attrs['period']}), ilamb3",
    }


# --------------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------------
def plot_map_figure(harmonized: xr.Dataset, name: str, kind: str, cells: xr.DataArray) -> plt.Figure:
    """The map on the book's colour scale (land cells the totals use)."""
    fig, axes = plots.make_map_axes(1, 1, figsize=(8.0, 4.6))
    mesh = plots.plot_map(
        harmonized["rs_annual"].where(cells),
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


def plot_totals_figure(totals: pd.DataFrame, published: pd.DataFrame | None, name: str, kind: str, partial: bool) -> plt.Figure:
    """Left (Rs, global maps): published totals by year with cumulative means and the map's total;
    right: the members' totals and the map's."""
    show_history = published is not None
    fig, axes = plt.subplots(
        1,
        2 if show_history else 1,
        figsize=(11 if show_history else 5.5, 4.8),
        squeeze=False,
        constrained_layout=True,
        gridspec_kw={"width_ratios": [2.2, 1]} if show_history else None,
    )
    cells = "common" if partial else "own land"  # noqa: F841 - read by the query below (@cells)
    mine = float(totals.query("estimate_kind == 'this map' and cells == @cells")["total_pg_c_yr"].iloc[0])
    label = f"{name}: {mine:.1f}"
    if show_history:
        ax = axes[0, 0]
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
            ax.scatter(
                row.pub_year, row.estimate_pg_c_yr, s=40, color=color_method_family(row.method_family), edgecolor="0.2", zorder=3
            )
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
    ax = axes[0, -1]
    members = totals.query("estimate_kind != 'this map' and cells == @cells")
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


def plot_regional_figure(
    table: pd.DataFrame, member_totals: xr.DataArray, cv: pd.DataFrame | None, name: str, members_label: str = "members' range"
) -> plt.Figure:
    """Per region: the members' totals (range and points) and the map's; below, the regional CV
    without and with the map."""
    nrows = 2 if cv is not None and not cv.empty else 1
    fig, axes = plt.subplots(nrows, 1, figsize=(9, 3.3 * nrows), squeeze=False, constrained_layout=True, sharex=True)
    x = np.arange(len(table))
    ax = axes[0, 0]
    ax.vlines(x, table["members_min"], table["members_max"], color="0.6", lw=6, alpha=0.6, label=members_label)
    mt = member_totals.transpose("member", "region").to_pandas()[table.index]
    for member, values in mt.iterrows():
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
        ax = axes[1, 0]
        cvr = cv.reindex(table.index)
        ax.bar(x - 0.2, cvr["cv_without_pct"], width=0.4, color="0.6", label="members")
        ax.bar(x + 0.2, cvr["cv_with_pct"], width=0.4, color="crimson", label=f"members + {name}")
        ax.axhline(100 * paper.CV_THRESHOLD, color="k", ls=":", lw=1, label="the paper's 25 % line")
        ax.set_ylabel("regional CV (%)")
        ax.legend(fontsize=7, frameon=False)
        ax.grid(alpha=0.3, axis="y")
    axes[-1, 0].set_xticks(x, table.index)
    return fig


def plot_seasonal_figure(cycle: pd.DataFrame, name: str, paper: SeasonalRange | None) -> plt.Figure:
    """Global monthly totals of the map and the monthly members, with the paper's range (Rs)."""
    fig, ax = plt.subplots(figsize=(7, 3.8), constrained_layout=True)
    if paper is not None:
        ax.fill_between(
            [min(paper.peak_months) - 0.5, max(paper.peak_months) + 0.5],
            *paper.peak_pg_c_month,
            color="tab:red",
            alpha=0.15,
            lw=0,
            label="paper: peak range",
        )
        ax.fill_between(
            [min(paper.min_months) - 0.5, max(paper.min_months) + 0.5],
            *paper.min_pg_c_month,
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


# --------------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------------
def _table_html(frame: pd.DataFrame, decimals: int = 2) -> str:
    return frame.round(decimals).to_html(border=0, classes="table", na_rep="")


def _scores_html(scores: pd.DataFrame) -> str:
    """The score table with the reader's row (first) highlighted."""
    label = scores.attrs["reader"]
    styler = scores.style.format(precision=2, na_rep="").apply(
        lambda row: [f"background-color: {READER_ROW_COLOR}; font-weight: bold" if row.name == label else "" for _ in row], axis=1
    )
    return styler.set_table_attributes("class='table'").to_html()


def write_report(result: CompareResult, source_info: dict[str, str]) -> Path:
    """Write the tables as CSV and the HTML report that shows figures and tables."""
    out = result.out_dir
    for key, frame in result.tables.items():
        frame.to_csv(out / f"{key}.csv")
    esc = html.escape
    s = result.summary
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(result.name)}: comparison report</title>",
        "<style>body{font-family:sans-serif;max-width:960px;margin:2em auto;line-height:1.45}"
        "table{border-collapse:collapse;font-size:0.85em}td,th{padding:2px 8px;border-bottom:1px solid #ddd;"
        "text-align:right}img{max-width:100%}.note{background:#fff4e0;padding:0.5em 1em;border-left:4px solid "
        "#e69f00}.partial{background:#fde2e2;border-left-color:#c00}</style></head><body>",
        f"<h1>{esc(result.name)}: {KIND_LABELS[result.kind]} map among the book's estimates</h1>",
    ]
    for warning in result.warnings:
        parts.append(f"<p class='note partial'><b>WARNING.</b> {esc(warning)}</p>")
    if result.partial:
        parts.append(
            "<p class='note partial'><b>PARTIAL MAP.</b> The map does not cover the globe: every "
            "total below is the total of the covered area only, never a global total, and the "
            "members are totalled over the same footprint.</p>"
        )
    parts.append(
        "<h2>Input</h2><table>"
        + "".join(f"<tr><th>{esc(k)}</th><td style='text-align:left'>{esc(str(v))}</td></tr>" for k, v in source_info.items())
        + "</table>"
    )
    what = "Total of the covered area" if result.partial else "Global total"
    parts.append(
        f"<h2>{what}</h2><p><b>{s['total_pg_c_yr']:.2f} Pg C yr<sup>-1</sup></b> over "
        f"{s['land_area_mkm2']:.1f} million km<sup>2</sup> of land (cell area x land fraction of the "
        f"cells where the map has a value); over the map's own cell areas "
        f"{s['total_own_cells_pg_c_yr']:.2f} Pg C yr<sup>-1</sup> ({s['own_cells_area_mkm2']:.1f} million "
        f"km<sup>2</sup>). On the cells it shares with the ensemble's land mask: "
        f"{s['total_common_pg_c_yr']:.2f} Pg C yr<sup>-1</sup>. The ensemble ({esc(str(s['ensemble']))}, "
        f"{s['n_members']} members) covers {s['ensemble_land_area_mkm2']:.1f} million km<sup>2</sup>; "
        f"{s['mask_cells_without_map']} of its land cells have no value in this map.</p>"
    )
    if "position_members" in s:
        where = "on the map's footprint" if result.partial else "on their own land"
        parts.append(
            f"<p>Among the members ({s['members_min']:.1f}-{s['members_max']:.1f} Pg C yr<sup>-1</sup>"
            f" {where}): <b>{esc(str(s['position_members']))}</b> their range."
        )
        if "published_share_below" in s:
            parts.append(
                f" Among the {s['n_published']} counted published totals "
                f"({s['published_min']:g}-{s['published_max']:g} Pg C yr<sup>-1</sup>): "
                f"{100 * s['published_share_below']:.0f} % are lower."
            )
        parts.append("</p>")
    for note in result.notes:
        parts.append(f"<p class='note'>{esc(note)}</p>")
    for key, title in (("map", "Map"), ("totals", "Totals"), ("regional", "Regions"), ("seasonal", "Seasonal cycle")):
        if key in result.figures:
            parts.append(
                f"<h2>{title}</h2><figure><img src='{result.figures[key].name}' "
                f"alt='{esc(title)} of {esc(result.name)}'></figure>"
            )
            for tkey in _TABLES_UNDER.get(key, ()):
                if tkey in result.tables:
                    parts.append(f"<h3>{esc(_TABLE_TITLES[tkey])} ({tkey}.csv)</h3>" + _table_html(result.tables[tkey]))
    if "scores" in result.tables:
        scores = result.tables["scores"]
        parts.append(
            "<h2>Model benchmark scores (scores.csv)</h2>"
            f"<p>ilamb3's bias and spatial-distribution analyses (Collier et al. 2018) of this map against "
            f"the book's data-driven Rh benchmark (the Rh members of the standardized protocol and the Rs "
            f"members x (1 - root contribution), {esc(str(scores.attrs['period']))} observations; "
            f"{esc(Path(scores.attrs['reference']).name)}), scored on the benchmark's land mask beside the "
            f"{s['score_n_models']} model maps the book holds (CMIP6, CMIP5, soil-carbon models, CARDAMOM). "
            f"Overall score <b>{s['score_overall']:.2f}</b>, rank <b>{s['score_rank']}</b> of "
            f"{s['score_n_models'] + 1} (1 = best). The models' maps are period means of other years than "
            "the observations; scores range from 0 to 1.</p>" + _scores_html(scores)
        )
    parts.append("<h2>Files</h2><ul>" + "".join(f"<li><a href='{k}.csv'>{k}.csv</a></li>" for k in result.tables) + "</ul>")
    parts.append(
        f"<p style='font-size:0.8em;color:#666'>globalrs {esc(__version__)} "
        f"(globalrs.compare.compare_map), {esc(str(s['created_utc']))}</p></body></html>"
    )
    result.report_path.write_text("\n".join(parts), encoding="utf-8")
    return result.report_path


_TABLES_UNDER = {
    "totals": ("global_totals",),
    "regional": ("regional_totals", "regional_cv"),
    "seasonal": ("seasonal_cycle", "seasonal_metrics", "seasonal_vs_paper"),
}
_TABLE_TITLES = {
    "global_totals": "Totals of the map and of each member (Pg C yr-1; land area in million km2)",
    "regional_totals": "Regional totals (Pg C yr-1) and the map's coverage of each region",
    "regional_cv": "Regional CV of the members without and with the map",
    "seasonal_cycle": "Global monthly totals (Pg C month-1)",
    "seasonal_metrics": "Cycle metrics (months 1-12; Pg C month-1)",
    "seasonal_vs_paper": "The map's cycle beside the paper's range",
}


# --------------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------------
def load_comparison_inputs() -> tuple[xr.Dataset, xr.DataArray, pd.DataFrame]:
    """The book's ensemble (book-wide switch), the 14-region weights on its grid and the counted
    published totals: what :func:`compare_map` compares against."""
    ens = gridded.load_gridded_estimates()
    weights = regions.region_weights(ens["lat"].values, ens["lon"].values)
    return ens, weights, counted_published_totals()


def compare_map(
    path: str | Path | xr.DataArray | xr.Dataset,
    variable: str | None = None,
    units: str | None = None,
    kind: str = "rs",
    name: str | None = None,
    out_dir: str | Path = "compare-report",
    region_only: bool = False,
    band_as: str | None = None,
    ensemble: xr.Dataset | None = None,
    weights: xr.DataArray | None = None,
    published_totals: pd.DataFrame | None = None,
    log: Callable[[str], None] | None = None,
    rh_benchmark: benchmark.RhBenchmark | None = None,
    on_implausible: str = "raise",
    force: bool = False,
) -> CompareResult:
    """Compare a gridded Rs or Rh map with the book's estimates and write a report.

    Parameters
    ----------
    path
        NetCDF or GeoTIFF file (or an in-memory array) the harmonizer reads.
    variable
        Variable in a multi-variable file.
    units
        Units to use instead of (or where missing) the file's ``units`` attribute, e.g.
        ``"g C m-2 yr-1"`` or ``"kg C m-2 s-1"``.
    kind
        ``"rs"`` (soil respiration) or ``"rh"`` (heterotrophic respiration).
    name
        Label in tables and figures (default: the file name without suffix).
    out_dir
        Directory for ``report.html``, the PNG figures and the CSV tables (created).
    region_only
        Accept a map covering part of the globe; it is reported as partial.
    band_as
        ``"month"`` for a 12-band GeoTIFF holding January..December.
    ensemble, weights, published_totals
        What to compare against; loaded with :func:`load_comparison_inputs` when omitted
        (tests pass small synthetic ones). ``ensemble`` has the schema of
        :func:`globalrs.ensemble.load_ensemble`; ``weights`` is ``(region, lat, lon)``.
    log
        Called with one line per step (the command line prints them); silent when None.
    rh_benchmark
        For ``kind="rh"``: the reference and the models' scores
        (:func:`globalrs.benchmark.load_rh_benchmark` when omitted).
    on_implausible
        ``"raise"`` (refuse cells outside the plausible range) or ``"clip"`` (``--clip``).
    force
        Replace a non-empty ``out_dir`` that holds something else than a report of this map
        (``--force``). The folder is checked before any work; the report is written into a
        temporary folder beside it and moved into place at the end, so a failure never leaves a
        half-written report.

    Returns
    -------
    CompareResult

    Raises
    ------
    globalrs.harmonize.HarmonizeError
        Whatever the harmonizer refuses (units, grid, coverage, content), with its message.
    CompareError
        The map has no value on any land cell, covers too little land to be global (without
        ``region_only``), or ``out_dir`` cannot be used.
    """
    if kind not in MAP_KINDS:
        raise ValueError(f"kind must be one of {MAP_KINDS}, got {kind!r}")
    say = log or (lambda _msg: None)
    t0 = time.perf_counter()
    if name is None:
        name = Path(path).stem if isinstance(path, (str, Path)) else (getattr(path, "name", None) or "map")
    final_out = Path(out_dir)
    check_out_dir(final_out, name, force)

    def step(msg: str) -> None:
        say(f"[{time.perf_counter() - t0:6.1f} s] {msg}")

    step(f"harmonizing {path if isinstance(path, (str, Path)) else name} to the 0.5-degree grid")
    harmonized, partial = harmonize_input(
        path, variable=variable, units=units, band_as=band_as, region_only=region_only, on_implausible=on_implausible
    )
    if ensemble is None or weights is None or published_totals is None:
        step(
            "loading the book's ensemble, region weights and published totals (the first run builds and "
            "caches them: several minutes; later runs read the cache)"
        )
        loaded = load_comparison_inputs()
        ensemble = loaded[0] if ensemble is None else ensemble
        weights = loaded[1] if weights is None else weights
        published_totals = loaded[2] if published_totals is None else published_totals
    if not (np.allclose(harmonized["lat"], ensemble["lat"]) and np.allclose(harmonized["lon"], ensemble["lon"])):
        raise CompareError("the ensemble is not on the harmonizer's 0.5-degree grid")
    cells = map_cells(harmonized, ensemble)
    if not bool(cells.any()):
        raise CompareError("the map has no value on any land cell (land fraction > 0)")
    coverage = land_coverage(harmonized, ensemble)
    if not partial and coverage < GLOBAL_LAND_COVERAGE:
        share = region_coverage(harmonized, ensemble, weights)
        covered = ", ".join(f"{r} {100 * v:.0f} %" for r, v in share.items() if v > 0.005) or "none"
        raise CompareError(
            f"the map has values on {100 * coverage:.1f} % of the ensemble's land only (a global map "
            f"covers at least {100 * GLOBAL_LAND_COVERAGE:g} %), though its grid spans the globe; "
            f"regions it covers: {covered}. For a regional map pass --region-only: it is then "
            "reported as PARTIAL, never totalled as global"
        )
    out = _temporary_out_dir(final_out)
    try:
        result = CompareResult(name=name, kind=kind, partial=partial, out_dir=out, report_path=out / REPORT_FILE)
        if partial:
            result.notes.append("Partial map: totals are of the covered area only; members are totalled over the same footprint.")

        step("global totals")
        totals = global_totals_table(harmonized, ensemble, name)
        result.tables["global_totals"] = totals.set_index(["estimate", "cells"])
        cells_key = "common" if partial else "own land"  # noqa: F841 - read by the query below (@cells_key)
        mine = totals.query("estimate_kind == 'this map' and cells == @cells_key").iloc[0]
        own_cells = totals.query("estimate_kind == 'this map' and cells == \"map's own cell areas\"").iloc[0]
        common_row = totals.query("estimate_kind == 'this map' and cells == 'common'").iloc[0]
        members_own = totals.query("estimate_kind == 'member' and cells == @cells_key")["total_pg_c_yr"]
        mask = ensemble["land_mask"].astype(bool)
        s = result.summary
        s.update(
            {
                "name": name,
                "kind": kind,
                "partial": partial,
                "total_pg_c_yr": float(mine["total_pg_c_yr"]),
                "land_area_mkm2": float(mine["land_area_mkm2"]),
                "total_common_pg_c_yr": float(common_row["total_pg_c_yr"]),
                "total_own_cells_pg_c_yr": float(own_cells["total_pg_c_yr"]),
                "own_cells_area_mkm2": float(own_cells["land_area_mkm2"]),
                "ensemble": ensemble.attrs.get("ensemble_choice", "given"),
                "n_members": int(ensemble.sizes["member"]),
                "ensemble_land_area_mkm2": float(land_area_m2(ensemble).where(mask).sum()) / M2_PER_MKM2,
                "mask_cells_without_map": int((mask & ~cells).sum()),
                "land_coverage_share": coverage,
                "members_min": float(members_own.min()),
                "members_max": float(members_own.max()),
                "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            }
        )
        if kind == "rs":
            s["position_members"] = position_among(s["total_pg_c_yr"], members_own)
            if not partial:
                values = published_totals["estimate_pg_c_yr"].astype(float)
                s.update(
                    {
                        "n_published": int(values.size),
                        "published_min": float(values.min()),
                        "published_max": float(values.max()),
                        "published_share_below": float((values < s["total_pg_c_yr"]).mean()),
                    }
                )
        else:
            ratio = s["total_pg_c_yr"] / members_own
            s.update({"rh_rs_ratio_min": float(ratio.min()), "rh_rs_ratio_max": float(ratio.max())})
            result.notes.append(
                f"Rh map: the members are soil respiration (Rs) maps, so the comparison is a ratio: this "
                f"Rh total is {s['rh_rs_ratio_min']:.2f}-{s['rh_rs_ratio_max']:.2f} of the members' Rs totals. "
                "The published totals of the history figure are Rs totals and are not drawn."
            )
        if harmonized.attrs.get("time_averaging"):
            result.notes.append(f"Time axis: {harmonized.attrs['time_averaging']}.")
        if harmonized.attrs.get("reprojected_from"):
            result.notes.append(
                f"The GeoTIFF was reprojected from {harmonized.attrs['reprojected_from']} to latitude-longitude "
                "(mean of the pixels in each cell) before the conservative regridding."
            )
        if partial and kind == "rs":
            result.notes.append("The history of published GLOBAL totals is not drawn for a partial map.")
        published_refs = published_totals["estimate_pg_c_yr"].astype(float) if (kind == "rs" and not partial) else []
        warning = total_sanity(s["total_pg_c_yr"], kind, published_refs, members_own)
        s["total_far_outside"] = warning is not None
        if warning is not None:
            result.warnings.append(warning[0].upper() + warning[1:] + ".")

        step("figures: map and totals")
        figs = {
            "map": plot_map_figure(harmonized, name, kind, cells),
            "totals": plot_totals_figure(
                totals, published_totals if (kind == "rs" and not partial) else None, name, kind, partial
            ),
        }

        step("regional totals on the 14 regions")
        table, map_reg, member_reg = regional_table(harmonized, ensemble, weights)
        result.tables["regional_totals"] = table
        complete = list(table.index[table["status"] == "complete"])
        s["n_regions_compared"] = len(complete)
        left = table.loc[table["status"] != "complete"]
        result.notes.append(
            f"Regions: {len(complete)} of {len(table)} compared. A region is compared when the map has values on "
            f"at least {100 * REGION_COVERAGE_COMPLETE:g} % of its mostly-land area (cells of land fraction >= "
            f"{MOSTLY_LAND_FRACTION:g}, what an ordinary land mask keeps; coastal cells that are mostly sea do not "
            "count); map and members are then totalled on the same cells, those where the map has a value, so the "
            "coast the map leaves out biases neither."
            + (
                " Not compared: "
                + "; ".join(f"{r} ({100 * row.coverage_mostly_land:.0f} % of its mostly-land area)" for r, row in left.iterrows())
                + "."
                if len(left)
                else ""
            )
        )
        cv = None
        if kind == "rs":
            cv = regional_cv_table(map_reg, member_reg, complete, name)
            result.tables["regional_cv"] = cv
            if not cv.empty:
                s["regions_above_25pct_without"] = ", ".join(cv.index[cv["above_25pct_without"].astype(bool)])
                s["regions_above_25pct_with"] = ", ".join(cv.index[cv["above_25pct_with"].astype(bool)])
        else:
            table["rh_to_rs_members_median"] = table["map_pg_c_yr"] / table["members_median"]
            table["position"] = "not compared (Rh vs Rs)"
            result.notes.append(
                "Regional CV with and without the map is computed for Rs maps only (the "
                "members are Rs); the regional table gives the ratio of the map's Rh to the "
                "members' median Rs instead of a position."
            )
        figs["regional"] = plot_regional_figure(
            table, member_reg, cv, name, members_label="members' range" if kind == "rs" else "Rs members' range"
        )

        if "rs_monthly" in harmonized:
            step("seasonal cycle")
            cycle, metrics = seasonal_tables(harmonized, ensemble, partial, name)
            result.tables["seasonal_cycle"] = cycle
            result.tables["seasonal_metrics"] = metrics
            paper = paper_seasonal_range() if (kind == "rs" and not partial) else None
            if paper is not None:
                result.tables["seasonal_vs_paper"] = compare_with_paper_cycle(metrics.loc[name], paper)
            figs["seasonal"] = plot_seasonal_figure(cycle, name, paper)
        else:
            result.notes.append("The map has no months (an annual map): no seasonal cycle.")

        if kind == "rh":
            step("ilamb3 scores against the data-driven Rh benchmark, beside the models")
            bench = rh_benchmark if rh_benchmark is not None else benchmark.load_rh_benchmark(log=step)
            scores = benchmark.score_rh_map(harmonized["rs_annual"], name, bench)
            result.tables["scores"] = scores
            s.update(summarize_scores(scores))
            if partial:
                result.notes.append("Partial Rh map: ilamb3 scores it on the cells it covers only.")

        step(f"writing the report to {final_out}")
        for key, fig in figs.items():
            path_png = out / f"{key}.png"
            fig.savefig(path_png, dpi=110)
            plt.close(fig)
            result.figures[key] = path_png
        result.tables["summary"] = pd.Series(s, name="value").to_frame()
        source_info = {
            "file": str(path) if isinstance(path, (str, Path)) else "in-memory array",
            "variable": variable or "(the only gridded variable)",
            "units as read": harmonized.attrs.get("source_units", ""),
            "time axis": harmonized.attrs.get("time_averaging") or harmonized.attrs.get("source_time_axis", ""),
            "kind": kind,
            "coverage": "PARTIAL (region only)" if partial else "global",
            "regridding": harmonized.attrs.get("regridding", ""),
        }
        write_report(result, source_info)
        _move_into_place(out, final_out)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    result.out_dir = final_out
    result.report_path = final_out / REPORT_FILE
    result.figures = {k: final_out / v.name for k, v in result.figures.items()}
    step(f"done: {result.report_path}")
    return result


def _report_name(folder: Path) -> str | None:
    """The map name of the report in ``folder`` (its summary.csv), or None."""
    summary = folder / "summary.csv"
    if not summary.is_file():
        return None
    try:
        values = pd.read_csv(summary, index_col=0)["value"]
        return str(values.get("name"))
    except (OSError, ValueError, KeyError, pd.errors.ParserError):
        return None


def check_out_dir(out: Path, name: str, force: bool = False) -> None:
    """Refuse an ``--out`` that cannot be used, before any work.

    Raises :class:`CompareError` when ``out`` is a file, when its parent cannot be created or
    written, or when ``out`` is a non-empty folder that is not a report of the map ``name``
    (another map's report or other files) and ``force`` is not set.
    """
    if out.exists() and not out.is_dir():
        raise CompareError(f"--out {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        other = _report_name(out)
        if other != name:
            held = f"the report of another map ({other!r})" if other else "other files"
            raise CompareError(f"--out {out} is not empty: it holds {held}. Choose another folder or pass --force to replace it")
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        probe = tempfile.mkdtemp(prefix=f".{out.name}.check-", dir=parent)
    except OSError as exc:
        raise CompareError(f"cannot write the report beside --out {out}: {exc}") from exc
    shutil.rmtree(probe, ignore_errors=True)


def _temporary_out_dir(out: Path) -> Path:
    """A new temporary folder beside ``out`` (same file system, so the final move is a rename)."""
    try:
        return Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.resolve().parent))
    except OSError as exc:
        raise CompareError(f"cannot write the report beside --out {out}: {exc}") from exc


def _move_into_place(tmp: Path, out: Path) -> None:
    """Replace ``out`` by the finished report folder ``tmp`` (renames; the old folder is removed
    only once the new one is in place)."""
    old = None
    if out.exists():
        old = out.resolve().parent / f".{out.name}.old-{os.getpid()}"
        out.rename(old)
    try:
        tmp.rename(out)
    except OSError:
        if old is not None:
            old.rename(out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------------
#: the library's parameter names in messages, and the command's flags that set them
CLI_WORDS = (
    ("pass variable=", "pass --variable NAME"),
    ("pass band_as='month'", "pass --band-as month"),
    ("pass on_implausible='clip'", "pass --clip"),
    ("another plausible_range", "fix the units (--units)"),
    (" (region_only=True)", ""),
    ("regrid this file with stream=False", "convert the file to a grid that nests in 0.5 degrees"),
)


def cli_message(message: str) -> str:
    """A library message with parameter names replaced by the command's flags."""
    for library, flag in CLI_WORDS:
        message = message.replace(library, flag)
    return message


def cmd_compare(args: argparse.Namespace) -> int:
    """Run :func:`compare_map` for the command line; 1 when the map cannot be used.

    Warnings (a total far outside every published and member total) go to stderr and into the
    report; the exit code stays 0 because the report was written.
    """
    try:
        result = compare_map(
            args.map,
            variable=args.variable,
            units=args.units,
            kind=args.kind,
            name=args.name,
            out_dir=args.out,
            region_only=args.region_only,
            band_as=args.band_as,
            log=print,
            on_implausible="clip" if getattr(args, "clip", False) else "raise",
            force=getattr(args, "force", False),
        )
    except (harmonize.HarmonizeError, gunits.UnitsError, CompareError, FileNotFoundError) as exc:
        print(f"globalrs compare: error: {cli_message(str(exc))}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"globalrs compare: error: cannot write the report to {args.out}: {exc}", file=sys.stderr)
        return 1
    s = result.summary
    what = "covered-area total (PARTIAL map)" if result.partial else "global total"
    print(f"{result.name}: {what} {s['total_pg_c_yr']:.2f} Pg C yr-1 over {s['land_area_mkm2']:.1f} million km2")
    print(f"regions compared: {s['n_regions_compared']} of {len(result.tables['regional_totals'])} (regional_totals.csv)")
    for warning in result.warnings:
        print(f"globalrs compare: warning: {warning}", file=sys.stderr)
    if "score_overall" in s:
        print(f"ilamb3 overall score {s['score_overall']:.2f}: rank {s['score_rank']} of {s['score_n_models'] + 1} (scores.csv)")
    print(f"report: {result.report_path}")
    return 0
