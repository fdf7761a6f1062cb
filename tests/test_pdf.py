"""Tests of the PDF writer of the theme books: text that reads back, pictures copied as they are, fonts, errors."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from cqgis.geo.errors import WriteError
from cqgis.maps import fonts, pdf
from cqgis.maps.errors import MapError

POPPLER = shutil.which("pdftotext") and shutil.which("pdftoppm") and shutil.which("pdffonts")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils is not installed")
RED, BLUE = (200, 30, 30), (20, 60, 200)


def two_colour_png(path, mode="RGB", size=(300, 200)):
    """A PNG whose left half is red and right half blue."""
    pixels = np.zeros((size[1], size[0], 3), dtype=np.uint8)
    pixels[:, : size[0] // 2] = RED
    pixels[:, size[0] // 2 :] = BLUE
    image = Image.fromarray(pixels)
    if mode == "P":
        image = image.quantize(4)
    elif mode == "RGBA":
        image = image.convert("RGBA")
    image.save(path, format="PNG")
    return path


def book(tmp_path, picture):
    pages = [
        pdf.Page((pdf.Text(420, 540, "重庆市 · 水环境质量", 20, "center"), pdf.Text(100, 480, "区县 · 綦江区", 11),
                  pdf.Text(700, 480, "2", 11, "right"))),
        pdf.Page((pdf.Text(420, 560, "区县 · 綦江区", 15, "center"),), (pdf.Picture(picture, (100, 100, 600, 300)),)),
    ]
    return pdf.write_pdf(tmp_path / "book.pdf", pages, fonts.packaged_font_path(), "测试图集")


@needs_poppler
def test_text_reads_back_and_the_font_is_embedded(tmp_path):
    path = book(tmp_path, two_colour_png(tmp_path / "map.png"))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "重庆市 · 水环境质量" in text and "区县 · 綦江区" in text
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    row = listing.stdout.splitlines()[2].split()
    assert row[0].endswith("+NotoSansSC-Regular") and row[1:4] == ["CID", "Type", "0C"]
    assert row[-5:-2] == ["yes", "yes", "yes"]  # embedded, subset, with a Unicode map
    assert listing.stderr == ""
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "Title:           测试图集" in info and "Pages:           2" in info


@needs_poppler
@pytest.mark.parametrize("mode", ["RGB", "P", "RGBA"])
def test_picture_fills_its_box_keeping_its_proportions(tmp_path, mode):
    path = book(tmp_path, two_colour_png(tmp_path / "map.png", mode))
    subprocess.run(["pdftoppm", "-r", "72", "-png", "-f", "2", "-singlefile", str(path), str(tmp_path / "p")], check=True)
    page = np.asarray(Image.open(tmp_path / "p.png").convert("RGB"), dtype=int)
    # The 3:2 picture in the 600 x 300 pt box: 450 pt wide, centred, from x 175 to 625, y 100 to 400 (from below).
    top = page.shape[0] - 400
    assert np.abs(page[top + 20 : top + 280, 185:390] - RED).max() < 12
    assert np.abs(page[top + 20 : top + 280, 410:615] - BLUE).max() < 12
    assert (page[top + 20 : top + 280, 100:165] > 245).all() and (page[top + 20 : top + 280, 640:700] > 245).all()


def test_png_data_is_copied_not_encoded_again(tmp_path):
    picture = two_colour_png(tmp_path / "map.png")
    data = picture.read_bytes()
    length = int.from_bytes(data[33:37], "big")  # the first chunk after the header
    assert data[37:41] == b"IDAT"
    assert data[41 : 41 + length] in book(tmp_path, picture).read_bytes()


def test_same_pages_give_the_same_bytes(tmp_path):
    picture = two_colour_png(tmp_path / "map.png")
    first = book(tmp_path, picture).read_bytes()
    (tmp_path / "book.pdf").unlink()
    assert book(tmp_path, picture).read_bytes() == first


def test_unreadable_picture_fails_and_leaves_nothing(tmp_path):
    broken = tmp_path / "map.png"
    broken.write_bytes(b"not a picture")
    with pytest.raises(MapError, match="map.png"):
        book(tmp_path, broken)
    assert list(tmp_path.iterdir()) == [broken]


def test_bad_alignment_and_missing_folder(tmp_path):
    font = fonts.packaged_font_path()
    with pytest.raises(MapError, match="alignment"):
        pdf.write_pdf(tmp_path / "a.pdf", [pdf.Page((pdf.Text(0, 0, "x", 9, "middle"),))], font)
    with pytest.raises(WriteError):
        pdf.write_pdf(tmp_path / "missing" / "a.pdf", [pdf.Page()], font)
    assert not list(tmp_path.iterdir())
