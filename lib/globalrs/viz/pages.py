"""Pieces of a book page that are neither a figure nor a claim: tables as a reader sees them, data as a download link.

Chapters show a figure's or a table's data as a link inside the page (:func:`csv_download_html`),
so a reader can take the numbers without a file beside the page, offline as well. A table with
empty cells is shown through :func:`page_table`, which writes a dash where pandas would print
``NaN`` or ``<NA>`` (a value the source does not give, a region not compared, a route without an
interval), keeping pandas' own number formatting.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import pandas as pd

#: What an empty cell of a table on a page shows (an en dash: "no value", not a zero).
MISSING_CELL = "\u2013"
#: pandas' own scoped style of a DataFrame in a notebook (alignment of the header and index cells).
_FRAME_STYLE = (
    "<style scoped>.dataframe tbody tr th:only-of-type {vertical-align: middle;}"
    " .dataframe tbody tr th {vertical-align: top;} .dataframe thead th {text-align: right;}</style>"
)


@dataclass(frozen=True)
class PageTable:
    """A DataFrame shown on a page with :data:`MISSING_CELL` in its empty cells (see :func:`page_table`).

    Attributes
    ----------
    frame
        The table itself, unchanged (its values, NaN included, for further work).
    missing
        What an empty cell shows.
    """

    frame: pd.DataFrame
    missing: str = MISSING_CELL

    def _repr_html_(self) -> str:
        shown = self.frame.copy()
        for i in range(shown.shape[1]):
            column = shown.iloc[:, i]
            if isinstance(column.dtype, pd.api.extensions.ExtensionDtype) and column.hasnans:
                # nullable integers, booleans, strings print <NA> whatever na_rep says: show the dash
                if pd.api.types.is_float_dtype(column.dtype):
                    shown.isetitem(i, column.astype(float))
                else:
                    shown.isetitem(i, column.astype(object).where(column.notna(), self.missing))
        return f"<div>{_FRAME_STYLE}{shown.to_html(na_rep=self.missing)}</div>"

    def __repr__(self) -> str:
        return repr(self.frame)


def page_table(frame: pd.DataFrame, missing: str = MISSING_CELL) -> PageTable:
    """``frame`` as a page shows it: pandas' table, with ``missing`` (an en dash) where a cell is empty.

    Parameters
    ----------
    frame
        The table; it is not changed.
    missing
        The text of an empty cell (``NaN``, ``None`` or ``<NA>``).

    Returns
    -------
    PageTable
        Displays as HTML in a notebook (the last expression of a cell, or ``display(...)``);
        ``.frame`` is the table.
    """
    return PageTable(frame, missing)


def csv_download_html(csv_text: str, filename: str, label: str) -> str:
    """A link that downloads ``csv_text`` as ``filename``, the data inside the page (a ``data:`` URI).

    Parameters
    ----------
    csv_text
        The CSV text (for example ``frame.to_csv(index=False)``).
    filename
        The name the browser saves the file under.
    label
        The link's text.

    Returns
    -------
    str
        One HTML paragraph holding the link (for ``IPython.display.HTML``).
    """
    href = "data:text/csv;charset=utf-8," + quote(csv_text)
    return f'<p><a download="{filename}" href="{href}">{label}</a></p>'


def format_range(pair, fmt: str = "g") -> str:
    """``low-high`` of a (low, high) pair, sorted, each formatted with ``fmt``."""
    low, high = sorted(float(v) for v in pair)
    return f"{low:{fmt}}-{high:{fmt}}"
