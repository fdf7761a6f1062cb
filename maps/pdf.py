"""PDF pages of Chinese text and PNG pictures, written directly: the atlas's theme books.

matplotlib spent a tenth of a second on each page of a theme book, most of
it decoding the page's PNG and compressing the pixels again, and the books
were the one step of an atlas left on a single core. A book page is only
lines of text and one picture, which PDF holds as they are:

- a PNG's compressed data *is* a PDF image stream (Flate with the PNG
  predictors), so each picture is copied from its file, never decoded;
- the text is set in an embedded subset of the packaged Noto Sans SC (the
  font of the web maps), a CID-keyed CFF font, with a ToUnicode map so the
  text can be searched and copied.

The file has no date in it, so the same pages give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cqgis.geo.io import atomic
from cqgis.maps.errors import MapError
from cqgis.maps.opentype import cut, to_truetype

#: A4 landscape, in points.
A4_LANDSCAPE = (841.89, 595.28)
#: Text alignments: the anchor is the start, the middle or the end of the line.
ALIGNMENTS = ("left", "center", "right")

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour types PDF reads as they are: greyscale and RGB, 8 bits a sample.
_PNG_COLOURS = {0: (1, "DeviceGray"), 2: (3, "DeviceRGB")}
_BFCHAR_BLOCK = 100


@dataclass(frozen=True)
class Text:
    """A line of text.

    Parameters
    ----------
    x, y : float
        Anchor in points from the page's lower left corner; ``y`` is the baseline.
    text : str
        One line.
    size : float
        Font size in points.
    align : {"left", "center", "right"}
        Which part of the line sits on ``x``.
    """

    x: float
    y: float
    text: str
    size: float
    align: str = "left"


@dataclass(frozen=True)
class Picture:
    """A PNG picture fitted into a box, centred, its proportions kept.

    Parameters
    ----------
    path : pathlib.Path
        An 8-bit greyscale or RGB PNG; other pictures are converted to RGB
        first (any transparency is dropped).
    box : (float, float, float, float)
        x, y (lower left), width and height in points.
    """

    path: Path
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class Page:
    """One page: its text lines and pictures."""

    texts: tuple[Text, ...] = ()
    pictures: tuple[Picture, ...] = ()


def write_pdf(
    path: str | os.PathLike,
    pages: Sequence[Page],
    font: str | os.PathLike,
    title: str = "",
    size: tuple[float, float] = A4_LANDSCAPE,
) -> Path:
    """Write pages to a PDF file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The PDF; its folder must exist.
    pages : sequence of Page
        In order; at least one.
    font : str or os.PathLike
        A CID-keyed CFF OpenType font (Noto Sans SC, Source Han Sans) with
        every character of the texts; a subset of it is embedded.
    title : str
        The document title.
    size : (float, float)
        Page width and height in points.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    AssetError
        The font is not a CID-keyed CFF font.
    MapError
        A picture is not a readable PNG.
    cqgis.geo.errors.WriteError
        The file cannot be written; nothing is left behind.
    """
    if not pages:
        msg = "a PDF needs at least one page"
        raise MapError(msg)
    embedded = _EmbeddedFont(Path(font), "".join(text.text for page in pages for text in page.texts))
    with atomic(path) as temp, open(temp, "wb") as stream:
        _Writer(stream).write(pages, embedded, title, size)
    return Path(path)


def truetype_fonts(data: bytes) -> bytes:
    """Return a matplotlib PDF whose fonts embedded as TrueType all have TrueType outlines.

    matplotlib embeds an OpenType font with CFF outlines (Noto Sans SC) as
    a ``CIDFontType2`` whose ``FontFile2`` holds the CFF font, but the PDF
    format keeps ``FontFile2`` for TrueType outlines: readers warn
    ("Mismatch between font type and embedded font file") and strict ones
    may refuse the text. Each such font file is replaced, in an incremental
    update appended to the file, by the same font with its outlines
    converted (:func:`cqgis.maps.opentype.to_truetype`): same glyphs in the
    same order, so matplotlib's ``CIDToGIDMap``, widths and text stay right.

    Parameters
    ----------
    data : bytes
        A PDF written by matplotlib's PDF backend.

    Returns
    -------
    bytes
        The PDF, unchanged when no font needed it.
    """
    objects = {int(m.group(1)): m.end() for m in _OBJECT.finditer(data)}
    updates: dict[int, bytes] = {}
    for start in objects.values():
        body = data[start : data.index(b"endobj", start)]
        found = re.search(rb"/FontFile2 (\d+) 0 R", body) if b"/Type /FontDescriptor" in body else None
        if found is None:
            continue
        ident = int(found.group(1))
        embedded = _stream(data, objects, ident)
        if embedded.startswith(b"OTTO"):
            packed = zlib.compress(to_truetype(embedded), 9)
            updates[ident] = b"<< /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream\n" % (len(packed), packed)
    if not updates:
        return data
    return _append_update(data, updates, max(objects) + 1)


_OBJECT = re.compile(rb"(?:^|\n)(\d+) 0 obj\n")


def _stream(data: bytes, objects: dict[int, int], ident: int) -> bytes:
    """Return the decoded data of stream object ``ident``."""
    start = objects[ident]
    head_end = data.index(b"stream", start)
    head = data[start:head_end]
    length = re.search(rb"/Length (\d+)( 0 R)?", head)
    size = int(length.group(1))
    if length.group(2):
        size = int(data[objects[size] : data.index(b"endobj", objects[size])].strip())
    begin = head_end + len(b"stream") + (2 if data[head_end + 6 : head_end + 8] == b"\r\n" else 1)
    raw = data[begin : begin + size]
    return zlib.decompress(raw) if b"/FlateDecode" in head else raw


def _append_update(data: bytes, updates: dict[int, bytes], size: int) -> bytes:
    """Return ``data`` with the objects ``updates`` appended as an incremental update (new xref and trailer)."""
    previous = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    trailer = re.findall(rb"trailer\s*<<(.*?)>>\s*startxref", data, re.S)[-1]
    kept = re.sub(rb"/(Size|Prev) \d+", b"", trailer).strip()
    out = bytearray(data if data.endswith(b"\n") else data + b"\n")
    offsets = {}
    for ident in sorted(updates):
        offsets[ident] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (ident, updates[ident].strip(b"\n"))
    xref_at = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n"
    for ident in sorted(offsets):
        out += b"%d 1\n%010d 00000 n \n" % (ident, offsets[ident])
    out += b"trailer\n<< /Size %d /Prev %d %s >>\nstartxref\n%d\n%%%%EOF\n" % (size, previous, kept, xref_at)
    return bytes(out)


class _EmbeddedFont:
    """The subset of a CID-keyed CFF font holding some characters, with what PDF needs to draw and map them."""

    def __init__(self, path: Path, characters: str) -> None:
        wanted = sorted(set(characters) - {"\n"})
        subset = cut(path, wanted)
        scale = 1000 / subset.units_per_em
        self.cid = {char: subset.cids.get(char, 0) for char in wanted}
        self.width = {char: round(subset.advances[char] * scale) if char in subset.advances else 1000 for char in wanted}
        self.bbox = [round(v * scale) for v in subset.bbox]
        self.ascent = round(subset.ascent * scale)
        self.descent = round(subset.descent * scale)
        self.cap_height = round(subset.cap_height * scale)
        self.cff = subset.cff
        # The subset's tag: six capitals that depend on its characters only.
        digest = hashlib.sha256("".join(wanted).encode()).digest()
        tag = "".join(chr(ord("A") + byte % 26) for byte in digest[:6])
        self.name = f"{tag}+{subset.name}".replace(" ", "")

    def encode(self, text: str) -> str:
        """Return the text as a PDF hex string of two-byte CIDs."""
        return "<" + "".join(f"{self.cid.get(char, 0):04X}" for char in text) + ">"

    def measure(self, text: str, size: float) -> float:
        """Return the advance of the text at ``size`` points."""
        return sum(self.width.get(char, 1000) for char in text) * size / 1000


class _Writer:
    """Objects written one after another, their offsets kept for the cross-reference table."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.offsets: dict[int, int] = {}
        self.count = 0

    def reserve(self) -> int:
        self.count += 1
        return self.count

    def obj(self, number: int, body: bytes, stream: bytes | None = None) -> None:
        self.offsets[number] = self.stream.tell()
        self.stream.write(f"{number} 0 obj\n".encode())
        self.stream.write(body)
        if stream is not None:
            self.stream.write(b"\nstream\n")
            self.stream.write(stream)
            self.stream.write(b"\nendstream")
        self.stream.write(b"\nendobj\n")

    def write(self, pages: Sequence[Page], font: _EmbeddedFont, title: str, size: tuple[float, float]) -> None:
        self.stream.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        catalog, tree, info, type0 = (self.reserve() for _ in range(4))
        self._font(type0, font)
        kids = [self._page(page, tree, type0, font, size) for page in pages]
        self.obj(tree, _dict(Type="/Pages", Kids=_array(f"{kid} 0 R" for kid in kids), Count=str(len(kids))))
        self.obj(catalog, _dict(Type="/Catalog", Pages=f"{tree} 0 R"))
        self.obj(info, _dict(Title=_text_string(title), Creator="(cqgis)"))
        start = self.stream.tell()
        lines = [f"xref\n0 {self.count + 1}\n", "0000000000 65535 f \n"]
        lines += [f"{self.offsets[number]:010d} 00000 n \n" for number in range(1, self.count + 1)]
        trailer = _dict(Size=str(self.count + 1), Root=f"{catalog} 0 R", Info=f"{info} 0 R")
        self.stream.write("".join(lines).encode() + b"trailer\n" + trailer + f"\nstartxref\n{start}\n%%EOF\n".encode())

    def _font(self, type0: int, font: _EmbeddedFont) -> None:
        cid_font, descriptor, program, to_unicode = (self.reserve() for _ in range(4))
        packed = zlib.compress(font.cff, 6)
        self.obj(program, _dict(Subtype="/CIDFontType0C", Filter="/FlateDecode", Length=str(len(packed))), packed)
        self.obj(descriptor, _dict(
            Type="/FontDescriptor", FontName=f"/{font.name}", Flags="4", FontBBox=_array(map(str, font.bbox)),
            ItalicAngle="0", Ascent=str(font.ascent), Descent=str(font.descent), CapHeight=str(font.cap_height),
            StemV="80", FontFile3=f"{program} 0 R",
        ))
        widths = " ".join(f"{cid} [{font.width[char]}]" for char, cid in sorted(font.cid.items(), key=lambda c: c[1]))
        self.obj(cid_font, _dict(
            Type="/Font", Subtype="/CIDFontType0", BaseFont=f"/{font.name}",
            CIDSystemInfo="<< /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>",
            FontDescriptor=f"{descriptor} 0 R", DW="1000", W=f"[{widths}]",
        ))
        cmap = _to_unicode(font.cid)
        self.obj(to_unicode, _dict(Length=str(len(cmap))), cmap)
        self.obj(type0, _dict(
            Type="/Font", Subtype="/Type0", BaseFont=f"/{font.name}", Encoding="/Identity-H",
            DescendantFonts=f"[{cid_font} 0 R]", ToUnicode=f"{to_unicode} 0 R",
        ))

    def _page(self, page: Page, tree: int, type0: int, font: _EmbeddedFont, size: tuple[float, float]) -> int:
        number, contents = self.reserve(), self.reserve()
        operations, images = [], []
        for index, picture in enumerate(page.pictures):
            width, height, colours, space, data = _png_stream(picture.path)
            image = self.reserve()
            self.obj(image, _dict(
                Type="/XObject", Subtype="/Image", Width=str(width), Height=str(height), ColorSpace=f"/{space}",
                BitsPerComponent="8", Filter="/FlateDecode",
                DecodeParms=f"<< /Predictor 15 /Colors {colours} /BitsPerComponent 8 /Columns {width} >>",
                Length=str(len(data)),
            ), data)
            images.append(f"/Im{index} {image} 0 R")
            x, y, w, h = _fit(picture.box, width / height)
            operations.append(f"q {w:.2f} 0 0 {h:.2f} {x:.2f} {y:.2f} cm /Im{index} Do Q")
        for text in page.texts:
            if text.align not in ALIGNMENTS:
                msg = f"unknown text alignment {text.align!r}; use one of {', '.join(ALIGNMENTS)}"
                raise MapError(msg)
            shift = font.measure(text.text, text.size) * ALIGNMENTS.index(text.align) / 2
            operations.append(
                f"BT /F0 {text.size:g} Tf 1 0 0 1 {text.x - shift:.2f} {text.y:.2f} Tm {font.encode(text.text)} Tj ET"
            )
        content = zlib.compress("\n".join(operations).encode("ascii"), 6)
        self.obj(contents, _dict(Filter="/FlateDecode", Length=str(len(content))), content)
        resources = f"<< /Font << /F0 {type0} 0 R >> /XObject << {' '.join(images)} >> >>"
        self.obj(number, _dict(
            Type="/Page", Parent=f"{tree} 0 R", MediaBox=f"[0 0 {size[0]:g} {size[1]:g}]",
            Resources=resources, Contents=f"{contents} 0 R",
        ))
        return number


def _fit(box: tuple[float, float, float, float], ratio: float) -> tuple[float, float, float, float]:
    """Return the largest rectangle of width/height ``ratio`` centred in ``box``."""
    x, y, width, height = box
    w, h = min(width, height * ratio), min(height, width / ratio)
    return x + (width - w) / 2, y + (height - h) / 2, w, h


def _png_stream(path: Path) -> tuple[int, int, int, str, bytes]:
    """Return width, height, colours, colour space and the compressed pixel data of a PNG, as PDF reads them."""
    try:
        data = Path(path).read_bytes()
        parsed = _parse_png(data)
        if parsed is None:
            parsed = _parse_png(_plain_png(data))
    except (OSError, ValueError, struct.error) as exc:
        msg = f"cannot put {path} into a PDF: {exc}"
        raise MapError(msg) from exc
    if parsed is None:
        msg = f"cannot put {path} into a PDF: not an image Pillow can read as RGB"
        raise MapError(msg)
    return parsed


def _parse_png(data: bytes) -> tuple[int, int, int, str, bytes] | None:
    """Read a PNG's header and joined image data; None for a PNG that PDF cannot take as it is."""
    if not data.startswith(_PNG_SIGNATURE):
        msg = "not a PNG file"
        raise ValueError(msg)
    position, header, chunks = len(_PNG_SIGNATURE), None, []
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        elif kind == b"IEND":
            break
        position += 12 + length
    if header is None or not chunks:
        msg = "a PNG without header or image data"
        raise ValueError(msg)
    width, height, depth, colour_type, _, _, interlace = header
    if depth != 8 or interlace or colour_type not in _PNG_COLOURS:
        return None
    colours, space = _PNG_COLOURS[colour_type]
    return width, height, colours, space, b"".join(chunks)


def _plain_png(data: bytes) -> bytes:
    """Re-encode any picture Pillow reads as an 8-bit RGB PNG (for palette, alpha, 16-bit or interlaced PNGs)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        plain = image.convert("RGB")
    buffer = io.BytesIO()
    plain.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _to_unicode(cids: dict[str, int]) -> bytes:
    """Return a ToUnicode CMap from CIDs back to the characters."""
    pairs = sorted((cid, char) for char, cid in cids.items() if cid)
    blocks = []
    for start in range(0, len(pairs), _BFCHAR_BLOCK):
        block = pairs[start : start + _BFCHAR_BLOCK]
        lines = "\n".join(f"<{cid:04X}> <{char.encode('utf-16-be').hex().upper()}>" for cid, char in block)
        blocks.append(f"{len(block)} beginbfchar\n{lines}\nendbfchar")
    body = "\n".join(blocks)
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{body}\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
    ).encode("ascii")


def _dict(**entries: str) -> bytes:
    return ("<< " + " ".join(f"/{key} {value}" for key, value in entries.items()) + " >>").encode("ascii")


def _array(values: Iterable[str]) -> str:
    return "[" + " ".join(values) + "]"


def _text_string(text: str) -> str:
    """Return a PDF text string: UTF-16 with its byte order mark, in hex."""
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"
