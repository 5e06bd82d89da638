"""The comparison's report: the tables as CSV and ``report.html`` rendered from a Jinja2 template.

The page's text lives in ``globalrs/app/templates/compare_report.html.j2``; this module only
gathers what the template shows (every value from a
:class:`~globalrs.app.compare.results.ComparisonResult`) and renders it with autoescaping (the
tables pandas renders, which escape their own cells, are marked ``|safe`` in the template).
"""

from __future__ import annotations

from pathlib import Path

import jinja2
import pandas as pd

from globalrs import __version__
from globalrs.app.compare.results import KIND_LABELS, ComparisonResult

#: the report template (package data of globalrs.app)
TEMPLATE = "compare_report.html.j2"
#: background of the reader's row in the report's score table
READER_ROW_COLOR = "#fff4c2"
#: the figures of the report, in order, with their section titles and the tables shown under them
SECTIONS = (
    ("map", "Map", ()),
    ("totals", "Totals", ("global_totals",)),
    ("regional", "Regions", ("regional_totals", "regional_cv")),
    ("seasonal", "Seasonal cycle", ("seasonal_cycle", "seasonal_metrics", "seasonal_vs_paper")),
)
TABLE_TITLES = {
    "global_totals": "Totals of the map and of each member (Pg C yr-1; land area in million km2)",
    "regional_totals": "Regional totals (Pg C yr-1) and the map's coverage of each region",
    "regional_cv": "Regional CV of the members without and with the map",
    "seasonal_cycle": "Global monthly totals (Pg C month-1)",
    "seasonal_metrics": "Cycle metrics (months 1-12; Pg C month-1)",
    "seasonal_vs_paper": "The map's cycle beside the paper's range",
}


def _environment() -> jinja2.Environment:
    """Return the Jinja2 environment of the app's templates (autoescaped, ``g`` filter for ``:g``)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("globalrs.app", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["g"] = lambda value: f"{value:g}"
    return env


def table_html(frame: pd.DataFrame, decimals: int = 2) -> str:
    """Render a table as the report shows it (rounded, no border, empty cells for NaN).

    Parameters
    ----------
    frame
        The table.
    decimals
        Decimals shown.

    Returns
    -------
    str
        HTML.
    """
    return frame.round(decimals).to_html(border=0, classes="table", na_rep="")


def scores_html(scores: pd.DataFrame) -> str:
    """Render the score table with the reader's row (first) highlighted.

    Parameters
    ----------
    scores
        :func:`globalrs.process_models.benchmark.score_rh_map`'s table (``attrs["reader"]`` names the row).

    Returns
    -------
    str
        HTML (a styled table).
    """
    label = scores.attrs["reader"]
    styler = scores.style.format(precision=2, na_rep="").apply(
        lambda row: [f"background-color: {READER_ROW_COLOR}; font-weight: bold" if row.name == label else "" for _ in row], axis=1
    )
    return styler.set_table_attributes("class='table'").to_html()


def _sections(tables: dict[str, pd.DataFrame], figures: dict[str, Path]) -> list[dict]:
    """Return the figure sections present, each with its image and the tables under it."""
    sections = []
    for key, title, table_keys in SECTIONS:
        if key not in figures:
            continue
        shown = [{"key": k, "title": TABLE_TITLES[k], "html": table_html(tables[k])} for k in table_keys if k in tables]
        sections.append({"title": title, "image": figures[key].name, "tables": shown})
    return sections


def render_report(result: ComparisonResult, figures: dict[str, Path], source_info: dict[str, str]) -> str:
    """Render the HTML report of a comparison from the template.

    Parameters
    ----------
    result
        The comparison.
    figures
        Report key (``map``, ``totals``, ``regional``, ``seasonal``) -> PNG path (beside the report).
    source_info
        What was read (file, variable, units, time axis, kind, coverage, regridding).

    Returns
    -------
    str
        The page.
    """
    tables = result.tables()
    scores = result.scores
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            name=result.name,
            kind_label=KIND_LABELS[result.kind],
            partial=result.partial,
            warnings=result.warnings,
            notes=result.notes,
            source_info={k: str(v) for k, v in source_info.items()},
            t=result.totals,
            p=result.placement,
            ensemble_choice=str(result.ensemble_choice),
            n_members=result.n_members,
            sections=_sections(tables, figures),
            scores=scores,
            scores_reference_file=Path(scores.table.attrs["reference"]).name if scores is not None else "",
            scores_html=scores_html(scores.table) if scores is not None else "",
            table_keys=list(tables),
            version=__version__,
            created_utc=str(result.created_utc),
        )
    )


def write_report(result: ComparisonResult, figures: dict[str, Path], source_info: dict[str, str], out_dir: Path) -> Path:
    """Write the tables as CSV and the HTML report that shows figures and tables.

    Parameters
    ----------
    result
        The comparison.
    figures
        Report key -> PNG path (already written into ``out_dir``).
    source_info
        What was read (see :func:`render_report`).
    out_dir
        The report folder.

    Returns
    -------
    pathlib.Path
        ``report.html``.
    """
    for key, frame in result.tables().items():
        frame.to_csv(out_dir / f"{key}.csv")
    path = out_dir / "report.html"
    path.write_text(render_report(result, figures, source_info), encoding="utf-8")
    return path
