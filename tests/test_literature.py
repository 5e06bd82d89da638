"""Tests for globalrs.sources.literature: hand-computed cases on tiny tables built here, plus checks of
the two packaged tables (they ship with the package, so no mirror is needed)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from globalrs.reproduction import paper
from globalrs.sources import literature as lit


def make_estimates(rows):
    """rows: (study_id, study, pub_year, value, estimate_type)."""
    return pd.DataFrame(rows, columns=["study_id", "study", "pub_year", "estimate_pg_c_yr", "estimate_type"]).astype(
        {"study_id": "Int64", "pub_year": "Int64", "estimate_pg_c_yr": float}
    )


# --- classify_method_family ---------------------------------------------------------------


@pytest.mark.parametrize(
    "method, family",
    [
        ("Carbon balance", "Carbon balance"),
        ("Area × Mean", "Area x Mean"),
        ("Area x Mean", "Area x Mean"),
        ("Semi-empirical model (inferred)", "Semi-empirical model"),
        ("Machine learning (random forest)", "Machine learning"),
        ("Linear model", "Linear model"),
        ("Statistical model & Semi-empirical model", "mixed"),
        ("Carbon balance & (Machine learning)", "Carbon balance"),  # bracketed = supporting
        ("Machine learning & Machine learning", "Machine learning"),
    ],
)
def test_classify_method_family(method, family):
    assert lit.classify_method_family(method) == family


def test_classify_method_family_rejects_unknown():
    with pytest.raises(ValueError, match="unknown method 'neural magic'"):
        lit.classify_method_family("Neural magic")
    with pytest.raises(ValueError, match="no method named"):
        lit.classify_method_family("(inferred)")


# --- extract_categories / classify_data_source / count_categories_by_decade ----------------


def test_extract_categories_multi_valued_cells():
    assert lit.extract_categories("Annual & Monthly & Daily", lit.TEMPORAL_RESOLUTIONS) == ["Annual", "Monthly", "Daily"]
    assert lit.extract_categories("NE (0.1° (~10 km))", lit.SPATIAL_RESOLUTIONS) == ["NE", "0.1°"]
    # "0.5°" must not match inside "10.5°", "30 s" not inside "130 s"
    assert lit.extract_categories("0.5° (~50 km)", lit.SPATIAL_RESOLUTIONS) == ["0.5°"]
    with pytest.raises(ValueError):
        lit.extract_categories("10.5°", lit.SPATIAL_RESOLUTIONS)
    with pytest.raises(ValueError, match="contains none"):
        lit.extract_categories("Weekly", lit.TEMPORAL_RESOLUTIONS)


@pytest.mark.parametrize(
    "cell, cls",
    [
        ("Compilation", "Author compilation"),
        ("SRDB", "SRDB only"),
        ("SRDB + C + E + S", "SRDB extended"),
        ("SRDB + compilation", "SRDB extended"),
        ("MGRsD + C", "Other global database"),
        ("Global GPP (DGRsD)", "Other global database"),
    ],
)
def test_classify_data_source(cell, cls):
    assert lit.classify_data_source(cell) == cls


def test_classify_data_source_rejects_unknown():
    with pytest.raises(ValueError, match="unknown data source"):
        lit.classify_data_source("FLUXNET")


def test_count_categories_by_decade_counts_each_named_category():
    methods = pd.DataFrame({"decade": ["1990s", "1990s", "2010s"], "t": ["Annual", "Monthly", "Annual & Monthly"]})
    counts = lit.count_categories_by_decade(methods, "t", ("Annual", "Monthly", "Daily"))
    assert counts.loc["1990s"].tolist() == [1, 1, 0]
    assert counts.loc["2010s"].tolist() == [1, 1, 0]
    assert list(counts.columns) == ["Annual", "Monthly", "Daily"]


# --- screen_estimates ----------------------------------------------------------------------


def test_screen_estimates_reasons_and_counts():
    df = make_estimates(
        [
            (1, "a", 2000, 70.0, "global total"),
            (2, "b", 2001, np.nan, "global total"),
            (3, "c", 2002, 96.0, "hypothetical scenario"),
            (4, "d", 2003, 108.6, "global total"),
            (5, "e", 2004, 101.0, "global total"),  # at the maximum: kept
        ]
    )
    kept, excluded = lit.screen_estimates(df, max_pg=101)
    assert kept["study"].tolist() == ["a", "e"]
    assert excluded["study"].tolist() == ["b", "c", "d"]
    assert excluded["exclusion_reason"].tolist() == [
        "no value (total not verified)",
        "hypothetical scenario",
        "above 101 Pg C yr-1 (screened)",
    ]
    kept2, excluded2 = lit.screen_estimates(df, max_pg=None, exclude_scenarios=False)
    assert kept2["study"].tolist() == ["a", "c", "d", "e"]
    assert len(kept2) + len(excluded2) == len(df)


# --- split_by_period ---------------------------------------------------------------------


def test_split_by_period_boundary_year_is_after():
    df = make_estimates([(1, "a", 2009, 1.0, "global total"), (2, "b", 2010, 2.0, "global total")])
    before, after = lit.split_by_period(df, year=2010)
    assert before["study"].tolist() == ["a"]
    assert after["study"].tolist() == ["b"]


def test_split_by_period_rejects_missing_year():
    df = make_estimates([(1, "a", None, 1.0, "global total")])
    with pytest.raises(ValueError, match="without pub_year"):
        lit.split_by_period(df, year=2010)


# --- summarize_estimates -------------------------------------------------------------------


def test_summarize_estimates_hand_computed():
    s = lit.summarize_estimates([2.0, 4.0, 9.0])
    # mean 5, deviations -3, -1, 4 -> sum of squares 26, / (3 - 1) = 13
    assert s["n"] == 3
    assert s["mean"] == pytest.approx(5.0)
    assert s["sd"] == pytest.approx(math.sqrt(13.0))
    assert (s["min"], s["max"]) == (2.0, 9.0)


def test_summarize_estimates_errors():
    with pytest.raises(ValueError, match="no values"):
        lit.summarize_estimates([])
    with pytest.raises(ValueError, match="NaN"):
        lit.summarize_estimates([1.0, float("nan")])
    assert math.isnan(lit.summarize_estimates([3.0])["sd"])


# --- compare_method_families ----------------------------------------------------------------


def test_compare_method_families_hand_computed():
    a, b = [1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]
    r = lit.compare_method_families(a, b)
    # Welch: var_a = 1, var_b = 5/3; se^2 = 1/3 + 5/12 = 0.75; t = (2 - 5.5) / sqrt(0.75)
    assert r["welch_t"] == pytest.approx(-3.5 / math.sqrt(0.75))
    # every a below every b: U for a = 0; exact two-sided p = 2 / C(7, 3) = 2 / 35
    assert r["mannwhitney_u"] == 0.0
    assert r["mannwhitney_p"] == pytest.approx(2 / 35)
    assert (r["n_a"], r["n_b"], r["mean_a"], r["mean_b"]) == (3, 4, 2.0, 5.5)
    assert 0 < r["welch_p"] < 0.05


def test_compare_method_families_needs_two_values():
    with pytest.raises(ValueError, match="group a"):
        lit.compare_method_families([1.0], [2.0, 3.0])


# --- enumerate_estimate_choices -------------------------------------------------------------


def test_enumerate_estimate_choices_all_combinations():
    df = make_estimates(
        [
            (1, "one", 2010, 10.0, "global total"),
            (2, "two-x", 2011, 20.0, "global total"),
            (2, "two-y", 2011, 40.0, "global total"),
            (3, "three-x", 2012, 30.0, "global total"),
            (3, "three-y", 2012, 60.0, "global total"),
        ]
    )
    out = lit.enumerate_estimate_choices(df)
    assert len(out) == 4
    assert set(out.columns) >= {"n", "mean", "sd", "min", "max", "choice_2", "choice_3"}
    assert "choice_1" not in out.columns
    assert (out["n"] == 3).all()
    means = sorted(out["mean"].round(6))
    assert means == [20.0, round(80 / 3, 6), 30.0, round(110 / 3, 6)]
    row = out[(out["choice_2"] == "two-y") & (out["choice_3"] == "three-y")].iloc[0]
    assert row["mean"] == pytest.approx(110 / 3)
    assert row["max"] == 60.0


def test_enumerate_estimate_choices_limits():
    df = make_estimates([(i // 2, f"s{i}", 2010, float(i), "global total") for i in range(8)])
    with pytest.raises(ValueError, match="16 combinations"):
        lit.enumerate_estimate_choices(df, max_combinations=10)
    bad = make_estimates([(1, "a", 2010, np.nan, "global total")])
    with pytest.raises(ValueError, match="NaN"):
        lit.enumerate_estimate_choices(bad)


# --- cumulative_mean -----------------------------------------------------------------------


def test_cumulative_mean_hand_computed():
    df = make_estimates(
        [
            (1, "a", 2000, 70.0, "global total"),
            (2, "b", 2000, 80.0, "global total"),
            (3, "c", 2005, 90.0, "global total"),
            (4, "d", 2012, 100.0, "global total"),
        ]
    )
    out = lit.cumulative_mean(df)
    assert out["pub_year"].tolist() == [2000, 2005, 2012]
    assert out["n"].tolist() == [2, 3, 4]
    np.testing.assert_allclose(out["cumulative_mean_pg_c_yr"], [75.0, 80.0, 85.0])
    since = lit.cumulative_mean(df, since_year=2005)
    assert since["pub_year"].tolist() == [2005, 2012]
    np.testing.assert_allclose(since["cumulative_mean_pg_c_yr"], [90.0, 95.0])


# --- the packaged tables ------------------------------------------------------------------


def test_methods_table_is_table_1():
    m = lit.read_methods_table()
    assert len(m) == 23 and m["study_id"].tolist() == list(range(1, 24))
    assert m.loc[m["study_id"] == 17, "spatial_resolution"].item() == "30 s (~1 km)"
    # every cell parses into the figure vocabularies
    for _, row in m.iterrows():
        lit.extract_categories(row["spatial_resolution"], lit.SPATIAL_RESOLUTIONS)
        lit.extract_categories(row["temporal_resolution"], lit.TEMPORAL_RESOLUTIONS)
        lit.extract_categories(row["method"], lit.TABLE1_METHODS)
        lit.classify_data_source(row["data"])
    assert (m["bib_keys"].str.len() > 0).all()


def test_global_rs_estimates_table():
    e = lit.read_global_rs_estimates()
    assert len(e) == 33
    assert e["estimate_pg_c_yr"].isna().sum() == 2
    assert set(e.loc[e["estimate_pg_c_yr"].isna(), "status"]) == {"UNVERIFIED"}
    assert set(e["study_id"].dropna().astype(int)) == set(range(1, 24))
    assert (e["method"].map(lit.classify_method_family) == e["method_family"]).all()
    assert e["source"].str.len().min() > 20


def test_pre_2010_reproduces_paper():
    kept, _ = lit.screen_estimates(lit.read_global_rs_estimates(), max_pg=paper.MAX_COUNTED_PG_C_YR)
    before, _ = lit.split_by_period(kept, year=paper.SPLIT_YEAR)
    s = lit.summarize_estimates(before["estimate_pg_c_yr"])
    mean, sd, value_range = (paper.get_claim(f"totals.pre2010_{x}") for x in ("mean", "sd", "range"))
    assert abs(s["mean"] - mean.value) <= mean.abs_tolerance
    assert abs(s["sd"] - sd.value) <= sd.abs_tolerance
    assert abs(s["min"] - value_range.low) <= value_range.abs_tolerance
    assert abs(s["max"] - value_range.high) <= value_range.abs_tolerance


# --- plots.color_method_family (the literature chapters' colours) ---------------------------


def test_color_method_family_covers_every_family():
    from globalrs.viz.plots import color_method_family

    colors = [color_method_family(f) for f in lit.METHOD_FAMILIES]
    assert len(set(colors)) == len(lit.METHOD_FAMILIES)
    assert color_method_family("Machine learning") == "#D55E00"
    with pytest.raises(ValueError, match="unknown method family"):
        color_method_family("Area × Mean")


# --- build_estimates_table ------------------------------------------------------------------


def make_reference():
    cols = list(lit.REFERENCE_COLUMNS)
    rows = [
        [
            "7",
            "A (2012)",
            "2012",
            "78",
            "64",
            "95",
            "c. 1980-2010",
            "Semi-empirical model",
            "Compilation",
            "0.5 deg",
            "Monthly",
            "VERIFIED",
            "primary abstract",
        ],
        [
            "22",
            "B - optimized",
            "2021",
            "96.4",
            "",
            "",
            "hypothetical optimized distribution",
            "Machine learning",
            "SRDB",
            "30 s",
            "Annual",
            "VERIFIED",
            "primary",
        ],
        [
            "new1",
            "C (2024)",
            "2024",
            "",
            "",
            "",
            "2021",
            "Machine learning (random forest)",
            "SRDB",
            "not seen",
            "Annual",
            "UNVERIFIED",
            "not seen",
        ],
    ]
    return pd.DataFrame(rows, columns=cols)


def test_build_estimates_table_keeps_every_row():
    table = lit.build_estimates_table(make_reference())
    assert list(table.columns) == list(lit.ESTIMATES_COLUMNS)
    assert table["source_id"].tolist() == ["7", "22", "new1"]
    assert table["study_id"].tolist() == ["7", "22", ""]
    assert table["estimate_type"].tolist() == ["global total", "hypothetical scenario", "global total"]
    assert table["method_family"].tolist() == ["Semi-empirical model", "Machine learning", "Machine learning"]
    assert table.loc[0, "low_pg_c_yr"] == "64" and table.loc[2, "estimate_pg_c_yr"] == ""


def test_build_estimates_table_rejects_missing_column():
    with pytest.raises(ValueError, match="missing column"):
        lit.build_estimates_table(make_reference().drop(columns=["source"]))


def test_packaged_estimates_match_the_reference(mirror_dir):
    reference_csv = mirror_dir.parent / "reference" / "global_rs_estimates.csv"
    if not reference_csv.is_file():
        pytest.skip(f"reference compilation not found beside the mirror: {reference_csv}")
    rebuilt = lit.build_estimates_table(pd.read_csv(reference_csv, dtype=str, keep_default_na=False))
    packaged = pd.read_csv(Path(lit.__file__).parents[1] / "tables" / "global_rs_estimates.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(rebuilt.astype(str), packaged.astype(str))
