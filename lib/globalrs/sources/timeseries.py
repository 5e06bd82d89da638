"""Readers for the annual series of the temporal chapters.

Every reader takes its file through :func:`globalrs.sources.data.fetch` and returns a tidy
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

The year-by-year forcing built from the zone series, and the year-by-year runs of the
standardized members, are in :mod:`globalrs.estimates.forcing`.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from globalrs.core.units import G_PER_PG
from globalrs.sources.data import fetch, require_columns

LEI2021_FILE = "lei2021/NOLAI-BASE_ANALYSIS_gf_final_1987-2016_1000.csv"
BERKELEY_LAND_FILE = "berkeley-earth/Complete_TAVG_complete.txt"
ISIMIP2A_RH_FILE = "isimip2a/all_annual_global_rh.csv"
ZONE_SERIES_FILE = "mgrsd/GlobalTempPrecipTimeSeries_Del_by_climate_zone.csv"
GISTEMP_FILES = {"GLB": "gistemp/GLB.Ts.csv", "NH": "gistemp/NH.Ts.csv", "SH": "gistemp/SH.Ts.csv"}

#: The eight Koeppen zones of the UDel zone series (column ``MiddleClimate``).
KOPPEN_ZONES = ("A", "B", "Cf", "Cs", "Cw", "Df", "Dsw", "E")


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
    require_columns(
        raw, {"year", "rs_mean", "rs_sd", "rh_mean", "rh_sd", "AT"}, f"{path} (expected a Lei et al. 2021 NOLAI-BASE file)"
    )
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
    return pd.DataFrame({"year": means.index.astype(int), column: means.to_numpy()}).reset_index(drop=True)


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
    return pd.DataFrame({"year": raw.loc[keep, "Year"].astype(int).to_numpy(), "tas_anomaly_c": values[keep].to_numpy()})


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
        raise ValueError(f"{path}: values outside 1e15..1e18; expected global totals in g C yr-1")
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


def model_mean_rh(frame: pd.DataFrame) -> pd.DataFrame:
    """Average a (model, member, year, rh_pg_c_yr) table over members: one series per model."""
    out = frame.groupby(["model", "year"], as_index=False)["rh_pg_c_yr"].mean()
    counts = frame.groupby("model")["member"].nunique() if "member" in frame else None
    if counts is not None:
        out.attrs["members_per_model"] = counts.to_dict()
    return out


def collect_reference_series(cmip6_rh: pd.DataFrame) -> pd.DataFrame:
    """The published and process-model annual global series in one long table.

    Rows: Lei et al. (2021) Rs and Rh; ISIMIP2a Rh (8 models); CMIP6 historical Rh (member mean per
    model of ``cmip6_rh``, e.g. ``globalrs.process_models.cmip6.read_cmip6_annual_rh(experiment="historical")``).

    Parameters
    ----------
    cmip6_rh
        CMIP6 annual global Rh: columns ``model``, ``member``, ``year``, ``rh_pg_c_yr``.

    Returns
    -------
    pandas.DataFrame
        Columns ``series`` (label, Rh series end in "(Rh)"), ``group``, ``flux`` ("Rs" or "Rh"),
        ``year``, ``value_pg_c_yr``.
    """
    lei = read_lei2021()
    parts = [
        pd.DataFrame(
            {
                "series": "Lei et al. 2021 (Rs)",
                "group": "Data-driven, published",
                "flux": "Rs",
                "year": lei["year"],
                "value_pg_c_yr": lei["rs_pg_c_yr"],
            }
        ),
        pd.DataFrame(
            {
                "series": "Lei et al. 2021 (Rh)",
                "group": "Data-driven, published",
                "flux": "Rh",
                "year": lei["year"],
                "value_pg_c_yr": lei["rh_pg_c_yr"],
            }
        ),
    ]
    isimip = read_isimip2a_global_rh()
    parts.append(
        pd.DataFrame(
            {
                "series": "ISIMIP2a " + isimip["model"] + " (Rh)",
                "group": "ISIMIP2a process models",
                "flux": "Rh",
                "year": isimip["year"],
                "value_pg_c_yr": isimip["rh_pg_c_yr"],
            }
        )
    )
    cm = model_mean_rh(cmip6_rh)
    parts.append(
        pd.DataFrame(
            {
                "series": "CMIP6 " + cm["model"] + " (Rh)",
                "group": "CMIP6 Earth system models",
                "flux": "Rh",
                "year": cm["year"],
                "value_pg_c_yr": cm["rh_pg_c_yr"],
            }
        )
    )
    out = pd.concat(parts, ignore_index=True)
    out["year"] = out["year"].astype(int)
    return out
