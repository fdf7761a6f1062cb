"""Fonts cut down to some characters: the same outlines and metrics, CIDs kept, accepted by the browsers' sanitizer."""

from __future__ import annotations

import io

import ots
import pytest
from fontTools.pens.recordingPen import RecordingPen
from fontTools.ttLib import TTFont

from cqgis.maps import fonts, opentype
from cqgis.maps.errors import AssetError

# Place names (瀼 of 瀼渡 is outside GB 2312), punctuation, Latin, a Roman numeral,
# a character beyond U+FFFF the font has (🄀) and one it lacks (😀).
CHARACTERS = "重庆市綦江区瀼渡镇涪陵。，（）：ⅣV类 0123456789ABCxyz%·—\U0001F100\U0001F600"


@pytest.fixture(scope="module")
def whole() -> TTFont:
    return TTFont(fonts.packaged_font_path(), lazy=True)


@pytest.fixture(scope="module")
def subset() -> opentype.Subset:
    return opentype.cut(fonts.packaged_font_path(), CHARACTERS)


def outline(font: TTFont, glyph: str) -> list:
    pen = RecordingPen()
    font.getGlyphSet()[glyph].draw(pen)
    return pen.value


def test_cut_font_draws_every_character_as_the_whole_font_does(whole, subset):
    cut = TTFont(io.BytesIO(subset.font))
    original, kept = whole.getBestCmap(), cut.getBestCmap()
    assert set(kept) == {ord(char) for char in CHARACTERS} - {0x1F600}
    assert len(cut.getGlyphOrder()) == len(set(CHARACTERS)) - 1 + 1  # .notdef, less the missing one
    for code, glyph in kept.items():
        assert outline(cut, glyph) == outline(whole, original[code]), chr(code)
        assert cut["hmtx"][glyph] == whole["hmtx"][original[code]]
        assert subset.advances[chr(code)] == whole["hmtx"][original[code]][0]
    # CID-keyed, with each glyph's CID of the whole font (fontTools names them cidNNNNN).
    assert cut["CFF "].cff.topDictIndex[0].ROS == ("Adobe", "Identity", 0)
    assert {chr(code): int(glyph[3:]) for code, glyph in kept.items()} == dict(subset.cids)
    assert {chr(code): int(original[code][3:]) for code in kept} == dict(subset.cids)


def test_cut_font_keeps_names_licence_and_font_wide_metrics(whole, subset):
    cut = TTFont(io.BytesIO(subset.font))
    assert cut["name"].getDebugName(1) == "Noto Sans SC"
    assert "SIL Open Font License" in cut["name"].getDebugName(13)
    assert cut["head"].unitsPerEm == subset.units_per_em == 1000
    assert (cut["head"].created, cut["head"].modified) == (whole["head"].created, whole["head"].modified)
    assert subset.bbox == (whole["head"].xMin, whole["head"].yMin, whole["head"].xMax, whole["head"].yMax)
    assert (subset.ascent, subset.descent) == (whole["OS/2"].sTypoAscender, whole["OS/2"].sTypoDescender)
    assert subset.name == "NotoSansSC-Regular"
    assert {"GSUB", "GPOS", "vmtx", "VORG"}.isdisjoint(cut.keys())
    assert len(subset.font) < 0.01 * fonts.packaged_font_path().stat().st_size


def test_cut_font_and_its_woff_pass_the_browsers_sanitizer(subset, tmp_path):
    for name, data in (("cut.otf", subset.font), ("cut.woff", opentype.woff(subset.font))):
        path = tmp_path / name
        path.write_bytes(data)
        checked = ots.sanitize(str(path), capture_output=True)
        assert checked.returncode == 0, checked.stderr.decode()


def test_woff_holds_the_same_tables(subset):
    packed = opentype.woff(subset.font)
    assert packed[:8] == b"wOFFOTTO"
    plain, unpacked = TTFont(io.BytesIO(subset.font)), TTFont(io.BytesIO(packed))
    assert unpacked.flavor == "woff"
    for tag in plain.keys():
        if tag != "GlyphOrder":
            assert unpacked.getTableData(tag) == plain.getTableData(tag), tag
    assert len(packed) < len(subset.font)


def test_cut_is_deterministic_and_ignores_order_and_repeats():
    path = fonts.packaged_font_path()
    first = opentype.cut(path, CHARACTERS).font
    assert opentype.cut(path, sorted(CHARACTERS * 2, reverse=True)).font == first


def test_a_cut_font_can_be_cut_again(whole, tmp_path):
    # The cut has a format 4 character map, a format 0 charset and no
    # subroutines: the other forms the reader handles.
    first = opentype.cut(fonts.packaged_font_path(), "长江嘉陵江乌江，ABC")
    path = tmp_path / "first.otf"
    path.write_bytes(first.font)
    again = opentype.cut(path, "嘉陵江A")
    cut = TTFont(io.BytesIO(again.font))
    original = whole.getBestCmap()
    assert set(cut.getBestCmap()) == set(map(ord, "嘉陵江A"))
    for code, glyph in cut.getBestCmap().items():
        assert outline(cut, glyph) == outline(whole, original[code])
    assert again.cids == {char: first.cids[char] for char in "嘉陵江A"}


def test_a_truetype_font_is_refused_with_its_name():
    import matplotlib

    dejavu = f"{matplotlib.get_data_path()}/fonts/ttf/DejaVuSans.ttf"
    with pytest.raises(AssetError, match="DejaVuSans.ttf is not an OpenType font with CFF outlines"):
        opentype.cut(dejavu, "abc")
