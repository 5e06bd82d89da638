"""The Binder environment (environment.yml), the pip locks (requirements.txt for the book,
requirements-test.txt for the test tools) and the installed packages must agree on every package
they share, so a chapter that runs here runs the same on Binder. Binder's environment must not
depend on the repository's files (repo2docker can then cache it) and carries no test tools."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
#: the tools that belong to requirements-test.txt, never to the Binder environment
TEST_TOOLS = ("pytest", "nbval", "pytest-xdist", "playwright")
PIN_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!_-]+)$")


def normalize_name(name: str) -> str:
    """PEP 503 normalised distribution name (``netCDF4`` -> ``netcdf4``, ``a_b.c`` -> ``a-b-c``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pins(lines: list[str], source: str) -> dict[str, str]:
    """Map normalised name -> version for ``name==version`` lines.

    Blank lines, comments and ``-e .`` are skipped; any other line (a range, an unpinned name,
    a duplicate) raises, because an unpinned dependency is exactly what this test must catch.
    """
    pins: dict[str, str] = {}
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if not line or line in {"-e .", "-e ./", "."}:
            continue
        match = PIN_RE.match(line)
        if match is None:
            raise ValueError(f"{source}: not an exact pin (name==version): {raw!r}")
        name = normalize_name(match.group(1))
        if name in pins:
            raise ValueError(f"{source}: {name} is pinned twice")
        pins[name] = match.group(2)
    return pins


def read_requirements_pins(path: Path) -> dict[str, str]:
    """Pins of a requirements.txt file."""
    return parse_pins(path.read_text().splitlines(), path.name)


def read_environment_yml(path: Path) -> tuple[dict[str, str], list[str], list[str]]:
    """Return (pip pins, conda dependency strings, raw pip entries) of an environment.yml."""
    env = yaml.safe_load(path.read_text())
    conda_deps: list[str] = []
    pip_entries: list[str] = []
    for dep in env.get("dependencies", []):
        if isinstance(dep, dict) and "pip" in dep:
            pip_entries.extend(str(x) for x in dep["pip"])
        else:
            conda_deps.append(str(dep))
    return parse_pins(pip_entries, path.name), conda_deps, pip_entries


# ---- the helpers themselves (so a broken parser cannot make the real comparison vacuous) ----


def test_parse_pins_reads_exact_pins_and_normalizes_names():
    pins = parse_pins(["# c", "", "netCDF4==1.7.5.1.post1", "Foo_Bar.baz==2.0  # note", "-e ."], "x")
    assert pins == {"netcdf4": "1.7.5.1.post1", "foo-bar-baz": "2.0"}


@pytest.mark.parametrize("line", ["numpy>=2", "numpy", "numpy==2.0,<3", "numpy~=2.0"])
def test_parse_pins_rejects_anything_but_exact_pins(line):
    with pytest.raises(ValueError, match="not an exact pin"):
        parse_pins([line], "x")


def test_parse_pins_rejects_duplicates():
    with pytest.raises(ValueError, match="twice"):
        parse_pins(["numpy==2.0", "NumPy==2.1"], "x")


def test_read_environment_yml_separates_conda_and_pip(tmp_path):
    path = tmp_path / "environment.yml"
    path.write_text("name: t\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n      - a==1.0\n      - -e .\n")
    pins, conda, raw = read_environment_yml(path)
    assert pins == {"a": "1.0"}
    assert conda == ["python=3.11", "pip"]
    assert "-e ." in raw


# ---- the real files ----


def test_environment_yml_pins_equal_requirements_txt():
    req = read_requirements_pins(REPO_ROOT / "requirements.txt")
    env, _, _ = read_environment_yml(REPO_ROOT / "environment.yml")
    assert req, "requirements.txt lists no pins"
    only_req = {k: v for k, v in req.items() if k not in env}
    only_env = {k: v for k, v in env.items() if k not in req}
    differ = {k: (req[k], env[k]) for k in req.keys() & env.keys() if req[k] != env[k]}
    assert not (only_req or only_env or differ), (
        f"requirements.txt vs environment.yml: only in requirements.txt {only_req}; "
        f"only in environment.yml {only_env}; different versions (req, env) {differ}"
    )


def test_binder_environment_names_no_repository_file_and_postbuild_installs_the_library():
    _, _, raw = read_environment_yml(REPO_ROOT / "environment.yml")
    local = [x for x in raw if x.strip().startswith(("-e", "-r", ".", "/", "file:"))]
    assert not local, f"environment.yml must not refer to repository files (breaks caching): {local}"
    post = REPO_ROOT / "postBuild"
    assert post.is_file() and os.access(post, os.X_OK), "postBuild must exist and be executable"
    commands = [line.strip() for line in post.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert any(re.search(r"pip install --no-deps -e \.$", c) for c in commands), commands
    assert any(re.search(r"pip uninstall -y( -q)? -r requirements-exclude\.txt$", c) for c in commands), commands
    # the image's data and caches come last, with the library installed and the excluded packages
    # gone, in the order benchmarks/bench_binder.py replays them
    spec = importlib.util.spec_from_file_location("bench_binder", REPO_ROOT / "benchmarks" / "bench_binder.py")
    bench_binder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_binder)
    assert commands[-len(bench_binder.IMAGE_STEPS) :] == [f"python {step}" for step in bench_binder.IMAGE_STEPS], commands
    start = REPO_ROOT / "start"
    assert start.is_file() and os.access(start, os.X_OK), "start must exist and be executable"
    assert start.read_text().rstrip().endswith('exec "$@"'), "Binder's start must exec its arguments"


def test_python_version_of_binder_matches_the_tests():
    _, conda, _ = read_environment_yml(REPO_ROOT / "environment.yml")
    python = [d for d in conda if re.match(r"^python\s*[=<>]", d)]
    assert len(python) == 1, f"environment.yml must pin python exactly once, found {python}"
    wanted = python[0].split("=", 1)[1].strip("= ")
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert running == wanted or running.startswith(wanted + "."), f"environment.yml pins python={wanted}, tests run on {running}"


def test_test_tools_are_pinned_apart_from_binder():
    env, _, _ = read_environment_yml(REPO_ROOT / "environment.yml")
    req = read_requirements_pins(REPO_ROOT / "requirements.txt")
    test = read_requirements_pins(REPO_ROOT / "requirements-test.txt")
    for tool in TEST_TOOLS:
        assert tool in test, f"{tool} must be pinned in requirements-test.txt"
        assert tool not in env and tool not in req, f"{tool} belongs to requirements-test.txt only"


def test_every_package_shared_by_two_pin_files_has_one_version():
    sources = {
        "environment.yml": read_environment_yml(REPO_ROOT / "environment.yml")[0],
        "requirements.txt": read_requirements_pins(REPO_ROOT / "requirements.txt"),
        "requirements-test.txt": read_requirements_pins(REPO_ROOT / "requirements-test.txt"),
    }
    problems = []
    names = list(sources)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            for pkg in sorted(sources[a].keys() & sources[b].keys()):
                if sources[a][pkg] != sources[b][pkg]:
                    problems.append(f"{pkg}: {a} {sources[a][pkg]}, {b} {sources[b][pkg]}")
    assert not problems, "\n".join(problems)


def test_pyproject_test_extra_names_the_pinned_test_tools():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    extra = {normalize_name(re.split(r"[<>=~!\[ ]", d, maxsplit=1)[0]) for d in project["optional-dependencies"]["test"]}
    test = set(read_requirements_pins(REPO_ROOT / "requirements-test.txt"))
    assert extra == test, f"test extra {sorted(extra)} vs requirements-test.txt {sorted(test)}"


def test_installed_versions_equal_pins():
    req = read_requirements_pins(REPO_ROOT / "requirements.txt")
    req.update(read_requirements_pins(REPO_ROOT / "requirements-test.txt"))
    problems = []
    for name, wanted in sorted(req.items()):
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{name}: pinned {wanted}, not installed")
            continue
        if have != wanted:
            problems.append(f"{name}: pinned {wanted}, installed {have}")
    assert not problems, (
        "installed packages differ from requirements.txt / requirements-test.txt (run ./run.sh "
        "test to refresh the environment):\n" + "\n".join(problems)
    )


def read_excluded_names(path: Path = REPO_ROOT / "requirements-exclude.txt") -> list[str]:
    """Distribution names listed in requirements-exclude.txt (comments and blank lines skipped)."""
    names = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    return [normalize_name(n) for n in names if n]


def test_excluded_packages_are_not_installed():
    names = read_excluded_names()
    assert names, "requirements-exclude.txt lists no package"
    present = []
    for name in names:
        try:
            present.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    assert not present, f"installed although requirements-exclude.txt leaves them out: {present} (run ./run.sh env)"


@pytest.mark.filterwarnings("ignore::nbformat.warnings.MissingIDFieldWarning")  # chapter cells carry no ids
def test_schema_validation_works_without_the_excluded_packages(monkeypatch):
    # What the excluded iri checker served: jsonschema's format checking, used by nbformat
    # (every notebook; its default validator is fastjsonschema, so jsonschema is asked for here)
    # and jupyter-events (JupyterLab). Both still validate, without an iri checker.
    import jsonschema
    import nbformat
    from jupyter_events.validators import validate_schema

    assert "iri" not in jsonschema.FormatChecker().checkers
    monkeypatch.setenv("NBFORMAT_VALIDATOR", "jsonschema")
    for path in sorted((REPO_ROOT / "notebooks").glob("*.ipynb")):
        nbformat.validate(nbformat.read(path, as_version=4))
    broken = nbformat.read(REPO_ROOT / "notebooks" / "totals.ipynb", as_version=4)
    broken.cells[0]["cell_type"] = "no-such-type"
    with pytest.raises(nbformat.ValidationError):
        nbformat.validate(broken)
    validate_schema(
        {
            "$id": "https://example.org/globalrs/event",
            "version": "1",
            "title": "an event",
            "type": "object",
            "properties": {"page": {"type": "string", "format": "uri"}},
        }
    )
