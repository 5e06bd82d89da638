"""Divergence: the per-cell CV, the method/data/forcing split and the common mask of the runs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from synthetic import known_field_dataset

from globalrs.estimates import divergence, ensemble


def test_split_divergence_by_hand():
    totals = pd.DataFrame(
        {"base": [80.0, 90.0, 100.0], "data": [82.0, 90.0, 100.0], "forc": [80.0, 94.0, 100.0]}, index=["a", "b", "c"]
    )
    out = divergence.split_divergence(totals, "base", "data", "forc")
    assert out.loc["method", "sd_pg"] == pytest.approx(10.0)
    assert out.loc["method", "range_pg"] == pytest.approx(20.0)
    assert out.loc["data", "range_pg"] == pytest.approx(2.0 / 3)
    assert out.loc["data", "sd_pg"] == pytest.approx(np.sqrt(2) / 3)
    assert out.loc["forcing", "range_pg"] == pytest.approx(4.0 / 3)


def test_cell_cv_by_hand():
    field = xr.DataArray([[1.0, 3.0], [0.0, 0.0]], dims=("lat", "member"))
    cv = divergence.cellwise_cv(field, "member")
    assert float(cv[0]) == pytest.approx(np.sqrt(2) / 2)
    assert np.isnan(float(cv[1]))


def test_configurations_are_compared_on_their_common_mask(monkeypatch):
    base = known_field_dataset(1000.0, 1.0).assign_coords(method_family=("member", ["Linear model"]))
    other = base.copy(deep=True)
    other["land_mask"] = other["land_mask"] & (other["lat"] > -60)  # a forcing without climate there
    other["rs_annual"] = (other["rs_annual"] * 1.1).where(other["land_mask"])
    for ds, n in ((base, 100), (other, 90)):
        ds.attrs.update(n_obs=n, n_sites=n)
    runs = {("v5", "worldclim"): base, ("v5", "udel"): other}
    monkeypatch.setattr(divergence, "load_ensemble", lambda dv, f: runs[(dv, f)])
    configs = divergence.load_configurations({"baseline": ("v5", "worldclim"), "forcing": ("v5", "udel")})
    assert bool((configs["land_mask"] == other["land_mask"]).all())
    lost = json.loads(configs.attrs["cells_outside_common_mask"])
    assert lost == {"baseline": int((~other["land_mask"]).sum()), "forcing": 0}
    areas = json.loads(configs.attrs["land_area_mkm2"])
    assert areas["common"] == pytest.approx(areas["forcing"]) and areas["common"] < areas["baseline"]
    totals = ensemble.ensemble_totals_pg(configs.sel(config="baseline"))
    assert float(totals.squeeze()) * 1.1 == pytest.approx(
        float(ensemble.ensemble_totals_pg(configs.sel(config="forcing")).squeeze())
    )


def test_mask_caption_names_the_mask_its_cells_and_land_area():
    import numpy as np
    import xarray as xr

    from globalrs.estimates.divergence import mask_caption

    mask = xr.DataArray(np.array([[True, False], [True, True]]), dims=("lat", "lon"))
    area = xr.full_like(mask, 2e12, dtype=float)
    frac = xr.DataArray(np.array([[0.5, 1.0], [1.0, 0.25]]), dims=("lat", "lon"))
    # 3 cells: 2e12 m2 x (0.5 + 1 + 0.25) = 3.5e12 m2 = 3.5 million km2
    assert mask_caption("the test mask", mask, area, frac) == (
        "Totals over the test mask: 3 cells, 3.5 million km2 (cell area x land fraction)."
    )


def test_paired_spread_over_refitted_members_only():
    import pandas as pd
    import pytest

    from globalrs.estimates.divergence import method_spread, paired_spread

    totals = pd.DataFrame({"base": [90.0, 100.0, 110.0], "gpp": [90.0, 104.0, 100.0]}, index=["a", "b", "c"])
    row = paired_spread(totals, "base", "gpp", only_changed=True)
    # members b (|4|) and c (|10|) changed: SD of a pair = |delta| / sqrt(2)
    assert row["sd_pg"] == pytest.approx((4 + 10) / 2 / 2**0.5)
    assert "2: b, c" in row["compared"]
    assert paired_spread(totals, "base", "gpp")["sd_pg"] == pytest.approx((0 + 4 + 10) / 3 / 2**0.5)
    assert method_spread(totals["gpp"], "x")["range_pg"] == pytest.approx(14.0)
    with pytest.raises(ValueError, match="no member differs"):
        paired_spread(totals.assign(same=totals["base"]), "base", "same", only_changed=True)
