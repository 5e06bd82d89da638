"""Regional totals and inter-model CV of model rh maps on the 0.5-degree grid.

:func:`regional_totals_by_model_pg` (each model on its own land) and :func:`regional_cv_percent`
(:func:`globalrs.gridding.regions.regional_cv` in percent). The paper's Fig. 5 claims judged on
these tables live in :mod:`globalrs.reproduction.modelspread`.
"""

from __future__ import annotations

import pandas as pd
import xarray as xr

from globalrs.gridding import regions


def regional_totals_by_model_pg(
    rh_g_m2_yr: xr.DataArray,
    cell_area_m2: xr.DataArray,
    land_fraction: xr.DataArray,
    land_mask: xr.DataArray,
    weights: xr.DataArray | None = None,
) -> xr.DataArray:
    """Regional totals (Pg C yr-1) of each model's rh on the 0.5-degree grid.

    A land cell of ``land_mask`` where a model has no value (its own land-sea mask has no land
    there) contributes nothing to that model: the model's own land, as in its global total.

    Parameters
    ----------
    rh_g_m2_yr
        (model, lat, lon) flux per m2 of land, g C m-2 yr-1 (:func:`globalrs.process_models.cmipmaps.load_rh_maps_05`).
    cell_area_m2, land_fraction, land_mask
        (lat, lon) fields of the same grid.
    weights
        Region weights (:func:`globalrs.gridding.regions.region_weights`; computed when omitted).

    Returns
    -------
    xarray.DataArray
        (model, region) totals in Pg C yr-1.
    """
    if weights is None:
        weights = regions.region_weights(rh_g_m2_yr["lat"].values, rh_g_m2_yr["lon"].values)
    if rh_g_m2_yr.attrs.get("units") not in (None, "g C m-2 yr-1"):
        raise ValueError(f"expected rh in g C m-2 yr-1, got {rh_g_m2_yr.attrs.get('units')!r}")
    mask = land_mask.astype(bool)
    flux = rh_g_m2_yr.fillna(0.0).assign_attrs(units="g C m-2 yr-1")  # no model land: no flux
    return regions.regional_totals_pg(flux, weights=weights, area_m2=cell_area_m2 * land_fraction, mask=mask)


def regional_cv_percent(totals: xr.DataArray, dim: str) -> pd.DataFrame:
    """:func:`globalrs.gridding.regions.regional_cv` across ``dim`` with the CV and its interval in percent."""
    table = regions.regional_cv(totals, dim=dim)
    return table.assign(
        cv_percent=100 * table["cv"], cv_low_percent=100 * table["cv_low"], cv_high_percent=100 * table["cv_high"]
    )
