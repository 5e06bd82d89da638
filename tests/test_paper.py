"""The paper's claims (globalrs.reproduction.paper) and the scorecard built from chapter records."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest
from docutils.nodes import make_id

from globalrs.core.booktoc import resolve_source
from globalrs.reproduction import paper, scorecard
from globalrs.viz import pages

REPO_ROOT = Path(__file__).resolve().parents[1]
HEADING_RE = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.MULTILINE)


def _entry(value, claim, **extra):
    return {"value": value, "display": None, "claim": claim, "context": {}, **extra}


def _records_that_agree() -> dict:
    """Records whose values equal the paper's, with every placeholder a claim's text needs."""
    records: dict[str, dict] = {}
    for claim in paper.CLAIMS:
        chapter = records.setdefault(claim.chapter, {})
        value = list(claim.value) if isinstance(claim.value, tuple) else claim.value
        chapter[claim.claim_id.split(".", 1)[1]] = _entry(value, claim.claim_id)
        texts = [claim.reconstruction, claim.differs_reason, claim.construction, claim.effect]
        texts += [paper.BOOK_CHOICES[c] for c in claim.choices]
        for name in re.findall(r"{(\w+)}", " ".join(texts)):
            chapter.setdefault(name, _entry("x", None))
    return records


def test_claim_ids_are_unique_and_name_their_chapter():
    claims = paper.claims_by_id()
    assert len(claims) == len(paper.CLAIMS)
    for claim in paper.CLAIMS:
        assert claim.claim_id.split(".")[0] == claim.chapter
        assert (REPO_ROOT / "notebooks" / f"{claim.chapter}.ipynb").is_file(), claim.chapter


def test_a_claim_with_a_bad_kind_or_chapter_is_refused():
    with pytest.raises(ValueError, match="must start with its chapter"):
        paper.Claim("x.y", "z", "", "s", "q", "value", 1)
    with pytest.raises(ValueError, match="unknown kind"):
        paper.Claim("x.y", "x", "", "s", "q", "number", 1)
    with pytest.raises(ValueError, match="range needs"):
        paper.Claim("x.y", "x", "", "s", "q", "range", 1)


def test_quotes_are_in_the_papers_text():
    """Every claim's quote is a verbatim fragment of the paper (where a copy of the text exists)."""
    mirror = os.environ.get("GLOBALRS_DATA_MIRROR")
    text_path = Path(mirror).parent / "reference" / "hashimoto-ito-nishina-2023.txt" if mirror else None
    if text_path is None or not text_path.is_file():
        pytest.skip("the paper's text is not beside the data mirror")
    text = text_path.read_text()
    missing = [c.claim_id for c in paper.CLAIMS if c.quote not in text]
    assert not missing, f"quotes not found verbatim in the paper: {missing}"


def test_sections_are_headings_of_their_chapter():
    """The scorecard links to <chapter>.html#<section>: the anchor must be a heading of that chapter."""
    for claim in paper.CLAIMS:
        nb = json.loads(resolve_source(f"notebooks/{claim.chapter}", REPO_ROOT).read_text())
        text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
        anchors = {make_id(h) for h in HEADING_RE.findall(text)}
        assert claim.section in anchors, (claim.claim_id, claim.section, sorted(anchors))


def test_agreeing_records_score_reproduced_reconstructed_or_offline():
    card = scorecard.score_claims(_records_that_agree())
    scorecard.check_scorecard(card)
    assert set(card.index) == {c.claim_id for c in paper.CLAIMS}
    expected = {"consistency": "consistency check", "construction": "by construction"}
    for claim in paper.CLAIMS:
        status = card.loc[claim.claim_id, "status"]
        if claim.requires:
            assert status == "not reproducible offline"
        elif claim.basis != "reproduction":
            assert status == expected[claim.basis], claim.claim_id
        else:
            assert status == ("reconstructed" if claim.choices else "reproduced"), claim.claim_id
    assert scorecard.count_statuses(card).sum() == len(paper.CLAIMS)


def test_a_claim_that_rests_on_a_book_choice_is_never_reproduced():
    """The structural rule: whatever the book's value, a claim naming a book choice, a consistency
    check or a value matched by construction never scores "reproduced"."""
    for claim in paper.CLAIMS:
        for matches in (True, False):
            for ensemble in ("published", "standardized", None):
                status = scorecard.claim_status(claim, matches, ensemble)
                if claim.choices or claim.basis != "reproduction":
                    assert status != "reproduced", claim.claim_id
                if claim.basis != "reproduction":
                    assert status != "reconstructed", claim.claim_id
    # and check_scorecard refuses a card that says otherwise
    card = scorecard.score_claims(_records_that_agree())
    chosen = next(c.claim_id for c in paper.CLAIMS if c.choices and not c.requires and c.basis == "reproduction")
    broken = card.copy()
    broken.loc[chosen, "status"] = "reproduced"
    with pytest.raises(AssertionError, match="rest on a choice of the book"):
        scorecard.check_scorecard(broken)
    consistency = next(c.claim_id for c in paper.CLAIMS if c.basis == "consistency" and not c.choices)
    broken = card.copy()
    broken.loc[consistency, "status"] = "reproduced"
    with pytest.raises(AssertionError, match="counted as reproductions"):
        scorecard.check_scorecard(broken)


def test_the_rows_the_review_named_are_not_reproductions():
    """The claims a reader found flattering (issue #21) keep their structural status."""
    claims = paper.claims_by_id()
    for cid in ["totals.pre2010_range", "totals.pre2010_sd", "totals.post2010_sd"]:
        assert "split_2010_after" in claims[cid].choices, cid
    assert "screening_max_101" in claims["totals.post2010_sd"].choices
    for cid in ["totals.post2010_range", "totals.all_range", "regional_cv.n_regions"]:
        assert claims[cid].basis == "construction", cid
    for cid in [
        "n_studies",
        "srdb_since_2010",
        "semi_empirical_before",
        "half_degree_most_common",
        "thirty_seconds_late",
        "ml_late_2010s",
    ]:
        assert claims[f"methods_table.{cid}"].basis == "consistency", cid
    for cid in ["peak_range", "minimum_range", "amplitude_range"]:
        assert claims[f"seasonality.{cid}"].kind == "within", cid
    for cid in ["semi_empirical_mean", "semi_empirical_range", "machine_learning_mean", "machine_learning_range"]:
        assert "grouping_chosen_to_match" in claims[f"totals.{cid}"].choices and claims[f"totals.{cid}"].differs_reason
    for cid in ["totals.semi_vs_ml_not_significant", "regional_cv.records_not_correlated"]:
        assert claims[cid].tested and "p =" in claims[cid].effect, cid


def test_a_within_claim_accepts_values_inside_the_bounds_and_refuses_outside():
    claim = paper.get_claim("seasonality.peak_range")  # within 8 to 9, tolerance 0.5
    assert scorecard._matches(claim, [8.99, 9.01])
    assert scorecard._matches(claim, [8.2, 8.4])  # inside: a "range" would call this different
    assert not scorecard._matches(claim, [8.2, 9.6])
    assert not scorecard._matches(claim, [7.4, 8.5])
    as_range = paper.Claim("seasonality.x", "seasonality", "", "s", "q", "range", (8, 9), decimals=1)
    assert not scorecard._matches(as_range, [8.99, 9.01])  # end point by end point: 8.99 is not 8
    assert paper.Claim("x.y", "x", "", "s", "q", "within", (8, 9)).paper_text().startswith("within")


def test_a_tested_statement_shows_its_effect_size_beside_its_p_value():
    records = _records_that_agree()
    records["regional_cv"]["records_cv_rho"] = _entry(-0.46, None, display="-0.46")
    records["regional_cv"]["records_cv_p"] = _entry(0.10, None, display="0.10")
    row = scorecard.score_claims(records).loc["regional_cv.records_not_correlated"]
    assert "rho = -0.46" in row["book"] and "p = 0.10" in row["book"]
    with pytest.raises(ValueError, match="effect template"):
        paper.Claim("x.y", "x", "", "s", "q", "statement", True, tested=True)


def test_choices_and_bases_are_validated():
    with pytest.raises(ValueError, match="unknown book choices"):
        paper.Claim("x.y", "x", "", "s", "q", "value", 1, choices=("no_such_choice",))
    with pytest.raises(ValueError, match="construction"):
        paper.Claim("x.y", "x", "", "s", "q", "value", 1, basis="construction")
    with pytest.raises(ValueError, match="name the book choices"):
        paper.Claim("x.y", "x", "", "s", "q", "value", 1, reconstruction="a choice")


def test_headline_counts_keep_checks_and_constructions_apart():
    card = scorecard.score_claims(_records_that_agree())
    head = scorecard.headline_counts(card)
    assert head["all"] == len(paper.CLAIMS)
    assert head["tested"] + head["consistency check"] + head["by construction"] == head["all"]
    assert head["tested"] == sum(head[s] for s in paper.STATUSES if s not in paper.NOT_EVIDENCE)


def test_quotes_are_shown_without_latex_and_keep_their_numbers():
    for claim in paper.CLAIMS:
        shown = scorecard.quote_text(claim.quote)
        assert "$" not in shown and "\\" not in shown and "text{" not in shown, (claim.claim_id, shown)
    assert scorecard.quote_text(paper.get_claim("temporal_trends.trend_range").quote).endswith("0.23 Pg C yr⁻¹")
    assert "5.0 Pg C yr⁻¹ °C⁻¹" in scorecard.quote_text(paper.get_claim("temporal_trends.sensitivity_range").quote)
    assert scorecard.quote_text(paper.get_claim("temporal_trends.anomaly_range").quote).endswith("+5 Pg C yr⁻¹")


def test_a_ranges_quote_holds_both_of_its_numbers():
    """A quote cut before the number it tests (issue #21: #26, #28, #31) is refused."""
    for claim in paper.CLAIMS:
        if claim.kind in ("range", "within"):
            shown = scorecard.quote_text(claim.quote)
            for end in (claim.low, claim.high):
                text = f"{abs(end):g}"
                assert text in shown, (claim.claim_id, text, shown)


def test_a_value_outside_the_tolerance_differs_with_its_reason():
    records = _records_that_agree()
    records["totals"]["post2010_mean"]["value"] = 89 + 0.51  # paper 89, tolerance 0.5
    records["totals"]["post2010_mean"]["display"] = "89.51"
    for name in ("post2010_mean", "choice_mean_min", "choice_mean_max"):
        records["totals"].setdefault(name, _entry("y", None))
    card = scorecard.score_claims(records)
    row = card.loc["totals.post2010_mean"]
    assert row["status"] == "differs" and "89.51" in row["reason"]
    records["totals"]["post2010_mean"]["value"] = 89.49
    # within the tolerance it agrees, but through the book's choices: reconstructed, never reproduced
    assert scorecard.score_claims(records).loc["totals.post2010_mean", "status"] == "reconstructed"


def test_published_map_claims_are_scored_when_the_build_used_the_published_maps():
    records = _records_that_agree()
    records["regional_cv"]["high_cv_regions"]["context"] = {"ensemble": "published"}
    records["regional_cv"]["high_cv_regions"]["value"] = ["B2", "C2"]
    card = scorecard.score_claims(records)
    assert card.loc["regional_cv.high_cv_regions", "status"] == "differs"
    with pytest.raises(AssertionError, match="rows without a reason"):
        scorecard.check_scorecard(card)  # no reason is known for this difference


def test_the_check_refuses_missing_rows_bad_statuses_and_reproduced_rows_outside_tolerance():
    card = scorecard.score_claims(_records_that_agree())
    with pytest.raises(AssertionError, match="claims without a row"):
        scorecard.check_scorecard(card.drop(index="totals.pre2010_mean"))
    broken = card.copy()
    broken.loc["totals.pre2010_sd", "status"] = ""
    with pytest.raises(AssertionError, match="without a valid status"):
        scorecard.check_scorecard(broken)
    broken = card.copy()
    assert broken.loc["methods_table.srdb_v5_observations", "status"] == "reproduced"
    broken.loc["methods_table.srdb_v5_observations", "within_tolerance"] = False
    with pytest.raises(AssertionError, match="outside their tolerance"):
        scorecard.check_scorecard(broken)


def test_missing_chapter_or_claim_record_is_named():
    records = _records_that_agree()
    del records["seasonality"]
    with pytest.raises(KeyError, match="seasonality"):
        scorecard.score_claims(records)
    records = _records_that_agree()
    del records["totals"]["pre2010_sd"]
    with pytest.raises(KeyError, match="totals.pre2010_sd"):
        scorecard.score_claims(records)


def test_counts_list_every_status():
    card = pd.DataFrame({"status": ["reproduced", "reproduced", "differs"]})
    counts = scorecard.count_statuses(card)
    assert counts.to_dict() == {
        "reproduced": 2,
        "reconstructed": 0,
        "consistency check": 0,
        "by construction": 0,
        "differs": 1,
        "not reproducible offline": 0,
    }


def test_scorecard_html_links_each_row_to_its_section():
    card = scorecard.score_claims(_records_that_agree())
    html = scorecard.scorecard_html(card)
    assert '<a href="../notebooks/totals.html#headline-statistics-beside-the-paper-s">mean after 2010</a>' in html
    assert "$" not in html  # the quotes' LaTeX is shown as plain text
    assert html.count("<tr>") == len(card)  # one per claim (the header row is styled)
    assert html.count("<td>totals.post2010_mean</td>") == 1
    assert pages.format_range((5.0, 1.9)) == "1.9-5"


def test_the_scorecard_downloads_as_csv_with_every_claim():
    card = scorecard.score_claims(_records_that_agree())
    text = scorecard.scorecard_csv(card)
    back = pd.read_csv(__import__("io").StringIO(text))
    assert list(back["claim"]) == list(card.index)
    assert {"status", "paper", "book", "reason", "choices", "quote", "quote_plain"} <= set(back.columns)
    link = pages.csv_download_html(text, "scorecard.csv", "Download")
    assert link.startswith('<p><a download="scorecard.csv" href="data:text/csv;charset=utf-8,')
    from urllib.parse import unquote

    assert unquote(link.split("charset=utf-8,", 1)[1].split('">', 1)[0]) == text
