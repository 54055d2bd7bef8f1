"""Build the Korean webfonts from the shipped Nanum Gothic (run once; output committed).

Chromium refuses NanumGothic.ttf as a webfont ("OTS parsing error: TSI3:
zero-length table": the files carry empty VTT hinting-source tables), so the
pages would fall back to whatever Korean font the viewer has. This writes
cases/static/casebridge/fonts/CasebridgeHangul-{Regular,Bold}.woff:

* only the code points fonts.css gives them (Hangul, CJK punctuation,
  full-width forms), which also drops the VTT tables and most of the size;
* compressed as WOFF (zlib; WOFF2 would need brotli, not a dependency);
* renamed "Casebridge Hangul": Nanum's OFL reserves the names Nanum and
  NanumGothic, which a modified version may not use. Copyright and licence
  entries stay.

The .ttf originals stay as they are for the PDF letters of request.

    .venv/bin/python scripts/build_webfonts.py
"""

from __future__ import annotations

from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

FONTS = Path(__file__).resolve().parent.parent / "cases" / "static" / "casebridge" / "fonts"
FAMILY = "Casebridge Hangul"
# Keep in step with the unicode-range of "Casebridge Hangul" in fonts.css.
RANGES = [
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3130, 0x318F),  # Hangul compatibility Jamo
    (0xA960, 0xA97F),  # Hangul Jamo extended-A
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xD7B0, 0xD7FF),  # Hangul Jamo extended-B
    (0xFF01, 0xFF60),  # full-width forms
]
LICENCE = (
    "This Font Software is licensed under the SIL Open Font License, Version 1.1. "
    "Modified version of NanumGothic (Copyright (c) 2010, NAVER Corporation, with Reserved "
    "Font Name Nanum, NanumGothic): subset to Hangul for Casebridge, renamed."
)


def build(source: str, style: str) -> Path:
    font = TTFont(FONTS / source)
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_legacy = True
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.drop_tables += ["TSI0", "TSI1", "TSI2", "TSI3", "TSI5"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[cp for low, high in RANGES for cp in range(low, high + 1)])
    subsetter.subset(font)

    names = font["name"]
    full = f"{FAMILY} {style}" if style != "Regular" else FAMILY
    postscript = f"CasebridgeHangul-{style}"
    # Every record naming the font (in any language: "나눔고딕" too), the trademark
    # and vendor entries go; the copyright (0) and version (5) stay.
    for name_id in (1, 2, 3, 4, 6, 7, 8, 9, 11, 12, 13, 14, 16, 17, 18, 20, 21, 22):
        names.removeNames(nameID=name_id)
    for name_id, value in {
        1: FAMILY,
        2: style,
        3: f"{postscript};Casebridge",
        4: full,
        6: postscript,
        13: LICENCE,
        14: "https://openfontlicense.org",
    }.items():
        names.setName(value, name_id, 3, 1, 0x409)
        names.setName(value, name_id, 1, 0, 0)
    font.flavor = "woff"
    target = FONTS / f"{postscript}.woff"
    font.save(target)
    return target


if __name__ == "__main__":
    for source, style in (("NanumGothic.ttf", "Regular"), ("NanumGothicBold.ttf", "Bold")):
        path = build(source, style)
        print(f"{path.name}: {path.stat().st_size // 1024} KiB")
