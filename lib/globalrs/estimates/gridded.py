"""The gridded estimates every chapter uses: the book-wide switch and combining ensembles.

Every Dataset here follows the schema of :mod:`globalrs.core.schema` (checked by
:func:`globalrs.core.schema.validate_gridded`). :func:`load_gridded_estimates` is the book-wide
switch (``GLOBALRS_ENSEMBLE``, read by :func:`globalrs.core.config.get_ensemble_choice`): the
standardized ensemble (offline), the published
maps (online, :mod:`globalrs.estimates.published`) or both combined (:func:`combine_ensembles`).
"""

from __future__ import annotations

import pandas as pd
import xarray as xr

from globalrs.core.config import ENSEMBLE_CHOICES, get_ensemble_choice
from globalrs.core.schema import GRID_RS_ANNUAL_UNITS, GRID_RS_MONTHLY_UNITS, validate_gridded
from globalrs.estimates import ensemble, published
from globalrs.sources import readers


def combine_ensembles(standardized: xr.Dataset, published: xr.Dataset) -> xr.Dataset:
    """Both ensembles in one Dataset (members prefixed ``std:``/``pub:``) on their common mask."""
    mask = standardized["land_mask"].astype(bool) & published["land_mask"].astype(bool)
    parts = []
    for prefix, ds in (("std:", standardized), ("pub:", published)):
        rs = ds["rs_annual"]
        parts.append(rs.assign_coords(member=[prefix + str(m) for m in rs["member"].values]))
    annual = xr.concat(parts, dim="member").where(mask)
    out = xr.Dataset(
        {
            "rs_annual": annual,
            "land_mask": mask,
            "cell_area_m2": standardized["cell_area_m2"],
            "land_fraction": standardized["land_fraction"],
        }
    )
    monthly = []
    for prefix, ds in (("std:", standardized), ("pub:", published)):
        if "rs_monthly" in ds:
            m = ds["rs_monthly"]
            monthly.append(m.assign_coords(member_monthly=[prefix + str(v) for v in m["member_monthly"].values]))
    if monthly:
        out["rs_monthly"] = xr.concat(monthly, dim="member_monthly").where(mask)
        out["rs_monthly"].attrs = {"units": GRID_RS_MONTHLY_UNITS}
    out["rs_annual"].attrs = {"units": GRID_RS_ANNUAL_UNITS}
    out.attrs = {"source": "standardized members and published maps (GLOBALRS_ENSEMBLE=both)"}
    return validate_gridded(out)


def load_gridded_estimates(choice: str | None = None) -> xr.Dataset:
    """The ensemble of gridded Rs estimates every chapter uses (the book-wide switch).

    Parameters
    ----------
    choice
        ``"standardized"`` (offline; :func:`globalrs.estimates.ensemble.load_ensemble`), ``"published"``
        (online; :func:`globalrs.estimates.published.load_published_ensemble`) or ``"both"``; default from
        ``GLOBALRS_ENSEMBLE`` via :func:`globalrs.core.config.get_ensemble_choice`.

    Returns
    -------
    xarray.Dataset
        The schema of :mod:`globalrs.core.schema`; ``attrs["ensemble_choice"]``
        says which ensemble it is.
    """
    if choice is None:
        choice = get_ensemble_choice()
    if choice not in ENSEMBLE_CHOICES:
        raise ValueError(f"choice must be one of {ENSEMBLE_CHOICES}, got {choice!r}")
    if choice in ("standardized", "both"):
        standardized = ensemble.load_ensemble()
    if choice == "standardized":
        out = standardized
    else:
        pub = published.load_published_ensemble(readers.read_land_fraction_05())
        out = pub if choice == "published" else combine_ensembles(standardized, pub)
    out = out.copy()
    out.attrs["ensemble_choice"] = choice
    return out


def summarize_members(ds: xr.Dataset) -> pd.DataFrame:
    """One row per member: method family and the share of the land mask it covers."""
    mask = ds["land_mask"].astype(bool)
    n = int(mask.sum())
    rows = []
    for member in ds["member"].values:
        rs = ds["rs_annual"].sel(member=member)
        rows.append(
            {
                "member": str(member),
                "method_family": str(rs["method_family"].values) if "method_family" in rs.coords else "",
                "cells_on_mask": int((rs.notnull() & mask).sum()),
                "mask_cells": n,
            }
        )
    return pd.DataFrame(rows).set_index("member")
