"""The one validator of the gridded-estimates Dataset."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from globalrs.core.exceptions import GriddedSchemaError
from globalrs.core.grid import cell_area_m2, make_grid
from globalrs.core.schema import validate_gridded


def tiny_estimates() -> xr.Dataset:
    lat, lon = make_grid(30.0)
    mask = np.zeros((lat.size, lon.size), bool)
    mask[2:4, :] = True
    rs = np.where(mask, 700.0, np.nan)[None].repeat(2, axis=0)
    return xr.Dataset(
        {
            "rs_annual": (("member", "lat", "lon"), rs, {"units": "g C m-2 yr-1"}),
            "land_mask": (("lat", "lon"), mask),
            "cell_area_m2": cell_area_m2(lat, lon),
            "land_fraction": (("lat", "lon"), np.where(mask, 0.5, 0.0)),
        },
        coords={"member": ["a", "b"], "method_family": ("member", ["Linear model", "Machine learning"]), "lat": lat, "lon": lon},
    )


def test_valid_dataset_passes_unchanged():
    ds = tiny_estimates()
    assert validate_gridded(ds) is ds


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda ds: ds.drop_vars("land_fraction"), "lack"),
        (lambda ds: ds.assign(rs_annual=ds["rs_annual"].assign_attrs(units="kg m-2 s-1")), "g C m-2 yr-1"),
        (lambda ds: ds.assign(rs_annual=ds["rs_annual"].where(ds["rs_annual"] < 0)), "NaN inside"),
        (lambda ds: ds.assign(rs_annual=ds["rs_annual"].fillna(1.0)), "outside the land mask"),
        (lambda ds: ds.assign(land_mask=ds["land_mask"].astype("int8")), "boolean"),
        (lambda ds: ds.assign(land_fraction=ds["land_fraction"] * 100), "0..1"),
        (lambda ds: ds.drop_vars("method_family"), "method_family"),
    ],
)
def test_schema_violations_are_named(spoil, message):
    with pytest.raises(GriddedSchemaError, match=message):
        validate_gridded(spoil(tiny_estimates()))
