"""What the site should contain, read from the book's own _toc.yml and _config.yml.

Shared by the browser tests (test_site.py) and the link check (check_links.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from globalrs.core.booktoc import resolve_source, toc_entries


@dataclass(frozen=True)
class BookPage:
    """One page of the table of contents."""

    entry: str  # as written in _toc.yml, e.g. "notebooks/global_totals"
    source: Path  # the resolved source file
    index: int  # reading order (root = 0)

    @property
    def html_path(self) -> str:
        """Path of the page in the built site, relative to the HTML root."""
        return f"{self.entry}.html"

    @property
    def source_name(self) -> str:
        """Source path relative to the book root, with suffix (e.g. ``notebooks/x.ipynb``)."""
        return f"{self.entry}{self.source.suffix}"

    @property
    def is_notebook(self) -> bool:
        """True for .ipynb pages and MyST markdown notebooks (front matter with a kernelspec)."""
        if self.source.suffix == ".ipynb":
            return True
        if self.source.suffix == ".md":
            text = self.source.read_text(encoding="utf-8")
            match = re.match(r"^---\n(.*?)\n---", text, flags=re.DOTALL)
            return bool(match and "kernelspec" in (yaml.safe_load(match.group(1)) or {}))
        return False

    @property
    def figure_names(self) -> list[str]:
        """Names of the figures a notebook declares in cell metadata (``mystnb.figure.name``)."""
        if self.source.suffix != ".ipynb":
            return []
        nb = json.loads(self.source.read_text(encoding="utf-8"))
        names = []
        for cell in nb.get("cells", []):
            fig = (cell.get("metadata", {}).get("mystnb", {}) or {}).get("figure", {}) or {}
            if fig.get("name"):
                names.append(str(fig["name"]))
        return names

    @property
    def screenshot_name(self) -> str:
        return self.entry.replace("/", "__") + ".jpg"


def book_pages(book_dir: Path) -> list[BookPage]:
    """The pages of the book in reading order; raises if an entry has no source file."""
    toc = yaml.safe_load((book_dir / "_toc.yml").read_text())
    pages = []
    for i, entry in enumerate(toc_entries(toc)):
        entry = re.sub(r"\.(ipynb|md|rst)$", "", entry)
        source = resolve_source(entry, book_dir)
        if source is None:
            raise FileNotFoundError(f"_toc.yml entry {entry!r} has no .ipynb/.md/.rst file in {book_dir}")
        pages.append(BookPage(entry=entry, source=source, index=i))
    return pages


def read_config(book_dir: Path) -> dict:
    """The book's _config.yml."""
    return yaml.safe_load((book_dir / "_config.yml").read_text())


def expected_binder_url(config: dict, page: BookPage) -> str | None:
    """The Binder launch link jupyter-book should render for ``page`` (None when Binder is off)."""
    launch = config.get("launch_buttons", {}) or {}
    hub = str(launch.get("binderhub_url", "") or "").rstrip("/")
    if not hub:
        return None
    repo = config["repository"]
    org_repo = re.sub(r"^https?://github\.com/", "", str(repo["url"]).rstrip("/"))
    branch = repo.get("branch", "main")
    prefix = str(repo.get("path_to_book", "") or "").strip("/")
    path = f"{prefix}/{page.source_name}" if prefix else page.source_name
    # sphinx-book-theme: classic -> "tree", jupyterlab -> "lab/tree"
    ui_prefix = {"classic": "tree", "jupyterlab": "lab/tree"}[launch.get("notebook_interface", "classic")]
    return f"{hub}/v2/gh/{org_repo}/{branch}?urlpath={ui_prefix}/{path}"
