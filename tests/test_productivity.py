"""The productivity covariate: FLUXCOM GPP read, calibrated against the published totals, and the refitted members."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import write_global_geotiff

from globalrs.estimates import productivity as pr


def test_linear_gpp_member_recovers_known_coefficients():
    rng = np.random.default_rng(0)
    n = 400
    t = rng.uniform(-5, 28, (n, 1)) + rng.normal(0, 3, (n, 12))
    p = rng.uniform(0, 200, (n, 12))
    gpp = rng.uniform(0, 3000, n)
    rs = 100 + 12 * t.mean(1) + 0.3 * p.sum(1) + 0.25 * gpp
    params, est = pr.fit_gpp_member("linear_mat_map_gpp", t, p, np.zeros(n, int), gpp, rs)
    assert est is None
    assert params == pytest.approx({"intercept": 100, "slope_per_c": 12, "slope_per_mm": 0.3, "slope_per_gpp": 0.25}, rel=1e-6)
    # predictions are the same formula evaluated again, negatives set to zero
    pred = pr.predict_gpp_member("linear_mat_map_gpp", params, None, t, p, np.zeros(n, int), gpp)
    np.testing.assert_allclose(pred, np.maximum(rs, 0), rtol=1e-8)


def test_tree_members_rank_gpp_when_it_carries_the_signal():
    rng = np.random.default_rng(1)
    n = 300
    t, p = rng.normal(10, 5, (n, 12)), rng.uniform(0, 100, (n, 12))
    gpp = rng.uniform(0, 3000, n)
    params, est = pr.fit_gpp_member("random_forest_gpp", t, p, rng.integers(0, 3, n), gpp, 0.3 * gpp + rng.normal(0, 5, n))
    importance = {k.removeprefix("importance_"): v for k, v in params.items()}
    assert max(importance, key=importance.get) == pr.GPP_NAME
    assert sum(importance.values()) == pytest.approx(1.0)


def test_unknown_productivity_member():
    with pytest.raises(ValueError, match="not a productivity member"):
        pr.fit_gpp_member("raich_potter", np.ones((2, 12)), np.ones((2, 12)), np.zeros(2, int), np.ones(2), np.ones(2))


def test_calibration_rows_are_the_fluxcom_synthesis(mirror_dir):
    table = pr.published_fluxcom_gpp()
    used = table[table["used_for_calibration"]]
    assert sorted(used["note"]) == sorted(pr.CALIBRATION_SETUPS)
    assert used["doi_or_url"].str.contains(pr.CALIBRATION_DOI, regex=False).all()
    # the TRENDY models of the same paper are listed but not used
    assert not table[table["note"].str.contains("TRENDY")]["used_for_calibration"].any()
    assert ((used["gpp_pg_c_yr"] > 90) & (used["gpp_pg_c_yr"] < 160)).all()


def test_calibrated_gpp_totals_the_target_by_an_independent_sum(mirror_dir):
    from globalrs.core.grid import global_total_pg
    from globalrs.estimates.inputs import load_static_05

    static = load_static_05()
    gpp = pr.calibrated_gpp_05(static)
    total = float(
        global_total_pg(gpp.fillna(0), area_m2=static["cell_area_m2"] * static["land_fraction"], mask=static["land_mask"])
    )
    table = pr.published_fluxcom_gpp()
    assert total == pytest.approx(table.loc[table["used_for_calibration"], "gpp_pg_c_yr"].mean(), rel=1e-6)
    assert gpp.attrs["units"] == "g C m-2 yr-1" and float(gpp.min()) >= 0


def test_a_gpp_file_on_another_grid_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "gpp1deg.tif"
    write_global_geotiff(path, np.ones((180, 360)), 1.0)
    monkeypatch.setattr(pr, "fetch", lambda name: path)
    with pytest.raises(ValueError, match="0.5-degree"):
        pr.read_fluxcom_gpp_raw_05()
