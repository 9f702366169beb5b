"""Rebuild the Chinese subset fonts in ttf/ from Debian's fonts-noto-cjk.

The zh labels are the only CJK text the charts draw (province names in zh are the
Latin `name_en`), so two small subsets of Noto Sans CJK SC cover them and let chart
exports render Chinese on machines without a CJK font. A test checks that every zh
label is covered by `cjk_chars.txt`; when it fails, rerun this script.

Development tool only (not imported by votewire). Needs fontTools, e.g.:

    apt-get download fonts-noto-cjk && dpkg-deb -x fonts-noto-cjk_*.deb /tmp/cjk
    pip download --no-deps -d /tmp/ft fonttools && unzip -d /tmp/ft /tmp/ft/fonttools-*.whl
    PYTHONPATH=/tmp/ft:. python dashboards/static/vendor/fonts/make_cjk_subset.py /tmp/cjk
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

from dashboards import i18n

HERE = Path(__file__).resolve().parent
SOURCE = "usr/share/fonts/opentype/noto/NotoSansCJK-{weight}.ttc"
SC_INDEX = 2  # Noto Sans CJK SC inside the collection
EXTRA = "，。：；（）、《》“”‘’—…·！？年月日时分秒"


def is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x2E80 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFFEF


def chars() -> str:
    text = "".join(i18n.catalogue("zh").values()) + EXTRA
    return "".join(sorted({ch for ch in text if is_cjk(ch)}))


def main(debian_root: str) -> None:
    wanted = chars()
    for weight in ("Regular", "Bold"):
        font = TTCollection(Path(debian_root) / SOURCE.format(weight=weight)).fonts[SC_INDEX]
        options = subset.Options()
        options.name_IDs = ["*"]
        options.name_languages = ["*"]
        options.notdef_outline = True
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=wanted)
        subsetter.subset(font)
        font.save(HERE / "ttf" / f"NotoSansCJKsc-votewire-{weight}.otf")
    (HERE / "cjk_chars.txt").write_text(wanted + "\n", encoding="utf-8")
    print(f"{len(wanted)} characters")


if __name__ == "__main__":
    main(sys.argv[1])
