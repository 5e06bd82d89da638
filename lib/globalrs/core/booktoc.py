"""Reading the book's table of contents (``_toc.yml``), shared by the structure tests, the
site tests and the build benchmark."""

from __future__ import annotations

from pathlib import Path

#: The source suffixes jupyter-book tries for a toc entry, in its order.
SOURCE_SUFFIXES = (".ipynb", ".md", ".rst")


def toc_entries(toc: dict) -> list[str]:
    """All ``file`` entries of a jupyter-book ``_toc.yml`` mapping, root first, in reading order.

    Handles ``chapters``, ``parts`` and nested ``sections``; ``url`` entries are skipped.
    """
    files = [toc["root"]] if "root" in toc else []

    def walk(items: list) -> None:
        for item in items or []:
            if "file" in item:
                files.append(item["file"])
            walk(item.get("sections", []))
            walk(item.get("chapters", []))

    walk(toc.get("chapters", []))
    for part in toc.get("parts", []) or []:
        walk(part.get("chapters", []))
    return files


def resolve_source(entry: str, root: Path) -> Path | None:
    """The source file a toc entry names (jupyter-book tries .ipynb, .md, .rst), or None."""
    path = Path(root) / entry
    if path.suffix in SOURCE_SUFFIXES and path.is_file():
        return path
    for suffix in SOURCE_SUFFIXES:
        candidate = path.with_name(path.name + suffix)
        if candidate.is_file():
            return candidate
    return None
