"""Make drg/data/fonts/cjk-sans-gb2312.woff, the CJK font a report embeds (only the glyphs the report uses,
so a machine without a Chinese font shows no tofu): GB 2312's hanzi and symbols plus ASCII from Noto Sans
CJK SC Regular (SIL OFL 1.1; Debian package fonts-noto-cjk).

    python scripts/make_font_subset.py /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc drg/data/fonts/cjk-sans-gb2312.woff
"""

from __future__ import annotations

import sys


def gb2312_text() -> str:
    chars = {chr(c) for c in range(0x20, 0x7F)} | set("，。、；：？！“”‘’（）《》【】〔〕—…·￥％～①②③④⑤×÷≤≥±²τφ√")
    for b1 in range(0xA1, 0xF8):
        for b2 in range(0xA1, 0xFF):
            try:
                c = bytes([b1, b2]).decode("gb2312")
            except UnicodeDecodeError:
                continue
            if "\u4e00" <= c <= "\u9fff" or b1 in (0xA1, 0xA3):  # hanzi, and the symbol and full-width rows
                chars.add(c)
    return "".join(sorted(chars))


def main(ttc: str, out: str) -> int:
    from fontTools import subset
    from fontTools.ttLib import TTCollection

    font = next(f for f in TTCollection(ttc).fonts if f["name"].getDebugName(1) == "Noto Sans CJK SC")
    opts = subset.Options()
    opts.flavor, opts.layout_features, opts.hinting, opts.notdef_outline = "woff", [], False, True
    sub = subset.Subsetter(opts)
    sub.populate(text=gb2312_text())
    sub.subset(font)
    font.flavor = "woff"
    font.recalcTimestamp = False  # the same input makes the same file
    font.save(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
