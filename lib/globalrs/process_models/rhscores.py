"""The tables of the chapter "Heterotrophic respiration": the Rh routes side by side and the models' scores.

The chapter calls these and shows what they return; the machinery they use lives in
:mod:`globalrs.estimates.rh` (the routes), :mod:`globalrs.process_models.benchmark` (the reference and ilamb3's scores)
and :mod:`globalrs.gridding.regions`. Every total is flux x cell area x land fraction summed over a mask
(:func:`globalrs.core.grid.global_total_pg`); fluxes are in g C m-2 yr-1, totals in Pg C yr-1.

* Route 1 (Rh fitted on Rh records): :func:`direct_route_table`.
* Route 1b (Rs members x a fitted Rh/Rs ratio): :func:`ratio_models_table`.
* Route 2 (Rs members x (1 - RC)): :func:`root_contribution_summary`, :func:`root_contribution_totals`.
* The routes together: :func:`regional_route_totals`, :func:`rh_above_rs_table`, :func:`rh_rs_ratio_table`,
  :func:`route_skill_table`.
* The exported references and the scores: :func:`describe_benchmark_files`, :func:`regional_score_drivers`,
  :func:`route_references`, :func:`relationship_table`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.core.grid import global_total_pg
from globalrs.estimates import rh
from globalrs.gridding import regions
from globalrs.process_models import benchmark
from globalrs.sources import readers

#: The score a region's drivers are read from (ilamb3's overall score).
OVERALL = "Overall Score [1]"
#: The rows of :func:`rh_rs_ratio_table`: short key -> the source as the table names it.
RATIO_SOURCES = {
    "members": "this book: Rh members / Rs members (same method)",
    "root_contribution": "this book: Rs x (1 - RC) / Rs (common cells)",
    "cardamom": "this book: CARDAMOM / Rs ensemble mean (common cells)",
    "bl2018_sites": "Bond-Lamberty et al. 2018 SRDB subset: site records, median (IQR)",
    "jian_map": "Jian et al. 2022 map: 1 - area-weighted mean RC",
    "jian_map_rs_weighted": "Jian et al. 2022 map: 1 - RC weighted by this book's Rs",
    "ratio_members": "this book: ratio members / Rs members",
}
#: The groups of Earth system models among the scored maps.
ESM_GROUPS = ("CMIP6", "CMIP5")


def direct_route_table(rh_ensemble: xr.Dataset, rs_ensemble: xr.Dataset, evaluation: xr.Dataset) -> pd.DataFrame:
    """Route 1, member by member: the Rh total, its bootstrap interval, the Rs total of the same method and the CV scores.

    Parameters
    ----------
    rh_ensemble
        :func:`globalrs.estimates.rh.load_rh_ensemble` (``rh_annual``, ``method_family``).
    rs_ensemble
        :func:`globalrs.estimates.ensemble.load_ensemble`, the Rs members of the same methods.
    evaluation
        :func:`globalrs.estimates.rh.load_rh_evaluation` (``bootstrap_total``, ``cv_score``).

    Returns
    -------
    pandas.DataFrame
        One row per member; totals in Pg C yr-1, CV RMSE and bias in g C m-2 yr-1.
    """
    from globalrs.estimates.ensemble import ensemble_totals_pg

    rh_totals = ensemble_totals_pg(rh_ensemble, "rh_annual").to_series()
    rs_totals = ensemble_totals_pg(rs_ensemble).to_series()
    boot: pd.DataFrame = evaluation["bootstrap_total"].to_pandas()  # 2-D (member, draw): a DataFrame
    cv = evaluation["cv_score"].to_pandas()
    return pd.DataFrame(
        {
            "method family": rh_ensemble["method_family"].to_series(),
            "Rh total (Pg C yr-1)": rh_totals,
            "bootstrap 2.5%": boot.quantile(0.025, axis=1),
            "bootstrap 97.5%": boot.quantile(0.975, axis=1),
            "Rs total, same method (Pg C yr-1)": rs_totals,
            "Rh/Rs": rh_totals / rs_totals,
            "CV RMSE": cv["rmse"],
            "CV R2": cv["r2"],
            "CV bias": cv["bias"],
        }
    )


def ratio_models_table(
    ratio: xr.DataArray, bootstrap_totals: pd.DataFrame, land_area_m2: xr.DataArray, mask: xr.DataArray
) -> pd.DataFrame:
    """Route 1b, ratio model by ratio model: the map's area-weighted mean, range and bootstrap interval.

    Parameters
    ----------
    ratio
        ``(member, lat, lon)`` Rh/Rs maps (:func:`globalrs.estimates.rh.load_ratio_route`'s ``rh_rs_ratio``).
    bootstrap_totals
        Ratio model x refit: Rh totals of the Rs ensemble mean x each refit ratio map, Pg C yr-1.
    land_area_m2
        Cell area x land fraction.
    mask
        The land mask the area-weighted mean is taken over.

    Returns
    -------
    pandas.DataFrame
        One row per ratio model.
    """
    return pd.DataFrame(
        {
            "ratio model": pd.Series(rh.RATIO_MODELS),
            "area-weighted mean ratio": (ratio * land_area_m2).sum(("lat", "lon")).to_series()
            / float(land_area_m2.where(mask).sum()),
            "ratio min": ratio.min(("lat", "lon")).to_series(),
            "ratio max": ratio.max(("lat", "lon")).to_series(),
            "bootstrap 2.5% (Pg C yr-1)": bootstrap_totals.quantile(0.025, axis=1),
            "bootstrap 97.5% (Pg C yr-1)": bootstrap_totals.quantile(0.975, axis=1),
        }
    )


def root_contribution_summary(
    rc: xr.Dataset, rs_mean: xr.DataArray, landcover_group: xr.DataArray, land_area_m2: xr.DataArray, mask: xr.DataArray
) -> pd.DataFrame:
    """The RC map of Jian et al. (2022) on the land mask: its range, and the land it leaves without a value.

    Parameters
    ----------
    rc
        :func:`globalrs.estimates.rh.read_root_contribution` (``rc``, ``rc_sd``).
    rs_mean
        The Rs ensemble mean, g C m-2 yr-1 (the share of Rs in the cells without RC).
    landcover_group
        Land-cover group codes (index into :data:`globalrs.sources.readers.LANDCOVER_GROUPS`).
    land_area_m2
        Cell area x land fraction.
    mask
        The land mask.

    Returns
    -------
    pandas.DataFrame
        One column, ``root contribution map``; percentages are of the mask's land area, of the
        Rs on it, and of the mask cells without RC.
    """
    gap = rc["rc"].isnull() & mask
    barren = list(readers.LANDCOVER_GROUPS).index("barren")
    gap_barren = float((landcover_group == barren).where(gap).sum() / gap.sum())
    rs_weight = rs_mean * land_area_m2
    return pd.Series(
        {
            "cells with RC": int(rc["rc"].notnull().sum()),
            "RC min": float(rc["rc"].min()),
            "RC max": float(rc["rc"].max()),
            "RC area-weighted mean": 1 - rh.rc_map_ratio(rc),
            "RC SD, median": float(rc["rc_sd"].median()),
            "land-mask cells without RC": int(gap.sum()),
            "land area without RC (%)": 100 * float(land_area_m2.where(gap).sum() / land_area_m2.where(mask).sum()),
            "Rs (ensemble mean) in those cells (%)": 100 * float(rs_weight.where(gap).sum() / rs_weight.where(mask).sum()),
            "of those cells, barren (%)": 100 * gap_barren,
        },
        name="root contribution map",
    ).to_frame()


def root_contribution_totals(
    route2: xr.Dataset, rs_annual: xr.DataArray, land_area_m2: xr.DataArray, rc_mask: xr.DataArray
) -> pd.DataFrame:
    """Route 2's totals per Rs member, with the RC +- SD interval and Rs on the same cells (Pg C yr-1).

    Parameters
    ----------
    route2
        :func:`globalrs.estimates.rh.rh_from_root_contribution` (``rh_annual``, ``rh_low``, ``rh_high``).
    rs_annual
        The Rs members it is made from.
    land_area_m2
        Cell area x land fraction.
    rc_mask
        The land-mask cells with an RC value.

    Returns
    -------
    pandas.DataFrame
        One row per member.
    """
    labels = {"rh_annual": "Rh = Rs x (1 - RC)", "rh_low": "Rs x (1 - RC - SD)", "rh_high": "Rs x (1 - RC + SD)"}
    totals = pd.DataFrame(
        {name: global_total_pg(route2[name], area_m2=land_area_m2, mask=rc_mask).to_series() for name in labels}
    ).rename(columns=labels)
    totals["Rs on the same cells"] = global_total_pg(rs_annual, area_m2=land_area_m2, mask=rc_mask).to_series()
    return totals


def regional_route_totals(
    members: xr.DataArray, weights: xr.DataArray, land_area_m2: xr.DataArray, common: xr.DataArray
) -> tuple[xr.DataArray, pd.DataFrame]:
    """Each route's mean map and its regional totals on the cells every route covers.

    Parameters
    ----------
    members
        ``(member, lat, lon)`` with a ``route`` coordinate (:class:`globalrs.estimates.rh.RouteComparison`).
    weights
        ``(region, lat, lon)`` region weights.
    land_area_m2
        Cell area x land fraction.
    common
        The cells every route covers.

    Returns
    -------
    route_means, table
        ``(route, lat, lon)`` mean maps; and regions x routes in Pg C yr-1 with
        ``max/min across routes`` and a last row ``sum of regions`` (its ratio left empty).
    """
    route_means = members.groupby("route").mean("member").assign_attrs(units="g C m-2 yr-1")
    keys = list(rh.ROUTES)
    table = regions.regional_totals_pg(route_means, weights, area_m2=land_area_m2, mask=common).to_pandas().T[keys]
    table["max/min across routes"] = table.max(axis=1) / table.min(axis=1)
    table.loc["sum of regions"] = table[keys].sum()
    table.loc["sum of regions", "max/min across routes"] = np.nan
    return route_means, table


def rh_above_rs_table(
    route_maps: Mapping[str, xr.DataArray],
    rs_ensemble: xr.Dataset,
    model_maps: xr.DataArray,
    group: pd.Series,
    land_area_m2: xr.DataArray,
    mask: xr.DataArray,
) -> pd.DataFrame:
    """The share of the land where each map's Rh exceeds Rs (:func:`globalrs.estimates.rh.share_above`).

    A data-driven member is held against the Rs member it is made from (for the direct fit, the
    Rs member of the same method); a model map against the Rs ensemble mean.

    Parameters
    ----------
    route_maps
        ``standardized``, ``ratio`` and ``root_contribution`` -> ``(member, lat, lon)`` Rh members
        (the ratio members carry an ``rs_member`` coordinate).
    rs_ensemble
        The Rs ensemble (``rs_annual``).
    model_maps, group
        :func:`globalrs.process_models.benchmark.collect_rh_maps`.
    land_area_m2
        Cell area x land fraction.
    mask
        The land mask.

    Returns
    -------
    pandas.DataFrame
        One row per map: ``route or group``, ``map``, ``land with Rh > Rs (%)``.
    """
    rs = rs_ensemble["rs_annual"]
    rs_mean = rs.mean("member")
    rows = []
    for key in ("standardized", "ratio", "root_contribution"):
        maps = route_maps[key]
        for m in maps["member"].values:
            own = str(maps["rs_member"].sel(member=m).values) if key == "ratio" else m
            rows.append((key, str(m), rh.share_above(maps.sel(member=m), rs.sel(member=own), land_area_m2, mask)))
    for m in model_maps["model"].values:
        rows.append((group[str(m)], str(m), rh.share_above(model_maps.sel(model=m), rs_mean, land_area_m2, mask)))
    return pd.DataFrame(rows, columns=["route or group", "map", "land with Rh > Rs (%)"])


def rh_rs_ratio_table(
    direct_totals: pd.Series,
    rs_totals: pd.Series,
    ratio_totals: pd.Series,
    comparison: rh.RouteComparison,
    rc: xr.Dataset,
    rs_weight: xr.DataArray,
) -> pd.DataFrame:
    """The share of Rs that is Rh, as each route and each published source puts it.

    Parameters
    ----------
    direct_totals, rs_totals, ratio_totals
        Per member, Pg C yr-1: the direct Rh members, the Rs members (same methods), the ratio members.
    comparison
        :func:`globalrs.estimates.rh.compare_routes` (the route totals on the common cells).
    rc
        The RC map (:func:`globalrs.estimates.rh.read_root_contribution`).
    rs_weight
        The Rs ensemble mean x land area (g C yr-1 per cell), weighting the RC map.

    Returns
    -------
    pandas.DataFrame
        Index ``source`` (the values of :data:`RATIO_SOURCES`, in its order); ``kind``, ``Rh/Rs``,
        ``low``, ``high`` (empty where a source gives no interval).
    """
    routes = comparison.totals
    rs_common = float(comparison.rs_common_pg.mean())
    low2, high2 = routes.loc["root_contribution", ["interval_low_pg", "interval_high_pg"]]
    site = rh.bl2018_site_ratio()
    member_ratio = direct_totals / rs_totals
    rs_mean_pg = rs_totals.mean()
    values = {
        "members": ("computed here", member_ratio.mean(), member_ratio.min(), member_ratio.max()),
        "root_contribution": ("computed here", routes.loc["root_contribution", "Rh/Rs"], low2 / rs_common, high2 / rs_common),
        "cardamom": ("computed here", routes.loc["cardamom", "Rh/Rs"], np.nan, np.nan),
        "bl2018_sites": (
            f"computed from their data ({int(site['n_records'])} records)",
            site["median"],
            site["q25"],
            site["q75"],
        ),
        "jian_map": ("computed from their map", rh.rc_map_ratio(rc), np.nan, np.nan),
        "jian_map_rs_weighted": ("computed from their map", rh.rc_map_ratio(rc, rs_weight), np.nan, np.nan),
        "ratio_members": (
            "computed here",
            ratio_totals.mean() / rs_mean_pg,
            ratio_totals.min() / rs_mean_pg,
            ratio_totals.max() / rs_mean_pg,
        ),
    }
    table = pd.DataFrame(
        [
            {"source": RATIO_SOURCES[key], "kind": kind, "Rh/Rs": float(r), "low": float(lo), "high": float(hi)}
            for key, (kind, r, lo, hi) in values.items()
        ]
    )
    return table.set_index("source")


def route_skill_table(skill: pd.DataFrame, reference_routes: Sequence[str]) -> pd.DataFrame:
    """Every route's blocked-CV skill against held-out Rh records, and whether it enters the reference.

    Parameters
    ----------
    skill
        :func:`globalrs.estimates.rh.route_skill`.
    reference_routes
        :func:`globalrs.process_models.benchmark.reference_routes`.

    Returns
    -------
    pandas.DataFrame
        One row per route: the route mean's R2, RMSE and bias (g C m-2 yr-1), its members' R2
        range, whether it is a candidate and whether it enters the reference.
    """
    route_mean = skill.xs("route mean", level="member")
    members_r2 = skill["r2"].drop(index="route mean", level="member").groupby(level="route", sort=False).agg(["min", "max"])
    return pd.DataFrame(
        {
            "route": [rh.ROUTES[k] for k in route_mean.index],
            "R2 (route mean)": route_mean["r2"],
            "RMSE": route_mean["rmse"],
            "bias": route_mean["bias"],
            "member R2 min": members_r2["min"],
            "member R2 max": members_r2["max"],
            "candidate": [k in rh.REFERENCE_CANDIDATES for k in route_mean.index],
            "enters the reference": [k in reference_routes for k in route_mean.index],
        }
    )


def describe_benchmark_files(paths: Mapping[str, Path]) -> pd.DataFrame:
    """What each exported reference file holds, read back from the file.

    Parameters
    ----------
    paths
        Variable (``"rs"``, ``"rh"``) -> the exported CF file.

    Returns
    -------
    pandas.DataFrame
        Index ``file``: variable, units, ``cell_methods``, the uncertainty variable, the time
        bounds, the most members in a cell, the cells with fewer, the licence. ``attrs`` hold
        ``conventions`` (of the last file) and ``periods`` (variable -> the file's period).
    """
    rows, periods, conventions = [], {}, ""
    for variable, path in paths.items():
        with xr.open_dataset(path) as f:
            n = f[f"{variable}_n"]
            rows.append(
                {
                    "file": path.name,
                    "variable": variable,
                    "units": f[variable].attrs["units"],
                    "cell_methods": f[variable].attrs["cell_methods"],
                    "uncertainty": f[variable].attrs["ancillary_variables"],
                    "time bounds": " to ".join(str(t)[:10] for t in f["time_bnds"].values[0]),
                    "members": int(n.max()),
                    "cells with fewer members": int(((n > 0) & (n < n.max())).sum()),
                    "license": f.attrs["license"],
                }
            )
            conventions = f.attrs["Conventions"]
            periods[variable] = f.attrs["period"]
    table = pd.DataFrame(rows).set_index("file")
    table.attrs = {"conventions": conventions, "periods": periods}
    return table


def regional_score_drivers(
    scalars: pd.DataFrame,
    group: pd.Series,
    reference_mean: xr.DataArray,
    weights: xr.DataArray,
    land_area_m2: xr.DataArray,
    mask: xr.DataArray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Where the CMIP models fit the reference worst: their mean score and bias region by region.

    Parameters
    ----------
    scalars
        ilamb3's scalars with regions (:func:`globalrs.process_models.benchmark.load_model_scores` with region weights).
    group
        Each model's group (:func:`globalrs.process_models.benchmark.collect_rh_maps`).
    reference_mean
        The reference's mean map, g C m-2 yr-1 (each region's share of its Rh).
    weights
        ``(region, lat, lon)`` region weights.
    land_area_m2
        Cell area x land fraction.
    mask
        The land mask.

    Returns
    -------
    scores, drivers
        Models x regions (overall score); and regions sorted by the CMIP models' mean score, with
        the lowest-scoring model, their mean bias and the region's share (%) of the reference's Rh.
    """
    scores = benchmark.regional_scores(scalars, OVERALL)
    bias_name = next(n for n in scalars["name"].unique() if n.startswith("Bias ["))
    bias = benchmark.regional_scores(scalars, bias_name)
    esm = group.index[group.isin(ESM_GROUPS)]
    field = reference_mean.where(mask).assign_attrs(units="g C m-2 yr-1")
    ref_region = regions.regional_totals_pg(field, weights, area_m2=land_area_m2).to_series()
    drivers = (
        pd.DataFrame(
            {
                "mean overall score (CMIP models)": scores.loc[esm].mean(),
                "lowest model": scores.loc[esm].idxmin(),
                "mean bias (CMIP models)": bias.loc[esm].mean(),
                "share of the reference's Rh (%)": 100 * ref_region / ref_region.sum(),
            }
        )
        .drop(index="global")
        .sort_values("mean overall score (CMIP models)")
    )
    return scores, drivers


def route_references(
    members: xr.DataArray,
    route_maps: Mapping[str, xr.DataArray],
    observations: Sequence[pd.DataFrame],
    common: xr.DataArray,
) -> tuple[dict[str, xr.Dataset], dict[str, Path]]:
    """The combined reference and each route alone as references, on the cells every route covers.

    Parameters
    ----------
    members
        The combined reference's members (:func:`globalrs.process_models.benchmark.rh_reference_members`).
    route_maps
        ``standardized``, ``ratio``, ``root_contribution``, ``cardamom`` -> the route's maps.
    observations
        The observation tables behind the members (their years give the period).
    common
        The cells every route covers.

    Returns
    -------
    references, paths
        Label (``combined``, the route keys, ``CARDAMOM`` for the model-data fusion) -> the
        reference as ilamb3 opens it; route key -> its exported file.
    """
    references, paths = {}, {}
    for key in ("combined", "standardized", "ratio", "root_contribution", "cardamom"):
        maps = members if key == "combined" else rh.route_members({key: route_maps[key]})
        path = benchmark.route_benchmark(maps, observations, f"{key}_common", mask=common)
        references["CARDAMOM" if key == "cardamom" else key] = benchmark.load_reference(path, "rh")
        paths[key] = path
    return references, paths


def relationship_table(relationship: pd.Series, overall: pd.Series, group: pd.Series) -> tuple[pd.DataFrame, float]:
    """Each model's Rh-temperature relationship score beside its overall score, and how alike they rank.

    Parameters
    ----------
    relationship
        :func:`globalrs.process_models.benchmark.load_relationship_scores`.
    overall
        ilamb3's overall score of every model.
    group
        Each model's group.

    Returns
    -------
    table, tau
        Models by relationship score (best first); Kendall's tau between the two rankings.
    """
    table = pd.DataFrame(
        {
            "group": group.reindex(relationship.index),
            "relationship score (Rh vs tas)": relationship,
            "overall score (bias, spatial)": overall.reindex(relationship.index),
        }
    ).sort_values("relationship score (Rh vs tas)", ascending=False)
    _, tau = benchmark.ranking_agreement(table[["relationship score (Rh vs tas)", "overall score (bias, spatial)"]])
    return table, float(tau.iloc[0, 1])


def member_sd_ratio(members: xr.DataArray, reference_mean: xr.DataArray) -> pd.Series:
    """How much more variable in space each member is than the reference mean, on the cells every member covers.

    Parameters
    ----------
    members
        ``(member, lat, lon)`` the reference's members, g C m-2 yr-1.
    reference_mean
        The reference's mean map.

    Returns
    -------
    pandas.Series
        Per member: its spatial standard deviation over that of the reference mean (unitless).
    """
    everywhere = members.notnull().all("member")
    ref_sd = float(reference_mean.where(everywhere).std())
    return (members.where(everywhere).std(("lat", "lon")) / ref_sd).to_series()
