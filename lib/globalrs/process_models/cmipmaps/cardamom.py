"""CARDAMOM heterotrophic respiration 2001-2010 (the observation-based map of Varney et al. 2020)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from globalrs.core.grid import make_grid
from globalrs.process_models.cmipmaps.maps import VARNEY_DIR, build_native_map
from globalrs.sources.data import fetch

CARDAMOM_DATA = f"{VARNEY_DIR}/observational_rh_data.npy"


CARDAMOM_MASK = f"{VARNEY_DIR}/observational_rh_mask.npy"


CARDAMOM_PERIOD = "2001-2010"


def read_cardamom_rh() -> xr.DataArray:
    """CARDAMOM Rh (model-data fusion), 2001-2010 mean on 0.5 degree, kg C m-2 yr-1.

    Coordinates follow the mirror's README: latitude ascending from -89.75, longitude from
    -179.75 (the book's 0.5-degree grid). Masked cells are NaN.
    """
    data = np.load(fetch(CARDAMOM_DATA), allow_pickle=False)
    mask = np.load(fetch(CARDAMOM_MASK), allow_pickle=False)
    lat, lon = make_grid(0.5)
    entry = {
        "model": "CARDAMOM",
        "mip": "",
        "nlat": lat.size,
        "nlon": lon.size,
        "grid_type": "regular",
        "first_lat": float(lat[0]),
        "first_lon": float(lon[0]),
        "grid_source": "0.5-degree grid as stated in the mirror's README",
    }
    out = build_native_map(data, mask, entry)
    out = out.assign_coords(lat=lat, lon=lon)
    out.attrs.update(
        period=CARDAMOM_PERIOD,
        model="CARDAMOM",
        mip="",
        product="CARDAMOM model-data fusion (Bloom et al. 2016)",
        source=f"{CARDAMOM_DATA} (Varney et al. 2020)",
    )
    return out
