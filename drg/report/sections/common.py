"""What the report's sections share: level names and order, peer groups, colours, the section frame."""

from __future__ import annotations

import pandas as pd

from evaluation.words import VALUE_LABELS

from ...charts import BLUE, ORANGE, RED, esc


LEVEL_ORDER = {"tertiary": 0, "secondary": 1, "primary": 2}
TOP_HOSPITALS = 30  # rows of the heat map before the selector widens it


def level_name(v, lang: str) -> str:
    if lang == "zh":
        parts = str(v).split("/")
        return "/".join(VALUE_LABELS["level" if i == 0 else "kind"].get(p, p) for i, p in enumerate(parts))
    return str(v).replace("_", " ")


def peer_groups(df: pd.DataFrame):
    keys = sorted(df["peer_group"].dropna().unique(), key=lambda g: (LEVEL_ORDER.get(str(g).split("/")[0], 9), str(g)))
    return [(g, df[df["peer_group"] == g]) for g in keys]


def wan(v) -> str:
    """Yuan as 万元 text with sign (−516.2万元)."""
    return f"{v / 1e4:,.1f}"


def flag_color(flag) -> str:
    """A funnel point's colour: red beyond the 99.8% limits (alarm), orange beyond 95% (alert), else blue."""
    f = str(flag)
    return RED if f.startswith("alarm") else ORANGE if f.startswith("alert") else BLUE


def section(sid: str, title: str, body: str) -> str:
    return f"<section id='{sid}'><h2>{esc(title)}</h2>{body}</section>"


LABELLED = 10  # names written on a scatter: at most this many, the farthest out first, none covering another
