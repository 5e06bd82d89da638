"""The page guards of the site test, on hand-made outputs (no built book needed)."""

from __future__ import annotations

from pageguards import BARE_VALUE_RE, MAX_PROGRESS_LINES, NP_REPR_RE, internal_labels, progress_log_lines, truncated_cells


def test_a_progress_log_is_found_and_a_short_report_is_not():
    log = "\n".join(f"year {y}: 6 members done" for y in range(1961, 2015))
    assert progress_log_lines(log) == 54 > MAX_PROGRESS_LINES
    maps = "\n".join(f"rh map {i}/16" for i in range(1, 17))
    assert progress_log_lines(maps) == 16
    report = "Berkeley Earth vs UDel-zone land anomaly, 1961-2014: r = 0.99\nseries with DW < 1.5: 8 of 23\n"
    assert progress_log_lines(report) <= MAX_PROGRESS_LINES
    assert progress_log_lines("no digits here\nnor here") == 0


def test_truncated_cells_are_the_ones_pandas_cut():
    assert truncated_cells(["...", "a long source note that pandas cut...", "68.0", "ok"]) == [
        "...",
        "a long source note that pandas cut...",
    ]
    assert truncated_cells(["1992", "B2, C2 and C5", "…"]) == []  # a typographic ellipsis is text


def test_bare_values_are_numbers_and_numpy_reprs_only():
    for bare in ["0.0684462696783017", "1.0", "np.int64(30)", "np.float64(3.5)", "-2", "1e-05", "nan"]:
        assert BARE_VALUE_RE.match(bare), bare
    for fine in ["np.int64(30) replicates", "30 replicates", "rho = -0.46", "A1, B2", "{'a': 1}"]:
        assert not BARE_VALUE_RE.match(fine), fine


def test_internal_labels_are_found_as_words():
    text = "status UNVERIFIED; ids new1/new2; harmonize_to_grid returns this (tested); the cell stops the build"
    assert internal_labels(text) == ["UNVERIFIED", "new1", "new2", "(tested)", "stops the build"]
    assert internal_labels("The Methods were not at hand for this book; renew1 is a word") == []


def test_numpy_reprs_are_found_inside_text():
    assert NP_REPR_RE.search("np.int64(30) replicates")
    assert NP_REPR_RE.search("(np.float64(1.5), 2)")
    assert not NP_REPR_RE.search("30 replicates; numpy.int64 is a type")
