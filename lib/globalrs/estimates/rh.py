"""Data-driven heterotrophic respiration (Rh) by four routes.

1. **Standardized protocol on Rh observations** (:func:`load_rh_ensemble`): the six members of
   :mod:`globalrs.estimates.ensemble` (same method families, forcing, covariates, land mask, blocked
   cross-validation and site bootstrap) fitted on SRDB-V5 ``Rh_annual`` instead of ``Rs_annual``.
   Nothing keeps such a member below the Rs member of its method (:func:`share_above` measures it).
1b. **Rs members x Rh/Rs** (:func:`load_ratio_route`, :func:`rh_from_ratio`): the Rh/Rs ratio of
   the SRDB records that report both, fitted with bounded regressors (:data:`RATIO_MODELS`: every
   prediction is a mean of observed ratios, so it lies in 0..1), times every Rs member: Rh <= Rs by
   construction.
2. **Rs members x (1 - RC)** (:func:`rh_from_root_contribution`): the standardized Rs members
   times one minus the root contribution to soil respiration, RC = Ra/Rs, mapped by
   Jian et al. (2022); RC's standard deviation is carried into an interval.
3. **CARDAMOM** (:func:`cardamom_on_mask`): the Rh of a model-data fusion system (Bloom et al.
   2016) as saved by Varney et al. (2020), read by :func:`globalrs.process_models.cmipmaps.read_cardamom_rh`.
   It is not an upscaling of chamber data: a carbon-cycle model is fitted to satellite and
   inventory observations, so it is an independent route, not a purely data-driven one.

Every map is on the book's 0.5-degree grid in g C m-2 yr-1 per m2 of land, and every total uses
cell area x land fraction on the ensemble's land mask, like the Rs members.
:func:`cross_validate_routes` and :func:`route_skill` score every route against the Rh records it
did not see (spatially blocked); only candidate routes (:data:`REFERENCE_CANDIDATES`) with skill
enter the data-driven reference of :mod:`globalrs.process_models.benchmark`.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.core import grid
from globalrs.core.grid import global_total_pg
from globalrs.core.units import G_PER_KG
from globalrs.estimates import ensemble, evaluate, filters, inputs
from globalrs.estimates import members as member_registry
from globalrs.sources import readers
from globalrs.sources.cache import NETCDF_ENGINE, cache_key, cache_path, cached_build, read_netcdf, write_netcdf_atomic
from globalrs.sources.data import fetch, get_entry

#: Root contribution to soil respiration (Jian et al. 2022), 0.5 degree, latitude descending.
RC_FILE = "jian2020-rc/global_Rt_contribution_to_Rs2.nc"
#: Names of the RC fraction and its standard deviation in :data:`RC_FILE`.
RC_VARIABLES = ("RC", "SD_RC")
#: Multiplier of RC's SD for the interval of route 2: RC -/+ 1 SD, applied to every cell at once
#: (errors fully correlated across cells, the widest global interval one SD allows).
RC_Z = 1.0
#: Plausible Rh range (g C m-2 yr-1): the same bounds as the Rs filter, so the filters match.
RH_ANNUAL_RANGE_G_M2_YR = filters.RS_ANNUAL_RANGE_G_M2_YR
#: The routes, in display order: key -> short label (the chapter's tables show it).
ROUTES = {
    "standardized": "Rh members fitted on SRDB Rh_annual",
    "ratio": "Rs members x Rh/Rs fitted on SRDB pairs",
    "root_contribution": "Rs members x (1 - RC) (Jian et al. 2022)",
    "cardamom": "CARDAMOM (model-data fusion, Bloom et al. 2016)",
}
#: Routes that may enter the data-driven Rh reference: the two that keep Rh within Rs by
#: construction (Rs members times a fraction in 0..1). The direct fit on Rh records does not keep
#: Rh below Rs and CARDAMOM is a model-data fusion product scored like a model; which candidates
#: enter is decided by their skill (:func:`route_skill`).
REFERENCE_CANDIDATES = ("ratio", "root_contribution")
#: Published Rh / Rs values shown beside ours, with what they are and where they come from.
RESCOM_FILE = "compilations/ResCom_Global_Respiration_estimates_and_trends.csv"
BL2018_SRDB_FILE = "isimip2a/srdb_filtered_bondlamberty2018.csv"
GRID_RH_UNITS = "g C m-2 yr-1"
#: Result version of the cached Rh ensemble and evaluation: bump it when their computation changes.
CACHE_VERSION = "2"


# --------------------------------------------------------------------------------------------
# route 1: the standardized protocol fitted on SRDB Rh_annual
# --------------------------------------------------------------------------------------------
def filter_srdb_rh(
    frame: pd.DataFrame, land_mask: xr.DataArray | None = None, rh_range: tuple[float, float] = RH_ANNUAL_RANGE_G_M2_YR
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Rs observation filter of :func:`globalrs.estimates.filters.filter_srdb`, applied to ``Rh_annual``.

    Steps: Rh_annual reported; ``Manipulation == "None"``; no problem quality flag
    (:data:`globalrs.estimates.filters.SRDB_BAD_QUALITY_FLAGS`); valid coordinates; plausible Rh range;
    and, when ``land_mask`` is given, the site's cell inside the land mask.

    Returns
    -------
    kept, steps
        Kept records and the table of records removed per step (``step``, ``removed``,
        ``remaining``).
    """
    if "Rh_annual" not in frame.columns:
        raise ValueError("SRDB frame has no Rh_annual column")
    frame = frame.copy()
    frame["Rh_annual"] = pd.to_numeric(frame["Rh_annual"], errors="coerce")
    rules = [
        ("Rh_annual reported", lambda f: f["Rh_annual"].notna()),
        ('Manipulation == "None"', lambda f: f["Manipulation"].astype(str).str.strip() == "None"),
        ("no problem quality flag (Q10-Q14)", lambda f: ~filters.has_bad_quality_flag(f["Quality_flag"])),
        filters.VALID_COORDINATES_RULE,
        (
            f"Rh_annual in ({rh_range[0]:g}, {rh_range[1]:g}] g C m-2 yr-1",
            lambda f: f["Rh_annual"].between(rh_range[0], rh_range[1], inclusive="right"),
        ),
    ]
    return filters.apply_filter_steps(frame, rules + filters.land_mask_rules(land_mask))


def load_rh_observations(data_version: str = "v5", forcing: str = "worldclim") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Filtered SRDB Rh records with covariates read from the prediction grids.

    Returns
    -------
    obs, steps
        ``obs`` has the columns of :func:`globalrs.estimates.inputs.load_observations`. The annual Rh
        value is in column ``rs_g_m2_yr`` because the fitting, cross-validation and bootstrap
        functions of :mod:`globalrs.estimates.ensemble` read the response from that column; ``rh_g_m2_yr``
        holds the same values under their own name, and ``attrs["response"]`` says which flux
        it is. ``steps`` is the filter table.
    """
    static = inputs.load_static_05()
    climate = inputs.load_climatology(forcing)
    kept, steps = filter_srdb_rh(readers.read_srdb(data_version), land_mask=static["land_mask"])
    rh = kept["Rh_annual"].to_numpy(float)
    # the response column name expected by ensemble.fit_members_on / cross_validate_members /
    # bootstrap_totals: here it holds heterotrophic, not total, soil respiration
    obs = inputs.observation_table(kept, climate, static["landcover_group"], {"rs_g_m2_yr": rh, "rh_g_m2_yr": rh})
    obs.attrs.update(data_version=data_version, forcing=forcing, response="Rh_annual")
    return obs, steps


def rh_cache_key(kind: str, **params) -> str:
    """Cache key: the ensemble's inputs and model version, this module's version, the parameters."""
    return cache_key(
        kind,
        f"{ensemble.MODEL_VERSION}-rh{CACHE_VERSION}",
        ensemble.input_names(params.get("data_version", "v5")),
        **params,
        **member_registry.cache_params(),
    )


def build_rh_ensemble(
    data_version: str = "v5", forcing: str = "worldclim", seed: int = ensemble.SEED, verbose: bool = False
) -> xr.Dataset:
    """Fit and predict the six members on SRDB Rh (no cache); see :func:`load_rh_ensemble`."""
    t0 = time.perf_counter()
    static = inputs.load_static_05()
    climate = inputs.load_climatology(forcing)
    obs, steps = load_rh_observations(data_version, forcing)
    fitted = ensemble.fit_members_on(obs, data_version, forcing, seed=seed)
    mask = static["land_mask"]
    rh, attrs = ensemble.predict_on_mask(fitted, climate, static["landcover_group"], mask, "Rh member", t0 if verbose else None)
    rh.attrs = {"units": GRID_RH_UNITS, "long_name": "annual heterotrophic soil respiration"}
    ds = xr.Dataset(
        {"rh_annual": rh, "land_mask": mask, "cell_area_m2": static["cell_area_m2"], "land_fraction": static["land_fraction"]}
    )
    ds.attrs.update(attrs)
    ds.attrs.update(ensemble.fit_attrs(obs, steps, data_version, forcing, seed))
    ds.attrs.update(
        {
            "title": "Standardized-protocol heterotrophic respiration ensemble",
            "response": "SRDB Rh_annual",
            "code": "globalrs.estimates.rh.build_rh_ensemble",
        }
    )
    return ds


def _read_gridded(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine=NETCDF_ENGINE) as ds:
        ds = ds.load()
    ds["land_mask"] = ds["land_mask"].astype(bool)
    return ds


def load_rh_ensemble(data_version: str = "v5", forcing: str = "worldclim", refresh: bool = False) -> xr.Dataset:
    """Route 1: the standardized-protocol members fitted on SRDB ``Rh_annual``, cached as NetCDF.

    Returns
    -------
    xarray.Dataset
        ``rh_annual`` (member, lat, lon) g C m-2 yr-1 with coordinate ``method_family``;
        ``land_mask``, ``cell_area_m2``, ``land_fraction``; filter steps and parameters in attrs.
    """
    key = rh_cache_key("rh_ensemble", data_version=data_version, forcing=forcing, seed=ensemble.SEED)
    path = cache_path("rh", f"rh-ensemble-{data_version}-{forcing}", key)
    write = functools.partial(ensemble.write_gridded, key=key)
    return cached_build(path, lambda: build_rh_ensemble(data_version, forcing), _read_gridded, write, refresh)


def build_rh_evaluation(
    data_version: str = "v5", forcing: str = "worldclim", n_boot: int = 30, seed: int = ensemble.SEED, verbose: bool = False
) -> xr.Dataset:
    """Blocked cross-validation and site bootstrap of the Rh members (no cache).

    The same functions as the Rs members (:func:`globalrs.estimates.evaluate.cross_validate_members`,
    :func:`globalrs.estimates.evaluate.bootstrap_totals`), on the Rh observation table.
    """
    obs, _ = load_rh_observations(data_version, forcing)
    ds = evaluate.evaluate_observations(obs, forcing, n_boot=n_boot, seed=seed, verbose=verbose)
    return ds.assign_attrs(response="SRDB Rh_annual", data_version=data_version)


def load_rh_evaluation(
    data_version: str = "v5", forcing: str = "worldclim", n_boot: int = 30, refresh: bool = False
) -> xr.Dataset:
    """Cached :func:`build_rh_evaluation`: ``cv_score`` (member, metric), ``bootstrap_total`` (member, replicate)."""
    key = rh_cache_key("rh_evaluation", data_version=data_version, forcing=forcing, n_boot=n_boot, seed=ensemble.SEED)
    path = cache_path("rh", f"rh-evaluation-{data_version}-{forcing}", key)

    def write(ds: xr.Dataset, target: Path) -> None:
        write_netcdf_atomic(ds.assign_attrs(cache_key=key), target)

    return cached_build(path, lambda: build_rh_evaluation(data_version, forcing, n_boot=n_boot), read_netcdf, write, refresh)


# --------------------------------------------------------------------------------------------
# the ratio route: Rs members x an Rh/Rs ratio fitted on the SRDB records that report both
# --------------------------------------------------------------------------------------------
#: Bounded regressors of the Rh/Rs ratio -> description. Both predict averages of observed
#: ratios, so every prediction lies in [0, 1] by construction (no clipping): the land-cover class
#: mean (like the area x mean member) and the random forest of the members (its prediction is a
#: mean of training ratios in the leaves).
RATIO_MODELS = {
    "landcover_mean": "mean observed Rh/Rs per MODIS vegetation class",
    "random_forest": "random forest on climate and land cover",
}


def filter_srdb_pairs(
    frame: pd.DataFrame, land_mask: xr.DataArray | None = None, rh_range: tuple[float, float] = RH_ANNUAL_RANGE_G_M2_YR
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Records reporting both Rh and Rs: the Rh filter, then Rs reported in range and Rh <= Rs.

    A record whose Rh exceeds its own Rs is internally inconsistent (different years or methods
    for the two fluxes); it is removed and counted, never clipped.

    Returns
    -------
    kept, steps
        As :func:`filter_srdb_rh`, with column ``rh_rs_ratio`` (0..1) added to ``kept``.
    """
    if "Rs_annual" not in frame.columns:
        raise ValueError("SRDB frame has no Rs_annual column")
    kept, steps = filter_srdb_rh(frame, land_mask, rh_range)
    kept = kept.copy()
    kept["Rs_annual"] = pd.to_numeric(kept["Rs_annual"], errors="coerce")
    rules = [
        (
            f"Rs_annual reported, in ({rh_range[0]:g}, {rh_range[1]:g}] g C m-2 yr-1",
            lambda f: f["Rs_annual"].between(rh_range[0], rh_range[1], inclusive="right"),
        ),
        ("Rh_annual <= Rs_annual", lambda f: f["Rh_annual"] <= f["Rs_annual"]),
    ]
    more, more_steps = filters.apply_filter_steps(kept, rules)
    steps = pd.concat([steps, more_steps.iloc[1:]], ignore_index=True)
    more["rh_rs_ratio"] = more["Rh_annual"] / more["Rs_annual"]
    return more, steps


def load_ratio_observations(data_version: str = "v5", forcing: str = "worldclim") -> tuple[pd.DataFrame, pd.DataFrame]:
    """SRDB records reporting both Rh and Rs (:func:`filter_srdb_pairs`) with their covariates.

    Returns
    -------
    obs, steps
        ``obs``: ``rh_rs_ratio``, ``rh_g_m2_yr``, ``rs_g_m2_yr`` and the covariate columns of
        :func:`load_rh_observations`; ``steps`` the filter table.
    """
    static = inputs.load_static_05()
    climate = inputs.load_climatology(forcing)
    kept, steps = filter_srdb_pairs(readers.read_srdb(data_version), land_mask=static["land_mask"])
    cols = {
        "rh_rs_ratio": kept["rh_rs_ratio"].to_numpy(float),
        "rh_g_m2_yr": kept["Rh_annual"].to_numpy(float),
        "rs_g_m2_yr": kept["Rs_annual"].to_numpy(float),
    }
    obs = inputs.observation_table(kept, climate, static["landcover_group"], cols)
    obs.attrs.update(data_version=data_version, forcing=forcing, response="Rh_annual / Rs_annual")
    return obs, steps


def fit_ratio_model(
    name: str,
    tmean_c: np.ndarray,
    prec_mm_month: np.ndarray,
    landcover_group: np.ndarray,
    ratio: np.ndarray,
    seed: int = ensemble.SEED,
) -> tuple[dict, object]:
    """Fit ratio model ``name`` (:data:`RATIO_MODELS`) on per-record arrays; ``(params, estimator)``.

    Raises
    ------
    ValueError
        An unknown model, or a ratio outside 0..1 (the bound the construction relies on).
    """
    ratio = np.asarray(ratio, float)
    if name not in RATIO_MODELS:
        raise ValueError(f"unknown ratio model {name!r}; known: {sorted(RATIO_MODELS)}")
    if ratio.size == 0 or not np.all((ratio >= 0) & (ratio <= 1)):
        raise ValueError("Rh/Rs ratios must all lie in 0..1 (filter the records with filter_srdb_pairs)")
    if name == "landcover_mean":
        params, _ = ensemble.fit_member_arrays("area_x_mean", tmean_c, prec_mm_month, landcover_group, ratio, seed)
        return params, None
    est = member_registry.single_threaded(ensemble.make_estimator("random_forest", seed))  # the same trees; see single_threaded
    est.fit(ensemble.make_features(tmean_c, prec_mm_month, landcover_group), ratio)
    return {"n_records": int(ratio.size)}, est


def predict_ratio(
    name: str, params: dict, estimator: Any, tmean_c: np.ndarray, prec_mm_month: np.ndarray, landcover_group: np.ndarray
) -> np.ndarray:
    """Rh/Rs of a fitted ratio model at ``(n, 12)`` climate and ``(n,)`` land cover (0..1, checked)."""
    if name == "landcover_mean":
        out = ensemble.predict_member_arrays("area_x_mean", params, None, tmean_c, prec_mm_month, landcover_group, clip=False)
    else:
        out = estimator.predict(ensemble.make_features(tmean_c, prec_mm_month, landcover_group))
    out = np.asarray(out, float)
    if out.size and not (np.nanmin(out) >= 0 and np.nanmax(out) <= 1):
        raise ValueError(f"ratio model {name}: a prediction outside 0..1 ({np.nanmin(out):g}..{np.nanmax(out):g})")
    return out


def _ratio_maps(
    fitted: dict, climate: xr.Dataset, landcover: xr.DataArray, mask: xr.DataArray, cells: tuple | None = None
) -> xr.DataArray:
    # cells: ensemble.grid_cells(climate, landcover), when the caller maps many refits on one grid
    _, t, p, lc, valid = ensemble.grid_cells(climate, landcover) if cells is None else cells
    inside = mask.values.reshape(-1).astype(bool)
    if (inside & ~valid).any():
        raise ValueError("cells inside the land mask lack a covariate")
    maps = []
    for name, (params, est) in fitted.items():
        flat = np.full(inside.size, np.nan)
        flat[inside] = predict_ratio(name, params, est, t[inside], p[inside], lc[inside])
        maps.append(flat.reshape(mask.shape))
    return xr.DataArray(
        np.stack(maps),
        dims=("ratio_model", "lat", "lon"),
        coords={"ratio_model": list(fitted), "lat": mask["lat"].values, "lon": mask["lon"].values},
        attrs={"units": "1", "long_name": "Rh/Rs fitted on SRDB records reporting both"},
    )


def build_ratio_route(
    data_version: str = "v5", forcing: str = "worldclim", n_boot: int = 30, seed: int = ensemble.SEED
) -> xr.Dataset:
    """Fit the ratio models, map them on the land mask and bootstrap them by site (no cache).

    Returns
    -------
    xarray.Dataset
        ``rh_rs_ratio`` (ratio_model, lat, lon); ``bootstrap_ratio_total`` (ratio_model,
        replicate): the global Rh of the Rs ensemble mean x each refit ratio map (Pg C yr-1,
        cell area x land fraction), the ratio's own sampling uncertainty.
    """
    static = inputs.load_static_05()
    climate = inputs.load_climatology(forcing)
    obs, steps = load_ratio_observations(data_version, forcing)
    t, p = inputs.monthly_arrays(obs)
    lc = obs["landcover_group"].to_numpy()
    ratio = obs["rh_rs_ratio"].to_numpy(float)
    mask = static["land_mask"].astype(bool)
    fitted = {name: fit_ratio_model(name, t, p, lc, ratio, seed) for name in RATIO_MODELS}
    maps = _ratio_maps(fitted, climate, static["landcover_group"], mask)
    rs_mean = ensemble.load_ensemble(data_version, forcing)["rs_annual"].mean("member")
    area = static["cell_area_m2"] * static["land_fraction"]
    sites = obs["site"].to_numpy()
    unique_sites, inverse = np.unique(sites, return_inverse=True)
    rows_of_site = [np.flatnonzero(inverse == k) for k in range(unique_sites.size)]
    rng = np.random.default_rng(seed)
    cells = ensemble.grid_cells(climate, static["landcover_group"])  # once for the n_boot refits
    boot = np.full((len(RATIO_MODELS), n_boot), np.nan)
    for rep in range(n_boot):
        idx = np.concatenate([rows_of_site[k] for k in rng.integers(0, unique_sites.size, unique_sites.size)])
        refit = {name: fit_ratio_model(name, t[idx], p[idx], lc[idx], ratio[idx], seed + rep) for name in RATIO_MODELS}
        rep_maps = _ratio_maps(refit, climate, static["landcover_group"], mask, cells)
        boot[:, rep] = global_total_pg(rs_mean * rep_maps, area_m2=area, mask=mask).values
    return xr.Dataset(
        {
            "rh_rs_ratio": maps,
            "bootstrap_ratio_total": xr.DataArray(
                boot,
                dims=("ratio_model", "replicate"),
                coords={"ratio_model": list(RATIO_MODELS), "replicate": np.arange(n_boot)},
                attrs={"units": "Pg C yr-1", "long_name": "global Rh: Rs ensemble mean x ratio refit on resampled sites"},
            ),
        },
        attrs={
            "n_obs": len(obs),
            "n_sites": int(obs["site"].nunique()),
            "n_boot": n_boot,
            "filter_steps": steps.to_json(orient="records"),
            "ratio_median": float(np.median(ratio)),
            "code": "globalrs.estimates.rh.build_ratio_route",
        },
    )


def load_ratio_route(data_version: str = "v5", forcing: str = "worldclim", n_boot: int = 30, refresh: bool = False) -> xr.Dataset:
    """Cached :func:`build_ratio_route`."""
    key = rh_cache_key("ratio_route", data_version=data_version, forcing=forcing, n_boot=n_boot, seed=ensemble.SEED)
    path = cache_path("rh", f"rh-ratio-{data_version}-{forcing}", key)

    def write(ds: xr.Dataset, target: Path) -> None:
        write_netcdf_atomic(ds.assign_attrs(cache_key=key), target)

    return cached_build(path, lambda: build_ratio_route(data_version, forcing, n_boot=n_boot), read_netcdf, write, refresh)


def rh_from_ratio(rs_annual: xr.DataArray, ratio: xr.DataArray) -> xr.DataArray:
    """Rh = Rs member x ratio model for every pair: ``(member, lat, lon)`` named ``<rs>_x_<ratio>``.

    The ``rs_member`` and ``ratio_model`` coordinates on ``member`` say which pair each member is.

    With every ratio in 0..1 (checked), no member exceeds the Rs member it is made from.
    """
    if rs_annual.attrs.get("units", GRID_RH_UNITS).replace(" ", "") != "gCm-2yr-1":
        raise ValueError(f"rs_annual must be in g C m-2 yr-1, got {rs_annual.attrs.get('units')!r}")
    if not grid.same_grid(rs_annual, ratio):
        raise ValueError("Rs and the ratio maps are on different grids")
    if bool((ratio < 0).any()) or bool((ratio > 1).any()):
        raise ValueError("Rh/Rs ratio maps must lie in 0..1")
    rs = _plain(rs_annual)
    parts = []
    for model in ratio["ratio_model"].values:
        part = rs * _plain(ratio.sel(ratio_model=model, drop=True))
        names = [str(m) for m in rs["member"].values]
        parts.append(
            part.assign_coords(
                member=[f"{m}_x_{model}" for m in names],
                rs_member=("member", names),
                ratio_model=("member", [str(model)] * len(names)),
            )
        )
    return xr.concat(parts, dim="member").assign_attrs(units=GRID_RH_UNITS, long_name="Rs member x Rh/Rs ratio model")


def _plain(da: xr.DataArray) -> xr.DataArray:
    return da.drop_vars([c for c in da.coords if c not in da.dims])


def share_above(rh_annual: xr.DataArray, rs_annual: xr.DataArray, area_m2: xr.DataArray, mask: xr.DataArray) -> float:
    """Share (%) of the land area of ``mask`` where Rh exceeds Rs (cells where both have a value)."""
    both = mask.astype(bool) & rh_annual.notnull() & rs_annual.notnull()
    denom = float(area_m2.where(both).sum())
    if denom <= 0:
        raise ValueError("Rh and Rs have no cell in common on the mask")
    return 100.0 * float(area_m2.where(both & (rh_annual > rs_annual)).sum()) / denom


# --------------------------------------------------------------------------------------------
# the skill of every route against Rh records it did not see
# --------------------------------------------------------------------------------------------
#: A route enters the data-driven reference only if its member-mean prediction of held-out Rh
#: records beats the mean of those records (blocked-CV R2 above this).
MIN_SKILL_R2 = 0.0


def cross_validate_routes(
    rs_obs: pd.DataFrame,
    rh_obs: pd.DataFrame,
    pairs: pd.DataFrame,
    rc_at_rh: np.ndarray,
    cardamom_at_rh: np.ndarray | None = None,
    n_splits: int = 5,
    block_deg: float = 10.0,
    seed: int = ensemble.SEED,
) -> pd.DataFrame:
    """Out-of-block predictions of the Rh records by every member of every route.

    The blocks of all three tables are assigned to folds together (seeded), so for a held-out
    block no Rs, Rh or Rh/Rs record of that block trained any member: the direct Rh members, the
    Rs members and the ratio models are refitted on the other folds, then predict the block's Rh
    records as the direct fit, Rs x ratio and Rs x (1 - RC). RC is the published map (it was
    fitted by its authors on SRDB partitioning records, so its part is not held out); CARDAMOM is
    sampled as it is (it saw no SRDB record).

    Parameters
    ----------
    rs_obs, rh_obs, pairs
        :func:`globalrs.estimates.inputs.load_observations`, :func:`load_rh_observations`,
        :func:`load_ratio_observations`.
    rc_at_rh, cardamom_at_rh
        RC and CARDAMOM Rh (g C m-2 yr-1) in each Rh record's cell (NaN: no value).

    Returns
    -------
    pandas.DataFrame
        One row per Rh record: ``observed``, ``fold`` and one column per route member named
        ``<route>:<member>`` (g C m-2 yr-1).
    """
    blocks = {
        k: inputs.spatial_block(frame["lat"], frame["lon"], block_deg)
        for k, frame in (("rs", rs_obs), ("rh", rh_obs), ("pair", pairs))
    }
    unique = np.unique(np.concatenate(list(blocks.values())))
    if unique.size < n_splits:
        raise ValueError(f"only {unique.size} spatial blocks for {n_splits} folds")
    rng = np.random.default_rng(seed)
    fold_of_block = dict(zip(rng.permutation(unique), np.arange(unique.size) % n_splits, strict=True))
    fold = {k: np.array([fold_of_block[b] for b in v]) for k, v in blocks.items()}
    arrays = {
        k: (*inputs.monthly_arrays(f), f["landcover_group"].to_numpy())
        for k, f in (("rs", rs_obs), ("rh", rh_obs), ("pair", pairs))
    }
    rs_y = rs_obs["rs_g_m2_yr"].to_numpy(float)
    rh_y = rh_obs["rh_g_m2_yr"].to_numpy(float)
    ratio_y = pairs["rh_rs_ratio"].to_numpy(float)
    out = {"observed": rh_y, "fold": fold["rh"]}
    names = list(ensemble.MEMBERS)
    cols = {f"standardized:{m}": np.full(rh_y.size, np.nan) for m in names}
    cols |= {f"ratio:{m}_x_{r}": np.full(rh_y.size, np.nan) for r in RATIO_MODELS for m in names}
    cols |= {f"root_contribution:{m}_x_1-RC": np.full(rh_y.size, np.nan) for m in names}
    t_rh, p_rh, lc_rh = arrays["rh"]
    for k in range(n_splits):
        test = fold["rh"] == k
        if not test.any():
            continue
        ratio_hat = {}
        held_out = evaluate.GridCovariates(t_rh[test], p_rh[test], lc_rh[test])  # tree features built once per fold
        train = fold["pair"] != k
        for r in RATIO_MODELS:
            t, p, lc = (a[train] for a in arrays["pair"])
            params, est = fit_ratio_model(r, t, p, lc, ratio_y[train], seed)
            ratio_hat[r] = predict_ratio(r, params, est, t_rh[test], p_rh[test], lc_rh[test])
        for m in names:
            for table, y, route in (("rs", rs_y, "rs"), ("rh", rh_y, "standardized")):
                train = fold[table] != k
                t, p, lc = (a[train] for a in arrays[table])
                pred = evaluate.fit_predict_member(m, t, p, lc, y[train], seed, held_out)
                if route == "standardized":
                    cols[f"standardized:{m}"][test] = pred
                    continue
                for r in RATIO_MODELS:
                    cols[f"ratio:{m}_x_{r}"][test] = pred * ratio_hat[r]
                cols[f"root_contribution:{m}_x_1-RC"][test] = pred * (1.0 - np.asarray(rc_at_rh, float)[test])
    out |= cols
    if cardamom_at_rh is not None:
        out["cardamom:cardamom"] = np.asarray(cardamom_at_rh, float)
    frame = pd.DataFrame(out)
    frame.attrs.update(n_splits=n_splits, block_deg=block_deg, seed=seed, n_blocks=int(unique.size))
    return frame


def route_skill(predictions: pd.DataFrame, min_r2: float = MIN_SKILL_R2) -> pd.DataFrame:
    """Blocked-CV scores of every member and every route's member mean, on the common records.

    Parameters
    ----------
    predictions
        :func:`cross_validate_routes`.
    min_r2
        A route's member-mean R2 must exceed this for ``skilful`` (see :data:`MIN_SKILL_R2`).

    Returns
    -------
    pandas.DataFrame
        Index (``route``, ``member``; ``"route mean"`` for the member mean): ``rmse``, ``mae``,
        ``r2``, ``bias`` (g C m-2 yr-1, R2 unitless), ``n_records`` and, on the route-mean rows,
        ``skilful``. Scored on the records every column predicts, so routes compare like with like.
    """
    cols = [c for c in predictions.columns if ":" in c]
    if not cols:
        raise ValueError("no route predictions in the table")
    common = predictions[cols].notna().all(axis=1)
    if int(common.sum()) < 2:
        raise ValueError("fewer than two Rh records have a prediction from every route")
    obs = predictions.loc[common, "observed"].to_numpy(float)
    rows = []
    for route in dict.fromkeys(c.split(":")[0] for c in cols):
        members = [c for c in cols if c.split(":")[0] == route]
        for c in members:
            rows.append(
                {"route": route, "member": c.split(":", 1)[1], **evaluate.score_predictions(obs, predictions.loc[common, c])}
            )
        mean_pred = predictions.loc[common, members].mean(axis=1)
        scores = evaluate.score_predictions(obs, mean_pred)
        rows.append({"route": route, "member": "route mean", **scores, "skilful": bool(scores["r2"] > min_r2)})
    table = pd.DataFrame(rows).set_index(["route", "member"])
    table["n_records"] = int(common.sum())
    return table


def reference_skill(predictions: pd.DataFrame, routes: list[str]) -> dict[str, float]:
    """Blocked-CV scores of a reference made of ``routes``: the mean of their route-mean predictions.

    Scored on the same records as :func:`route_skill` (those every column predicts), so it sits
    beside the routes' own scores.

    Returns
    -------
    dict
        ``rmse``, ``mae``, ``r2``, ``bias`` (:func:`globalrs.estimates.evaluate.score_predictions`) and ``n_records``.
    """
    cols = [c for c in predictions.columns if ":" in c]
    common = predictions[cols].notna().all(axis=1)
    unknown = [r for r in routes if not any(c.startswith(f"{r}:") for c in cols)]
    if unknown or not routes:
        raise ValueError(f"routes {unknown or routes} have no predictions in the table")
    means = [predictions.loc[common, [c for c in cols if c.startswith(f"{r}:")]].mean(axis=1) for r in routes]
    pred = pd.concat(means, axis=1).mean(axis=1)
    return {**evaluate.score_predictions(predictions.loc[common, "observed"], pred), "n_records": int(common.sum())}


# --------------------------------------------------------------------------------------------
# route 2: Rs members x (1 - RC)
# --------------------------------------------------------------------------------------------


def read_root_contribution() -> xr.Dataset:
    """The root contribution to soil respiration, RC = Ra/Rs, and its SD (Jian et al. 2022).

    Returns
    -------
    xarray.Dataset
        ``rc`` and ``rc_sd`` (lat, lon) as fractions on ascending 0.5-degree ``lat``/``lon``
        (the file stores latitude descending); NaN where the map has no value.

    Raises
    ------
    ValueError
        If the file is not the expected 0.5-degree map or RC is outside 0-1.
    """
    with xr.open_dataset(fetch(RC_FILE), engine=NETCDF_ENGINE) as ds:
        ds = ds.load()
    missing = [v for v in RC_VARIABLES if v not in ds]
    if missing:
        raise ValueError(f"{RC_FILE}: variables {missing} are missing (has {sorted(map(str, ds.data_vars))})")
    if "latitude" not in ds or "longitude" not in ds:
        raise ValueError(f"{RC_FILE}: latitude/longitude variables are missing")
    # the file stores (lon, lat) with coordinates as plain variables, latitude descending
    ds = ds.assign_coords(
        lat=("lat", ds["latitude"].values.astype("float64")), lon=("lon", ds["longitude"].values.astype("float64"))
    )
    out = xr.Dataset({"rc": ds[RC_VARIABLES[0]].astype("float64"), "rc_sd": ds[RC_VARIABLES[1]].astype("float64")})
    out = out.transpose("lat", "lon").sortby("lat").sortby("lon")
    grid.check_grid(out["rc"], resolution_deg=0.5)
    rc = out["rc"]
    if float(rc.min()) < 0 or float(rc.max()) > 1 or float(out["rc_sd"].min()) < 0:
        raise ValueError(f"{RC_FILE}: RC outside 0..1 or negative SD")
    out["rc"].attrs = {"units": "1", "long_name": "root (autotrophic) share of soil respiration, Ra/Rs"}
    out["rc_sd"].attrs = {"units": "1", "long_name": "standard deviation of RC"}
    out.attrs = {"source": RC_FILE, "citation": get_entry(RC_FILE).citation}
    return out


def rh_from_root_contribution(rs_annual: xr.DataArray, rc: xr.Dataset, z: float = RC_Z) -> xr.Dataset:
    """Rh = Rs x (1 - RC), with the interval from RC -/+ ``z`` x SD (clipped to 0..1).

    Parameters
    ----------
    rs_annual
        ``(member, lat, lon)`` Rs in g C m-2 yr-1.
    rc
        :func:`read_root_contribution` output on the same grid.
    z
        Multiple of RC's SD for the interval.

    Returns
    -------
    xarray.Dataset
        ``rh_annual`` (member, lat, lon) and ``rh_low``/``rh_high`` (Rs x (1 - RC -/+ z SD)),
        g C m-2 yr-1; NaN where RC is missing.
    """
    if rs_annual.attrs.get("units", GRID_RH_UNITS).replace(" ", "") != "gCm-2yr-1":
        raise ValueError(f"rs_annual must be in g C m-2 yr-1, got {rs_annual.attrs.get('units')!r}")
    if not grid.same_grid(rs_annual, rc):
        raise ValueError("Rs and RC are on different grids")
    rc_hi = (rc["rc"] + z * rc["rc_sd"]).clip(0, 1)
    rc_lo = (rc["rc"] - z * rc["rc_sd"]).clip(0, 1)
    attrs = {"units": GRID_RH_UNITS}
    return xr.Dataset(
        {
            "rh_annual": (rs_annual * (1 - rc["rc"])).assign_attrs(attrs, long_name="Rs x (1 - RC)"),
            "rh_low": (rs_annual * (1 - rc_hi)).assign_attrs(attrs, long_name=f"Rs x (1 - (RC + {z:g} SD))"),
            "rh_high": (rs_annual * (1 - rc_lo)).assign_attrs(attrs, long_name=f"Rs x (1 - (RC - {z:g} SD))"),
        }
    )


# --------------------------------------------------------------------------------------------
# route 3: CARDAMOM
# --------------------------------------------------------------------------------------------
def cardamom_on_mask(cardamom_kg_m2_yr: xr.DataArray, land_mask: xr.DataArray) -> xr.DataArray:
    """CARDAMOM Rh (kg C m-2 yr-1, 0.5 degree) in g C m-2 yr-1 on ``land_mask`` (NaN elsewhere).

    Cells of the mask where CARDAMOM has no value stay NaN and are counted in
    ``attrs["n_mask_cells_without_value"]``.
    """
    units = str(cardamom_kg_m2_yr.attrs.get("units", "kg C m-2 yr-1")).replace(" ", "")
    if units not in ("kgCm-2yr-1", "kgm-2yr-1"):
        raise ValueError(f"CARDAMOM Rh must be in kg C m-2 yr-1, got {cardamom_kg_m2_yr.attrs.get('units')!r}")
    if not grid.same_grid(cardamom_kg_m2_yr, land_mask):
        raise ValueError("CARDAMOM is not on the land mask's grid")
    g = (G_PER_KG * cardamom_kg_m2_yr).where(land_mask)
    g.attrs = {
        "units": GRID_RH_UNITS,
        "long_name": "CARDAMOM heterotrophic respiration",
        "n_mask_cells_without_value": int((g.isnull() & land_mask).sum()),
    }
    return g


# --------------------------------------------------------------------------------------------
# the three routes side by side
# --------------------------------------------------------------------------------------------
def common_mask(land_mask: xr.DataArray, *fields: xr.DataArray) -> xr.DataArray:
    """Cells of ``land_mask`` where every field (any extra dims reduced with all) has a value."""
    mask = land_mask.astype(bool)
    for f in fields:
        other = [d for d in f.dims if d not in ("lat", "lon")]
        mask = mask & (f.notnull().all(other) if other else f.notnull())
    return mask


def route_members(routes: dict[str, xr.DataArray]) -> xr.DataArray:
    """All Rh maps of the routes (key of :data:`ROUTES` -> map or ``(member, lat, lon)`` maps)
    stacked along ``member`` (named ``<route>:<member>``) with a ``route`` coordinate."""
    unknown = [k for k in routes if k not in ROUTES]
    if unknown:
        raise ValueError(f"unknown routes {unknown}; known: {list(ROUTES)}")
    parts = []
    for key, da in routes.items():
        if "member" not in da.dims:
            da = da.expand_dims(member=[key])
        da = da.drop_vars([c for c in da.coords if c not in ("member", "lat", "lon")])
        parts.append(
            da.assign_coords(member=[f"{key}:{m}" for m in da["member"].values], route=("member", [key] * da.sizes["member"]))
        )
    out = xr.concat(parts, dim="member")
    out.attrs = {"units": GRID_RH_UNITS}
    return out


def route_totals(
    members: xr.DataArray, area_m2: xr.DataArray, mask: xr.DataArray, intervals: dict[str, tuple[float, float]] | None = None
) -> pd.DataFrame:
    """Global total of each route: member mean, member range and the route's own interval.

    Parameters
    ----------
    members
        :func:`route_members` output (g C m-2 yr-1).
    area_m2
        Land area of each cell (cell area x land fraction).
    mask
        Cells that count (a NaN inside raises).
    intervals
        Optional route -> (low, high) Pg C yr-1 (bootstrap or RC interval).

    Returns
    -------
    pandas.DataFrame
        Index: route; columns ``n_members``, ``total_pg``, ``member_min_pg``, ``member_max_pg``,
        ``interval_low_pg``, ``interval_high_pg``.
    """
    totals = global_total_pg(members, area_m2=area_m2, mask=mask).to_series()
    route = members["route"].to_series()
    rows = {}
    for key in dict.fromkeys(route.values):
        t = totals[route == key]
        low, high = (intervals or {}).get(key, (np.nan, np.nan))
        rows[key] = {
            "n_members": int(t.size),
            "total_pg": float(t.mean()),
            "member_min_pg": float(t.min()),
            "member_max_pg": float(t.max()),
            "interval_low_pg": low,
            "interval_high_pg": high,
        }
    return pd.DataFrame(rows).T.rename_axis("route")


def route_agreement(totals: pd.DataFrame) -> pd.DataFrame:
    """Pairwise agreement of the route totals: difference and ratio, and whether intervals overlap."""
    rows = []
    keys = list(totals.index)
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            ta, tb = totals.loc[a], totals.loc[b]
            lo_a = np.nanmin([ta["interval_low_pg"], ta["member_min_pg"]])
            hi_a = np.nanmax([ta["interval_high_pg"], ta["member_max_pg"]])
            lo_b = np.nanmin([tb["interval_low_pg"], tb["member_min_pg"]])
            hi_b = np.nanmax([tb["interval_high_pg"], tb["member_max_pg"]])
            rows.append(
                {
                    "routes": f"{a} vs {b}",
                    "difference_pg": float(ta["total_pg"] - tb["total_pg"]),
                    "ratio": float(ta["total_pg"] / tb["total_pg"]),
                    "ranges_overlap": bool(lo_a <= hi_b and lo_b <= hi_a),
                }
            )
    return pd.DataFrame(rows).set_index("routes")


# --------------------------------------------------------------------------------------------
# published Rh and Rh/Rs values available offline
# --------------------------------------------------------------------------------------------
def read_rescom_rh() -> pd.DataFrame:
    """Global belowground Rh estimates from the ResCom compilation (Pg C yr-1, as compiled).

    Returns
    -------
    pandas.DataFrame
        ``citation``, ``rh_pg_c_yr`` (numeric; ranges such as "41.3 to 71.6" are dropped and
        counted in ``attrs["n_ranges_dropped"]``), ``timespan``, ``type``.
    """
    raw = pd.read_csv(fetch(RESCOM_FILE), skiprows=1, encoding="latin-1")
    raw.columns = [str(c).split("\n")[0].strip() for c in raw.columns]
    flux_col, value_col = "Flux", "Mean or median"
    if flux_col not in raw or value_col not in raw:
        raise ValueError(f"{RESCOM_FILE}: columns {flux_col!r}/{value_col!r} not found in {list(raw.columns)}")
    rh = raw[raw[flux_col].astype(str).str.strip() == "Belowground Rh"].copy()
    values = pd.to_numeric(rh[value_col], errors="coerce")
    out = pd.DataFrame(
        {"citation": rh["Citation"].astype(str).str.strip(), "rh_pg_c_yr": values, "timespan": rh["Timespan"], "type": rh["Type"]}
    )
    dropped = int((values.isna() & rh[value_col].notna()).sum())
    # rows without a citation continue the row above (a second value of the same study): dropped
    out = out[out["rh_pg_c_yr"].notna() & rh["Citation"].notna().to_numpy()].reset_index(drop=True)
    out.attrs.update(source=RESCOM_FILE, n_ranges_dropped=dropped)
    return out


def bl2018_site_ratio() -> pd.Series:
    """Rh/Rs of the site records of the Bond-Lamberty et al. (2018) SRDB subset.

    Computed here from the records that report both ``Rh_annual`` and ``Rs_annual`` (> 0):
    it is a statistic of their data, not a value stated in their paper.

    Returns
    -------
    pandas.Series
        ``n_records``, ``median``, ``mean``, ``q25``, ``q75`` of Rh/Rs.
    """
    frame = pd.read_csv(fetch(BL2018_SRDB_FILE), low_memory=False, encoding="latin-1")
    rh = pd.to_numeric(frame["Rh_annual"], errors="coerce")
    rs = pd.to_numeric(frame["Rs_annual"], errors="coerce")
    ok = rh.notna() & rs.notna() & (rs > 0) & (rh > 0)
    ratio = rh[ok] / rs[ok]
    return pd.Series(
        {
            "n_records": int(ok.sum()),
            "median": float(ratio.median()),
            "mean": float(ratio.mean()),
            "q25": float(ratio.quantile(0.25)),
            "q75": float(ratio.quantile(0.75)),
        }
    )


def rc_map_ratio(rc: xr.Dataset, weight: xr.DataArray | None = None) -> float:
    """1 - mean RC of the Jian et al. (2022) map (area- or Rs-weighted where ``weight`` is given)."""
    from globalrs.core.grid import cell_area_m2

    w = weight if weight is not None else cell_area_m2(rc["lat"].values, rc["lon"].values)
    w = w.where(rc["rc"].notnull())
    return float(1.0 - (rc["rc"] * w).sum() / w.sum())


@dataclass
class RouteComparison:
    """The three Rh routes on the cells all of them cover (see :func:`compare_routes`)."""

    members: xr.DataArray
    common_mask: xr.DataArray
    land_area_m2: xr.DataArray
    totals: pd.DataFrame
    agreement: pd.DataFrame
    route2: xr.Dataset
    cardamom: xr.DataArray
    rs_common_pg: pd.Series


def compare_routes(
    rh_ensemble: xr.Dataset,
    rs_ensemble: xr.Dataset,
    rc: xr.Dataset,
    cardamom_kg_m2_yr: xr.DataArray,
    z: float = RC_Z,
    ratio: xr.DataArray | None = None,
) -> RouteComparison:
    """Build routes 2 and 3 from their inputs and total all three on their common cells.

    Parameters
    ----------
    rh_ensemble
        :func:`load_rh_ensemble` (route 1).
    rs_ensemble
        :func:`globalrs.estimates.ensemble.load_ensemble` (the Rs members of route 2, and the land mask).
    rc
        :func:`read_root_contribution`.
    cardamom_kg_m2_yr
        :func:`globalrs.process_models.cmipmaps.read_cardamom_rh` (route 3).
    z
        Multiple of RC's SD for route 2's interval.
    ratio
        Optional ``(ratio_model, lat, lon)`` Rh/Rs maps (:func:`load_ratio_route`): the ratio
        route (Rs members x ratio, :func:`rh_from_ratio`) is compared too.

    Returns
    -------
    RouteComparison
        ``totals`` (route x total, member range, interval, ``Rh/Rs`` over the Rs ensemble mean on
        the same cells) and ``agreement`` (pairwise) on ``common_mask``; the route maps.
    """
    mask = rs_ensemble["land_mask"].astype(bool)
    if not bool((rh_ensemble["land_mask"].astype(bool) == mask).all()):
        raise ValueError("the Rh and Rs ensembles have different land masks")
    land_area = rs_ensemble["cell_area_m2"] * rs_ensemble["land_fraction"]
    route2 = rh_from_root_contribution(rs_ensemble["rs_annual"], rc, z=z)
    card = cardamom_on_mask(cardamom_kg_m2_yr, mask)
    common = common_mask(mask, route2["rh_annual"], card)
    maps = {"standardized": rh_ensemble["rh_annual"]}
    if ratio is not None:
        maps["ratio"] = rh_from_ratio(rs_ensemble["rs_annual"], ratio)
    members = route_members(maps | {"root_contribution": route2["rh_annual"], "cardamom": card})
    low = float(global_total_pg(route2["rh_low"], area_m2=land_area, mask=common).min())
    high = float(global_total_pg(route2["rh_high"], area_m2=land_area, mask=common).max())
    totals = route_totals(members, land_area, common, intervals={"root_contribution": (low, high)})
    rs_common = global_total_pg(rs_ensemble["rs_annual"], area_m2=land_area, mask=common).to_series()
    totals["Rh/Rs"] = totals["total_pg"] / float(rs_common.mean())
    return RouteComparison(
        members=members,
        common_mask=common,
        land_area_m2=land_area,
        totals=totals,
        agreement=route_agreement(totals),
        route2=route2,
        cardamom=card,
        rs_common_pg=rs_common,
    )
