"""Page pieces: a table's data as a download link inside the page."""

from __future__ import annotations

from urllib.parse import unquote

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
