"""The application layer: what a reader runs on their own data.

* :mod:`globalrs.app.compare` places a reader's gridded Rs or Rh map among the book's estimates
  (computation, figures, an HTML report from a Jinja2 template);
* :mod:`globalrs.app.cli` is the ``globalrs`` command line (``python -m globalrs``);
* :mod:`globalrs.app.outdir` checks and fills a report folder (light: the command line checks
  ``--out`` with it before importing the comparison machinery).
"""
