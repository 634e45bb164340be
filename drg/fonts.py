"""The report's Chinese font: the glyphs one report uses, cut from the package's GB 2312 subset of Noto Sans
CJK SC (SIL OFL 1.1, ``drg/data/fonts/OFL.txt``) and embedded as a data: URL, so a machine without a Chinese
font (a Linux server, a fresh VM) shows the report's text instead of empty boxes. Characters outside
GB 2312 fall back to the fonts the machine has."""

from __future__ import annotations

import base64
import io
from pathlib import Path

FONT_FILE = Path(__file__).parent / "data" / "fonts" / "cjk-sans-gb2312.woff"
FAMILY = "DRG CJK Sans"


def font_face_css(text: str) -> str:
    """``@font-face`` for the characters of ``text`` (non-ASCII only: ASCII is in every font); "" when the
    text has none, or fontTools or the font is missing. Deterministic: the same text gives the same bytes."""
    wanted = sorted({c for c in text if ord(c) > 0x7F})
    if not wanted or not FONT_FILE.exists():
        return ""
    try:
        from fontTools import subset
        from fontTools.ttLib import TTFont
    except ImportError:
        return ""
    font = TTFont(str(FONT_FILE), recalcTimestamp=False)
    cmap = font.getBestCmap()
    present = [c for c in wanted if ord(c) in cmap]
    if not present:
        return ""
    opts = subset.Options()
    opts.flavor, opts.layout_features, opts.hinting, opts.notdef_outline = "woff", [], False, True
    sub = subset.Subsetter(opts)
    sub.populate(text="".join(present) + " 0123456789")
    sub.subset(font)
    buf = io.BytesIO()
    font.flavor = "woff"
    font.save(buf)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'@font-face{{font-family:"{FAMILY}";src:url(data:font/woff;base64,{data}) format("woff");font-display:block}}'
