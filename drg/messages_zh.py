"""The Chinese of every refusal of ours (``drg: error: <problem>; <fix>``): each English message template
(its variable parts written ``{}``) with its Chinese, in which ``{}`` takes the variable parts in order (``{0}``,
``{1}`` ... when the order changes). :func:`translate` finds the template a message was made from and fills the
Chinese with the same parts, each part translated in turn when it is itself one of our messages (``--config X: <a
message of the payment rules>``). Data, file names and library details inside a message stay as they are. The
templates are data: ``drg/data/messages_zh.csv``."""

from __future__ import annotations

import csv
import functools
import re
from pathlib import Path

def _load() -> dict:
    """{English template: Chinese template} from ``data/messages_zh.csv`` (columns ``en``, ``zh``; one row a message,
    a new refusal's row added there: tests/test_messages.py fails for any refusal without one)."""
    with open(Path(__file__).parent / "data" / "messages_zh.csv", encoding="utf-8", newline="") as f:
        return {row["en"]: row["zh"] for row in csv.DictReader(f)}


MESSAGES = _load()


@functools.cache
def _compiled() -> list:
    """(literal parts, Chinese template) per message, the most specific (most literal text) first."""
    out = [(en.split("{}"), zh) for en, zh in MESSAGES.items()]
    out.sort(key=lambda x: -sum(len(p) for p in x[0]))
    return out


def _splits(message: str, parts: list, limit: int = 64) -> list:
    """Every way (at most ``limit``) of reading ``message`` as ``parts[0] g1 parts[1] g2 ... parts[-1]``: the
    variable parts (g1, g2, ...) of each reading. A message whose parts hold the template's words themselves (a
    rule text with " in " inside) has several readings; the caller keeps the best."""
    if len(parts) == 1:
        return [()] if message == parts[0] else []
    if not message.startswith(parts[0]) or not message.endswith(parts[-1]) or \
            len(message) < len(parts[0]) + len(parts[-1]):
        return []
    body = message[len(parts[0]):len(message) - len(parts[-1])] if parts[-1] else message[len(parts[0]):]
    middle = parts[1:-1]
    found: list = []

    def walk(rest: str, i: int, groups: tuple):
        if len(found) >= limit:
            return
        if i == len(middle):
            found.append(groups + (rest,))
            return
        lit, start = middle[i], 0
        while True:
            j = rest.find(lit, start)
            if j < 0:
                return
            walk(rest[j + len(lit):], i + 1, groups + (rest[:j],))
            start = j + 1

    walk(body, 0, ())
    return found


def _fill(zh: str, groups: tuple) -> str:
    if re.search(r"\{\d\}", zh):
        return re.sub(r"\{(\d)\}", lambda m: groups[int(m.group(1))] if int(m.group(1)) < len(groups) else m.group(0), zh)
    parts = zh.split("{}")
    out = parts[0]
    for i, p in enumerate(parts[1:]):
        out += (groups[i] if i < len(groups) else "") + p
    return out


_WORD = re.compile(r"(?<![\w./-])[A-Za-z][a-z]{2,}(?![\w/.])")


def translate(message: str, depth: int = 0) -> str:
    """``message`` in Chinese when it was made from one of :data:`MESSAGES` (its parts translated too), else as
    it is (a message of a library, or data). Of the templates a message fits, the reading that leaves the fewest
    English words wins (a file name with a dot must not be taken for ``{}.{}={}``)."""
    if depth > 4 or not message:
        return message
    best = None
    for parts, zh in _compiled():
        for groups in _splits(message, parts):
            text = _fill(zh, tuple(translate(g, depth + 1) for g in groups))
            score = (len(_WORD.findall(text)), text.count(": "))  # English words left, then untranslated joints
            if best is None or score < best[0]:
                best = (score, text)
                if score == (0, 0):
                    return text
    return message if best is None else best[1]


def error_line(error: Exception, lang: str) -> str:
    """The one line of a refusal, ``drg: error: <problem>; <fix>``, in ``lang``."""
    from .terminal import clean

    return f"drg: error: {clean(translate(str(error)) if lang == 'zh' else error)}"
