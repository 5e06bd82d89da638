"""The results record: what chapters write during the build, and reading it back."""

from __future__ import annotations

import json

import numpy as np
import pytest

from globalrs.reproduction import record as rec


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setenv(rec.RESULTS_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(rec, "_current_chapter", None)
    return tmp_path


def test_results_dir_follows_the_environment(results):
    assert rec.results_dir() == results


def test_record_writes_json_and_returns_nothing(results):
    rec.start_record("totals")
    out = rec.record("post2010_mean", np.float64(87.71), claim="totals.post2010_mean", display="87.7", glue=False)
    rec.record("counts", np.array([1, 2]), glue=False)
    assert out is None  # a cell ending with record(...) shows no stray value on the page
    payload = json.loads((results / "totals.json").read_text())
    assert payload["chapter"] == "totals"
    assert payload["records"]["post2010_mean"] == {
        "value": 87.71,
        "display": "87.7",
        "claim": "totals.post2010_mean",
        "context": {},
    }
    assert payload["records"]["counts"]["value"] == [1, 2]
    assert rec.read_records(["totals"], results)["totals"]["counts"]["value"] == [1, 2]


def test_start_record_empties_the_previous_run(results):
    rec.start_record("totals")
    rec.record("a", 1, glue=False)
    rec.start_record("totals")
    assert rec.read_records(["totals"])["totals"] == {}


def test_bad_input_is_refused(results):
    with pytest.raises(RuntimeError, match="start_record"):
        rec.record("a", 1, glue=False)
    rec.start_record("totals")
    with pytest.raises(ValueError, match="non-finite"):
        rec.record("a", float("nan"), glue=False)
    with pytest.raises(ValueError, match="belongs to chapter 'seasonality'"):
        rec.record("a", 1, claim="seasonality.peak_months", glue=False)
    with pytest.raises(KeyError, match="unknown claim"):
        rec.record("a", 1, claim="totals.nothing", glue=False)
    with pytest.raises(TypeError, match="cannot record"):
        rec.record("a", object(), glue=False)
    with pytest.raises(ValueError, match="letters"):
        rec.record("a-b", 1, glue=False)


def test_missing_chapters_are_named(results):
    rec.start_record("totals")
    with pytest.raises(FileNotFoundError, match="regional_cv"):
        rec.read_records(["totals", "regional_cv"])
    (results / "history.json").write_text(json.dumps({"chapter": "other", "records": {}}))
    with pytest.raises(ValueError, match="not the results record"):
        rec.read_records(["history"])


def test_the_default_results_dir_is_under_the_book_root(tmp_path, monkeypatch):
    monkeypatch.delenv(rec.RESULTS_DIR_ENV, raising=False)
    (tmp_path / "_toc.yml").write_text("root: intro\n")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    assert rec.results_dir() == tmp_path / "_build" / "results"


def test_record_glues_plain_numbers_not_numpy_reprs(results, monkeypatch):
    import myst_nb

    glued = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=True: glued.setdefault(name, value))
    rec.start_record("totals")
    rec.record("n_boot", np.int64(30))
    rec.record("ratio", np.float64(1.5))
    assert repr(glued["n_boot"]) == "30" and repr(glued["ratio"]) == "1.5"


@pytest.mark.parametrize(
    "value, fmt",
    [
        (np.float64(87.65), ".1f"),
        (87.65, ".1f"),
        (np.float32(0.125), ".2f"),
        (np.int64(30), ".0f"),
        (12345, ","),
        (np.float64(-0.004), "+.1f"),
        (0.000123, ".2g"),
        (np.array(2.5), "g"),
        (365.0, "g"),
    ],
)
def test_fmt_shows_what_the_f_string_showed(results, monkeypatch, value, fmt):
    """``fmt=`` writes the value once; the glued and recorded text is the f-string's, byte for byte."""
    import myst_nb

    glued = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=True: glued.setdefault(name, value))
    rec.start_record("totals")
    rec.record("x", value, fmt=fmt)
    expected = f"{value:{fmt}}" if not isinstance(value, np.ndarray) else f"{value.item():{fmt}}"
    assert glued["x"] == expected
    entry = rec.read_records(["totals"])["totals"]["x"]
    assert entry["display"] == expected
    assert entry["value"] == pytest.approx(float(value))  # the value itself is kept, unrounded


def test_fmt_refuses_a_bad_spec_and_a_second_display(results):
    rec.start_record("totals")
    with pytest.raises(ValueError, match="fmt='.1q'"):
        rec.record("a", 1.5, fmt=".1q", glue=False)
    with pytest.raises(ValueError, match="not both"):
        rec.record("a", 1.5, fmt=".1f", display="1.5", glue=False)
    with pytest.raises(ValueError, match="cannot format"):
        rec.record("a", "text", fmt=".1f", glue=False)
    assert rec.read_records(["totals"])["totals"] == {}  # nothing half-written
