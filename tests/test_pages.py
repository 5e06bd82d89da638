"""Page pieces: a table's data as a download link inside the page, and tables with a dash in empty cells."""

from __future__ import annotations

from urllib.parse import unquote

import numpy as np
import pandas as pd

from globalrs.viz import pages


def test_csv_link_carries_the_text_unchanged_even_with_quotes_and_markup():
    frame = pd.DataFrame({"model": ['CESM2 "WACCM"', "a&b <c>", "ümlaut, comma"], "rh_pg_c_yr": [51.2, 60.0, 1e-3]})
    text = frame.to_csv(index=False)
    link = pages.csv_download_html(text, "scores.csv", "Download the scores (CSV)")
    assert link.startswith('<p><a download="scores.csv" href="data:text/csv;charset=utf-8,')
    assert link.endswith(">Download the scores (CSV)</a></p>")
    href = link.split('href="', 1)[1].split('">', 1)[0]
    assert '"' not in href and "<" not in href and "&" not in href  # nothing that ends the attribute
    assert unquote(href.split("charset=utf-8,", 1)[1]) == text


def test_a_page_table_shows_a_dash_in_every_empty_cell_and_keeps_pandas_number_format():
    from globalrs.viz.pages import MISSING_CELL, page_table

    frame = pd.DataFrame(
        {
            "total_pg_c_yr": [91.234567, np.nan],
            "n_studies": pd.array([3, None], dtype="Int64"),
            "source": ["SRDB", None],
            "share": pd.array([0.25, None], dtype="Float64"),
        },
        index=["A1", "B2"],
    )
    with pd.option_context("display.precision", 2):
        html = page_table(frame)._repr_html_()
        plain = frame._repr_html_()
    assert "NaN" in plain and "&lt;NA&gt;" in plain  # what pandas alone shows
    assert "NaN" not in html and "&lt;NA&gt;" not in html and "None" not in html
    assert html.count(f"<td>{MISSING_CELL}</td>") == 4  # the whole B2 row
    assert "<td>91.23</td>" in html and "<td>3</td>" in html and "<td>SRDB</td>" in html
    assert 'class="dataframe"' in html
    # the frame itself is not changed: its NaN are still there for further work
    assert frame["total_pg_c_yr"].isna().sum() == 1 and page_table(frame).frame is frame
