"""Progress bars for long work, written so that a ``-W`` book build stays clean.

One rule for the whole library: progress goes to **stdout** (never stderr, which fails the book
build), as a ``tqdm`` bar when stdout is a terminal, and is silent otherwise unless the caller
asks for it. ``GLOBALRS_PROGRESS=1`` forces bars on, ``GLOBALRS_PROGRESS=0`` forces them off.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm import tqdm

from globalrs.core.config import PROGRESS_ENV, get_progress_setting  # noqa: F401  (PROGRESS_ENV: its old home)

T = TypeVar("T")


def progress_enabled(requested: bool | None = None) -> bool:
    """Whether progress bars are shown.

    Parameters
    ----------
    requested
        ``True``/``False`` from the caller wins; ``None`` means: ``GLOBALRS_PROGRESS`` if set,
        else on exactly when stdout is an interactive terminal.
    """
    if requested is not None:
        return requested
    setting = get_progress_setting()
    if setting is not None:
        return setting
    return bool(getattr(sys.stdout, "isatty", lambda: False)())


def progress_bar(
    iterable: Iterable[T] | None = None,
    *,
    desc: str = "",
    total: float | None = None,
    unit: str = "it",
    enabled: bool | None = None,
    **kwargs: Any,
) -> tqdm:
    """A ``tqdm`` bar on stdout, disabled unless :func:`progress_enabled` says otherwise.

    Bytes (``unit="B"``) are shown with binary prefixes. The bar is a normal ``tqdm`` object
    (iterate over it, or call ``update``/``close``).
    """
    if unit == "B":
        kwargs.setdefault("unit_scale", True)
        kwargs.setdefault("unit_divisor", 1024)
    return tqdm(
        iterable,
        desc=desc,
        total=total,
        unit=unit,
        file=sys.stdout,
        disable=not progress_enabled(enabled),
        dynamic_ncols=True,
        **kwargs,
    )
