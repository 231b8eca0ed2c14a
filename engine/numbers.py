"""The numbers an operator types (a trigger price, a score, a refresh interval):
finite, and inside their range.  One rule for the command line (``cli/params.py``
wraps it as click types) and for the Python API."""

from __future__ import annotations

import math
from typing import Optional

from .errors import UsageError

BIGINT_MAX = 2**63 - 1  # the largest id PostgreSQL stores in a bigint


def finite_number(value, name: str, *, low: Optional[float] = None, high: Optional[float] = None,
                  low_open: bool = False) -> float:
    """``value`` as a float, or a UsageError naming ``name``: NaN, infinities and
    values outside [low, high] (``(low, high]`` with ``low_open``) are refused."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise UsageError(f"{name} must be a number, not {value!r}") from None
    if not math.isfinite(number):
        raise UsageError(f"{name} must be a finite number, not {value!r}")
    if low is not None and (number <= low if low_open else number < low):
        bound = f"greater than {low:g}" if low_open else f"at least {low:g}"
        raise UsageError(f"{name} must be {bound}, not {value!r}")
    if high is not None and number > high:
        raise UsageError(f"{name} must be at most {high:g}, not {value!r}")
    return number


def price(value) -> float:
    """A price: a finite number greater than 0."""
    return finite_number(value, "price", low=0, low_open=True)
