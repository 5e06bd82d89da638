"""Plausibility by class: records beside members, thin and empty classes said in words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from globalrs.estimates.plausibility import MIN_RECORDS, class_plausibility, koppen_group, weighted_quantiles


def test_koppen_groups_keep_deserts_apart():
    got = koppen_group(np.array(["Af", "BWh", "BSk", "Cfa", "Dfc", "ET", "", "X"], dtype=object))
    assert list(got) == ["A tropical", "BW arid desert", "BS arid steppe", "C temperate", "D cold", "E polar", "", ""]


@pytest.mark.parametrize("seed", range(10))
def test_weighted_quantiles_with_equal_weights_match_the_midpoint_percentile(seed):
    v = np.random.default_rng(seed).normal(size=101)
    # equal weights: the weighted CDF at the k-th sorted value is (k + 0.5) / n, numpy's "hazen" rule
    np.testing.assert_allclose(weighted_quantiles(v, np.ones_like(v)), np.percentile(v, [25, 50, 75], method="hazen"))


def test_a_heavy_cell_pulls_the_weighted_median():
    assert weighted_quantiles(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 10.0]), (0.5,))[0] > 2.5


def world():
    lat, lon = np.arange(3.0), np.arange(4.0)
    classes = xr.DataArray(
        np.array([["forest"] * 4, ["desert"] * 4, ["tundra"] * 4], dtype=object),
        dims=("lat", "lon"),
        coords={"lat": lat, "lon": lon},
    )
    rs = xr.DataArray(
        np.stack([np.array([[900.0] * 4, [600.0] * 4, [100.0] * 4])]),
        dims=("member", "lat", "lon"),
        coords={"member": ["m"], "lat": lat, "lon": lon},
    )
    ones = xr.ones_like(classes, dtype=float)
    return rs, classes, ones, ones.astype(bool)


def test_records_and_members_side_by_side_with_flags():
    rs, classes, weight, mask = world()
    obs_rs = np.r_[np.full(MIN_RECORDS, 800.0), [150.0, 250.0]]
    obs_cls = np.array(["forest"] * MIN_RECORDS + ["desert"] * 2, dtype=object)
    table = class_plausibility(rs, classes, weight, mask, obs_rs, obs_cls, ["forest", "desert", "tundra"])
    rec = table[table["source"] == "records"].set_index("class")
    mem = table[table["source"] == "m"].set_index("class")
    assert rec.loc["forest", "median"] == 800 and rec.loc["desert", "median"] == 200
    assert mem.loc["desert", "median"] == 600  # the member's desert flux, beside the records' 200
    assert rec.loc["forest", "records"] == f"{MIN_RECORDS} records"
    assert rec.loc["desert", "records"] == f"fewer than {MIN_RECORDS} records"
    # a class without records: said in words, n = 0, no made-up statistics
    assert rec.loc["tundra", "records"] == "no records" and rec.loc["tundra", "n"] == 0
    assert np.isnan(rec.loc["tundra", "median"]) and mem.loc["tundra", "median"] == 100


def test_a_class_absent_from_the_mask_is_an_error():
    rs, classes, weight, mask = world()
    with pytest.raises(ValueError, match="'swamp' has no cell"):
        class_plausibility(rs, classes, weight, mask, np.array([1.0]), np.array(["forest"], dtype=object), ["swamp"])
    with pytest.raises(ValueError, match="record values"):
        class_plausibility(rs, classes, weight, mask, np.array([1.0, 2.0]), np.array(["forest"], dtype=object), ["forest"])


def test_plot_labels_an_empty_class(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from globalrs.estimates.plausibility import plot_class_plausibility

    rs, classes, weight, mask = world()
    table = class_plausibility(
        rs, classes, weight, mask, np.array([800.0]), np.array(["forest"], dtype=object), ["forest", "tundra"]
    )
    fig, ax = plt.subplots()
    plot_class_plausibility(table, ax, "t")
    assert "no records" in [t.get_text() for t in ax.texts]
    plt.close(fig)
    assert isinstance(table, pd.DataFrame)


def test_box_mean_weights_by_land_and_ignores_cells_outside_the_box():
    from globalrs.estimates.plausibility import box_mean_g_m2_yr

    lat, lon = np.array([10.0, 20.0, 25.0]), np.array([0.0, 50.0])
    rs = xr.DataArray(
        [[[1.0, 99.0], [100.0, 99.0], [400.0, 99.0]]],
        dims=("member", "lat", "lon"),
        coords={"member": ["m"], "lat": lat, "lon": lon},
    )
    weight = xr.DataArray([[1.0, 1.0], [3.0, 1.0], [1.0, 1.0]], dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    mask = xr.ones_like(weight, dtype=bool)
    assert box_mean_g_m2_yr(rs, weight, mask)["m"] == pytest.approx((3 * 100 + 400) / 4)
    with pytest.raises(ValueError, match="no land"):
        box_mean_g_m2_yr(rs, weight, mask, {"lat_deg": (-50.0, -40.0), "lon_deg": (0.0, 1.0)})


def test_class_grids_and_summary():
    from globalrs.estimates.plausibility import class_summary, koppen_classes, landcover_classes

    lc = xr.DataArray(np.array([[0, 1], [-1, 2]]), dims=("lat", "lon"), coords={"lat": [0.0, 1.0], "lon": [0.0, 1.0]})
    names = landcover_classes(lc, ("forest", "shrubland", "barren"))
    assert names.values.tolist() == [["forest", "shrubland"], ["", "barren"]]
    with pytest.raises(ValueError, match="beyond"):
        landcover_classes(lc, ("forest",))
    kg = koppen_classes(xr.DataArray(np.array([["BWh", "Cfa"]], dtype=object), dims=("lat", "lon")))
    assert kg.values.tolist() == [["BW arid desert", "C temperate"]]
    rs, classes, weight, mask = world()
    table = class_plausibility(
        rs, classes, weight, mask, np.array([800.0]), np.array(["forest"], dtype=object), ["forest", "tundra"]
    )
    summary = class_summary(table)
    assert summary.loc["tundra", "records IQR"] == "no records" and summary.loc["tundra", "records"] == "no records"
    assert summary.loc["forest", "median m"] == 900
