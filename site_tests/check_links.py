"""Offline link check of the built book.

Every internal link (``a href``, ``img src``, ``link href``, ``script src``, ``source src``) in every
HTML page of the build must resolve to a file of the build, and a ``#fragment`` must name an
``id`` (or ``name``) in the target page. External links (http, https, ftp, mailto, doi, ...) are not
fetched: this runs offline. They are listed as *unverified*, with the pages that use them, unless
``--online`` is given, in which case each is requested once (HEAD, then GET) and failures are
reported (but only internal problems make the exit status non-zero).

Usage::

    python site_tests/check_links.py [_build/html] [--online] [--report FILE]

Exit status 0 when every internal link resolves, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

LINK_ATTRS = {"a": "href", "img": "src", "link": "href", "script": "src", "source": "src", "iframe": "src"}
# Pages Sphinx generates for the theme's own use; their links are checked like any other.
SKIP_DIRS = {"_sources", "_static", "_images", ".doctrees"}
EXTERNAL_SCHEMES = {"http", "https", "ftp", "mailto", "doi", "tel"}


class _PageParser(HTMLParser):
    """Collect link targets and anchor ids of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []  # (tag, url)
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name") if tag in {"a", "span", "div", "section"} else ("id",):
            if attrs.get(key):
                self.ids.add(attrs[key])
        if tag in LINK_ATTRS and attrs.get(LINK_ATTRS[tag]):
            if tag == "link" and attrs.get("rel") in {"preconnect", "dns-prefetch"}:
                return
            self.links.append((tag, attrs[LINK_ATTRS[tag]]))

    handle_startendtag = handle_starttag


@dataclass
class LinkReport:
    """Result of a link check."""

    pages: int = 0
    internal_links: int = 0
    broken: list[str] = field(default_factory=list)  # "page: url (why)"
    external: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # url -> pages
    external_failed: dict[str, str] = field(default_factory=dict)  # url -> why (online only)

    @property
    def ok(self) -> bool:
        return not self.broken

    def format(self, online: bool) -> str:
        lines = [
            f"pages checked: {self.pages}",
            f"internal links checked: {self.internal_links}, broken: {len(self.broken)}",
        ]
        lines += [f"  BROKEN {b}" for b in self.broken]
        n_ext = len(self.external)
        if online:
            lines.append(f"external links: {n_ext}, failed: {len(self.external_failed)}")
            lines += [
                f"  FAILED {u} ({why}) on {', '.join(sorted(self.external[u]))}"
                for u, why in sorted(self.external_failed.items())
            ]
        else:
            lines.append(f"external links not verified (offline): {n_ext}")
            lines += [f"  UNVERIFIED {u} (on {', '.join(sorted(p))})" for u, p in sorted(self.external.items())]
        return "\n".join(lines)


def parse_page(path: Path) -> _PageParser:
    """Parse one HTML file."""
    parser = _PageParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    return parser


def html_pages(html_dir: Path) -> list[Path]:
    """HTML pages of a build, theme asset folders excluded."""
    return sorted(p for p in html_dir.rglob("*.html") if not (set(p.relative_to(html_dir).parts[:-1]) & SKIP_DIRS))


def check_links(html_dir: Path, online: bool = False, timeout_s: float = 10.0) -> LinkReport:
    """Check every link of the build in ``html_dir`` (see module docstring)."""
    html_dir = html_dir.resolve()
    if not (html_dir / "index.html").is_file():
        raise FileNotFoundError(f"{html_dir} has no index.html: build the book first")
    report = LinkReport()
    parsed: dict[Path, _PageParser] = {}

    def ids_of(path: Path) -> set[str]:
        if path not in parsed:
            parsed[path] = parse_page(path)
        return parsed[path].ids

    for page in html_pages(html_dir):
        report.pages += 1
        rel_page = page.relative_to(html_dir).as_posix()
        for tag, url in (parsed.setdefault(page, parse_page(page))).links:
            _check_link(html_dir, page, rel_page, tag, url, report, ids_of)
    if online:
        for url in sorted(report.external):
            why = probe_url(url, timeout_s)
            if why:
                report.external_failed[url] = why
    return report


def _check_link(html_dir: Path, page: Path, rel_page: str, tag: str, url: str, report: LinkReport, ids_of) -> None:
    """Enter one link of ``page`` in ``report``: external ones listed, internal ones checked (file, then anchor id)."""
    parts = urlsplit(url)
    if parts.scheme in EXTERNAL_SCHEMES or url.startswith("//"):
        report.external[url].add(rel_page)
        return
    if parts.scheme in {"data", "javascript", "blob"} or parts.scheme:
        return
    report.internal_links += 1
    target = _link_target(html_dir, page, rel_page, url, parts.path, report) if parts.path else page
    if target is None:
        return
    fragment = unquote(parts.fragment)
    if fragment and tag == "a" and target.suffix == ".html" and fragment not in ids_of(target):
        report.broken.append(f"{rel_page}: {url} (no id {fragment!r} in {target.relative_to(html_dir)})")


def _link_target(html_dir: Path, page: Path, rel_page: str, url: str, path: str, report: LinkReport) -> Path | None:
    """The file a link's path names (a folder: its index.html); None, entered as broken, if outside the build or missing."""
    target = (page.parent / unquote(path)).resolve()
    if target.is_dir():
        target = target / "index.html"
    try:
        target.relative_to(html_dir)
    except ValueError:
        report.broken.append(f"{rel_page}: {url} (points outside the build)")
        return None
    if not target.is_file():
        report.broken.append(f"{rel_page}: {url} (no such file)")
        return None
    return target


def probe_url(url: str, timeout_s: float) -> str | None:
    """None when ``url`` answers (HEAD, falling back to GET), else the reason it did not."""
    if not url.startswith(("http://", "https://")):
        return None
    last = "unknown"
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(url, method=method, headers={"User-Agent": "globalrs-linkcheck"})
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                if response.status < 400:
                    return None
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            return f"unreachable: {exc}"
    return last


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html_dir", nargs="?", default="_build/html", type=Path)
    parser.add_argument("--online", action="store_true", help="also request external links")
    parser.add_argument("--report", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    report = check_links(args.html_dir, online=args.online)
    text = report.format(args.online)
    print(text)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(text + "\n")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
