"""Benchmark cutting the Chinese font down to each web page's characters: cqgis's own cut against fontTools' subsetter.

The pages are the water maps of every district (their characters as
:func:`cqgis.maps.webfont.page_characters` reads them). The obvious way is
``fontTools.subset`` from the packaged Noto Sans SC, with what a web page
needs (no layout tables, names kept, WOFF); cqgis's
:func:`cqgis.maps.opentype.cut` reads the font once per process and copies
the glyph programs with their subroutine calls written out. Both are timed
from a fresh read of the font (the first page) and then page after page,
and every glyph of every page is compared: the same outline and advance
width in both fonts.
"""

from __future__ import annotations

import io
import time

from fontTools import subset
from fontTools.pens.recordingPen import RecordingPen
from fontTools.ttLib import TTFont

from cqgis.config import settings
from cqgis.layers import catalog
from cqgis.maps import fonts, opentype, themes, web, webfont
from cqgis.maps.theme_base import Layers


def fonttools_cut(characters: frozenset[str]) -> bytes:
    """The fontTools way: load the whole font, subset it, save it as WOFF."""
    options = subset.Options()
    options.layout_features = []
    options.name_IDs = sorted(opentype.NAME_IDS)
    options.desubroutinize = True
    font = TTFont(fonts.packaged_font_path(), lazy=True, recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(map(ord, characters)))
    subsetter.subset(font)
    font.flavor = "woff"
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


def drawn(data: bytes) -> dict[int, tuple[list, int]]:
    """Return code point -> (outline, advance) of every character of a font."""
    font = TTFont(io.BytesIO(data))
    glyphs = font.getGlyphSet()
    found = {}
    for code, name in font.getBestCmap().items():
        pen = RecordingPen()
        glyphs[name].draw(pen)
        found[code] = (pen.value, glyphs[name].width)
    return found


def main() -> None:
    layers = Layers(settings())
    districts = catalog.load("districts")["name"].tolist()
    pages = [
        webfont.page_characters(web.build_html(themes.build_spec("water", layers=layers, district=name)))
        for name in districts
    ]
    print(f"pages: the water map of each of {len(pages)} districts, "
          f"{min(map(len, pages))}-{max(map(len, pages))} characters each")
    # Building the pages read the font already: from a fresh read, as in a new worker process.
    opentype._Font.read.cache_clear()
    timings = {}
    results = {}
    for label, function in (
        ("fontTools.subset", fonttools_cut),
        ("cqgis opentype.cut", lambda chars: opentype.woff(opentype.cut(fonts.packaged_font_path(), chars).font)),
    ):
        seconds = []
        for characters in pages:
            start = time.perf_counter()
            results.setdefault(label, []).append(function(characters))
            seconds.append(time.perf_counter() - start)
        timings[label] = seconds
        print(f"{label:20s} first page {seconds[0]:.3f} s, then {sum(seconds[1:]) / (len(seconds) - 1) * 1000:.1f} ms "
              f"per page; all {len(seconds)}: {sum(seconds):.2f} s; "
              f"WOFF {sum(map(len, results[label])) / len(pages) / 1024:.1f} KB per page")
    old, new = (sum(timings[label]) for label in timings)
    print(f"speed-up over fontTools: {old / new:.1f}x for the {len(pages)} pages")
    same = all(drawn(a) == drawn(b) for a, b in zip(*results.values()))
    print(f"every page's glyphs drawn identically (outlines and advances): {same}")


if __name__ == "__main__":
    main()
