"""The entry point :func:`compare_map`: read, check, compute, draw, write (in that order).

Each step lives in its own module: :mod:`~globalrs.app.compare.inputs` (the map on the book's
grid and what it is compared with), :mod:`~globalrs.app.compare.compute` (the numbers, typed),
:mod:`~globalrs.app.compare.figures` (drawn from the numbers), :mod:`~globalrs.app.compare.report`
(CSV tables and the HTML page from its template) and :mod:`globalrs.app.outdir` (the folder,
checked first and filled whole at the end).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import xarray as xr

from globalrs.app import outdir
from globalrs.app.compare import compute, figures, footprint, inputs, report
from globalrs.app.compare.results import ComparisonResult
from globalrs.core.config import MAP_KINDS
from globalrs.core.exceptions import CompareError
from globalrs.core.grid import same_grid
from globalrs.process_models import benchmark


@dataclass
class CompareResult:
    """What :func:`compare_map` computed and wrote.

    Attributes
    ----------
    comparison
        Every number of the report, typed (:class:`~globalrs.app.compare.results.ComparisonResult`).
    out_dir
        The report folder.
    report_path
        The HTML report.
    figures
        Report key (``map``, ``totals``, ``regional``, ``seasonal``) -> PNG path.
    """

    comparison: ComparisonResult
    out_dir: Path
    report_path: Path
    figures: dict[str, Path] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The map's label."""
        return self.comparison.name

    @property
    def kind(self) -> str:
        """``"rs"`` or ``"rh"``."""
        return self.comparison.kind

    @property
    def partial(self) -> bool:
        """True for a map that does not cover the globe: totals are of the covered area only."""
        return self.comparison.partial

    @property
    def notes(self) -> list[str]:
        """Sentences the report prints (what was skipped and why)."""
        return self.comparison.notes

    @property
    def warnings(self) -> list[str]:
        """Sentences about doubtful results; the report shows them first, the command line on stderr."""
        return self.comparison.warnings

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Name -> DataFrame; each is also written as ``<name>.csv`` beside the report."""
        return self.comparison.tables()

    @property
    def summary(self) -> dict[str, object]:
        """The summary table's values (summary.csv) under its names; typed values are in ``comparison``."""
        return self.comparison.summary_values()


def _check_grid_and_coverage(harmonized: xr.Dataset, ens: xr.Dataset, weights: xr.DataArray, partial: bool) -> None:
    """Refuse an ensemble on another grid, a map without land values, or a global map with too little land."""
    if not same_grid(harmonized, ens):
        raise CompareError("the ensemble is not on the harmonizer's 0.5-degree grid")
    if not bool(footprint.map_cells(harmonized, ens).any()):
        raise CompareError("the map has no value on any land cell (land fraction > 0)")
    coverage = footprint.land_coverage(harmonized, ens)
    if not partial and coverage < footprint.GLOBAL_LAND_COVERAGE:
        share = footprint.region_coverage(harmonized, ens, weights)
        covered = ", ".join(f"{r} {100 * v:.0f} %" for r, v in share.items() if v > 0.005) or "none"
        raise CompareError(
            f"the map has values on {100 * coverage:.1f} % of the ensemble's land only (a global map "
            f"covers at least {100 * footprint.GLOBAL_LAND_COVERAGE:g} %), though its grid spans the globe; "
            f"regions it covers: {covered}. For a regional map pass --region-only: it is then "
            "reported as PARTIAL, never totalled as global"
        )


def _source_info(path: object, variable: str | None, harmonized: xr.Dataset, kind: str, partial: bool) -> dict[str, str]:
    """Return the report's Input table: what was read and how it was put on the grid."""
    return {
        "file": str(path) if isinstance(path, (str, Path)) else "in-memory array",
        "variable": variable or "(the only gridded variable)",
        "units as read": harmonized.attrs.get("source_units", ""),
        "time axis": harmonized.attrs.get("time_averaging") or harmonized.attrs.get("source_time_axis", ""),
        "kind": kind,
        "coverage": "PARTIAL (region only)" if partial else "global",
        "regridding": harmonized.attrs.get("regridding", ""),
    }


def _save_figures(result: ComparisonResult, out: Path) -> dict[str, Path]:
    """Draw the figures and write them as PNG into ``out``; return key -> path."""
    paths = {}
    for key, fig in figures.draw_figures(result).items():
        paths[key] = out / f"{key}.png"
        fig.savefig(paths[key], dpi=110)
        plt.close(fig)
    return paths


def _default_name(path: object) -> str:
    """The map's label when none is given: the file name without suffix, or the array's name."""
    return Path(path).stem if isinstance(path, (str, Path)) else (getattr(path, "name", None) or "map")


def compare_map(
    path: str | Path | xr.DataArray | xr.Dataset,
    variable: str | None = None,
    units: str | None = None,
    kind: str = "rs",
    name: str | None = None,
    out_dir: str | Path = "compare-report",
    region_only: bool = False,
    band_as: str | None = None,
    ensemble: xr.Dataset | None = None,
    weights: xr.DataArray | None = None,
    published_totals: pd.DataFrame | None = None,
    log: Callable[[str], None] | None = None,
    rh_benchmark: benchmark.RhBenchmark | None = None,
    on_implausible: str = "raise",
    force: bool = False,
) -> CompareResult:
    """Compare a gridded Rs or Rh map with the book's estimates and write a report.

    Parameters
    ----------
    path
        NetCDF or GeoTIFF file (or an in-memory array) the harmonizer reads.
    variable
        Variable in a multi-variable file.
    units
        Units to use instead of (or where missing) the file's ``units`` attribute, e.g.
        ``"g C m-2 yr-1"`` or ``"kg C m-2 s-1"``.
    kind
        ``"rs"`` (soil respiration) or ``"rh"`` (heterotrophic respiration).
    name
        Label in tables and figures (default: the file name without suffix).
    out_dir
        Directory for ``report.html``, the PNG figures and the CSV tables (created).
    region_only
        Accept a map covering part of the globe; it is reported as partial.
    band_as
        ``"month"`` for a 12-band GeoTIFF holding January..December.
    ensemble, weights, published_totals
        What to compare against; loaded with
        :func:`~globalrs.app.compare.inputs.load_comparison_inputs` when omitted (tests pass
        small synthetic ones). ``ensemble`` has the schema of
        :func:`globalrs.estimates.ensemble.load_ensemble`; ``weights`` is ``(region, lat, lon)``.
    log
        Called with one line per step (the command line prints them); silent when None.
    rh_benchmark
        For ``kind="rh"``: the reference and the models' scores
        (:func:`globalrs.process_models.benchmark.load_rh_benchmark` when omitted).
    on_implausible
        ``"raise"`` (refuse cells outside the plausible range) or ``"clip"`` (``--clip``).
    force
        Replace a non-empty ``out_dir`` that holds something else than a report of this map
        (``--force``). The folder is checked before any work; the report is written into a
        temporary folder beside it and moved into place at the end, so a failure never leaves a
        half-written report.

    Returns
    -------
    CompareResult
        The typed comparison, the report folder, the report and the figures.

    Raises
    ------
    globalrs.gridding.harmonize.HarmonizeError
        Whatever the harmonizer refuses (units, grid, coverage, content), with its message.
    CompareError
        The map has no value on any land cell, covers too little land to be global (without
        ``region_only``), or ``out_dir`` cannot be used.
    """
    if kind not in MAP_KINDS:
        raise ValueError(f"kind must be one of {MAP_KINDS}, got {kind!r}")
    say = log or (lambda _msg: None)
    t0 = time.perf_counter()
    name = _default_name(path) if name is None else name
    final_out = Path(out_dir)
    outdir.check_out_dir(final_out, name, force)

    def step(msg: str) -> None:
        say(f"[{time.perf_counter() - t0:6.1f} s] {msg}")

    step(f"harmonizing {path if isinstance(path, (str, Path)) else name} to the 0.5-degree grid")
    harmonized, partial = inputs.harmonize_input(
        path, variable=variable, units=units, band_as=band_as, region_only=region_only, on_implausible=on_implausible
    )
    if ensemble is None or weights is None or published_totals is None:
        step(
            "loading the book's ensemble, region weights and published totals (the first run builds and "
            "caches them: several minutes; later runs read the cache)"
        )
        loaded = inputs.load_comparison_inputs()
        ensemble = loaded[0] if ensemble is None else ensemble
        weights = loaded[1] if weights is None else weights
        published_totals = loaded[2] if published_totals is None else published_totals
    _check_grid_and_coverage(harmonized, ensemble, weights, partial)
    load_bench = (lambda: rh_benchmark) if rh_benchmark is not None else None
    result = compute.compute_comparison(harmonized, ensemble, weights, published_totals, name, kind, partial, load_bench, step)
    out = outdir.temporary_out_dir(final_out)
    try:
        step(f"writing the report to {final_out}")
        pngs = _save_figures(result, out)
        report.write_report(result, pngs, _source_info(path, variable, harmonized, kind, partial), out)
        outdir.move_into_place(out, final_out)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    written = CompareResult(
        comparison=result,
        out_dir=final_out,
        report_path=final_out / outdir.REPORT_FILE,
        figures={k: final_out / v.name for k, v in pngs.items()},
    )
    step(f"done: {written.report_path}")
    return written
