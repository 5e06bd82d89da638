"""Readers for the annual series of the temporal chapters, and the year-by-year forcing.

Every reader takes its file through :func:`globalrs.data.fetch` and returns a tidy
:class:`pandas.DataFrame` whose column names carry the units:

=================================  ==========================================================
function                           series
=================================  ==========================================================
:func:`read_lei2021`               Lei et al. (2021) annual global Rs and Rh with SD, 1987-2016
:func:`read_berkeley_land_monthly` Berkeley Earth global land monthly temperature anomaly
:func:`read_berkeley_land_annual`  ... its calendar-year means (complete years only)
:func:`read_gistemp`               NASA GISTEMP annual (J-D) anomaly, global / NH / SH
:func:`read_isimip2a_global_rh`    ISIMIP2a annual global heterotrophic respiration, 8 models
:func:`read_zone_climate_series`   UDel annual temperature / precipitation by Koeppen zone
=================================  ==========================================================

The standardized-protocol members are run year by year on a forcing built here:
each year's climate is the monthly climatology plus that year's annual temperature and
precipitation anomaly of the cell's Koeppen zone (:func:`build_year_climate`). That forcing
carries zone-scale, not cell-scale, interannual variability.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.cache import write_csv_atomic
from globalrs.data import fetch, require_columns

LEI2021_FILE = "lei2021/NOLAI-BASE_ANALYSIS_gf_final_1987-2016_1000.csv"
BERKELEY_LAND_FILE = "berkeley-earth/Complete_TAVG_complete.txt"
ISIMIP2A_RH_FILE = "isimip2a/all_annual_global_rh.csv"
ZONE_SERIES_FILE = "mgrsd/GlobalTempPrecipTimeSeries_Del_by_climate_zone.csv"
GISTEMP_FILES = {"GLB": "gistemp/GLB.Ts.csv", "NH": "gistemp/NH.Ts.csv", "SH": "gistemp/SH.Ts.csv"}

#: The eight Koeppen zones of the UDel zone series (column ``MiddleClimate``).
KOPPEN_ZONES = ("A", "B", "Cf", "Cs", "Cw", "Df", "Dsw", "E")

G_PER_PG = 1e15


def read_text_any_newline(path: Path, encoding: str = "latin-1") -> str:
    """Read a text file whose lines end in ``\\n``, ``\\r\\n`` or old-Mac ``\\r``; return ``\\n`` text."""
    raw = Path(path).read_bytes().decode(encoding)
    return raw.replace("\r\n", "\n").replace("\r", "\n")


def read_lei2021(path: Path | None = None) -> pd.DataFrame:
    """Read Lei et al. (2021) annual global soil respiration (NOLAI-BASE run), 1987-2016.

    Parameters
    ----------
    path
        A file in the published layout; default: the registered file.

    Returns
    -------
    pandas.DataFrame
        Columns ``year``, ``rs_pg_c_yr``, ``rs_sd_pg_c_yr``, ``rh_pg_c_yr``, ``rh_sd_pg_c_yr``
        (Pg C yr-1) and ``air_temperature_c`` (their land air temperature, deg C).

    Raises
    ------
    ValueError
        If a required column is missing or a year is repeated.
    """
    path = fetch(LEI2021_FILE) if path is None else Path(path)
    raw = pd.read_csv(io.StringIO(read_text_any_newline(path)))
    require_columns(raw, {"year", "rs_mean", "rs_sd", "rh_mean", "rh_sd", "AT"},
                    f"{path} (expected a Lei et al. 2021 NOLAI-BASE file)")
    out = pd.DataFrame(
        {
            "year": raw["year"].astype(int),
            "rs_pg_c_yr": raw["rs_mean"].astype(float),
            "rs_sd_pg_c_yr": raw["rs_sd"].astype(float),
            "rh_pg_c_yr": raw["rh_mean"].astype(float),
            "rh_sd_pg_c_yr": raw["rh_sd"].astype(float),
            "air_temperature_c": raw["AT"].astype(float),
        }
    )
    if out["year"].duplicated().any():
        raise ValueError(f"{path}: repeated years {sorted(out.year[out.year.duplicated()])}")
    return out.sort_values("year", ignore_index=True)


def read_berkeley_land_monthly(path: Path | None = None) -> pd.DataFrame:
    """Read the Berkeley Earth global land monthly temperature anomaly.

    Lines starting with ``%`` are comments. Anomalies are relative to Jan 1951 - Dec 1980.

    Returns
    -------
    pandas.DataFrame
        Columns ``year``, ``month`` (1..12), ``tas_anomaly_c`` (deg C), ``uncertainty_c`` (95% CI).
    """
    path = fetch(BERKELEY_LAND_FILE) if path is None else Path(path)
    rows = []
    for lineno, line in enumerate(read_text_any_newline(path).split("\n"), start=1):
        text = line.strip()
        if not text or text.startswith("%"):
            continue
        parts = text.split()
        if len(parts) < 4:
            raise ValueError(f"{path}:{lineno}: expected at least 4 columns, got {text!r}")
        rows.append((int(parts[0]), int(parts[1]), float(parts[2]), float(parts[3])))
    out = pd.DataFrame(rows, columns=["year", "month", "tas_anomaly_c", "uncertainty_c"])
    if out.empty:
        raise ValueError(f"{path}: no data lines")
    if not out["month"].between(1, 12).all():
        raise ValueError(f"{path}: month outside 1..12")
    if out.duplicated(["year", "month"]).any():
        raise ValueError(f"{path}: repeated year-month rows")
    return out


def read_berkeley_land_annual(path: Path | None = None) -> pd.DataFrame:
    """Calendar-year means of the Berkeley Earth land monthly anomaly, complete years only.

    A year counts only if all 12 monthly anomalies are present and finite; incomplete years
    (for instance the last, partial year of the file) are dropped, never averaged.

    Returns
    -------
    pandas.DataFrame
        Columns ``year`` and ``tas_anomaly_c`` (deg C, vs 1951-1980).
    """
    monthly = read_berkeley_land_monthly(path)
    return annual_mean_complete_years(monthly, "tas_anomaly_c")


def annual_mean_complete_years(monthly: pd.DataFrame, column: str) -> pd.DataFrame:
    """Average a (year, month, column) table to calendar years that have all 12 finite months."""
    finite = monthly[np.isfinite(monthly[column])]
    grouped = finite.groupby("year")[column]
    counts = grouped.count()
    means = grouped.mean()[counts == 12]
    return pd.DataFrame({"year": means.index.astype(int), column: means.to_numpy()}).reset_index(
        drop=True
    )


def read_gistemp(region: str = "GLB", path: Path | None = None) -> pd.DataFrame:
    """Read the NASA GISTEMP annual (January-December) anomaly.

    Parameters
    ----------
    region
        ``"GLB"``, ``"NH"`` or ``"SH"``.

    Returns
    -------
    pandas.DataFrame
        Columns ``year`` and ``tas_anomaly_c`` (deg C vs 1951-1980); years whose J-D value is
        missing (``***``) are left out.
    """
    if region not in GISTEMP_FILES:
        raise ValueError(f"region must be one of {sorted(GISTEMP_FILES)}, got {region!r}")
    path = fetch(GISTEMP_FILES[region]) if path is None else Path(path)
    text = read_text_any_newline(path)
    lines = text.split("\n")
    start = next((i for i, ln in enumerate(lines) if ln.startswith("Year,")), None)
    if start is None:
        raise ValueError(f"{path}: no 'Year,' header line")
    raw = pd.read_csv(io.StringIO("\n".join(lines[start:])), na_values=["***", "****"])
    values = pd.to_numeric(raw["J-D"], errors="coerce")
    keep = values.notna()
    return pd.DataFrame(
        {"year": raw.loc[keep, "Year"].astype(int).to_numpy(), "tas_anomaly_c": values[keep].to_numpy()}
    )


def read_isimip2a_global_rh(path: Path | None = None) -> pd.DataFrame:
    """Read ISIMIP2a annual global heterotrophic respiration (8 process models, 1971-2010).

    The file holds one column per model in g C yr-1; values are converted to Pg C yr-1.

    Returns
    -------
    pandas.DataFrame
        Long table with columns ``model``, ``year``, ``rh_pg_c_yr`` (heterotrophic respiration,
        Pg C yr-1), sorted by model and year.

    Raises
    ------
    ValueError
        If there is no ``year`` column, a value is not finite, or the totals are not in the
        g C yr-1 range expected of a global land flux (1e15..1e18 g).
    """
    path = fetch(ISIMIP2A_RH_FILE) if path is None else Path(path)
    raw = pd.read_csv(io.StringIO(read_text_any_newline(path)))
    if "year" not in raw.columns:
        raise ValueError(f"{path}: no 'year' column")
    long = raw.melt(id_vars="year", var_name="model", value_name="rh_g_c_yr")
    long["rh_g_c_yr"] = pd.to_numeric(long["rh_g_c_yr"], errors="raise").astype(float)
    if not np.isfinite(long["rh_g_c_yr"]).all():
        raise ValueError(f"{path}: non-finite values")
    if not long["rh_g_c_yr"].between(1e15, 1e18).all():
        raise ValueError(
            f"{path}: values outside 1e15..1e18; expected global totals in g C yr-1"
        )
    long["rh_pg_c_yr"] = long["rh_g_c_yr"] / G_PER_PG
    long["year"] = long["year"].astype(int)
    long["model"] = long["model"].astype(str)
    out = long[["model", "year", "rh_pg_c_yr"]].sort_values(["model", "year"], ignore_index=True)
    return out


def read_zone_climate_series(path: Path | None = None) -> pd.DataFrame:
    """Read the UDel annual temperature and precipitation series by Koeppen zone, 1961-2014.

    The file (latin-1, ``\\r`` or ``\\r\\n`` line endings) has one row per year and zone
    (``MiddleClimate`` in :data:`KOPPEN_ZONES`).

    Returns
    -------
    pandas.DataFrame
        Columns ``year``, ``zone``, ``tm_c`` (zone mean annual temperature, deg C),
        ``pm_mm_month`` (zone mean monthly precipitation, mm month-1), ``tm_anomaly_c`` and
        ``pm_anomaly_mm_month`` (the year minus the zone's 1961-2014 mean, as published).

    Raises
    ------
    ValueError
        On an unknown zone label or a repeated (year, zone).
    """
    path = fetch(ZONE_SERIES_FILE) if path is None else Path(path)
    raw = pd.read_csv(io.StringIO(read_text_any_newline(path)))
    require_columns(raw, {"Year", "MiddleClimate", "Tm", "Pm", "Tm_Annomaly", "Pm_Annomaly"}, str(path))
    out = pd.DataFrame(
        {
            "year": raw["Year"].astype(int),
            "zone": raw["MiddleClimate"].astype(str).str.strip(),
            "tm_c": raw["Tm"].astype(float),
            "pm_mm_month": raw["Pm"].astype(float),
            "tm_anomaly_c": raw["Tm_Annomaly"].astype(float),
            "pm_anomaly_mm_month": raw["Pm_Annomaly"].astype(float),
        }
    )
    unknown = sorted(set(out["zone"]) - set(KOPPEN_ZONES))
    if unknown:
        raise ValueError(f"{path}: unknown zone labels {unknown}; expected {KOPPEN_ZONES}")
    if out.duplicated(["year", "zone"]).any():
        raise ValueError(f"{path}: repeated (year, zone) rows")
    return out.sort_values(["zone", "year"], ignore_index=True)


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


def build_year_climate(
    climatology: xr.Dataset,
    zones: xr.DataArray,
    zone_series: pd.DataFrame,
    year: int,
    precip_mode: str = "ratio",
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
    if zones.shape != climatology["tmean_c"].shape[-2:]:
        raise ValueError(
            f"zones grid {zones.shape} differs from climatology grid {climatology['tmean_c'].shape[-2:]}"
        )
    rows = zone_series[zone_series["year"] == year]
    if rows.empty:
        raise ValueError(f"year {year} not in the zone series")
    if precip_mode not in ("ratio", "additive"):
        raise ValueError(f"precip_mode must be 'ratio' or 'additive', got {precip_mode!r}")
    dt = np.zeros(zones.shape)
    dp = np.zeros(zones.shape)
    ratio = np.ones(zones.shape)
    zone_values = np.asarray(zones.values, dtype=object)
    for rec in rows.itertuples(index=False):
        sel = zone_values == rec.zone
        dt[sel] = rec.tm_anomaly_c
        dp[sel] = rec.pm_anomaly_mm_month
        zone_mean = rec.pm_mm_month - rec.pm_anomaly_mm_month
        if precip_mode == "ratio" and not zone_mean > 0:
            raise ValueError(f"zone {rec.zone} {year}: mean precipitation {zone_mean} is not positive")
        ratio[sel] = rec.pm_mm_month / zone_mean if precip_mode == "ratio" else 1.0
    has_zone = zone_values != ""
    tmean = climatology["tmean_c"]
    land = np.isfinite(tmean.values).any(axis=0)
    cells_without_zone = int((land & ~has_zone).sum())
    dims2 = tmean.dims[-2:]
    dt_da = xr.DataArray(dt, dims=dims2)
    dp_da = xr.DataArray(dp, dims=dims2)
    new_t = tmean + dt_da
    if precip_mode == "ratio":
        prec = climatology["prec_mm_month"] * xr.DataArray(ratio, dims=dims2)
    else:
        prec = climatology["prec_mm_month"] + dp_da
    clipped = int((prec < 0).sum())
    prec = prec.clip(min=0.0).where(np.isfinite(climatology["prec_mm_month"]))
    out = climatology.copy()
    out["tmean_c"] = new_t.assign_attrs(tmean.attrs)
    out["prec_mm_month"] = prec.assign_attrs(climatology["prec_mm_month"].attrs)
    out.attrs = dict(climatology.attrs, forcing_year=int(year))
    return out, {"cells_without_zone": cells_without_zone, "prec_cell_months_clipped": clipped}


def hash_inputs(*parts: object) -> str:
    """A short sha256 over a JSON rendering of ``parts`` (str() for anything not JSON-able)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


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
) -> pd.DataFrame:
    """Run each fitted member on each year's forcing and sum to global totals.

    Parameters
    ----------
    fitted
        Member name -> fitted member (from ``globalrs.ensemble.fit_members``).
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
        Years run concurrently in threads (results do not depend on it).

    Returns
    -------
    pandas.DataFrame
        Columns ``member``, ``year``, ``rs_pg_c_yr``, ``cells_without_zone``,
        ``prec_cell_months_clipped``.
    """
    from globalrs.grid import global_total_pg

    def run_year(year: int) -> list[dict]:
        climate, counts = build_year_climate(climatology, zones, zone_series, int(year), precip_mode)
        out = []
        for name, member in fitted.items():
            field = predict(member, climate)
            units = field.attrs.get("units")
            if units != "g C m-2 yr-1":
                raise ValueError(f"member {name}: predict returned units {units!r}, need 'g C m-2 yr-1'")
            total = global_total_pg(field, area_m2=cell_area_m2, mask=land_mask)
            out.append({"member": name, "year": int(year), "rs_pg_c_yr": float(total), **counts})
        return out

    years = [int(y) for y in years]
    n_workers = max(1, int(workers))
    records = []
    # Threads: the heavy parts (numpy, tree ensembles' predict) release the GIL; map keeps year order.
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        for year, rows in zip(years, pool.map(run_year, years)):
            records.extend(rows)
            if progress is not None:
                progress(f"year {year}: {len(fitted)} members done")
    return pd.DataFrame.from_records(records)


def load_cached_frame(key: str, compute: Callable[[], pd.DataFrame], cache_dir: Path, stem: str) -> pd.DataFrame:
    """Return the cached CSV ``<stem>-<key>.csv`` under ``cache_dir``, computing and writing it if absent."""
    path = Path(cache_dir) / f"{stem}-{key}.csv"
    if path.is_file():
        return pd.read_csv(path)
    frame = compute()
    write_csv_atomic(frame, path)
    return frame


def zone_area_weighted_anomaly(
    zone_series: pd.DataFrame, zones: xr.DataArray, cell_area_m2: xr.DataArray
) -> pd.DataFrame:
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
            "pm_anomaly_mm_month": grouped.apply(
                lambda g: float((g.weight * g.pm_anomaly_mm_month).sum()), include_groups=False
            ),
        }
    ).reset_index()
    n_zones = grouped["zone"].nunique()
    if (n_zones != len(KOPPEN_ZONES)).any():
        raise ValueError(f"years with missing zones: {n_zones[n_zones != len(KOPPEN_ZONES)].index.tolist()}")
    out.attrs["zone_weights"] = weights
    return out


def model_mean_rh(frame: pd.DataFrame) -> pd.DataFrame:
    """Average a (model, member, year, rh_pg_c_yr) table over members: one series per model."""
    out = frame.groupby(["model", "year"], as_index=False)["rh_pg_c_yr"].mean()
    counts = frame.groupby("model")["member"].nunique() if "member" in frame else None
    if counts is not None:
        out.attrs["members_per_model"] = counts.to_dict()
    return out


def collect_reference_series(cmip6_rh: pd.DataFrame | None = None) -> pd.DataFrame:
    """The published and process-model annual global series in one long table.

    Rows: Lei et al. (2021) Rs and Rh; ISIMIP2a Rh (8 models); CMIP6 historical Rh (member mean per
    model; from ``cmip6_rh`` when given, else :func:`globalrs.cmip6.read_cmip6_annual_rh`).

    Returns
    -------
    pandas.DataFrame
        Columns ``series`` (label, Rh series end in "(Rh)"), ``group``, ``flux`` ("Rs" or "Rh"),
        ``year``, ``value_pg_c_yr``.
    """
    lei = read_lei2021()
    parts = [
        pd.DataFrame({"series": "Lei et al. 2021 (Rs)", "group": "Data-driven, published", "flux": "Rs",
                      "year": lei["year"], "value_pg_c_yr": lei["rs_pg_c_yr"]}),
        pd.DataFrame({"series": "Lei et al. 2021 (Rh)", "group": "Data-driven, published", "flux": "Rh",
                      "year": lei["year"], "value_pg_c_yr": lei["rh_pg_c_yr"]}),
    ]
    isimip = read_isimip2a_global_rh()
    parts.append(pd.DataFrame({"series": "ISIMIP2a " + isimip["model"] + " (Rh)", "group": "ISIMIP2a process models",
                               "flux": "Rh", "year": isimip["year"], "value_pg_c_yr": isimip["rh_pg_c_yr"]}))
    if cmip6_rh is None:
        from globalrs.cmip6 import read_cmip6_annual_rh

        cmip6_rh = read_cmip6_annual_rh(experiment="historical")
    cm = model_mean_rh(cmip6_rh)
    parts.append(pd.DataFrame({"series": "CMIP6 " + cm["model"] + " (Rh)", "group": "CMIP6 Earth system models",
                               "flux": "Rh", "year": cm["year"], "value_pg_c_yr": cm["rh_pg_c_yr"]}))
    out = pd.concat(parts, ignore_index=True)
    out["year"] = out["year"].astype(int)
    return out


def source_fingerprint(modules: Iterable[str]) -> str:
    """sha256 (16 hex) of the source code of the named ``globalrs`` modules (for cache keys)."""
    import importlib

    digest = hashlib.sha256()
    for name in modules:
        module = importlib.import_module(name)
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


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
    (:func:`build_year_climate`); the members are fitted once (``globalrs.ensemble.fit_members``)
    and predicted on each year (``predict_member``). Totals are cell area x land fraction over
    the ensemble land mask, as in ``globalrs.ensemble.ensemble_totals_pg``.

    The result is cached as CSV under ``get_cache_dir()/timeseries`` keyed by the years, data
    version, forcing, the sha256 of the zone file and the source of the modules involved.

    Returns
    -------
    pandas.DataFrame
        Columns ``member``, ``method_family``, ``year``, ``rs_pg_c_yr``, ``cells_without_zone``,
        ``prec_cell_months_clipped``.
    """
    from globalrs import ensemble
    from globalrs.config import get_cache_dir
    from globalrs.data import get_entry
    from globalrs.readers import read_koppen_05

    years = [int(y) for y in years]
    key = hash_inputs(
        years, data_version, forcing, precip_mode, get_entry(ZONE_SERIES_FILE).sha256,
        source_fingerprint(["globalrs.timeseries", "globalrs.ensemble", "globalrs.models", "globalrs.readers"]),
    )

    def compute() -> pd.DataFrame:
        ens = ensemble.load_ensemble(data_version=data_version, forcing=forcing)
        climatology = ensemble.load_climatology(forcing=forcing)
        fitted = ensemble.fit_members(data_version=data_version, forcing=forcing)
        zones, _ = assign_koppen_zones(read_koppen_05())
        landcover = ensemble.load_static_05()["landcover_group"]

        def predict(member, climate):
            return ensemble.predict_member(member, climate, landcover=landcover)

        # the same totalling as the ensemble's own (cell area x land fraction over the land mask)
        area = ens["cell_area_m2"] * ens["land_fraction"]
        frame = run_members_by_year(
            fitted, predict, climatology, zones, read_zone_climate_series(), years,
            area, land_mask=ens["land_mask"].astype(bool), progress=progress, precip_mode=precip_mode,
        )
        families = {str(m): str(f) for m, f in zip(ens["member"].values, ens["method_family"].values)}
        frame.insert(1, "method_family", frame["member"].map(families).fillna("unknown"))
        return frame

    if refresh:
        path = get_cache_dir() / "timeseries" / f"standardized-annual-{key}.csv"
        path.unlink(missing_ok=True)
    return load_cached_frame(key, compute, get_cache_dir() / "timeseries", "standardized-annual")
