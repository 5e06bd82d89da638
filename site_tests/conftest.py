"""Fixtures for the browser tests of the built book (run after the book build: ``./run.sh site``).

The built HTML (default ``_build/html``; ``--html-dir`` or ``SITE_HTML_DIR`` to change) is served
on 127.0.0.1 by a thread-based ``http.server`` and driven with Playwright in Debian's headless
Chromium (``/usr/bin/chromium``; installed with apt-get when missing and running as root).
Pages come from the book's ``_toc.yml`` (``--book-dir``, default the repository), so chapters are
covered as they are added. Screenshots go to ``_build/site-screenshots/`` (``--screenshot-dir``).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from sitebook import BookPage, book_pages, read_config

REPO_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("SITE_CHROMIUM", "/usr/bin/chromium")
# Without these, Chromium's background connections (updates, sync, QUIC probes) fail noisily offline.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("site", "browser tests of the built book")
    group.addoption(
        "--html-dir",
        default=os.environ.get("SITE_HTML_DIR", str(REPO_ROOT / "_build" / "html")),
        help="built HTML directory (default _build/html or $SITE_HTML_DIR)",
    )
    group.addoption(
        "--book-dir",
        default=os.environ.get("SITE_BOOK_DIR", str(REPO_ROOT)),
        help="book source directory holding _toc.yml and _config.yml",
    )
    group.addoption(
        "--screenshot-dir",
        default=os.environ.get("SITE_SCREENSHOT_DIR"),
        help="where page screenshots go (default: <html-dir>/../site-screenshots)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "book_page" in metafunc.fixturenames:
        pages = book_pages(Path(metafunc.config.getoption("--book-dir")))
        metafunc.parametrize("book_page", pages, ids=[p.entry for p in pages])


@pytest.fixture(scope="session")
def book_dir(pytestconfig) -> Path:
    return Path(pytestconfig.getoption("--book-dir")).resolve()


@pytest.fixture(scope="session")
def book_config(book_dir) -> dict:
    return read_config(book_dir)


@pytest.fixture(scope="session")
def all_pages(book_dir) -> list[BookPage]:
    return book_pages(book_dir)


@pytest.fixture(scope="session")
def html_dir(pytestconfig) -> Path:
    path = Path(pytestconfig.getoption("--html-dir")).resolve()
    if not (path / "index.html").is_file():
        pytest.fail(f"no built book at {path} (index.html missing): run ./run.sh book first, or pass --html-dir")
    return path


@pytest.fixture(scope="session")
def screenshot_dir(pytestconfig, html_dir) -> Path:
    value = pytestconfig.getoption("--screenshot-dir")
    path = Path(value) if value else html_dir.parent / "site-screenshots"
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature fixed by http.server
        pass


@pytest.fixture(scope="session")
def base_url(html_dir) -> str:
    """Serve the built HTML on an ephemeral 127.0.0.1 port for the whole session."""
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def ensure_chromium(path: str = CHROMIUM) -> str:
    """Return the Chromium executable, installing Debian's ``chromium`` with apt-get when missing."""
    if Path(path).is_file():
        return path
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.fail(f"{path} is missing; install it with: apt-get install -y chromium (as root)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], check=True, env=env, stdout=subprocess.DEVNULL)
    if not Path(path).is_file():
        pytest.fail(f"apt-get install chromium did not provide {path}")
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = ensure_chromium()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def site_report(screenshot_dir):
    """Session-wide notes (external resources that could not be verified offline, etc.)."""
    report: dict[str, set[str]] = {}
    yield report
    lines = []
    for key in sorted(report):
        lines.append(f"{key}: {len(report[key])}")
        lines.extend(f"  {item}" for item in sorted(report[key]))
    (screenshot_dir / "site-report.txt").write_text("\n".join(lines) + "\n")
    _SUMMARY[:] = lines


_SUMMARY: list[str] = []


def pytest_terminal_summary(terminalreporter) -> None:
    if _SUMMARY:
        terminalreporter.section("site report (not failures: external resources are not fetched offline)")
        for line in _SUMMARY:
            terminalreporter.write_line(line)
