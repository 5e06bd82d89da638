"""Code style: ruff (lint and format), the numpydoc docstring check and mypy, configured in pyproject.toml.

All run offline from the pinned packages, so ``./run.sh test`` enforces what
``.pre-commit-config.yaml`` offers contributors before a commit.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
LIBRARY = REPO_ROOT / "lib" / "globalrs"


def run(*args: str) -> subprocess.CompletedProcess:
    """Run a command from the repository root and capture its output."""
    return subprocess.run(args, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("command", [("check", "."), ("format", "--check", ".")], ids=["lint", "format"])
def test_ruff(command):
    result = run(sys.executable, "-m", "ruff", *command)
    assert result.returncode == 0, result.stdout + result.stderr


def test_numpydoc_docstrings():
    files = sorted(str(p.relative_to(REPO_ROOT)) for p in LIBRARY.rglob("*.py"))  # packages too
    result = run(sys.executable, "-m", "numpydoc", "lint", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_types():
    """mypy on the library (files, Python version and the untyped third-party packages: [tool.mypy])."""
    result = run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_catches_a_type_error(tmp_path):
    """The type check is live: with the project's settings, a function returning the wrong type fails it."""
    bad = tmp_path / "bad_types.py"
    bad.write_text("def count_cells(n: int) -> str:\n    return n\n")
    result = run(sys.executable, "-m", "mypy", "--config-file", "pyproject.toml", "--no-incremental", str(bad))
    assert result.returncode != 0 and "[return-value]" in result.stdout, result.stdout + result.stderr


def test_docstring_check_catches_a_missing_docstring(tmp_path):
    """The docstring check is live: a public function without a docstring fails it."""
    bad = tmp_path / "bad_module.py"
    bad.write_text('"""A module."""\n\n\ndef public_function(x):\n    return x\n')
    result = run(sys.executable, "-m", "numpydoc", "lint", str(bad))
    assert result.returncode != 0 and "GL08" in result.stdout + result.stderr
