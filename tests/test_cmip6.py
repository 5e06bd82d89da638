"""Tests for globalrs.cmip6: readers, unit calibration, global statistics, landmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from globalrs import cmip6

# ------------------------------------------------------------------ calibration (synthetic)


def test_derive_cmipcarbon_factor_recovers_exact_factor():
    raw = pd.DataFrame(
        {
            "model": ["A", "A", "B", "C"],
            "member": ["r1", "r1", "r1", "r1"],
            "year": [2000, 2001, 2000, 2000],
            "rh_raw": [2.0e11, 4.0e11, 3.0e11, 9.9e11],
        }
    )
    ref = pd.DataFrame(
        {
            "model": ["A", "A", "B", "D"],
            "member": ["r1", "r1", "r1", "r1"],
            "year": [2000, 2001, 2000, 2000],
            "rh_pg_c_yr": [30.0, 60.0, 45.0, 99.0],
        }
    )
    cal = cmip6.derive_cmipcarbon_factor(raw, ref)
    assert cal.factor == pytest.approx(1.5e-10, rel=1e-12)
    assert cal.n_pairs == 3
    assert cal.models == ("A", "B")
    assert cal.max_abs_rel_residual == pytest.approx(0.0, abs=1e-12)


def test_derive_cmipcarbon_factor_residual_is_reported():
    # raw 1 and 1, reference 1 and 3: slope through origin = (1 + 3) / 2 = 2;
    # residuals 1/2 - 1 = -0.5 and 3/2 - 1 = +0.5
    raw = pd.DataFrame({"model": ["A", "A"], "member": ["r1", "r1"], "year": [1, 2], "rh_raw": [1.0, 1.0]})
    ref = pd.DataFrame({"model": ["A", "A"], "member": ["r1", "r1"], "year": [1, 2], "rh_pg_c_yr": [1.0, 3.0]})
    cal = cmip6.derive_cmipcarbon_factor(raw, ref)
    assert cal.factor == pytest.approx(2.0)
    assert cal.max_abs_rel_residual == pytest.approx(0.5)
    assert cal.rms_rel_residual == pytest.approx(0.5)


def test_derive_cmipcarbon_factor_without_overlap_raises():
    raw = pd.DataFrame({"model": ["A"], "member": ["r1"], "year": [1], "rh_raw": [1.0]})
    ref = pd.DataFrame({"model": ["B"], "member": ["r1"], "year": [1], "rh_pg_c_yr": [1.0]})
    with pytest.raises(ValueError, match="cannot calibrate"):
        cmip6.derive_cmipcarbon_factor(raw, ref)


# ------------------------------------------------------------------ real mirror


def test_read_cmip6_annual_rh_historical(mirror_dir):
    df = cmip6.read_cmip6_annual_rh("historical")
    assert list(df.columns) == ["model", "member", "year", "rh_pg_c_yr"]
    assert df["model"].nunique() == 8
    assert df["year"].min() == 1850 and df["year"].max() == 2014
    assert df["rh_pg_c_yr"].between(10, 150).all()


def test_read_cmip6_annual_rh_unknown_experiment(mirror_dir):
    with pytest.raises(ValueError, match="no rh rows"):
        cmip6.read_cmip6_annual_rh("piControl-nonexistent")


def test_cmipcarbon_calibration_matches_readme(mirror_dir):
    raw = cmip6.read_cmipcarbon_rh_raw()
    cal = cmip6.derive_cmipcarbon_factor(raw, cmip6.read_cmip6_annual_rh())
    assert cal.factor == pytest.approx(1.53e-10, rel=0.005)
    assert set(cal.models) == {"CNRM-ESM2-1", "IPSL-CM6A-LR"}
    assert cal.rms_rel_residual < 0.01


def test_read_cmip6_tas_land(mirror_dir):
    df = cmip6.read_cmip6_tas_land()
    assert df["model"].nunique() == 8
    assert df["tas_k"].between(270, 300).all()


# ------------------------------------------------------------------ global statistics (synthetic)


def test_summarize_period_means_weights_members_equally():
    df = pd.DataFrame(
        {
            "model": ["A"] * 6 + ["B"] * 2,
            "member": ["r1", "r1", "r1", "r2", "r2", "r2", "r1", "r1"],
            "year": [1979, 1980, 1981, 1979, 1980, 1981, 1980, 1981],
            "rh_pg_c_yr": [100.0, 10.0, 20.0, 100.0, 30.0, 40.0, 50.0, 50.0],
        }
    )
    out = cmip6.summarize_period_means(df, 1980, 2010)
    # A: member means 15 and 35 -> 25 (1979 excluded); B: 50
    assert out.loc["A", "mean_rh_pg_c_yr"] == pytest.approx(25.0)
    assert out.loc["A", "n_members"] == 2
    assert out.loc["B", "mean_rh_pg_c_yr"] == pytest.approx(50.0)
    assert out.loc["A", "first_year"] == 1980


def test_intermodel_spread_hand_computed():
    s = cmip6.intermodel_spread([40.0, 50.0, 60.0])
    # SD (ddof=1) = 10, mean 50 -> CV 20 %
    assert s["mean"] == pytest.approx(50.0)
    assert s["sd"] == pytest.approx(10.0)
    assert s["cv_percent"] == pytest.approx(20.0)
    with pytest.raises(ValueError):
        cmip6.intermodel_spread([1.0])


def test_compute_model_trends_exact_line():
    years = np.arange(1975, 2016)
    df = pd.DataFrame({"model": "A", "member": "r1", "year": years, "rh_pg_c_yr": 50.0 + 0.2 * (years - 1980)})
    out = cmip6.compute_model_trends(df, 1980, 2010)
    assert out.loc["A", "slope"] == pytest.approx(0.2)
    assert out.loc["A", "n"] == 31
    assert out.loc["A", "r2"] == pytest.approx(1.0)
    # relative: 0.2 Pg C yr-2 over the mean of 1980-2010 (50 + 0.2 x 15 = 53) in % per year
    assert out.loc["A", "mean"] == pytest.approx(53.0)
    assert out.loc["A", "relative_slope_pct_per_yr"] == pytest.approx(100 * 0.2 / 53.0)
    with pytest.raises(ValueError, match="positive level"):
        cmip6.compute_model_trends(df.assign(rh_pg_c_yr=df["rh_pg_c_yr"] - 100), 1980, 2010)


def test_compute_temperature_sensitivity_exact():
    years = np.arange(1980, 1991)
    tas = 285.0 + 0.1 * (years - 1980) + np.where(years % 2, 0.3, -0.3)
    rh = pd.DataFrame({"model": "A", "member": "r1", "year": years, "rh_pg_c_yr": 40.0 + 3.0 * (tas - tas.mean())})
    t = pd.DataFrame({"model": "A", "member": "r1", "year": years, "tas_k": tas})
    out = cmip6.compute_temperature_sensitivity(rh, t, 1980, 2010)
    assert out.loc["A", "slope"] == pytest.approx(3.0)
    assert out.loc["A", "tas_mean_c"] == pytest.approx(tas.mean() - 273.15)


# ------------------------------------------------------------------ online path (local catalogue)


def test_landmodel_totals_match_stated_range(mirror_dir):
    totals = cmip6.landmodel_global_totals_pg(cmip6.read_landmodels_rh())
    assert list(totals.index) == ["CASA-CNP", "MIMICS", "CORPSE"]
    # landmodels README: "global totals are about 52-55 Pg C yr-1"
    assert totals.between(52.0, 55.5).all()


def test_read_landmodel_rh_unknown_model():
    with pytest.raises(ValueError, match="unknown land model"):
        cmip6.read_landmodel_rh("JULES")


def test_combine_cmip6_sets_prefers_hector():
    h = pd.DataFrame({"model": ["A"], "member": ["r1"], "year": [2000], "rh_pg_c_yr": [50.0]})
    c = pd.DataFrame({"model": ["A", "B"], "member": ["r1", "r1"], "year": [2000, 2000], "rh_pg_c_yr": [51.0, 40.0]})
    out = cmip6.combine_cmip6_sets(h, c)
    assert out.set_index("model").loc["A", "rh_pg_c_yr"] == 50.0
    assert out.set_index("model").loc["B", "source"].startswith("cmip6-cmipcarbon")
    assert len(out) == 2


def test_plot_cv_against_flux_draws_each_region():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from globalrs.plots import plot_cv_against_flux

    a = pd.DataFrame({"mean": [1.0, 2.0, 3.0], "cv_percent": [10.0, 20.0, 30.0]}, index=["A1", "B2", "C2"])
    b = pd.DataFrame({"mean": [1.5, 2.5], "cv_percent": [40.0, 50.0]}, index=["A1", "B2"])
    ax = plot_cv_against_flux({"data": a, "models": b}, highlight=("B2",))
    offsets = [len(c.get_offsets()) for c in ax.collections]
    assert offsets == [3, 2]
    assert [t.get_text() for t in ax.texts] == ["A1", "B2", "C2", "A1", "B2"]
    assert ax.texts[1].get_fontweight() == "bold"
    with pytest.raises(ValueError, match="missing"):
        plot_cv_against_flux({"bad": a.rename(columns={"mean": "flux"})})
    plt.close("all")
