"""The results record: chapters glue a value into their prose and record it in one step.

A chapter calls :func:`start_record` once (at the top) and then :func:`record` for every value
its text or the reproduction scorecard uses. :func:`record` glues the value (``myst_nb.glue``,
so the page can paste it with ``{glue:text}``) and appends it to the chapter's JSON file,
``<results dir>/<chapter>.json``. The results directory is ``$GLOBALRS_RESULTS_DIR`` or, by
default, ``<book root>/_build/results/`` (the folder holding ``_toc.yml``). The scorecard reads
these files (:func:`read_records`) instead of recomputing or copying a number.

File layout::

    {"chapter": "totals", "started_utc": "...", "records": {
        "post2010_mean": {"value": 87.7, "display": "87.7", "claim": "totals.post2010_mean",
                          "context": {}}, ...}}
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from globalrs.core.config import RESULTS_DIR_ENV, get_results_dir_override  # noqa: F401  (RESULTS_DIR_ENV: its old home)

#: The repository root (the library is installed in editable mode from ``<repo>/lib``).
REPO_ROOT = Path(__file__).resolve().parents[3]
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

_current_chapter: str | None = None


def book_root(start: Path | None = None) -> Path:
    """The book's root: the nearest folder holding ``_toc.yml`` at or above ``start`` (default: the
    working directory, where a chapter runs), else the repository the library is installed from."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file():
            return folder
    return REPO_ROOT


def results_dir() -> Path:
    """Where the chapters' records go: ``$GLOBALRS_RESULTS_DIR`` or ``<book root>/_build/results``."""
    return get_results_dir_override() or book_root() / "_build" / "results"


def record_path(chapter: str, directory: Path | None = None) -> Path:
    """The JSON file of one chapter's records."""
    return Path(directory or results_dir()) / f"{chapter}.json"


def _plain(value: Any) -> Any:
    """The value as JSON: numpy scalars and arrays to Python, tuples to lists; NaN refused."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot record a non-finite number ({value})")
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [_plain(v) for v in value]
    raise TypeError(f"cannot record a value of type {type(value).__name__}: record numbers, text, booleans or lists of them")


def _write(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1, sort_keys=False))
    tmp.replace(path)


def start_record(chapter: str, directory: Path | None = None) -> Path:
    """Begin (and empty) the record of ``chapter`` for this run; later :func:`record` calls add to it.

    Returns
    -------
    pathlib.Path
        The chapter's record file.
    """
    global _current_chapter
    if not _NAME_RE.match(chapter):
        raise ValueError(f"chapter name {chapter!r} must be a notebook stem (letters, digits, _)")
    path = record_path(chapter, directory)
    _write(path, {"chapter": chapter, "started_utc": datetime.now(UTC).isoformat(timespec="seconds"), "records": {}})
    _current_chapter = chapter
    return path


def format_value(value: Any, fmt: str) -> str:
    """The text of ``value`` formatted as ``f"{value:<fmt>}"`` would show it.

    Parameters
    ----------
    value
        A number (Python or numpy scalar, or a 0-d array such as ``float(xarray)`` would take).
    fmt
        A format spec (``".1f"``, ``"g"``, ``".0f"``, ``","``).

    Returns
    -------
    str
        The formatted text.

    Raises
    ------
    ValueError
        If ``fmt`` is not a valid format spec for ``value``.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    try:
        return format(value, fmt)
    except (TypeError, ValueError) as err:
        raise ValueError(f"cannot format {value!r} with fmt={fmt!r}: {err}") from None


def record(
    name: str,
    value: Any,
    *,
    claim: str | None = None,
    fmt: str | None = None,
    display: str | None = None,
    context: Mapping[str, Any] | None = None,
    glue: bool = True,
    directory: Path | None = None,
) -> None:
    """Glue ``value`` under ``name`` and add it to the current chapter's record.

    Parameters
    ----------
    name
        Glue key and record name (letters, digits, ``_``; unique within the chapter).
    value
        A number, text, boolean, or a list of them (the machine-readable value).
    claim
        Id of the paper's claim (:mod:`globalrs.reproduction.paper`) this value tests, if any.
    fmt
        Format spec for the text pasted in the prose, as after the colon of an f-string
        (``fmt=".1f"`` shows 87.66 as "87.7"): the value is written once and shown formatted.
    display
        Text to paste in the prose when it is not the value formatted by ``fmt`` (words, a range);
        default: the value itself (or, with ``fmt``, the value formatted).
    context
        What the value depends on, e.g. ``{"ensemble": "standardized"}``.
    glue
        False to record without gluing (for values no sentence uses).

    Notes
    -----
    Returns nothing, on purpose: a chapter cell that ends with ``record(...)`` shows no stray
    value (a bare "0.0684462696783017" under the code) on the page.
    """
    if _current_chapter is None:
        raise RuntimeError("record() before start_record(<chapter>): call start_record at the top of the chapter")
    if not _NAME_RE.match(name):
        raise ValueError(f"record name {name!r}: use letters, digits and _ only")
    if fmt is not None and display is not None:
        raise ValueError(f"record {name!r}: give fmt= (the value formatted) or display= (other text), not both")
    if fmt is not None:
        display = format_value(value, fmt)
    if claim is not None:
        from globalrs.reproduction.paper import get_claim  # here: paper imports nothing from record

        owner = get_claim(claim).chapter
        if owner != _current_chapter:
            raise ValueError(f"claim {claim!r} belongs to chapter {owner!r}, not {_current_chapter!r}")
    entry = {
        "value": _plain(value),
        "display": None if display is None else str(display),
        "claim": claim,
        "context": _plain(dict(context or {})),
    }
    path = record_path(_current_chapter, directory)
    try:
        payload = json.loads(path.read_text())
    except FileNotFoundError:
        raise RuntimeError(f"the record file {path} vanished during the run") from None
    payload["records"][name] = entry
    _write(path, payload)
    if glue:
        from myst_nb import glue as myst_glue

        # the plain value (numpy scalars as Python numbers): a sentence never reads "np.int64(30)"
        myst_glue(name, entry["display"] if display is not None else entry["value"], display=False)


def read_records(chapters: Sequence[str], directory: Path | None = None) -> dict[str, dict[str, Any]]:
    """The records of several chapters: ``{chapter: {name: entry}}``.

    Raises
    ------
    FileNotFoundError
        Naming every chapter whose record file is missing (its notebook has not run in this build).
    ValueError
        If a file is not a chapter record.
    """
    out, missing = {}, []
    for chapter in chapters:
        path = record_path(chapter, directory)
        if not path.is_file():
            missing.append(f"{chapter} ({path})")
            continue
        payload = json.loads(path.read_text())
        if payload.get("chapter") != chapter or not isinstance(payload.get("records"), dict):
            raise ValueError(f"{path} is not the results record of chapter {chapter!r}")
        out[chapter] = payload["records"]
    if missing:
        raise FileNotFoundError(
            "no results record for chapter(s) "
            + ", ".join(missing)
            + ": execute those notebooks before the scorecard (the book build runs notebooks/ before reference/)"
        )
    return out
