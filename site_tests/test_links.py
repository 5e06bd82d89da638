"""Offline link check of the built book (internal links and anchors must resolve; external links
are listed as unverified), plus hand-made cases showing the checker catches what it should."""

from __future__ import annotations

from pathlib import Path

import pytest
from check_links import check_links, main


def test_internal_links_and_anchors_resolve(html_dir, screenshot_dir, site_report):
    report = check_links(html_dir)
    (screenshot_dir / "link-report.txt").write_text(report.format(online=False) + "\n")
    site_report.setdefault("external links not verified (offline; listed in link-report.txt)", set()).add(
        f"{len(report.external)} distinct URLs on {len({p for ps in report.external.values() for p in ps})} pages"
    )
    assert report.pages > 0 and report.internal_links > 0
    assert report.ok, "broken internal links:\n" + "\n".join(report.broken)


# ---- the checker on a tiny hand-made site ----


def _write(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<html><body>{body}</body></html>")


@pytest.fixture
def tiny_site(tmp_path) -> Path:
    _write(tmp_path / "index.html", '<a href="book/a.html">a</a><img src="_images/x.png">')
    _write(
        tmp_path / "book" / "a.html",
        '<section id="top"><a href="#top">self</a><a href="b.html#sec">b</a>'
        '<a href="https://doi.org/10.1/x">doi</a><a href="mailto:x@y.z">mail</a>'
        '<script src="../_static/s.js"></script><img src="data:image/png;base64,AAAA"></section>',
    )
    _write(tmp_path / "book" / "b.html", '<div id="sec"><a name="old"></a><a href="../index.html">home</a></div>')
    (tmp_path / "_images").mkdir()
    (tmp_path / "_images" / "x.png").write_bytes(b"\x89PNG")
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "s.js").write_text("")
    return tmp_path


def test_a_clean_site_passes(tiny_site):
    report = check_links(tiny_site)
    assert report.ok, report.broken
    assert report.pages == 3
    assert report.internal_links == 6  # a.html x2 (from index + img), #top, b.html#sec, s.js, ../index.html
    assert set(report.external) == {"https://doi.org/10.1/x", "mailto:x@y.z"}
    assert report.external["https://doi.org/10.1/x"] == {"book/a.html"}


def test_missing_file_missing_anchor_and_escape_are_broken(tiny_site):
    _write(
        tiny_site / "book" / "c.html",
        '<a href="nope.html">x</a><a href="b.html#missing">y</a><a href="#here">z</a>'
        '<img src="../_images/gone.png"><a href="../../outside.html">o</a>',
    )
    report = check_links(tiny_site)
    broken = "\n".join(report.broken)
    assert len(report.broken) == 5, broken
    assert "nope.html (no such file)" in broken
    assert "no id 'missing'" in broken
    assert "no id 'here'" in broken
    assert "gone.png (no such file)" in broken
    assert "outside the build" in broken


def test_main_exit_status_and_report(tiny_site, tmp_path, capsys):
    assert main([str(tiny_site), "--report", str(tmp_path / "r.txt")]) == 0
    assert "UNVERIFIED https://doi.org/10.1/x" in (tmp_path / "r.txt").read_text()
    (tiny_site / "_images" / "x.png").unlink()
    assert main([str(tiny_site)]) == 1
    assert "BROKEN index.html: _images/x.png" in capsys.readouterr().out


def test_no_build_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="build the book first"):
        check_links(tmp_path)
