"""Every chapter in _toc.yml has the shape a reader relies on.

- the entry resolves to a file;
- a notebook opens with a markdown cell holding the title and the "Overview" and "Prerequisites"
  sections, and ends with a "Summary" section (which may hold code cells that compute it)
  followed only by "What's next" in the last cell;
- it is committed without outputs, for the ``python3`` kernel;
- every cell that shows a figure carries a caption, a name and alt text in its metadata
  (``{"mystnb": {"figure": {"caption": ..., "name": ...}, "image": {"alt": ...}}}``), and figure
  names are unique book-wide;
- tables are shown as DataFrames (HTML), not as text, and the offline rules hold (no
  ``sys.path`` edits, no cartopy downloads, no hard-coded mirror paths).

These checks read the notebooks only (no execution). The rendered site is checked separately,
after the book build, by ``site_tests/`` (images inside captioned figures with alt text, etc.).
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from globalrs.core.booktoc import resolve_source, toc_entries

REPO_ROOT = Path(__file__).resolve().parents[1]

HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)
# A cell that creates a figure and leaves it open is displayed at the end of the cell
# (matplotlib-inline); plt.show() / display(fig) display it explicitly.
FIGURE_SHOW_RE = re.compile(r"\bplt\.show\(|\bdisplay\(\s*fig")
FIGURE_CREATE_RE = re.compile(
    r"\bplt\.(subplots|figure|subplot|subplot_mosaic)\(|\bmake_map_axes\(|\bsns\.\w+\(|\.plot\("
    r"|\bplot_\w+\("
)
FIGURE_CLOSE_RE = re.compile(r"\bplt\.close\(")
LAST_EXPR_FIGURE_RE = re.compile(r"^(fig|figure|g|grid|facet)\w*\s*;?$")
TEXT_TABLE_RE = re.compile(r"\.to_string\(|\.to_markdown\(|\btabulate\(")
FORBIDDEN_SOURCE = {
    "edits sys.path (install the library instead)": re.compile(r"\bsys\.path\.(append|insert)\(|\bsys\.path\s*\+?="),
    "calls cartopy coastlines/features, which download (use globalrs.viz.plots.add_coastlines)": re.compile(
        r"\.coastlines\(|cartopy\.feature|\bcfeature\.|\.stock_img\("
    ),
    "hard-codes the data mirror path (use globalrs.sources.data.fetch)": re.compile(r"/work/shared"),
}


# ----------------------------------------------------------------------------- helpers


def cell_source(cell: dict) -> str:
    """A cell's source as one string (nbformat allows a list of lines)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def headings(markdown: str) -> list[tuple[int, str]]:
    """(level, text) of the ATX headings in a markdown string, code fences ignored."""
    without_code = re.sub(r"```.*?```", "", markdown, flags=re.DOTALL)
    return [(len(m.group(1)), m.group(2).strip()) for m in HEADING_RE.finditer(without_code)]


def has_heading(markdown: str, name: str) -> bool:
    """True if a heading of level >= 2 starts with ``name`` (case-insensitive, ' and ’ alike)."""
    want = name.lower().replace("’", "'")
    return any(level >= 2 and text.lower().replace("’", "'").startswith(want) for level, text in headings(markdown))


def shows_figure(source: str) -> bool:
    """Heuristic: does this code cell display a matplotlib figure?"""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("#"))
    if FIGURE_SHOW_RE.search(code):
        return True
    lines = [line.strip() for line in code.splitlines() if line.strip()]
    if lines and LAST_EXPR_FIGURE_RE.match(lines[-1]):
        return True
    return bool(FIGURE_CREATE_RE.search(code)) and not FIGURE_CLOSE_RE.search(code)


# Calls whose return value is None (nothing displayed) that figure cells commonly end with.
NONE_RETURNING = {"show", "close", "tight_layout", "savefig", "subplots_adjust", "set_size_inches", "clf", "draw"}
# A last-line call displays its value when it is a matplotlib method (Text, Legend, lines, ...).
DISPLAYING_CALL_RE = re.compile(r"^(ax|axes|axs|fig|plt|g|grid)\w*(\[[^\]]*\])*\.")


def figure_cell_extra_outputs(source: str) -> list[str]:
    """Outputs besides the figure that a figure cell would display (myst-nb wraps them all in the
    captioned figure): a bare last expression, or ``display(x)`` of something not named like a figure.
    """
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []
    extra = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "display":
            shown = [ast.unparse(a) for a in node.args]
            extra += [f"display({x})" for x in shown if not re.match(r"^(fig|figure|g|grid)\w*$", x)]
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1].value
        text = ast.unparse(last)
        ends_quiet = bool(lines) and lines[-1].rstrip().endswith(";")
        if isinstance(last, ast.Call):
            # other calls (display, glue, print, helpers) are assumed to return None
            func = ast.unparse(last.func)
            displays = bool(DISPLAYING_CALL_RE.match(func)) and func.rsplit(".", 1)[-1] not in NONE_RETURNING
        else:
            displays = not isinstance(last, ast.Constant) and not LAST_EXPR_FIGURE_RE.match(text)
        if displays and not ends_quiet:
            extra.append(f"the value of its last line `{text[:60]}`")
    return extra


def figure_metadata_problems(cell: dict) -> list[str]:
    """What is missing from a figure cell's mystnb metadata (empty list when complete)."""
    mystnb = cell.get("metadata", {}).get("mystnb", {})
    fig = mystnb.get("figure", {}) or {}
    img = mystnb.get("image", {}) or {}
    problems = []
    if not str(fig.get("caption", "")).strip():
        problems.append("mystnb.figure.caption")
    if not str(fig.get("name", "")).strip():
        problems.append("mystnb.figure.name")
    if not str(img.get("alt", "")).strip():
        problems.append("mystnb.image.alt")
    return problems


def ending_problems(cells: list[dict]) -> list[str]:
    """The chapter must end with a "Summary" section followed only by "What's next".

    The summary may contain code cells (a summary whose numbers are computed, as the book's rules
    require), but no other section may follow it, and the last cell must be the markdown cell
    holding "What's next".
    """
    if cells[-1].get("cell_type") != "markdown":
        return ["last cell is not markdown (it must hold the '## What's next' section)"]
    if not has_heading(cell_source(cells[-1]), "What's next"):
        return ["the last cell has no '## What's next' section"]
    # headings (level >= 2) of all markdown cells, in order
    sequence = [
        text.lower().replace("’", "'")
        for c in cells
        if c.get("cell_type") == "markdown"
        for level, text in headings(cell_source(c))
        if level == 2
    ]
    summary_at = [i for i, text in enumerate(sequence) if text.startswith("summary")]
    if not summary_at:
        return ["no '## Summary' section"]
    after = [t for t in sequence[summary_at[-1] + 1 :] if not t.startswith("what's next")]
    if after:
        return [f"sections between '## Summary' and '## What's next': {after}"]
    return []


def structure_problems(nb: dict) -> list[str]:
    """Everything wrong with a chapter notebook's opening, ending and committed state."""
    cells = nb.get("cells", [])
    problems: list[str] = []
    if not cells:
        return ["notebook has no cells"]
    first = cells[0]
    if first.get("cell_type") != "markdown":
        problems.append("first cell is not markdown")
    else:
        text = cell_source(first)
        if not any(level == 1 for level, _ in headings(text)):
            problems.append("first cell has no '# Title' heading")
        for name in ("Overview", "Prerequisites"):
            if not has_heading(text, name):
                problems.append(f"first cell has no '## {name}' section")
    problems += ending_problems(cells)
    kernel = (nb.get("metadata", {}).get("kernelspec") or {}).get("name")
    if kernel != "python3":
        problems.append(f"kernelspec name is {kernel!r}, not 'python3' (the only kernel CI and Binder install)")
    for i, cell in enumerate(cells):
        if cell.get("cell_type") == "code" and (cell.get("outputs") or cell.get("execution_count")):
            problems.append(f"cell {i} has committed outputs (clear them before committing)")
    return problems


def code_problems(nb: dict) -> list[str]:
    """Figure cells without caption/alt metadata, text tables, and offline-rule violations."""
    problems: list[str] = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        src = cell_source(cell)
        has_fig_meta = "figure" in cell.get("metadata", {}).get("mystnb", {})
        if shows_figure(src) or has_fig_meta:
            missing = figure_metadata_problems(cell)
            if missing:
                problems.append(f"cell {i} shows a figure but lacks {', '.join(missing)}")
            extra = figure_cell_extra_outputs(src)
            if extra:
                problems.append(
                    f"cell {i} is a figure cell but also displays {', '.join(extra)} (it would be wrapped in the "
                    "captioned figure: end with plt.show() and show tables in their own cell)"
                )
        if TEXT_TABLE_RE.search(src):
            problems.append(f"cell {i} renders a table as text (display the DataFrame instead)")
        for why, pattern in FORBIDDEN_SOURCE.items():
            if pattern.search(src):
                problems.append(f"cell {i} {why}")
    return problems


def figure_names(nb: dict) -> list[str]:
    """The mystnb figure names a notebook declares."""
    names = []
    for cell in nb.get("cells", []):
        name = cell.get("metadata", {}).get("mystnb", {}).get("figure", {}).get("name")
        if name:
            names.append(str(name))
    return names


# ----------------------------------------------------------------------------- the real book


def load_toc() -> dict:
    return yaml.safe_load((REPO_ROOT / "_toc.yml").read_text())


TOC_ENTRIES = toc_entries(load_toc())
NOTEBOOKS = [p for p in (resolve_source(e, REPO_ROOT) for e in TOC_ENTRIES) if p is not None and p.suffix == ".ipynb"]


def read_notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_toc_entries_resolve_to_files():
    missing = [e for e in TOC_ENTRIES if resolve_source(e, REPO_ROOT) is None]
    assert TOC_ENTRIES, "_toc.yml lists no pages"
    assert not missing, f"_toc.yml entries with no .ipynb/.md/.rst file: {missing}"


def test_toc_has_no_duplicates():
    dup = [e for e, n in Counter(TOC_ENTRIES).items() if n > 1]
    assert not dup, f"_toc.yml lists these pages more than once: {dup}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_opens_with_overview_and_ends_with_summary(path):
    problems = structure_problems(read_notebook(path))
    assert not problems, f"{path.relative_to(REPO_ROOT)}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_figures_have_captions_and_alt_text(path):
    problems = code_problems(read_notebook(path))
    assert not problems, f"{path.relative_to(REPO_ROOT)}:\n  " + "\n  ".join(problems)


def test_figure_names_are_unique_book_wide():
    names = Counter(n for p in NOTEBOOKS for n in figure_names(read_notebook(p)))
    dup = sorted(n for n, k in names.items() if k > 1)
    assert not dup, f"figure names used more than once across chapters: {dup}"


# ----------------------------------------------------------------------------- the checks themselves


def _md(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _code(text: str, metadata: dict | None = None, outputs: list | None = None) -> dict:
    return {
        "cell_type": "code",
        "metadata": metadata or {},
        "source": text,
        "outputs": outputs or [],
        "execution_count": None,
    }


GOOD_META = {"mystnb": {"figure": {"caption": "A map.", "name": "fig-x-map"}, "image": {"alt": "Map of x"}}}


def _good_nb() -> dict:
    return {
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "cells": [
            _md("# Title\n\n## Overview\n\ntext\n\n## Prerequisites\n\n- x\n"),
            _code("import numpy as np"),
            _code("fig, ax = plt.subplots()\nax.plot([1, 2])\nplt.show()", GOOD_META),
            _md("## Summary\n\ntext\n\n## What’s next\n\ntext"),
        ],
    }


def test_toc_entries_walks_chapters_parts_and_sections():
    toc = {
        "root": "intro",
        "chapters": [{"file": "a", "sections": [{"file": "a1"}]}, {"url": "https://x"}],
        "parts": [{"caption": "P", "chapters": [{"file": "b"}]}],
    }
    assert toc_entries(toc) == ["intro", "a", "a1", "b"]


def test_resolve_source_tries_suffixes(tmp_path):
    (tmp_path / "nb").mkdir()
    (tmp_path / "nb" / "x.ipynb").write_text("{}")
    (tmp_path / "y.md").write_text("")
    assert resolve_source("nb/x", tmp_path) == tmp_path / "nb" / "x.ipynb"
    assert resolve_source("y", tmp_path) == tmp_path / "y.md"
    assert resolve_source("z", tmp_path) is None


def test_a_well_formed_notebook_passes():
    nb = _good_nb()
    assert structure_problems(nb) == []
    assert code_problems(nb) == []


def test_missing_overview_prerequisites_and_title_are_reported():
    nb = _good_nb()
    nb["cells"][0] = _md("Some text\n\n## Overview\n")
    problems = structure_problems(nb)
    assert "first cell has no '# Title' heading" in problems
    assert "first cell has no '## Prerequisites' section" in problems
    assert not any("Overview" in p for p in problems)


def test_chapter_must_end_with_summary_then_whats_next():
    nb = _good_nb()
    nb["cells"].append(_code("x = 1"))
    assert structure_problems(nb) == ["last cell is not markdown (it must hold the '## What's next' section)"]
    nb = _good_nb()
    nb["cells"][-1] = _md("## Summary\n\ntext")
    assert structure_problems(nb) == ["the last cell has no '## What's next' section"]
    nb = _good_nb()
    nb["cells"][-1] = _md("## Conclusions\n\ntext\n\n## What's next\n\ntext")
    assert structure_problems(nb) == ["no '## Summary' section"]
    nb = _good_nb()
    nb["cells"][-1:] = [_md("## Summary\n\nx\n\n## Extra analysis"), _code("y = 2"), _md("## What's next")]
    assert structure_problems(nb) == ["sections between '## Summary' and '## What's next': ['extra analysis']"]


def test_a_computed_summary_may_hold_code_cells():
    nb = _good_nb()
    nb["cells"][-1:] = [_md("text\n\n## Summary"), _code("display(Markdown(lines))"), _md("## What's next\n\nx")]
    assert structure_problems(nb) == []


def test_other_kernels_are_reported():
    nb = _good_nb()
    nb["metadata"]["kernelspec"]["name"] = "myenv"
    assert structure_problems(nb) == ["kernelspec name is 'myenv', not 'python3' (the only kernel CI and Binder install)"]


def test_committed_outputs_are_reported():
    nb = _good_nb()
    nb["cells"][1] = _code("1", outputs=[{"output_type": "stream", "name": "stdout", "text": "1"}])
    assert any("committed outputs" in p for p in structure_problems(nb))


def test_figure_cell_without_caption_or_alt_is_reported():
    nb = _good_nb()
    nb["cells"][2]["metadata"] = {"mystnb": {"figure": {"caption": "A map."}}}
    (problem,) = code_problems(nb)
    assert "mystnb.figure.name" in problem and "mystnb.image.alt" in problem
    assert "caption" not in problem


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("fig, ax = plt.subplots()\nax.plot(x)\nplt.show()", True),
        ("axes = make_map_axes(1, 2)\nplot_map(f, axes[0])", True),  # left open: shown by inline backend
        ("fig = make_figure(df)\nfig", True),
        ("df.plot(x='a')", True),
        ("fig, ax = plt.subplots()\nax.plot(x)\nfig.savefig(p)\nplt.close(fig)", False),
        ("total = global_total_pg(rs)\ntotal", False),
        ("# plt.show()\nx = 1", False),
    ],
)
def test_shows_figure_heuristic(source, expected):
    assert shows_figure(source) is expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("fig, ax = plt.subplots()\nax.plot(x)\nplt.show()", []),
        ("fig, ax = plt.subplots()\nax.plot(x)\nfig", []),
        ("fig, ax = plt.subplots()\nax.set_title('t');", []),
        ("%matplotlib inline\nfig, ax = plt.subplots()\nplt.show()", []),
        ("fig, ax = plt.subplots()\nax.set_title('t')", ["the value of its last line `ax.set_title('t')`"]),
        ("display(table)\nfig, ax = plt.subplots()\nplt.show()", ["display(table)"]),
        ("fig = plot_thing()\ndisplay(fig)", []),
        ("fig, ax = plt.subplots()\nglue('x', 1, display=False)", []),
        ("fig, axes = plt.subplots(1, 2)\naxes[0].legend()", ["the value of its last line `axes[0].legend()`"]),
        ("fig, ax = plt.subplots()\nplt.tight_layout()", []),
        ("fig, ax = plt.subplots()\nobs", ["the value of its last line `obs`"]),
        ("fig, ax = plt.subplots()\nobs.head()", []),  # unknowable statically; the site test sees it
    ],
)
def test_figure_cell_extra_outputs(source, expected):
    assert figure_cell_extra_outputs(source) == expected


def test_text_tables_and_offline_violations_are_reported():
    nb = _good_nb()
    nb["cells"][1] = _code(
        "import sys\nsys.path.insert(0, '../lib')\nprint(df.to_string())\nax.coastlines()\np = '/work/shared/data/x.csv'"
    )
    problems = " | ".join(code_problems(nb))
    for fragment in ("as text", "sys.path", "coastlines", "mirror path"):
        assert fragment in problems


def test_has_heading_ignores_code_fences_and_level_one():
    assert not has_heading("```\n## Summary\n```", "Summary")
    assert not has_heading("# Summary", "Summary")
    assert has_heading("### What's next?", "What's next")
