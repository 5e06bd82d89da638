"""The two digitised global Rh series of ``landmodels/`` (Hashimoto et al. 2015, Tang et al. 2020)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from globalrs.sources.data import fetch

DIGITISED_FILES = {
    "Hashimoto et al. 2015 (digitised)": "landmodels/hashimoto2015_rh.txt",
    "Tang et al. 2020 (digitised)": "landmodels/tang2020_rh.txt",
}


def _datathief_points(lines: list[str], path: Path) -> list[tuple[float, float]]:
    """The (x, y) pairs of a DataThief export's lines after the first; comment lines are skipped,
    a header line before the first point is allowed, any other unreadable line is an error."""
    rows: list[tuple[float, float]] = []
    for ln in lines:
        if ln.startswith("#"):
            continue
        parts = [p for p in ln.replace(";", ",").replace("\t", ",").split(",") if p.strip()]
        if len(parts) == 1:
            parts = ln.split()
        try:
            x, y = float(parts[0]), float(parts[1])
        except (ValueError, IndexError) as err:
            if not rows:
                continue  # a header line such as "x, y"
            raise ValueError(f"{path}: cannot read line {ln!r}") from err
        rows.append((x, y))
    return rows


def read_digitised_series(path: Path, label: str) -> pd.DataFrame:
    """Read one DataThief export (first line ``#DataThief``; then x, y pairs) as annual values.

    Digitised points fall near, not on, whole years: each is assigned to the nearest year, and
    a year with two points (or none) is an error rather than a silent average or gap.

    Returns
    -------
    pandas.DataFrame
        Columns ``series``, ``year`` (int), ``rh_pg_c_yr``, ``year_digitised`` (the raw x).
    """
    text = Path(path).read_text(encoding="latin-1")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or not lines[0].lower().startswith("#datathief"):
        raise ValueError(f"{path}: first line is not '#DataThief': not a DataThief export")
    rows = _datathief_points(lines[1:], path)
    if not rows:
        raise ValueError(f"{path}: no data points")
    frame = pd.DataFrame(rows, columns=["year_digitised", "rh_pg_c_yr"])
    frame["year"] = np.rint(frame["year_digitised"]).astype(int)
    if (frame["year_digitised"] - frame["year"]).abs().max() > 0.35:
        raise ValueError(f"{path}: digitised x values are not close to whole years")
    dup = frame["year"].duplicated()
    if dup.any():
        raise ValueError(f"{path}: years {sorted(frame.loc[dup, 'year'])} digitised twice")
    if not frame["rh_pg_c_yr"].between(10.0, 150.0).all():
        raise ValueError(f"{path}: values outside 10-150 Pg C yr-1; not a global Rh series?")
    frame.insert(0, "series", label)
    return frame[["series", "year", "rh_pg_c_yr", "year_digitised"]].sort_values("year", ignore_index=True)


def read_digitised_rh() -> pd.DataFrame:
    """The digitised global Rh series (Hashimoto et al. 2015; Tang et al. 2020), labelled as such."""
    return pd.concat([read_digitised_series(fetch(name), label) for label, name in DIGITISED_FILES.items()], ignore_index=True)
