"""The gridded-estimates Dataset: its schema and the one validator every producer returns through.

Schema:

* ``rs_annual`` (``member``, lat, lon) in g C m-2 yr-1 (a single-member result may drop the
  ``member`` dimension), NaN outside ``land_mask`` and never inside; along ``member`` a
  ``method_family`` coordinate;
* ``rs_monthly`` (``member_monthly``, month, lat, lon) in g C m-2 month-1, optional, with the same
  NaN rule;
* ``land_mask`` (lat, lon) bool, ``cell_area_m2`` (lat, lon) in m2, ``land_fraction`` (lat, lon)
  in 0..1.

Producers: :func:`globalrs.estimates.ensemble.build_ensemble`, :func:`globalrs.estimates.mgrsd.build_mgrsd_member`,
:func:`globalrs.estimates.published.load_published_ensemble`, :func:`globalrs.estimates.gridded.combine_ensembles`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from globalrs.core.exceptions import GriddedSchemaError

GRID_RS_ANNUAL_UNITS = "g C m-2 yr-1"
GRID_RS_MONTHLY_UNITS = "g C m-2 month-1"
REQUIRED_VARIABLES = ("rs_annual", "land_mask", "cell_area_m2", "land_fraction")


def validate_gridded(ds: xr.Dataset) -> xr.Dataset:
    """Check that ``ds`` follows the gridded-estimates schema and return it unchanged.

    Parameters
    ----------
    ds
        A gridded-estimates Dataset.

    Returns
    -------
    xarray.Dataset
        ``ds`` itself.

    Raises
    ------
    GriddedSchemaError
        A variable is missing or has other dimensions or units, the land mask is not boolean,
        the land fraction leaves 0..1, a flux is NaN inside or present outside the land mask, or
        a ``member`` dimension lacks its ``method_family`` coordinate.
    """
    missing = [v for v in REQUIRED_VARIABLES if v not in ds]
    if missing:
        raise GriddedSchemaError(f"gridded estimates lack {missing} (have {sorted(map(str, ds.data_vars))})")
    _check_grid_variables(ds)
    for name, units in (("rs_annual", GRID_RS_ANNUAL_UNITS), ("rs_monthly", GRID_RS_MONTHLY_UNITS)):
        if name in ds:
            _check_flux(ds[name], name, units, ds["land_mask"])
    if "member" in ds["rs_annual"].dims and "method_family" not in ds["rs_annual"].coords:
        raise GriddedSchemaError("rs_annual has a member dimension but no method_family coordinate")
    return ds


def _check_grid_variables(ds: xr.Dataset) -> None:
    """Check the (lat, lon) variables: dimensions, a boolean land mask, areas in m2, fractions in 0..1."""
    for name in ("land_mask", "cell_area_m2", "land_fraction"):
        if ds[name].dims != ("lat", "lon"):
            raise GriddedSchemaError(f"{name} must have dimensions (lat, lon), got {ds[name].dims}")
    mask = ds["land_mask"]
    if mask.dtype != bool:
        raise GriddedSchemaError(f"land_mask must be boolean, got {mask.dtype}")
    if ds["cell_area_m2"].attrs.get("units", "m2") != "m2":
        raise GriddedSchemaError(f"cell_area_m2 must be in m2, got {ds['cell_area_m2'].attrs['units']!r}")
    frac = ds["land_fraction"].values
    if np.nanmin(frac) < 0 or np.nanmax(frac) > 1:
        raise GriddedSchemaError(f"land_fraction leaves 0..1 ({np.nanmin(frac):g}..{np.nanmax(frac):g})")


def _check_flux(rs: xr.DataArray, name: str, units: str, mask: xr.DataArray) -> None:
    """Check one flux variable: dimensions ending (lat, lon), its units, NaN exactly outside ``mask``."""
    if rs.dims[-2:] != ("lat", "lon"):
        raise GriddedSchemaError(f"{name} dimensions must end with (lat, lon), got {rs.dims}")
    if rs.attrs.get("units") != units:
        raise GriddedSchemaError(f"{name} must be in {units!r}, got {rs.attrs.get('units')!r}")
    if bool((rs.isnull() & mask).any()):
        raise GriddedSchemaError(f"{name} has NaN inside the land mask")
    if bool((rs.notnull() & ~mask).any()):
        raise GriddedSchemaError(f"{name} has values outside the land mask")
