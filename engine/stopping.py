"""How a long-running command is asked to stop: a ``stop`` that is either an
event (``threading.Event``, or the ``SignalFlag`` below) or a callable
returning True, and SIGINT/SIGTERM turned into such an event (the command
finishes what it holds, commits, returns)."""

from __future__ import annotations

import os
import select
import signal
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator, Optional, Union


class SignalFlag:
    """An event a signal handler may set.

    ``threading.Event.set`` takes the event's lock, and a Python signal handler
    runs in the main thread between two of its bytecodes — possibly inside that
    thread's own ``Event.wait``, while it holds the same lock: the handler then
    waits for itself forever (seen: ``ingest --follow`` ignoring a SIGTERM, about
    one run in a few hundred).  Setting this flag takes no lock: a plain
    attribute, and a byte into a pipe whose read end ``wait`` selects on, which
    wakes every waiter in any thread at once."""

    def __init__(self) -> None:
        self._set = False
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)

    def set(self) -> None:
        self._set = True
        if self._write_fd >= 0:
            try:
                os.write(self._write_fd, b"!")
            except OSError:  # the pipe is full: it is set already
                pass

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Sleep until set or ``timeout`` seconds; whether it is set."""
        if not self._set and self._read_fd >= 0:
            select.select([self._read_fd], [], [], timeout)
        return self._set

    def close(self) -> None:
        """Release the pipe (once no signal handler can set the flag any more)."""
        fds, self._read_fd, self._write_fd = (self._read_fd, self._write_fd), -1, -1
        for fd in fds:
            if fd >= 0:
                os.close(fd)


Stop = Union[threading.Event, SignalFlag, Callable[[], bool], None]


class Stopper:
    """A uniform view of a ``stop`` argument: ``requested()`` and a ``wait``
    that returns early when stopping is requested."""

    def __init__(self, stop: Stop):
        self._event = stop if isinstance(stop, (threading.Event, SignalFlag)) else None
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
def stop_on_signals() -> Iterator[SignalFlag]:
    """An event set by SIGINT or SIGTERM while the block runs (the previous
    handlers come back afterwards)."""
    event = SignalFlag()
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
        event.close()
