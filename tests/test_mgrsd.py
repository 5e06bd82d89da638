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
