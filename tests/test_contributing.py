"""CONTRIBUTING.md's recipes work: the code on that page is run here, as a newcomer would run it.

Each recipe is a fenced block after an HTML comment ``<!-- recipe: NAME -->``. The member recipe
is executed and the member reaches the ensemble's member list and fits and predicts; the region
recipe registers the page's table and gives weights in the table's order; the dataset recipe is a
valid ``SOURCES`` entry for the registry builder; every command of the set-up block exists.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from globalrs.estimates import ensemble, members
from globalrs.gridding import regions

REPO = Path(__file__).resolve().parents[1]
TEXT = (REPO / "CONTRIBUTING.md").read_text()


def recipe(name: str) -> str:
    """The fenced block that follows ``<!-- recipe: name -->`` (indentation removed)."""
    m = re.search(rf"<!-- recipe: {re.escape(name)} -->\s*```\w*\n(.*?)```", TEXT, flags=re.S)
    assert m, f"CONTRIBUTING.md has no recipe {name!r}"
    lines = m.group(1).splitlines()
    indent = min(len(ln) - len(ln.lstrip()) for ln in lines if ln.strip())
    return "\n".join(ln[indent:] for ln in lines) + "\n"


@pytest.fixture
def restored_members():
    before = ensemble.MEMBERS
    before_names = tuple(before)
    yield
    for name in set(ensemble.MEMBERS) - set(before_names):
        members.unregister(name)
    assert tuple(ensemble.MEMBERS) == before_names


def test_member_recipe_adds_a_member_that_fits_and_predicts(restored_members):
    namespace: dict = {}
    exec(compile(recipe("member"), "CONTRIBUTING.md:member", "exec"), namespace)
    assert "class_median" in ensemble.MEMBERS
    assert members.get("class_median").family == "Area x Mean"
    fit_data = members.FitData(
        tmean_c=np.zeros((4, 12)),
        prec_mm_month=np.zeros((4, 12)),
        landcover_group=np.array([0, 0, 1, 1]),
        rs_g_m2_yr=np.array([100.0, 300.0, 500.0, 900.0]),
    )
    params, estimator = members.get("class_median").fit(fit_data)
    cells = members.CellData(tmean_c=np.zeros((3, 12)), prec_mm_month=np.zeros((3, 12)), landcover_group=np.array([1, 0, 2]))
    predicted = members.get("class_median").predict_annual(params, estimator, cells)
    np.testing.assert_allclose(predicted, [700.0, 200.0, np.nan])


def test_region_recipe_registers_the_table_in_its_order(tmp_path):
    table_path = tmp_path / "regions_toy.csv"
    table_path.write_text(recipe("region-table"))
    namespace = {"table_path": table_path}
    try:
        exec(compile(recipe("region-set"), "CONTRIBUTING.md:region-set", "exec"), namespace)
        weights = namespace["weights"]
        assert list(weights["region"].values) == ["NAM", "SAM", "OW"]
        assert regions.region_order("toy") == ("NAM", "SAM", "OW")
        # the three regions share out the same cells as the paper's 14 (every continent is listed)
        paper = regions.region_weights()
        np.testing.assert_allclose(weights.sum("region").values, paper.sum("region").values, atol=1e-12)
        # and the two Americas are the paper's A regions
        americas = paper.sel(region=[r for r in paper["region"].values if r.startswith("A")]).sum("region")
        np.testing.assert_allclose(weights.sel(region=["NAM", "SAM"]).sum("region").values, americas.values, atol=1e-12)
    finally:
        regions.unregister_region_set("toy")


def test_dataset_recipe_is_a_source_the_builder_takes():
    spec = importlib.util.spec_from_file_location("build_registry", REPO / "scripts" / "build_registry.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    namespace = {"SOURCES": dict(module.SOURCES), "Source": module.Source}
    exec(compile(recipe("dataset"), "CONTRIBUTING.md:dataset", "exec"), namespace)
    added = namespace["SOURCES"]["toy"]
    assert isinstance(added, module.Source) and added.citation and added.bibkeys


def test_every_setup_command_exists():
    block = re.search(r"## Set up and check\s*```bash\n(.*?)```", TEXT, flags=re.S).group(1)
    for line in block.splitlines():
        for command in re.split(r"&&", line.split("#")[0]):
            words = command.split()
            if not words or words[0] == "export":
                continue
            path = REPO / words[0]
            assert path.exists() or shutil.which(words[0]) or (Path(sys.executable).parent / Path(words[0]).name).exists(), (
                f"CONTRIBUTING.md names {words[0]!r}, which is neither in the checkout nor the environment"
            )
