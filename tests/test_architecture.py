"""The library's packages by stage and their one-way imports (ARCHITECTURE.md).

The import rules themselves are `import-linter` contracts in ``pyproject.toml``
(``[tool.importlinter]``); these tests run them, show that they catch a wrong import, and check that
every module sits in a stage package that ARCHITECTURE.md and the package's docstring describe.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
LIBRARY = REPO_ROOT / "lib" / "globalrs"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def stage_layers() -> list[str]:
    """The layers contract of pyproject.toml, top stage first (``globalrs.app``, ...)."""
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in config["contracts"] if c["type"] == "layers"]
    return layers


def stage_modules() -> dict[str, list[str]]:
    """Each stage package's modules and subpackages (names without the package prefix)."""
    out = {}
    for layer in stage_layers():
        pkg = LIBRARY / layer.split(".")[1]
        out[pkg.name] = sorted(
            p.stem if p.is_file() else p.name
            for p in pkg.iterdir()
            if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()
        )
    return out


def run_lint_imports(pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = f"{pythonpath}{os.pathsep}{env.get('PYTHONPATH', '')}"
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(REPO_ROOT / "pyproject.toml"), "--no-cache"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_no_module_outside_a_stage():
    flat = sorted(p.name for p in LIBRARY.glob("*.py") if p.stem not in {"__init__", "__main__"})
    assert not flat, f"modules outside the stage packages: {flat} (put each in one of {list(stage_modules())})"
    packages = {p.name for p in LIBRARY.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(stage_modules()), f"packages not in the layers contract: {packages ^ set(stage_modules())}"


def test_import_contracts_hold():
    result = run_lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr


def test_contracts_catch_an_upward_import(tmp_path):
    """A copy of the library where ``core.units`` imports the command line must break the contract."""
    shutil.copytree(LIBRARY, tmp_path / "globalrs", ignore=shutil.ignore_patterns("__pycache__"))
    units = tmp_path / "globalrs" / "core" / "units.py"
    units.write_text(units.read_text() + "\nfrom globalrs.app import cli  # noqa: E402\n")
    result = run_lint_imports(pythonpath=tmp_path)
    assert result.returncode != 0
    assert "globalrs.core.units -> globalrs.app.cli" in result.stdout


@pytest.mark.parametrize("stage", list(stage_modules()))
def test_package_docstring_names_its_modules(stage):
    doc = (LIBRARY / stage / "__init__.py").read_text()
    missing = [m for m in stage_modules()[stage] if f"``{m}``" not in doc]
    assert not missing, f"globalrs.{stage}'s docstring does not describe {missing}"


def test_architecture_document_names_every_module():
    text = (REPO_ROOT / "ARCHITECTURE.md").read_text()
    missing = [f"{s}.{m}" for s, mods in stage_modules().items() for m in mods if f"| `{s}.{m}` |" not in text]
    assert not missing, f"ARCHITECTURE.md module map lacks {missing}"
