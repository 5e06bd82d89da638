"""Area of applicability (AOA) of a model fitted at sites: where its map is an extrapolation.

Meyer & Pebesma (2021, Methods Ecol. Evol. 12:1620, "Predicting into unknown space?"):

1. covariates are standardized with the training mean and SD and, where the model has them,
   multiplied by its variable importances;
2. the dissimilarity index (DI) of a prediction cell is its distance to the nearest training
   site in that space divided by the mean distance between training sites;
3. the DI of each training site is taken to the nearest site of the *other* cross-validation
   folds (what the model saw when it was scored);
4. the threshold is the outlier-removed maximum of the training DI: the upper whisker of its
   boxplot, i.e. the largest training DI not above the 75th percentile + 1.5 IQR;
5. a cell is inside the AOA when its DI is not above the threshold.

Only arrays here (no grids, no members): :mod:`globalrs.estimates.applicability` applies it to the
ensemble members. Distances use scikit-learn's ``KDTree`` and ``pairwise_distances_chunked``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AreaOfApplicability:
    """The DI of prediction cells against one training set, and the AOA threshold.

    Attributes
    ----------
    di
        ``(n_cells,)`` dissimilarity index of each prediction point (dimensionless; 0 = at a
        training site, 1 = as far as training sites are from each other on average).
    training_di
        ``(n_train,)`` DI of each training site to the sites of the other CV folds.
    threshold
        The largest training DI not above the 75th percentile + 1.5 IQR of ``training_di``.
    mean_training_distance
        Mean distance between training sites in the scaled, weighted space (the DI's unit).
    inside
        ``(n_cells,)`` bool: ``di <= threshold``.
    """

    di: np.ndarray
    training_di: np.ndarray
    threshold: float
    mean_training_distance: float

    @property
    def inside(self) -> np.ndarray:
        return self.di <= self.threshold


def scale_covariates(train: np.ndarray, predict: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Standardize both tables with the training mean and SD, then multiply by ``weights``.

    A column constant in the training data (SD 0) is centred but not divided: any cell that
    differs from it still counts as different.

    Parameters
    ----------
    train, predict
        ``(n_train, k)`` and ``(n_cells, k)`` covariates in the same column order.
    weights
        ``(k,)`` non-negative importances (any scale), or None for equal weights.

    Returns
    -------
    tuple of numpy.ndarray
        The scaled training and prediction tables.
    """
    train = np.asarray(train, float)
    predict = np.asarray(predict, float)
    if train.ndim != 2 or predict.ndim != 2:
        raise ValueError(f"covariates must be 2-D tables, got training {train.shape} and prediction {predict.shape}")
    if train.shape[1] != predict.shape[1]:
        raise ValueError(
            f"training covariates have {train.shape[1]} columns but prediction covariates have {predict.shape[1]} columns"
        )
    if not (np.isfinite(train).all() and np.isfinite(predict).all()):
        raise ValueError("covariates must be finite (drop cells without a covariate first and say how many)")
    mean = train.mean(0)
    sd = train.std(0)
    sd = np.where(sd > 0, sd, 1.0)
    w = np.ones(train.shape[1]) if weights is None else np.asarray(weights, float)
    if w.shape != (train.shape[1],) or (w < 0).any() or not np.isfinite(w).all():
        raise ValueError(f"weights must be {train.shape[1]} non-negative numbers, got {w}")
    return (train - mean) / sd * w, (predict - mean) / sd * w


def mean_pairwise_distance(x: np.ndarray) -> float:
    """Mean Euclidean distance over all distinct pairs of rows (memory bounded by chunks)."""
    n = len(x)
    if n < 2:
        raise ValueError("the mean distance between training sites needs at least two sites")
    from sklearn.metrics import pairwise_distances_chunked  # imported when needed: see ensemble.make_estimator

    total = sum(float(chunk.sum()) for chunk in pairwise_distances_chunked(x, n_jobs=1))
    return total / (n * (n - 1))


def area_of_applicability(
    train: np.ndarray,
    predict: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
    weights: np.ndarray | None = None,
) -> AreaOfApplicability:
    """Dissimilarity index and AOA of ``predict`` against ``train`` (Meyer & Pebesma 2021).

    Parameters
    ----------
    train
        ``(n_train, k)`` covariates at the training sites (the model's own inputs).
    predict
        ``(n_cells, k)`` covariates of the prediction cells, same columns.
    folds
        The cross-validation ``(train_index, test_index)`` pairs the model was scored with; each
        training site's DI is taken to the sites outside its own test fold.
    weights
        ``(k,)`` variable importances, or None.

    Returns
    -------
    AreaOfApplicability

    Raises
    ------
    ValueError
        No training covariates, column counts that differ, non-finite covariates, or folds that
        do not cover every training site exactly once as a test site.
    """
    train = np.asarray(train, float)
    if train.size == 0 or train.ndim != 2 or len(train) < 2:
        raise ValueError(f"the AOA needs training covariates (at least two sites), got shape {train.shape}")
    xs, ps = scale_covariates(train, predict, weights)
    tested = np.concatenate([np.asarray(test, int) for _, test in folds]) if folds else np.array([], int)
    if tested.size != len(train) or np.unique(tested).size != len(train):
        raise ValueError(f"the folds must hold each of the {len(train)} training sites once as a test site")
    from sklearn.neighbors import KDTree  # imported when needed: see ensemble.make_estimator

    dbar = mean_pairwise_distance(xs)
    if dbar == 0:
        raise ValueError("all training sites have identical covariates: the DI is undefined")
    di = KDTree(xs).query(ps, k=1)[0][:, 0] / dbar
    training_di = np.empty(len(train))
    for fit_idx, test_idx in folds:
        training_di[test_idx] = KDTree(xs[fit_idx]).query(xs[test_idx], k=1)[0][:, 0] / dbar
    q25, q75 = np.percentile(training_di, [25, 75])
    fence = q75 + 1.5 * (q75 - q25)
    threshold = float(training_di[training_di <= fence].max())
    return AreaOfApplicability(di=di, training_di=training_di, threshold=threshold, mean_training_distance=dbar)
