"""Tests for globalrs.cmip6: readers, unit calibration, global statistics, the online path."""

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
