"""The MGRsD monthly member: its features."""

from __future__ import annotations

import numpy as np

from globalrs.estimates import mgrsd
from globalrs.sources import readers


def test_monthly_features_pick_the_record_month():
    t = np.tile(np.arange(12.0), (2, 1))
    p = np.tile(np.arange(12.0) * 10, (2, 1))
    x = mgrsd.make_monthly_features(np.array([1, 12]), t, p, np.array([0, 1]))
    np.testing.assert_allclose(x[:, 0], [0.0, 11.0])
    np.testing.assert_allclose(x[:, 1], [0.0, 110.0])
    np.testing.assert_allclose(x[:, 2], [5.5, 5.5])  # then the annual features: MAT
    assert x.shape[1] == len(mgrsd.MONTHLY_FEATURE_NAMES) + len(readers.LANDCOVER_GROUPS)


def test_single_threaded_forest_has_the_trees_of_the_threaded_one():
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, (300, 5))
    y = x @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + rng.normal(0, 0.1, 300)
    single = mgrsd.make_monthly_estimator(7).fit(x, y)
    threaded = mgrsd.make_monthly_estimator(7).set_params(n_jobs=2).fit(x, y)
    assert single.n_jobs == 1
    for a, b in zip(single.estimators_, threaded.estimators_, strict=True):
        np.testing.assert_array_equal(a.tree_.threshold, b.tree_.threshold)
        np.testing.assert_array_equal(a.tree_.value, b.tree_.value)
    x_new = rng.uniform(0, 1, (1000, 5))
    np.testing.assert_allclose(single.predict(x_new), threaded.predict(x_new), rtol=1e-13, atol=0)
