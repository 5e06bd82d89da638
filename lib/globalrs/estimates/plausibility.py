"""Plausibility by class: the members' predicted fluxes of a land class beside the records of that class.

A soil scientist checks a map class by class: does a member put forest-level fluxes in a desert?
:func:`class_plausibility` sets, for each class of a grid (land-cover group, Koeppen zone), the
land-area-weighted median and interquartile range of every member's map over the class's cells
beside the median, IQR and count of the observations whose grid cell is in that class.

Classes with fewer than :data:`MIN_RECORDS` records are flagged; a class without any record says
so in words (``records`` column), never as a zero. Deserts have their own rows: the MODIS
``barren`` land-cover group and the Koeppen ``BW`` (arid desert) zone, split from ``BS`` (steppe).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.core.units import M2_PER_MKM2

#: Fewer records than this in a class and the comparison is flagged as thin.
MIN_RECORDS = 10

#: Koeppen-Geiger groups of :func:`koppen_group`: main climates, with the arid B split into
#: desert (BW) and steppe (BS) so deserts have their own row.
KOPPEN_GROUPS = {
    "A": "A tropical",
    "BW": "BW arid desert",
    "BS": "BS arid steppe",
    "C": "C temperate",
    "D": "D cold",
    "E": "E polar",
}


def koppen_group(koppen_class: np.ndarray) -> np.ndarray:
    """Map Koeppen-Geiger classes (``"Af"``, ``"BWh"``, ``"Dfc"`` ...) to :data:`KOPPEN_GROUPS` labels.

    Returns
    -------
    numpy.ndarray
        Labels (object dtype); ``""`` where the class is empty or unknown.
    """
    values = np.asarray(koppen_class, dtype=object)
    out = np.full(values.shape, "", dtype=object)
    for idx, cls in np.ndenumerate(values):
        text = cls.strip() if isinstance(cls, str) else ""
        key = text[:2] if text[:1] == "B" else text[:1]
        out[idx] = KOPPEN_GROUPS.get(key, "")
    return out


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, q: tuple[float, ...] = (0.25, 0.5, 0.75)) -> np.ndarray:
    """Quantiles of ``values`` weighted by ``weights`` (the weighted empirical CDF, midpoint rule).

    Raises
    ------
    ValueError
        No values, shapes that differ, or weights that are negative or sum to zero.
    """
    v, w = np.asarray(values, float).ravel(), np.asarray(weights, float).ravel()
    if v.size == 0 or v.shape != w.shape:
        raise ValueError(f"weighted quantiles need paired values, got {v.shape} and {w.shape}")
    if (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be non-negative with a positive sum")
    order = np.argsort(v)
    v, w = v[order], w[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cdf, v)


def class_plausibility(
    rs_annual: xr.DataArray,
    classes: xr.DataArray,
    weight: xr.DataArray,
    mask: xr.DataArray,
    obs_rs: np.ndarray,
    obs_class: np.ndarray,
    order: list[str],
    min_records: int = MIN_RECORDS,
) -> pd.DataFrame:
    """Members' distribution and the records' distribution, class by class.

    Parameters
    ----------
    rs_annual
        ``(member, lat, lon)`` annual Rs, g C m-2 yr-1.
    classes
        ``(lat, lon)`` class label of each cell.
    weight
        ``(lat, lon)`` cell area x land fraction (m2), the weight of each cell's flux.
    mask
        ``(lat, lon)`` cells that count (the ensemble's land mask).
    obs_rs, obs_class
        Each record's annual Rs (g C m-2 yr-1) and the class of its grid cell.
    order
        The classes, in row order (a class with no cell on the mask is an error: it cannot be
        compared).
    min_records
        Below this many records a class is flagged.

    Returns
    -------
    pandas.DataFrame
        One row per ``(class, source)``, ``source`` being ``"records"`` or a member: ``q25``,
        ``median``, ``q75`` (g C m-2 yr-1), ``n`` (records, or cells for a member),
        ``land_area_mkm2`` and ``records`` (``"no records"``, ``"fewer than N records"`` or
        ``"N records"``), the same on every row of a class.
    """
    if classes.shape != mask.shape or rs_annual.shape[-2:] != mask.shape or weight.shape != mask.shape:
        raise ValueError(
            f"class grid {classes.shape}, weight {weight.shape}, maps {rs_annual.shape[-2:]} and mask {mask.shape} differ"
        )
    obs_rs = np.asarray(obs_rs, float)
    obs_class = np.asarray(obs_class, dtype=object)
    if obs_rs.shape != obs_class.shape:
        raise ValueError(f"{obs_rs.size} record values but {obs_class.size} record classes")
    on = mask.values.astype(bool)
    cls = np.asarray(classes.values, dtype=object)
    w = weight.values
    rows = []
    for label in order:
        cells = on & (cls == label)
        if not cells.any():
            raise ValueError(f"class {label!r} has no cell on the land mask")
        recs = obs_rs[obs_class == label]
        n = int(recs.size)
        status = "no records" if n == 0 else (f"fewer than {min_records} records" if n < min_records else f"{n} records")
        area = float(w[cells].sum()) / M2_PER_MKM2
        if n:
            q25, med, q75 = np.percentile(recs, [25, 50, 75])
        else:
            q25 = med = q75 = np.nan
        rows.append({"class": label, "source": "records", "q25": q25, "median": med, "q75": q75, "n": n})
        for name in rs_annual["member"].values:
            vals = rs_annual.sel(member=name).values[cells]
            if not np.isfinite(vals).all():
                raise ValueError(f"member {name}: NaN on the land mask in class {label!r}")
            q = weighted_quantiles(vals, w[cells])
            rows.append({"class": label, "source": str(name), "q25": q[0], "median": q[1], "q75": q[2], "n": int(cells.sum())})
        for row in rows[-(1 + rs_annual.sizes["member"]) :]:
            row.update(land_area_mkm2=area, records=status)
    return pd.DataFrame(rows)


def plot_class_plausibility(
    table: pd.DataFrame, ax, title: str, colors: dict[str, str] | None = None, min_records: int = MIN_RECORDS
) -> None:
    """One row per class: the records' IQR (grey bar, black median) and each member's median and IQR.

    A class without records is labelled so on its row; every label carries the record count, and
    ``thin`` when it is below ``min_records``.
    """
    labels = list(dict.fromkeys(table["class"]))
    members = [s for s in dict.fromkeys(table["source"]) if s != "records"]
    offsets = np.linspace(-0.3, 0.3, len(members))
    for i, label in enumerate(labels):
        rows = table[table["class"] == label].set_index("source")
        rec = rows.loc["records"]
        if rec["n"] > 0:
            ax.barh(i, rec["q75"] - rec["q25"], left=rec["q25"], height=0.8, color="0.85", zorder=1)
            ax.plot([rec["median"]] * 2, [i - 0.4, i + 0.4], color="k", lw=2, zorder=2)
        else:
            ax.text(0.99, i, "no records", transform=ax.get_yaxis_transform(), ha="right", va="center", fontsize=8, color="0.3")
        for off, name in zip(offsets, members, strict=True):
            m = rows.loc[name]
            color = (colors or {}).get(name)
            ax.plot([m["q25"], m["q75"]], [i + off] * 2, color=color, lw=1.2, zorder=3)
            ax.plot(m["median"], i + off, "o", ms=4, color=color, label=name if i == 0 else None, zorder=4)
    ax.set_yticks(range(len(labels)))
    counts = [int(table[(table["class"] == lab) & (table["source"] == "records")]["n"].iloc[0]) for lab in labels]
    ax.set_yticklabels([f"{lab} ({n}{', thin' if 0 < n < min_records else ''})" for lab, n in zip(labels, counts, strict=True)])
    ax.invert_yaxis()
    ax.set_xlabel("annual Rs (g C m$^{-2}$ yr$^{-1}$)")
    ax.set_title(title, fontsize=10)


#: The Sahara core used to check desert fluxes: 18-30 N, 10 W-30 E (degrees).
SAHARA_CORE = {"lat_deg": (18.0, 30.0), "lon_deg": (-10.0, 30.0)}


def box_mean_g_m2_yr(
    rs_annual: xr.DataArray, weight: xr.DataArray, mask: xr.DataArray, box: dict[str, tuple[float, float]] = SAHARA_CORE
) -> pd.Series:
    """Land-area-weighted mean flux of each member over the mask's cells whose centres lie in ``box``.

    Parameters
    ----------
    rs_annual
        ``(member, lat, lon)`` g C m-2 yr-1.
    weight
        ``(lat, lon)`` cell area x land fraction.
    mask
        ``(lat, lon)`` cells that count.
    box
        ``{"lat_deg": (south, north), "lon_deg": (west, east)}``.

    Returns
    -------
    pandas.Series
        Mean per member (g C m-2 yr-1), named ``mean_g_m2_yr``.
    """
    wt = weight.where(mask.astype(bool) & box_mask(rs_annual, box))
    if float(wt.sum()) <= 0:
        raise ValueError(f"no land of the mask in the box {box}")
    mean = (rs_annual * wt).sum(("lat", "lon")) / wt.sum()
    return mean.to_series().rename("mean_g_m2_yr")


def box_mask(field: xr.DataArray, box: dict[str, tuple[float, float]] = SAHARA_CORE) -> xr.DataArray:
    """``(lat, lon)`` bool: cells of ``field``'s grid whose centres lie in ``box`` (edges included)."""
    (s, n), (w, e) = box["lat_deg"], box["lon_deg"]
    return (field["lat"] >= s) & (field["lat"] <= n) & (field["lon"] >= w) & (field["lon"] <= e)


def landcover_classes(landcover_group: xr.DataArray, groups: tuple[str, ...]) -> xr.DataArray:
    """Land-cover group names on the grid (``""`` where the index is -1, no land cover).

    Parameters
    ----------
    landcover_group
        ``(lat, lon)`` index into ``groups`` (e.g. ``load_static_05()["landcover_group"]``).
    groups
        The group names in index order (:data:`globalrs.sources.readers.LANDCOVER_GROUPS`).

    Returns
    -------
    xarray.DataArray
        ``(lat, lon)`` object array of names.
    """
    codes = np.asarray(landcover_group.values, int)
    if codes.max(initial=-1) >= len(groups):
        raise ValueError(f"land-cover index {codes.max()} beyond the {len(groups)} groups")
    names = np.asarray(groups, dtype=object)
    return xr.DataArray(
        np.where(codes >= 0, names[np.clip(codes, 0, None)], ""), coords=landcover_group.coords, dims=landcover_group.dims
    )


def koppen_classes(koppen_class: xr.DataArray) -> xr.DataArray:
    """:func:`koppen_group` on a grid of Koeppen-Geiger classes, keeping its coordinates."""
    return xr.DataArray(koppen_group(koppen_class.values), coords=koppen_class.coords, dims=koppen_class.dims)


def class_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per class of :func:`class_plausibility`: land area, records (status, median, IQR), each member's median.

    A class without records shows ``"no records"`` in its IQR column (its median is NaN beside
    the ``records`` column that says so).
    """
    rec = table[table["source"] == "records"].set_index("class")
    members = [s for s in dict.fromkeys(table["source"]) if s != "records"]
    out = pd.DataFrame(
        {
            "land (million km2)": rec["land_area_mkm2"],
            "records": rec["records"],
            "records median": rec["median"],
            "records IQR": [
                f"{a:.0f}-{b:.0f}" if n else "no records" for a, b, n in zip(rec["q25"], rec["q75"], rec["n"], strict=True)
            ],
        }
    )
    medians = table[table["source"] != "records"].pivot(index="class", columns="source", values="median")
    return out.join(medians[members].add_prefix("median ")).loc[rec.index]
