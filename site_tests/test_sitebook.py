"""What the site test expects, computed from _toc.yml/_config.yml, on tiny hand-made books."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sitebook import BookPage, book_pages, expected_binder_url


@pytest.fixture
def tiny_book(tmp_path) -> Path:
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: P\n    chapters:\n"
        "      - file: notebooks/a\n        sections:\n          - file: book/md_nb\n"
    )
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "intro.md").write_text("# Intro\n")
    (tmp_path / "book" / "md_nb.md").write_text("---\nkernelspec:\n  name: python3\n---\n# M\n")
    (tmp_path / "notebooks").mkdir()
    cells = [
        {
            "cell_type": "code",
            "metadata": {"mystnb": {"figure": {"name": "fig-a-map", "caption": "c"}}},
            "source": "",
            "outputs": [],
            "execution_count": None,
        }
    ]
    (tmp_path / "notebooks" / "a.ipynb").write_text(json.dumps({"cells": cells}))
    return tmp_path


def test_book_pages_in_reading_order(tiny_book):
    pages = book_pages(tiny_book)
    assert [(p.entry, p.source.suffix, p.index) for p in pages] == [
        ("book/intro", ".md", 0),
        ("notebooks/a", ".ipynb", 1),
        ("book/md_nb", ".md", 2),
    ]
    assert [p.is_notebook for p in pages] == [False, True, True]
    assert pages[1].figure_names == ["fig-a-map"]
    assert pages[1].html_path == "notebooks/a.html"
    assert pages[1].screenshot_name == "notebooks__a.jpg"


def test_missing_toc_file_is_an_error(tiny_book):
    (tiny_book / "notebooks" / "a.ipynb").unlink()
    with pytest.raises(FileNotFoundError, match="notebooks/a"):
        book_pages(tiny_book)


def test_expected_binder_url(tiny_book):
    page = BookPage("notebooks/a", tiny_book / "notebooks" / "a.ipynb", 1)
    config = {
        "repository": {"url": "https://github.com/org/repo/", "branch": "main", "path_to_book": ""},
        "launch_buttons": {"binderhub_url": "https://mybinder.org/", "notebook_interface": "jupyterlab"},
    }
    assert expected_binder_url(config, page) == ("https://mybinder.org/v2/gh/org/repo/main?urlpath=lab/tree/notebooks/a.ipynb")
    config["repository"]["path_to_book"] = "docs/"
    config["launch_buttons"]["notebook_interface"] = "classic"
    assert expected_binder_url(config, page) == ("https://mybinder.org/v2/gh/org/repo/main?urlpath=tree/docs/notebooks/a.ipynb")
    config["launch_buttons"] = {}
    assert expected_binder_url(config, page) is None
