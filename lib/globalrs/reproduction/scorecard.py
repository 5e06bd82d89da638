"""The scorecard: each of the paper's claims beside the book's record, judged, and shown.

:func:`score_claims` sets each claim of :data:`globalrs.reproduction.paper.CLAIMS` beside the value a
chapter recorded for it (:func:`globalrs.reproduction.record.record` with ``claim=``) and gives it a
status (:data:`globalrs.reproduction.paper.STATUSES`); a claim that names a choice of the book is never
"reproduced" (:func:`claim_status`). :func:`check_scorecard` refuses a scorecard with a claim without a
row or status, a "reproduced" row outside its tolerance or resting on a choice of the book, a
consistency check or a value matched by construction counted as a reproduction, or a row other than
"reproduced" without a reason. :func:`scorecard_html` and :func:`scorecard_csv` show it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from globalrs.reproduction.paper import BOOK_CHOICES, CLAIMS, NOT_EVIDENCE, ONLINE_RUNS, STATUSES, Claim


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
