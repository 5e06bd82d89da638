"""The reproduction scorecard of the built book: every claim has a row with a status, and the
rows agree with the records the chapters wrote during the build (run after ``./run.sh book``)."""

from __future__ import annotations

import re

import pytest

from globalrs.reproduction import paper, scorecard
from globalrs.reproduction.record import read_records


@pytest.fixture(scope="session")
def scorecard_html(html_dir) -> str:
    path = html_dir / "reference" / "scorecard.html"
    if not path.is_file():
        pytest.fail(f"{path} is missing: the scorecard page was not built")
    return path.read_text(encoding="utf-8")


def test_every_claim_has_a_row_with_a_status(scorecard_html):
    rows = re.findall(r"<tr>(.*?)</tr>", scorecard_html, flags=re.DOTALL)
    shown = {}
    for body in rows:
        ids = re.findall(r"<td>(\w+\.\w+)</td>", body)
        if ids:
            shown[ids[-1]] = body  # the claim id is the last cell of its row
    missing = [c.claim_id for c in paper.CLAIMS if c.claim_id not in shown]
    assert not missing, f"claims without a row on the scorecard page: {missing}"
    no_status = [c for c, body in shown.items() if not any(f"<td>{s}</td>" in body for s in paper.STATUSES)]
    assert not no_status, f"scorecard rows without a status: {no_status}"


def test_the_build_records_score_within_tolerance():
    """Rebuilt from the records of this build: reproduced rows lie within their tolerance, and
    every other status carries its reason."""
    card = scorecard.score_claims(read_records(paper.chapters_with_claims()))
    scorecard.check_scorecard(card)


def test_the_scorecard_downloads_as_csv_with_a_row_per_claim(scorecard_html):
    import csv
    import io
    from urllib.parse import unquote

    found = re.search(r'<a download="scorecard.csv" href="data:text/csv;charset=utf-8,([^"]*)"', scorecard_html)
    assert found, "the scorecard page offers no CSV download"
    rows = list(csv.DictReader(io.StringIO(unquote(found.group(1)))))
    assert [r["claim"] for r in rows] == [c.claim_id for c in paper.CLAIMS]
    assert all(r["status"] in paper.STATUSES for r in rows)
