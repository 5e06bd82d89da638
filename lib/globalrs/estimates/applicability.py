"""Where each ensemble member extrapolates: its area of applicability (AOA) on the land mask.

For every member the AOA (:mod:`globalrs.estimates.aoa`, Meyer & Pebesma 2021) is computed in the space of
the covariates that member actually uses (:func:`member_covariates`):

* ``area_x_mean``: the land-cover class (one-hot): a class without a record is outside;
* ``linear_mat_map``: MAT and MAP;
* ``raich_potter``, ``lloyd_taylor``: the six monthly-climate summaries of
  :data:`globalrs.estimates.members.FEATURE_NAMES` (MAT, MAP, warmest/coldest month temperature,
  wettest/driest month precipitation), which span the monthly forcing they read;
* ``random_forest``, ``gradient_boosting``: their own features, weighted by their importances;
* any other member: the ``covariates`` of its declaration (:class:`globalrs.estimates.members.Member`).

Extra covariates (e.g. a productivity grid) are appended by name through ``extra``. The training
DI uses the spatially blocked folds the members are scored with
(:func:`globalrs.estimates.evaluate.blocked_folds`). Nothing is clipped: the maps are unchanged, and the
AOA is returned beside them (:func:`load_member_aoa`), so a page can show what lies outside.
"""

from __future__ import annotations

import json
from typing import Any, TypedDict

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.core.grid import check_same_grid, global_total_pg
from globalrs.estimates import members
from globalrs.estimates.aoa import area_of_applicability
from globalrs.estimates.ensemble import MODEL_VERSION, SEED, grid_cells, input_names, load_ensemble
from globalrs.estimates.evaluate import blocked_folds
from globalrs.estimates.inputs import load_climatology, load_observations, load_static_05, monthly_arrays
from globalrs.gridding import regions
from globalrs.sources.cache import cache_key, cache_path, cached_build, read_netcdf, write_netcdf_atomic

#: Result version of the AOA maps: bump it whenever a change alters them (part of the cache key).
AOA_VERSION = "1"


class _Folds(TypedDict):
    """Settings of a blocked cross-validation."""

    n_splits: int
    block_deg: float


#: The blocked cross-validation the training DI follows (as the members' own CV).
AOA_FOLDS: _Folds = {"n_splits": 5, "block_deg": 10.0}


def member_covariates(
    name: str,
    tmean_c: np.ndarray,
    prec_mm_month: np.ndarray,
    landcover_group: np.ndarray,
    params: dict[str, Any] | None = None,
    extra: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """The covariates a member reads, as a table, with their importance weights where it has them.

    Parameters
    ----------
    name
        Member name (:data:`globalrs.estimates.ensemble.MEMBERS`); a name with a suffix (``"random_forest_gpp"``)
        uses its base member's covariates plus ``extra``.
    tmean_c, prec_mm_month
        ``(n, 12)`` monthly climate (deg C, mm month-1).
    landcover_group
        ``(n,)`` land-cover group index.
    params
        The member's fitted parameters; ``importance_<feature>`` entries become the weights.
    extra
        Further covariates ``{name: (n,) array}`` appended as columns.

    Returns
    -------
    table, weights, columns
        ``(n, k)`` covariates, ``(k,)`` weights or None, and the column names.
    """
    cells = members.CellData(np.asarray(tmean_c, float), np.asarray(prec_mm_month, float), np.asarray(landcover_group, int))
    try:
        member = members.get(name)
    except ValueError:
        raise ValueError(f"no covariate definition for member {name!r}") from None
    table, columns = member.covariates(cells)
    for key, values in (extra or {}).items():
        values = np.asarray(values, float)
        if values.shape != (len(table),):
            raise ValueError(f"extra covariate {key!r} has shape {values.shape}, expected ({len(table)},)")
        table = np.column_stack([table, values])
        columns = [*columns, key]
    weights = None
    if params and any(k.startswith("importance_") for k in params):
        missing = [c for c in columns if f"importance_{c}" not in params]
        if missing:
            raise ValueError(f"member {name!r} has importances but none for {missing}")
        weights = np.array([params[f"importance_{c}"] for c in columns], float)
    return table, weights, columns


def member_aoa(
    obs: pd.DataFrame,
    params: dict[str, dict[str, Any]],
    climate: xr.Dataset,
    landcover: xr.DataArray,
    mask: xr.DataArray,
    extra_sites: dict[str, np.ndarray] | None = None,
    extra_grids: dict[str, xr.DataArray] | None = None,
    n_splits: int = AOA_FOLDS["n_splits"],
    block_deg: float = AOA_FOLDS["block_deg"],
    seed: int = SEED,
) -> xr.Dataset:
    """DI and AOA of each member on the cells of ``mask``.

    Parameters
    ----------
    obs
        The training records (:func:`globalrs.estimates.inputs.load_observations`): their monthly climate
        and land cover are the training covariates.
    params
        Member name -> fitted parameters (importances are the weights of the ML members).
    climate, landcover, mask
        The prediction covariates and the cells to assess, all on one grid.
    extra_sites, extra_grids
        Extra covariates of the members whose name ends in ``_gpp``: ``{name: (n_obs,)}`` at the
        sites and ``{name: (lat, lon) grid}``.

    Returns
    -------
    xarray.Dataset
        ``di`` (member, lat, lon) float32 (NaN off the mask), ``inside_aoa`` (member, lat, lon)
        int8 (1 inside, 0 outside, -1 off the mask), ``threshold`` and
        ``mean_training_distance`` (member); the covariates of each member in attributes.

    Raises
    ------
    ValueError
        Training records without covariates, or a covariate / mask grid that does not match the
        climate grid (both named).
    """
    if obs is None or len(obs) < 2:
        raise ValueError("the AOA needs the training records' covariates (an observation table), got none")
    tmean = climate["tmean_c"]
    check_same_grid(landcover, tmean, "land-cover grid", "climate (prediction) grid")
    check_same_grid(mask, tmean, "land mask", "climate (prediction) grid")
    for key, grid in (extra_grids or {}).items():
        check_same_grid(grid, tmean, f"covariate grid {key!r}", "climate (prediction) grid")
    _, tg, pg, lcg, valid = grid_cells(climate, landcover)
    inside_mask = mask.values.reshape(-1).astype(bool)
    if (inside_mask & ~valid).any():
        raise ValueError(f"{int((inside_mask & ~valid).sum())} cells of the mask lack a climate or land-cover covariate")
    t, p = monthly_arrays(obs)
    lc = obs["landcover_group"].to_numpy(int)
    folds = blocked_folds(obs, n_splits, block_deg, seed)
    shape = mask.shape
    di_maps, in_maps, thresholds, dbars, described = [], [], [], [], {}
    for name, member_params in params.items():
        gpp = name.endswith("_gpp")
        ex_sites = extra_sites if gpp else None
        ex_cells = {k: g.values.reshape(-1)[inside_mask] for k, g in (extra_grids or {}).items()} if gpp else None
        if gpp and not ex_sites:
            raise ValueError(f"member {name!r} needs its extra covariates at the sites (extra_sites)")
        train, weights, columns = member_covariates(name, t, p, lc, member_params, ex_sites)
        cells, _, _ = member_covariates(name, tg[inside_mask], pg[inside_mask], lcg[inside_mask], member_params, ex_cells)
        result = area_of_applicability(train, cells, folds, weights)
        di = np.full(inside_mask.size, np.nan, np.float32)
        di[inside_mask] = result.di
        flag = np.full(inside_mask.size, -1, np.int8)
        flag[inside_mask] = result.inside.astype(np.int8)
        di_maps.append(di.reshape(shape))
        in_maps.append(flag.reshape(shape))
        thresholds.append(result.threshold)
        dbars.append(result.mean_training_distance)
        described[name] = {"covariates": columns, "weighted_by_importance": weights is not None}
    coords = {"member": list(params), "lat": mask["lat"].values, "lon": mask["lon"].values}
    return xr.Dataset(
        {
            "di": xr.DataArray(np.stack(di_maps), dims=("member", "lat", "lon"), coords=coords, attrs={"units": "1"}),
            "inside_aoa": xr.DataArray(
                np.stack(in_maps),
                dims=("member", "lat", "lon"),
                coords=coords,
                attrs={"flag_values": "1 inside, 0 outside, -1 off mask"},
            ),
            "threshold": xr.DataArray(thresholds, dims="member", coords={"member": list(params)}, attrs={"units": "1"}),
            "mean_training_distance": xr.DataArray(dbars, dims="member", coords={"member": list(params)}),
        },
        attrs={
            "method": "Meyer & Pebesma (2021): DI = nearest-site distance / mean site distance in scaled (importance-weighted) "
            "covariates; threshold = upper whisker (Q75 + 1.5 IQR, largest observed) of the training DI across blocked CV folds",
            "covariates": json.dumps(described),
            "n_splits": n_splits,
            "block_deg": block_deg,
            "seed": seed,
            "n_obs": len(obs),
        },
    )


def build_member_aoa(data_version: str = "v5", forcing: str = "worldclim") -> xr.Dataset:
    """AOA of the standardized members of one protocol run (no cache); see :func:`load_member_aoa`."""
    ens = load_ensemble(data_version, forcing)
    obs, _ = load_observations(data_version, forcing)
    static_lc = _landcover(ens)
    params = {m: json.loads(ens.attrs[f"params_{m}"]) for m in ens["member"].values}
    return member_aoa(obs, params, load_climatology(forcing), static_lc, ens["land_mask"].astype(bool))


def _landcover(ens: xr.Dataset) -> xr.DataArray:
    """The 0.5-degree land-cover groups, checked against the ensemble's grid."""
    lc = load_static_05()["landcover_group"]
    check_same_grid(lc, ens["land_mask"], "land-cover grid", "ensemble grid")
    return lc


def load_member_aoa(data_version: str = "v5", forcing: str = "worldclim", refresh: bool = False) -> xr.Dataset:
    """Cached :func:`build_member_aoa` (NetCDF under ``get_cache_dir()/ensemble``).

    Returns
    -------
    xarray.Dataset
        As :func:`member_aoa`, for the members of :func:`globalrs.estimates.ensemble.load_ensemble`.
    """
    key = cache_key(
        "aoa",
        f"{MODEL_VERSION}.{AOA_VERSION}",
        input_names(data_version),
        data_version=data_version,
        forcing=forcing,
        seed=SEED,
        **AOA_FOLDS,
        **members.cache_params(),
    )
    path = cache_path("ensemble", f"aoa-{data_version}-{forcing}", key)
    return cached_build(
        path,
        lambda: build_member_aoa(data_version, forcing),
        read_netcdf,
        lambda ds, target: write_netcdf_atomic(ds.assign_attrs(cache_key=key), target),
        refresh=refresh,
    )


def outside_aoa_shares(
    rs_annual: xr.DataArray, inside_aoa: xr.DataArray, cell_area_m2: xr.DataArray, land_fraction: xr.DataArray, mask: xr.DataArray
) -> pd.DataFrame:
    """Each member's land and global total inside and outside its own AOA.

    Parameters
    ----------
    rs_annual
        ``(member, lat, lon)`` g C m-2 yr-1.
    inside_aoa
        ``(member, lat, lon)`` flags from :func:`member_aoa` (1 inside, 0 outside).
    cell_area_m2, land_fraction, mask
        Totals use cell area x land fraction over ``mask`` (the ensemble's land mask).

    Returns
    -------
    pandas.DataFrame
        Index ``member``; ``land_outside_pct`` (of the mask's land area), ``total_pg``,
        ``outside_pg``, ``outside_pct`` (of the member's total), ``mean_outside_g_m2_yr`` and
        ``mean_inside_g_m2_yr`` (land-area-weighted).
    """
    check_same_grid(inside_aoa, rs_annual, "AOA flags", "member maps")
    mask = mask.astype(bool)
    land_area_m2 = cell_area_m2 * land_fraction
    weight = land_area_m2.where(mask)
    rows = []
    for name in rs_annual["member"].values:
        rs = rs_annual.sel(member=name)
        outside = (inside_aoa.sel(member=name) == 0) & mask
        if int((rs.isnull() & mask).sum()):
            raise ValueError(f"member {name}: NaN inside the land mask")
        total = float(global_total_pg(rs, area_m2=land_area_m2, mask=mask))
        out_pg = float(global_total_pg(rs, area_m2=land_area_m2, mask=outside))
        w_out = weight.where(outside)
        w_in = weight.where(mask & ~outside)
        rows.append(
            {
                "member": str(name),
                "land_outside_pct": 100 * float(w_out.sum() / weight.sum()),
                "total_pg": total,
                "outside_pg": out_pg,
                "outside_pct": 100 * out_pg / total,
                "mean_outside_g_m2_yr": float((rs * w_out).sum() / w_out.sum()) if float(w_out.sum()) > 0 else float("nan"),
                "mean_inside_g_m2_yr": float((rs * w_in).sum() / w_in.sum()),
            }
        )
    return pd.DataFrame(rows).set_index("member")


def common_aoa_mask(inside_aoa: xr.DataArray, mask: xr.DataArray) -> xr.DataArray:
    """Cells of ``mask`` inside the AOA of every member (the land every member can speak for)."""
    check_same_grid(inside_aoa, mask, "AOA flags", "land mask")
    out = (inside_aoa == 1).all("member") & mask.astype(bool)
    return out.rename("common_aoa").drop_vars([c for c in out.coords if c not in ("lat", "lon")])


def _member_cv(totals: xr.DataArray) -> pd.Series:
    """The CV column of :func:`globalrs.gridding.regions.regional_cv` alone (no interval is shown here, so none is drawn)."""
    return regions.regional_cv(totals, min_boot_members=totals.sizes["member"] + 1)["cv"]


def regional_aoa_table(
    rs_annual: xr.DataArray,
    inside_aoa: xr.DataArray,
    weights: xr.DataArray,
    land_weight_m2: xr.DataArray,
    land_mask: xr.DataArray,
) -> pd.DataFrame:
    """Each region's total and CV across members on all land beside the same inside the common AOA.

    Parameters
    ----------
    rs_annual
        ``(member, lat, lon)`` g C m-2 yr-1.
    inside_aoa
        ``(member, lat, lon)`` flags from :func:`member_aoa` (1 inside).
    weights
        ``(region, lat, lon)`` region weights (:func:`globalrs.gridding.regions.region_weights`).
    land_weight_m2
        Land area of each cell (cell area x land fraction), m2.
    land_mask
        The ensemble's land mask.

    Returns
    -------
    pandas.DataFrame
        Index ``region``: mean total and CV (%) on all land, the share of the region's land inside
        every member's AOA (%), and mean total and CV (%) on that common AOA.
    """
    common = common_aoa_mask(inside_aoa, land_mask)
    ones = xr.ones_like(land_weight_m2).assign_attrs(units="g C m-2 yr-1")
    reg_all = regions.regional_totals_pg(rs_annual, weights, area_m2=land_weight_m2, mask=land_mask)
    reg_aoa = regions.regional_totals_pg(rs_annual, weights, area_m2=land_weight_m2, mask=common)
    land_all = regions.regional_totals_pg(ones, weights, area_m2=land_weight_m2, mask=land_mask)
    land_aoa = regions.regional_totals_pg(ones, weights, area_m2=land_weight_m2, mask=common)
    table = pd.DataFrame(
        {
            "mean total, all land (Pg C yr-1)": reg_all.mean("member").to_series(),
            "CV across members, all land (%)": 100 * _member_cv(reg_all),
            "land inside the common AOA (%)": 100 * (land_aoa / land_all).to_series(),
            "mean total, common AOA (Pg C yr-1)": reg_aoa.mean("member").to_series(),
            "CV across members, common AOA (%)": 100 * _member_cv(reg_aoa),
        }
    )
    table.index.name = "region"
    return table
