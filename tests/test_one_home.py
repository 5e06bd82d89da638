"""One home for each shared piece of mechanics: a second definition anywhere in the library fails.

The checker parses every ``.py`` under ``lib/globalrs`` (packages included) and reports:

(a) the longitude-wrap formula ``(x + 180) % 360 - 180`` outside ``grid.py`` (use
    :func:`globalrs.core.grid.wrap_lon`);
(b) outside ``units.py``: an assignment to the name of a unit constant that ``units.py`` defines
    (``G_PER_PG = ...``, ``SECONDS_PER_YEAR = ...``), or an assignment whose value holds a literal
    unit factor (``1e15``, ``365.25``, ``86400``, ``31557600``, ``12.011`` ...);
(c) ``os.environ`` / ``os.getenv`` / ``from os import environ`` outside ``config.py`` (settings are
    read in :mod:`globalrs.core.config` only);
(d) a function defined with the name of a public function of a home module (``grid.py``:
    ``cell_area_m2``, ``global_total_pg``, ``wrap_lon``, ``same_grid``, ``make_grid_edges`` ...;
    ``units.py``; ``config.py``) anywhere else.

For example, each of these lines in ``lib/globalrs/foo.py`` fails the test::

    lon = ((lon + 180.0) % 360.0) - 180.0        # (a)
    G_PER_KG = 1000.0                            # (b) the name is a units constant
    SECONDS_PER_YEAR_HERE = 365.25 * 86400       # (b) literal unit factors
    cache = os.environ.get("GLOBALRS_CACHE_DIR")  # (c)
    def cell_area_m2(lat, lon): ...              # (d)

``test_the_checker_catches_*`` run the checker on such source strings, so the test is shown to
catch what it claims. :data:`TEMPORARY_ALLOWED` lists the copies that other branches of this round
remove; each entry names its file and is deleted when that branch is merged.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIBRARY = Path(__file__).resolve().parents[1] / "lib" / "globalrs"

#: the home of each kind of definition (paths relative to lib/globalrs)
HOMES = {"lon_wrap": "core/grid.py", "unit_constant": "core/units.py", "environment": "core/config.py"}
#: modules whose public functions are homes: a function of the same name elsewhere is a copy
HOME_FUNCTION_MODULES = ("core/grid.py", "core/units.py", "core/config.py")
#: literal unit factors that belong in units.py only (g per Pg, days per year, s per day ...)
UNIT_LITERALS = frozenset({1e15, 1e-15, 365.25, 86400.0, 31557600.0, 12.011, 15.999, 44.009, 1e12})

#: Known copies allowed while a change that removes them is under way: (file, rule, detail). Empty
#: now; an entry that no longer matches anything fails test_allow_list_is_not_stale.
TEMPORARY_ALLOWED: set[tuple[str, str, str]] = set()


def _number(node: ast.AST) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _number(node.operand)
        return -value if value is not None else None
    return None


def _is_lon_wrap(node: ast.AST) -> bool:
    """``(x + 180) % 360 - 180`` with any spelling of the numbers (180, 180.0)."""
    return (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Sub)
        and _number(node.right) == 180.0
        and isinstance(node.left, ast.BinOp)
        and isinstance(node.left.op, ast.Mod)
        and _number(node.left.right) == 360.0
        and isinstance(node.left.left, ast.BinOp)
        and isinstance(node.left.left.op, ast.Add)
        and 180.0 in (_number(node.left.left.right), _number(node.left.left.left))
    )


def _assigned_names(node: ast.AST) -> list[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return [t.id for target in targets for t in ast.walk(target) if isinstance(t, ast.Name)]


def _unit_violations(node: ast.AST, unit_names: set[str]) -> list[tuple[str, str]]:
    if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
        return []
    found = [("unit_constant", name) for name in _assigned_names(node) if name in unit_names]
    literals = {_number(n) for n in ast.walk(node.value)} & UNIT_LITERALS
    found += [("unit_literal", f"{value:g}") for value in sorted(literals)]
    return found


def _environment_violations(node: ast.AST) -> list[tuple[str, str]]:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
        if node.attr in ("environ", "getenv", "putenv", "unsetenv"):
            return [("environment", f"os.{node.attr}")]
    if isinstance(node, ast.ImportFrom) and node.module == "os":
        return [("environment", f"from os import {a.name}") for a in node.names if a.name in ("environ", "getenv")]
    return []


def find_second_homes(source: str, relpath: str, unit_names: set[str], home_functions: dict[str, str]) -> list[tuple[str, str]]:
    """The (rule, detail) of every second definition in one module's source.

    Parameters
    ----------
    source
        The module's text.
    relpath
        Its path relative to ``lib/globalrs`` (``grid.py``, ``harmonize/regrid.py`` ...).
    unit_names
        Names of the constants ``units.py`` defines.
    home_functions
        Public function name -> the home module that defines it.
    """
    found: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(source)):
        if relpath != HOMES["lon_wrap"] and _is_lon_wrap(node):
            found.append(("lon_wrap", "(x + 180) % 360 - 180"))
        if relpath != HOMES["unit_constant"]:
            found += _unit_violations(node, unit_names)
        if relpath != HOMES["environment"]:
            found += _environment_violations(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and home_functions.get(node.name, relpath) != relpath:
            found.append(("home_function", node.name))
    return found


def unit_constant_names(units_source: str) -> set[str]:
    """Upper-case names assigned at the top level of units.py."""
    tree = ast.parse(units_source)
    return {
        name
        for node in tree.body
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        for name in _assigned_names(node)
        if name.isupper() and not name.startswith("_")
    }


def home_function_names() -> dict[str, str]:
    """Public top-level functions of the home modules, with their module."""
    homes = {}
    for module in HOME_FUNCTION_MODULES:
        tree = ast.parse((LIBRARY / module).read_text())
        homes |= {n.name: module for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")}
    return homes


def library_violations() -> set[tuple[str, str, str]]:
    """(file, rule, detail) of every second definition in the library."""
    unit_names = unit_constant_names((LIBRARY / HOMES["unit_constant"]).read_text())
    homes = home_function_names()
    found = set()
    for path in sorted(LIBRARY.rglob("*.py")):
        relpath = path.relative_to(LIBRARY).as_posix()
        found |= {(relpath, rule, detail) for rule, detail in find_second_homes(path.read_text(), relpath, unit_names, homes)}
    return found


def test_the_library_has_one_home_for_each_piece():
    extra = library_violations() - TEMPORARY_ALLOWED
    assert not extra, "second definitions (use the home named in tests/test_one_home.py):\n" + "\n".join(
        f"{path}: {rule}: {detail}" for path, rule, detail in sorted(extra)
    )


def test_allow_list_is_not_stale():
    stale = TEMPORARY_ALLOWED - library_violations()
    assert not stale, f"remove these TEMPORARY_ALLOWED entries, the copies are gone: {sorted(stale)}"


def test_the_homes_hold_what_the_checker_protects():
    homes = home_function_names()
    assert {"cell_area_m2", "global_total_pg", "wrap_lon", "same_grid", "make_grid_edges"} <= {
        n for n, m in homes.items() if m == HOMES["lon_wrap"]
    }
    assert {"G_PER_PG", "G_PER_KG", "SECONDS_PER_YEAR", "DAYS_PER_YEAR"} <= unit_constant_names(
        (LIBRARY / HOMES["unit_constant"]).read_text()
    )


UNITS = {"G_PER_PG", "G_PER_KG", "SECONDS_PER_YEAR"}
HOMES_FN = {
    "cell_area_m2": "core/grid.py",
    "wrap_lon": "core/grid.py",
    "same_grid": "core/grid.py",
    "get_cache_dir": "core/config.py",
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("lon = ((lon + 180.0) % 360.0) - 180.0\n", ("lon_wrap", "(x + 180) % 360 - 180")),
        ("out = ds.assign_coords(lon=(ds['lon'] + 180) % 360 - 180)\n", ("lon_wrap", "(x + 180) % 360 - 180")),
        ("G_PER_KG = 1000.0\n", ("unit_constant", "G_PER_KG")),
        ("SECONDS_PER_YEAR_HERE = 365.25 * 86400\n", ("unit_literal", "365.25")),
        ("TOTAL_PG = flux * area / 1e15\n", ("unit_literal", "1e+15")),
        ("import os\ncache = os.environ.get('GLOBALRS_CACHE_DIR')\n", ("environment", "os.environ")),
        ("import os\nmirror = os.getenv('GLOBALRS_DATA_MIRROR')\n", ("environment", "os.getenv")),
        ("from os import environ\n", ("environment", "from os import environ")),
        ("def cell_area_m2(lat, lon):\n    return 1.0\n", ("home_function", "cell_area_m2")),
        ("class Grid:\n    def same_grid(self, other):\n        return True\n", ("home_function", "same_grid")),
    ],
)
def test_the_checker_catches_a_second_definition(source, expected):
    assert expected in find_second_homes(source, "foo.py", UNITS, HOMES_FN)


@pytest.mark.parametrize(
    ("source", "relpath"),
    [
        ("def wrap_lon(lon):\n    return ((lon + 180.0) % 360.0) - 180.0\n", "core/grid.py"),
        ("G_PER_KG = 1000.0\nDAYS = 365.25\n", "core/units.py"),
        ("import os\nvalue = os.environ.get('GLOBALRS_CACHE_DIR')\n", "core/config.py"),
        ("from globalrs.core.grid import wrap_lon\nlon = wrap_lon(lon)\n", "foo.py"),
        ("from globalrs.core.units import G_PER_PG\ntotal = flux * area / G_PER_PG\n", "foo.py"),
        ("x = (lon + 90.0) % 180.0 - 90.0\nn = 1000.0 * kg\n", "foo.py"),
    ],
)
def test_the_checker_leaves_the_homes_and_their_users_alone(source, relpath):
    assert find_second_homes(source, relpath, UNITS, HOMES_FN) == []
