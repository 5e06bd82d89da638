"""The map's total beside the members' and the published totals.

Totals follow the book's convention: flux x cell area x land fraction on the cells where the map
has a value (:func:`globalrs.core.grid.global_total_pg`, :func:`globalrs.core.grid.land_area_mkm2`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import ArrayLike

from globalrs.app.compare.footprint import land_area_m2, land_coverage, map_cells
from globalrs.app.compare.results import GlobalTotals, Placement
from globalrs.core.grid import global_total_pg, land_area_mkm2

#: a global total is flagged (report and stderr, not refused) when it lies below the smallest
#: published or member total divided by this factor, or above the largest times this factor
TOTAL_SANITY_FACTOR = 2.0
#: for an Rh map the references are the members' Rs totals: flagged below the smallest divided
#: by this factor (Rh is half to two thirds of Rs), or above the largest times TOTAL_SANITY_FACTOR
RH_SANITY_LOW_FACTOR = 4.0


def total_pg(flux_g_m2_yr: xr.DataArray, area_m2: xr.DataArray, cells: xr.DataArray) -> xr.DataArray:
    """Sum flux x area over ``cells`` in Pg C yr-1 with :func:`globalrs.core.grid.global_total_pg`.

    Parameters
    ----------
    flux_g_m2_yr
        ``(..., lat, lon)`` flux density.
    area_m2
        The integration area of each cell.
    cells
        Boolean ``(lat, lon)``: the cells that count (others are left out, not refused).

    Returns
    -------
    xarray.DataArray
        ``(...)`` totals in Pg C yr-1.
    """
    return global_total_pg(flux_g_m2_yr.where(cells), area_m2=area_m2)


def _this_map_rows(harmonized: xr.Dataset, ens: xr.Dataset, name: str) -> list[tuple]:
    """Return the map's rows of :func:`global_totals_table` (areas in million km2)."""
    own = map_cells(harmonized, ens)
    common = ens["land_mask"].astype(bool) & own
    area = land_area_m2(ens)
    rs = harmonized["rs_annual"]
    raw_cells = rs.notnull()
    raw_area = harmonized["valid_fraction"] * harmonized["cell_area_m2"]
    cell_area, land_fraction = ens["cell_area_m2"], ens["land_fraction"]
    return [
        (name, "this map", "", "own land", float(total_pg(rs, area, own)), land_area_mkm2(cell_area, land_fraction, own)),
        (name, "this map", "", "common", float(total_pg(rs, area, common)), land_area_mkm2(cell_area, land_fraction, common)),
        (
            name,
            "this map",
            "",
            "map's own cell areas",
            float(total_pg(rs, raw_area, raw_cells)),
            land_area_mkm2(harmonized["cell_area_m2"], harmonized["valid_fraction"], raw_cells),
        ),
    ]


def global_totals_table(harmonized: xr.Dataset, ens: xr.Dataset, name: str) -> pd.DataFrame:
    """Return the totals of the map and of every member, on their own cells and on the common cells.

    Parameters
    ----------
    harmonized
        The harmonized map.
    ens
        The ensemble (``rs_annual``, ``land_mask``, ``cell_area_m2``, ``land_fraction``).
    name
        The map's label.

    Returns
    -------
    pandas.DataFrame
        One row per (estimate, cells): ``estimate``, ``estimate_kind`` (``this map`` or
        ``member``), ``method_family``, ``cells`` (``own land``,
        ``common`` = ensemble land mask and the map's cells, or ``map's own cell areas``),
        ``total_pg_c_yr``, ``land_area_mkm2``.
    """
    area = land_area_m2(ens)
    mask = ens["land_mask"].astype(bool)
    common = mask & map_cells(harmonized, ens)
    rows = _this_map_rows(harmonized, ens, name)
    members = ens["rs_annual"]
    own_m = total_pg(members, area, mask).to_series()
    common_m = total_pg(members, area, common).to_series()
    family = members["method_family"].to_series() if "method_family" in members.coords else pd.Series("", index=own_m.index)
    mask_area = land_area_mkm2(ens["cell_area_m2"], ens["land_fraction"], mask)
    common_area = land_area_mkm2(ens["cell_area_m2"], ens["land_fraction"], common)
    for member in own_m.index:
        rows.append((str(member), "member", str(family[member]), "own land", float(own_m[member]), mask_area))
        rows.append((str(member), "member", str(family[member]), "common", float(common_m[member]), common_area))
    return pd.DataFrame(rows, columns=["estimate", "estimate_kind", "method_family", "cells", "total_pg_c_yr", "land_area_mkm2"])


def position_among(value: float, others: ArrayLike) -> str:
    """Place ``value`` against the range of ``others``.

    Parameters
    ----------
    value
        The value placed.
    others
        The values it is placed among.

    Returns
    -------
    str
        ``"below"``, ``"within"`` or ``"above"``.
    """
    values = np.asarray(others, dtype=float)
    if value < values.min():
        return "below"
    if value > values.max():
        return "above"
    return "within"


def global_totals(harmonized: xr.Dataset, ens: xr.Dataset, name: str, partial: bool) -> GlobalTotals:
    """Compute the map's totals and the members' on the cells the comparison uses.

    Parameters
    ----------
    harmonized
        The harmonized map.
    ens
        The ensemble.
    name
        The map's label.
    partial
        A partial map is totalled (and its members) on the cells it shares with the land mask.

    Returns
    -------
    GlobalTotals
        The table and its headline values.
    """
    totals = global_totals_table(harmonized, ens, name)
    cells_key = "common" if partial else "own land"

    def pick(kind: str, cells: str) -> pd.DataFrame:
        """Return the rows of one kind of estimate on one set of cells."""
        return totals[(totals["estimate_kind"] == kind) & (totals["cells"] == cells)]

    mine = pick("this map", cells_key).iloc[0]
    own_cells = pick("this map", "map's own cell areas").iloc[0]
    mask = ens["land_mask"].astype(bool)
    return GlobalTotals(
        table=totals,
        total_pg_c_yr=float(mine["total_pg_c_yr"]),
        land_area_mkm2=float(mine["land_area_mkm2"]),
        total_common_pg_c_yr=float(pick("this map", "common").iloc[0]["total_pg_c_yr"]),
        total_own_cells_pg_c_yr=float(own_cells["total_pg_c_yr"]),
        own_cells_area_mkm2=float(own_cells["land_area_mkm2"]),
        ensemble_land_area_mkm2=land_area_mkm2(ens["cell_area_m2"], ens["land_fraction"], mask),
        mask_cells_without_map=int((mask & ~map_cells(harmonized, ens)).sum()),
        land_coverage_share=land_coverage(harmonized, ens),
        members_pg_c_yr=pick("member", cells_key)["total_pg_c_yr"],
    )


def place_total(totals: GlobalTotals, kind: str, partial: bool, published_totals: pd.DataFrame) -> Placement:
    """Place the map's total among the members' (Rs), the published totals (global Rs) or as a ratio (Rh).

    Parameters
    ----------
    totals
        The map's and members' totals.
    kind
        ``"rs"`` or ``"rh"``.
    partial
        A partial map is not placed among the published global totals.
    published_totals
        The counted published totals (``estimate_pg_c_yr``).

    Returns
    -------
    Placement
        Position, published share, Rh/Rs ratio and the sanity warning, as they apply.
    """
    total, members = totals.total_pg_c_yr, totals.members_pg_c_yr
    placement = Placement()
    published: Sequence[float] = []  # the published totals a full Rs map is placed among
    if kind == "rs":
        placement.position_members = position_among(total, members)
        if not partial:
            values = published_totals["estimate_pg_c_yr"].astype(float)
            placement.n_published = int(values.size)
            placement.published_min_pg_c_yr = float(values.min())
            placement.published_max_pg_c_yr = float(values.max())
            placement.published_share_below = float((values < total).mean())
            published = values
    else:
        ratio = total / members
        placement.rh_rs_ratio_min, placement.rh_rs_ratio_max = float(ratio.min()), float(ratio.max())
    placement.sanity_warning = total_sanity(total, kind, published, members)
    return placement


def total_sanity(total_pg: float, kind: str, published: Sequence[float], members: Sequence[float]) -> str | None:
    """Return a warning when a total lies far outside every published and member total, else None.

    Rule (Rs): below the smallest of the published and member totals divided by
    :data:`TOTAL_SANITY_FACTOR`, or above the largest times it. Rh: the references are the
    members' Rs totals; below the smallest divided by :data:`RH_SANITY_LOW_FACTOR` or above the
    largest times :data:`TOTAL_SANITY_FACTOR`. The map is not refused: the caller reports it.

    Parameters
    ----------
    total_pg
        The map's total (Pg C yr-1).
    kind
        ``"rs"`` or ``"rh"``.
    published, members
        The reference totals (Pg C yr-1).

    Returns
    -------
    str or None
        The warning sentence (lower case first letter, no final stop), or None.
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
