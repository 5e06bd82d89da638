"""The built book as a reader meets it, driven in headless Chromium.

For every page in _toc.yml:
- it loads (HTTP 200) with no JavaScript exception, no console error and no failed or 4xx/5xx
  request from the site itself; requests to other hosts are not made (this runs offline): they
  are aborted and listed in the site report as unverified, never counted as failures;
- every image in the article is present and non-empty (naturalWidth > 0), every notebook output
  image sits in a figure with a caption and has real alt text, every figure the notebook declares
  (mystnb.figure.name) is rendered, every table has header cells, no pandas object is shown as
  text and no path of the build machine is shown as output;
- the sidebar lists every page of the table of contents in order, previous/next links point to
  the neighbouring pages, the search button opens a search box that submits to search.html;
- the repository, Binder (executable pages) and download buttons exist and point where they
  should, and the downloadable sources are served;
- a full-page screenshot (JPEG) is written to the screenshot folder (default _build/site-screenshots/).

Plus: index.html leads to the root page, and a search for a word from the book finds pages.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest
from pageguards import BARE_VALUE_RE, MAX_PROGRESS_LINES, NP_REPR_RE, internal_labels, progress_log_lines, truncated_cells
from sitebook import BookPage, expected_binder_url

# Known upstream messages that are not the book's doing, each with the reason it is harmless.
# Matched exactly (substring of the message); anything else fails the test.
KNOWN_HARMLESS = {
    # Sphinx 7.4 emits the inline config <script> of sphinx-thebe 0.3.1 twice in every page head; the
    # second copy re-declares identical constants and throws. Thebe is not enabled in this book
    # (launch_buttons has no thebe), and the first, identical declaration stands, so nothing breaks.
    "Identifier 'THEBE_JS_URL' has already been declared",
    # pydata-sphinx-theme 0.17 logs this on a visitor's first page view (no stored colour mode in
    # localStorage; every test page runs in a fresh browser context) and then selects "auto".
    "Got invalid theme mode: . Resetting to auto.",
}
# Chromium asks every origin for /favicon.ico by itself; the pages never reference it.
BROWSER_PROBES = {"/favicon.ico"}
# The tail of a pandas Series repr, or the shape line of a printed (truncated) DataFrame.
PANDAS_TEXT_RE = re.compile(r"(^|\n)(Name: .*, )?dtype: \w+\s*$|\[\d+ rows x \d+ columns\]")
SETTLE_MS = 300  # let deferred scripts run so their errors are seen


def is_same_origin(url: str, base_url: str) -> bool:
    return url.startswith(base_url)


def harmless(text: str) -> bool:
    return any(known in text for known in KNOWN_HARMLESS)


class PageVisit:
    """Open one page in a fresh browser context and record everything that went wrong."""

    def __init__(self, browser, base_url: str, site_report: dict):
        self.base_url = base_url
        self.report = site_report
        self.errors: list[str] = []
        self.external: set[str] = set()
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("pageerror", self._on_pageerror)
        self.page.on("console", self._on_console)
        self.page.on("requestfailed", self._on_requestfailed)
        self.page.on("response", self._on_response)

    # offline: only the local server is contacted; everything else is recorded and aborted
    def _route(self, route) -> None:
        url = route.request.url
        if is_same_origin(url, self.base_url) or url.startswith("data:"):
            route.continue_()
        else:
            self.external.add(url)
            route.abort()

    def _on_pageerror(self, exc) -> None:
        text = str(exc)
        if harmless(text):
            self.report.setdefault("known upstream JS messages (harmless, see KNOWN_HARMLESS)", set()).add(text)
        else:
            self.errors.append(f"JavaScript exception: {text}")

    def _on_console(self, msg) -> None:
        if msg.type != "error":
            return
        where = (msg.location or {}).get("url", "")
        if harmless(msg.text):
            self.report.setdefault("known upstream JS messages (harmless, see KNOWN_HARMLESS)", set()).add(msg.text)
        elif where and not is_same_origin(where, self.base_url):
            self.report.setdefault("console errors caused by external resources", set()).add(f"{msg.text} ({where})")
        elif urlsplit(where).path in BROWSER_PROBES:
            pass
        elif "net::ERR_FAILED" in msg.text and not where:
            # The console line for a request we aborted ourselves (external); already reported.
            pass
        else:
            self.errors.append(f"console error: {msg.text} ({where or 'inline'})")

    def _on_requestfailed(self, request) -> None:
        if is_same_origin(request.url, self.base_url):
            self.errors.append(f"request failed: {request.url} ({request.failure})")

    def _on_response(self, response) -> None:
        url = response.url
        if is_same_origin(url, self.base_url) and response.status >= 400:
            if urlsplit(url).path not in BROWSER_PROBES:
                self.errors.append(f"HTTP {response.status}: {url}")

    def goto(self, path: str):
        self.response = self.page.goto(urljoin(self.base_url, path), wait_until="load")
        self.page.wait_for_timeout(SETTLE_MS)
        return self.response

    def close(self) -> None:
        if self.external:
            self.report.setdefault("external resources not fetched (offline, unverified)", set()).update(self.external)
        self.context.close()


@pytest.fixture
def visit(browser, base_url, site_report):
    visits: list[PageVisit] = []

    def _open(path: str) -> PageVisit:
        v = PageVisit(browser, base_url, site_report)
        visits.append(v)
        v.goto(path)
        return v

    yield _open
    for v in visits:
        v.close()


def abs_href(page, selector: str) -> list[str]:
    """Absolute hrefs (fragment dropped) of the elements matching ``selector``."""
    return page.eval_on_selector_all(selector, "els => els.map(e => e.href.split('#')[0])")


# ------------------------------------------------------------------------------------ per page


def test_page(book_page: BookPage, all_pages, book_config, visit, base_url, screenshot_dir):
    v = visit(book_page.html_path)
    page = v.page
    status = v.response.status if v.response else None
    assert status == 200, f"{book_page.html_path}: HTTP {status} (is the build older than _toc.yml?)"
    problems: list[str] = []

    # 1. content: title, images, figures, tables
    problems += title_problems(page)
    problems += image_problems(page)
    problems += declared_figure_problems(page, book_page.figure_names)
    problems += table_and_text_problems(page)
    # outputs a reader should not meet: truncated tables, bare values, progress logs, workshop words
    problems += output_problems(page)

    # screenshot for the reviewer, before the search box is touched
    # (JPEG: a full-page PNG of a long chapter takes about 3 s to encode and 7 MB; JPEG half that)
    page.screenshot(path=str(screenshot_dir / book_page.screenshot_name), full_page=True, type="jpeg", quality=80)

    # 2. navigation: sidebar lists the toc in order, prev/next neighbours
    problems += navigation_problems(page, book_page, all_pages, base_url)
    # 3. search box: the button opens a dialog whose form submits to search.html
    problems += search_box_problems(page, base_url)
    # 4. buttons: repository, Binder, downloads
    problems += repository_and_binder_problems(page, book_page, book_config)
    problems += download_problems(page, book_page, book_config, base_url)

    problems = v.errors + problems
    assert not problems, f"{book_page.html_path}:\n  " + "\n  ".join(problems)


def title_problems(page) -> list[str]:
    """The page has one article, with an <h1> title."""
    problems = []
    if page.locator("article.bd-article").count() != 1:
        problems.append("no article.bd-article element")
    if not page.locator("article.bd-article h1").count():
        problems.append("article has no <h1> title")
    return problems


def image_problems(page) -> list[str]:
    """Every article image loaded; notebook figures have a caption and real alt text; figures hold an image."""
    problems = []
    page.wait_for_function("Array.from(document.querySelectorAll('article img')).every(i => i.complete)", timeout=15000)
    images = page.eval_on_selector_all(
        "article.bd-article img",
        """els => els.map(i => ({
            src: i.getAttribute('src') || '', alt: (i.getAttribute('alt') || '').trim(),
            w: i.naturalWidth, h: i.naturalHeight,
            output: !!i.closest('.cell_output, .output'),
            caption: ((i.closest('figure') || {}).querySelector
                      ? (i.closest('figure').querySelector('figcaption') || {}).innerText || '' : '').trim()
        }))""",
    )
    for img in images:
        if img["w"] == 0 or img["h"] == 0:
            problems.append(f"image is empty or did not load: {img['src']}")
        if img["output"]:
            problems += output_image_problems(img)
    bad_figures = page.eval_on_selector_all(
        "article.bd-article figure",
        """els => els.map(f => {
            const r = f.getBoundingClientRect();
            const what = f.querySelector('img, svg') ? (r.width && r.height ? '' : 'has zero size')
                : f.querySelector('table, .output') ? 'wraps a non-image output (one figure per cell: '
                  + 'give the table or text its own cell, or the figure caption applies to it too)'
                : 'has no image';
            return what ? `figure ${f.id}: ${what}` : '';
        }).filter(x => x)""",
    )
    problems += bad_figures
    return problems


def output_image_problems(img: dict) -> list[str]:
    """A notebook output image has a caption and alt text that is more than its file name."""
    problems = []
    if not img["caption"]:
        problems.append(f"notebook figure without caption: {img['src']}")
    stem = img["src"].rsplit("/", 1)[-1]
    if not img["alt"] or img["alt"].endswith(stem) or re.search(r"\.(png|jpe?g|svg)$", img["alt"]):
        problems.append(f"notebook figure without real alt text (alt={img['alt']!r}): {img['src']}")
    return problems


def declared_figure_problems(page, figure_names) -> list[str]:
    """Every figure the notebook declares (mystnb.figure.name) was rendered, with a non-empty image.

    Catches figures that silently vanish (e.g. a kernel on a non-inline matplotlib backend).
    """
    problems = []
    for name in figure_names:
        size = page.evaluate(
            "ids => { const f = ids.map(x => document.getElementById(x)).find(x => x);"
            " const i = f && f.querySelector('img'); return i ? i.naturalWidth * i.naturalHeight : -1; }",
            [name, re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")],  # docutils normalises ids
        )
        if size <= 0:
            problems.append(f"figure {name!r} declared in the notebook is {'empty' if size == 0 else 'missing'}")
    return problems


def table_and_text_problems(page) -> list[str]:
    """Tables have header cells; no pandas object is shown as text and no build-machine path as output."""
    headless_tables = page.eval_on_selector_all(
        "article.bd-article table",
        "els => els.filter(t => !t.querySelector('th')).map(t => t.innerText.slice(0, 60))",
    )
    problems = [f"table without header cells: {t!r}" for t in headless_tables]
    # pandas objects shown as text (a Series, a printed DataFrame) instead of an HTML table
    text_outputs = page.eval_on_selector_all("article.bd-article .cell_output pre", "els => els.map(e => e.innerText)")
    for text in text_outputs:
        if PANDAS_TEXT_RE.search(text):
            problems.append(f"table shown as text, not as an HTML DataFrame: {text.strip()[:80]!r}")
        if "PosixPath(" in text:
            problems.append(f"a path of the build machine shown as output: {text.strip()[:80]!r}")
    return problems


def output_problems(page) -> list[str]:
    """No truncated table cells, bare values, numpy reprs, long progress logs or internal labels."""
    problems = []
    cells = page.eval_on_selector_all("article.bd-article .cell_output table td", "els => els.map(e => e.innerText)")
    cut = truncated_cells(cells)
    if cut:
        problems.append(
            f"{len(cut)} table cells truncated by pandas (e.g. {cut[0][:60]!r}): show fewer columns or set max_colwidth"
        )
    results = page.eval_on_selector_all(
        "article.bd-article .cell_output .output.text_plain pre", "els => els.map(e => e.innerText)"
    )
    for text in results:
        if BARE_VALUE_RE.match(text.strip()):
            problems.append(f"a bare value shown as a cell's output: {text.strip()[:60]!r} (end the cell with ';')")
    streams = page.eval_on_selector_all("article.bd-article .cell_output .output.stream pre", "els => els.map(e => e.innerText)")
    for text in results + streams:
        if NP_REPR_RE.search(text):
            problems.append(f"a numpy repr in an output: {text.strip()[:60]!r} (format the number)")
    for text in streams:
        n = progress_log_lines(text)
        if n > MAX_PROGRESS_LINES:
            problems.append(f"a progress log of {n} lines in an output: {text.strip()[:60]!r}")
    article_text = page.inner_text("article.bd-article") if page.locator("article.bd-article").count() == 1 else ""
    for label in internal_labels(article_text):
        problems.append(f"internal label on the page: {label!r}")
    return problems


def site_relative(urls: list[str], base_url: str) -> list[str]:
    """``urls`` relative to the site (those of other hosts unchanged)."""
    return [u[len(base_url) :] if u.startswith(base_url) else u for u in urls]


def navigation_problems(page, book_page: BookPage, all_pages, base_url: str) -> list[str]:
    """The sidebar lists the table of contents in order; previous/next point to the neighbouring pages."""
    problems = []
    expected_nav = [urljoin(base_url, p.html_path) for p in all_pages]
    nav = abs_href(page, ".bd-sidebar-primary nav.bd-links a.reference.internal")
    nav_pages = [u for u in dict.fromkeys(nav) if u in expected_nav or u == page.url.split("#")[0]]

    def rel(urls: list[str]) -> list[str]:
        return site_relative(urls, base_url)

    if nav_pages != expected_nav:
        missing = [u for u in rel(expected_nav) if u not in rel(nav_pages)]
        problems.append(
            f"sidebar navigation {rel(nav_pages)} != table of contents {rel(expected_nav)}"
            + (f" (missing: {missing})" if missing else " (order differs)")
        )
    i = book_page.index
    prev_links = rel(abs_href(page, "a.left-prev"))
    next_links = rel(abs_href(page, "a.right-next"))
    want_prev = rel([expected_nav[i - 1]]) if i > 0 else []
    want_next = rel([expected_nav[i + 1]]) if i + 1 < len(expected_nav) else []
    if prev_links != want_prev:
        problems.append(f"previous link {prev_links} != {want_prev}")
    if next_links != want_next:
        problems.append(f"next link {next_links} != {want_next}")
    return problems


def search_box_problems(page, base_url: str) -> list[str]:
    """The search button opens a dialog whose form submits to search.html."""
    problems = []
    button = page.locator("button.search-button__button:visible").first
    if not button.count():
        problems.append("no visible search button")
        return problems
    button.click()
    box = page.locator("form.bd-search input[name='q']:visible").first
    try:
        box.wait_for(state="visible", timeout=5000)
        action = box.evaluate("e => e.form.action")
        if urlsplit(action).path != urlsplit(urljoin(base_url, "search.html")).path:
            problems.append(f"search form submits to {action}, not search.html")
    except Exception as exc:  # noqa: BLE001 - report, keep checking the rest
        problems.append(f"search box did not open: {exc}")
    page.keyboard.press("Escape")
    return problems


def repository_and_binder_problems(page, book_page: BookPage, book_config) -> list[str]:
    """The repository button points to the repository; the Binder button exists exactly on executable pages."""
    problems = []
    repo_url = str(book_config["repository"]["url"]).rstrip("/")
    repo_links = abs_href(page, "a.btn-source-repository-button")
    if [u.rstrip("/") for u in repo_links] != [repo_url]:
        problems.append(f"repository button {repo_links} != [{repo_url}]")
    binder_links = abs_href(page, ".dropdown-launch-buttons a[href*='/v2/gh/']")
    binder_full = page.eval_on_selector_all(".dropdown-launch-buttons a[href*='/v2/gh/']", "els => els.map(e => e.href)")
    want_binder = expected_binder_url(book_config, book_page)
    if book_page.is_notebook and want_binder:
        if binder_full != [want_binder]:
            problems.append(f"Binder button {binder_full} != [{want_binder}]")
    elif binder_links and not book_page.is_notebook:
        problems.append(f"Binder button on a non-executable page: {binder_full}")
    return problems


def download_problems(page, book_page: BookPage, book_config, base_url: str) -> list[str]:
    """The download buttons point to the page's sources, which are served; print-to-PDF when configured."""
    problems = []
    # .ipynb pages offer the notebook itself; MyST notebooks offer the .md and a generated .ipynb
    downloads = {"source": (".btn-download-source-button", f"_sources/{book_page.source_name}")}
    if book_page.is_notebook and book_page.source.suffix != ".ipynb":
        downloads["notebook"] = (".btn-download-notebook-button", f"_sources/{book_page.entry}.ipynb")
    for kind, (selector, target) in downloads.items():
        hrefs = abs_href(page, f"a{selector}")
        want = urljoin(base_url, target)
        if hrefs != [want]:
            problems.append(f"download {kind} button {hrefs} != [{want}]")
            continue
        response = page.request.get(want)
        if response.status != 200 or not response.body():
            problems.append(f"download {kind} {want}: HTTP {response.status}, {len(response.body())} bytes")
    if book_config.get("html", {}).get("use_download_button") and not page.locator("button.btn-download-pdf-button").count():
        problems.append("no print-to-PDF download button")
    return problems


# ------------------------------------------------------------------------------------ site-wide


def test_index_leads_to_the_root_page(visit, all_pages, base_url):
    v = visit("index.html")
    v.page.wait_for_url(re.compile(re.escape(all_pages[0].html_path) + r"$"), timeout=10000)
    assert not v.errors, v.errors


def test_search_finds_pages(visit, base_url):
    v = visit("search.html?q=soil")
    v.page.wait_for_selector("ul.search li", timeout=15000)
    hits = v.page.eval_on_selector_all("ul.search li a", "els => els.map(e => e.href)")
    assert hits, "searching for 'soil' found nothing"
    assert all(is_same_origin(h, base_url) for h in hits), hits
    assert not v.errors, v.errors


def test_every_toc_page_was_built(all_pages, html_dir):
    missing = [p.html_path for p in all_pages if not (html_dir / p.html_path).is_file()]
    assert not missing, f"pages in _toc.yml missing from the build: {missing}"
