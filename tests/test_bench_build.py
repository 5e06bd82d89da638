"""The build benchmark's bookkeeping (benchmarks/bench_build.py), on tiny hand-made books."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_build", REPO_ROOT / "benchmarks" / "bench_build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def _nb(path: Path, sources: list[str]) -> None:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# T"}]
    cells += [{"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None} for s in sources]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


@pytest.fixture
def tiny_book(tmp_path) -> Path:
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: nb/a\n  - file: nb/b\n  - file: md/c\n"
    )
    (tmp_path / "intro.md").write_text("# Intro\n")
    _nb(tmp_path / "nb" / "a.ipynb", ["import x", "slow()", "shared()"])
    _nb(tmp_path / "nb" / "b.ipynb", ["import y", "shared()"])
    (tmp_path / "md").mkdir()
    (tmp_path / "md" / "c.md").write_text(
        "---\nkernelspec:\n  name: python3\n  display_name: Python 3\n---\n# C\n\n```{code-cell} ipython3\nz = 1\n```\n"
    )
    return tmp_path


def test_notebook_sources_follow_the_toc_and_skip_plain_markdown(bench, tiny_book):
    found = [p.relative_to(tiny_book).as_posix() for p in bench.notebook_sources(tiny_book)]
    assert found == ["nb/a.ipynb", "nb/b.ipynb", "md/c.md"]
    assert bench.read_code_cells(tiny_book / "md" / "c.md") == ["z = 1"]


def test_attribute_cells_matches_kernels_to_notebooks_by_source(bench, tiny_book):
    records = [
        {"pid": 1, "seconds": 0.5, "source": "import x"},
        {"pid": 1, "seconds": 70.0, "source": "slow()\n"},
        {"pid": 1, "seconds": 2.0, "source": "shared()"},  # also in b: the kernel's majority decides
        {"pid": 2, "seconds": 0.1, "source": "import y"},
        {"pid": 2, "seconds": 3.0, "source": "shared()"},
        {"pid": 3, "seconds": 1.0, "source": "print('not in any notebook')"},
    ]
    out = bench.attribute_cells(records, bench.notebook_sources(tiny_book), tiny_book)
    assert [c["cell"] for c in out["nb/a.ipynb"]] == [0, 1, 2]
    assert out["nb/a.ipynb"][1]["seconds"] == 70.0
    assert [c["cell"] for c in out["nb/b.ipynb"]] == [0, 1]
    assert out["(unmatched kernel 3)"][0]["cell"] is None


def test_cell_timer_startup_code_compiles(bench):
    compile(bench.CELL_TIMER, "startup", "exec")


def test_cpu_seconds_count_a_child_and_the_process_it_waited_for(bench):
    import resource
    import subprocess

    # a child that waits for a grandchild; each burns CPU for 0.3 s (busy loop on process time)
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\n"
    parent = f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {burn!r}], check=True)\n{burn}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", parent], check=True)
    assert bench.cpu_seconds_since(before) >= 0.6
