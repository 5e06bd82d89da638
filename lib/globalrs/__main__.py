"""``python -m globalrs``: the command line (see :mod:`globalrs.app.cli`)."""

from globalrs.app.cli import run

if __name__ == "__main__":
    run()
