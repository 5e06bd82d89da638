"""CMIP6 gridded rh online: the public Pangeo CMIP6 Zarr catalogue (intake-esm) and its cached mean maps.

CMIP6 gridded ``rh`` (Lmon, kg m-2 s-1) with ``areacella`` and ``sftlf`` from the public Pangeo
CMIP6 Zarr catalogue, see :func:`load_cmip6_gridded_rh`. The path is lazy:
:func:`open_zarr_store` returns dask-backed arrays in the stores' chunks and
:func:`compute_rh_mean_map` only builds a graph; the build in :func:`load_cmip6_model_map` runs it
on whatever dask scheduler is active. With a ``dask.distributed.Client`` connected (a
``LocalCluster`` or a remote scheduler, ``Client("tcp://scheduler:8786")``) the same calls run on
that cluster unchanged (tested with a two-worker ``LocalCluster``). Each model's period mean is
cached through :func:`globalrs.sources.cache.cached_build`, keyed on its stores, the period and
:data:`PANGEO_VERSION`.
"""

from __future__ import annotations

import socket
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from globalrs.core.exceptions import OnlineUnavailableError
from globalrs.core.grid import normalize_latlon
from globalrs.core.units import convert_flux_density, flux_to_total_pg_c_yr, land_fraction_from_sftlf
from globalrs.process_models.cmip6 import harmonize_model_maps
from globalrs.sources.cache import cache_key, cache_path, cached_build, read_netcdf, write_netcdf_atomic

PANGEO_CMIP6_CATALOG = "https://storage.googleapis.com/cmip6/pangeo-cmip6.json"
#: The result version of the cached mean maps: bump it when what they mean changes.
PANGEO_VERSION = "1"


def check_online(url: str = PANGEO_CMIP6_CATALOG, timeout_s: float = 5.0) -> None:
    """Fail fast with a clear message when ``url``'s host cannot be reached.

    Local paths and ``file://`` URLs pass when the file exists. Nothing is downloaded.

    Raises
    ------
    OnlineUnavailableError
        The host does not answer within ``timeout_s`` seconds, or a local catalogue is missing.
    """
    parsed = urllib.parse.urlparse(str(url))
    if parsed.scheme in ("", "file"):
        path = Path(parsed.path if parsed.scheme == "file" else str(url))
        if not path.exists():
            raise OnlineUnavailableError(f"CMIP6 catalogue {path} does not exist")
        return
    host = parsed.hostname
    port = parsed.port or (443 if parsed.scheme in ("https", "gs") else 80)
    if parsed.scheme == "gs":
        host, port = "storage.googleapis.com", 443
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as err:
        raise OnlineUnavailableError(
            f"cannot reach {host}:{port} within {timeout_s:g} s ({err}). The CMIP6 gridded path "
            "needs internet access; offline, the chapter uses the registered stand-ins "
            "(set GLOBALRS_ENSEMBLE=standardized)."
        ) from err


def open_cmip6_catalog(catalog: str | Path = PANGEO_CMIP6_CATALOG, timeout_s: float = 5.0):
    """Open an intake-esm CMIP6 catalogue (default: the public Pangeo one) after a reachability check.

    Returns
    -------
    intake_esm.esm_datastore
    """
    check_online(str(catalog), timeout_s=timeout_s)
    import intake_esm

    return intake_esm.esm_datastore(str(catalog), progressbar=False)  # type: ignore[arg-type]  # intake-esm annotates obj without str, which it reads


def _pick_member(members: pd.Series) -> str:
    """Prefer r1i1p1f1, then the lowest realization number."""

    def key(m: str) -> tuple[int, str]:
        digits = "".join(ch for ch in m.split("i")[0] if ch.isdigit())
        return (int(digits) if digits else 10**9, m)

    return sorted(members.unique(), key=key)[0]


def find_rh_stores(
    catalog_df: pd.DataFrame,
    experiment: str = "historical",
    models: list[str] | None = None,
) -> pd.DataFrame:
    """Choose, per model, one historical ``rh`` (Lmon) store with its ``areacella`` and ``sftlf``.

    The rh member is r1i1p1f1 when available, else the lowest realization. Cell area and land
    fraction (table fx) come from the same member and grid when present, else from any
    experiment/member of that model on the same grid. Models lacking one of the three are
    excluded and listed in ``attrs["excluded"]`` (model -> reason), never silently.

    Parameters
    ----------
    catalog_df
        The catalogue table (``esm_datastore.df``) with columns ``source_id``, ``experiment_id``,
        ``member_id``, ``table_id``, ``variable_id``, ``grid_label``, ``zstore``.
    experiment
        Experiment of the rh run.
    models
        Restrict to these ``source_id`` values.

    Returns
    -------
    pandas.DataFrame
        One row per model: ``model``, ``member``, ``grid_label``, ``rh_zstore``,
        ``areacella_zstore``, ``sftlf_zstore``.
    """
    needed = {"source_id", "experiment_id", "member_id", "table_id", "variable_id", "grid_label", "zstore"}
    missing = needed - set(catalog_df.columns)
    if missing:
        raise ValueError(f"catalogue lacks columns {sorted(missing)}")
    df = catalog_df
    rh = df[(df["variable_id"] == "rh") & (df["table_id"] == "Lmon") & (df["experiment_id"] == experiment)]
    candidates = sorted(rh["source_id"].unique()) if models is None else list(models)
    rows, excluded = [], {}
    for model in candidates:
        m_rh = rh[rh["source_id"] == model]
        if m_rh.empty:
            excluded[model] = f"no rh Lmon {experiment}"
            continue
        member = _pick_member(m_rh["member_id"])
        pick = m_rh[m_rh["member_id"] == member].sort_values("grid_label").iloc[0]
        stores = {}
        for var in ("areacella", "sftlf"):
            fx = df[
                (df["source_id"] == model)
                & (df["variable_id"] == var)
                & (df["table_id"] == "fx")
                & (df["grid_label"] == pick["grid_label"])
            ]
            if fx.empty:
                break
            same = fx[(fx["member_id"] == member) & (fx["experiment_id"] == experiment)]
            stores[var] = (same if not same.empty else fx.sort_values(["experiment_id", "member_id"])).iloc[0]["zstore"]
        if len(stores) < 2:
            excluded[model] = f"no {'areacella' if 'areacella' not in stores else 'sftlf'} (fx) on grid {pick['grid_label']}"
            continue
        rows.append(
            {
                "model": model,
                "member": member,
                "grid_label": pick["grid_label"],
                "rh_zstore": pick["zstore"],
                "areacella_zstore": stores["areacella"],
                "sftlf_zstore": stores["sftlf"],
            }
        )
    out = pd.DataFrame(rows, columns=["model", "member", "grid_label", "rh_zstore", "areacella_zstore", "sftlf_zstore"])
    out.attrs["excluded"] = excluded
    return out


def open_zarr_store(zstore: str) -> xr.Dataset:
    """Open a CMIP6 Zarr store (``gs://`` anonymously through gcsfs, or a local path)."""
    kwargs: dict[str, Any] = {}
    if str(zstore).startswith("gs://"):
        try:
            import gcsfs  # noqa: F401
        except ImportError as err:
            raise OnlineUnavailableError("reading gs:// Zarr stores needs the gcsfs package") from err
        kwargs["storage_options"] = {"token": "anon"}
    return xr.open_zarr(str(zstore), consolidated=None, decode_times=xr.coders.CFDatetimeCoder(use_cftime=True), **kwargs)


def standardize_latlon(da: xr.DataArray) -> xr.DataArray:
    """A CMIP field on ascending ``lat`` / ``lon`` (-180..180) dimensions, auxiliary coordinates dropped.

    Parameters
    ----------
    da
        Field on a regular latitude/longitude grid (any of :data:`globalrs.core.grid.LAT_NAMES` /
        :data:`globalrs.core.grid.LON_NAMES`).

    Returns
    -------
    xarray.DataArray
        :func:`globalrs.core.grid.normalize_latlon` with ``wrap_and_sort=True``, without non-dimension
        coordinates (scalar ``height``, ``member_id`` ...).

    Raises
    ------
    GridError
        No latitude/longitude dimension or a curvilinear grid (a ``ValueError``).
    """
    da = normalize_latlon(da, wrap_and_sort=True)
    return da.drop_vars([c for c in da.coords if c not in da.dims])


def compute_rh_mean_map(rh: xr.DataArray, start_year: int, end_year: int) -> xr.DataArray:
    """Mean of the annual means of monthly ``rh`` over ``start_year..end_year`` (complete years only).

    Months are weighted by their length. Units are unchanged (kg m-2 s-1 per m2 of land).

    Raises
    ------
    ValueError
        If any year of the period lacks one of its 12 months.
    """
    sub = rh.sel(time=slice(f"{start_year}-01-01", f"{end_year}-12-31"))
    years = sub["time"].dt.year
    counts = years.groupby(years).count()
    want = set(range(start_year, end_year + 1))
    complete = {int(y) for y, c in zip(counts[counts.dims[0]].values, counts.values, strict=True) if c == 12}
    if want - complete:
        raise ValueError(f"rh lacks complete years {sorted(want - complete)} in {start_year}-{end_year}")
    days = sub["time"].dt.days_in_month.astype(float)
    annual = (sub * days).groupby(years).sum("time") / days.groupby(years).sum("time")
    out = annual.mean(str(annual.dims[0]))
    out.attrs = dict(rh.attrs)
    out.attrs["period"] = f"{start_year}-{end_year}"
    return standardize_latlon(out)


def load_cmip6_model_map(row: pd.Series, start_year: int, end_year: int, refresh: bool = False) -> xr.Dataset:
    """One model's period-mean rh on its native grid, cached on disk.

    Returns
    -------
    xarray.Dataset
        ``rh_land`` (lat, lon) g C m-2 yr-1 per m2 of land, ``land_fraction`` (lat, lon) 0..1,
        ``areacella`` (lat, lon) m2, and attr ``total_pg_c_yr`` (rh x areacella x land fraction).
    """
    key = cache_key(
        "cmip6-map",
        PANGEO_VERSION,
        rh_zstore=row["rh_zstore"],
        areacella_zstore=row["areacella_zstore"],
        sftlf_zstore=row["sftlf_zstore"],
        start_year=start_year,
        end_year=end_year,
    )
    path = cache_path("cmip6", f"rh_{row['model']}_{start_year}-{end_year}", key)
    return cached_build(path, lambda: build_cmip6_model_map(row, start_year, end_year), read_netcdf, write_netcdf_atomic, refresh)


def build_cmip6_model_map(row: pd.Series, start_year: int, end_year: int) -> xr.Dataset:
    """Compute one model's period-mean rh on its native grid (uncached; see :func:`load_cmip6_model_map`).

    Parameters
    ----------
    row
        One row of :func:`find_rh_stores`.
    start_year, end_year
        The period (inclusive, complete years).

    Returns
    -------
    xarray.Dataset
        As :func:`load_cmip6_model_map`.
    """
    rh = open_zarr_store(row["rh_zstore"])["rh"]
    if rh.attrs.get("units") not in ("kg m-2 s-1",):
        raise ValueError(f"{row['model']}: rh units {rh.attrs.get('units')!r}, expected kg m-2 s-1")
    mean = compute_rh_mean_map(rh, start_year, end_year).load()
    area = standardize_latlon(open_zarr_store(row["areacella_zstore"])["areacella"]).load()
    frac = land_fraction_from_sftlf(standardize_latlon(open_zarr_store(row["sftlf_zstore"])["sftlf"]).load())
    area.attrs["units"] = "m2"
    total = float(flux_to_total_pg_c_yr(mean, area, frac))
    out = xr.Dataset(
        {"rh_land": convert_flux_density(mean, "g C m-2 yr-1").where(frac > 0), "land_fraction": frac, "areacella": area},
        attrs={
            "model": row["model"],
            "member": row["member"],
            "period": f"{start_year}-{end_year}",
            "total_pg_c_yr": total,
            "rh_zstore": row["rh_zstore"],
        },
    )
    return out


def load_cmip6_gridded_rh(
    catalog: str | Path = PANGEO_CMIP6_CATALOG,
    experiment: str = "historical",
    start_year: int = 2000,
    end_year: int = 2010,
    models: list[str] | None = None,
    timeout_s: float = 5.0,
    refresh: bool = False,
    progress: bool = True,
) -> tuple[dict[str, xr.Dataset], pd.DataFrame]:
    """CMIP6 gridded rh period means (native grids) for every model with rh, areacella and sftlf.

    Returns
    -------
    maps : dict
        model -> :func:`load_cmip6_model_map` Dataset.
    chosen : pandas.DataFrame
        The stores used (:func:`find_rh_stores`); ``attrs["excluded"]`` maps every model left out
        (missing fields, or a map that could not be used: curvilinear grid, wrong units,
        incomplete period) to the reason.

    Raises
    ------
    OnlineUnavailableError
        The catalogue (or its stores) cannot be reached; raised within ``timeout_s`` seconds.
    """
    cat = open_cmip6_catalog(catalog, timeout_s=timeout_s)
    chosen = find_rh_stores(cat.df, experiment=experiment, models=models)
    if chosen.empty:
        raise ValueError(f"no model in {catalog} has rh + areacella + sftlf for {experiment}")
    maps = {}
    excluded = dict(chosen.attrs.get("excluded", {}))
    for i, row in enumerate(chosen.itertuples(index=False), start=1):
        if progress:
            print(f"CMIP6 rh {i}/{len(chosen)}: {row.model} {row.member}", file=sys.stdout, flush=True)
        try:
            maps[row.model] = load_cmip6_model_map(pd.Series(row._asdict()), start_year, end_year, refresh=refresh)
        except (ValueError, KeyError) as err:  # unusable grid, units or period: counted, not hidden
            excluded[row.model] = f"unusable: {err}"
    chosen = chosen[chosen["model"].isin(list(maps))].reset_index(drop=True)
    chosen.attrs["excluded"] = excluded
    if not maps:
        raise ValueError(f"no usable CMIP6 rh map; exclusions: {excluded}")
    return maps, chosen


def cmip6_maps_on_grid(maps: dict[str, xr.Dataset], land_mask: xr.DataArray, land_fraction: xr.DataArray) -> xr.Dataset:
    """CMIP6 period-mean maps from :func:`load_cmip6_gridded_rh` (native grids) on the common grid."""
    out = harmonize_model_maps({m: ds["rh_land"] for m, ds in maps.items()}, land_mask, land_fraction)
    out.attrs["source"] = "CMIP6 historical rh (Pangeo CMIP6 catalogue)"
    return out
