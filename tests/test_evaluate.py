"""Evaluation: scores, spatially blocked folds and cross-validation on synthetic observations."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import synthetic_obs

from globalrs import evaluate, inputs


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
    assert all((a[1] == b[1]).all() for a, b in zip(folds, again))


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
