"""The registry of automations: every module of this package that declares
``AUTOMATION`` (see ``base.Automation``), in their declared order.

Adding an automation is adding a module (and its ``engine/sql/`` file): the
runner applies what is registered here, and ``msp automate``'s counters are
``events_scanned`` followed by the registered counters in automation order.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

from .base import Automation

SCANNED = "events_scanned"


@functools.lru_cache(maxsize=None)
def automations() -> tuple[Automation, ...]:
    """Every declared automation, by ``order``; names, orders and counters are unique."""
    package = __name__.rpartition(".")[0]
    found = []
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        declared = getattr(importlib.import_module(f"{package}.{info.name}"), "AUTOMATION", None)
        if isinstance(declared, Automation):
            found.append(declared)
    found.sort(key=lambda a: a.order)
    for attribute in ("name", "order", "counter"):
        values = [getattr(a, attribute) for a in found if getattr(a, attribute) is not None]
        if len(values) != len(set(values)):
            raise RuntimeError(f"two automations declare the same {attribute}: {values}")
    return tuple(found)


def counters() -> tuple[str, ...]:
    """The JSON keys of a sweep's counters, in their documented order."""
    return (SCANNED,) + tuple(a.counter for a in automations() if a.counter)
