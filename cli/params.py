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


class Text(click.ParamType):
    """Text an id or a stored field can hold: valid UTF-8 (the shell may hand over
    any bytes) and no NUL, which PostgreSQL text cannot store."""

    name = "text"

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            return value
        if "\x00" in value:
            self.fail("holds a NUL character", param, ctx)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            self.fail(f"is not valid UTF-8 text: {_shown(value)}", param, ctx)
        return value


class Day(Text):
    """A day (YYYY-MM-DD) msp can report on: engine/timeparse.py ``parse_date``."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        from msp.engine.timeparse import parse_date

        if not isinstance(value, str):
            return value
        try:
            return parse_date(super().convert(value, param, ctx))
        except UsageError as exc:
            self.fail(exc.message, param, ctx)


def _shown(value: str, limit: int = 64) -> str:
    text = value.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
    return text if len(text) <= limit else text[:limit] + "…"


TEXT = Text()
DAY = Day()
