"""The member registry: one declaration per standardized-protocol ensemble member.

A member is a :class:`Member`: its name, method family (Table 1 of the paper), a short
description, how it is fitted and predicted, whether it resolves months, the covariates it reads
(for its area of applicability) and how a figure draws it. Everything that loops over members
reads this registry: :mod:`globalrs.estimates.ensemble` (fit, predict, the ``member`` coordinate and its
``method_family``), :mod:`globalrs.estimates.evaluate` (CV, bootstrap), :mod:`globalrs.estimates.applicability` (the
AOA in the member's own covariate space) and the chapters' tables. Adding a member is one
declaration::

    from globalrs.estimates import members

    def fit_class_median(data: members.FitData) -> tuple[dict, None]:
        groups = np.asarray(data.landcover_group)
        return {str(g): float(np.median(data.rs_g_m2_yr[groups == g])) for g in np.unique(groups)}, None

    def predict_class_median(params, estimator, cells: members.CellData) -> np.ndarray:
        return np.array([params[str(g)] for g in cells.landcover_group])

    members.register(members.Member(
        name="class_median", family="Area x Mean", description="median observed Rs per land-cover class",
        fit=fit_class_median, predict=predict_class_median, covariates=members.landcover_covariates,
        label="Class median", color="C7"))

(:func:`registered` does the same for a ``with`` block and restores the registry afterwards.)
Members declared with ``in_ensemble=False`` (the temperature-optimum form) can be fitted by
name but are not part of the ensemble by default.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from globalrs.estimates import models
from globalrs.sources import readers

#: Seed of every stochastic member (the ensemble's ``SEED``).
SEED = 20231128

#: Climate summaries the machine-learning members (and the AOA of the climate members) read.
FEATURE_NAMES = ("mat_c", "map_mm", "tmax_month_c", "tmin_month_c", "pmax_month_mm", "pmin_month_mm")


@dataclass(frozen=True)
class FitData:
    """Per-observation inputs of a fit: ``(n, 12)`` climate, ``(n,)`` land cover and Rs, the seed."""

    tmean_c: np.ndarray
    prec_mm_month: np.ndarray
    landcover_group: np.ndarray
    rs_g_m2_yr: np.ndarray
    seed: int = SEED


@dataclass(frozen=True)
class CellData:
    """Per-cell (or per-site) covariates of a prediction: ``(n, 12)`` climate, ``(n,)`` land cover."""

    tmean_c: np.ndarray
    prec_mm_month: np.ndarray
    landcover_group: np.ndarray


#: ``fit(data) -> (params, estimator or None)``.
FitFunction = Callable[[FitData], tuple[dict[str, Any], Any]]
#: ``predict(params, estimator, cells) -> (n,)`` annual Rs in g C m-2 yr-1 (unclipped).
PredictFunction = Callable[[dict[str, Any], Any, CellData], np.ndarray]
#: ``monthly(params, tmean_c, prec_mm_month) -> (..., 12)`` monthly Rs in g C m-2 month-1.
MonthlyFunction = Callable[[dict[str, Any], np.ndarray, np.ndarray], np.ndarray]
#: ``covariates(cells) -> ((n, k) table, k column names)``: the space of the member's AOA.
CovariateFunction = Callable[[CellData], tuple[np.ndarray, list[str]]]


@dataclass(frozen=True)
class Member:
    """One ensemble member, declared once.

    Attributes
    ----------
    name
        Identifier (the ``member`` coordinate of every result).
    family
        Method family of the paper's Table 1 (``"Area x Mean"``, ``"Linear model"``,
        ``"Semi-empirical model"``, ``"Machine learning"``).
    description
        One line for tables.
    fit
        :data:`FitFunction`.
    predict
        :data:`PredictFunction`; omit it for a monthly member (its annual value is the sum of
        ``monthly`` over the months).
    monthly
        :data:`MonthlyFunction` for a member that resolves months, else None.
    covariates
        :data:`CovariateFunction`: what the member reads, for its area of applicability.
    label
        Human-readable name for figures.
    color
        Matplotlib colour of the member in figures.
    in_ensemble
        Part of the ensemble by default (False: fitted only when asked for by name).
    """

    name: str
    family: str
    description: str
    fit: FitFunction
    covariates: CovariateFunction
    predict: PredictFunction | None = None
    monthly: MonthlyFunction | None = None
    label: str = ""
    color: str = "0.5"
    in_ensemble: bool = True

    def __post_init__(self) -> None:
        if (self.predict is None) == (self.monthly is None):
            raise ValueError(f"member {self.name!r}: declare exactly one of predict (annual) or monthly")

    @property
    def is_monthly(self) -> bool:
        """Whether the member resolves months."""
        return self.monthly is not None

    def predict_annual(self, params: dict[str, Any], estimator: Any, cells: CellData) -> np.ndarray:
        """Annual Rs (g C m-2 yr-1, unclipped) for ``cells``."""
        if self.monthly is not None:
            return models.annual_sum(self.monthly(params, cells.tmean_c, cells.prec_mm_month))
        if self.predict is None:  # not reached: __post_init__ requires predict or monthly
            raise ValueError(f"member {self.name!r} declares no annual predict")
        return np.asarray(self.predict(params, estimator, cells), dtype=float)


# ----------------------------------------------------------------------------- covariates


def landcover_onehot(landcover_group: np.ndarray) -> np.ndarray:
    """``(n, groups)`` one-hot land-cover groups (:data:`globalrs.sources.readers.LANDCOVER_GROUPS`)."""
    lc = np.asarray(landcover_group, int)
    return (lc[:, None] == np.arange(len(readers.LANDCOVER_GROUPS))[None, :]).astype(float)


def climate_summaries(tmean_c: np.ndarray, prec_mm_month: np.ndarray) -> np.ndarray:
    """``(n, 6)`` MAT (deg C), MAP (mm), warmest/coldest month (deg C), wettest/driest month (mm)."""
    t, p = np.asarray(tmean_c, float), np.asarray(prec_mm_month, float)
    return np.column_stack([t.mean(1), p.sum(1), t.max(1), t.min(1), p.max(1), p.min(1)])


def make_features(tmean_c: np.ndarray, prec_mm_month: np.ndarray, landcover_group: np.ndarray) -> np.ndarray:
    """Machine-learning covariates: :data:`FEATURE_NAMES` then one column per land-cover group."""
    return np.column_stack([climate_summaries(tmean_c, prec_mm_month), landcover_onehot(landcover_group)])


def feature_names() -> list[str]:
    """Names of the columns of :func:`make_features`."""
    return list(FEATURE_NAMES) + [f"lc_{g}" for g in readers.LANDCOVER_GROUPS]


def landcover_covariates(cells: CellData) -> tuple[np.ndarray, list[str]]:
    """The land-cover class (one-hot): a class without a record is outside the AOA."""
    return landcover_onehot(cells.landcover_group), [f"lc_{g}" for g in readers.LANDCOVER_GROUPS]


def mat_map_covariates(cells: CellData) -> tuple[np.ndarray, list[str]]:
    """Mean annual temperature (deg C) and precipitation (mm)."""
    t, p = np.asarray(cells.tmean_c, float), np.asarray(cells.prec_mm_month, float)
    return np.column_stack([t.mean(1), p.sum(1)]), ["mat_c", "map_mm"]


def climate_covariates(cells: CellData) -> tuple[np.ndarray, list[str]]:
    """The six monthly-climate summaries (:data:`FEATURE_NAMES`), spanning the monthly forcing."""
    return climate_summaries(cells.tmean_c, cells.prec_mm_month), list(FEATURE_NAMES)


def feature_covariates(cells: CellData) -> tuple[np.ndarray, list[str]]:
    """The machine-learning features (:func:`make_features`)."""
    return make_features(cells.tmean_c, cells.prec_mm_month, cells.landcover_group), feature_names()


# ----------------------------------------------------------------------------- the paper's members


def make_estimator(name: str, seed: int = SEED):
    """The scikit-learn estimator of a machine-learning member (fixed hyper-parameters)."""
    # imported here: scikit-learn takes about 2 CPU-s to import, which chapters that only read the
    # cached ensemble need not pay
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor

    if name == "random_forest":
        return RandomForestRegressor(n_estimators=100, min_samples_leaf=3, max_features=0.5, n_jobs=2, random_state=seed)
    if name == "gradient_boosting":
        return GradientBoostingRegressor(n_estimators=150, max_depth=3, learning_rate=0.1, subsample=0.8, random_state=seed)
    raise ValueError(f"{name!r} is not a machine-learning member")


def single_threaded(estimator: Any) -> Any:
    """The fitted ``estimator`` set to predict in the calling thread (``n_jobs=1``), as a shallow copy.

    The copy shares the fitted trees; the caller's estimator is left as it is. Predictions are the
    same trees summed in a fixed order (a threaded sum's order varies from run to run, by at most
    a few units in the last place), without a thread pool per call, which on a shared two-core
    build costs CPU and, run from several threads, races on the process's warning filters.
    Estimators without ``n_jobs`` are returned unchanged.
    """
    if "n_jobs" not in estimator.get_params(deep=False):
        return estimator
    return copy.copy(estimator).set_params(n_jobs=1)


def fit_area_x_mean(data: FitData) -> tuple[dict[str, Any], None]:
    """Mean observed Rs per land-cover group (groups without records take the overall mean)."""
    rs = np.asarray(data.rs_g_m2_yr, float)
    n = len(readers.LANDCOVER_GROUPS)
    means, counts = models.fit_class_means(data.landcover_group, rs, n)
    overall = float(rs.mean())
    filled = [g for g in range(n) if counts[g] == 0]
    params: dict[str, Any] = {
        f"mean_{g}": (float(means[i]) if counts[i] else overall) for i, g in enumerate(readers.LANDCOVER_GROUPS)
    }
    params.update({f"n_{g}": int(counts[i]) for i, g in enumerate(readers.LANDCOVER_GROUPS)})
    params["classes_without_obs_use_overall_mean"] = ",".join(readers.LANDCOVER_GROUPS[g] for g in filled)
    return params, None


def predict_area_x_mean(params: dict[str, Any], estimator: Any, cells: CellData) -> np.ndarray:
    """The class mean of each cell's land-cover group."""
    lc = np.asarray(cells.landcover_group, int)
    if lc.size and lc.min() < 0:
        raise ValueError(f"{int((lc < 0).sum())} cells have no land-cover class")
    table = np.array([params[f"mean_{g}"] for g in readers.LANDCOVER_GROUPS])
    return table[lc]


def fit_linear(data: FitData) -> tuple[dict[str, Any], None]:
    """OLS of annual Rs on MAT and MAP."""
    t, p = np.asarray(data.tmean_c, float), np.asarray(data.prec_mm_month, float)
    return models.fit_linear_mat_map(t.mean(1), p.sum(1), data.rs_g_m2_yr), None


def predict_linear(params: dict[str, Any], estimator: Any, cells: CellData) -> np.ndarray:
    """:func:`globalrs.estimates.models.linear_mat_map` of the cells' MAT and MAP."""
    t, p = np.asarray(cells.tmean_c, float), np.asarray(cells.prec_mm_month, float)
    return models.linear_mat_map(t.mean(1), p.sum(1), params["intercept"], params["slope_per_c"], params["slope_per_mm"])


def _fit_formula(fitter: Callable[..., dict[str, float]]) -> FitFunction:
    def fit(data: FitData) -> tuple[dict[str, Any], None]:
        t, p = np.asarray(data.tmean_c, float), np.asarray(data.prec_mm_month, float)
        return fitter(t, p, np.asarray(data.rs_g_m2_yr, float)), None

    return fit


def monthly_raich_potter(params: dict[str, Any], tmean_c: np.ndarray, prec_mm_month: np.ndarray) -> np.ndarray:
    """Monthly Raich-Potter Rs of fitted parameters."""
    return models.raich_potter_monthly(tmean_c, prec_mm_month, params["f_g_m2_day"], params["q_per_c"], params["k_mm"])


def monthly_lloyd_taylor(params: dict[str, Any], tmean_c: np.ndarray, prec_mm_month: np.ndarray) -> np.ndarray:
    """Monthly Lloyd-Taylor Rs of fitted parameters."""
    return models.lloyd_taylor_monthly(tmean_c, prec_mm_month, params["f_g_m2_day"], params["e0_k"], params["k_mm"])


def monthly_temperature_optimum(params: dict[str, Any], tmean_c: np.ndarray, prec_mm_month: np.ndarray) -> np.ndarray:
    """Monthly temperature-optimum Rs of fitted parameters."""
    return models.temperature_optimum_monthly(
        tmean_c, prec_mm_month, params["f_g_m2_day"], params["a_per_c"], params["b_per_c2"], params["k_mm"]
    )


def _fit_learner(name: str) -> FitFunction:
    def fit(data: FitData) -> tuple[dict[str, Any], Any]:
        est = make_estimator(name, data.seed)
        est.fit(make_features(data.tmean_c, data.prec_mm_month, data.landcover_group), np.asarray(data.rs_g_m2_yr, float))
        importances = dict(zip(feature_names(), map(float, est.feature_importances_), strict=True))
        return {"importance_" + k: v for k, v in importances.items()}, est

    return fit


def predict_learner(params: dict[str, Any], estimator: Any, cells: CellData) -> np.ndarray:
    """A fitted scikit-learn member's prediction on the cells' features."""
    return estimator.predict(make_features(cells.tmean_c, cells.prec_mm_month, cells.landcover_group))


#: The paper's members, in the order of every table (colours: matplotlib's default cycle).
PAPER_MEMBERS: tuple[Member, ...] = (
    Member(
        "area_x_mean",
        "Area x Mean",
        "mean observed Rs per MODIS vegetation class x class area",
        fit=fit_area_x_mean,
        predict=predict_area_x_mean,
        covariates=landcover_covariates,
        label="Area x Mean",
        color="C0",
    ),
    Member(
        "linear_mat_map",
        "Linear model",
        "OLS of annual Rs on MAT and MAP",
        fit=fit_linear,
        predict=predict_linear,
        covariates=mat_map_covariates,
        label="Linear (MAT, MAP)",
        color="C1",
    ),
    Member(
        "raich_potter",
        "Semi-empirical model",
        "Raich & Potter (1995) F exp(QT) P/(K+P), monthly",
        fit=_fit_formula(models.fit_raich_potter),
        monthly=monthly_raich_potter,
        covariates=climate_covariates,
        label="Raich-Potter",
        color="C2",
    ),
    Member(
        "lloyd_taylor",
        "Semi-empirical model",
        "Lloyd & Taylor (1994) temperature response x P/(K+P), monthly",
        fit=_fit_formula(models.fit_lloyd_taylor),
        monthly=monthly_lloyd_taylor,
        covariates=climate_covariates,
        label="Lloyd-Taylor",
        color="C3",
    ),
    Member(
        "random_forest",
        "Machine learning",
        "random forest on climate and land-cover covariates",
        fit=_fit_learner("random_forest"),
        predict=predict_learner,
        covariates=feature_covariates,
        label="Random forest",
        color="C4",
    ),
    Member(
        "gradient_boosting",
        "Machine learning",
        "gradient boosting on climate and land-cover covariates",
        fit=_fit_learner("gradient_boosting"),
        predict=predict_learner,
        covariates=feature_covariates,
        label="Gradient boosting",
        color="C5",
    ),
    # The temperature-optimum form is fitted in the chapter: on annual SRDB totals its curvature
    # b goes to its bound 0, i.e. it collapses onto Raich-Potter, so Lloyd-Taylor is the second
    # semi-empirical member instead.
    Member(
        "temperature_optimum",
        "Semi-empirical model",
        "F exp(aT - bT^2) P/(K+P), monthly",
        fit=_fit_formula(models.fit_temperature_optimum),
        monthly=monthly_temperature_optimum,
        covariates=climate_covariates,
        label="Temperature optimum",
        color="C6",
        in_ensemble=False,
    ),
)

_REGISTRY: dict[str, Member] = {m.name: m for m in PAPER_MEMBERS}


# ----------------------------------------------------------------------------- the registry API


def register(member: Member) -> Member:
    """Add a member to the registry (after the existing ones); an existing name is refused."""
    if member.name in _REGISTRY:
        raise ValueError(f"a member named {member.name!r} is already registered")
    if "_gpp" in member.name:
        raise ValueError(f"{member.name!r}: the suffix '_gpp' is reserved for productivity variants")
    _REGISTRY[member.name] = member
    return member


def unregister(name: str) -> None:
    """Remove a member from the registry."""
    if name not in _REGISTRY:
        raise KeyError(f"no member named {name!r}")
    del _REGISTRY[name]


@contextmanager
def registered(*new: Member) -> Iterator[tuple[Member, ...]]:
    """Register members for a ``with`` block; the registry is restored afterwards."""
    saved = dict(_REGISTRY)
    try:
        yield tuple(register(m) for m in new)
    finally:
        _REGISTRY.clear()
        _REGISTRY.update(saved)


def get(name: str) -> Member:
    """The declaration of member ``name`` (a productivity variant ``<name>_gpp`` gives its base)."""
    base = name.removesuffix("_gpp")
    try:
        return _REGISTRY[base]
    except KeyError:
        raise ValueError(f"no member named {name!r}; registered: {list(_REGISTRY)}") from None


def ensemble_names() -> tuple[str, ...]:
    """Names of the ensemble's members, in declaration order."""
    return tuple(n for n, m in _REGISTRY.items() if m.in_ensemble)


def names_in_family(family: str, members: tuple[str, ...] | None = None) -> list[str]:
    """Names of the ensemble members (or of ``members``) of a method family, in order."""
    return [n for n in (members or ensemble_names()) if get(n).family == family]


def colors(names=None) -> dict[str, str]:
    """Member name -> figure colour for ``names`` (default: the ensemble)."""
    return {str(n): get(str(n)).color for n in (ensemble_names() if names is None else names)}


#: The members (name, in the ensemble) the result caches were keyed for before the registry
#: existed: with exactly these, :func:`cache_params` adds nothing, so those keys stay valid.
KEYED_BEFORE_REGISTRY: tuple[tuple[str, bool], ...] = (
    ("area_x_mean", True),
    ("linear_mat_map", True),
    ("raich_potter", True),
    ("lloyd_taylor", True),
    ("random_forest", True),
    ("gradient_boosting", True),
    ("temperature_optimum", False),
)


def cache_params() -> dict[str, Any]:
    """Cache-key parameters of the registry: none for the paper's members, else the member names.

    Every cache of results over the members adds these to its key, so adding, removing or
    excluding a member (in :data:`PAPER_MEMBERS` or with :func:`register`) never reuses a result
    computed without it. A changed formula under the same name still needs its module's version
    bumped (``ensemble.MODEL_VERSION``).
    """
    listed = tuple((name, m.in_ensemble) for name, m in _REGISTRY.items())
    if listed == KEYED_BEFORE_REGISTRY:
        return {}
    return {"members": [name for name, in_ensemble in listed if in_ensemble], "optional": [n for n, e in listed if not e]}


class MemberTable(Mapping):
    """Read-only live view ``name -> (method family, description)`` of registered members."""

    def __init__(self, in_ensemble: bool) -> None:
        self._in_ensemble = in_ensemble

    def _names(self) -> list[str]:
        return [n for n, m in _REGISTRY.items() if m.in_ensemble == self._in_ensemble]

    def __getitem__(self, name: str) -> tuple[str, str]:
        if name not in self._names():
            raise KeyError(name)
        member = _REGISTRY[name]
        return member.family, member.description

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __repr__(self) -> str:
        return f"MemberTable({dict(self)!r})"
