"""The paper's quantitative claims that the book checks: the one home of the paper's numbers.

Every number, range, set or statement of Hashimoto, Ito & Nishina (2023) that a chapter tests is a
:class:`Claim` in :data:`CLAIMS`: the paper's value and units, the fragment of the paper's text it
comes from (verbatim, so a test can find it in the text), the chapter and section that test it,
the tolerance, and what stands in when the book cannot test the claim as stated. Chapters and
tests read the values from here; no chapter carries its own copy of a paper value.

The chapters write what they find with :func:`globalrs.record.record` (one record per claim,
named by ``claim=``); :func:`score_claims` sets each claim beside its record and gives it a
status (:data:`STATUSES`), and :func:`check_scorecard` refuses a scorecard with a claim without
a row or status, a "reproduced" row outside its tolerance or a "differs" row without a reason.

A few paper constants used by figures and helpers also live here: :data:`NAMED_LOW_YEARS`,
:data:`NAMED_HIGH_YEARS`, :data:`HIGH_CV_REGIONS` and :data:`CV_THRESHOLD`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

#: The paper's reference text (not shipped with the book; tests look for the quotes in it when
#: a copy is configured).
PAPER = "Hashimoto, Ito & Nishina (2023), Commun. Earth Environ. 4:460"

#: Status of a claim on the scorecard, in the order the scorecard counts them.
STATUSES: tuple[str, ...] = ("reproduced", "reconstructed", "differs", "not reproducible offline")

Kind = Literal["value", "range", "set", "statement"]

#: What the claims need beyond the offline data, and the run that would settle them.
ONLINE_RUNS: dict[str, str] = {
    "published maps": (
        "rebuild the book on a machine with internet access with GLOBALRS_ENSEMBLE=published: the "
        "chapter then runs on the paper's published maps (Zenodo 10.5281/zenodo.8404747) instead of "
        "the standardized ensemble"
    ),
    "nine series": (
        "the paper's nine annual series of Fig. 4 are not published as data (neither offline nor in "
        "the map collection); only the authors' series would settle it. Offline, one of the nine "
        "(Lei et al. 2021) and the book's own series stand in"
    ),
}

# ----------------------------------------------------------------------------- paper constants

#: The years the paper names as common lows and highs of the Rs anomalies (Fig. 4a).
NAMED_LOW_YEARS: tuple[tuple[int, ...], ...] = ((1984, 1985), (1992,))
NAMED_HIGH_YEARS: tuple[tuple[int, ...], ...] = ((1998,), (2010,))
#: The regions the paper reports with a CV above 25 % (Fig. 3).
HIGH_CV_REGIONS: tuple[str, ...] = ("B2", "C2", "C5")
#: The paper's CV threshold (a fraction).
CV_THRESHOLD = 0.25
#: p and R2 of the paper's lowest and highest 1980-2010 trend (Results, Fig. 4).
TREND_EXTREMES = {"p": (0.13, 0.003), "r2": (0.05, 0.61)}
#: p and R2 of the paper's lowest and highest temperature sensitivity (Supplementary Fig. 4).
SENSITIVITY_EXTREMES = {"p": (0.005, 0.004), "r2": (0.23, 0.58)}
#: The number of published maps the paper compares (Fig. 2: "estimated in 11 studies").
N_PUBLISHED_MAPS = 11
#: The number of annual series the paper compares in Fig. 4.
N_PAPER_SERIES = 9
#: The year that splits the published totals into "before" and "after" 2010.
SPLIT_YEAR = 2010
#: The paper's maximum of the counted totals, used by the book's screening rule 3.
MAX_COUNTED_PG_C_YR = 101.0


@dataclass(frozen=True)
class Claim:
    """One quantitative claim of the paper that a chapter tests.

    Attributes
    ----------
    claim_id
        ``<chapter>.<name>``; the chapter records its finding with ``record(..., claim=claim_id)``.
    chapter
        Notebook stem of the chapter that tests the claim (``notebooks/<chapter>.ipynb``).
    section
        Anchor of the section that shows it (``<chapter>.html#<section>``).
    statement
        The claim in a few words.
    quote
        A verbatim fragment of the paper's text holding the claim.
    kind
        ``"value"`` (a number), ``"range"`` (low, high), ``"set"`` (labels) or ``"statement"``
        (the chapter records True when the statement holds in its data).
    value
        The paper's value: a number, a (low, high) pair, a tuple of labels, or True.
    units
        Units of the value ("" for sets and statements).
    tolerance
        Absolute tolerance of a value or of each end of a range (default: half a unit of the
        paper's last printed digit, :attr:`decimals`).
    decimals
        Decimals the paper prints (sets the default tolerance).
    requires
        ``""`` when the offline data suffice, else a key of :data:`ONLINE_RUNS`.
    reconstruction
        Non-empty when the book's value rests on a choice of the book standing in for one the
        paper does not state; the text says which. A match is then "reconstructed", not
        "reproduced". ``{name}`` placeholders are filled from the chapter's record displays.
    differs_reason
        Why the book's value differs from the paper's, when it does (``{name}`` placeholders as
        above). A "differs" row without a reason fails :func:`check_scorecard`.
    """

    claim_id: str
    chapter: str
    section: str
    statement: str
    quote: str
    kind: Kind
    value: Any
    units: str = ""
    tolerance: float | None = None
    decimals: int = 0
    requires: str = ""
    reconstruction: str = ""
    differs_reason: str = ""

    def __post_init__(self) -> None:
        if not self.claim_id.startswith(self.chapter + "."):
            raise ValueError(f"claim id {self.claim_id!r} must start with its chapter {self.chapter!r}")
        if self.kind not in ("value", "range", "set", "statement"):
            raise ValueError(f"claim {self.claim_id}: unknown kind {self.kind!r}")
        if self.requires and self.requires not in ONLINE_RUNS:
            raise ValueError(f"claim {self.claim_id}: unknown requirement {self.requires!r}")
        if self.kind == "range" and not (isinstance(self.value, tuple) and len(self.value) == 2):
            raise ValueError(f"claim {self.claim_id}: a range needs a (low, high) value")

    @property
    def abs_tolerance(self) -> float | None:
        """Tolerance of a value or range end (None for sets and statements)."""
        if self.kind not in ("value", "range"):
            return None
        return self.tolerance if self.tolerance is not None else 0.5 * 10.0 ** (-self.decimals)

    @property
    def low(self) -> float:
        """Lower end of a range claim."""
        return float(self.value[0])

    @property
    def high(self) -> float:
        """Upper end of a range claim."""
        return float(self.value[1])

    def paper_text(self) -> str:
        """The paper's value as the scorecard prints it."""
        if self.kind == "value":
            return f"{self.value:.{self.decimals}f} {self.units}".strip()
        if self.kind == "range":
            return f"{self.low:.{self.decimals}f} to {self.high:.{self.decimals}f} {self.units}".strip()
        if self.kind == "set":
            return ", ".join(self.value)
        return "holds"


_PG = "Pg C yr-1"
_PG_MO = "Pg C month-1"

#: Every claim the book checks, in the order of the chapters.
CLAIMS: tuple[Claim, ...] = (
    # ------------------------------------------------------------------ Table 1 (methods_table)
    Claim(
        "methods_table.n_studies",
        "methods_table",
        "table-1",
        "23 studies reported a global total",
        "a total of 23 studies have reported global estimates of soil respiration",
        "value",
        23,
        "studies",
    ),
    Claim(
        "methods_table.srdb_since_2010",
        "methods_table",
        "checking-the-paper-s-description-against-the-table",
        "since the first SRDB (2010) most estimates are SRDB-based",
        "most estimates were based on the SRDB, including solely the SRDB or extended SRDB",
        "statement",
        True,
    ),
    Claim(
        "methods_table.ml_late_2010s",
        "methods_table",
        "checking-the-paper-s-description-against-the-table",
        "machine learning replaced other methods from the late 2010s",
        "From the late 2010s, machine learning approaches replaced other methods.",
        "statement",
        True,
    ),
    Claim(
        "methods_table.semi_empirical_before",
        "methods_table",
        "checking-the-paper-s-description-against-the-table",
        "semi-empirical models were the main approach before",
        "Before that, semi-empirical modeling was the primary approach.",
        "statement",
        True,
    ),
    Claim(
        "methods_table.half_degree_most_common",
        "methods_table",
        "checking-the-paper-s-description-against-the-table",
        "0.5 degree is the most common resolution",
        "the most commonly used resolution was 0.5°",
        "statement",
        True,
    ),
    Claim(
        "methods_table.thirty_seconds_late",
        "methods_table",
        "checking-the-paper-s-description-against-the-table",
        "30 arc-second resolution appears from the late 2010s",
        "the very fine spatial resolution of 30 seconds (~1 km) was also adopted from the late 2010s",
        "statement",
        True,
    ),
    # ------------------------------------------------------------------ totals
    Claim(
        "totals.all_range",
        "totals",
        "headline-statistics-beside-the-paper-s",
        "range of all counted estimates",
        "range: 68–101 Pg C yr<sup>-1</sup>, excluding screened estimates",
        "range",
        (68, 101),
        _PG,
        reconstruction="which estimates are 'screened' is not stated; the book's rules (no value, "
        "hypothetical scenario, above 101) stand in",
    ),
    Claim(
        "totals.pre2010_mean",
        "totals",
        "headline-statistics-beside-the-paper-s",
        "mean before 2010",
        "mean value 74 Pg C yr<sup>-1</sup>, range: 68–80 Pg C yr<sup>-1</sup>",
        "value",
        74,
        _PG,
        reconstruction="the paper does not say whether 2010 counts as 'before'; the book puts 2010 "
        "in the later group (with 2010 before, the mean would be {mean_with_2010_before})",
    ),
    Claim(
        "totals.pre2010_range",
        "totals",
        "headline-statistics-beside-the-paper-s",
        "range before 2010",
        "mean value 74 Pg C yr<sup>-1</sup>, range: 68–80 Pg C yr<sup>-1</sup>",
        "range",
        (68, 80),
        _PG,
    ),
    Claim(
        "totals.pre2010_sd",
        "totals",
        "headline-statistics-beside-the-paper-s",
        "SD before 2010",
        "standard deviation before/after 2010: 5.2, 9.0 Pg C yr<sup>-1</sup>",
        "value",
        5.2,
        _PG,
        decimals=1,
    ),
    Claim(
        "totals.pre2010_majority_below_80",
        "totals",
        "headline-statistics-beside-the-paper-s",
        "most estimates before 2010 are below 80",
        "Before 2010, the majority of estimates were below 80 Pg C yr<sup>-1</sup>",
        "statement",
        True,
    ),
    Claim(
        "totals.post2010_mean",
        "totals",
        "headline-statistics-beside-the-paper-s",
        "mean after 2010",
        "The mean estimate published after 2010 is 89 Pg C yr<sup>-1</sup>",
        "value",
        89,
        _PG,
        differs_reason="the paper does not say which of a study's several estimates it counted; "
        "pooling every counted estimate gives {post2010_mean}, and one estimate per study gives "
        "{choice_mean_min} to {choice_mean_max}, but no single choice also keeps SD 9.0 and the "
        "minimum 68",
    ),
    Claim(
        "totals.post2010_range",
        "totals",
        "headline-statistics-beside-the-paper-s",
        "range after 2010",
        "The mean estimate published after 2010 is 89 Pg C yr<sup>-1</sup> (range: 68–101 Pg C yr<sup>-1</sup>)",
        "range",
        (68, 101),
        _PG,
    ),
    Claim(
        "totals.post2010_sd",
        "totals",
        "headline-statistics-beside-the-paper-s",
        "SD after 2010",
        "standard deviation before/after 2010: 5.2, 9.0 Pg C yr<sup>-1</sup>",
        "value",
        9.0,
        _PG,
        decimals=1,
    ),
    Claim(
        "totals.post2010_both_sides_of_80",
        "totals",
        "headline-statistics-beside-the-paper-s",
        "estimates after 2010 lie both above and below 80",
        "The global estimates after 2010 contain both higher and lower values (i.e., below 80 Pg C yr<sup>-1</sup>)",
        "statement",
        True,
    ),
    Claim(
        "totals.semi_empirical_mean",
        "totals",
        "semi-empirical-including-linear-against-machine-learning",
        "mean of semi-empirical (incl. linear) estimates",
        "semi-empirical (including linear model; mean value 90 Pg C yr<sup>-1</sup>, range: 80–98",
        "value",
        90,
        _PG,
        reconstruction="the paper does not list the estimates in each group; the book's SRDB-based "
        "grouping stands in (by Table 1's own method labels: {family_semi_mean})",
    ),
    Claim(
        "totals.semi_empirical_range",
        "totals",
        "semi-empirical-including-linear-against-machine-learning",
        "range of semi-empirical (incl. linear) estimates",
        "semi-empirical (including linear model; mean value 90 Pg C yr<sup>-1</sup>, range: 80–98",
        "range",
        (80, 98),
        _PG,
        reconstruction="SRDB-based grouping (by Table 1's own method labels: {family_semi_range})",
    ),
    Claim(
        "totals.machine_learning_mean",
        "totals",
        "semi-empirical-including-linear-against-machine-learning",
        "mean of machine-learning estimates",
        "machine-learning estimates (mean value: 89 Pg C yr<sup>-1</sup>, range: 73–101",
        "value",
        89,
        _PG,
        reconstruction="one main estimate per SRDB-based machine-learning study, Huang et al. (2020) "
        "counted as machine learning (by Table 1's own method labels: {family_ml_mean})",
    ),
    Claim(
        "totals.machine_learning_range",
        "totals",
        "semi-empirical-including-linear-against-machine-learning",
        "range of machine-learning estimates",
        "machine-learning estimates (mean value: 89 Pg C yr<sup>-1</sup>, range: 73–101",
        "range",
        (73, 101),
        _PG,
        reconstruction="as for the mean (by Table 1's own method labels: {family_ml_range})",
    ),
    Claim(
        "totals.semi_vs_ml_not_significant",
        "totals",
        "semi-empirical-including-linear-against-machine-learning",
        "semi-empirical and machine-learning estimates do not differ significantly",
        "machine-learning estimates (mean value: 89 Pg C yr<sup>-1</sup>, range: 73–101 Pg C yr<sup>-1</sup>) "
        "was not significant",
        "statement",
        True,
        reconstruction="the paper names no test; Welch's t and Mann-Whitney U at 5 % stand in, for both groupings",
    ),
    # ------------------------------------------------------------------ regional_cv
    Claim(
        "regional_cv.n_regions",
        "regional_cv",
        "the-regions-a-reconstruction",
        "14 regions",
        "We divided the land into 14 regions based on the continents, latitudes, and primary biomes",
        "value",
        14,
        "regions",
        reconstruction="the boundaries are not published; the book's region table stands in",
    ),
    Claim(
        "regional_cv.high_cv_regions",
        "regional_cv",
        "which-regions-exceed-25-comparison-with-the-paper",
        "regions with CV above 25 %",
        "regions B2, C2, and C5 had higher values (>25%)",
        "set",
        HIGH_CV_REGIONS,
        requires="published maps",
    ),
    Claim(
        "regional_cv.most_below_25",
        "regional_cv",
        "which-regions-exceed-25-comparison-with-the-paper",
        "most regions have a CV below 25 %",
        "most regions had CV values below 25%",
        "statement",
        True,
        requires="published maps",
    ),
    Claim(
        "regional_cv.high_cv_regions_few_records",
        "regional_cv",
        "supplementary-fig-3-observations-per-region-against-cv",
        "B2, C2 and C5 hold fewer observations than most regions",
        "While regions B2, C2, and C5 had fewer data points",
        "statement",
        True,
        reconstruction="'fewer' read as below the median region; filtered SRDB-V5 records in the book's "
        "reconstructed regions stand in for the paper's unstated data points",
    ),
    Claim(
        "regional_cv.records_not_correlated",
        "regional_cv",
        "supplementary-fig-3-observations-per-region-against-cv",
        "the number of observations does not always go with the CV",
        "the number of data points in each region did not always correlate with CV",
        "statement",
        True,
        requires="published maps",
    ),
    # ------------------------------------------------------------------ temporal_trends
    Claim(
        "temporal_trends.anomaly_range",
        "temporal_trends",
        "anomalies-the-paper-s-fig-4a",
        "annual anomalies span about -5 to +5",
        "the interannual variability of soil respiration varies from  $-5 \\text{ Pg C yr}^{-1}$  to  $+5",
        "range",
        (-5, 5),
        _PG,
        requires="nine series",
    ),
    Claim(
        "temporal_trends.named_years",
        "temporal_trends",
        "anomalies-the-paper-s-fig-4a",
        "all series low around 1984-1985 and 1992, high in 1998 and 2010",
        "all estimates synchronized in some years, such as low in around 1984–1985 and 1992 and high in 1998 and 2010",
        "statement",
        True,
        requires="nine series",
    ),
    Claim(
        "temporal_trends.trend_range",
        "temporal_trends",
        "trends-over-1980-2010",
        "1980-2010 trends range 0.038 to 0.23",
        "the trends ranged from  $0.038 \\text{ Pg C yr}^{-1}$",
        "range",
        (0.038, 0.23),
        "Pg C yr-2",
        tolerance=0.005,
        decimals=3,
        requires="nine series",
    ),
    Claim(
        "temporal_trends.trend_mean",
        "temporal_trends",
        "trends-over-1980-2010",
        "mean 1980-2010 trend",
        "with a mean of  $0.11 \\text{ Pg C yr}^{-1}$",
        "value",
        0.11,
        "Pg C yr-2",
        decimals=2,
        requires="nine series",
    ),
    Claim(
        "temporal_trends.all_but_one_increasing",
        "temporal_trends",
        "trends-over-1980-2010",
        "all but one series increase",
        "All but one estimate showed an increasing trend over time",
        "statement",
        True,
        requires="nine series",
    ),
    Claim(
        "temporal_trends.sensitivity_range",
        "temporal_trends",
        "temperature-sensitivity",
        "temperature sensitivity ranges 1.9 to 5.0",
        "ranged from  $1.9 \\text{ Pg C yr}^{-1}\\text{ }^\\circ\\text{C}^{-1}$",
        "range",
        (1.9, 5.0),
        "Pg C yr-1 degC-1",
        decimals=1,
        requires="nine series",
    ),
    Claim(
        "temporal_trends.sensitivity_mean",
        "temporal_trends",
        "temperature-sensitivity",
        "mean temperature sensitivity",
        "with a mean of  $3.5 \\text{ Pg C yr}^{-1}\\text{ }^\\circ\\text{C}^{-1}$",
        "value",
        3.5,
        "Pg C yr-1 degC-1",
        decimals=1,
        requires="nine series",
    ),
    # ------------------------------------------------------------------ seasonality
    Claim(
        "seasonality.peak_months",
        "seasonality",
        "global-monthly-totals-of-the-monthly-members",
        "global Rs peaks in July and August",
        "highest in July and August or northern summer",
        "set",
        ("Jul", "Aug"),
        requires="published maps",
    ),
    Claim(
        "seasonality.peak_range",
        "seasonality",
        "global-monthly-totals-of-the-monthly-members",
        "peak of 8-9 Pg C per month",
        "northern summer ( $8\\text{--}9 \\text{ Pg C mo}^{-1}$ )",
        "range",
        (8, 9),
        _PG_MO,
        requires="published maps",
    ),
    Claim(
        "seasonality.minimum_month",
        "seasonality",
        "global-monthly-totals-of-the-monthly-members",
        "global Rs is lowest in February",
        "lowest in February",
        "set",
        ("Feb",),
        requires="published maps",
    ),
    Claim(
        "seasonality.minimum_range",
        "seasonality",
        "global-monthly-totals-of-the-monthly-members",
        "minimum of 4-6 Pg C per month",
        "lowest in February ( $4\\text{--}6 \\text{ Pg C mo}^{-1}$ )",
        "range",
        (4, 6),
        _PG_MO,
        requires="published maps",
    ),
    Claim(
        "seasonality.amplitude_range",
        "seasonality",
        "global-monthly-totals-of-the-monthly-members",
        "amplitude of 2-4 Pg C per month",
        "The amplitude of the monthly seasonal soil respiration ranged from 2 to  $4 \\text{ Pg C mo}^{-1}$",
        "range",
        (2, 4),
        _PG_MO,
        requires="published maps",
    ),
    # ------------------------------------------------------------------ cmip6 (records written by that chapter)
    Claim(
        "cmip6.cv_ratio",
        "cmip6",
        "the-paper-s-three-claims-judged",
        "CMIP6 inter-model CV about twice the data-driven CV",
        "the inter-model variability for the ESMs was, on the whole, twice as high as that for the "
        "data-driven soil respiration estimates",
        "value",
        2.0,
        "x the data-driven CV",
        tolerance=0.5,
        decimals=1,
        requires="published maps",
    ),
    Claim(
        "cmip6.b2_c2_higher",
        "cmip6",
        "the-paper-s-three-claims-judged",
        "B2 and C2 CVs higher for CMIP6 too",
        "the CVs for the B2 and C2 regions were also higher for CMIP6",
        "statement",
        True,
        requires="published maps",
    ),
    Claim(
        "cmip6.c5_similar",
        "cmip6",
        "the-paper-s-three-claims-judged",
        "C5 CV of the same magnitude for CMIP6",
        "while that for C5 was of the same magnitude as that of the data-driven estimates",
        "statement",
        True,
        requires="published maps",
    ),
)


def claims_by_id() -> dict[str, Claim]:
    """Every claim, keyed by its id (ValueError on a duplicate id)."""
    out: dict[str, Claim] = {}
    for claim in CLAIMS:
        if claim.claim_id in out:
            raise ValueError(f"duplicate claim id {claim.claim_id!r}")
        out[claim.claim_id] = claim
    return out


def get_claim(claim_id: str) -> Claim:
    """The claim with this id (KeyError naming the known ids otherwise)."""
    claims = claims_by_id()
    if claim_id not in claims:
        raise KeyError(f"unknown claim {claim_id!r}; known: {sorted(claims)}")
    return claims[claim_id]


def paper_value(claim_id: str) -> Any:
    """The paper's value of a claim (a number, a (low, high) pair, a tuple of labels or True)."""
    return get_claim(claim_id).value


def chapters_with_claims() -> list[str]:
    """The chapters that test at least one claim, in the order of :data:`CLAIMS`."""
    return list(dict.fromkeys(c.chapter for c in CLAIMS))


# ----------------------------------------------------------------------------- scoring


def _matches(claim: Claim, book: Any) -> bool:
    """Does the book's value agree with the paper's, within the claim's tolerance?"""
    tol = claim.abs_tolerance
    if claim.kind == "value":
        return abs(float(book) - float(claim.value)) <= tol + 1e-12
    if claim.kind == "range":
        low, high = (float(v) for v in book)
        return abs(low - claim.low) <= tol + 1e-12 and abs(high - claim.high) <= tol + 1e-12
    if claim.kind == "set":
        return set(map(str, book)) == set(claim.value)
    return bool(book) is True


def _format_book(claim: Claim, entry: Mapping[str, Any]) -> str:
    if entry.get("display"):
        return str(entry["display"])
    book = entry["value"]
    if claim.kind == "value" and isinstance(book, int) and not isinstance(book, bool):
        return str(book)
    if claim.kind == "value":
        return f"{float(book):.{claim.decimals + 1}f}"
    if claim.kind == "range":
        return f"{float(book[0]):.{claim.decimals + 1}f} to {float(book[1]):.{claim.decimals + 1}f}"
    if claim.kind == "set":
        return ", ".join(map(str, book)) or "none"
    return "holds" if bool(book) else "does not hold"


def _fill(text: str, displays: Mapping[str, str], claim: Claim) -> str:
    try:
        return text.format_map(displays)
    except KeyError as exc:
        raise KeyError(
            f"claim {claim.claim_id}: its text needs the record {exc} of chapter {claim.chapter!r}, which was not written"
        ) from None


def score_claim(claim: Claim, entry: Mapping[str, Any], displays: Mapping[str, str]) -> dict[str, Any]:
    """One scorecard row: the claim beside its record, with status and reason.

    Parameters
    ----------
    claim
        The paper's claim.
    entry
        The chapter's record of it: ``value``, optional ``display`` and ``context`` (a
        ``context["ensemble"]`` other than "published" marks a stand-in for the published maps).
    displays
        Display text of every record of the chapter, to fill ``{name}`` placeholders.
    """
    matches = _matches(claim, entry["value"])
    ensemble = (entry.get("context") or {}).get("ensemble")
    offline = claim.requires == "nine series" or (claim.requires == "published maps" and ensemble != "published")
    if offline:
        status = "not reproducible offline"
        stand_in = f"offline stand-in ({ensemble})" if ensemble else "offline stand-in"
        reason = f"{stand_in}: {'agrees' if matches else 'differs'}; {ONLINE_RUNS[claim.requires]}"
    elif matches and claim.reconstruction:
        status, reason = "reconstructed", _fill(claim.reconstruction, displays, claim)
    elif matches:
        status, reason = "reproduced", ""
    else:
        status, reason = "differs", _fill(claim.differs_reason, displays, claim)
    return {
        "claim": claim.claim_id,
        "chapter": claim.chapter,
        "section": claim.section,
        "statement": claim.statement,
        "paper": claim.paper_text(),
        "book": _format_book(claim, entry),
        "tolerance": "" if claim.abs_tolerance is None else f"±{claim.abs_tolerance:g}",
        "within_tolerance": matches,
        "status": status,
        "reason": reason,
        "quote": claim.quote,
    }


def score_claims(records: Mapping[str, Mapping[str, Any]], claims: tuple[Claim, ...] = CLAIMS) -> pd.DataFrame:
    """The scorecard: one row per claim.

    Parameters
    ----------
    records
        ``{chapter: {record name: entry}}`` as read by :func:`globalrs.record.read_records`;
        each entry has ``value`` and may have ``display``, ``claim`` and ``context``.

    Raises
    ------
    KeyError
        If a chapter that tests a claim wrote no record file, or its file has no record for one
        of its claims (the message names the chapter and the claim).
    """
    rows = []
    for claim in claims:
        if claim.chapter not in records:
            raise KeyError(
                f"no results record of chapter {claim.chapter!r} (needed for {claim.claim_id}); "
                f"execute notebooks/{claim.chapter}.ipynb before the scorecard"
            )
        chapter = records[claim.chapter]
        found = [e for e in chapter.values() if e.get("claim") == claim.claim_id]
        if not found:
            raise KeyError(
                f"chapter {claim.chapter!r} recorded nothing for claim {claim.claim_id!r} "
                f"(it must call record(..., claim={claim.claim_id!r}))"
            )
        if len(found) > 1:
            raise ValueError(f"chapter {claim.chapter!r} recorded claim {claim.claim_id!r} {len(found)} times")
        displays = {name: str(e.get("display") or e["value"]) for name, e in chapter.items()}
        rows.append(score_claim(claim, found[0], displays))
    return pd.DataFrame(rows).set_index("claim")


def check_scorecard(card: pd.DataFrame, claims: tuple[Claim, ...] = CLAIMS) -> None:
    """Raise AssertionError if a claim has no row or no valid status, a "reproduced" row lies
    outside its tolerance, or a "differs" / "reconstructed" row gives no reason."""
    problems = []
    missing = [c.claim_id for c in claims if c.claim_id not in card.index]
    if missing:
        problems.append(f"claims without a row: {missing}")
    bad_status = card.index[~card["status"].isin(STATUSES)].tolist()
    if bad_status:
        problems.append(f"rows without a valid status: {bad_status}")
    outside = card.index[(card["status"] == "reproduced") & ~card["within_tolerance"].astype(bool)].tolist()
    if outside:
        problems.append(f"'reproduced' rows outside their tolerance: {outside}")
    unexplained = card.index[
        card["status"].isin(["differs", "reconstructed", "not reproducible offline"]) & (card["reason"].str.strip() == "")
    ].tolist()
    if unexplained:
        problems.append(f"rows without a reason: {unexplained}")
    if problems:
        raise AssertionError("; ".join(problems))


def count_statuses(card: pd.DataFrame) -> pd.Series:
    """Number of claims per status, every status listed (zeros included), in :data:`STATUSES` order."""
    return card["status"].value_counts().reindex(list(STATUSES), fill_value=0)


def scorecard_html(card: pd.DataFrame, chapter_dir: str = "../notebooks") -> str:
    """The scorecard as an HTML table, each row linking to the section of its chapter
    (``<chapter_dir>/<chapter>.html#<section>``); the quotes keep the paper's markup."""

    def link(row: pd.Series) -> str:
        anchor = f"#{row['section']}" if row["section"] else ""
        return f'<a href="{chapter_dir}/{row["chapter"]}.html{anchor}">{row["chapter"]}</a>'

    shown = card.assign(shown_in=card.apply(link, axis=1), claim=card.index)[
        ["status", "statement", "paper", "book", "tolerance", "reason", "shown_in", "quote", "claim"]
    ]
    shown = shown.rename(columns={"shown_in": "shown in", "claim": "claim id"})
    table = shown.to_html(escape=False, index=False).replace('class="dataframe"', 'class="dataframe scorecard"', 1)
    return f'<div style="font-size: 0.8em; overflow-x: auto">{table}</div>'  # nine columns: smaller type


def format_range(pair, fmt: str = "g") -> str:
    """``low-high`` of a (low, high) pair, sorted, each formatted with ``fmt``."""
    low, high = sorted(float(v) for v in pair)
    return f"{low:{fmt}}-{high:{fmt}}"
