"""Option types for the numbers an operator types: the rules of
``engine/numbers.py``, reported by click as a usage error (exit 2)."""

from __future__ import annotations

from typing import Optional

import click

from msp.engine.errors import UsageError
from msp.engine.numbers import finite_number


class FiniteNumber(click.ParamType):
    """A finite float in [low, high] (``(low, high]`` with ``low_open``): never NaN or ±inf."""

    name = "number"

    def __init__(self, low: Optional[float] = None, high: Optional[float] = None, *, low_open: bool = False):
        self.low, self.high, self.low_open = low, high, low_open

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            return value
        try:
            return finite_number(value, "the value", low=self.low, high=self.high, low_open=self.low_open)
        except UsageError as exc:
            self.fail(exc.message.removeprefix("the value "), param, ctx)


PRICE = FiniteNumber(0, low_open=True)
SCORE = FiniteNumber(0, 100)
