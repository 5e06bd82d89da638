"""The library's one-way data flow (ARCHITECTURE.md): a module imports only from earlier layers."""

from __future__ import annotations

import ast
from pathlib import Path

LIBRARY = Path(__file__).resolve().parents[1] / "lib" / "globalrs"

#: The layers of ARCHITECTURE.md, top (imports nothing of the library) to bottom.
LAYERS = [
    ("config",),  # the one reader of environment variables: progress reads GLOBALRS_PROGRESS through it
    ("exceptions", "booktoc", "paper", "progress", "pages"),
    ("units", "data", "literature", "record"),
    ("grid", "cache", "schema", "stats", "models", "plots", "timeseries", "aoa", "plausibility", "ilambcache"),
    ("readers", "filters", "harmonize", "regions"),
    ("inputs", "published", "cmip6", "modelspread", "members"),
    ("ensemble", "cmipmaps", "pangeo"),
    ("evaluate", "divergence", "forcing", "gridded"),
    ("mgrsd", "rh", "applicability"),
    ("benchmark", "productivity"),
    ("rhscores",),
    ("app",),
    ("__main__",),
]


def library_imports(path: Path) -> set[str]:
    """Names of the ``globalrs`` modules a module imports (anywhere in its body)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("globalrs"):
            if node.module == "globalrs":
                found |= {alias.name for alias in node.names if not alias.name.startswith("__")}
            else:
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("globalrs.")}
    return found


def library_files() -> dict[Path, str]:
    """Every module file of the library -> its entry in LAYERS: the module, or for a file inside a
    package (``app/compare/compute.py``) the package (``app``)."""
    files = {p: p.stem for p in LIBRARY.glob("*.py") if p.stem != "__init__"}
    for package in LIBRARY.glob("*/__init__.py"):
        files.update({p: package.parent.name for p in package.parent.rglob("*.py")})
    return files


def test_every_module_has_a_layer():
    modules = set(library_files().values())
    placed = {m for layer in LAYERS for m in layer}
    assert modules == placed, f"unplaced: {sorted(modules - placed)}; gone: {sorted(placed - modules)}"


def test_imports_flow_one_way():
    layer_of = {m: i for i, layer in enumerate(LAYERS) for m in layer}
    wrong = []
    for path, module in library_files().items():
        for dep in library_imports(path) - {module}:  # a package's modules import each other freely
            if layer_of[dep] >= layer_of[module]:
                wrong.append(f"{module} (layer {layer_of[module]}) imports {dep} (layer {layer_of[dep]})")
    assert not wrong, "\n".join(sorted(wrong))


def test_architecture_document_names_every_module():
    text = (LIBRARY.parents[1] / "ARCHITECTURE.md").read_text()
    missing = [m for layer in LAYERS for m in layer if f"| `{m}` |" not in text]
    assert not missing, f"ARCHITECTURE.md module map lacks {missing}"
