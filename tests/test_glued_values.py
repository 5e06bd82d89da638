"""scripts/glued_values.py reads the glued values of an executed notebook (no kernel needed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "glued_values.py"


def _module():
    spec = importlib.util.spec_from_file_location("glued_values", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_glued_values_are_read_under_myst_nbs_mime_prefix():
    cell = nbformat.v4.new_code_cell("glue(...)")
    prefix = "application/papermill.record/"
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={prefix + "text/plain": "23"},
            metadata={"scrapbook": {"mime_prefix": prefix, "name": "n_studies"}},
        ),
        nbformat.v4.new_output("display_data", data={"text/plain": "'not glued'"}),
    ]
    nb = nbformat.v4.new_notebook(cells=[cell])
    module = _module()
    assert module.glued_outputs(nb) == {"n_studies": "23"}
    assert module.diff({"c": {"n_studies": "22"}}, {"c": {"n_studies": "23"}}) == ["c:n_studies: 22 -> 23"]
