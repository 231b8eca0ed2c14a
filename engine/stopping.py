"""How a long-running command is asked to stop: a ``stop`` that is either a
``threading.Event`` or a callable returning True, and SIGINT/SIGTERM turned
into such an event (the command finishes what it holds, commits, returns)."""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator, Union

Stop = Union[threading.Event, Callable[[], bool], None]


class Stopper:
    """A uniform view of a ``stop`` argument: ``requested()`` and a ``wait``
    that returns early when stopping is requested."""

    def __init__(self, stop: Stop):
        self._event = stop if isinstance(stop, threading.Event) else None
        self._check = (stop.is_set if self._event is not None else stop) or (lambda: False)

    def requested(self) -> bool:
        return bool(self._check())

    __call__ = requested

    def wait(self, seconds: float, step: float = 0.05) -> bool:
        """Sleep up to ``seconds``; True if stopping was requested meanwhile."""
        if self._event is not None:
            return self._event.wait(max(0.0, seconds))
        deadline = time.monotonic() + seconds
        while not self.requested():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(step, left))
        return True


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM while the block runs (the previous
    handlers come back afterwards)."""
    event = threading.Event()
    previous = {}

    def request_stop(signum, frame):
        event.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, request_stop)
    try:
        yield event
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
