"""Text from the data made harmless to show: control characters (terminal
escapes, bells, bidirectional overrides, carriage returns) become visible
escapes such as ``\\x1b``.  Tables, CSV (cli/render.py) and the HTML report
(engine/review_html.py) all show data through it; JSON keeps text exact."""

from __future__ import annotations


def visible_text(text: str) -> str:
    return "".join(ch if ch.isprintable() or ch == "\n" else repr(ch)[1:-1] for ch in text)
