"""What a reader should never meet on a page of the book: the checks of the site test
(``test_site.py``) on a page's outputs, as plain functions so they can be tested on their own."""

from __future__ import annotations

import re

# A cell whose last expression is a bare number or a numpy scalar repr (end it with ";" or assign).
BARE_VALUE_RE = re.compile(r"^\s*(np\.\w+\(.*\)|-?\d[\d_]*(\.\d*)?([eE][-+]?\d+)?|-?\.\d+|nan|inf)\s*$", re.DOTALL)
# A numpy scalar repr anywhere in an output ("np.int64(30) replicates"): format the number instead.
NP_REPR_RE = re.compile(r"\bnp\.(int|uint|float|bool|str|complex)_?\d*\(")
# Words of the book's workshop that a reader of the page should never meet.
INTERNAL_LABELS = (
    "UNVERIFIED",
    "new1",
    "new2",
    "(tested)",
    "stops the build",
    "stop the build",
    "not available here",
    "not available to this book",
)
#: More lines than this of one repeated progress message in one output is a progress log.
MAX_PROGRESS_LINES = 5


def progress_log_lines(text: str) -> int:
    """The largest number of lines of ``text`` that are one message with different numbers
    ("year 1961: 6 members done", "rh map 3/16"): the length of a progress log in an output."""
    templates: dict[str, int] = {}
    for line in text.splitlines():
        if re.search(r"\d", line):
            key = re.sub(r"\d+(\.\d+)?", "#", line.strip())
            templates[key] = templates.get(key, 0) + 1
    return max(templates.values(), default=0)


def truncated_cells(cells: list[str]) -> list[str]:
    """Table cells that pandas truncated: "..." alone (rows or columns left out) or at the end of
    a cut text."""
    return [c for c in cells if c.strip() == "..." or c.rstrip().endswith("...")]


def internal_labels(text: str) -> list[str]:
    """The internal labels (:data:`INTERNAL_LABELS`) found in a page's text."""
    return [label for label in INTERNAL_LABELS if re.search(r"(?<![\w])" + re.escape(label) + r"(?![\w])", text)]
