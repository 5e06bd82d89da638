"""The ``globalrs`` command line (``python -m globalrs`` or the ``globalrs`` console script).

Subcommands::

    globalrs datasets [PREFIX...]        list the registry: name, size, licence
    globalrs fetch NAME... | --all       download and verify into the cache (progress bar)
    globalrs mirror DIR [NAME...]        build a verified offline mirror in the registry's layout
    globalrs verify DIR [NAME...]        check a mirror's sizes and sha256
    globalrs clear-cache [--downloads]   empty GLOBALRS_CACHE_DIR
    globalrs compare MAP --out DIR       place a reader's Rs or Rh map among the book's estimates

Exit codes: 0 success, 1 a data problem (failed download, missing or corrupt file), 2 a usage
error (unknown command or option, unknown dataset name). Messages for problems go to stderr and
say what to do; everything else goes to stdout.

Each subcommand is added by a small ``add_*_parser(subparsers)`` function that sets ``func``.
``compare`` checks ``--out`` first and imports the comparison machinery only after that (see
:func:`run_compare`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from globalrs import __version__
from globalrs.app.outdir import check_out_dir
from globalrs.core.config import CACHE_ENV, MAP_KINDS, MIRROR_ENV, get_cache_dir, get_mirror_dir
from globalrs.core.exceptions import CompareError
from globalrs.sources import data as gdata

EXIT_OK = 0
EXIT_DATA = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A command was called with arguments that cannot work (exit code 2)."""


def _progress_flag(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="always show progress bars (default: only on a terminal)",
    )
    group.add_argument("--no-progress", dest="progress", action="store_false", help="never show progress bars")


def _human_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


# --------------------------------------------------------------------------- datasets


def cmd_datasets(args: argparse.Namespace) -> int:
    """Print the registry (optionally only names under the given prefixes)."""
    entries = gdata.list_datasets()
    if not entries:
        raise gdata.DataAccessError("the registry lists no files")
    if args.prefix:
        entries = [e for e in entries if any(e.name.startswith(p) for p in args.prefix)]
        if not entries:
            raise UsageError(f"no registered file starts with {' or '.join(args.prefix)}")
    width = max(len(e.name) for e in entries)
    print(f"{'name':<{width}}  {'size':>9}  licence")
    for e in entries:
        print(f"{e.name:<{width}}  {_human_bytes(e.bytes):>9}  {e.license}")
    total = sum(e.bytes for e in entries)
    print(f"{len(entries)} files, {_human_bytes(total)}")
    return EXIT_OK


def add_datasets_parser(subparsers) -> None:
    """Register the ``datasets`` command (list the registry)."""
    p = subparsers.add_parser(
        "datasets",
        help="list the registered data files (name, size, licence)",
        description="List every file of the data registry with its size and licence.",
    )
    p.add_argument("prefix", nargs="*", help="only names starting with these (e.g. srdb/)")
    p.set_defaults(func=cmd_datasets)


# --------------------------------------------------------------------------- fetch


def cmd_fetch(args: argparse.Namespace) -> int:
    """Download (or find in the mirror) and verify the named files."""
    if not args.names and not args.all:
        raise UsageError("name the files to fetch (see 'globalrs datasets') or pass --all")
    if args.names and args.all:
        raise UsageError("give file names or --all, not both")
    entries = gdata.select_entries(None if args.all else args.names)
    mirror = get_mirror_dir()
    where = f"mirror {mirror} ({MIRROR_ENV})" if mirror else f"cache {get_cache_dir() / 'downloads'}"
    print(f"fetch: {len(entries)} files, {_human_bytes(sum(e.bytes for e in entries))}, into {where}")
    failed = []
    for i, entry in enumerate(entries, 1):
        try:
            path = gdata.fetch(entry.name, progress=args.progress)
        except gdata.DataAccessError as exc:
            failed.append(entry.name)
            print(f"globalrs fetch: {exc}", file=sys.stderr)
            continue
        print(f"[{i}/{len(entries)}] ok  {entry.name} -> {path}")
    if failed:
        print(f"globalrs fetch: {len(failed)} of {len(entries)} files failed: {', '.join(failed)}", file=sys.stderr)
        return EXIT_DATA
    print(f"fetch: all {len(entries)} files verified")
    return EXIT_OK


def add_fetch_parser(subparsers) -> None:
    """Register the ``fetch`` command (download and verify files)."""
    p = subparsers.add_parser(
        "fetch",
        help="download and verify registered files into the cache",
        description=(
            "Download registered files from their canonical URLs into the cache "
            f"({CACHE_ENV}, default ~/.cache/globalrs) and check their sha256. With "
            f"{MIRROR_ENV} set, the files are checked in the mirror instead."
        ),
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="registered file names or folders (see 'globalrs datasets')")
    p.add_argument("--all", action="store_true", help="every registered file")
    _progress_flag(p)
    p.set_defaults(func=cmd_fetch)


# --------------------------------------------------------------------------- mirror / verify


def _print_report(report: gdata.MirrorReport, verb: str) -> int:
    n = len(report.ok) + len(report.missing) + len(report.bad)
    print(f"{verb} {report.root}: {len(report.ok)} of {n} files verified")
    for name in report.missing:
        print(f"globalrs {verb}: missing  {name}", file=sys.stderr)
    for message in report.bad.values():
        print(f"globalrs {verb}: bad      {message}", file=sys.stderr)
    if report.unregistered:
        print(f"{len(report.unregistered)} files not in the registry (left alone), e.g. {', '.join(report.unregistered[:3])}")
    if not report.complete:
        print(
            f"globalrs {verb}: {len(report.missing)} missing and {len(report.bad)} damaged "
            f"files in {report.root}; run 'globalrs mirror {report.root}' on a connected "
            "machine to complete it",
            file=sys.stderr,
        )
        return EXIT_DATA
    return EXIT_OK


def cmd_mirror(args: argparse.Namespace) -> int:
    """Build (or complete) an offline mirror directory and verify it."""
    gdata.select_entries(args.names)  # unknown names are a usage error before any download
    report = gdata.build_mirror(args.directory, args.names or None, progress=args.progress)
    code = _print_report(report, "mirror")
    if code == EXIT_OK:
        print(f"use it with: export {MIRROR_ENV}={report.root}")
    return code


def add_mirror_parser(subparsers) -> None:
    """Register the ``mirror`` command (build an offline mirror)."""
    p = subparsers.add_parser(
        "mirror",
        help="build a verified offline mirror directory (needs internet)",
        description=(
            "Download every registered file (or the named ones) into DIR in the "
            "registry's layout, keep files already there and verified, verify the "
            f"result and report what is missing. Then point {MIRROR_ENV} at DIR."
        ),
    )
    p.add_argument("directory", metavar="DIR", help="mirror directory (created if needed)")
    p.add_argument("names", nargs="*", metavar="NAME", help="only these files or folders")
    _progress_flag(p)
    p.set_defaults(func=cmd_mirror)


def cmd_verify(args: argparse.Namespace) -> int:
    """Check a mirror's files against the registry."""
    report = gdata.check_mirror(args.directory, args.names or None, progress=args.progress)
    return _print_report(report, "verify")


def add_verify_parser(subparsers) -> None:
    """Register the ``verify`` command (check a mirror's hashes)."""
    p = subparsers.add_parser(
        "verify",
        help="check the sizes and sha256 of a mirror directory",
        description="Check every registered file (or the named ones) in DIR against the registry.",
    )
    p.add_argument("directory", metavar="DIR", help="mirror directory")
    p.add_argument("names", nargs="*", metavar="NAME", help="only these files or folders")
    _progress_flag(p)
    p.set_defaults(func=cmd_verify)


# --------------------------------------------------------------------------- clear-cache


def cmd_clear_cache(args: argparse.Namespace) -> int:
    """Empty the cache directory (or only its downloads)."""
    cache = get_cache_dir()
    n_files, n_bytes = gdata.clear_cache(downloads_only=args.downloads)
    what = "downloads in" if args.downloads else "cache"
    print(f"cleared {what} {cache}: {n_files} files, {_human_bytes(n_bytes)}")
    return EXIT_OK


def add_clear_cache_parser(subparsers) -> None:
    """Register the ``clear-cache`` command (empty the cache)."""
    p = subparsers.add_parser(
        "clear-cache",
        help="delete downloaded files and computed results",
        description=(
            f"Empty the cache directory ({CACHE_ENV}, default ~/.cache/globalrs): "
            "downloads and computed results. The offline mirror is never touched."
        ),
    )
    p.add_argument("--downloads", action="store_true", help="remove only downloaded files, keep computed results")
    p.set_defaults(func=cmd_clear_cache)


# --------------------------------------------------------------------------- entry point


#: the library's parameter names in messages, and the command's flags that set them
CLI_WORDS = (
    ("pass variable=", "pass --variable NAME"),
    ("pass band_as='month'", "pass --band-as month"),
    ("pass on_implausible='clip'", "pass --clip"),
    ("another plausible_range", "fix the units (--units)"),
    (" (region_only=True)", ""),
    ("regrid this file with stream=False", "convert the file to a grid that nests in 0.5 degrees"),
)


def cli_message(message: str) -> str:
    """Replace the library's parameter names in a message by the command's flags.

    Parameters
    ----------
    message
        A library message.

    Returns
    -------
    str
        The message as the command line prints it.
    """
    for library, flag in CLI_WORDS:
        message = message.replace(library, flag)
    return message


def _compare_error(message: str) -> int:
    print(f"globalrs compare: error: {cli_message(message)}", file=sys.stderr)
    return EXIT_DATA


def cmd_compare(args: argparse.Namespace) -> int:
    """Run :func:`globalrs.app.compare.compare_map` for the command line; 1 when the map cannot be used.

    Warnings (a total far outside every published and member total) go to stderr and into the
    report; the exit code stays 0 because the report was written.

    Parameters
    ----------
    args
        The parsed ``compare`` arguments.

    Returns
    -------
    int
        The exit code.
    """
    from globalrs.app.compare import compare_map
    from globalrs.core import units as gunits
    from globalrs.gridding import harmonize

    try:
        result = compare_map(
            args.map,
            variable=args.variable,
            units=args.units,
            kind=args.kind,
            name=args.name,
            out_dir=args.out,
            region_only=args.region_only,
            band_as=args.band_as,
            log=print,
            on_implausible="clip" if getattr(args, "clip", False) else "raise",
            force=getattr(args, "force", False),
        )
    except (harmonize.HarmonizeError, gunits.UnitsError, CompareError, FileNotFoundError) as exc:
        return _compare_error(str(exc))
    except OSError as exc:
        print(f"globalrs compare: error: cannot write the report to {args.out}: {exc}", file=sys.stderr)
        return EXIT_DATA
    comparison = result.comparison
    totals = comparison.totals
    what = "covered-area total (PARTIAL map)" if result.partial else "global total"
    print(f"{result.name}: {what} {totals.total_pg_c_yr:.2f} Pg C yr-1 over {totals.land_area_mkm2:.1f} million km2")
    print(f"regions compared: {len(comparison.regional.complete)} of {len(comparison.regional.table)} (regional_totals.csv)")
    for warning in result.warnings:
        print(f"globalrs compare: warning: {warning}", file=sys.stderr)
    if comparison.scores is not None:
        scores = comparison.scores
        print(f"ilamb3 overall score {scores.overall:.2f}: rank {scores.rank} of {scores.n_models + 1} (scores.csv)")
    print(f"report: {result.report_path}")
    return EXIT_OK


def run_compare(args: argparse.Namespace) -> int:
    """Run ``globalrs compare``: check ``--out``, then :func:`cmd_compare`.

    ``--out`` is checked first (:func:`globalrs.app.outdir.check_out_dir`, standard library
    only), so an unusable folder is refused at once. The comparison machinery (ilamb3,
    scikit-learn, cartopy and the book's data flow, about 20 s) is imported only after that, when
    the command runs, so that every other command and ``--help`` start in well under a second.

    Parameters
    ----------
    args
        The parsed ``compare`` arguments.

    Returns
    -------
    int
        The exit code.
    """
    name = args.name if args.name is not None else Path(args.map).stem
    try:
        check_out_dir(Path(args.out), name, getattr(args, "force", False))
    except CompareError as exc:
        return _compare_error(str(exc))
    return cmd_compare(args)


def add_compare_parser(subparsers) -> None:
    """Register ``compare`` (sets ``func`` to :func:`run_compare`)."""
    p = subparsers.add_parser(
        "compare",
        help="place a new gridded Rs or Rh map among the book's estimates (HTML report)",
        description=(
            "Harmonize MAP (NetCDF or GeoTIFF, any regular grid, supported units, annual or "
            "monthly) to the book's grid and write to --out a report (report.html), its "
            "figures (PNG) and tables (CSV): global total beside the published totals and "
            "the ensemble members, regional totals and CV, seasonal cycle when monthly; "
            "with --kind rh, ilamb3 scores against the data-driven Rh benchmark beside the models."
        ),
        epilog='example: globalrs compare my_map.nc --units "g C m-2 yr-1" --out report/',
    )
    p.add_argument("map", metavar="MAP", help="gridded file (NetCDF or GeoTIFF)")
    p.add_argument("--variable", metavar="NAME", help="variable to read from a multi-variable file")
    p.add_argument("--units", metavar="U", help="units of the values, overriding the file (e.g. 'g C m-2 yr-1', 'kg C m-2 s-1')")
    p.add_argument(
        "--kind", choices=MAP_KINDS, default="rs", help="rs: soil respiration (default); rh: heterotrophic respiration"
    )
    p.add_argument("--name", metavar="LABEL", help="label in the report (default: the file name)")
    p.add_argument(
        "--out",
        metavar="DIR",
        default="compare-report",
        help="output directory, created; checked before the work, written at the end (default: %(default)s)",
    )
    p.add_argument(
        "--force", action="store_true", help="replace a non-empty --out that holds another map's report or other files"
    )
    p.add_argument(
        "--region-only", action="store_true", help="accept a map covering only part of the globe (reported as partial)"
    )
    p.add_argument("--band-as", choices=("month",), default=None, help="'month': a 12-band GeoTIFF holds January..December")
    p.add_argument(
        "--clip",
        action="store_true",
        help="clip cells outside the plausible range (0-5000 g C m-2 yr-1) instead of refusing the map; counted in the report",
    )
    p.set_defaults(func=run_compare)


def build_parser() -> argparse.ArgumentParser:
    """The ``globalrs`` parser; each subcommand sets ``func(args) -> exit code``."""
    parser = argparse.ArgumentParser(
        prog="globalrs",
        description=(
            "Data and tools of the executable companion to Hashimoto, Ito & Nishina "
            "(2023), 'Divergent data-driven estimates of global soil respiration'."
        ),
        epilog=(f"Environment: {MIRROR_ENV} (offline mirror), {CACHE_ENV} (cache). 'globalrs COMMAND --help' for each command."),
    )
    parser.add_argument("--version", action="version", version=f"globalrs {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_datasets_parser(subparsers)
    add_fetch_parser(subparsers)
    add_mirror_parser(subparsers)
    add_verify_parser(subparsers)
    add_clear_cache_parser(subparsers)
    add_compare_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 data problem, 2 usage error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"globalrs {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except gdata.UnknownDatasetError as exc:
        print(f"globalrs {args.command}: error: {exc} See 'globalrs datasets'.", file=sys.stderr)
        return EXIT_USAGE
    except gdata.DataAccessError as exc:
        print(f"globalrs {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_DATA
    except KeyboardInterrupt:
        print("globalrs: interrupted", file=sys.stderr)
        return 130


def run() -> None:
    """Console-script entry point.

    A closed pipe (``globalrs datasets | head``) ends the command quietly, as for other Unix
    tools, instead of with a BrokenPipeError traceback.
    """
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader went away: send the rest of the output nowhere and exit as a shell would
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 141
    sys.exit(code)
