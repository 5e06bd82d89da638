"""Packaging, licence, citation, repository links and publishing workflows.

* every third-party module the library imports is declared in pyproject.toml;
* ``pip install .`` into a fresh environment gives ``import globalrs``, ``python -m globalrs`` and
  the ``globalrs`` console script, with the registry installed as package data;
* the repository address is one setting (``_config.yml``) and every derived link agrees with it;
* CITATION.cff, LICENSE and pyproject agree; the workflows pass actionlint.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
import yaml

import globalrs
from globalrs.sources.data import load_registry

REPO_ROOT = Path(__file__).resolve().parents[1]
LIB = REPO_ROOT / "lib" / "globalrs"
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
WORKFLOWS = REPO_ROOT / ".github" / "workflows"


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(spec: str) -> str:
    return _normalize(re.split(r"[<>=~!\[; ]", spec, maxsplit=1)[0])


def library_imports() -> dict[str, dict[str, set[str]]]:
    """Top-level third-party modules imported by lib/globalrs: {module: {"top"|"lazy": files}}."""
    found: dict[str, dict[str, set[str]]] = {}
    for path in sorted(LIB.rglob("*.py")):
        tree = ast.parse(path.read_text())
        top_level = set(map(id, tree.body))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                root = name.split(".")[0]
                if root in sys.stdlib_module_names or root == "globalrs":
                    continue
                kind = "top" if id(node) in top_level else "lazy"
                found.setdefault(root, {"top": set(), "lazy": set()})[kind].add(path.name)
    return found


def test_every_imported_module_is_a_declared_dependency():
    core = {_requirement_name(d) for d in PYPROJECT["project"]["dependencies"]}
    extras = {_requirement_name(d) for ds in PYPROJECT["project"]["optional-dependencies"].values() for d in ds}
    dists = packages_distributions()
    imports = library_imports()
    assert {"numpy", "xarray", "pint", "tqdm", "regionmask"} <= set(imports)  # the scan works
    problems = []
    for module, where in sorted(imports.items()):
        names = {_normalize(d) for d in dists.get(module, [])}
        if not names:
            problems.append(f"{module}: imported in {sorted(where['top'] | where['lazy'])} but not installed")
        elif where["top"] and not names & core:
            problems.append(
                f"{module} ({names}): imported at module level in {sorted(where['top'])}, not in [project].dependencies"
            )
        elif not names & (core | extras):
            problems.append(f"{module} ({names}): imported in {sorted(where['lazy'])}, in no dependency list or extra")
    assert not problems, "\n".join(problems)


def test_version_licence_and_citation_agree():
    project = PYPROJECT["project"]
    assert project["version"] == globalrs.__version__
    assert project["license"] == "MIT"
    licence = (REPO_ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License") and "Permission is hereby granted" in licence
    cff = yaml.safe_load((REPO_ROOT / "CITATION.cff").read_text())
    for key in ("cff-version", "message", "title", "authors", "version", "license", "repository-code"):
        assert cff.get(key), f"CITATION.cff lacks {key}"
    assert str(cff["version"]) == project["version"] and cff["license"] == project["license"]
    bib = (REPO_ROOT / "book" / "references.bib").read_text()
    paper_doi = re.search(r"@article\{hashimoto2023divergent,.*?doi = \{([^}]+)\}", bib, re.S).group(1)
    assert any(str(ref.get("doi")) == paper_doi for ref in cff["references"])


def test_build_backend_supports_the_licence_expression():
    requires = PYPROJECT["build-system"]["requires"]
    setuptools = next(r for r in requires if r.startswith("setuptools"))
    minimum = tuple(int(x) for x in re.search(r">=\s*([\d.]+)", setuptools).group(1).split("."))
    assert minimum >= (77,), "SPDX license strings and license-files need setuptools >= 77"


# ---- the repository address: one setting ----------------------------------------------------


def _load_set_repository():
    spec = importlib.util.spec_from_file_location("set_repository", REPO_ROOT / "scripts" / "set_repository.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_derived_repository_links_agree_with_config():
    done = subprocess.run(
        [sys.executable, "scripts/set_repository.py", "--check"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def test_setting_a_new_address_rewrites_every_derived_place(tmp_path):
    setrepo = _load_set_repository()
    for name in ("_config.yml", "README.md", "pyproject.toml", "CITATION.cff"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    old_url, _, _ = setrepo.read_setting(tmp_path)
    new_url = "https://github.com/someone-else/my-fork"
    assert setrepo.main(["--check"], root=tmp_path) == 0
    assert setrepo.main([new_url, "--branch", "gh-pages"], root=tmp_path) == 0
    assert setrepo.read_setting(tmp_path)[:2] == (new_url, "gh-pages")
    for name in ("README.md", "pyproject.toml", "CITATION.cff"):
        text = (tmp_path / name).read_text()
        assert new_url in text and old_url not in text, name
    readme = (tmp_path / "README.md").read_text()
    assert "https://mybinder.org/v2/gh/someone-else/my-fork/gh-pages?urlpath=lab" in readme
    assert yaml.safe_load((tmp_path / "_config.yml").read_text())["launch_buttons"]["binderhub_url"]
    assert setrepo.main(["--check"], root=tmp_path) == 0
    (tmp_path / "CITATION.cff").write_text((tmp_path / "CITATION.cff").read_text().replace(new_url, old_url))
    assert setrepo.main(["--check"], root=tmp_path) == 1
    with pytest.raises(ValueError, match="github.com/OWNER/REPO"):
        setrepo.main(["https://example.org/not-github"], root=tmp_path)


# ---- workflows --------------------------------------------------------------------------------


def _actionlint() -> str:
    exe = shutil.which("actionlint", path=os.path.dirname(sys.executable)) or shutil.which("actionlint")
    assert exe, "actionlint is missing: it is pinned in requirements-test.txt (./run.sh test installs it)"
    return exe


def test_workflows_pass_actionlint():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} >= {"ci.yml", "pages.yml", "online.yml"}
    done = subprocess.run([_actionlint(), *map(str, files)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - run: echo ${{ github.nonexistent_context_key }}\n        uses: actions/checkout@v4\n"
    )
    done = subprocess.run([_actionlint(), str(bad)], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0


def _workflow(name: str) -> dict:
    wf = yaml.safe_load((WORKFLOWS / name).read_text())
    wf["on"] = wf.pop(True, wf.get("on"))  # YAML 1.1 reads the key `on` as True
    return wf


def _run_lines(wf: dict) -> str:
    return "\n".join(step.get("run", "") for job in wf["jobs"].values() for step in job["steps"])


def test_workflows_do_what_the_readme_says():
    ci = _workflow("ci.yml")
    assert "pull_request" in ci["on"] and "bash .ci/run" in _run_lines(ci)
    pages = _workflow("pages.yml")
    assert pages["on"]["push"]["branches"] == ["main"]
    uses = [s.get("uses", "") for job in pages["jobs"].values() for s in job["steps"]]
    assert any(u.startswith("actions/deploy-pages@") for u in uses)
    online = _workflow("online.yml")
    assert "schedule" in online["on"]
    text = (WORKFLOWS / "online.yml").read_text()
    assert "GLOBALRS_DATA_MIRROR" not in text and online["jobs"]["online"]["env"]["GLOBALRS_ENSEMBLE"] == "both"
    assert "--online" in _run_lines(online) and "linkcheck" in _run_lines(online)
    assert any(s.get("if") == "failure()" for s in online["jobs"]["online"]["steps"])


# ---- pip install . into a fresh environment ------------------------------------------------


def test_pip_install_into_a_fresh_environment(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO_ROOT / name, src / name)
    shutil.copytree(REPO_ROOT / "lib", src / "lib", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    site = subprocess.run(
        [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True
    ).stdout.strip()
    # offline and fast: the dependencies (and setuptools for the build) come from this
    # environment's site-packages, appended after the fresh one; the library itself is installed
    Path(site, "deps-from-test-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(py),
            "install",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "-q",
            str(src),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    where = subprocess.run(
        [py, "-c", "import globalrs; print(globalrs.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(Path(site)), where.stdout
    # the comparison report's template is installed as package data
    assert (Path(where.stdout.strip()).parent / "app" / "templates" / "compare_report.html.j2").is_file()
    meta = subprocess.run(
        [py, "-c", "from importlib.metadata import requires; print(requires('globalrs'))"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert "regionmask" in meta.stdout and "pint" in meta.stdout
    for argv in ([py, "-m", "globalrs", "--help"], [venv / "bin" / "globalrs", "--help"]):
        helped = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
        assert helped.returncode == 0 and "mirror" in helped.stdout, helped.stderr
    listed = subprocess.run(
        [venv / "bin" / "globalrs", "datasets"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120
    )
    assert listed.returncode == 0, listed.stderr
    n_registered = len(load_registry())
    assert f"{n_registered} files" in listed.stdout  # the registry was installed as package data
