"""Tests for globalrs.reproduction.modelspread and process_models.regional: regional totals and CV of model maps,
the Fig. 5 claims and plot."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from globalrs.process_models import regional
from globalrs.reproduction import modelspread


def _cv_table(cv: dict[str, float], flux: float = 1.0) -> pd.DataFrame:
    return pd.DataFrame({"cv_percent": cv, "mean_pg": flux})


REGIONS = ["A1", "A2", "B1", "B2", "C2", "C5"]


def test_judge_fig5_claims_verdicts_follow_the_stated_rules():
    data = _cv_table(dict(zip(REGIONS, [10.0, 10.0, 10.0, 30.0, 20.0, 10.0], strict=True)))
    # medians: data 10; models 20 -> ratio 2 ("twice"); B2 40 > 30, C2 10 < 20 (one of two); C5 12 / 10
    models = _cv_table(dict(zip(REGIONS, [20.0, 20.0, 20.0, 40.0, 10.0, 12.0], strict=True)))
    out = modelspread.judge_fig5_claims(models, data)
    assert out.attrs["median_ratio"] == pytest.approx(2.0)
    assert out.loc["twice", "verdict"] == "supported"
    assert out.loc["b2_c2", "verdict"].startswith("partly")
    assert out.loc["c5", "verdict"] == "supported" and out.attrs["c5_ratio"] == pytest.approx(1.2)
    # three times the data, C5 twice: not "about twice", and C5 not the same magnitude
    models3 = _cv_table(dict(zip(REGIONS, [30.0, 30.0, 30.0, 40.0, 30.0, 20.0], strict=True)))
    out3 = modelspread.judge_fig5_claims(models3, data)
    assert out3.loc["twice", "verdict"] == "models higher, but not about twice"
    assert out3.loc["b2_c2", "verdict"] == "supported"
    assert out3.loc["c5", "verdict"] == "not supported (models higher)"
    low = modelspread.judge_fig5_claims(_cv_table(dict(zip(REGIONS, [5.0] * 6, strict=True))), data)
    assert low.loc["twice", "verdict"] == "not supported"
    assert low.loc["b2_c2", "verdict"] == "not supported"


def test_the_claims_judged_on_another_division_use_its_analogues():
    data = _cv_table(dict(zip(REGIONS, [10.0, 10.0, 10.0, 30.0, 20.0, 10.0], strict=True)))
    models = _cv_table(dict(zip(REGIONS, [20.0, 20.0, 20.0, 40.0, 10.0, 12.0], strict=True)))
    # the same numbers under other labels: the same verdicts, the labels named
    rename = {"B2": "SAH", "C2": "CAS", "C5": "SEA"}
    out = modelspread.judge_fig5_claims(
        models.rename(index=rename), data.rename(index=rename), analogues={"B2": "SAH", "C2": "CAS", "C5": "SEA"}
    )
    same = modelspread.judge_fig5_claims(models, data)
    assert (out["verdict"] == same["verdict"]).all()
    assert "SAH (for B2)" in out.loc["b2_c2", "computed"] and out.attrs["c5_ratio"] == pytest.approx(1.2)
    assert modelspread.paper_analogues("srex") == {"B2": "SAH", "C2": "CAS", "C5": "SEA"}
    assert modelspread.paper_analogues("ar6") == {"B2": "SAH", "C2": "ECA", "C5": "SEA"}
    assert modelspread.paper_analogues() == {"B2": "B2", "C2": "C2", "C5": "C5"}


def test_cv_change_table():
    before = _cv_table({"A1": 10.0, "B2": 50.0}, 2.0)
    after = _cv_table({"A1": 15.0, "B2": 40.0}, 3.0)
    out = modelspread.cv_change_table(before, after)
    assert out["change_points"].tolist() == [5.0, -10.0]
    with pytest.raises(ValueError, match="same regions"):
        modelspread.cv_change_table(before, after.iloc[::-1])


def test_regional_totals_by_model_count_missing_model_land_as_zero():
    import xarray as xr

    lat = np.array([-45.0, 45.0])
    lon = np.array([-90.0, 90.0])
    coords = {"lat": lat, "lon": lon}
    rh = xr.DataArray(
        [[[100.0, np.nan], [100.0, 100.0]]],
        dims=("model", "lat", "lon"),
        coords={"model": ["M"], **coords},
        attrs={"units": "g C m-2 yr-1"},
    )
    area = xr.DataArray(np.full((2, 2), 1e12), dims=("lat", "lon"), coords=coords)
    frac = xr.DataArray([[1.0, 0.5], [0.5, 1.0]], dims=("lat", "lon"), coords=coords)
    mask = frac > 0
    weights = xr.DataArray(np.ones((1, 2, 2)), dims=("region", "lat", "lon"), coords={"region": ["R"], **coords})
    out = regional.regional_totals_by_model_pg(rh, area, frac, mask, weights)
    # 100 g m-2 yr-1 x 1e12 m2 x (1 + 0.5 + 1) land; the NaN cell counts 0 = 2.5e14 g = 0.25 Pg
    assert float(out.sel(model="M", region="R")) == pytest.approx(0.25)


def test_plot_regional_cv_labels_every_region_without_overlap():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    regions = ["A1", "A2", "A3", "B1", "B2", "B3", "C2", "C5"]
    a = pd.DataFrame(
        {"mean_pg": [2.0, 5.0, 1.2, 4.5, 0.25, 8.0, 0.7, 2.7], "cv_percent": [30.0, 23.0, 33.0, 26.0, 140.0, 36.0, 41.0, 38.0]},
        index=regions,
    )
    b = a.assign(mean_pg=a["mean_pg"] * 1.3, cv_percent=a["cv_percent"] / 2.5)
    ax = modelspread.plot_regional_cv({"data": b, "CMIP6": a})
    texts = [t for t in ax.texts]
    assert sorted(t.get_text() for t in texts) == sorted(regions * 2)
    ax.figure.canvas.draw()  # positions of annotations are settled at draw time
    renderer = ax.figure.canvas.get_renderer()
    boxes = [Text.get_window_extent(t, renderer) for t in texts]
    assert not any(boxes[i].overlaps(boxes[j]) for i in range(len(boxes)) for j in range(i + 1, len(boxes)))
    plt.close("all")


def test_outside_mask_totals_and_the_fig5_table():
    import xarray as xr

    coords = {"model": ["m1", "m2"], "region": ["A1", "B2"]}
    all_land = xr.DataArray([[10.0, 5.0], [12.0, 7.0]], dims=("model", "region"), coords=coords)
    on_mask = xr.DataArray([[9.0, 5.0], [10.0, 6.0]], dims=("model", "region"), coords=coords)
    outside, pct = modelspread.outside_mask_totals(all_land, on_mask)
    assert outside.to_dict() == {"A1": 1.5, "B2": 0.5}
    assert pct == pytest.approx(100 * 2.0 / 17.0)
    cv = pd.DataFrame(
        {
            "mean_pg": [1.0, 2.0],
            "cv_percent": [10.0, 20.0],
            "cv_low_percent": [5.0, 15.0],
            "cv_high_percent": [15.0, 25.0],
            "n": 3,
        },
        index=["A1", "B2"],
    )
    table = modelspread.fig5_table({"models": cv, "data": cv * 2}, outside)
    assert list(table.columns.get_level_values(0).unique()) == ["models", "data", "CMIP6 rh outside the data-driven land mask"]
    assert table[("data", "cv_percent")].tolist() == [20.0, 40.0] and ("models", "n") not in table
    assert table[("CMIP6 rh outside the data-driven land mask", "mean_pg")].tolist() == [1.5, 0.5]


def test_aoa_note_says_where_the_data_side_extrapolates():
    table = pd.DataFrame(
        {"land inside the common AOA (%)": [30.4, 80.0], "CV across members, common AOA (%)": [12.6, 9.4]}, index=["B2", "C2"]
    )
    note = modelspread.aoa_note(table)
    assert note.startswith("On the data side, 30 % of B2's land and 80 % of C2's lie inside every member's area")
    assert "the members' CV is 13 % in B2 and 9 % in C2. In B2 the data side's CV is mostly a spread of extrapolations" in note
    inside = modelspread.aoa_note(table.assign(**{"land inside the common AOA (%)": [60.0, 90.0]}))
    assert inside.endswith("Both regions lie mostly inside the members' areas of applicability.")
