"""Pieces of a book page that are neither a figure nor a claim: a table's data as a download link.

Chapters show a figure's or a table's data as a link inside the page (:func:`csv_download_html`),
so a reader can take the numbers without a file beside the page, offline as well.
"""

from __future__ import annotations

from urllib.parse import quote


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
