"""Observation filters: which SRDB / MGRsD records the ensemble uses, counted step by step.

Each filter is a list of ``(label, rule)`` steps applied in order by :func:`apply_filter_steps`,
which returns the kept records and a table of how many records each step removed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.core.grid import sample_at_sites

#: SRDB quality flags that mark a record as problematic (fields file: Q10 potential problem,
#: Q11 suspected problem, Q12 known problem, Q13 duplicate?, Q14 inconsistency).
SRDB_BAD_QUALITY_FLAGS = ("Q10", "Q11", "Q12", "Q13", "Q14")

#: Plausible range of annual soil respiration (g C m-2 yr-1); outside it a record is excluded.
RS_ANNUAL_RANGE_G_M2_YR = (0.0, 4000.0)

#: Plausible range of MGRsD monthly mean soil respiration (g C m-2 day-1).
RS_NORM_RANGE_G_M2_DAY = (0.0, 30.0)


def has_bad_quality_flag(flags: pd.Series, bad: tuple[str, ...] = SRDB_BAD_QUALITY_FLAGS) -> pd.Series:
    """Return True where an SRDB ``Quality_flag`` string contains any of ``bad`` flags.

    Flags are comma-separated codes such as ``"Q01, Q11"``; missing flags count as clean.
    """
    codes = flags.fillna("").astype(str).str.replace(" ", "").str.split(",")
    bad_set = set(bad)
    return codes.apply(lambda items: any(code in bad_set for code in items)).astype(bool)


def filter_srdb(
    frame: pd.DataFrame,
    land_mask: xr.DataArray | None = None,
    rs_range: tuple[float, float] = RS_ANNUAL_RANGE_G_M2_YR,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the observation filter step by step and count what each step removes.

    Steps: annual Rs reported; no manipulation (``Manipulation == "None"``); no problem quality
    flag (:data:`SRDB_BAD_QUALITY_FLAGS`); valid coordinates; plausible Rs range; and, when
    ``land_mask`` is given, the site's 0.5-degree cell is inside the land mask.

    Returns
    -------
    kept, steps
        The kept records, and a table with columns ``step``, ``removed``, ``remaining``.
    """
    rules = [
        ("Rs_annual reported", lambda f: f["Rs_annual"].notna()),
        ('Manipulation == "None"', lambda f: f["Manipulation"].astype(str).str.strip() == "None"),
        ("no problem quality flag (Q10-Q14)", lambda f: ~has_bad_quality_flag(f["Quality_flag"])),
        VALID_COORDINATES_RULE,
        (
            f"Rs_annual in [{rs_range[0]:g}, {rs_range[1]:g}] g C m-2 yr-1",
            lambda f: f["Rs_annual"].between(rs_range[0], rs_range[1], inclusive="right"),
        ),
    ]
    return apply_filter_steps(frame, rules + land_mask_rules(land_mask))


#: The filter step every record table shares: latitude and longitude inside their ranges.
VALID_COORDINATES_RULE = ("valid coordinates", lambda f: f["Latitude"].between(-90, 90) & f["Longitude"].between(-180, 180))


def land_mask_rules(land_mask: xr.DataArray | None) -> list:
    """The "site cell on the land mask" step as a one-rule list, or no rule without a mask."""
    if land_mask is None:
        return []
    return [("site cell on the land mask", lambda f: sample_at_sites(land_mask, f["Latitude"], f["Longitude"]).astype(bool))]


def apply_filter_steps(frame: pd.DataFrame, rules: list) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply ``(label, rule)`` filters in order, counting what each removes.

    Parameters
    ----------
    frame
        Records to filter.
    rules
        ``(label, rule)`` pairs; ``rule(frame)`` returns a boolean mask of rows to keep.

    Returns
    -------
    kept, steps
        The kept records (index reset) and a table with columns ``step``, ``removed``,
        ``remaining`` whose first row is ``("all records", 0, len(frame))``.
    """
    steps = [("all records", 0, len(frame))]
    kept = frame
    for label, rule in rules:
        keep = np.asarray(rule(kept), dtype=bool)
        kept = kept.loc[keep]
        steps.append((label, int((~keep).sum()), len(kept)))
    return kept.reset_index(drop=True), pd.DataFrame(steps, columns=["step", "removed", "remaining"])


def filter_mgrsd(
    frame: pd.DataFrame, land_mask: xr.DataArray | None = None, rs_range: tuple[float, float] = RS_NORM_RANGE_G_M2_DAY
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Filter MGRsD monthly records step by step, counting what each step removes.

    Steps: ``Rs_Norm`` reported; calendar month 1-12; valid coordinates; ``Rs_Norm`` within
    ``rs_range`` (g C m-2 day-1); and, with ``land_mask``, the site's cell on the mask.

    Returns
    -------
    kept, steps
        Kept records and a table with columns ``step``, ``removed``, ``remaining``.
    """
    rules = [
        ("Rs_Norm reported", lambda f: f["Rs_Norm"].notna()),
        ("month in 1-12", lambda f: f["Measure_Month"].between(1, 12)),
        VALID_COORDINATES_RULE,
        (
            f"Rs_Norm in ({rs_range[0]:g}, {rs_range[1]:g}] g C m-2 day-1",
            lambda f: f["Rs_Norm"].between(rs_range[0], rs_range[1], inclusive="right"),
        ),
    ]
    return apply_filter_steps(frame, rules + land_mask_rules(land_mask))
