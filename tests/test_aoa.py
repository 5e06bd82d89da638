"""Area of applicability (Meyer & Pebesma 2021) on synthetic covariates whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from globalrs.estimates.aoa import area_of_applicability, mean_pairwise_distance, scale_covariates


def box_sites(n=200, seed=0):
    """Training sites uniform in the unit square, and five random folds."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (n, 2))
    fold = rng.permutation(np.arange(n) % 5)
    folds = [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(5)]
    return x, folds


def test_cells_inside_the_training_box_are_inside_and_far_cells_outside():
    x, folds = box_sites()
    inside_cells = np.random.default_rng(1).uniform(0.2, 0.8, (100, 2))
    far_cells = np.array([[5.0, 5.0], [-3.0, 0.5], [0.5, 4.0]])
    aoa = area_of_applicability(x, np.vstack([inside_cells, far_cells]), folds)
    assert aoa.inside[:100].all()
    assert not aoa.inside[100:].any()
    # the threshold is a training DI (an observed value), not above the boxplot fence
    q25, q75 = np.percentile(aoa.training_di, [25, 75])
    assert aoa.threshold in aoa.training_di
    assert aoa.threshold <= q75 + 1.5 * (q75 - q25)


def test_di_matches_a_brute_force_distance_computation():
    x, folds = box_sites(80, seed=3)
    cells = np.random.default_rng(4).uniform(-1, 2, (50, 2))
    aoa = area_of_applicability(x, cells, folds)
    mean, sd = x.mean(0), x.std(0)
    xs, cs = (x - mean) / sd, (cells - mean) / sd
    pair = np.sqrt(((xs[:, None] - xs[None]) ** 2).sum(-1))
    dbar = pair[np.triu_indices(len(x), 1)].mean()
    nearest = np.sqrt(((cs[:, None] - xs[None]) ** 2).sum(-1)).min(1)
    np.testing.assert_allclose(aoa.di, nearest / dbar, rtol=1e-10)
    for train, test in folds:
        np.testing.assert_allclose(aoa.training_di[test], pair[np.ix_(test, train)].min(1) / dbar, rtol=1e-10)


def test_a_cell_at_a_training_site_has_zero_di():
    x, folds = box_sites(50)
    aoa = area_of_applicability(x, x[:5], folds)
    np.testing.assert_allclose(aoa.di, 0.0, atol=1e-12)


def test_a_zero_weight_covariate_does_not_count():
    x, folds = box_sites()
    cell = np.array([[0.5, 50.0]])  # far out in the second covariate only
    assert not area_of_applicability(x, cell, folds).inside[0]
    assert area_of_applicability(x, cell, folds, weights=np.array([1.0, 0.0])).inside[0]


@pytest.mark.parametrize("seed", range(20))
def test_di_does_not_depend_on_covariate_units(seed):
    """Property over random scalings and shifts: standardization makes the DI unit-free."""
    rng = np.random.default_rng(seed)
    x, folds = box_sites(60, seed=seed)
    cells = rng.uniform(-2, 3, (40, 2))
    a = area_of_applicability(x, cells, folds)
    s, b = 10 ** rng.uniform(-2, 2, 2), rng.uniform(-1e3, 1e3, 2)
    b_ = area_of_applicability(x * s + b, cells * s + b, folds)
    np.testing.assert_allclose(a.di, b_.di, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(a.threshold, b_.threshold, rtol=1e-6)


def test_mean_pairwise_distance_of_a_known_configuration():
    # corners of a unit square: 4 sides of 1 and 2 diagonals of sqrt(2)
    square = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    assert mean_pairwise_distance(square) == pytest.approx((4 + 2 * np.sqrt(2)) / 6)


def test_clear_errors():
    x, folds = box_sites(30)
    with pytest.raises(ValueError, match="training covariates"):
        area_of_applicability(np.empty((0, 2)), x, folds)
    with pytest.raises(ValueError, match="3 columns"):
        area_of_applicability(x, np.ones((4, 3)), folds)
    with pytest.raises(ValueError, match="once as a test site"):
        area_of_applicability(x, x, folds[:2])
    with pytest.raises(ValueError, match="finite"):
        scale_covariates(x, np.array([[np.nan, 0.0]]))
    with pytest.raises(ValueError, match="non-negative"):
        scale_covariates(x, x, weights=np.array([1.0, -1.0]))
