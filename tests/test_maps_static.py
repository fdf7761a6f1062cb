"""Tests of static maps: PNG content, PDF font embedding, reproducible files, Chinese fonts, atomic writes."""

from __future__ import annotations

import os
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest
from matplotlib import font_manager, image
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from PIL import Image

from cqgis.maps import fonts, static, style
from cqgis.geo.errors import WriteError
from cqgis.maps.errors import AssetError, MapOptionError
from cqgis.maps.style import LayerSpec, MapSpec
from test_maps_web import make_spec

CHINESE_SAMPLE = "重庆市渝中区示例数据图例北千米"


def test_png_shows_the_layers(tmp_path):
    path = static.render_static(make_spec(), tmp_path / "map.png", dpi=60)
    pixels = image.imread(path)[..., :3]
    assert pixels.shape[:2] == (480, 600)
    assert pixels.std() > 0.1
    # The 市辖区 colour drawn with the layer's opacity over the background.
    layer = make_spec().layers[0]
    expected = (
        layer.fill_opacity * np.array(to_rgb(layer.colors["市辖区"]))
        + (1 - layer.fill_opacity) * np.array(to_rgb(style.BACKGROUND))
    )
    filled = (np.abs(pixels - expected) < 0.03).all(axis=-1)
    assert filled.mean() > 0.05


def test_pdf_embeds_a_chinese_font(tmp_path):
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts (poppler-utils) is not installed")
    path = static.render_static(make_spec(), tmp_path / "map.pdf")
    listing = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    # The PostScript name of the face drawn (the SC face of a .ttc collection such as
    # Debian's fonts-noto-cjk), as the PDF names it after the subset tag "ABCDEF+".
    embedded = _face(fonts.cjk_font()).postscript_name
    rows = [line.split() for line in listing if line.split()[0].partition("+")[2] == embedded]
    assert rows, (embedded, listing)
    # Columns from the right: object id, generation, uni, sub, emb.
    assert all(row[-5] == "yes" for row in rows)
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "测试地图" in text and "示例数据" in text


def test_pdf_fonts_have_the_outlines_their_type_says(tmp_path):
    # matplotlib writes a CFF font (Noto Sans SC) into a TrueType slot; static maps convert its outlines.
    if shutil.which("pdffonts") is None or shutil.which("pdftotext") is None:
        pytest.skip("pdffonts and pdftotext (poppler-utils) are not installed")
    path = static.render_static(make_spec(), tmp_path / "map.pdf")
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    assert "Mismatch" not in listing.stderr
    types = {" ".join(line.split()[1:3]) for line in listing.stdout.splitlines()[2:]}
    assert types == {"CID TrueType"}, listing.stdout
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    assert "测试地图" in text.stdout and "Mismatch" not in text.stderr


def test_truetype_conversion_keeps_glyph_order_metrics_and_shapes():
    import io

    from fontTools.pens.boundsPen import BoundsPen
    from fontTools.ttLib import TTFont

    from cqgis.maps import opentype

    cut = opentype.cut(fonts.packaged_font_path(), "重庆市长江Ⅳ类2025")
    before, after = TTFont(io.BytesIO(cut.font)), TTFont(io.BytesIO(opentype.to_truetype(cut.font)))
    assert after.sfntVersion == "\x00\x01\x00\x00" and "glyf" in after and "CFF " not in after
    # The same glyphs at the same indices (the PDF's CIDToGIDMap points at them); names may differ.
    pairs = list(zip(before.getGlyphOrder(), after.getGlyphOrder(), strict=True))
    for old, new in pairs:
        assert after["hmtx"][new] == before["hmtx"][old]
        bounds = []
        for font, name in ((before, old), (after, new)):
            pen = BoundsPen(font.getGlyphSet())
            font.getGlyphSet()[name].draw(pen)
            bounds.append(pen.bounds)
        assert (bounds[0] is None) == (bounds[1] is None), old
        if bounds[0] is not None:
            assert np.allclose(bounds[0], bounds[1], atol=2), old


def test_same_spec_gives_the_same_bytes(tmp_path):
    for suffix in (".pdf", ".svg", ".png"):
        first = static.render_static(make_spec(), tmp_path / f"a{suffix}", dpi=50)
        second = static.render_static(make_spec(), tmp_path / f"b{suffix}", dpi=50)
        assert first.read_bytes() == second.read_bytes(), suffix


def test_svg_is_self_contained_xml(tmp_path):
    path = static.render_static(make_spec(), tmp_path / "map.svg")
    root = ElementTree.parse(path).getroot()
    assert root.tag.endswith("svg")
    assert "<text" not in path.read_text(encoding="utf-8")


def _face(family: str) -> FT2Font:
    """The face matplotlib draws ``family`` with (within a font collection, the indexed face)."""
    path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    return font_manager.get_font(path)


def test_chinese_font_covers_map_text():
    face = _face(fonts.cjk_font())
    assert all(face.get_char_index(ord(char)) for char in CHINESE_SAMPLE)


def test_missing_font_says_what_to_install(monkeypatch):
    monkeypatch.setattr(fonts, "SYSTEM_FAMILIES", ())
    monkeypatch.setattr(fonts, "OTHER_CJK_FAMILIES", ())
    monkeypatch.setattr(fonts, "PACKAGED_FONTS", (("cqgis_no_such_font_package", "x.otf"),))
    with pytest.raises(AssetError, match="pylopdf-fonts-zh-cn"):
        fonts.cjk_font()


def test_unknown_format_and_bad_dpi_are_usage_errors(tmp_path):
    with pytest.raises(MapOptionError, match=".png, .pdf, .svg"):
        static.render_static(make_spec(), tmp_path / "map.jpg")
    with pytest.raises(MapOptionError, match="dpi"):
        static.render_static(make_spec(), tmp_path / "map.png", dpi=0)


@pytest.mark.parametrize(("suffix", "owner", "method"), [(".pdf", Figure, "savefig"), (".png", Image.Image, "save")])
def test_failed_save_leaves_nothing_behind(tmp_path, monkeypatch, suffix, owner, method):
    def broken_save(self, fname, *args, **kwargs):
        with open(fname, "wb") as stream:
            stream.write(b"partial")
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(owner, method, broken_save)
    with pytest.raises(WriteError, match="renderer crashed"):
        static.render_static(make_spec(), tmp_path / f"map{suffix}")
    assert os.listdir(tmp_path) == []


def test_layer_without_drawable_features_still_draws(tmp_path):
    frame = make_spec().layers[2].frame.iloc[:0]
    spec = MapSpec("空图层", [LayerSpec("站点", frame, "point")], extent=(106.0, 29.0, 107.0, 30.0))
    assert static.render_static(spec, tmp_path / "empty.png", dpi=40).stat().st_size > 0


def test_scale_bar_length_is_a_round_number():
    assert static.nice_length(37_000) == 20_000
    assert static.nice_length(9_999) == 5_000
    assert static.nice_length(100) == 100


def test_extent_matches_the_frame_ratio():
    xmin, ymin, xmax, ymax = static.fit_extent((0.0, 0.0, 100.0, 10.0), 1.5)
    assert (xmax - xmin) / (ymax - ymin) == pytest.approx(1.5)
    assert xmin < 0 and xmax > 100


@pytest.mark.parametrize("suffix", [".png", ".pdf"])
def test_relief_shade_fills_the_frame_north_up(tmp_path, suffix):
    if suffix == ".pdf" and shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    opacity = np.zeros((40, 50), dtype=np.uint8)
    opacity[:20] = 255  # the northern half in full shadow
    figure = Figure(figsize=(4, 3))
    axes = figure.add_axes((0.25, 0.25, 0.5, 0.5))
    axes.set_axis_off()
    axes.add_artist(static._FrameShade(opacity, zorder=1.5))
    path = tmp_path / f"shade{suffix}"
    figure.savefig(path, dpi=100, facecolor="white")
    if suffix == ".pdf":
        subprocess.run(["pdftoppm", "-r", "100", "-png", "-singlefile", str(path), str(tmp_path / "page")], check=True)
        path = tmp_path / "page.png"
    grey = np.asarray(Image.open(path).convert("L"), dtype=float)
    assert grey.shape == (300, 400)
    # The frame spans rows 75-225 and columns 100-300 of the page.
    assert grey[80:145, 105:295].max() < 30
    assert grey[155:220, 105:295].min() > 225
    outside = np.ones_like(grey, dtype=bool)
    outside[72:228, 97:303] = False
    assert grey[outside].min() > 225
