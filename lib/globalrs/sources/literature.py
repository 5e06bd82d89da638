"""The literature: the paper's Table 1 (methods of the 23 studies) and the published global totals.

Two tables ship with the package (``globalrs/tables``); they are facts transcribed from the
literature, not data computed by the book:

``methods_table.csv``
    The paper's Table 1, one row per study (``study_id`` 1-23), transcribed verbatim from the
    paper's text: decade, study, data, method, spatial and temporal resolution, the paper's
    reference numbers (``paper_refs``) and the book's bibliography keys (``bib_keys``, ``;``
    separated). ``pub_year`` is the publication year of the study's first reference in the paper's
    reference list (not a column of Table 1).

``global_rs_estimates.csv``
    One row per published global soil respiration total (Pg C yr-1), built from the project's
    reference compilation ``global_rs_estimates.csv`` by :func:`build_estimates_table`, with its
    ``source`` column kept. Several
    studies report more than one total (one row each, same ``study_id``). ``source_id`` is the
    compilation's id (``"1"``..``"23"`` for Table 1 studies, ``"new1"``, ``"new2"`` for studies
    found later); ``study_id`` is the Table 1 id or empty. Two UNVERIFIED rows carry no value: they
    stay in the file and :func:`screen_estimates` reports them as excluded. ``method_family`` is
    :func:`classify_method_family` applied to ``method`` (one of :data:`METHOD_FAMILIES`);
    ``estimate_type`` is ``"global total"`` or ``"hypothetical scenario"`` (Stell et al. 2021's
    total for an optimized, hypothetical sampling design, which is not an estimate of the actual
    flux).
"""

from __future__ import annotations

import itertools
import re
from importlib import resources
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

#: Method families of the book (the paper's Table 1 methods; ``mixed`` when one value is
#: attributed to two methods).
METHOD_FAMILIES: tuple[str, ...] = (
    "Carbon balance",
    "Area x Mean",
    "Linear model",
    "Semi-empirical model",
    "Statistical model",
    "Machine learning",
    "mixed",
)

#: Method names as written in Table 1 (``×`` or ``x``) mapped to the families above.
_METHOD_ALIASES: dict[str, str] = {
    "carbon balance": "Carbon balance",
    "area x mean": "Area x Mean",
    "area × mean": "Area x Mean",
    "linear model": "Linear model",
    "semi-empirical model": "Semi-empirical model",
    "statistical model": "Statistical model",
    "machine learning": "Machine learning",
}

#: Category vocabularies used to read the multi-valued cells of Table 1.
SPATIAL_RESOLUTIONS: tuple[str, ...] = ("NE", "0.5°", "0.1°", "5 min", "2 min", "30 s")
TEMPORAL_RESOLUTIONS: tuple[str, ...] = ("Annual", "Monthly", "Daily")
TABLE1_METHODS: tuple[str, ...] = (
    "Carbon balance",
    "Area × Mean",
    "Linear model",
    "Semi-empirical model",
    "Statistical model",
    "Machine learning",
)
#: Data-source classes (see :func:`classify_data_source`).
DATA_SOURCE_CLASSES: tuple[str, ...] = (
    "Author compilation",
    "SRDB only",
    "SRDB extended",
    "Other global database",
)

METHODS_TABLE_COLUMNS: tuple[str, ...] = (
    "study_id",
    "decade",
    "study",
    "pub_year",
    "data",
    "method",
    "spatial_resolution",
    "temporal_resolution",
    "paper_refs",
    "bib_keys",
    "note",
)
ESTIMATES_COLUMNS: tuple[str, ...] = (
    "source_id",
    "study_id",
    "study",
    "pub_year",
    "estimate_pg_c_yr",
    "low_pg_c_yr",
    "high_pg_c_yr",
    "period",
    "method",
    "method_family",
    "estimate_type",
    "data",
    "spatial_resolution",
    "temporal_resolution",
    "status",
    "source",
)
ESTIMATE_TYPES: tuple[str, ...] = ("global total", "hypothetical scenario")


def _read_table(filename: str) -> pd.DataFrame:
    path = resources.files("globalrs") / "tables" / filename
    with resources.as_file(path) as real_path:
        return pd.read_csv(real_path, keep_default_na=False, na_values=[""])


def _check_columns(df: pd.DataFrame, expected: Sequence[str], name: str) -> None:
    missing = [c for c in expected if c not in df.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; found {list(df.columns)}")


def read_methods_table() -> pd.DataFrame:
    """Return the paper's Table 1: one row per study, 23 rows.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`METHODS_TABLE_COLUMNS`; ``study_id`` and ``pub_year`` are integers,
        ``note`` is empty except for study 23 (the table's footnote c).

    Raises
    ------
    ValueError
        If the packaged file lacks a column, or its ids are not exactly 1..23.
    """
    df = _read_table("methods_table.csv")
    _check_columns(df, METHODS_TABLE_COLUMNS, "methods_table.csv")
    df["study_id"] = df["study_id"].astype(int)
    df["pub_year"] = df["pub_year"].astype(int)
    if sorted(df["study_id"]) != list(range(1, 24)):
        raise ValueError("methods_table.csv: study_id must be exactly 1..23, once each")
    df["note"] = df["note"].fillna("")
    return df.reset_index(drop=True)


def read_global_rs_estimates() -> pd.DataFrame:
    """Return every published global soil respiration total, one row per estimate.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ESTIMATES_COLUMNS`. ``estimate_pg_c_yr`` (Pg C yr-1) is float and NaN only
        for UNVERIFIED rows; ``study_id`` and ``pub_year`` are nullable integers (empty for the
        studies outside Table 1 whose year is unknown).

    Raises
    ------
    ValueError
        On a missing column, an unknown ``method_family`` or ``estimate_type``, or a VERIFIED row
        without a value.
    """
    df = _read_table("global_rs_estimates.csv")
    _check_columns(df, ESTIMATES_COLUMNS, "global_rs_estimates.csv")
    df["source_id"] = df["source_id"].astype(str)
    df["study_id"] = df["study_id"].astype("Int64")
    df["pub_year"] = df["pub_year"].astype("Int64")
    for col in ("estimate_pg_c_yr", "low_pg_c_yr", "high_pg_c_yr"):
        df[col] = df[col].astype(float)
    bad_family = sorted(set(df["method_family"]) - set(METHOD_FAMILIES))
    if bad_family:
        raise ValueError(f"global_rs_estimates.csv: unknown method_family {bad_family}")
    bad_type = sorted(set(df["estimate_type"]) - set(ESTIMATE_TYPES))
    if bad_type:
        raise ValueError(f"global_rs_estimates.csv: unknown estimate_type {bad_type}")
    no_value = df["estimate_pg_c_yr"].isna() & (df["status"] == "VERIFIED")
    if no_value.any():
        raise ValueError(f"global_rs_estimates.csv: VERIFIED row(s) without a value: {df.loc[no_value, 'study'].tolist()}")
    return df.reset_index(drop=True)


#: Columns the reference compilation of published totals must have (:func:`build_estimates_table`).
REFERENCE_COLUMNS = (
    "id",
    "study",
    "pub_year",
    "estimate_pg_c_yr",
    "low",
    "high",
    "period",
    "method",
    "data",
    "spatial_resolution",
    "temporal_resolution",
    "status",
    "source",
)


def build_estimates_table(reference: pd.DataFrame) -> pd.DataFrame:
    """Build the packaged ``global_rs_estimates.csv`` from the project's reference compilation.

    Parameters
    ----------
    reference : pandas.DataFrame
        The reference compilation read as text (``dtype=str, keep_default_na=False``), columns
        ``id, study, pub_year, estimate_pg_c_yr, low, high, period, method, data,
        spatial_resolution, temporal_resolution, status, source``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ESTIMATES_COLUMNS`, one row per reference row (nothing dropped):
        ``source_id`` = ``id``; ``study_id`` = ``id`` when it is a Table 1 number, else empty;
        ``low``/``high`` renamed with their units; ``method_family`` =
        :func:`classify_method_family` of ``method``; ``estimate_type`` = ``"hypothetical
        scenario"`` when ``period`` says "hypothetical", else ``"global total"``.
    """
    _check_columns(reference, REFERENCE_COLUMNS, "reference compilation")
    ids = reference["id"].astype(str).str.strip()
    table = pd.DataFrame(
        {
            "source_id": ids,
            "study_id": ids.where(ids.str.fullmatch(r"\d+"), ""),
            "study": reference["study"],
            "pub_year": reference["pub_year"],
            "estimate_pg_c_yr": reference["estimate_pg_c_yr"],
            "low_pg_c_yr": reference["low"],
            "high_pg_c_yr": reference["high"],
            "period": reference["period"],
            "method": reference["method"],
            "method_family": reference["method"].map(classify_method_family),
            "estimate_type": np.where(
                reference["period"].str.contains("hypothetical", case=False), "hypothetical scenario", "global total"
            ),
            "data": reference["data"],
            "spatial_resolution": reference["spatial_resolution"],
            "temporal_resolution": reference["temporal_resolution"],
            "status": reference["status"],
            "source": reference["source"],
        }
    )
    return table[list(ESTIMATES_COLUMNS)].reset_index(drop=True)


def classify_method_family(method: str) -> str:
    """Map a method description to one of :data:`METHOD_FAMILIES`.

    Parenthesised parts such as ``"(inferred)"``, ``"(random forest)"`` or Table 1's supporting
    ``"(Machine learning)"`` are ignored; a description naming two different methods joined by
    ``&`` is ``"mixed"``.

    Parameters
    ----------
    method : str
        For example ``"Semi-empirical model (inferred)"`` or ``"Area × Mean"``.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If a part of the description is not a known method.
    """
    parts = [re.sub(r"\([^)]*\)", "", part).strip().lower() for part in str(method).split("&")]
    families = []
    for part in filter(None, parts):
        if part not in _METHOD_ALIASES:
            raise ValueError(f"unknown method {part!r} in {method!r}; known: {sorted(_METHOD_ALIASES)}")
        families.append(_METHOD_ALIASES[part])
    if not families:
        raise ValueError(f"no method named in {method!r}")
    return families[0] if len(set(families)) == 1 else "mixed"


def extract_categories(cell: str, vocabulary: Iterable[str]) -> list[str]:
    """Return the entries of ``vocabulary`` that occur in a Table 1 cell, in vocabulary order.

    Used for the multi-valued cells (``"Annual & Monthly & Daily"``,
    ``"NE (0.1° (~10 km))"``): a study counts once for each category it names.

    Raises
    ------
    ValueError
        If the cell names none of the categories (a transcription error must not vanish).
    """
    found = [term for term in vocabulary if re.search(rf"(?<![\w.]){re.escape(term)}(?![\w])", cell)]
    if not found:
        raise ValueError(f"cell {cell!r} contains none of {list(vocabulary)}")
    return found


def classify_data_source(cell: str) -> str:
    """Classify a Table 1 ``data`` cell into one of :data:`DATA_SOURCE_CLASSES`.

    ``"Compilation"`` -> ``"Author compilation"``; ``"SRDB"`` alone -> ``"SRDB only"``; SRDB plus
    other compilations (``"SRDB + C + E"``) -> ``"SRDB extended"``; the monthly/daily databases
    derived from SRDB (MGRsD, DGRsD) -> ``"Other global database"``.
    """
    parts = [p.strip() for p in re.split(r"\+", cell)]
    if parts == ["Compilation"]:
        return "Author compilation"
    if parts == ["SRDB"]:
        return "SRDB only"
    if parts[0] == "SRDB":
        return "SRDB extended"
    if re.search(r"MGRsD|DGRsD", cell):
        return "Other global database"
    raise ValueError(f"unknown data source {cell!r}")


def count_categories_by_decade(methods: pd.DataFrame, column: str, vocabulary: Sequence[str]) -> pd.DataFrame:
    """Count studies per decade (rows) and category (columns) of a multi-valued Table 1 column.

    A study naming two categories counts once in each, so a row can sum to more than its
    number of studies.
    """
    records = [
        (row["decade"], category)
        for _, row in methods.iterrows()
        for category in extract_categories(str(row[column]), vocabulary)
    ]
    counts = pd.crosstab(
        pd.Series([r[0] for r in records], name="decade"),
        pd.Series([r[1] for r in records], name=column),
    )
    decades = sorted(methods["decade"].unique())
    return counts.reindex(index=decades, columns=list(vocabulary), fill_value=0)


def screen_estimates(df: pd.DataFrame, max_pg: float | None, exclude_scenarios: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split estimates into those counted and those excluded, each exclusion with its reason.

    Rules, applied in this order (a row gets the first that applies):

    1. ``"no value (total not verified)"``: ``estimate_pg_c_yr`` is NaN;
    2. ``"hypothetical scenario"``: ``estimate_type`` is not ``"global total"`` (when
       ``exclude_scenarios``);
    3. ``"above max_pg (screened)"``: value ``> max_pg``. The paper states its range "excluding
       screened estimates"; pass its stated maximum (:data:`globalrs.reproduction.paper.MAX_COUNTED_PG_C_YR`)
       to remove the values above it. ``max_pg=None`` disables it.

    Returns
    -------
    kept, excluded : pandas.DataFrame
        ``excluded`` has an extra ``exclusion_reason`` column. ``len(kept) + len(excluded) ==
        len(df)``.
    """
    reason = pd.Series(pd.NA, index=df.index, dtype="object")
    value = df["estimate_pg_c_yr"].astype(float)
    reason[value.isna()] = "no value (total not verified)"
    if exclude_scenarios:
        is_scenario = df["estimate_type"] != "global total"
        reason[reason.isna() & is_scenario] = "hypothetical scenario"
    if max_pg is not None:
        reason[reason.isna() & (value > max_pg)] = f"above {max_pg:g} Pg C yr-1 (screened)"
    excluded = df[reason.notna()].copy()
    excluded["exclusion_reason"] = reason[reason.notna()].astype(str)
    return df[reason.isna()].copy(), excluded


def split_by_period(df: pd.DataFrame, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split estimates by publication year: ``before`` has ``pub_year < year``, ``after`` has
    ``pub_year >= year`` (so a study published in ``year`` counts as "after").

    The paper's pre-2010 statistics (:mod:`globalrs.reproduction.paper`, claims ``totals.pre2010_*``) are
    reproduced only with Bond-Lamberty & Thomson (2010) in the "after" group.

    Raises
    ------
    ValueError
        If a row has no ``pub_year`` (it could be put in neither group).
    """
    if df["pub_year"].isna().any():
        raise ValueError(f"split_by_period: rows without pub_year: {df.loc[df['pub_year'].isna(), 'study'].tolist()}")
    years = df["pub_year"].astype(int)
    return df[years < year].copy(), df[years >= year].copy()


def summarize_estimates(values: Iterable[float]) -> pd.Series:
    """Return ``n``, ``mean``, ``sd`` (sample, ddof=1), ``min`` and ``max`` of global totals.

    Raises
    ------
    ValueError
        If ``values`` is empty or contains NaN.
    """
    arr = np.asarray(list(values), dtype=float)
    if arr.size == 0:
        raise ValueError("summarize_estimates: no values")
    if np.isnan(arr).any():
        raise ValueError("summarize_estimates: NaN among the values; screen them first")
    sd = float(np.std(arr, ddof=1)) if arr.size > 1 else float("nan")
    return pd.Series({"n": int(arr.size), "mean": float(arr.mean()), "sd": sd, "min": float(arr.min()), "max": float(arr.max())})


def compare_method_families(a: Iterable[float], b: Iterable[float]) -> pd.Series:
    """Compare two groups of totals with Welch's t test and the Mann-Whitney U test (two-sided).

    Returns
    -------
    pandas.Series
        ``n_a, mean_a, n_b, mean_b, welch_t, welch_p, mannwhitney_u, mannwhitney_p``.

    Raises
    ------
    ValueError
        If a group has fewer than two values or contains NaN.
    """
    xa = np.asarray(list(a), dtype=float)
    xb = np.asarray(list(b), dtype=float)
    for name, x in (("a", xa), ("b", xb)):
        if x.size < 2 or np.isnan(x).any():
            raise ValueError(f"compare_method_families: group {name} needs >= 2 values and no NaN")
    from scipy import stats  # here, not at import: scipy.stats costs half a CPU-second in every chapter kernel

    welch = stats.ttest_ind(xa, xb, equal_var=False)
    mwu = stats.mannwhitneyu(xa, xb, alternative="two-sided")
    return pd.Series(
        {
            "n_a": int(xa.size),
            "mean_a": float(xa.mean()),
            "n_b": int(xb.size),
            "mean_b": float(xb.mean()),
            "welch_t": float(welch.statistic),
            "welch_p": float(welch.pvalue),
            "mannwhitney_u": float(mwu.statistic),
            "mannwhitney_p": float(mwu.pvalue),
        }
    )


def enumerate_estimate_choices(df: pd.DataFrame, max_combinations: int = 100_000) -> pd.DataFrame:
    """Enumerate every way of keeping exactly one estimate per study, with its statistics.

    Parameters
    ----------
    df : pandas.DataFrame
        Estimates with ``study_id``, ``study`` and ``estimate_pg_c_yr`` (no NaN); rows of the same
        ``study_id`` are alternatives.
    max_combinations : int
        Refuse (ValueError) rather than build more rows than this.

    Returns
    -------
    pandas.DataFrame
        One row per combination: ``n, mean, sd, min, max`` of the chosen values plus, for each
        study with several estimates, a column ``choice_<study_id>`` holding the chosen row's
        ``study`` label.
    """
    if df["estimate_pg_c_yr"].isna().any():
        raise ValueError("enumerate_estimate_choices: NaN estimates; screen them first")
    groups = [(sid, g) for sid, g in df.groupby("study_id", sort=True)]
    n_comb = int(np.prod([len(g) for _, g in groups]))
    if n_comb > max_combinations:
        raise ValueError(f"enumerate_estimate_choices: {n_comb} combinations > max_combinations={max_combinations}")
    multi = [sid for sid, g in groups if len(g) > 1]
    options = [list(zip(g["estimate_pg_c_yr"].astype(float), g["study"].astype(str), strict=True)) for _, g in groups]
    rows = []
    for combo in itertools.product(*options):
        stats_ = summarize_estimates(value for value, _ in combo)
        record = stats_.to_dict()
        for (sid, _), (_, label) in zip(groups, combo, strict=True):
            if sid in multi:
                record[f"choice_{sid}"] = label
        rows.append(record)
    out = pd.DataFrame(rows)
    out["n"] = out["n"].astype(int)
    return out


def cumulative_mean(df: pd.DataFrame, since_year: int | None = None) -> pd.DataFrame:
    """Cumulative mean of the estimates by publication year.

    For each distinct ``pub_year`` (``>= since_year`` if given), the mean and count of all
    estimates published in that year or earlier (and not before ``since_year``).

    Returns
    -------
    pandas.DataFrame
        Columns ``pub_year``, ``n``, ``cumulative_mean_pg_c_yr``.
    """
    data = df[["pub_year", "estimate_pg_c_yr"]].dropna(subset=["pub_year"])
    if data["estimate_pg_c_yr"].isna().any():
        raise ValueError("cumulative_mean: NaN estimates; screen them first")
    data = data.astype({"pub_year": int, "estimate_pg_c_yr": float})
    if since_year is not None:
        data = data[data["pub_year"] >= since_year]
    by_year = data.groupby("pub_year")["estimate_pg_c_yr"].agg(["sum", "count"]).sort_index()
    n = by_year["count"].cumsum()
    return pd.DataFrame(
        {
            "pub_year": by_year.index.to_numpy(),
            "n": n.to_numpy().astype(int),
            "cumulative_mean_pg_c_yr": (by_year["sum"].cumsum() / n).to_numpy(),
        }
    )


def studies_with_several_estimates(df: pd.DataFrame) -> pd.DataFrame:
    """The studies of ``df`` that contribute more than one estimate, with those estimates.

    Returns
    -------
    pandas.DataFrame
        One row per such study (index ``study_id``): ``estimates`` (how many) and ``values``
        (the study labels and totals, ``;`` separated).
    """
    several = df.groupby("study_id").filter(lambda g: len(g) > 1)
    return several.groupby("study_id").apply(
        lambda g: pd.Series(
            {
                "estimates": len(g),
                "values": "; ".join(f"{s} ({v:g})" for s, v in zip(g["study"], g["estimate_pg_c_yr"], strict=True)),
            }
        ),
        include_groups=False,
    )


def summarize_estimate_choices(
    choices: pd.DataFrame, target_mean: float, target_sd: float, target_range: tuple[float, float]
) -> pd.Series:
    """How the one-estimate-per-study combinations of :func:`enumerate_estimate_choices` spread,
    and how many reach a target (the paper's rounded mean, SD and range).

    A combination "reaches" the mean when its mean rounds to ``target_mean`` (0 decimals), and all
    targets when also its SD rounds (1 decimal) to ``target_sd`` and its minimum and maximum round
    (0 decimals) to the ends of ``target_range``.
    """
    reaches_mean = choices["mean"].round() == round(target_mean)
    reaches_all = (
        reaches_mean
        & (choices["sd"].round(1) == round(target_sd, 1))
        & (choices["min"].round() == round(target_range[0]))
        & (choices["max"].round() == round(target_range[1]))
    )
    return pd.Series(
        {
            "combinations": len(choices),
            "mean: min": choices["mean"].min(),
            "mean: median": choices["mean"].median(),
            "mean: max": choices["mean"].max(),
            "SD: min": choices["sd"].min(),
            "SD: max": choices["sd"].max(),
            "mean reaches target": int(reaches_mean.sum()),
            "mean, SD and range reach target": int(reaches_all.sum()),
        }
    )


def cite_role(bib_keys: str) -> str:
    """A MyST ``{cite:t}`` role for a study's ``;``-separated bibliography keys (one role per study).

    Raises
    ------
    ValueError
        If no key is given.
    """
    keys = [k.strip() for k in str(bib_keys).split(";") if k.strip()]
    if not keys:
        raise ValueError("cite_role: no bibliography key")
    return "{cite:t}`" + ",".join(keys) + "`"
