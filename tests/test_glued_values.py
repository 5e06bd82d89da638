"""scripts/glued_values.py reads back what a chapter glued, as globalrs.reproduction.record glues it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("glued_values", REPO_ROOT / "scripts" / "glued_values.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_glued_text_is_read_whether_or_not_the_glue_was_displayed(tmp_path):
    glued_values = _script()
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from myst_nb import glue\nglue('hidden_total', 88.9, display=False)\nglue('shown_label', 'B2', display=True)\n"
        )
    ]
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    assert glued_values.execute(path) == {"hidden_total": "88.9", "shown_label": "'B2'"}


def test_diff_lists_changed_new_and_gone_values():
    glued_values = _script()
    before = {"totals": {"mean": "74", "sd": "5.2", "gone": "1"}}
    after = {"totals": {"mean": "74", "sd": "5.3", "new": "2"}}
    assert glued_values.diff(before, after) == [
        "totals:gone: 1 -> (absent)",
        "totals:new: (absent) -> 2",
        "totals:sd: 5.2 -> 5.3",
    ]
