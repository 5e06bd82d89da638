"""Evaluation of the ensemble members: spatially blocked cross-validation and a site bootstrap.

* :func:`cross_validate_members` - out-of-fold scores (RMSE, MAE, R2, bias) with whole
  10-degree blocks held out;
* :func:`bootstrap_totals` - each member refitted on sites resampled with replacement and
  totalled globally (cell area x land fraction);
* :func:`load_evaluation` - both, cached.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.core.progress import progress_bar
from globalrs.core.units import G_PER_PG
from globalrs.estimates import members as member_registry
from globalrs.estimates.ensemble import (
    MEMBERS,
    MODEL_VERSION,
    OPTIONAL_MEMBERS,
    SEED,
    fit_member_arrays,
    grid_cells,
    input_names,
    make_estimator,
    make_features,
    predict_member_arrays,
)
from globalrs.estimates.inputs import (
    forcing_land_mask,
    load_climatology,
    load_observations,
    load_static_05,
    monthly_arrays,
    spatial_block,
)
from globalrs.sources.cache import cache_key, cache_path, cached_build, read_netcdf, write_netcdf_atomic


def score_predictions(observed, predicted) -> dict[str, float]:
    """RMSE, MAE, R2 (1 - SSE/SST) and bias (mean predicted - observed) of paired values."""
    obs = np.asarray(observed, float)
    pred = np.asarray(predicted, float)
    if obs.shape != pred.shape or obs.size < 2:
        raise ValueError("observed and predicted must be paired arrays of at least two values")
    err = pred - obs
    sst = float(((obs - obs.mean()) ** 2).sum())
    return {
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": float(np.mean(np.abs(err))),
        "r2": float(1.0 - (err**2).sum() / sst) if sst > 0 else float("nan"),
        "bias": float(err.mean()),
    }


def blocked_folds(
    obs: pd.DataFrame, n_splits: int = 5, block_deg: float = 10.0, seed: int = SEED
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train/test index pairs of a spatially blocked K-fold split (whole blocks held out).

    Blocks are ``block_deg`` x ``block_deg`` boxes; each block is assigned to one fold at random
    (seeded), so no site of a test block is ever in its training set.
    """
    blocks = spatial_block(obs["lat"], obs["lon"], block_deg)
    unique = np.unique(blocks)
    if unique.size < n_splits:
        raise ValueError(f"only {unique.size} spatial blocks for {n_splits} folds")
    rng = np.random.default_rng(seed)
    fold_of_block = dict(zip(rng.permutation(unique), np.arange(unique.size) % n_splits, strict=True))
    fold = np.array([fold_of_block[b] for b in blocks])
    return [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(n_splits)]


class GridCovariates:
    """Per-cell covariates to predict on, with the tree members' features built once for all refits.

    Parameters
    ----------
    tmean_c, prec_mm_month
        ``(n, 12)`` climate of the cells.
    landcover_group
        ``(n,)`` land-cover group of the cells.
    """

    def __init__(self, tmean_c: np.ndarray, prec_mm_month: np.ndarray, landcover_group: np.ndarray) -> None:
        self.tmean_c, self.prec_mm_month, self.landcover_group = tmean_c, prec_mm_month, landcover_group
        self._features: np.ndarray | None = None

    @property
    def features(self) -> np.ndarray:
        """:func:`globalrs.estimates.ensemble.make_features` of the cells (built on first use)."""
        if self._features is None:
            self._features = make_features(self.tmean_c, self.prec_mm_month, self.landcover_group)
        return self._features


def fit_predict_member(
    name: str,
    tmean_c: np.ndarray,
    prec_mm_month: np.ndarray,
    landcover_group: np.ndarray,
    rs_g_m2_yr: np.ndarray,
    seed: int,
    grid: GridCovariates,
) -> np.ndarray:
    """Fit member ``name`` on observations and predict annual Rs (g C m-2 yr-1, clipped at 0) on ``grid``.

    The numbers of ``predict_member_arrays(name, *fit_member_arrays(name, ...), ...)``, cheaper
    for the tree members: they fit and predict in the calling thread (``n_jobs=1``: the same trees,
    as the forest draws every tree's seed before it fits; a fixed summation order) and predict from
    the grid's features built once, not once per refit.
    """
    try:
        est = make_estimator(name, seed)
    except ValueError:  # not a machine-learning member
        params, _ = fit_member_arrays(name, tmean_c, prec_mm_month, landcover_group, rs_g_m2_yr, seed)
        return predict_member_arrays(name, params, None, grid.tmean_c, grid.prec_mm_month, grid.landcover_group)
    est = member_registry.single_threaded(est)
    t, p = np.asarray(tmean_c, float), np.asarray(prec_mm_month, float)
    est.fit(make_features(t, p, landcover_group), np.asarray(rs_g_m2_yr, float))
    return np.maximum(est.predict(grid.features), 0.0)


def cross_validate_members(
    obs: pd.DataFrame, members: tuple[str, ...] | None = None, n_splits: int = 5, block_deg: float = 10.0, seed: int = SEED
) -> pd.DataFrame:
    """Spatially blocked cross-validation of every member on an observation table.

    Returns
    -------
    pandas.DataFrame
        One row per member: ``rmse``, ``mae``, ``bias`` (g C m-2 yr-1), ``r2``, ``n_obs``,
        ``n_blocks``, ``n_splits``, ``block_deg`` (out-of-fold predictions pooled over folds).
    """
    t, p = monthly_arrays(obs)
    lc = obs["landcover_group"].to_numpy()
    rs = obs["rs_g_m2_yr"].to_numpy(float)
    folds = blocked_folds(obs, n_splits, block_deg, seed)
    rows = []
    for name in progress_bar(members or tuple(MEMBERS), desc="cross-validation", unit="member"):
        pred = np.full(rs.size, np.nan)
        for train, test in folds:
            held_out = GridCovariates(t[test], p[test], lc[test])
            pred[test] = fit_predict_member(name, t[train], p[train], lc[train], rs[train], seed, held_out)
        scores = score_predictions(rs, pred)
        rows.append(
            {
                "member": name,
                "method_family": {**MEMBERS, **OPTIONAL_MEMBERS}[name][0],
                **scores,
                "n_obs": int(rs.size),
                "n_blocks": int(np.unique(spatial_block(obs["lat"], obs["lon"], block_deg)).size),
                "n_splits": n_splits,
                "block_deg": block_deg,
            }
        )
    return pd.DataFrame(rows)


def bootstrap_totals(
    obs: pd.DataFrame,
    climate: xr.Dataset,
    static: xr.Dataset,
    members: tuple[str, ...] | None = None,
    n_boot: int = 30,
    seed: int = SEED,
    verbose: bool = False,
) -> pd.DataFrame:
    """Refit each member on sites resampled with replacement and total each refit globally.

    Parameters
    ----------
    obs
        Observation table (:func:`globalrs.estimates.inputs.load_observations`); resampling is by ``site`` (all records of
        a drawn site come along).
    climate, static
        :func:`globalrs.estimates.inputs.load_climatology` and :func:`globalrs.estimates.inputs.load_static_05` outputs.
    n_boot
        Number of resamples.

    Returns
    -------
    pandas.DataFrame
        Columns ``member``, ``replicate``, ``total_pg_c_yr`` (cell area x land fraction).
    """
    _, tg, pg, lcg, valid = grid_cells(climate, static["landcover_group"])
    inside = forcing_land_mask(static, climate).values.reshape(-1)
    if (inside & ~valid).any():
        raise ValueError("cells inside the land mask lack a covariate")
    weight = (static["cell_area_m2"] * static["land_fraction"]).values.reshape(-1)[inside]
    tg, pg, lcg = tg[inside], pg[inside], lcg[inside]
    t, p = monthly_arrays(obs)
    lc = obs["landcover_group"].to_numpy()
    rs = obs["rs_g_m2_yr"].to_numpy(float)
    sites = obs["site"].to_numpy()
    unique_sites, inverse = np.unique(sites, return_inverse=True)
    rows_of_site = [np.flatnonzero(inverse == k) for k in range(unique_sites.size)]
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, unique_sites.size, unique_sites.size) for _ in range(n_boot)]
    grid = GridCovariates(tg, pg, lcg)
    out = []
    for name in progress_bar(members or tuple(MEMBERS), desc="bootstrap", unit="member"):
        t0 = time.perf_counter()
        for rep, draw in enumerate(draws):
            idx = np.concatenate([rows_of_site[k] for k in draw])
            pred = fit_predict_member(name, t[idx], p[idx], lc[idx], rs[idx], seed + rep, grid)
            out.append({"member": name, "replicate": rep, "total_pg_c_yr": float((pred * weight).sum() / G_PER_PG)})
        if verbose:
            print(f"  bootstrap {name}: {n_boot} refits in {time.perf_counter() - t0:.1f} s", flush=True)
    return pd.DataFrame(out)


def evaluate_observations(
    obs: pd.DataFrame,
    forcing: str = "worldclim",
    n_boot: int = 30,
    n_splits: int = 5,
    block_deg: float = 10.0,
    seed: int = SEED,
    verbose: bool = False,
) -> xr.Dataset:
    """Cross-validation scores and bootstrap totals of every member fitted on ``obs``, as one Dataset.

    Parameters
    ----------
    obs
        Observation table (:func:`globalrs.estimates.inputs.load_observations` or the same columns).
    forcing
        Climate forcing of the bootstrap predictions (``"worldclim"`` or ``"udel"``).
    n_boot, n_splits, block_deg, seed
        Bootstrap replicates, CV folds, CV block size (degrees) and random seed.
    verbose
        Print progress.

    Returns
    -------
    xarray.Dataset
        ``cv_score`` (member, metric) and ``bootstrap_total`` (member, replicate, Pg C yr-1), with
        coordinate ``method_family`` and the settings and counts in attributes.
    """
    cv = cross_validate_members(obs, n_splits=n_splits, block_deg=block_deg, seed=seed)
    if verbose:
        print("  cross-validation done", flush=True)
    boot = bootstrap_totals(obs, load_climatology(forcing), load_static_05(), n_boot=n_boot, seed=seed, verbose=verbose)
    metrics = ["rmse", "mae", "r2", "bias"]
    members = list(cv["member"])
    ds = xr.Dataset(
        {
            "cv_score": xr.DataArray(
                cv[metrics].to_numpy(float),
                dims=("member", "metric"),
                coords={"member": members, "metric": metrics},
                attrs={"units": "g C m-2 yr-1 (rmse, mae, bias); 1 (r2)"},
            ),
            "bootstrap_total": xr.DataArray(
                boot.pivot(index="member", columns="replicate", values="total_pg_c_yr").loc[members].to_numpy(float),
                dims=("member", "replicate"),
                coords={"member": members, "replicate": np.arange(n_boot)},
                attrs={"units": "Pg C yr-1"},
            ),
        },
        attrs={
            "forcing": forcing,
            "n_boot": n_boot,
            "n_splits": n_splits,
            "block_deg": block_deg,
            "seed": seed,
            "n_obs": len(obs),
            "n_sites": int(obs["site"].nunique()),
            "n_blocks": int(cv["n_blocks"].iloc[0]),
            "bootstrap": "refit on sites resampled with replacement; totals use cell area x land fraction",
        },
    )
    return ds.assign_coords(method_family=("member", [MEMBERS[m][0] for m in members]))


def build_evaluation(
    data_version: str = "v5",
    forcing: str = "worldclim",
    n_boot: int = 30,
    n_splits: int = 5,
    block_deg: float = 10.0,
    seed: int = SEED,
    verbose: bool = False,
) -> xr.Dataset:
    """Cross-validation scores and bootstrap totals of every member, as one Dataset (no cache)."""
    obs, _ = load_observations(data_version, forcing)
    ds = evaluate_observations(obs, forcing, n_boot=n_boot, n_splits=n_splits, block_deg=block_deg, seed=seed, verbose=verbose)
    return ds.assign_attrs(data_version=data_version)


def load_evaluation(data_version: str = "v5", forcing: str = "worldclim", n_boot: int = 30, refresh: bool = False) -> xr.Dataset:
    """Cached :func:`build_evaluation` (NetCDF under ``get_cache_dir()/ensemble``).

    Parameters
    ----------
    data_version, forcing
        As for :func:`globalrs.estimates.ensemble.load_ensemble`.
    n_boot
        Bootstrap resamples.
    refresh
        Rebuild even if a cached file exists.

    Returns
    -------
    xarray.Dataset
        ``cv_score`` (member, metric) for metrics rmse, mae, r2, bias (spatially blocked 10-degree
        5-fold CV) and ``bootstrap_total`` (member, replicate) in Pg C yr-1.
    """
    key = cache_key(
        "evaluation",
        MODEL_VERSION,
        input_names(data_version),
        data_version=data_version,
        forcing=forcing,
        n_boot=n_boot,
        seed=SEED,
        **member_registry.cache_params(),
    )
    path = cache_path("ensemble", f"evaluation-{data_version}-{forcing}", key)
    return cached_build(
        path,
        lambda: build_evaluation(data_version, forcing, n_boot=n_boot),
        read_netcdf,
        lambda ds, target: write_netcdf_atomic(ds.assign_attrs(cache_key=key), target),
        refresh=refresh,
    )
