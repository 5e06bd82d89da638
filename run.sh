#!/usr/bin/env bash
# One entry point for set-up, book build and tests. Creates or reuses ./.venv (Python >= 3.12).
#
#   ./run.sh book          build the HTML book into _build/html (execution cache reused)
#   ./run.sh book --force  re-execute every notebook from an empty execution cache (what CI does)
#   ./run.sh test          unit tests, then every notebook under nbval
#   ./run.sh site          after a build: browser test (headless Chromium) and link check of _build/html
#   ./run.sh lab           open the chapters in JupyterLab (http://localhost:8888)
#   ./run.sh env [--test]  only create/refresh the environment (--test: with the test tools and Chromium)
#
# requirements.txt (the book) is installed for every command; requirements-test.txt (pytest,
# nbval, xdist, playwright, actionlint) only for `test` and `site`.
#
# Offline machines: export GLOBALRS_DATA_MIRROR=/path/to/mirror (for example ../shared/data).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
VENV="$ROOT/.venv"
MIN_PY="3.12"

# Is "$1" a Python >= 3.12 that can create virtual environments?
usable_python() {
  "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info[:2] < (3, 12))' >/dev/null 2>&1
}

# Print the first usable interpreter: $PYTHON, then python3.12 / python3.13 / python3 on PATH,
# then interpreters installed under pyenv (its python3.12 shim refuses to run unless
# PYENV_VERSION names the version, so the installed binaries are tried directly).
find_python() {
  local c
  for c in ${PYTHON:-} python3.12 python3.13 python3; do
    if command -v "$c" >/dev/null 2>&1 && usable_python "$c"; then command -v "$c"; return 0; fi
  done
  for c in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3 \
           "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[3-9]*/bin/python3; do
    if [ -x "$c" ] && usable_python "$c"; then echo "$c"; return 0; fi
  done
  return 1
}

# Install into the venv with uv when it can be had (its wheel carries the binary; about 10 s for
# the whole environment against about 80 s with pip), else with pip. The same pinned files either
# way; if uv fails (uv does not read pip's configuration, e.g. a private index), pip does it.
UV_PIN="uv==0.13.9"
EXCLUDES="$ROOT/requirements-exclude.txt"
venv_install() {
  if [ -z "${RUN_SH_INSTALLER:-}" ]; then
    RUN_SH_INSTALLER=pip
    # the pinned uv (an older one may lack --excludes)
    if [ "$("$VENV/bin/python" -m uv --version 2>/dev/null | cut -d' ' -f2)" = "${UV_PIN#uv==}" ] \
       || "$VENV/bin/python" -m pip install -q "$UV_PIN" >/dev/null 2>&1; then
      RUN_SH_INSTALLER=uv
    fi
  fi
  if [ "$RUN_SH_INSTALLER" = uv ]; then
    if "$VENV/bin/python" -m uv pip install -q --python "$VENV/bin/python" --excludes "$EXCLUDES" "$@"; then
      return 0
    fi
    echo "run.sh: uv could not install $*; using pip" >&2
    RUN_SH_INSTALLER=pip
  fi
  "$VENV/bin/python" -m pip install -q "$@"
}

# Uninstall what requirements-exclude.txt lists if an installer put it in (pip cannot exclude a
# dependency; an environment made before the exclusion still has it). Run after the installs.
remove_excluded() {
  local present
  present=$("$VENV/bin/python" - "$EXCLUDES" <<'PY'
import sys
from importlib import metadata
names = [line.split("#", 1)[0].strip() for line in open(sys.argv[1])]
print(" ".join(n for n in names if n and any(True for _ in metadata.distributions(name=n))))
PY
)
  [ -n "$present" ] || return 0
  # shellcheck disable=SC2086
  if [ "${RUN_SH_INSTALLER:-}" = uv ]; then
    "$VENV/bin/python" -m uv pip uninstall -q --python "$VENV/bin/python" $present
  else
    "$VENV/bin/python" -m pip uninstall -y -q $present
  fi
}

ensure_env() {
  # Python writes the .pyc files of what is imported, the first time (into .venv/ and the
  # git-ignored __pycache__ folders). Where PYTHONDONTWRITEBYTECODE is set (as on the project's
  # machines) nothing would, and every kernel would compile its imports again: 6.3 s instead of
  # 2.3 s a chapter. Compiling the whole environment as it installs (uv --compile-bytecode)
  # costs 20 s more than compiling what the book imports.
  unset PYTHONDONTWRITEBYTECODE
  if [ -x "$VENV/bin/python" ] && ! usable_python "$VENV/bin/python"; then
    echo "run.sh: $VENV uses $("$VENV/bin/python" --version 2>&1); recreating it with Python >= $MIN_PY"
    rm -rf "$VENV"
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    local py
    py=$(find_python) || {
      echo "run.sh: no Python >= $MIN_PY with the venv module was found (tried \$PYTHON, python3.12," \
           "python3.13, python3 and pyenv's versions)." >&2
      echo "run.sh: install one, e.g. 'apt-get install python3.12 python3.12-venv' (Debian 13) or" \
           "'pyenv install 3.12', or set PYTHON=/path/to/python3.12" >&2
      exit 2
    }
    echo "run.sh: creating $VENV with $("$py" --version) ($py)"
    "$py" -m venv "$VENV"
  fi
  local stamp="$VENV/.env-stamp" want
  want=$(cat requirements.txt requirements-exclude.txt pyproject.toml | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "run.sh: installing requirements.txt and the globalrs library into $VENV"
    venv_install -r requirements.txt
    venv_install --no-deps -e .
    remove_excluded
    echo "$want" > "$stamp"
  fi
  "$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 >/dev/null 2>&1 || true
  # The IPCC AR6 regions (a second region set of the book) are not in regionmask's wheel:
  # scripts/seed_regionmask_cache.py takes the file from regionmask's sdist on the package index,
  # verified, into regionmask's own cache (once; the stamp names the file it wrote).
  local ar6_stamp="$VENV/.regionmask-ar6"
  if [ ! -f "$ar6_stamp" ] || [ ! -f "$(cat "$ar6_stamp")" ]; then
    if "$VENV/bin/python" scripts/seed_regionmask_cache.py > "$ar6_stamp.log" 2>&1; then
      sed -n 's/^seed_regionmask_cache: AR6 regions verified in //p' "$ar6_stamp.log" > "$ar6_stamp"
    else
      cat "$ar6_stamp.log" >&2
      echo "run.sh: the AR6 regions are not available offline (above); chapters that use them will say so" >&2
    fi
  fi
  export PATH="$VENV/bin:$PATH"
  export MPLBACKEND=Agg
}

build_book() {
  # scripts/build_book.py: stops at once when no input changed since the last build; otherwise
  # runs the chapters GLOBALRS_BUILD_JOBS at a time (default: CPUs, at most 4) into the execution
  # cache, then jupyter-book with -W. --force empties the execution cache first (what CI does),
  # so a change in lib/ can never be served from a stale cache.
  python scripts/build_book.py "$@"
}

ensure_test_env() {
  # Test and browser tools, pinned apart from the book's environment (not part of Binder's).
  local stamp="$VENV/.env-test-stamp" want
  want=$(sha256sum requirements-test.txt | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "run.sh: installing requirements-test.txt into $VENV"
    venv_install -r requirements-test.txt
    remove_excluded
    echo "$want" > "$stamp"
  fi
}

run_lab() {
  # JupyterLab on the chapters, with the same kernel and environment as the book build; an
  # interactive session shows progress bars (globalrs.core.progress; they stay off in batch runs).
  GLOBALRS_PROGRESS="${GLOBALRS_PROGRESS:-1}" env -u MPLBACKEND jupyter lab --notebook-dir="$ROOT" "$@"
}

ensure_chromium() {
  # The site test drives Debian's Chromium (headless, offline).
  [ -x /usr/bin/chromium ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "run.sh: installing Debian's chromium for the site test"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
  else
    echo "run.sh: /usr/bin/chromium is missing: run 'apt-get install -y chromium' as root" >&2
    exit 2
  fi
}

run_site() {
  # Browser test and offline link check of the built book (build it first: ./run.sh book).
  # Screenshots and reports go to _build/site-screenshots/. SITE_HTML_DIR=... to test another build.
  ensure_chromium
  python -m pytest site_tests -p no:cacheprovider "$@"
}

run_tests() {
  # The chapters run under nbval record their values apart from the book's records
  # (_build/results), which the scorecard page and the site test read: a test run never
  # rewrites what a build wrote, even while the site test reads it.
  export GLOBALRS_RESULTS_DIR="$ROOT/_build/test-results"
  set +e
  python -m pytest tests notebooks --nbval-lax -p no:cacheprovider \
    -n "${PYTEST_WORKERS:-2}" --dist loadfile "$@"
  local rc=$?
  set -e
  if [ "$rc" -eq 5 ]; then
    echo "run.sh: pytest collected no tests (exit 5): treating as a failure" >&2
    return 1
  fi
  return "$rc"
}

cmd=${1:-}
shift || true
case "$cmd" in
  env)
    ensure_env
    if [ "${1:-}" = "--test" ]; then ensure_test_env; ensure_chromium; fi ;;
  book) ensure_env; build_book "$@" ;;
  test) ensure_env; ensure_test_env; run_tests "$@" ;;
  site) ensure_env; ensure_test_env; run_site "$@" ;;
  lab) ensure_env; run_lab "$@" ;;
  *) echo "usage: ./run.sh {book [--force]|test [pytest args]|site [pytest args]|lab [jupyter args]|env [--test]}" >&2; exit 2 ;;
esac
