"""The paper's quantitative claims that the book checks: the one home of the paper's numbers.

Every number, range, set or statement of Hashimoto, Ito & Nishina (2023) that a chapter tests is a
:class:`Claim` in :data:`CLAIMS`: the paper's value and units, the fragment of the paper's text it
comes from (verbatim, so a test can find it in the text), the chapter and section that test it,
the tolerance, and what stands in when the book cannot test the claim as stated. Chapters and
tests read the values from here; no chapter carries its own copy of a paper value.

The chapters write what they find with :func:`globalrs.reproduction.record.record` (one record per claim,
named by ``claim=``); :func:`score_claims` sets each claim beside its record and gives it a
status (:data:`STATUSES`), and :func:`check_scorecard` refuses a scorecard with a claim without
a row or status, a "reproduced" row outside its tolerance or resting on a choice of the book, a
consistency check or a value matched by construction counted as a reproduction, or a row other
than "reproduced" without a reason. Each claim names the choices of the book it depends on
(:data:`BOOK_CHOICES`); a claim that names any is never "reproduced" (:func:`claim_status`).

A few paper constants used by figures and helpers also live here: :data:`NAMED_LOW_YEARS`,
:data:`NAMED_HIGH_YEARS`, :data:`HIGH_CV_REGIONS` and :data:`CV_THRESHOLD`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

#: The paper's reference text (not shipped with the book; tests look for the quotes in it when
#: a copy is configured).
PAPER = "Hashimoto, Ito & Nishina (2023), Commun. Earth Environ. 4:460"

#: Status of a claim on the scorecard, in the order the scorecard counts them.
#:
#: - "reproduced": the book's own computation agrees, and no choice of the book stands in for one
#:   the paper left open (:attr:`Claim.choices` is empty);
#: - "reconstructed": it agrees, but through the choices the claim names;
#: - "consistency check": the paper's prose agrees with the book's transcription of the paper's own
#:   Table 1 (a check of the paper against itself, not a reproduction);
#: - "by construction": the book's value equals the paper's because the book took it from the paper
#:   (e.g. a screening threshold or a number of regions the book defines);
#: - "differs": outside the tolerance (with the reason);
#: - "not reproducible offline": needs data the offline build does not have.
STATUSES: tuple[str, ...] = (
    "reproduced",
    "reconstructed",
    "consistency check",
    "by construction",
    "differs",
    "not reproducible offline",
)
#: The statuses that are not evidence that the book reproduces the paper; the headline counts them apart.
NOT_EVIDENCE: tuple[str, ...] = ("consistency check", "by construction")

Kind = Literal["value", "range", "within", "set", "statement"]
Basis = Literal["reproduction", "consistency", "construction"]
#: Significance level of the statements the paper tests ("significant", "not significant").
ALPHA = 0.05
#: The book's reading of "not correlated": a Spearman |rho| below this (Cohen's small-to-medium
#: boundary) as well as p >= :data:`ALPHA`; a larger rho with p above alpha is not evidence of none.
NEGLIGIBLE_RHO = 0.3

#: The choices of the book that stand in for ones the paper leaves open. A claim names the ones its
#: value depends on (:attr:`Claim.choices`); a claim that names any is never "reproduced".
#: ``{name}`` placeholders are filled from the chapter's record displays.
BOOK_CHOICES: dict[str, str] = {
    "split_2010_after": "2010 counts as 'after' (the paper does not say; with 2010 before, the pre-2010 "
    "mean would be {mean_with_2010_before} and the range {range_with_2010_before})",
    "screening_rules": "which estimates are 'screened' is not stated; the book's rules stand in (no value, "
    "hypothetical scenario, above the paper's own maximum of 101)",
    "screening_max_101": "screening rule 3 removes what lies above the paper's own maximum of 101 (without "
    "it: SD {post2010_sd_no_max}, maximum {post2010_max_no_max})",
    "grouping_chosen_to_match": "the paper does not list the estimates of each group; a grouping chosen "
    "knowing the paper's numbers gives {recon_semi_mean} ({recon_semi_range}) and {recon_ml_mean} "
    "({recon_ml_range})",
    "significance_tests": "the paper names no test; Welch's t and Mann-Whitney U at 5 % stand in, for both groupings",
    "region_boundaries": "the region boundaries are not published; the book's region table stands in",
    "fewer_is_below_median": "'fewer' read as below the median region; filtered SRDB-V5 records in the "
    "book's regions stand in for the paper's unstated data points",
    "negligible_correlation": "'not correlated' read as a Spearman |rho| below 0.3 with p >= 0.05",
    "late_2010s_is_2017": "'the late 2010s' read as published in 2017 or later",
    "all_but_one_exact": "'all but one' read as exactly one series without a positive slope",
    "past_two_decades_is_2002": "'the past two decades' read as published 2002-2022 and 'the past decade' "
    "as 2012-2022 (the paper's last study is of 2022); NE (no map) is not a resolution; 'annual' read as "
    "most studies annual only",
    "map_data_column": "a study 'with map data' read as one whose map Table 1's transcription marks as "
    "available (the paper's Supplementary Table 1 is not transcribed)",
}

#: What the claims need beyond the offline data, and the run that would settle them.
ONLINE_RUNS: dict[str, str] = {
    "published maps": (
        "rebuild the book on a machine with internet access with GLOBALRS_ENSEMBLE=published: the "
        "chapter then runs on the paper's published maps (Zenodo 10.5281/zenodo.8404747) instead of "
        "the standardized ensemble"
    ),
    "nine series": (
        "the nine annual series of Fig. 4 are published by their authors (Hashimoto et al. 2015 on "
        "Zenodo, Raich et al. 2002 as CDIAC NDP-081, Huang & Wang on Dryad, Lu et al. 2021 on Zenodo, "
        "among others) but not in the offline mirror, and the paper does not give the series it "
        "extracted from them. Offline, one of the nine (Lei et al. 2021) and the book's own series "
        "stand in; an online build with those files would settle it"
    ),
    "map collection": (
        "the paper's map collection (Zenodo 10.5281/zenodo.8404747) is online only, and the paper's "
        "list of the studies with map data (its Supplementary Table 1) is not transcribed; offline "
        "the book counts its own catalogue of published map sources (tables/published_maps.csv)"
    ),
    "srdb releases": (
        "the mirror holds SRDB v5 (2020) and its 2022 update only; counting the growth of the "
        "database over 20 years needs its earlier releases (SRDB v1, 2010, and before)"
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
        ``"value"`` (a number), ``"range"`` (low, high: the book's lowest and highest value must
        match each end), ``"within"`` (low, high: a range that bounds values; the book's values
        must lie inside it, within the tolerance), ``"set"`` (labels) or ``"statement"`` (the
        chapter records True when the statement holds in its data).
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
    choices
        Keys of :data:`BOOK_CHOICES`: the choices of the book the value depends on. A claim with
        any is never "reproduced": a match is "reconstructed", and the reason lists the choices.
    basis
        ``"reproduction"`` (the book computes the value from data), ``"consistency"`` (the
        paper's prose checked against the book's transcription of the paper's own table) or
        ``"construction"`` (the book's value is the paper's by construction: see
        :attr:`construction`).
    construction
        For ``basis="construction"``: how the book's value came to equal the paper's.
    reconstruction
        Further detail on the choices, appended to the reason (``{name}`` placeholders are filled
        from the chapter's record displays).
    differs_reason
        Why the book's value differs from the paper's, when it does (``{name}`` placeholders as
        above). A "differs" row without a reason fails :func:`check_scorecard`.
    effect
        For a statement that rests on a statistical test: the effect size and p value, as a
        template of record placeholders (e.g. ``"rho = {cv_rho}, p = {cv_p}"``); the scorecard
        shows it beside the verdict. Required when :attr:`tested` is True.
    tested
        The statement is a test's verdict ("(not) significant", "(not) correlated").
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
    choices: tuple[str, ...] = ()
    basis: Basis = "reproduction"
    construction: str = ""
    effect: str = ""
    tested: bool = False

    def __post_init__(self) -> None:
        if not self.claim_id.startswith(self.chapter + "."):
            raise ValueError(f"claim id {self.claim_id!r} must start with its chapter {self.chapter!r}")
        if self.kind not in ("value", "range", "within", "set", "statement"):
            raise ValueError(f"claim {self.claim_id}: unknown kind {self.kind!r}")
        if self.requires and self.requires not in ONLINE_RUNS:
            raise ValueError(f"claim {self.claim_id}: unknown requirement {self.requires!r}")
        if self.kind in ("range", "within") and not (isinstance(self.value, tuple) and len(self.value) == 2):
            raise ValueError(f"claim {self.claim_id}: a range needs a (low, high) value")
        unknown = [c for c in self.choices if c not in BOOK_CHOICES]
        if unknown:
            raise ValueError(f"claim {self.claim_id}: unknown book choices {unknown}; known: {sorted(BOOK_CHOICES)}")
        if self.basis not in ("reproduction", "consistency", "construction"):
            raise ValueError(f"claim {self.claim_id}: unknown basis {self.basis!r}")
        if (self.basis == "construction") != bool(self.construction):
            raise ValueError(f"claim {self.claim_id}: basis 'construction' needs its construction text, and only it")
        if self.reconstruction and not self.choices:
            raise ValueError(f"claim {self.claim_id}: a reconstruction must name the book choices it rests on")
        if self.tested and (self.kind != "statement" or "p" not in self.effect):
            raise ValueError(f"claim {self.claim_id}: a tested statement needs an effect template with its p value")

    @property
    def abs_tolerance(self) -> float | None:
        """Tolerance of a value or range end (None for sets and statements)."""
        if self.kind not in ("value", "range", "within"):
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
        if self.kind == "within":
            return f"within {self.low:.{self.decimals}f} to {self.high:.{self.decimals}f} {self.units}".strip()
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
        basis="consistency",
    ),
    Claim(
        "methods_table.srdb_since_2010",
        "methods_table",
        "checking-the-paper-s-description-against-the-table",
        "since the first SRDB (2010) most estimates are SRDB-based",
        "most estimates were based on the SRDB, including solely the SRDB or extended SRDB",
        "statement",
        True,
        basis="consistency",
    ),
    Claim(
        "methods_table.ml_late_2010s",
        "methods_table",
        "checking-the-paper-s-description-against-the-table",
        "machine learning replaced other methods from the late 2010s",
        "From the late 2010s, machine learning approaches replaced other methods.",
        "statement",
        True,
        basis="consistency",
        choices=("late_2010s_is_2017",),
        differs_reason="by Table 1's labels machine learning is the method of {ml_late_only} studies "
        "published since 2017; only counting the mixed-method studies and study 23's bracketed "
        "supporting estimate gives {ml_late}",
    ),
    Claim(
        "methods_table.semi_empirical_before",
        "methods_table",
        "checking-the-paper-s-description-against-the-table",
        "semi-empirical models were the main approach before",
        "Before that, semi-empirical modeling was the primary approach.",
        "statement",
        True,
        basis="consistency",
    ),
    Claim(
        "methods_table.half_degree_most_common",
        "methods_table",
        "checking-the-paper-s-description-against-the-table",
        "0.5 degree is the most common resolution",
        "the most commonly used resolution was 0.5°",
        "statement",
        True,
        basis="consistency",
    ),
    Claim(
        "methods_table.thirty_seconds_late",
        "methods_table",
        "checking-the-paper-s-description-against-the-table",
        "30 arc-second resolution appears from the late 2010s",
        "the very fine spatial resolution of 30 seconds (~1 km) was also adopted from the late 2010s",
        "statement",
        True,
        basis="consistency",
    ),
    Claim(
        "methods_table.half_and_30s_past_two_decades",
        "methods_table",
        "checking-the-paper-s-description-against-the-table",
        "0.5 degree and 30 s are the most common resolutions of the past two decades",
        "Both 0.5° and 30 s have been the most common resolutions in the past two decades.",
        "statement",
        True,
        basis="consistency",
        choices=("past_two_decades_is_2002",),
        differs_reason="counted from Table 1 since 2002: {resolutions_two_decades}",
    ),
    Claim(
        "methods_table.annual_past_decade",
        "methods_table",
        "checking-the-paper-s-description-against-the-table",
        "estimates of the past decade are annual",
        "the adopted temporal resolution has been annual in the past decade",
        "statement",
        True,
        basis="consistency",
        choices=("past_two_decades_is_2002",),
        differs_reason="counted from Table 1 since 2012: {temporal_past_decade}",
    ),
    Claim(
        "methods_table.srdb_v5_observations",
        "methods_table",
        "the-srdb-and-the-map-data-behind-the-table",
        "SRDB version 5 holds 10,366 observations",
        "the latest version is version 5, which includes 10,366 observations",
        "value",
        10366,
        "records",
    ),
    Claim(
        "methods_table.n_map_studies",
        "methods_table",
        "the-srdb-and-the-map-data-behind-the-table",
        "map data were available for 14 studies",
        "Out of these, map data were available for 14 studies.",
        "value",
        14,
        "studies",
        requires="map collection",
    ),
    Claim(
        "methods_table.n_spatial_estimates",
        "methods_table",
        "the-srdb-and-the-map-data-behind-the-table",
        "11 spatial estimates after screening",
        "After screening, we obtained 11 spatial estimates of global soil respiration.",
        "value",
        N_PUBLISHED_MAPS,
        "maps",
        requires="map collection",
    ),
    Claim(
        "methods_table.srdb_tripled",
        "methods_table",
        "the-srdb-and-the-map-data-behind-the-table",
        "the SRDB tripled the observed data in the last 20 years",
        "which has tripled the amount of observed soil respiration data in the last 20 years",
        "value",
        3.0,
        "x",
        decimals=0,
        requires="srdb releases",
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
        basis="construction",
        construction="the upper end is the book's screening rule 3, which removes what lies above the "
        "paper's own maximum of 101 (without it the maximum is {post2010_max_no_max}); which estimates "
        "are 'screened' is not stated",
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
        choices=("split_2010_after", "screening_rules"),
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
        choices=("split_2010_after", "screening_rules"),
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
        choices=("split_2010_after", "screening_rules"),
    ),
    Claim(
        "totals.pre2010_majority_below_80",
        "totals",
        "headline-statistics-beside-the-paper-s",
        "most estimates before 2010 are below 80",
        "Before 2010, the majority of estimates were below 80 Pg C yr<sup>-1</sup>",
        "statement",
        True,
        choices=("split_2010_after",),
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
        choices=("split_2010_after", "screening_rules"),
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
        basis="construction",
        construction="the upper end is the book's screening rule 3, the paper's own maximum of 101 (without "
        "it: {post2010_max_no_max}); the lower end rests on the 2010 split",
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
        choices=("split_2010_after", "screening_max_101"),
    ),
    Claim(
        "totals.post2010_both_sides_of_80",
        "totals",
        "headline-statistics-beside-the-paper-s",
        "estimates after 2010 lie both above and below 80",
        "The global estimates after 2010 contain both higher and lower values (i.e., below 80 Pg C yr<sup>-1</sup>)",
        "statement",
        True,
        choices=("split_2010_after",),
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
        differs_reason="grouped by Table 1's own method labels (every counted post-2010 semi-empirical and "
        "linear estimate), the mean is {family_semi_mean}",
        choices=("split_2010_after", "screening_rules", "grouping_chosen_to_match"),
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
        differs_reason="grouped by Table 1's own method labels the range is {family_semi_range}",
        choices=("split_2010_after", "screening_rules", "grouping_chosen_to_match"),
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
        differs_reason="grouped by Table 1's own method labels (every counted post-2010 machine-learning "
        "estimate), the mean is {family_ml_mean}",
        choices=("split_2010_after", "screening_rules", "grouping_chosen_to_match"),
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
        differs_reason="grouped by Table 1's own method labels the range is {family_ml_range}",
        choices=("split_2010_after", "screening_rules", "grouping_chosen_to_match"),
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
        choices=("split_2010_after", "screening_rules", "significance_tests"),
        tested=True,
        effect="by Table 1's labels: difference of means {family_mean_diff} Pg C yr-1, Welch p = {family_welch_p}, "
        "Mann-Whitney p = {family_mannwhitney_p}",
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
        basis="construction",
        construction="the book defines 14 regions (the boundaries are not published; the book's region table "
        "stands in), so the count agrees by definition",
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
        choices=("fewer_is_below_median", "region_boundaries"),
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
        choices=("negligible_correlation", "region_boundaries"),
        tested=True,
        effect="Spearman rho = {records_cv_rho}, p = {records_cv_p}",
    ),
    # ------------------------------------------------------------------ temporal_trends
    Claim(
        "temporal_trends.anomaly_range",
        "temporal_trends",
        "anomalies-the-paper-s-fig-4a",
        "annual anomalies span about -5 to +5",
        "the interannual variability of soil respiration varies from  $-5 \\text{ Pg C yr}^{-1}$  to  $+5 \\text{ Pg C yr}^{-1}$",
        "within",
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
        "the trends ranged from  $0.038 \\text{ Pg C yr}^{-1}$  ( $p = 0.13, R^2 = 0.05$ ) to  $0.23 \\text{ Pg C yr}^{-1}$",
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
        choices=("all_but_one_exact",),
    ),
    Claim(
        "temporal_trends.no_negative_trend",
        "temporal_trends",
        "trends-over-1980-2010",
        "no series has a negative trend",
        "Although no negative trend was found",
        "statement",
        True,
        requires="nine series",
    ),
    Claim(
        "temporal_trends.n_series",
        "temporal_trends",
        "trends-over-1980-2010",
        "nine annual series",
        "Temporal variations in global soil respiration among studies (N = 9)",
        "value",
        N_PAPER_SERIES,
        "series",
        requires="nine series",
    ),
    Claim(
        "temporal_trends.trend_lowest_p",
        "temporal_trends",
        "trends-over-1980-2010",
        "p of the lowest trend",
        "$0.038 \\text{ Pg C yr}^{-1}$  ( $p = 0.13, R^2 = 0.05$ )",
        "value",
        TREND_EXTREMES["p"][0],
        "",
        decimals=2,
        requires="nine series",
    ),
    Claim(
        "temporal_trends.trend_lowest_r2",
        "temporal_trends",
        "trends-over-1980-2010",
        "R2 of the lowest trend",
        "$0.038 \\text{ Pg C yr}^{-1}$  ( $p = 0.13, R^2 = 0.05$ )",
        "value",
        TREND_EXTREMES["r2"][0],
        "",
        decimals=2,
        requires="nine series",
    ),
    Claim(
        "temporal_trends.trend_highest_p",
        "temporal_trends",
        "trends-over-1980-2010",
        "p of the highest trend",
        "$0.23 \\text{ Pg C yr}^{-1}$  ( $p = 0.003, R^2 = 0.61$ )",
        "value",
        TREND_EXTREMES["p"][1],
        "",
        decimals=3,
        requires="nine series",
    ),
    Claim(
        "temporal_trends.trend_highest_r2",
        "temporal_trends",
        "trends-over-1980-2010",
        "R2 of the highest trend",
        "$0.23 \\text{ Pg C yr}^{-1}$  ( $p = 0.003, R^2 = 0.61$ )",
        "value",
        TREND_EXTREMES["r2"][1],
        "",
        decimals=2,
        requires="nine series",
    ),
    Claim(
        "temporal_trends.sensitivity_lowest_p",
        "temporal_trends",
        "temperature-sensitivity",
        "p of the lowest sensitivity",
        "$1.9 \\text{ Pg C yr}^{-1}\\text{ }^\\circ\\text{C}^{-1}$  ( $p = 0.005, R^2 = 0.23$ )",
        "value",
        SENSITIVITY_EXTREMES["p"][0],
        "",
        decimals=3,
        requires="nine series",
    ),
    Claim(
        "temporal_trends.sensitivity_lowest_r2",
        "temporal_trends",
        "temperature-sensitivity",
        "R2 of the lowest sensitivity",
        "$1.9 \\text{ Pg C yr}^{-1}\\text{ }^\\circ\\text{C}^{-1}$  ( $p = 0.005, R^2 = 0.23$ )",
        "value",
        SENSITIVITY_EXTREMES["r2"][0],
        "",
        decimals=2,
        requires="nine series",
    ),
    Claim(
        "temporal_trends.sensitivity_highest_p",
        "temporal_trends",
        "temperature-sensitivity",
        "p of the highest sensitivity",
        "$5.0 \\text{ Pg C yr}^{-1}\\text{ }^\\circ\\text{C}^{-1}$  ( $p = 0.004, R^2 = 0.58$ )",
        "value",
        SENSITIVITY_EXTREMES["p"][1],
        "",
        decimals=3,
        requires="nine series",
    ),
    Claim(
        "temporal_trends.sensitivity_highest_r2",
        "temporal_trends",
        "temperature-sensitivity",
        "R2 of the highest sensitivity",
        "$5.0 \\text{ Pg C yr}^{-1}\\text{ }^\\circ\\text{C}^{-1}$  ( $p = 0.004, R^2 = 0.58$ )",
        "value",
        SENSITIVITY_EXTREMES["r2"][1],
        "",
        decimals=2,
        requires="nine series",
    ),
    Claim(
        "temporal_trends.sensitivity_range",
        "temporal_trends",
        "temperature-sensitivity",
        "temperature sensitivity ranges 1.9 to 5.0",
        "ranged from  $1.9 \\text{ Pg C yr}^{-1}\\text{ }^\\circ\\text{C}^{-1}$  ( $p = 0.005, R^2 = 0.23$ ) to  "
        "$5.0 \\text{ Pg C yr}^{-1}\\text{ }^\\circ\\text{C}^{-1}$",
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
        "within",
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
        "within",
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
        "within",
        (2, 4),
        _PG_MO,
        requires="published maps",
    ),
    Claim(
        "seasonality.n_monthly_estimates",
        "seasonality",
        "global-monthly-totals-of-the-monthly-members",
        "only four monthly estimates",
        "Only four estimates were found",
        "value",
        4,
        "estimates",
        requires="published maps",
    ),
    Claim(
        "seasonality.july_above_august",
        "seasonality",
        "global-monthly-totals-of-the-monthly-members",
        "July slightly higher than August",
        "Soil respiration in July was slightly higher than that in August",
        "statement",
        True,
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
    tol = claim.abs_tolerance or 0.0  # None only for sets and statements, which use none
    if claim.kind == "value":
        return abs(float(book) - float(claim.value)) <= tol + 1e-12
    if claim.kind == "range":
        low, high = (float(v) for v in book)
        return abs(low - claim.low) <= tol + 1e-12 and abs(high - claim.high) <= tol + 1e-12
    if claim.kind == "within":
        values = [float(v) for v in book] if isinstance(book, (list, tuple)) else [float(book)]
        return all(claim.low - tol - 1e-12 <= v <= claim.high + tol + 1e-12 for v in values)
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
    if claim.kind in ("range", "within"):
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


def choices_text(claim: Claim, displays: Mapping[str, str]) -> str:
    """The book choices a claim depends on, as the scorecard's reason gives them."""
    parts = [_fill(BOOK_CHOICES[c], displays, claim) for c in claim.choices]
    if claim.reconstruction:
        parts.append(_fill(claim.reconstruction, displays, claim))
    return "; ".join(parts)


def claim_status(claim: Claim, matches: bool, ensemble: str | None = None) -> str:
    """The status a claim gets (:data:`STATUSES`), given whether the book's value matches.

    The rules, in order: a claim about data the offline build lacks is "not reproducible
    offline"; one whose value the book took from the paper is "by construction" (when it
    matches: taking it cannot make it differ); otherwise a mismatch "differs"; a match of a
    consistency check is a "consistency check"; a match that rests on any book choice is
    "reconstructed"; only a match with no choice is "reproduced".
    """
    offline = bool(claim.requires) and not (claim.requires == "published maps" and ensemble == "published")
    if offline:
        return "not reproducible offline"
    if not matches:
        return "differs"
    if claim.basis == "construction":
        return "by construction"
    if claim.basis == "consistency":
        return "consistency check"
    if claim.choices:
        return "reconstructed"
    return "reproduced"


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
    status = claim_status(claim, matches, ensemble)
    book = _format_book(claim, entry)
    if claim.effect:
        book = f"{book} ({_fill(claim.effect, displays, claim)})"
    depends = choices_text(claim, displays)
    if status == "not reproducible offline":
        stand_in = f"offline stand-in ({ensemble})" if ensemble else "offline stand-in"
        reason = f"{stand_in}: {'agrees' if matches else 'differs'}; needs the {claim.requires} (see below the table)"
        if depends:
            reason += f"; the stand-in rests on: {depends}"
    elif status == "by construction":
        reason = _fill(claim.construction, displays, claim)
    elif status == "differs":
        reason = _fill(claim.differs_reason, displays, claim)
        if depends and reason:
            reason += f" (book choices: {depends})"
    elif status == "consistency check":
        reason = "the paper's text against its own Table 1 (as transcribed)" + (f"; {depends}" if depends else "")
    else:
        reason = depends
    return {
        "claim": claim.claim_id,
        "chapter": claim.chapter,
        "section": claim.section,
        "statement": claim.statement,
        "paper": claim.paper_text(),
        "book": book,
        "tolerance": "" if claim.abs_tolerance is None else f"±{claim.abs_tolerance:g}",
        "within_tolerance": matches,
        "status": status,
        "reason": reason,
        "choices": ", ".join(claim.choices),
        "online_run": ONLINE_RUNS.get(claim.requires, ""),
        "quote": claim.quote,
    }


def score_claims(records: Mapping[str, Mapping[str, Any]], claims: tuple[Claim, ...] = CLAIMS) -> pd.DataFrame:
    """The scorecard: one row per claim.

    Parameters
    ----------
    records
        ``{chapter: {record name: entry}}`` as read by :func:`globalrs.reproduction.record.read_records`;
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
    outside its tolerance or rests on a choice of the book, a consistency check or a value
    matched by construction is called "reproduced" or "reconstructed", or a row other than
    "reproduced" gives no reason."""
    problems = []
    by_id = {c.claim_id: c for c in claims}
    missing = [c.claim_id for c in claims if c.claim_id not in card.index]
    if missing:
        problems.append(f"claims without a row: {missing}")
    bad_status = card.index[~card["status"].isin(STATUSES)].tolist()
    if bad_status:
        problems.append(f"rows without a valid status: {bad_status}")
    outside = card.index[(card["status"] == "reproduced") & ~card["within_tolerance"].astype(bool)].tolist()
    if outside:
        problems.append(f"'reproduced' rows outside their tolerance: {outside}")
    reproduced = card.index[card["status"] == "reproduced"]
    chosen = [c for c in reproduced if c in by_id and by_id[c].choices]
    if chosen:
        problems.append(f"'reproduced' rows that rest on a choice of the book: {chosen}")
    not_evidence = [
        c
        for c in card.index[card["status"].isin(["reproduced", "reconstructed"])]
        if c in by_id and by_id[c].basis != "reproduction"
    ]
    if not_evidence:
        problems.append(f"consistency checks or values matched by construction counted as reproductions: {not_evidence}")
    unexplained = card.index[(card["status"] != "reproduced") & (card["reason"].str.strip() == "")].tolist()
    if unexplained:
        problems.append(f"rows without a reason: {unexplained}")
    if problems:
        raise AssertionError("; ".join(problems))


def count_statuses(card: pd.DataFrame) -> pd.Series:
    """Number of claims per status, every status listed (zeros included), in :data:`STATUSES` order."""
    return card["status"].value_counts().reindex(list(STATUSES), fill_value=0)


def headline_counts(card: pd.DataFrame) -> dict[str, int]:
    """The scorecard's headline: the claims the book tests against data (``tested``), of which
    reproduced, reconstructed, differ and not reproducible offline, and apart from them the
    consistency checks and the values matched by construction (not evidence of reproduction)."""
    counts = count_statuses(card)
    apart = {s: int(counts[s]) for s in NOT_EVIDENCE}
    tested = {s: int(n) for s, n in counts.items() if s not in NOT_EVIDENCE}
    return {"tested": sum(tested.values()), **tested, **apart, "all": int(counts.sum())}


_LATEX_SYMBOLS = {r"^\circ": "°", r"\circ": "°", r"\text{--}": "–", "--": "–"}
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _latex_to_plain(match: re.Match) -> str:
    """Plain text of one inline ``$...$`` of the paper (units, superscripts, degree signs)."""
    body = match.group(1)
    for pattern, repl in _LATEX_SYMBOLS.items():
        body = body.replace(pattern, repl)
    body = re.sub(r"\\text\{([^}]*)\}", r"\1", body)
    body = re.sub(r"\^\{([^}]*)\}", lambda m: m.group(1).translate(_SUPERSCRIPT), body)
    body = re.sub(r"\^(\d)", lambda m: m.group(1).translate(_SUPERSCRIPT), body)
    body = body.replace("\\", "")
    return re.sub(r"\s+", " ", body).strip()


def quote_text(quote: str) -> str:
    """A quote as a reader should see it: the paper's inline LaTeX (``$0.038 \\text{ Pg C
    yr}^{-1}$``) turned into plain text (0.038 Pg C yr⁻¹); HTML markup such as ``<sup>`` kept."""
    text = re.sub(r"\$([^$]*)\$?", _latex_to_plain, quote)
    return re.sub(r"\s+", " ", text).strip()


def scorecard_html(card: pd.DataFrame, chapter_dir: str = "../notebooks") -> str:
    """The scorecard as an HTML table, one row per claim: status, the claim (linked to the section
    of its chapter, ``<chapter_dir>/<chapter>.html#<section>``, with the paper's words below it:
    HTML markup kept, inline LaTeX as plain text, :func:`quote_text`), the paper's value with its
    tolerance, the book's value, the reason, and the claim id."""

    def claim_cell(row: pd.Series) -> str:
        """The statement linked to its section, the paper's words below it."""
        anchor = f"#{row['section']}" if row["section"] else ""
        link = f'<a href="{chapter_dir}/{row["chapter"]}.html{anchor}">{row["statement"]}</a>'
        return f"{link}<br><small><i>“{quote_text(row['quote'])}”</i> ({row['chapter']})</small>"

    def paper_cell(row: pd.Series) -> str:
        """The paper's value with its tolerance."""
        return f"{row['paper']} ({row['tolerance']})" if row["tolerance"] else row["paper"]

    shown = pd.DataFrame(
        {
            "status": card["status"],
            "claim (and the paper's words)": card.apply(claim_cell, axis=1),
            "paper": card.apply(paper_cell, axis=1),
            "book": card["book"],
            "reason": card["reason"],
            "claim id": card.index,
        }
    )
    table = shown.to_html(escape=False, index=False).replace('class="dataframe"', 'class="dataframe scorecard"', 1)
    # the claim gets the room; the id column stays narrow (ids break at their dots and underscores)
    style = (
        "<style>table.scorecard td:nth-child(2) {min-width: 24em}"
        " table.scorecard td:last-child {max-width: 10em; overflow-wrap: anywhere; font-size: 0.85em}"
        " table.scorecard small {font-size: 0.95em}</style>"
    )
    return f'{style}<div style="font-size: 0.8em; overflow-x: auto">{table}</div>'


def scorecard_csv(card: pd.DataFrame) -> str:
    """The scorecard as CSV text (one row per claim; the quote verbatim and as plain text)."""
    out = card.assign(quote_plain=card["quote"].map(quote_text))
    return out.reset_index().to_csv(index=False)


def format_range(pair, fmt: str = "g") -> str:
    """``low-high`` of a (low, high) pair, sorted, each formatted with ``fmt``."""
    low, high = sorted(float(v) for v in pair)
    return f"{low:{fmt}}-{high:{fmt}}"
