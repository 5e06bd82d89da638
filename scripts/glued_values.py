"""Execute the book's notebooks and print every glued value as JSON (name -> text).

Used to show what a change did to the book's numbers: run it before and after, then diff::

    python scripts/glued_values.py > before.json
    ...change...
    python scripts/glued_values.py > after.json
    python scripts/glued_values.py --diff before.json after.json

Notebooks run from their own folder with the environment's data mirror and cache settings.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def glued_outputs(nb: nbformat.NotebookNode) -> dict[str, str]:
    """Map glue name -> its text/plain representation for one executed notebook."""
    values: dict[str, str] = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            scrapbook = out.get("metadata", {}).get("scrapbook", {})
            name = scrapbook.get("name")
            if name is not None:
                # glue(..., display=False), as globalrs.reproduction.record glues, prefixes every mime type
                # ("application/papermill.record/text/plain"): read the text under that prefix.
                prefix = scrapbook.get("mime_prefix", "")
                values[name] = str(out.get("data", {}).get(prefix + "text/plain", ""))
    return values


def execute(path: Path, timeout_s: int = 900) -> dict[str, str]:
    """Execute one notebook in its folder and return its glued values."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=timeout_s, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return glued_outputs(nb)


def diff(before: dict, after: dict) -> list[str]:
    """Lines describing values that changed, appeared or disappeared."""
    lines = []
    for chapter in sorted(set(before) | set(after)):
        b, a = before.get(chapter, {}), after.get(chapter, {})
        for name in sorted(set(b) | set(a)):
            if b.get(name) != a.get(name):
                lines.append(f"{chapter}:{name}: {b.get(name, '(absent)')} -> {a.get(name, '(absent)')}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--diff", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args(argv)
    if args.diff:
        lines = diff(*(json.loads(p.read_text()) for p in args.diff))
        print("\n".join(lines) if lines else "no glued value changed")
        return 0
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    result = {}
    for path in paths:
        print(f"executing {path.name}", file=sys.stderr)
        result[path.stem] = execute(path)
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
