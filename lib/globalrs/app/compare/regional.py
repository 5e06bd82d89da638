"""The map on the 14 regions: regional totals beside the members' range, and the regional CV without and with the map."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.app.compare.footprint import (
    MOSTLY_LAND_FRACTION,
    REGION_COVERAGE_COMPLETE,
    land_area_m2,
    map_cells,
    region_coverage,
)
from globalrs.app.compare.results import RegionalComparison
from globalrs.app.compare.totals import position_among
from globalrs.gridding import regions
from globalrs.reproduction import paper


def regional_table(
    harmonized: xr.Dataset,
    ens: xr.Dataset,
    weights: xr.DataArray,
) -> tuple[pd.DataFrame, xr.DataArray, xr.DataArray]:
    """Return the regional totals of the map beside the members' range, with the map's coverage of each region.

    The members are totalled on the map's footprint (ensemble land mask and the map's cells), so
    that map and members cover the same land; their median on their own land mask is given beside.
    A region is compared ("complete") when the map covers at least
    :data:`~globalrs.app.compare.footprint.REGION_COVERAGE_COMPLETE` of its mostly-land area (cells of land fraction >=
    :data:`~globalrs.app.compare.footprint.MOSTLY_LAND_FRACTION`); ``coverage_share`` is the covered share of all its land.

    Parameters
    ----------
    harmonized
        The harmonized map.
    ens
        The ensemble.
    weights
        ``(region, lat, lon)`` region weights.

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


def regional_cv_table(map_totals: xr.DataArray, member_totals: xr.DataArray, complete: Sequence[str], name: str) -> pd.DataFrame:
    """Return the members' regional CV without and with the map (regions the map covers completely).

    Parameters
    ----------
    map_totals, member_totals
        Regional totals of the map and of the members (Pg C yr-1).
    complete
        The regions compared.
    name
        The map's label.

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


def regional_comparison(
    harmonized: xr.Dataset, ens: xr.Dataset, weights: xr.DataArray, kind: str, name: str
) -> RegionalComparison:
    """Compare the map with the members on the 14 regions.

    Parameters
    ----------
    harmonized
        The harmonized map.
    ens
        The ensemble.
    weights
        ``(region, lat, lon)`` region weights.
    kind
        ``"rs"`` (regional CV without and with the map) or ``"rh"`` (ratio to the members' Rs).
    name
        The map's label.

    Returns
    -------
    RegionalComparison
        The table, the regional totals and (Rs) the CV table.
    """
    table, map_reg, member_reg = regional_table(harmonized, ens, weights)
    result = RegionalComparison(table=table, map_totals_pg_c_yr=map_reg, member_totals_pg_c_yr=member_reg, cv=None)
    if kind == "rs":
        result.cv = regional_cv_table(map_reg, member_reg, result.complete, name)
    else:
        table["rh_to_rs_members_median"] = table["map_pg_c_yr"] / table["members_median"]
        table["position"] = "not compared (Rh vs Rs)"
    return result


def regional_note(table: pd.DataFrame) -> str:
    """Return the report's note on which regions were compared and why.

    Parameters
    ----------
    table
        :func:`regional_table`'s table.

    Returns
    -------
    str
        One paragraph.
    """
    complete = table["status"] == "complete"
    left = table.loc[~complete]
    not_compared = (
        " Not compared: "
        + "; ".join(f"{r} ({100 * row.coverage_mostly_land:.0f} % of its mostly-land area)" for r, row in left.iterrows())
        + "."
        if len(left)
        else ""
    )
    return (
        f"Regions: {int(complete.sum())} of {len(table)} compared. A region is compared when the map has values on "
        f"at least {100 * REGION_COVERAGE_COMPLETE:g} % of its mostly-land area (cells of land fraction >= "
        f"{MOSTLY_LAND_FRACTION:g}, what an ordinary land mask keeps; coastal cells that are mostly sea do not "
        "count); map and members are then totalled on the same cells, those where the map has a value, so the "
        "coast the map leaves out biases neither." + not_compared
    )
