"""CMIP6 and CMIP5 heterotrophic respiration (rh) maps from Varney et al. (2020), offline.

``varney2020/historical_rh_data_<MODEL>.npy`` (with ``_mask_``) hold the 1995-2005 mean CMIP
``historical`` rh of 7 CMIP6 and 9 CMIP5 models on each model's NATIVE grid, in kg C m-2 yr-1 per
m2 of land (CMIP kg m-2 s-1 x 86400 x 365, as the mirrored ``pofp_cmip6_analysis.py`` wrote them).
The files carry no coordinates. **The latitudes and longitudes returned here are a
reconstruction**: they are rebuilt from each model's documented grid, kept in the data table
``tables/cmip_model_grids.csv`` (model, mip, nlat, nlon, grid type, first latitude and longitude,
source of the grid description):

* ``gaussian`` grids (the spectral models) take the Gauss-Legendre nodes of
  :func:`numpy.polynomial.legendre.leggauss` as sines of latitude, and cell edges whose sines
  are the running sums of the quadrature weights (so each cell's area is exact);
* ``regular`` grids are evenly spaced from ``first_lat`` to ``-first_lat`` (pole-centred rows
  get half cells, clipped at the poles);
* row 0 is the southernmost row (checked against temperature by the mirror's README), longitudes
  start at ``first_lon`` and step by 360 / nlon (0..360 as in the CMIP files).

The reconstruction is tested in ways that could each disagree with it: the share of cells with
rh > 0 that fall on land (:func:`land_share_of_positive_cells`, at least :data:`LAND_SHARE_MIN`),
each model's global total against the independent annual series of ``cmip6-hector``
(:func:`compare_with_hector`, within :data:`HECTOR_TOLERANCE`), and the latitude profile against
published zonal shares of two of the models (:func:`compare_zonal_shares`).

Maps are put on the book's 0.5-degree grid with the harmonizer's conservative regridding
(:func:`globalrs.gridding.harmonize.regrid_conservative`, the core of
:func:`~globalrs.gridding.harmonize.harmonize_to_grid`, called directly with the edges rebuilt from each
model's grid table) with its ``fill="mean"`` rule: a 0.5-degree cell gets the mean rh per m2 of land
of the model cells covering it. Totals then use the book's land fraction (cell area x land
fraction), an approximation of each model's own land fraction, which is not in the mirror.

Also here: CARDAMOM Rh 2001-2010 (:func:`read_cardamom_rh`) and the two digitised global Rh series
of ``landmodels/`` (:func:`read_digitised_rh`).

The package, by job: :mod:`.grids` (the native grids rebuilt from the table), :mod:`.maps`
(reading the models' maps and putting them on 0.5 degrees), :mod:`.checks` (against land,
``cmip6-hector`` and the published zonal shares), :mod:`.cardamom` and :mod:`.digitised`.
Every public name stays importable from ``globalrs.process_models.cmipmaps``.
"""

from globalrs.core.exceptions import GridError, ModelGridError
from globalrs.process_models.cmipmaps.cardamom import CARDAMOM_DATA, CARDAMOM_MASK, CARDAMOM_PERIOD, read_cardamom_rh
from globalrs.process_models.cmipmaps.checks import (
    GROSS_SHIFT_CELLS,
    HECTOR_TOLERANCE,
    LAND_SHARE_MIN,
    ZONAL_CORRELATION_MIN,
    ZONAL_SHARES,
    compare_with_hector,
    compare_zonal_shares,
    grid_guess_land_shares,
    grid_guesses,
    hector_period_means,
    land_share_of_positive_cells,
    read_zonal_rh_shares,
    zonal_rh_shares_pct,
)
from globalrs.process_models.cmipmaps.digitised import DIGITISED_FILES, read_digitised_rh, read_digitised_series
from globalrs.process_models.cmipmaps.grids import (
    GRID_COLUMNS,
    GRID_TABLE,
    GRID_TYPES,
    MIPS,
    check_model_grids,
    grid_entry,
    land_fraction_on_native,
    load_model_grids,
    models_with_shape,
    native_cell_area_m2,
    native_coordinates,
)
from globalrs.process_models.cmipmaps.maps import (
    CODE_VERSION,
    G_PER_KG,
    NEGATIVE_NOISE_KG,
    RH_PERIOD,
    RH_UNITS,
    RH_YEARS,
    TAS_RANGE_C,
    VARNEY_DIR,
    build_native_map,
    build_rh_maps_05,
    load_rh_maps_05,
    mask_unmasked_ocean,
    read_native_rh,
    regional_cv_by_mip,
    regrid_native_to_05,
    rh_global_totals_pg,
    rh_map_inputs,
    tas_map_05,
)

__all__ = [
    "CARDAMOM_DATA",
    "CARDAMOM_MASK",
    "CARDAMOM_PERIOD",
    "CODE_VERSION",
    "DIGITISED_FILES",
    "GRID_COLUMNS",
    "GRID_TABLE",
    "GRID_TYPES",
    "GROSS_SHIFT_CELLS",
    "G_PER_KG",
    "GridError",
    "HECTOR_TOLERANCE",
    "LAND_SHARE_MIN",
    "MIPS",
    "ModelGridError",
    "NEGATIVE_NOISE_KG",
    "RH_PERIOD",
    "RH_UNITS",
    "RH_YEARS",
    "TAS_RANGE_C",
    "VARNEY_DIR",
    "ZONAL_CORRELATION_MIN",
    "ZONAL_SHARES",
    "build_native_map",
    "build_rh_maps_05",
    "check_model_grids",
    "compare_with_hector",
    "compare_zonal_shares",
    "grid_entry",
    "grid_guess_land_shares",
    "grid_guesses",
    "hector_period_means",
    "land_fraction_on_native",
    "land_share_of_positive_cells",
    "load_model_grids",
    "load_rh_maps_05",
    "mask_unmasked_ocean",
    "models_with_shape",
    "native_cell_area_m2",
    "native_coordinates",
    "read_cardamom_rh",
    "read_digitised_rh",
    "read_digitised_series",
    "read_native_rh",
    "read_zonal_rh_shares",
    "regional_cv_by_mip",
    "regrid_native_to_05",
    "rh_global_totals_pg",
    "rh_map_inputs",
    "tas_map_05",
    "zonal_rh_shares_pct",
]
