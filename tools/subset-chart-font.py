#!/usr/bin/env python3
"""Regenerates assets/fonts/PinganChartSans-Regular.otf, the font the /stats charts are
drawn with (src/chart/), as a subset of Noto Sans CJK SC Regular (SIL OFL 1.1).

The characters kept are the ones the charts can draw, taken from the locales so a new
label cannot miss a glyph:
  - every character of every `[charts]` text in locales/zh-CN.toml and locales/en.toml;
  - printable ASCII (digits, signs, English month abbreviations, anything in a number);
  - a few signs the code puts between values: en dash, yen sign.
`cargo test --lib chart::font` checks that the font holds each of them.

Needs: fonttools (`pip install fonttools`) and the Noto Sans CJK collection
(Debian: `apt-get install fonts-noto-cjk`, which installs
/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc; SC is font number 2 in it).
Run from the repository root:  python3 tools/subset-chart-font.py [SOURCE.ttc]
"""

import pathlib
import subprocess
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCE = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FONT_NUMBER = "2"  # Noto Sans CJK SC in the collection
OUT = ROOT / "assets/fonts/PinganChartSans-Regular.otf"
CHARS = ROOT / "assets/fonts/chart-characters.txt"
# The family name of the subset: a modified font takes another name (OFL 1.1, and
# Noto CJK reserves the name "Source").
FAMILY = "Pingan Chart Sans"


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)


def characters():
    chars = {chr(c) for c in range(0x20, 0x7F)}
    chars |= set("–¥")
    for locale in ("zh-CN", "en"):
        table = tomllib.loads((ROOT / f"locales/{locale}.toml").read_text("utf-8"))["charts"]
        for text in strings(table):
            chars |= {c for c in text if c.isprintable()}
    return "".join(sorted(chars))


def main():
    text = characters()
    CHARS.write_text(text + "\n", "utf-8")
    subprocess.run(
        [
            sys.executable, "-m", "fontTools.subset", str(SOURCE),
            f"--font-number={FONT_NUMBER}",
            f"--text-file={CHARS}",
            f"--output-file={OUT}",
            "--layout-features=kern,palt",
            "--no-hinting",
            "--desubroutinize",
            "--name-IDs=0,1,2,3,4,5,6",
        ],
        check=True,
    )
    from fontTools.ttLib import TTFont

    font = TTFont(OUT)
    names = font["name"]
    for record in names.names:
        if record.nameID in (1, 16):
            record.string = FAMILY
        elif record.nameID == 4:
            record.string = f"{FAMILY} Regular"
        elif record.nameID == 6:
            record.string = "PinganChartSans-Regular"
        elif record.nameID == 3:
            record.string = f"{FAMILY} Regular; subset of Noto Sans CJK SC 2.004"
    font["CFF "].cff.fontNames = ["PinganChartSans-Regular"]
    font.save(OUT)
    print(f"{OUT.relative_to(ROOT)}: {len(text)} characters, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
