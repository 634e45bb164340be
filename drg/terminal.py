"""Text for the terminal: data values never reach it raw.

A code or file name from the input may hold control characters (ANSI escapes that
rewrite the screen, carriage returns that hide text, bidi overrides) or run for
kilobytes. :func:`clean` removes control and format characters and cuts long runs.
"""

from __future__ import annotations

import re
import unicodedata

_LONG = re.compile(r"\S{121,}")


def clean(value, limit: int = 1000) -> str:
    """``value`` as one printable line: control/format characters become spaces (tab and
    newline too), a run of more than 120 non-blank characters is cut with an ellipsis, and
    the whole line is cut at ``limit`` characters."""
    text = str(value)
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() and unicodedata.category(ch) not in ("Cc", "Cf") else " " for ch in text)
    else:
        text = "".join(ch if unicodedata.category(ch) != "Cf" else " " for ch in text)
    text = _LONG.sub(lambda m: m.group(0)[:117] + "…", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
