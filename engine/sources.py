"""What ``ingest`` and ``validate`` read: each source a caller names, as a named stream of byte lines.

A source is a path (``-`` for stdin), a binary or text file object, or Python
dicts (events, serialised one per line as a JSONL file would hold them).  Paths
are checked before anything is read, so a missing file fails the run early;
file objects and events are read lazily, one line at a time, so an endless
iterable of events keeps memory flat like a file does.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable, ContextManager, Iterable, Iterator, Mapping, Optional

import orjson

from .errors import InputRejected

STDIN = "-"
STDIN_SOURCE = "<stdin>"
EVENTS_SOURCE = "<events>"
STREAM_SOURCE = "<stream>"


@dataclass
class Source:
    """A name for the reports (``FILE:LINE``) and a way to open it as a binary line stream."""

    name: str
    open: Callable[[], ContextManager[BinaryIO]]
    path: Optional[str] = None  # a file on disk (its size drives the CLI's progress bar)


class LineStream:
    """``readline(limit)`` over an iterator of byte lines: what ``engine.ingest.read_lines``
    needs from a file, for text streams and Python events."""

    def __init__(self, lines: Iterator[bytes]):
        self._lines = lines
        self._pending = b""

    def readline(self, limit: int = -1) -> bytes:
        if not self._pending:
            self._pending = next(self._lines, b"")
        if limit is None or limit < 0 or len(self._pending) <= limit:
            line, self._pending = self._pending, b""
        else:
            line, self._pending = self._pending[:limit], self._pending[limit:]
        return line


def event_lines(events: Iterable[Any]) -> Iterator[bytes]:
    """Events as JSON lines (``datetime`` values as RFC 3339 text; anything else JSON
    cannot hold raises ``TypeError``).  A non-dict item becomes a line that is rejected."""
    for event in events:
        yield orjson.dumps(event) + b"\n"


def _is_stream(value: Any) -> bool:
    return hasattr(value, "read") and hasattr(value, "readline")


def _is_path(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike))


def check_path(path: str) -> str:
    """Fail before reading anything if a named file is missing or unreadable."""
    if path == STDIN:
        return path
    if not os.path.exists(path):
        raise InputRejected(f"{path}: no such file")
    if os.path.isdir(path):
        raise InputRejected(f"{path}: is a directory, not a file")
    if not os.access(path, os.R_OK):
        raise InputRejected(f"{path}: permission denied")
    return path


def _binary(stream) -> BinaryIO:
    """A binary line stream of a file object (a text one is encoded as UTF-8 line by line)."""
    if isinstance(stream.read(0), str):
        return LineStream(line.encode("utf-8") for line in iter(stream.readline, ""))
    return stream


def _path_source(path, stdin: Optional[BinaryIO]) -> Source:
    path = check_path(os.fspath(path))
    if path == STDIN:
        return Source(STDIN_SOURCE, lambda: nullcontext(stdin or sys.stdin.buffer))
    return Source(path, lambda: open(path, "rb"), path=path)


def _stream_source(stream) -> Source:
    name = getattr(stream, "name", None)
    name = name if isinstance(name, str) and name else STREAM_SOURCE
    return Source(name, lambda: nullcontext(_binary(stream)))


@contextmanager
def _events_stream(events: Iterable[Any]) -> Iterator[BinaryIO]:
    yield LineStream(event_lines(events))


def resolve_sources(sources: Any, stdin: Optional[BinaryIO] = None) -> list[Source]:
    """``sources`` as a list of ``Source``: one path or file object, one event (a dict),
    an iterable of dicts (one source, ``<events>``), or an iterable of paths, file objects
    and ``Source`` objects resolved before."""
    if isinstance(sources, Source) or _is_path(sources) or _is_stream(sources):
        items: list = [sources]
    elif isinstance(sources, Mapping):
        return [Source(EVENTS_SOURCE, lambda: _events_stream([sources]))]
    else:
        iterator = iter(sources)
        first = next(iterator, None)
        if first is None:
            return []
        if not (isinstance(first, Source) or _is_path(first) or _is_stream(first)):  # events: read lazily, never listed
            def events(first=first, rest=iterator):
                yield first
                yield from rest
            return [Source(EVENTS_SOURCE, lambda: _events_stream(events()))]
        items = [first, *iterator]
    resolved = []
    for item in items:
        if isinstance(item, Source):  # resolved already (its path checked)
            resolved.append(item)
        elif _is_path(item):
            resolved.append(_path_source(item, stdin))
        elif _is_stream(item):
            resolved.append(_stream_source(item))
        else:
            raise TypeError(f"cannot ingest a {type(item).__name__} beside files: pass paths and file objects, "
                            "or an iterable of events (dicts)")
    return resolved
