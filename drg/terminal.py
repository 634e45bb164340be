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


_KEEP = {"\n"}


def _clean_chunk(text: str) -> str:
    if text.isprintable() or all(ch.isprintable() or ch in "\n\r" for ch in text):
        if "\r" not in text[1:] and not any(unicodedata.category(ch) == "Cf" for ch in text):
            return text
    head = "\r" if text.startswith("\r") else ""  # a progress line redrawn in place
    body = text[len(head):]
    return head + "".join(ch if ch in _KEEP or (ch.isprintable() and unicodedata.category(ch) != "Cf") else " "
                          for ch in body)


class CleanStream:
    """A console stream that lets no control or format character through (ANSI and OSC escapes, bidi
    overrides, carriage returns inside a line; a write may start with one carriage return, as a progress
    bar redraws its line): installed on stdout and stderr by :func:`drg.cli.main`, so every terminal
    line passes this one cleaner whatever printed it."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        return self._stream.write(_clean_chunk(text) if isinstance(text, str) else text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def __getattr__(self, name):
        return getattr(self._stream, name)
