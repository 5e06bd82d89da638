"""Tests for globalrs.process_models.cmip6: readers, unit calibration, global statistics, landmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from globalrs.process_models import cmip6

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

    from globalrs.viz.plots import plot_cv_against_flux

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


def _runs(models: dict[str, int], years=range(1985, 2012), seed: int = 0) -> pd.DataFrame:
    """Annual series: model -> number of members, a linear rise plus noise (Pg C yr-1)."""
    rng = np.random.default_rng(seed)
    rows = [
        {"model": m, "member": f"r{k + 1}", "year": y, "rh_pg_c_yr": 50 + 0.1 * (y - 1985) + rng.normal(0, 0.5)}
        for m, n in models.items()
        for k in range(n)
        for y in years
    ]
    return pd.DataFrame(rows)


def test_compilation_table_counts_models_runs_and_years():
    hector = _runs({"A": 2, "B": 1})
    raw = _runs({"A": 1, "C": 3}, years=range(1980, 2016)).rename(columns={"rh_pg_c_yr": "rh_raw"})
    table = cmip6.compilation_table(hector, raw)
    assert table.loc["cmip6-hector"].tolist() == [2, 3, "1985-2011"]
    assert table.loc["cmip6-cmipcarbon"].tolist() == [2, 4, "1980-2015"]


def test_calibration_and_stated_totals_are_checked():
    def calibration(factor_rel: float, rms: float) -> cmip6.Calibration:
        return cmip6.Calibration(cmip6.CMIPCARBON_README_FACTOR * factor_rel, 10, ("A",), 2 * rms, rms, pd.DataFrame())

    cmip6.check_cmipcarbon_calibration(calibration(1.001, 0.001))
    with pytest.raises(ValueError, match="off the README"):
        cmip6.check_cmipcarbon_calibration(calibration(1.01, 0.0))
    with pytest.raises(ValueError, match="RMS 2.000%"):
        cmip6.check_cmipcarbon_calibration(calibration(1.0, 0.02))
    low, high = cmip6.LANDMODELS_STATED_TOTAL_PG
    cmip6.check_landmodel_totals(pd.Series({"x": low - 0.4, "y": high + 0.4}))
    with pytest.raises(ValueError, match="outside the stated"):
        cmip6.check_landmodel_totals(pd.Series({"x": low - 0.6, "y": high}))


def test_overlap_series_table_against_the_overlap_by_hand():
    esm = cmip6.model_mean_series(_runs({"A": 2, "B": 1}, years=range(1950, 2015)))
    isimip = _runs({"I1": 1, "I2": 1}, years=range(1971, 2011), seed=1)
    data = pd.concat(
        [
            pd.DataFrame({"series": "S1", "year": range(1980, 2015), "rh_pg_c_yr": np.linspace(40, 50, 35)}),
            pd.DataFrame({"series": "S2", "year": [1990, 2000, 2010, 2012], "rh_pg_c_yr": [45.0, 46.0, 47.0, 99.0]}),
        ]
    )
    table = cmip6.overlap_series_table(data, esm, isimip, (1990, 2010))
    assert table.loc["S2"].tolist() == [3, 46.0, 45.0, 47.0, "data-driven Rh"]  # 2012 is outside the overlap
    row = table.loc["CMIP6 ESMs (2, mean of model means)"]
    inside = esm[esm["year"].between(1990, 2010)]
    assert row["count"] == 21
    assert row["mean"] == pytest.approx(np.mean([inside[inside["model"] == m]["rh_pg_c_yr"].mean() for m in ("A", "B")]))
    assert row["max"] == inside["rh_pg_c_yr"].max() and row["kind"] == "process models"
    assert table.index.name == "series, 1990-2010 (Pg C yr-1)"
    assert "ISIMIP2a (2, mean of model means)" in table.index


def test_trend_summary_table_describes_each_ensemble_beside_the_paper():
    trends = pd.concat(
        {
            "CMIP6 ESM": pd.DataFrame({"slope": [0.1, 0.3], "relative_slope_pct_per_yr": [0.2, 0.6]}, index=["A", "B"]),
            "ISIMIP2a": pd.DataFrame({"slope": [0.2], "relative_slope_pct_per_yr": [0.4]}, index=["I"]),
        },
        names=["ensemble", "model"],
    )
    sens = pd.DataFrame({"slope": [1.0, 2.0, 4.0]}, index=["A", "B", "C"])
    table = cmip6.trend_summary_table(trends, sens, (0.05, 0.25), 0.1, (0.5, 3.0), 1.5, 80.0)
    assert table.loc["CMIP6 ESM trend (Pg C yr-2)", ["count", "mean", "min", "max"]].tolist() == pytest.approx([2, 0.2, 0.1, 0.3])
    assert table.loc["CMIP6 sensitivity (Pg C yr-1 K-1)", "mean"] == pytest.approx(7 / 3)
    paper_col = table["paper, data-driven (mean, min, max)"]
    assert paper_col["ISIMIP2a trend (Pg C yr-2)"] == "0.1, 0.05, 0.25"
    assert paper_col["CMIP6 ESM trend (% yr-1)"] == "0.12, 0.06, 0.31 (approx.)"  # 100 x trend / 80 Pg
    assert paper_col["CMIP6 sensitivity (Pg C yr-1 K-1)"] == "1.5, 0.5, 3.0"


def test_trend_figure_draws_every_model_and_the_paper_ranges():
    import matplotlib

    matplotlib.use("Agg")
    trends = pd.concat(
        {
            "CMIP6 ESM": pd.DataFrame({"slope": [0.1, 0.3], "ci_low": [0.0, 0.2], "ci_high": [0.2, 0.4]}, index=["A", "B"]),
            "ISIMIP2a": pd.DataFrame({"slope": [0.2], "ci_low": [0.1], "ci_high": [0.3]}, index=["I"]),
        },
        names=["ensemble", "model"],
    )
    sens = pd.DataFrame(
        {"slope": [1.0, 2.0], "ci_low": [0.5, 1.5], "ci_high": [1.5, 2.5]}, index=pd.Index(["A", "B"], name="model")
    )
    fig = cmip6.plot_trends_and_sensitivities(trends, sens, (0.05, 0.25), (0.5, 3.0), (1980, 2010))
    left, right = fig.axes
    assert len(left.patches) >= 3 and len(right.patches) >= 2  # one bar per model (and the shaded range)
    assert [t.get_text() for t in left.get_legend().get_texts()] == ["CMIP6 ESM", "ISIMIP2a", "data-driven range (paper)"]
    assert "1980-2010" in left.get_xlabel()
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_global_cv_ratios_divide_and_refuse_implausible_spreads():
    data = pd.Series({"(a) published": 10.0, "(b) maps": 20.0})
    ratios = cmip6.global_cv_ratios(25.0, data)
    assert ratios["ratio ESM / data"].tolist() == [2.5, 1.25]
    assert ratios["CMIP6 ESM CV (%)"].tolist() == [25.0, 25.0]
    with pytest.raises(ValueError, match="CMIP6 inter-model CV 50.0 % outside a plausible 15-40 %"):
        cmip6.global_cv_ratios(50.0, data)
    with pytest.raises(ValueError, match="ESM/data CV ratio 0.80 outside 1-5"):
        cmip6.global_cv_ratios(16.0, pd.Series({"(a)": 20.0}))
