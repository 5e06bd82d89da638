"""Bring your own estimate: place a new gridded Rs or Rh map among the book's estimates.

:func:`compare_map` takes any gridded file the harmonizer reads (NetCDF or GeoTIFF, any regular
grid, any supported units, annual or monthly; see :mod:`globalrs.gridding.harmonize`), puts it on the
book's 0.5-degree grid and writes to a directory a short HTML report with its figures and the
CSV tables behind them:

* the map on the book's colour scale;
* its global total with the land area it covers, placed on the history of published totals
  (Fig. 1a style) and among the members of the book's ensemble (the book-wide switch,
  :func:`globalrs.estimates.gridded.load_gridded_estimates`);
* its totals on the 14 regions beside the members' regional range, and the regional CV of the
  members without and with the new map;
* when the map resolves months, its global monthly cycle beside the members' and the paper's
  range (:func:`~globalrs.app.compare.seasonal.paper_seasonal_range`);
* for heterotrophic respiration (``kind="rh"``), its ilamb3 scores against the book's
  data-driven Rh benchmark beside the CMIP6, CMIP5, soil-carbon and CARDAMOM models' scores
  (:func:`globalrs.process_models.benchmark.score_rh_map`; the reference is the one of the chapter
  "Heterotrophic respiration").

Totals follow the book's convention (as for the published maps and the model maps): the map is
harmonized with ``fill="mean"`` (flux per covered area) and integrated over cell area x land
fraction on the cells where it has a value. The total over the map's own cell areas (no land
fraction, what the file itself integrates to) is reported beside it.

A map that does not cover the globe is refused, as the harmonizer refuses it, unless
``region_only=True`` (``--region-only``): then it is reported as PARTIAL, its total is the total
of the covered area only (never called global) and the members are totalled over the same
footprint. Coverage is judged from the data, not the grid: a map with values on less than
:data:`~globalrs.app.compare.footprint.GLOBAL_LAND_COVERAGE` of the ensemble's land is refused (or
PARTIAL) even on a global grid. A region is compared when the map covers
:data:`~globalrs.app.compare.footprint.REGION_COVERAGE_COMPLETE` of its mostly-land area (cells of
land fraction >= :data:`~globalrs.app.compare.footprint.MOSTLY_LAND_FRACTION`, what an ordinary
land mask keeps), and map and members are then totalled on the cells where the map has a value.
A global total far outside every published and member total
(:func:`~globalrs.app.compare.totals.total_sanity`) is flagged in the report and on stderr, not
refused.

The package, by job:

* :mod:`~globalrs.app.compare.inputs`: the map on the book's grid, and what it is compared with;
* :mod:`~globalrs.app.compare.footprint`, :mod:`~globalrs.app.compare.totals`,
  :mod:`~globalrs.app.compare.regional`, :mod:`~globalrs.app.compare.seasonal`: one analysis
  each (where the map has values; global totals; the 14 regions; the monthly cycle);
* :mod:`~globalrs.app.compare.compute`: runs them and returns the numbers as a typed
  :class:`~globalrs.app.compare.results.ComparisonResult` (:mod:`~globalrs.app.compare.results`);
* :mod:`~globalrs.app.compare.figures`: the four figures, drawn from that result;
* :mod:`~globalrs.app.compare.report`: the CSV tables and the HTML page, rendered from the
  Jinja2 template ``globalrs/app/templates/compare_report.html.j2``;
* :mod:`~globalrs.app.compare.run`: :func:`compare_map`, which runs them in order.

Command line (``python -m globalrs compare --help``, :mod:`globalrs.app.cli`)::

    python -m globalrs compare my_map.nc --units "g C m-2 yr-1" --out report/

Exit codes: 0 report written (warnings on stderr), 1 the map or ``--out`` cannot be used (the
message on stderr). ``--out`` is checked before the work and the report is written into a
temporary folder beside it, then moved into place.
"""

from globalrs.app.compare.results import ComparisonResult, SeasonalRange
from globalrs.app.compare.run import CompareResult, compare_map
from globalrs.app.compare.seasonal import paper_seasonal_range

__all__ = ["CompareResult", "ComparisonResult", "SeasonalRange", "compare_map", "paper_seasonal_range"]
