"""Core: what every stage stands on; imports no other part of the library.

``config``      book-wide settings from environment variables (the only reader of them)
``exceptions``  :class:`GlobalRsError` and every specific error
``units``       the one home of unit constants and flux-unit conversions
``progress``    progress bars that keep a ``-W`` book build clean
``schema``      the gridded-estimates Dataset schema and its validator
``grid``        regular grids: cell centres and edges, areas, totals, lon wrapping, point -> cell
``stats``       general statistics: anomalies, trends, sensitivities, seasonal cycles
``booktoc``     reading the book's table of contents
"""
