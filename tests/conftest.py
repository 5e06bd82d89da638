"""Shared test fixtures. Tests build their own small inputs; none downloads anything."""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def short_download_backoff(monkeypatch):
    """Retried downloads wait milliseconds, not the 1 + 2 + 4 + 8 s of back-off a reader's fetch waits.

    The retries themselves (how many, what is resumed, what is refused) are what the tests check;
    the back-off's length is a constant (``data.BACKOFF_S``), and two tests that made a download
    fail on every attempt slept 15 s each.
    """
    from globalrs.sources import data

    monkeypatch.setattr(data, "BACKOFF_S", 0.001)


@pytest.fixture
def mirror_dir():
    """The offline mirror configured for this run (skips the test when none is configured)."""
    value = os.environ.get("GLOBALRS_DATA_MIRROR")
    if not value:
        pytest.skip("GLOBALRS_DATA_MIRROR is not set")
    return Path(value)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def loopback_server(tmp_path):
    """Serve a temporary directory over HTTP on 127.0.0.1; yields (directory, base_url)."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def rh_benchmark():
    """The book's data-driven Rh benchmark with every model scored (real data, cached builds).

    Built once per test session (the Rh members are fitted on the first run, about a minute;
    read from ``GLOBALRS_CACHE_DIR`` after); skips the test without an offline mirror.
    """
    if not os.environ.get("GLOBALRS_DATA_MIRROR"):
        pytest.skip("GLOBALRS_DATA_MIRROR is not set")
    from globalrs.process_models import benchmark

    return benchmark.load_rh_benchmark(log=None)
