"""Year-by-year forcing and runs of the standardized members (the temporal chapter).

Each year's climate is the monthly climatology plus that year's annual temperature and
precipitation anomaly of the cell's Koeppen zone (:func:`build_year_climate`); the zone series is
read by :func:`globalrs.sources.timeseries.read_zone_climate_series`. That forcing carries zone-scale, not
cell-scale, interannual variability. :func:`load_standardized_annual_series` fits the members
once and predicts every year (cached).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.core.grid import global_total_pg
from globalrs.estimates import ensemble
from globalrs.estimates import members as member_registry
from globalrs.estimates.inputs import forcing_land_mask, load_climatology, load_observations, load_static_05
from globalrs.sources.cache import cache_key, cache_path, cached_build, read_csv, write_csv_atomic
from globalrs.sources.readers import KOPPEN_FILE, read_koppen_05
from globalrs.sources.timeseries import KOPPEN_ZONES, ZONE_SERIES_FILE, read_zone_climate_series

#: Result version of the year-by-year series: bump it when the forcing or the runner changes results.
FORCING_VERSION = "1"


def zone_from_koppen_class(koppen_class: object) -> str | None:
    """Map a Koeppen-Geiger class (``"Cfa"``, ``"Dwb"``, ``"ET"`` ...) to its UDel zone.

    Zones: ``A``, ``B``, ``E`` by the first letter; ``Cf``, ``Cs``, ``Cw`` and ``Df`` by the first
    two letters; ``Ds*`` and ``Dw*`` both map to ``Dsw``. Anything else (empty, NaN, ocean codes,
    unknown letters) returns None so the caller can count it.
    """
    if not isinstance(koppen_class, str):
        return None
    text = koppen_class.strip()
    if not text:
        return None
    first = text[0]
    if first in ("A", "B", "E"):
        return first
    if len(text) < 2:
        return None
    two = text[:2]
    if two in ("Cf", "Cs", "Cw", "Df"):
        return two
    if two in ("Ds", "Dw"):
        return "Dsw"
    return None


def assign_koppen_zones(koppen_class: xr.DataArray) -> tuple[xr.DataArray, int]:
    """Map a grid of Koeppen classes to UDel zones.

    Parameters
    ----------
    koppen_class
        (lat, lon) class strings; NaN or ``""`` over the ocean.

    Returns
    -------
    zones : xarray.DataArray
        (lat, lon) zone labels (object dtype), ``""`` where no zone applies.
    n_unmapped_classified : int
        Number of cells that HAVE a non-empty class but map to no zone (an unexpected label).
    """
    values = np.asarray(koppen_class.values, dtype=object)
    zones = np.empty(values.shape, dtype=object)
    n_unmapped = 0
    for idx, cls in np.ndenumerate(values):
        zone = zone_from_koppen_class(cls)
        zones[idx] = zone or ""
        if zone is None and isinstance(cls, str) and cls.strip():
            n_unmapped += 1
    out = xr.DataArray(zones, coords=koppen_class.coords, dims=koppen_class.dims, name="koppen_zone")
    return out, n_unmapped


@dataclass(frozen=True, eq=False)
class ZoneIndex:
    """Each grid cell's zone as an index into ``labels``, so a year's zone values are one lookup.

    Attributes
    ----------
    labels
        The zone labels found on the grid, as text, sorted (``""``: no zone).
    codes
        (lat, lon) index of each cell's label in ``labels``.
    """

    labels: np.ndarray
    codes: np.ndarray


def index_zones(zones: xr.DataArray) -> ZoneIndex:
    """Index the (lat, lon) zone labels of :func:`assign_koppen_zones` (compared as text)."""
    labels, codes = np.unique(np.asarray(zones.values, dtype=object).astype(str), return_inverse=True)
    return ZoneIndex(labels=labels, codes=codes.reshape(zones.shape))


def zone_anomaly_fields(
    index: ZoneIndex, zone_series: pd.DataFrame, year: int, precip_mode: str = "ratio"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One year's zone anomalies on the grid: temperature (C), precipitation (mm month-1) and ratio.

    Returns
    -------
    dt_c, dp_mm_month, ratio
        (lat, lon) arrays: the cell's zone temperature and precipitation anomaly, and the zone's
        precipitation over its 1961-2014 mean (1 in ``"additive"`` mode). Cells without a zone
        get 0, 0 and 1.
    """
    rows = zone_series[zone_series["year"] == year]
    if rows.empty:
        raise ValueError(f"year {year} not in the zone series")
    if precip_mode not in ("ratio", "additive"):
        raise ValueError(f"precip_mode must be 'ratio' or 'additive', got {precip_mode!r}")
    position = {label: k for k, label in enumerate(index.labels)}
    dt_zone = np.zeros(index.labels.size)
    dp_zone = np.zeros(index.labels.size)
    ratio_zone = np.ones(index.labels.size)
    for rec in rows.itertuples(index=False):
        zone_mean = rec.pm_mm_month - rec.pm_anomaly_mm_month
        if precip_mode == "ratio" and not zone_mean > 0:
            raise ValueError(f"zone {rec.zone} {year}: mean precipitation {zone_mean} is not positive")
        k = position.get(str(rec.zone))  # the labels were compared as text
        if k is None or str(rec.zone) == "":
            continue  # a zone with no cell on this grid
        dt_zone[k] = rec.tm_anomaly_c
        dp_zone[k] = rec.pm_anomaly_mm_month
        ratio_zone[k] = rec.pm_mm_month / zone_mean if precip_mode == "ratio" else 1.0
    return dt_zone[index.codes], dp_zone[index.codes], ratio_zone[index.codes]


def check_zones_grid(zones: xr.DataArray, field: xr.DataArray) -> None:
    """Raise ValueError unless the (lat, lon) zones lie on the grid of the climatology ``field``."""
    if zones.shape != field.shape[-2:]:
        raise ValueError(f"zones grid {zones.shape} differs from climatology grid {field.shape[-2:]}")


def year_precipitation(
    prec_clim_mm_month: np.ndarray, dp_mm_month: np.ndarray, ratio: np.ndarray, precip_mode: str
) -> np.ndarray:
    """A year's monthly precipitation before clipping: the climatology times ``ratio`` (``"ratio"``)
    or plus ``dp_mm_month`` (``"additive"``), as in :func:`build_year_climate`."""
    if precip_mode == "ratio":
        return prec_clim_mm_month * ratio
    if precip_mode == "additive":
        return prec_clim_mm_month + dp_mm_month
    raise ValueError(f"precip_mode must be 'ratio' or 'additive', got {precip_mode!r}")


def build_year_climate(
    climatology: xr.Dataset,
    zones: xr.DataArray,
    zone_series: pd.DataFrame,
    year: int,
    precip_mode: str = "ratio",
    zone_index: ZoneIndex | None = None,
) -> tuple[xr.Dataset, dict[str, int]]:
    """Climatology plus one year's zone anomaly: the forcing of a year-by-year run.

    ``tmean_c`` of every month of a cell gets the annual temperature anomaly of the cell's zone.
    Precipitation gets the zone's anomaly either

    * ``precip_mode="ratio"`` (default): as a relative anomaly, every month multiplied by
      ``Pm / (Pm - Pm_anomaly)`` of the zone (the year's zone precipitation over the zone's
      1961-2014 mean), so dry months stay dry and nothing turns negative; or
    * ``precip_mode="additive"``: ``Pm_anomaly`` (mm month-1) added to every month;
      precipitation that would become negative is set to 0 and counted.

    Cells with no zone keep their climatology and are counted.

    Parameters
    ----------
    climatology
        Dataset with ``tmean_c`` and ``prec_mm_month`` (month, lat, lon).
    zones
        (lat, lon) zone labels from :func:`assign_koppen_zones`, on the same grid.
    zone_series
        Output of :func:`read_zone_climate_series`.
    year
        The year to build.
    precip_mode
        ``"ratio"`` or ``"additive"`` (above).
    zone_index
        ``index_zones(zones)``, when the caller builds many years on the same zones (it must be
        the index of ``zones``: only its grid shape is checked).

    Returns
    -------
    climate : xarray.Dataset
        Same shape and variables as ``climatology``.
    counts : dict
        ``cells_without_zone`` (climatology cells with finite temperature but no zone) and
        ``prec_cell_months_clipped`` (cell-months set to 0 mm).
    """
    for var in ("tmean_c", "prec_mm_month"):
        if var not in climatology:
            raise ValueError(f"climatology has no {var!r}")
    check_zones_grid(zones, climatology["tmean_c"])
    index = index_zones(zones) if zone_index is None else zone_index
    if index.codes.shape != zones.shape:
        raise ValueError(f"zone_index grid {index.codes.shape} differs from zones grid {zones.shape}")
    dt, dp, ratio = zone_anomaly_fields(index, zone_series, year, precip_mode)
    has_zone = index.labels[index.codes] != ""
    tmean = climatology["tmean_c"]
    land = np.isfinite(tmean.values).any(axis=0)
    cells_without_zone = int((land & ~has_zone).sum())
    # plain numpy on the (..., lat, lon) arrays: the zone fields broadcast over the month axis
    prec_clim = climatology["prec_mm_month"]
    prec_values = year_precipitation(prec_clim.values, dp, ratio, precip_mode)
    with np.errstate(invalid="ignore"):
        clipped = int((prec_values < 0).sum())
        prec_values = np.where(np.isfinite(prec_clim.values), np.maximum(prec_values, 0.0), np.nan)
    new_t = tmean.copy(data=tmean.values + dt)
    prec = prec_clim.copy(data=prec_values)
    out = climatology.copy()
    out["tmean_c"] = new_t
    out["prec_mm_month"] = prec
    out.attrs = dict(climatology.attrs, forcing_year=int(year))
    return out, {"cells_without_zone": cells_without_zone, "prec_cell_months_clipped": clipped}


def count_clipped_cell_months(
    climatology: xr.Dataset,
    zones: xr.DataArray,
    zone_series: pd.DataFrame,
    years: Iterable[int],
    precip_mode: str = "additive",
) -> pd.Series:
    """Cell-months whose precipitation a year's anomaly would drive below zero, for each year.

    The ``prec_cell_months_clipped`` count of :func:`build_year_climate` for every year, without
    building the years' forcing fields.

    Parameters
    ----------
    climatology, zones, zone_series
        As for :func:`build_year_climate`.
    years
        The years to count.
    precip_mode
        ``"additive"`` (default: the mode that can clip) or ``"ratio"`` (never drives
        precipitation below zero, so every count is 0).

    Returns
    -------
    pandas.Series
        Counts (int) indexed by year.
    """
    if "prec_mm_month" not in climatology:
        raise ValueError("climatology has no 'prec_mm_month'")
    check_zones_grid(zones, climatology["prec_mm_month"])
    index = index_zones(zones)
    prec_clim = climatology["prec_mm_month"].values
    counts = {}
    with np.errstate(invalid="ignore"):
        for year in years:
            _, dp, ratio = zone_anomaly_fields(index, zone_series, int(year), precip_mode)
            counts[int(year)] = int((year_precipitation(prec_clim, dp, ratio, precip_mode) < 0).sum())
    return pd.Series(counts, name="prec_cell_months_clipped", dtype=int).rename_axis("year")


def run_members_by_year(
    fitted: Mapping[str, object],
    predict: Callable[[object, xr.Dataset], xr.DataArray],
    climatology: xr.Dataset,
    zones: xr.DataArray,
    zone_series: pd.DataFrame,
    years: Iterable[int],
    cell_area_m2: xr.DataArray,
    land_mask: xr.DataArray | None = None,
    progress: Callable[[str], None] | None = None,
    precip_mode: str = "ratio",
    workers: int = 4,
    predict_year: Callable[[Mapping[str, Any], xr.Dataset], Mapping[str, xr.DataArray]] | None = None,
) -> pd.DataFrame:
    """Run each fitted member on each year's forcing and sum to global totals.

    Parameters
    ----------
    fitted
        Member name -> fitted member (from ``globalrs.estimates.ensemble.fit_members_on``).
    predict
        ``predict(fitted_member, climate) -> (lat, lon)`` annual Rs, units ``g C m-2 yr-1``.
    climatology, zones, zone_series
        As for :func:`build_year_climate`.
    years
        Years to run.
    cell_area_m2
        (lat, lon) cell areas.
    land_mask
        Optional (lat, lon) boolean mask; the total is taken over it (NaN inside raises).
    progress
        Optional callable receiving one line per year (e.g. ``print``).
    precip_mode
        See :func:`build_year_climate`.
    workers
        Years whose forcing is built concurrently in threads; the predictions themselves run
        one at a time (results do not depend on it).
    predict_year
        Optional ``predict_year(fitted, climate) -> {name: (lat, lon) map}``: every member's map
        of one year at once (for example :func:`predict_members_on_climate`, which extracts the
        year's covariates once for all members); by default ``predict`` is called per member.

    Returns
    -------
    pandas.DataFrame
        Columns ``member``, ``year``, ``rs_pg_c_yr``, ``cells_without_zone``,
        ``prec_cell_months_clipped``.
    """

    def run_year(year: int) -> list[dict]:
        climate, counts = build_year_climate(climatology, zones, zone_series, int(year), precip_mode, zone_index)
        out = []
        if predict_year is not None:
            with predict_lock:
                fields = predict_year(fitted, climate)
        for name, member in fitted.items():
            if predict_year is not None:
                field = fields[name]
            else:
                with predict_lock:
                    field = predict(member, climate)
            units = field.attrs.get("units")
            if units != "g C m-2 yr-1":
                raise ValueError(f"member {name}: predict returned units {units!r}, need 'g C m-2 yr-1'")
            total = global_total_pg(field, area_m2=cell_area_m2, mask=land_mask)
            out.append({"member": name, "year": int(year), "rs_pg_c_yr": float(total), **counts})
        return out

    # One prediction at a time, while the years' forcing fields are built concurrently: the tree
    # members predict on threads of their own, and scikit-learn's parallel predict is not safe to
    # run from several threads at once before Python 3.14 (it resets the process's warning
    # filters while a task runs, so another call could print its "delayed should be used with
    # Parallel" warning to stderr, which fails the book build).
    predict_lock = threading.Lock()
    zone_index = index_zones(zones)  # once for all years
    years = [int(y) for y in years]
    n_workers = max(1, int(workers))
    records = []
    # Threads: the heavy parts (numpy, tree ensembles' predict) release the GIL; map keeps year order.
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        for year, rows in zip(years, pool.map(run_year, years), strict=True):
            records.extend(rows)
            if progress is not None:
                progress(f"year {year}: {len(fitted)} members done")
    return pd.DataFrame.from_records(records)


def predict_members_on_climate(
    fitted: Mapping[str, ensemble.FittedMember], climate: xr.Dataset, landcover: xr.DataArray
) -> dict[str, xr.DataArray]:
    """Every member's annual map for one climate, as :func:`globalrs.estimates.ensemble.predict_member` gives it.

    The same numbers as calling ``predict_member(member, climate, landcover)`` for each member,
    cheaper: the climate is checked and flattened into per-cell covariates once
    (:func:`globalrs.estimates.ensemble.grid_cells`), and the machine-learning covariates
    (:func:`globalrs.estimates.ensemble.make_features`) are built once for all tree members, not once
    per member and year. The tree members predict in the calling thread
    (:func:`globalrs.estimates.members.single_threaded`).

    Parameters
    ----------
    fitted
        Member name -> fitted member (``globalrs.estimates.ensemble.fit_members_on``).
    climate
        ``tmean_c`` and ``prec_mm_month`` (month, lat, lon).
    landcover
        Land-cover group grid of ``climate``.

    Returns
    -------
    dict
        Member name -> ``(lat, lon)`` float32 map in g C m-2 yr-1, NaN where a covariate is
        missing, with the ``units``, ``member`` and ``n_negative_set_to_zero`` attributes.
    """
    tmean, t, p, lc, valid = ensemble.grid_cells(climate, landcover)
    tv, pv, lcv = t[valid], p[valid], lc[valid]
    features = None
    out = {}
    for name, member in fitted.items():
        if member.estimator is not None:
            features = ensemble.make_features(tv, pv, lcv) if features is None else features
            raw = np.asarray(member_registry.single_threaded(member.estimator).predict(features), dtype=float)
        else:
            raw = ensemble.predict_member_arrays(name, member.params, None, tv, pv, lcv, clip=False)
        out[name] = ensemble.member_map(raw, valid, tmean, name)
    return out


def zone_area_weighted_anomaly(zone_series: pd.DataFrame, zones: xr.DataArray, cell_area_m2: xr.DataArray) -> pd.DataFrame:
    """Land-area-weighted mean of the zone temperature and precipitation anomalies, per year.

    Each zone is weighted by the area of the grid cells assigned to it (cells without a zone are
    left out). A cross-check of a global land temperature anomaly built only from the zone series.

    Returns
    -------
    pandas.DataFrame
        Columns ``year``, ``tas_anomaly_c``, ``pm_anomaly_mm_month``; the zone weights (fraction of
        zoned land area) are in ``attrs["zone_weights"]``.
    """
    zone_values = np.asarray(zones.values, dtype=object)
    area = np.asarray(cell_area_m2.values, dtype=float)
    if area.shape != zone_values.shape:
        raise ValueError(f"zones {zone_values.shape} and cell_area_m2 {area.shape} differ in shape")
    area = np.where(np.isfinite(area), area, 0.0)  # NaN area = cell left out (e.g. outside a land mask)
    weights = {z: float(area[zone_values == z].sum()) for z in KOPPEN_ZONES}
    total = sum(weights.values())
    if total <= 0:
        raise ValueError("no cell belongs to any zone")
    weights = {z: w / total for z, w in weights.items()}
    frame = zone_series.assign(weight=zone_series["zone"].map(weights))
    grouped = frame.groupby("year")
    out = pd.DataFrame(
        {
            "tas_anomaly_c": grouped.apply(lambda g: float((g.weight * g.tm_anomaly_c).sum()), include_groups=False),
            "pm_anomaly_mm_month": grouped.apply(lambda g: float((g.weight * g.pm_anomaly_mm_month).sum()), include_groups=False),
        }
    ).reset_index()
    n_zones = grouped["zone"].nunique()
    if (n_zones != len(KOPPEN_ZONES)).any():
        raise ValueError(f"years with missing zones: {n_zones[n_zones != len(KOPPEN_ZONES)].index.tolist()}")
    out.attrs["zone_weights"] = weights
    return out


def load_standardized_annual_series(
    years: Iterable[int] = range(1961, 2015),
    data_version: str = "v5",
    forcing: str = "worldclim",
    refresh: bool = False,
    progress: Callable[[str], None] | None = None,
    precip_mode: str = "ratio",
) -> pd.DataFrame:
    """Global annual Rs of every standardized-protocol member, year by year (cached on disk).

    Each year's forcing is the climatology plus that year's zone anomaly
    (:func:`build_year_climate`); the members are fitted once (``globalrs.estimates.ensemble.fit_members_on``)
    and predicted on each year (``predict_member``). Totals are cell area x land fraction over
    the ensemble land mask, as in ``globalrs.estimates.ensemble.ensemble_totals_pg``.

    The result is cached as CSV under ``get_cache_dir()/timeseries`` keyed by the years, data
    version, forcing, precipitation mode, the input files and :data:`FORCING_VERSION` with
    :data:`globalrs.estimates.ensemble.MODEL_VERSION`.

    Returns
    -------
    pandas.DataFrame
        Columns ``member``, ``method_family``, ``year``, ``rs_pg_c_yr``, ``cells_without_zone``,
        ``prec_cell_months_clipped``.
    """
    years = [int(y) for y in years]

    def compute() -> pd.DataFrame:
        static = load_static_05()
        climatology = load_climatology(forcing=forcing)
        obs, _ = load_observations(data_version, forcing)
        fitted = ensemble.fit_members_on(obs, data_version, forcing)
        zones, _ = assign_koppen_zones(read_koppen_05())

        def predict(member, climate):
            return ensemble.predict_member(member, climate, static["landcover_group"])

        # the same totalling as the ensemble's own (cell area x land fraction over the land mask)
        frame = run_members_by_year(
            fitted,
            predict,
            climatology,
            zones,
            read_zone_climate_series(),
            years,
            static["cell_area_m2"] * static["land_fraction"],
            land_mask=forcing_land_mask(static, climatology),
            progress=progress,
            precip_mode=precip_mode,
            predict_year=lambda members, climate: predict_members_on_climate(members, climate, static["landcover_group"]),
        )
        families = {name: ensemble.MEMBERS[name][0] for name in fitted}
        frame.insert(1, "method_family", frame["member"].map(families).fillna("unknown"))
        return frame

    key = cache_key(
        "standardized-annual",
        f"{ensemble.MODEL_VERSION}.{FORCING_VERSION}",
        [*ensemble.input_names(data_version), ZONE_SERIES_FILE, KOPPEN_FILE],
        years=years,
        data_version=data_version,
        forcing=forcing,
        precip_mode=precip_mode,
        **member_registry.cache_params(),
    )
    path = cache_path("timeseries", "standardized-annual", key, suffix=".csv")
    return cached_build(path, compute, read_csv, write_csv_atomic, refresh=refresh)
