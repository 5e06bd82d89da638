"""Data-driven heterotrophic respiration (Rh) by three independent routes.

1. **Standardized protocol on Rh observations** (:func:`load_rh_ensemble`): the six members of
   :mod:`globalrs.ensemble` (same method families, forcing, covariates, land mask, blocked
   cross-validation and site bootstrap) fitted on SRDB-V5 ``Rh_annual`` instead of ``Rs_annual``.
2. **Rs members x (1 - RC)** (:func:`rh_from_root_contribution`): the standardized Rs members
   times one minus the root contribution to soil respiration, RC = Ra/Rs, mapped by
   Jian et al. (2022); RC's standard deviation is carried into an interval.
3. **CARDAMOM** (:func:`cardamom_on_mask`): the Rh of a model-data fusion system (Bloom et al.
   2016) as saved by Varney et al. (2020), read by :func:`globalrs.cmipmaps.read_cardamom_rh`.
   It is not an upscaling of chamber data: a carbon-cycle model is fitted to satellite and
   inventory observations, so it is an independent route, not a purely data-driven one.

Every map is on the book's 0.5-degree grid in g C m-2 yr-1 per m2 of land, and every total uses
cell area x land fraction on the ensemble's land mask, like the Rs members.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from globalrs import ensemble, evaluate, filters, grid, inputs, readers
from globalrs.cache import cache_key, cache_path, cached_build, read_netcdf, write_netcdf_atomic
from globalrs.data import fetch, get_entry
from globalrs.grid import global_total_pg

#: Root contribution to soil respiration (Jian et al. 2022), 0.5 degree, latitude descending.
RC_FILE = "jian2020-rc/global_Rt_contribution_to_Rs2.nc"
#: Names of the RC fraction and its standard deviation in :data:`RC_FILE`.
RC_VARIABLES = ("RC", "SD_RC")
#: Multiplier of RC's SD for the interval of route 2: RC -/+ 1 SD, applied to every cell at once
#: (errors fully correlated across cells, the widest global interval one SD allows).
RC_Z = 1.0
#: Plausible Rh range (g C m-2 yr-1): the same bounds as the Rs filter, so the filters match.
RH_ANNUAL_RANGE_G_M2_YR = filters.RS_ANNUAL_RANGE_G_M2_YR
#: The three routes, in display order: key -> label.
ROUTES = {
    "standardized": "Rh members (standardized protocol on SRDB-V5 Rh_annual)",
    "root_contribution": "Rs members x (1 - RC) (root contribution, Jian et al. 2022)",
    "cardamom": "CARDAMOM (model-data fusion, Bloom et al. 2016)",
}
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
    """The Rs observation filter of :func:`globalrs.filters.filter_srdb`, applied to ``Rh_annual``.

    Steps: Rh_annual reported; ``Manipulation == "None"``; no problem quality flag
    (:data:`globalrs.filters.SRDB_BAD_QUALITY_FLAGS`); valid coordinates; plausible Rh range;
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
        ``obs`` has the columns of :func:`globalrs.inputs.load_observations`. The annual Rh
        value is in column ``rs_g_m2_yr`` because the fitting, cross-validation and bootstrap
        functions of :mod:`globalrs.ensemble` read the response from that column; ``rh_g_m2_yr``
        holds the same values under their own name, and ``attrs["response"]`` says which flux
        it is. ``steps`` is the filter table.
    """
    static = inputs.load_static_05()
    climate = inputs.load_climatology(forcing)
    kept, steps = filter_srdb_rh(readers.read_srdb(data_version), land_mask=static["land_mask"])
    lat = kept["Latitude"].to_numpy(float)
    lon = kept["Longitude"].to_numpy(float)
    t, p, lc = inputs.sample_site_covariates(lat, lon, climate, static["landcover_group"])
    rh = kept["Rh_annual"].to_numpy(float)
    obs = pd.DataFrame(
        {
            # the response column name expected by ensemble.fit_members_on / cross_validate_members /
            # bootstrap_totals: here it holds heterotrophic, not total, soil respiration
            "rs_g_m2_yr": rh,
            "rh_g_m2_yr": rh,
            "lat": lat,
            "lon": lon,
            "site": inputs.site_id(lat, lon),
            "block10": inputs.spatial_block(lat, lon, 10.0),
            "landcover_group": lc.astype(int),
            "study_midyear": pd.to_numeric(kept["Study_midyear"], errors="coerce").to_numpy(float),
        }
    )
    for m in range(12):
        obs[f"t{m + 1:02d}"] = t[:, m]
    for m in range(12):
        obs[f"p{m + 1:02d}"] = p[:, m]
    obs.attrs.update(data_version=data_version, forcing=forcing, response="Rh_annual")
    return obs, steps


def _rh_cache_key(kind: str, **params) -> str:
    """Cache key: the ensemble's inputs and model version, this module's version, the parameters."""
    return cache_key(
        kind, f"{ensemble.MODEL_VERSION}-rh{CACHE_VERSION}", ensemble.input_names(params.get("data_version", "v5")), **params
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
            "code": "globalrs.rh.build_rh_ensemble",
        }
    )
    return ds


def _read_gridded(path: Path) -> xr.Dataset:
    with xr.open_dataset(path) as ds:
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
    key = _rh_cache_key("rh_ensemble", data_version=data_version, forcing=forcing, seed=ensemble.SEED)
    path = cache_path("rh", f"rh-ensemble-{data_version}-{forcing}", key)
    write = functools.partial(ensemble.write_gridded, key=key)
    return cached_build(path, lambda: build_rh_ensemble(data_version, forcing), _read_gridded, write, refresh)


def build_rh_evaluation(
    data_version: str = "v5", forcing: str = "worldclim", n_boot: int = 30, seed: int = ensemble.SEED, verbose: bool = False
) -> xr.Dataset:
    """Blocked cross-validation and site bootstrap of the Rh members (no cache).

    The same functions as the Rs members (:func:`globalrs.evaluate.cross_validate_members`,
    :func:`globalrs.evaluate.bootstrap_totals`), on the Rh observation table.
    """
    obs, _ = load_rh_observations(data_version, forcing)
    ds = evaluate.evaluate_observations(obs, forcing, n_boot=n_boot, seed=seed, verbose=verbose)
    return ds.assign_attrs(response="SRDB Rh_annual", data_version=data_version)


def load_rh_evaluation(
    data_version: str = "v5", forcing: str = "worldclim", n_boot: int = 30, refresh: bool = False
) -> xr.Dataset:
    """Cached :func:`build_rh_evaluation`: ``cv_score`` (member, metric), ``bootstrap_total`` (member, replicate)."""
    key = _rh_cache_key("rh_evaluation", data_version=data_version, forcing=forcing, n_boot=n_boot, seed=ensemble.SEED)
    path = cache_path("rh", f"rh-evaluation-{data_version}-{forcing}", key)

    def write(ds: xr.Dataset, target: Path) -> None:
        write_netcdf_atomic(ds.assign_attrs(cache_key=key), target)

    return cached_build(path, lambda: build_rh_evaluation(data_version, forcing, n_boot=n_boot), read_netcdf, write, refresh)


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
    with xr.open_dataset(fetch(RC_FILE)) as ds:
        ds = ds.load()
    missing = [v for v in RC_VARIABLES if v not in ds]
    if missing:
        raise ValueError(f"{RC_FILE}: variables {missing} are missing (has {sorted(ds.data_vars)})")
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
    if not (np.allclose(rs_annual["lat"], rc["lat"]) and np.allclose(rs_annual["lon"], rc["lon"])):
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
    if not (np.allclose(cardamom_kg_m2_yr["lat"], land_mask["lat"]) and np.allclose(cardamom_kg_m2_yr["lon"], land_mask["lon"])):
        raise ValueError("CARDAMOM is not on the land mask's grid")
    g = (1000.0 * cardamom_kg_m2_yr).where(land_mask)
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


def route_members(rh1: xr.DataArray, rh2: xr.DataArray, rh3: xr.DataArray) -> xr.DataArray:
    """All Rh maps of the three routes stacked along ``member`` with a ``route`` coordinate."""
    parts = []
    for key, da in zip(ROUTES, (rh1, rh2, rh3)):
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
    for key in ROUTES:
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
    from globalrs.grid import cell_area_m2

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
    rh_ensemble: xr.Dataset, rs_ensemble: xr.Dataset, rc: xr.Dataset, cardamom_kg_m2_yr: xr.DataArray, z: float = RC_Z
) -> RouteComparison:
    """Build routes 2 and 3 from their inputs and total all three on their common cells.

    Parameters
    ----------
    rh_ensemble
        :func:`load_rh_ensemble` (route 1).
    rs_ensemble
        :func:`globalrs.ensemble.load_ensemble` (the Rs members of route 2, and the land mask).
    rc
        :func:`read_root_contribution`.
    cardamom_kg_m2_yr
        :func:`globalrs.cmipmaps.read_cardamom_rh` (route 3).
    z
        Multiple of RC's SD for route 2's interval.

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
    members = route_members(rh_ensemble["rh_annual"], route2["rh_annual"], card)
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
