"""Evaluation: scores, spatially blocked folds and cross-validation on synthetic observations."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import synthetic_obs

from globalrs.estimates import ensemble, evaluate, inputs


def test_score_predictions_by_hand():
    scores = evaluate.score_predictions([1.0, 2.0, 3.0], [2.0, 2.0, 5.0])
    # errors 1, 0, 2: rmse sqrt(5/3), mae 1, bias 1, r2 = 1 - 5/2
    assert scores["rmse"] == pytest.approx(np.sqrt(5 / 3))
    assert scores["mae"] == pytest.approx(1.0)
    assert scores["bias"] == pytest.approx(1.0)
    assert scores["r2"] == pytest.approx(-1.5)


def test_score_predictions_refuses_unpaired():
    with pytest.raises(ValueError, match="paired"):
        evaluate.score_predictions([1.0, 2.0], [1.0])


def test_blocked_folds_never_split_a_block():
    obs = synthetic_obs()
    folds = evaluate.blocked_folds(obs, n_splits=4, block_deg=10.0, seed=3)
    blocks = inputs.spatial_block(obs["lat"], obs["lon"], 10.0)
    seen = np.concatenate([test for _, test in folds])
    assert np.sort(seen).tolist() == list(range(len(obs)))
    for train, test in folds:
        assert not set(blocks[train]) & set(blocks[test])
    again = evaluate.blocked_folds(obs, n_splits=4, block_deg=10.0, seed=3)
    assert all((a[1] == b[1]).all() for a, b in zip(folds, again, strict=True))


def test_blocked_folds_refuse_too_few_blocks():
    obs = synthetic_obs().assign(lat=1.0, lon=1.0)
    with pytest.raises(ValueError, match="spatial blocks"):
        evaluate.blocked_folds(obs, n_splits=5)


def test_cross_validation_of_exact_raich_potter_data_is_perfect():
    obs = synthetic_obs()
    cv = evaluate.cross_validate_members(obs, members=("raich_potter", "area_x_mean"), n_splits=3)
    rp = cv.set_index("member").loc["raich_potter"]
    assert rp["rmse"] == pytest.approx(0.0, abs=1e-3)
    assert rp["r2"] == pytest.approx(1.0, abs=1e-6)
    assert cv.set_index("member").loc["area_x_mean", "r2"] < 0.5


def _plain_fit_predict(name, t, p, lc, rs, seed, t_new, p_new, lc_new):
    """The per-refit path the evaluation used before: fit_member_arrays, then predict_member_arrays."""
    params, est = ensemble.fit_member_arrays(name, t, p, lc, rs, seed)
    return ensemble.predict_member_arrays(name, params, est, t_new, p_new, lc_new)


def test_fit_predict_member_equals_fit_then_predict_for_every_member():
    obs = synthetic_obs(150, seed=4)
    t, p = inputs.monthly_arrays(obs)
    lc, rs = obs["landcover_group"].to_numpy(), obs["rs_g_m2_yr"].to_numpy(float)
    rng = np.random.default_rng(9)
    t_new = rng.uniform(-25, 30, (500, 12)).astype(np.float32)  # float32 like a climate grid
    p_new = rng.uniform(0, 250, (500, 12)).astype(np.float32)
    lc_new = rng.integers(0, 3, 500)
    grid = evaluate.GridCovariates(t_new, p_new, lc_new)
    for name in ensemble.MEMBERS:
        fast = evaluate.fit_predict_member(name, t[:120], p[:120], lc[:120], rs[:120], 11, grid)
        plain = _plain_fit_predict(name, t[:120], p[:120], lc[:120], rs[:120], 11, t_new, p_new, lc_new)
        # the forest's threaded sum may differ from the single-threaded one in the last place
        np.testing.assert_allclose(fast, plain, rtol=1e-13, atol=1e-12, err_msg=name)
        assert (fast >= 0).all()
    assert grid._features is not None  # built once, reused by both tree members


def test_cross_validation_equals_the_plain_fold_loop():
    obs = synthetic_obs(150, seed=6)
    members = ("linear_mat_map", "random_forest", "gradient_boosting")
    cv = evaluate.cross_validate_members(obs, members=members, n_splits=4).set_index("member")
    t, p = inputs.monthly_arrays(obs)
    lc, rs = obs["landcover_group"].to_numpy(), obs["rs_g_m2_yr"].to_numpy(float)
    for name in members:
        pred = np.full(rs.size, np.nan)
        for train, test in evaluate.blocked_folds(obs, 4):
            pred[test] = _plain_fit_predict(
                name, t[train], p[train], lc[train], rs[train], ensemble.SEED, t[test], p[test], lc[test]
            )
        plain = evaluate.score_predictions(rs, pred)
        for metric, value in plain.items():
            assert cv.loc[name, metric] == pytest.approx(value, rel=1e-12, abs=1e-9), (name, metric)
