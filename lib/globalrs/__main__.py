"""``python -m globalrs``: the command line (see :mod:`globalrs.cli`)."""

from globalrs.cli import run

if __name__ == "__main__":
    run()
