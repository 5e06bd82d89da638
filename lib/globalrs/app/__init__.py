"""App: what a reader runs: ``globalrs compare`` and the command line.

``compare``  a reader's Rs or Rh map placed among the book's estimates, as an HTML report
``cli``      ``python -m globalrs`` / ``globalrs``: datasets, fetch, mirror, verify, clear-cache, compare
``outdir``   the report folder: checked before any work, written in a temporary folder, moved into place

The report's page is a Jinja2 template, ``templates/compare_report.html.j2``.
"""
