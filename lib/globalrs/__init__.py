"""globalrs: the helper library of the executable companion to Hashimoto, Ito & Nishina (2023),
"Divergent data-driven estimates of global soil respiration".

Flat modules of small functions: ``data`` (registry and verified fetch), ``config`` (book-wide
settings), ``grid`` (cells, areas, totals), ``plots`` (figure helpers with offline coastlines),
``paper`` (the paper's claims the book checks), ``record`` (what each chapter found, for the
reproduction scorecard), and the chapter-specific modules built on them.
"""

__version__ = "0.1.0"
