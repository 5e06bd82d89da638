"""The global monthly cycle of the map beside the monthly members and the paper's range."""

from __future__ import annotations

import pandas as pd
import xarray as xr

from globalrs.app.compare.footprint import land_area_m2, map_cells
from globalrs.app.compare.results import SeasonalComparison, SeasonalRange
from globalrs.core import stats
from globalrs.reproduction import paper


def paper_seasonal_range() -> SeasonalRange:
    """Return the paper's range of the global monthly cycle, read from :mod:`globalrs.reproduction.paper`.

    Returns
    -------
    SeasonalRange
        Peak and minimum months and values, amplitude, the paper's sentences and the source.
    """
    claims = {
        name: paper.get_claim(f"seasonality.{name}")
        for name in ("peak_months", "peak_range", "minimum_month", "minimum_range", "amplitude_range")
    }
    month_number = {name: i + 1 for i, name in enumerate(stats.MONTH_NAMES)}
    return SeasonalRange(
        peak_months=tuple(month_number[m] for m in claims["peak_months"].value),
        peak_pg_c_month=(claims["peak_range"].low, claims["peak_range"].high),
        min_months=tuple(month_number[m] for m in claims["minimum_month"].value),
        min_pg_c_month=(claims["minimum_range"].low, claims["minimum_range"].high),
        amplitude_pg_c_month=(claims["amplitude_range"].low, claims["amplitude_range"].high),
        sentence=" ... ".join(c.quote for c in claims.values()),
        source=f"{paper.PAPER}, Results (globalrs.reproduction.paper)",
    )


def seasonal_tables(harmonized: xr.Dataset, ens: xr.Dataset, partial: bool, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the global monthly totals (Pg C month-1) of the map and of the monthly members, and their cycle metrics.

    The metrics are :func:`globalrs.core.stats.seasonal_cycle_metrics`'.

    Parameters
    ----------
    harmonized
        The harmonized map (``rs_monthly``).
    ens
        The ensemble (``rs_monthly`` when it has monthly members).
    partial
        A partial map's members are totalled on its footprint.
    name
        The map's label.

    Returns
    -------
    (cycle, metrics)
        ``cycle``: index month 1..12, one column per series; ``metrics``: one row per series.
    """
    area = land_area_m2(ens)
    own = map_cells(harmonized, ens)
    mask = ens["land_mask"].astype(bool)
    series = {name: stats.monthly_global_totals_pg(harmonized["rs_monthly"].where(own), area).to_series()}
    if "rs_monthly" in ens:
        cells = (mask & own) if partial else mask
        members = stats.monthly_global_totals_pg(ens["rs_monthly"].where(cells), area)
        for member in members["member_monthly"].values:
            series[str(member)] = members.sel(member_monthly=member).to_series()
    cycle = pd.DataFrame(series)
    cycle.index.name = "month"
    metrics = pd.DataFrame({k: stats.seasonal_cycle_metrics(v.to_numpy()) for k, v in cycle.items()}).T
    metrics.index.name = "series"
    metrics[["peak_month", "min_month"]] = metrics[["peak_month", "min_month"]].astype(int)
    return cycle, metrics


def compare_with_paper_cycle(metrics_row: pd.Series, paper_range: SeasonalRange) -> pd.DataFrame:
    """Return the map's cycle metrics beside the paper's range.

    Parameters
    ----------
    metrics_row
        The map's row of :func:`seasonal_tables`' metrics.
    paper_range
        The paper's range (:func:`paper_seasonal_range`).

    Returns
    -------
    pandas.DataFrame
        Indexed by metric: ``this map``, ``paper``, ``inside paper's range`` (True/False).
    """

    def month_row(label: str, key: str, months: tuple[int, ...]) -> tuple:
        """Return the row of a month metric: the map's month, the paper's months, inside."""
        month = int(metrics_row[key])
        return label, stats.MONTH_NAMES[month - 1], "-".join(stats.MONTH_NAMES[m - 1] for m in months), month in months

    def value_row(label: str, key: str, lo_hi: tuple[float, float]) -> tuple:
        """Return the row of a value metric: the map's value, the paper's range, inside."""
        value = float(metrics_row[key])
        return label, round(value, 2), f"{lo_hi[0]:g}-{lo_hi[1]:g}", bool(lo_hi[0] <= value <= lo_hi[1])

    rows = [
        month_row("peak month", "peak_month", paper_range.peak_months),
        value_row("peak (Pg C month-1)", "peak_value", paper_range.peak_pg_c_month),
        month_row("minimum month", "min_month", paper_range.min_months),
        value_row("minimum (Pg C month-1)", "min_value", paper_range.min_pg_c_month),
        value_row("amplitude (Pg C month-1)", "amplitude", paper_range.amplitude_pg_c_month),
    ]
    return pd.DataFrame(rows, columns=["metric", "this map", "paper", "inside paper's range"]).set_index("metric")


def seasonal_comparison(harmonized: xr.Dataset, ens: xr.Dataset, kind: str, partial: bool, name: str) -> SeasonalComparison:
    """Compare the map's global monthly cycle with the members' and (global Rs) the paper's range.

    Parameters
    ----------
    harmonized
        The harmonized map (``rs_monthly``).
    ens
        The ensemble.
    kind
        ``"rs"`` or ``"rh"`` (the paper's range is for Rs).
    partial
        A partial map is not set against the paper's global range.
    name
        The map's label.

    Returns
    -------
    SeasonalComparison
        The cycle, its metrics and (global Rs) the paper's range and the comparison with it.
    """
    cycle, metrics = seasonal_tables(harmonized, ens, partial, name)
    result = SeasonalComparison(cycle_pg_c_month=cycle, metrics=metrics)
    if kind == "rs" and not partial:
        result.paper_range = paper_seasonal_range()
        result.vs_paper = compare_with_paper_cycle(metrics.loc[name], result.paper_range)
    return result
