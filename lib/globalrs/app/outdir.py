"""The report folder of ``globalrs compare``: checked before any work, filled whole at the end.

Light on purpose (standard library only; pandas only to read an existing report's summary): the
command line calls :func:`check_out_dir` before it imports the comparison machinery (ilamb3,
scikit-learn, cartopy and the book's data flow, about 20 s), so an unusable ``--out`` is refused
at once.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from globalrs.core.exceptions import CompareError

#: the report's file name inside the folder
REPORT_FILE = "report.html"


def report_name(folder: Path) -> str | None:
    """Return the map name of the report in ``folder`` (its summary.csv), or None.

    Parameters
    ----------
    folder
        A report folder written by :func:`globalrs.app.compare.compare_map`.

    Returns
    -------
    str or None
        The ``name`` value of its summary table; None when there is no readable summary.
    """
    summary = folder / "summary.csv"
    if not summary.is_file():
        return None
    import pandas as pd  # only for a non-empty folder: keeps the command line's start quick

    try:
        values = pd.read_csv(summary, index_col=0)["value"]
        return str(values.get("name"))
    except (OSError, ValueError, KeyError, pd.errors.ParserError):
        return None


def check_out_dir(out: Path, name: str, force: bool = False) -> None:
    """Refuse an ``--out`` that cannot be used, before any work.

    Parameters
    ----------
    out
        The report folder asked for.
    name
        The map's label: a folder holding the report of the same map may be replaced.
    force
        Replace a non-empty folder that holds something else.

    Raises
    ------
    CompareError
        When ``out`` is a file, when its parent cannot be created or written, or when ``out`` is a
        non-empty folder that is not a report of the map ``name`` (another map's report or other
        files) and ``force`` is not set.
    """
    if out.exists() and not out.is_dir():
        raise CompareError(f"--out {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        other = report_name(out)
        if other != name:
            held = f"the report of another map ({other!r})" if other else "other files"
            raise CompareError(f"--out {out} is not empty: it holds {held}. Choose another folder or pass --force to replace it")
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        probe = tempfile.mkdtemp(prefix=f".{out.name}.check-", dir=parent)
    except OSError as exc:
        raise CompareError(f"cannot write the report beside --out {out}: {exc}") from exc
    shutil.rmtree(probe, ignore_errors=True)


def temporary_out_dir(out: Path) -> Path:
    """Make a new temporary folder beside ``out`` (same file system, so the final move is a rename).

    Parameters
    ----------
    out
        The final report folder.

    Returns
    -------
    pathlib.Path
        The temporary folder (created).

    Raises
    ------
    CompareError
        When the folder beside ``out`` cannot be written.
    """
    try:
        return Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.resolve().parent))
    except OSError as exc:
        raise CompareError(f"cannot write the report beside --out {out}: {exc}") from exc


def move_into_place(tmp: Path, out: Path) -> None:
    """Replace ``out`` by the finished report folder ``tmp``.

    Both steps are renames; the old folder is removed only once the new one is in place.

    Parameters
    ----------
    tmp
        The finished report folder (from :func:`temporary_out_dir`).
    out
        The final report folder.
    """
    old = None
    if out.exists():
        old = out.resolve().parent / f".{out.name}.old-{os.getpid()}"
        out.rename(old)
    try:
        tmp.rename(out)
    except OSError:
        if old is not None:
            old.rename(out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
