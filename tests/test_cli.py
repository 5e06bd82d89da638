"""The ``globalrs`` command line against a loopback HTTP server and files the tests make."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from globalrs.app import cli
from globalrs.sources import data
from globalrs.sources.data import RegistryEntry

FILES = {
    "obs/rs.csv": b"year,rs\n2000,88.1\n2001,89.0\n",
    "obs/sites.csv": b"site,lat,lon\na,1.0,2.0\n",
    "maps/rs.txt": b"x" * 5000,
}


def make_entry(name: str, payload: bytes, url: str) -> RegistryEntry:
    return RegistryEntry(
        name=name,
        url=url,
        sha256=hashlib.sha256(payload).hexdigest(),
        bytes=len(payload),
        license=f"licence of {name}",
        description="test",
        citation="test",
        bibkeys=(),
    )


@pytest.fixture
def served_registry(monkeypatch, tmp_path, loopback_server):
    """A registry of three files served by the loopback server; no mirror; a temporary cache."""
    served, base = loopback_server
    entries = {}
    for name, payload in FILES.items():
        flat = name.replace("/", "__")
        (served / flat).write_bytes(payload)
        entries[name] = make_entry(name, payload, f"{base}/{flat}")
    monkeypatch.setattr(data, "load_registry", lambda: entries)
    data._cached_sha256.cache_clear()
    monkeypatch.delenv("GLOBALRS_DATA_MIRROR", raising=False)
    monkeypatch.setenv("GLOBALRS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("GLOBALRS_PROGRESS", raising=False)
    return served, entries


def test_mirror_builds_a_verified_mirror_in_registry_layout(served_registry, tmp_path, capsys):
    target = tmp_path / "mirror"
    assert cli.main(["mirror", str(target)]) == 0
    for name, payload in FILES.items():
        assert (target / name).read_bytes() == payload
    out = capsys.readouterr().out
    assert "3 of 3 files verified" in out and "GLOBALRS_DATA_MIRROR" in out
    # the mirror then serves fetch() with no network: stop serving and read through it
    served, _ = served_registry
    for f in served.iterdir():
        f.unlink()
    os.environ["GLOBALRS_DATA_MIRROR"] = str(target)
    try:
        assert data.fetch("obs/rs.csv").read_bytes() == FILES["obs/rs.csv"]
    finally:
        del os.environ["GLOBALRS_DATA_MIRROR"]
    assert cli.main(["verify", str(target)]) == 0


def test_mirror_reports_what_is_missing_and_keeps_the_rest(served_registry, tmp_path, capsys):
    served, _ = served_registry
    (served / "obs__sites.csv").unlink()
    target = tmp_path / "mirror"
    assert cli.main(["mirror", str(target)]) == 1
    captured = capsys.readouterr()
    assert "missing  obs/sites.csv" in captured.err
    assert "2 of 3 files verified" in captured.out
    assert (target / "obs/rs.csv").read_bytes() == FILES["obs/rs.csv"]
    assert not (target / "obs/sites.csv").exists()


def test_mirror_replaces_a_damaged_file_and_keeps_good_ones(served_registry, tmp_path):
    target = tmp_path / "mirror"
    (target / "obs").mkdir(parents=True)
    (target / "obs/rs.csv").write_bytes(b"damaged")
    good = target / "obs/sites.csv"
    good.write_bytes(FILES["obs/sites.csv"])
    mtime = good.stat().st_mtime_ns
    assert cli.main(["mirror", str(target), "obs"]) == 0
    assert (target / "obs/rs.csv").read_bytes() == FILES["obs/rs.csv"]
    assert good.stat().st_mtime_ns == mtime  # verified, not downloaded again
    assert not (target / "maps").exists()  # only the folder that was asked for


def test_verify_names_missing_corrupt_and_unregistered_files(served_registry, tmp_path, capsys):
    target = tmp_path / "mirror"
    (target / "obs").mkdir(parents=True)
    (target / "obs/rs.csv").write_bytes(FILES["obs/rs.csv"])
    (target / "obs/sites.csv").write_bytes(b"S" * len(FILES["obs/sites.csv"]))  # same size, wrong bytes
    (target / "notes.txt").write_text("mine")
    assert cli.main(["verify", str(target)]) == 1
    captured = capsys.readouterr()
    assert "missing  maps/rs.txt" in captured.err
    assert "obs/sites.csv" in captured.err and "corrupt" in captured.err
    assert "1 of 3 files verified" in captured.out
    assert "notes.txt" in captured.out


def test_verify_of_a_directory_that_does_not_exist_fails(served_registry, tmp_path, capsys):
    assert cli.main(["verify", str(tmp_path / "nowhere")]) == 1
    assert "not a directory" in capsys.readouterr().err


def test_fetch_downloads_into_cache_with_progress(served_registry, tmp_path, capsys):
    assert cli.main(["fetch", "maps/rs.txt", "--progress"]) == 0
    cached = tmp_path / "cache" / "downloads" / "maps" / "rs.txt"
    assert cached.read_bytes() == FILES["maps/rs.txt"]
    out = capsys.readouterr().out
    assert "maps/rs.txt" in out and "100%" in out  # the tqdm bar went to stdout


def test_fetch_all_without_a_terminal_prints_one_line_per_file_and_no_bar(served_registry, capsys):
    assert cli.main(["fetch", "--all"]) == 0
    captured = capsys.readouterr()
    assert captured.out.count("ok  ") == len(FILES)
    assert "%|" not in captured.out and captured.err == ""


def test_fetch_failure_exits_1_and_names_the_file(served_registry, capsys):
    served, _ = served_registry
    (served / "obs__rs.csv").write_bytes(b"tampered")
    assert cli.main(["fetch", "obs/rs.csv", "obs/sites.csv"]) == 1
    err = capsys.readouterr().err
    assert "obs/rs.csv" in err and "1 of 2 files failed" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fetch"], "--all"),
        (["fetch", "obs/rs.csv", "--all"], "not both"),
        (["fetch", "obs/rs.cvs"], "Did you mean 'obs/rs.csv'"),
        (["datasets", "nothing/"], "no registered file"),
    ],
)
def test_usage_errors_exit_2_with_a_message(served_registry, capsys, argv, message):
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


def test_unknown_command_and_no_command_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["frobnicate"])
    assert exc.value.code == 2
    assert cli.main([]) == 2
    assert "COMMAND" in capsys.readouterr().err


def test_datasets_lists_name_size_licence(served_registry, capsys):
    assert cli.main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name in FILES:
        assert name in out and f"licence of {name}" in out
    assert f"{len(FILES)} files" in out
    assert cli.main(["datasets", "obs/"]) == 0
    out = capsys.readouterr().out
    assert "obs/rs.csv" in out and "maps/rs.txt" not in out


def test_clear_cache_removes_downloads_or_everything(served_registry, tmp_path, capsys):
    assert cli.main(["fetch", "--all"]) == 0
    results = tmp_path / "cache" / "results" / "x.nc"
    results.parent.mkdir(parents=True)
    results.write_bytes(b"r" * 10)
    capsys.readouterr()
    assert cli.main(["clear-cache", "--downloads"]) == 0
    n_bytes = sum(len(p) for p in FILES.values())
    out = capsys.readouterr().out
    assert f"{len(FILES)} files, {cli._human_bytes(n_bytes)}" in out
    assert results.exists() and not any((tmp_path / "cache" / "downloads").rglob("*.*"))
    assert cli.main(["clear-cache"]) == 0
    assert "1 files, 10 B" in capsys.readouterr().out
    assert not results.exists()


@pytest.mark.parametrize("command", ["datasets", "fetch", "mirror", "verify", "clear-cache"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: globalrs {command}")


def test_python_dash_m_globalrs_runs(tmp_path):
    env = {**os.environ, "GLOBALRS_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-m", "globalrs", "--help"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    for command in ("datasets", "fetch", "mirror", "verify", "clear-cache"):
        assert command in done.stdout


def test_python_dash_m_globalrs_mirror_end_to_end_with_a_registry_of_our_own(tmp_path, loopback_server):
    """`python -m globalrs mirror DIR` in a separate process, against the loopback server, with
    GLOBALRS_REGISTRY naming a registry the test writes; then `verify`, also after damage."""
    served, base = loopback_server
    rows = ["name,url,sha256,bytes,license,description,citation,bibkeys"]
    for name, payload in FILES.items():
        flat = name.replace("/", "__")
        (served / flat).write_bytes(payload)
        rows.append(f"{name},{base}/{flat},{hashlib.sha256(payload).hexdigest()},{len(payload)},CC0,test file,test,")
    registry = tmp_path / "registry.csv"
    registry.write_text("\n".join(rows) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("GLOBALRS_DATA_MIRROR", "GLOBALRS_PROGRESS")}
    env.update(GLOBALRS_REGISTRY=str(registry), GLOBALRS_CACHE_DIR=str(tmp_path / "cache"))
    target = tmp_path / "mirror"

    def run(*argv):
        return subprocess.run([sys.executable, "-m", "globalrs", *argv], capture_output=True, text=True, env=env, timeout=300)

    built = run("mirror", str(target))
    assert built.returncode == 0, built.stderr
    assert "3 of 3 files verified" in built.stdout and built.stderr == ""
    assert all((target / name).read_bytes() == payload for name, payload in FILES.items())
    assert run("verify", str(target)).returncode == 0
    (target / "maps/rs.txt").write_bytes(b"y" * len(FILES["maps/rs.txt"]))
    damaged = run("verify", str(target))
    assert damaged.returncode == 1 and "maps/rs.txt" in damaged.stderr
    registry.write_text("not,a,registry\n")
    broken = run("datasets")
    assert broken.returncode == 1 and "lacks the columns" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_datasets_into_a_closed_pipe_ends_without_a_traceback(tmp_path):
    # `globalrs datasets | head`: the reader goes away before the listing is written
    env = {**os.environ, "GLOBALRS_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "globalrs", "datasets"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert proc.returncode == 141


def test_compare_help_shows_the_default_folder_and_the_new_flags(capsys):
    with pytest.raises(SystemExit):
        cli.main(["compare", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: compare-report)" in out
    assert "--clip" in out and "--force" in out
