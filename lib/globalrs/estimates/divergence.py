"""Where the members diverge: per-cell CV, and the split of the spread into method, data, forcing.

Each source of divergence is measured by varying one thing (:data:`CONFIGURATIONS`): the member
(method), the SRDB release (data) or the climate forcing. :func:`cellwise_cv` is the library's
one per-cell coefficient of variation.
"""

from __future__ import annotations

import json

import pandas as pd
import xarray as xr

from globalrs.core.grid import land_area_mkm2
from globalrs.core.schema import validate_gridded
from globalrs.estimates.ensemble import load_ensemble

#: The three protocol runs: the baseline, one with the other SRDB release, one with the other
#: climate forcing. Each source of divergence is measured by varying one thing.
CONFIGURATIONS: dict[str, tuple[str, str]] = {
    "baseline (SRDB-V5, WorldClim)": ("v5", "worldclim"),
    "data (SRDB 2022, WorldClim)": ("v2022", "worldclim"),
    "forcing (SRDB-V5, UDel)": ("v5", "udel"),
}


def load_configurations(configurations: dict[str, tuple[str, str]] | None = None) -> xr.Dataset:
    """All protocol runs stacked along ``config`` on their common land mask.

    The runs' own masks differ where a forcing has no climate (UDel leaves out some coastal and
    island cells that WorldClim covers), so the comparison is made on the cells every run covers:
    ``land_mask`` is the intersection, ``rs_annual`` is NaN outside it, and the attributes say how
    many cells and how much land area each run loses to it.

    Parameters
    ----------
    configurations
        Label -> ``(data_version, forcing)``; default :data:`CONFIGURATIONS`.

    Returns
    -------
    xarray.Dataset
        ``rs_annual`` (config, member, lat, lon) plus the common ``land_mask`` and the shared
        ``cell_area_m2``, ``land_fraction``; ``data_version`` and ``forcing`` as coordinates along
        ``config``; attributes ``common_mask`` (the rule), ``cells_outside_common_mask`` and
        ``land_area_mkm2`` (per run and common, JSON), ``n_obs``, ``n_sites`` (JSON).
    """
    configurations = configurations or CONFIGURATIONS
    runs = {label: load_ensemble(dv, f) for label, (dv, f) in configurations.items()}
    first = next(iter(runs.values()))
    common = first["land_mask"].astype(bool)
    for ds in runs.values():
        common = common & ds["land_mask"].astype(bool)
    area, frac = first["cell_area_m2"], first["land_fraction"]
    rs = xr.concat([ds["rs_annual"].where(common) for ds in runs.values()], dim="config")
    rs = rs.assign_coords(
        config=list(runs),
        data_version=("config", [c[0] for c in configurations.values()]),
        forcing=("config", [c[1] for c in configurations.values()]),
    )
    rs.attrs = dict(first["rs_annual"].attrs)
    land_area = {label: land_area_mkm2(area, frac, ds["land_mask"]) for label, ds in runs.items()}
    land_area["common"] = land_area_mkm2(area, frac, common)
    return validate_gridded(
        xr.Dataset(
            {"rs_annual": rs, "land_mask": common, "cell_area_m2": area, "land_fraction": frac},
            attrs={
                "common_mask": (
                    "totals and per-cell CV of every run are taken over the cells inside the land mask of every "
                    "run (the same land); each run is still fitted on the records its own mask keeps (n_obs)"
                ),
                "cells_outside_common_mask": json.dumps(
                    {k: int((v["land_mask"].astype(bool) & ~common).sum()) for k, v in runs.items()}
                ),
                "land_area_mkm2": json.dumps(land_area),
                "n_obs": json.dumps({k: int(v.attrs["n_obs"]) for k, v in runs.items()}),
                "n_sites": json.dumps({k: int(v.attrs["n_sites"]) for k, v in runs.items()}),
            },
        )
    )


def cellwise_cv(rs: xr.DataArray, dim: str = "member") -> xr.DataArray:
    """Per-cell coefficient of variation along ``dim``: sample SD (ddof = 1) / mean, a fraction.

    Parameters
    ----------
    rs
        Field with dimension ``dim`` (members, runs...).
    dim
        The dimension the spread is taken across.

    Returns
    -------
    xarray.DataArray
        CV per cell; NaN where any value along ``dim`` is NaN or the mean is not positive.
    """
    mean = rs.mean(dim, skipna=False)
    sd = rs.std(dim, ddof=1, skipna=False)
    cv = (sd / mean).where(mean > 0)
    cv.attrs = {"units": "1", "long_name": f"coefficient of variation across {dim}"}
    return cv.rename("cv")


def method_spread(totals: pd.Series, compared: str) -> dict[str, object]:
    """Spread of the members' totals of one run: SD (ddof = 1), range and CV (%), with what was compared."""
    return {
        "compared": compared,
        "sd_pg": float(totals.std(ddof=1)),
        "range_pg": float(totals.max() - totals.min()),
        "cv_percent": float(100 * totals.std(ddof=1) / totals.mean()),
    }


def paired_spread(totals: pd.DataFrame, baseline: str, other: str, only_changed: bool = False) -> dict[str, object]:
    """Per-member spread between two runs (SD of the pair, ddof = 1), averaged over members.

    Parameters
    ----------
    totals
        Members as rows, runs as columns (Pg C yr-1).
    baseline, other
        The two runs.
    only_changed
        Average only over the members whose total differs between the runs (a run that refits
        some members and keeps the others), and say how many in ``compared``.
    """
    pair = totals[[baseline, other]]
    if only_changed:
        pair = pair[(pair[other] - pair[baseline]).abs() > 0]
        if pair.empty:
            raise ValueError(f"no member differs between {baseline!r} and {other!r}")
    sd = pair.std(axis=1, ddof=1)
    which = f"per refitted member ({len(pair)}: {', '.join(pair.index)})" if only_changed else "per member"
    return {
        "compared": f"{baseline} vs {other}, {which}, averaged",
        "sd_pg": float(sd.mean()),
        "range_pg": float((pair.max(axis=1) - pair.min(axis=1)).mean()),
        "cv_percent": float((100 * sd / pair.mean(axis=1)).mean()),
    }


def split_divergence(totals: pd.DataFrame, baseline: str, data: str, forcing: str) -> pd.DataFrame:
    """Spread of global totals by source of divergence.

    Parameters
    ----------
    totals
        Global totals (Pg C yr-1), members as rows and protocol runs as columns.
    baseline, data, forcing
        Column names of the baseline run and of the runs that change only the data or only the
        forcing.

    Returns
    -------
    pandas.DataFrame
        One row per source: ``sd_pg`` (SD, ddof = 1), ``range_pg`` (max - min) and ``cv_percent``;
        for method these are across the baseline members (:func:`method_spread`); for data and
        forcing they are computed per member across its two runs and then averaged over members
        (:func:`paired_spread`).
    """
    rows = [{"source": "method", **method_spread(totals[baseline], f"{len(totals)} members, {baseline}")}]
    for source, other in (("data", data), ("forcing", forcing)):
        rows.append({"source": source, **paired_spread(totals, baseline, other)})
    return pd.DataFrame(rows).set_index("source")


def divergence_cv_maps(configs: xr.Dataset, baseline: str, data: str, forcing: str) -> xr.DataArray:
    """Per-cell CV maps of the three sources, ``(source, lat, lon)`` as fractions.

    Method: CV across the baseline members. Data, forcing: CV across the two runs of each member,
    averaged over members.
    """
    rs = configs["rs_annual"]
    maps = [
        cellwise_cv(rs.sel(config=baseline), "member"),
        cellwise_cv(rs.sel(config=[baseline, data]), "config").mean("member"),
        cellwise_cv(rs.sel(config=[baseline, forcing]), "config").mean("member"),
    ]
    out = xr.concat([m.drop_vars([c for c in m.coords if c not in ("lat", "lon")]) for m in maps], dim="source").assign_coords(
        source=["method", "data", "forcing"]
    )
    out.attrs = {"units": "1", "long_name": "per-cell coefficient of variation"}
    return out.where(configs["land_mask"])


def area_mean(field: xr.DataArray, weight: xr.DataArray) -> xr.DataArray:
    """Weighted mean over ``lat``/``lon`` ignoring NaN cells (e.g. land-area-weighted CV)."""
    w = weight.where(field.notnull())
    return (field * w).sum(("lat", "lon")) / w.sum(("lat", "lon"))


def mask_caption(label: str, mask: xr.DataArray, cell_area_m2: xr.DataArray, land_fraction: xr.DataArray) -> str:
    """One line naming the land a table of totals sums over: its mask, cell count and land area.

    Parameters
    ----------
    label
        What the mask is (e.g. ``"the land mask"``, ``"the common mask of the three runs"``).
    mask
        ``(lat, lon)`` bool.
    cell_area_m2, land_fraction
        The totals' weights (cell area x land fraction).

    Returns
    -------
    str
        The sentence ``Totals over <label>: <n> cells, <area> million km2 (cell area x land fraction).``.
    """
    mask = mask.astype(bool)
    area = land_area_mkm2(cell_area_m2, land_fraction, mask)
    return f"Totals over {label}: {int(mask.sum()):,} cells, {area:.1f} million km2 (cell area x land fraction)."
