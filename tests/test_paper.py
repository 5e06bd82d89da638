"""The paper's claims (globalrs.paper) and the scorecard built from chapter records."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest
from docutils.nodes import make_id

from globalrs import paper
from globalrs.booktoc import resolve_source

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
        for name in re.findall(r"{(\w+)}", claim.reconstruction + claim.differs_reason):
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
    card = paper.score_claims(_records_that_agree())
    paper.check_scorecard(card)
    assert set(card.index) == {c.claim_id for c in paper.CLAIMS}
    for claim in paper.CLAIMS:
        status = card.loc[claim.claim_id, "status"]
        if claim.requires:
            assert status == "not reproducible offline"
        else:
            assert status == ("reconstructed" if claim.reconstruction else "reproduced"), claim.claim_id
    assert paper.count_statuses(card).sum() == len(paper.CLAIMS)


def test_a_value_outside_the_tolerance_differs_with_its_reason():
    records = _records_that_agree()
    records["totals"]["post2010_mean"]["value"] = 89 + 0.51  # paper 89, tolerance 0.5
    records["totals"]["post2010_mean"]["display"] = "89.51"
    for name in ("post2010_mean", "choice_mean_min", "choice_mean_max"):
        records["totals"].setdefault(name, _entry("y", None))
    card = paper.score_claims(records)
    row = card.loc["totals.post2010_mean"]
    assert row["status"] == "differs" and "89.51" in row["reason"]
    records["totals"]["post2010_mean"]["value"] = 89.49
    assert paper.score_claims(records).loc["totals.post2010_mean", "status"] == "reproduced"


def test_published_map_claims_are_scored_when_the_build_used_the_published_maps():
    records = _records_that_agree()
    records["regional_cv"]["high_cv_regions"]["context"] = {"ensemble": "published"}
    records["regional_cv"]["high_cv_regions"]["value"] = ["B2", "C2"]
    card = paper.score_claims(records)
    assert card.loc["regional_cv.high_cv_regions", "status"] == "differs"
    with pytest.raises(AssertionError, match="rows without a reason"):
        paper.check_scorecard(card)  # no reason is known for this difference


def test_the_check_refuses_missing_rows_bad_statuses_and_reproduced_rows_outside_tolerance():
    card = paper.score_claims(_records_that_agree())
    with pytest.raises(AssertionError, match="claims without a row"):
        paper.check_scorecard(card.drop(index="totals.pre2010_mean"))
    broken = card.copy()
    broken.loc["totals.pre2010_sd", "status"] = ""
    with pytest.raises(AssertionError, match="without a valid status"):
        paper.check_scorecard(broken)
    broken = card.copy()
    broken.loc["totals.pre2010_sd", "within_tolerance"] = False
    with pytest.raises(AssertionError, match="outside their tolerance"):
        paper.check_scorecard(broken)


def test_missing_chapter_or_claim_record_is_named():
    records = _records_that_agree()
    del records["seasonality"]
    with pytest.raises(KeyError, match="seasonality"):
        paper.score_claims(records)
    records = _records_that_agree()
    del records["totals"]["pre2010_sd"]
    with pytest.raises(KeyError, match="totals.pre2010_sd"):
        paper.score_claims(records)


def test_counts_list_every_status():
    card = pd.DataFrame({"status": ["reproduced", "reproduced", "differs"]})
    counts = paper.count_statuses(card)
    assert counts.to_dict() == {"reproduced": 2, "reconstructed": 0, "differs": 1, "not reproducible offline": 0}


def test_scorecard_html_links_each_row_to_its_section():
    card = paper.score_claims(_records_that_agree())
    html = paper.scorecard_html(card)
    assert '<a href="../notebooks/totals.html#headline-statistics-beside-the-paper-s">totals</a>' in html
    assert html.count("<tr>") == len(card)  # one per claim (the header row is styled)
    assert html.count("<td>totals.post2010_mean</td>") == 1
    assert paper.format_range((5.0, 1.9)) == "1.9-5"
