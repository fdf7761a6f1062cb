"""OpenType CFF fonts cut down to some characters (a small font for a web page, what a PDF embeds) or given TrueType outlines.

The maps' Chinese font, Noto Sans SC, is an 8 MB CID-keyed CFF OpenType
font of 31,000 glyphs; a map shows a few hundred characters. :func:`cut`
keeps only their glyphs, in a font that browsers' sanitizers accept
(``ots-sanitize`` passes it) and that :mod:`cqgis.maps.pdf` embeds as it
is. It reads the font's tables itself and copies the glyph programs it
keeps, their subroutine calls written out in place, so that a page's font
takes milliseconds where a general subsetter took a tenth of a second (and
a second without a prepared base font). The parsed font and each glyph
written out are kept for the life of the process, so the next page only
adds its new characters.

Only what horizontal Chinese text needs is kept: outlines, horizontal
metrics, the character map, names (with the licence notice) and the
font-wide tables; hints stay in the glyph programs, layout and vertical
tables are dropped. The result depends only on the font and the
characters: the same page always gets the same bytes.

:func:`woff` wraps a font in a WOFF 1.0 container (zlib), a third of its
size. :func:`to_truetype` gives a font TrueType outlines, for matplotlib's
PDFs, which embed every font as TrueType.
"""

from __future__ import annotations

import functools
import struct
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cqgis.maps.errors import AssetError

#: Name records kept: names, version, and the SIL OFL notice and its address.
NAME_IDS = frozenset({0, 1, 2, 3, 4, 5, 6, 13, 14})
#: Tables the font must have and the cut is made of, in the order of their tags.
_TAGS = (b"CFF ", b"OS/2", b"cmap", b"head", b"hhea", b"hmtx", b"maxp", b"name", b"post")

# Top DICT and Font DICT operators whose operands are offsets, rewritten for the new layout.
_CHARSET, _CHARSTRINGS, _PRIVATE, _SUBRS = 15, 17, 18, 19
_FDARRAY, _FDSELECT = 1236, 1237
_ROS, _CIDCOUNT = 1230, 1234
# Charstring operators (Type 2).
_CALLSUBR, _RETURN, _ENDCHAR, _CALLGSUBR, _ESCAPE = 10, 11, 14, 29, 12
_STEMS = frozenset({1, 3, 18, 23})
_MASKS = frozenset({19, 20})
# Escaped operators that draw (flex) and clear the stack; the arithmetic ones (12 3-30) are refused.
_FLEX = frozenset({34, 35, 36, 37})


@dataclass(frozen=True)
class Subset:
    """A font cut down to some characters.

    Parameters
    ----------
    font : bytes
        The OpenType file (``OTTO``).
    cff : bytes
        Its CFF table alone (what a PDF embeds as ``CIDFontType0C``).
    cids : mapping of str to int
        The CID of each character the font has.
    advances : mapping of str to int
        The advance width of each of them, in font units.
    units_per_em : int
        Font units per em.
    bbox : tuple of int
        The whole font's bounding box (xMin, yMin, xMax, yMax), font units.
    ascent, descent, cap_height : int
        Typographic ascender and descender, capital height, font units.
    name : str
        The PostScript name.
    """

    font: bytes
    cff: bytes
    cids: Mapping[str, int]
    advances: Mapping[str, int]
    units_per_em: int
    bbox: tuple[int, int, int, int]
    ascent: int
    descent: int
    cap_height: int
    name: str


def cut(path: str | Path, characters: Iterable[str]) -> Subset:
    """Return the font at ``path`` cut down to the glyphs of ``characters``.

    Parameters
    ----------
    path : str or pathlib.Path
        A CID-keyed CFF OpenType font (``.otf``), such as Noto Sans SC.
    characters : iterable of str
        Single characters; those the font lacks are left out. Browsers
        refuse a font of ``.notdef`` alone: pages and books always hold
        some text.

    Returns
    -------
    Subset
        The font and its metrics; the same for the same font and characters.

    Raises
    ------
    AssetError
        The file is not a CID-keyed CFF OpenType font, or a glyph uses a
        charstring operator this module does not write out.
    """
    path = Path(path)
    status = path.stat()
    return _Font.read(str(path.resolve()), status.st_size, status.st_mtime_ns).cut(characters)


def woff(font: bytes) -> bytes:
    """Return an OpenType font in a WOFF 1.0 container, each table compressed with zlib where that makes it smaller.

    Parameters
    ----------
    font : bytes
        An OpenType or TrueType file.

    Returns
    -------
    bytes
        The WOFF file.
    """
    flavor, count = struct.unpack_from(">4sH", font, 0)
    entries = [struct.unpack_from(">4sIII", font, 12 + 16 * n) for n in range(count)]
    packed = []
    for tag, checksum, offset, length in sorted(entries):
        table = font[offset : offset + length]
        compressed = zlib.compress(table, 6)
        packed.append((tag, checksum, length, compressed if len(compressed) < length else table))
    offset = 44 + 20 * count
    directory, body = [], []
    for tag, checksum, length, data in packed:
        directory.append(struct.pack(">4sIIII", tag, offset, len(data), length, checksum))
        body.append(_padded(data))
        offset += len(body[-1])
    sfnt_size = 12 + 16 * count + sum(_pad4(length) for _, _, length, _ in packed)
    header = struct.pack(">4s4sIHHIHHIIIII", b"wOFF", flavor, offset, count, 0, sfnt_size, 1, 0, 0, 0, 0, 0, 0)
    return b"".join([header, *directory, *body])


def to_truetype(font: bytes, max_error: float = 1.0) -> bytes:
    """Return an OpenType font with CFF outlines as the same font with TrueType (quadratic) outlines.

    For PDF writers that embed every font as TrueType (matplotlib): the
    glyph order, metrics and tables stay; only the outlines change, each
    cubic curve replaced by quadratic ones within ``max_error`` font units.

    Parameters
    ----------
    font : bytes
        An OpenType font with CFF outlines (``OTTO``).
    max_error : float
        Largest distance, in font units (1,000 to the em for Noto Sans SC),
        between a curve and its quadratic replacement.

    Returns
    -------
    bytes
        A TrueType font (``glyf`` and ``loca`` tables, no hints).

    Raises
    ------
    AssetError
        ``font`` has no CFF outlines.
    """
    import io

    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    parsed = TTFont(io.BytesIO(font), recalcTimestamp=False)
    if "CFF " not in parsed:
        msg = "the font has no CFF outlines to convert"
        raise AssetError(msg)
    order = parsed.getGlyphOrder()
    outlines = parsed.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(None)
        # TrueType contours run clockwise, PostScript ones counter-clockwise.
        outlines[name].draw(Cu2QuPen(pen, max_error, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    del parsed["CFF "]
    if "VORG" in parsed:
        del parsed["VORG"]
    parsed["glyf"] = glyf
    parsed["loca"] = newTable("loca")
    parsed["head"].glyphDataFormat = 0
    maxp = parsed["maxp"]
    maxp.tableVersion = 0x00010000
    maxp.maxZones = 1
    # No hints; the point and contour counts are measured again when the font is saved.
    for field in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                  "maxStackElements", "maxSizeOfInstructions", "maxComponentElements", "maxComponentDepth",
                  "maxPoints", "maxContours", "maxCompositePoints", "maxCompositeContours"):
        setattr(maxp, field, 0)
    parsed.sfntVersion = "\x00\x01\x00\x00"
    buffer = io.BytesIO()
    parsed.save(buffer)
    return buffer.getvalue()


class _Font:
    """The tables of a CID-keyed CFF OpenType font, parsed once, and the glyph programs written out so far."""

    @staticmethod
    @functools.cache
    def read(path: str, size: int, mtime_ns: int) -> _Font:
        # Keyed by size and time too, so a font replaced on disk is read again.
        return _Font(Path(path).read_bytes(), Path(path).name)

    def __init__(self, data: bytes, name: str) -> None:
        if data[:4] != b"OTTO":
            msg = f"{name} is not an OpenType font with CFF outlines"
            raise AssetError(msg)
        count = struct.unpack_from(">H", data, 4)[0]
        self.tables = {}
        for n in range(count):
            tag, _, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * n)
            self.tables[tag] = data[offset : offset + length]
        missing = [tag.decode() for tag in _TAGS if tag not in self.tables]
        if missing:
            msg = f"{name} lacks the table(s) {', '.join(missing)}"
            raise AssetError(msg)
        self.cmap = _read_cmap(self.tables[b"cmap"], name)
        self.glyph_count = struct.unpack_from(">H", self.tables[b"maxp"], 4)[0]
        self.advances, self.bearings = _read_hmtx(self.tables[b"hhea"], self.tables[b"hmtx"], self.glyph_count)
        self.cff = _CFF(self.tables[b"CFF "], self.glyph_count, name)
        self.names = _read_names(self.tables[b"name"])
        self.flat: dict[int, bytes] = {}

    def cut(self, characters: Iterable[str]) -> Subset:
        wanted = sorted({char for char in characters if len(char) == 1 and ord(char) in self.cmap})
        old_gids = sorted({0, *(self.cmap[ord(char)] for char in wanted)})
        new_gid = {old: new for new, old in enumerate(old_gids)}
        for gid in old_gids:
            if gid not in self.flat:
                self.flat[gid] = self.cff.flatten(gid)
        cid_of = [int(self.cff.cids[gid]) for gid in old_gids]
        cff = self.cff.write([self.flat[gid] for gid in old_gids], old_gids, cid_of)
        cids = dict(zip(old_gids, cid_of))
        codes = [(ord(char), new_gid[self.cmap[ord(char)]]) for char in wanted]
        tables = {
            b"CFF ": cff,
            b"OS/2": _os2(self.tables[b"OS/2"], [code for code, _ in codes]),
            b"cmap": _write_cmap(codes),
            b"head": self.tables[b"head"],
            b"hhea": self.tables[b"hhea"][:34] + struct.pack(">H", len(old_gids)),
            b"hmtx": b"".join(struct.pack(">Hh", self.advances[g], self.bearings[g]) for g in old_gids),
            b"maxp": struct.pack(">IH", 0x00005000, len(old_gids)),
            b"name": self.names,
            b"post": struct.pack(">I", 0x00030000) + self.tables[b"post"][4:32],
        }
        head, os2 = self.tables[b"head"], self.tables[b"OS/2"]
        units = struct.unpack_from(">H", head, 18)[0]
        bbox = struct.unpack_from(">4h", head, 36)
        ascent, descent = struct.unpack_from(">hh", os2, 68)
        cap_height = struct.unpack_from(">h", os2, 88)[0] if len(os2) >= 90 else ascent
        return Subset(
            font=_sfnt(tables),
            cff=cff,
            cids={char: cids[self.cmap[ord(char)]] for char in wanted},
            advances={char: int(self.advances[self.cmap[ord(char)]]) for char in wanted},
            units_per_em=units,
            bbox=bbox,
            ascent=ascent,
            descent=descent,
            cap_height=cap_height,
            name=self.cff.name,
        )


class _CFF:
    """A CID-keyed CFF table: its glyph programs, subroutines, CIDs and font dictionaries."""

    def __init__(self, data: bytes, glyph_count: int, file_name: str) -> None:
        position = data[2]
        names, position = _index(data, position)
        tops, position = _index(data, position)
        self.strings, position = _raw_index(data, position)
        self.global_subrs, _ = _index(data, position)
        self.name = names[0].decode("latin-1")
        self.top = _dict(tops[0])
        if _ROS not in self.top:
            msg = f"{file_name} is not a CID-keyed CFF font: it cannot be cut down for maps and PDF books"
            raise AssetError(msg)
        self.charstrings, _ = _index(data, self.top[_CHARSTRINGS][0][0])
        self.cids = _read_charset(data, self.top[_CHARSET][0][0], glyph_count)
        self.fd_of = _read_fdselect(data, self.top[_FDSELECT][0][0], glyph_count)
        fonts, _ = _index(data, self.top[_FDARRAY][0][0])
        self.font_dicts, self.privates, self.local_subrs = [], [], []
        for raw in fonts:
            entries = _dict(raw)
            size, offset = entries[_PRIVATE][0]
            private = _dict(data[offset : offset + size])
            subrs = _index(data, offset + private[_SUBRS][0][0])[0] if _SUBRS in private else _Index(data, [0])
            self.font_dicts.append(entries)
            self.privates.append(private)
            self.local_subrs.append(subrs)

    def flatten(self, gid: int) -> bytes:
        """Return glyph ``gid``'s program with every subroutine call replaced by the subroutine's code."""
        writer = _Flattener(gid, self.global_subrs, self.local_subrs[self.fd_of[gid]])
        writer.run(self.charstrings[gid], 0)
        return bytes(writer.out)

    def write(self, programs: list[bytes], old_gids: list[int], cids: list[int]) -> bytes:
        """Return a CID-keyed CFF table of these glyph programs (already flattened), with these CIDs."""
        used = sorted({int(self.fd_of[gid]) for gid in old_gids})
        fd_index = {fd: n for n, fd in enumerate(used)}
        skipped = {_CHARSET, _CHARSTRINGS, _FDARRAY, _FDSELECT, _PRIVATE, _CIDCOUNT}
        count = max(self.top[_CIDCOUNT][0][0] if _CIDCOUNT in self.top else 8720, max(cids) + 1)
        top_kept = _dict_bytes(self.top, skip=skipped) + _int5(count) + bytes((12, _CIDCOUNT - 1200))

        def top(charset_at: int, fdselect_at: int, charstrings_at: int, fdarray_at: int) -> bytes:
            # Offsets as 5-byte integers: the DICT's size does not depend on them.
            return (
                top_kept
                + _int5(charset_at) + bytes((_CHARSET,))
                + _int5(fdselect_at) + bytes((12, _FDSELECT - 1200))
                + _int5(charstrings_at) + bytes((_CHARSTRINGS,))
                + _int5(fdarray_at) + bytes((12, _FDARRAY - 1200))
            )

        header = bytes((1, 0, 4, 4))
        name = _index_bytes([self.name.encode("latin-1")])
        charset = b"\0" + b"".join(struct.pack(">H", cid) for cid in cids[1:])
        fdselect = _fdselect([fd_index[int(self.fd_of[gid])] for gid in old_gids])
        charstrings = _index_bytes(programs)
        privates = [_dict_bytes(self.privates[fd], skip={_SUBRS}) for fd in used]
        fd_dicts = [_dict_bytes(self.font_dicts[fd], skip={_PRIVATE}) for fd in used]
        charset_at = len(header) + len(name) + len(_index_bytes([top(0, 0, 0, 0)])) + len(self.strings) + 2
        fdselect_at = charset_at + len(charset)
        charstrings_at = fdselect_at + len(fdselect)
        fdarray_at = charstrings_at + len(charstrings)
        private_at = fdarray_at + len(_index_bytes([fd_dict + _int5(0) * 2 + b"\0" for fd_dict in fd_dicts]))
        fonts = []
        for fd_dict, private in zip(fd_dicts, privates):
            fonts.append(fd_dict + _int5(len(private)) + _int5(private_at) + bytes((_PRIVATE,)))
            private_at += len(private)
        top_dict = top(charset_at, fdselect_at, charstrings_at, fdarray_at)
        parts = [header, name, _index_bytes([top_dict]), self.strings, b"\0\0", charset, fdselect, charstrings,
                 _index_bytes(fonts), *privates]
        return b"".join(parts)


class _Flattener:
    """Writes out a Type 2 glyph program with its subroutine calls replaced by the subroutines' code."""

    def __init__(self, gid: int, global_subrs: _Index, local_subrs: _Index) -> None:
        self.gid = gid
        self.subrs = {_CALLGSUBR: (global_subrs, _bias(len(global_subrs))), _CALLSUBR: (local_subrs, _bias(len(local_subrs)))}
        self.out = bytearray()
        # Start in self.out of each number on the operand stack (subroutine indexes are removed from it).
        self.stack: list[int] = []
        self.stems = 0

    def run(self, code: bytes, depth: int) -> bool:
        """Copy ``code`` to the output; return True once the glyph's ``endchar`` is written."""
        if depth > 10:
            msg = f"glyph {self.gid}: subroutines nested deeper than Type 2 allows"
            raise AssetError(msg)
        out, stack = self.out, self.stack
        position, end = 0, len(code)
        while position < end:
            byte = code[position]
            if byte >= 32 or byte == 28:
                # Numbers: 32-246 one byte, 247-254 two, 28 three (16-bit), 255 five (16.16 fixed).
                size = 3 if byte == 28 else 1 if byte <= 246 else 2 if byte <= 254 else 5
                stack.append(len(out))
                out += code[position : position + size]
                position += size
                continue
            position += 1
            if byte in self.subrs:
                number = _number(out, stack.pop())
                subrs, bias = self.subrs[byte]
                if not 0 <= number + bias < len(subrs):
                    msg = f"glyph {self.gid}: call of a subroutine that does not exist"
                    raise AssetError(msg)
                if self.run(subrs[number + bias], depth + 1):
                    return True
                continue
            if byte == _RETURN:
                return False
            if byte == _ESCAPE:
                escaped = code[position]
                position += 1
                if escaped not in _FLEX:
                    msg = f"glyph {self.gid}: charstring operator 12 {escaped} is not supported"
                    raise AssetError(msg)
                out += bytes((byte, escaped))
            elif byte in _MASKS:
                self.stems += len(stack) // 2
                mask = (self.stems + 7) // 8
                out.append(byte)
                out += code[position : position + mask]
                position += mask
            else:
                if byte in _STEMS:
                    self.stems += len(stack) // 2
                out.append(byte)
            stack.clear()
            if byte == _ENDCHAR:
                return True
        return False


class _Index:
    """The items of a CFF INDEX, sliced from the table on demand."""

    def __init__(self, data: bytes, starts) -> None:
        self.data = data
        self.starts = starts

    def __len__(self) -> int:
        return len(self.starts) - 1

    def __getitem__(self, n: int) -> bytes:
        return self.data[int(self.starts[n]) : int(self.starts[n + 1])]


def _index(data: bytes, position: int) -> tuple[_Index, int]:
    """Return the CFF INDEX at ``position`` and the position after it."""
    count = struct.unpack_from(">H", data, position)[0]
    if count == 0:
        return _Index(data, [0]), position + 2
    size = data[position + 2]
    raw = np.frombuffer(data, np.uint8, (count + 1) * size, position + 3).reshape(count + 1, size)
    offsets = raw.astype(np.int64) @ (256 ** np.arange(size - 1, -1, -1, dtype=np.int64))
    base = position + 2 + (count + 1) * size
    return _Index(data, base + offsets), int(base + offsets[-1])


def _raw_index(data: bytes, position: int) -> tuple[bytes, int]:
    """Return the bytes of the CFF INDEX at ``position``, unparsed, and the position after it."""
    _, after = _index(data, position)
    return data[position:after], after


def _index_bytes(items: list[bytes]) -> bytes:
    """Return a CFF INDEX of ``items``."""
    if not items:
        return b"\0\0"
    offsets = np.cumsum([1, *map(len, items)], dtype=np.int64)
    size = max(1, (int(offsets[-1]).bit_length() + 7) // 8)
    table = (offsets[:, None] >> (8 * np.arange(size - 1, -1, -1, dtype=np.int64))) & 0xFF
    return struct.pack(">HB", len(items), size) + table.astype(np.uint8).tobytes() + b"".join(items)


def _dict(raw: bytes) -> dict[int, tuple[list[int | None], bytes]]:
    """Return a CFF DICT as operator -> (integer operands, the entry's bytes); real operands are None."""
    entries, operands, start, position = {}, [], 0, 0
    while position < len(raw):
        byte = raw[position]
        if byte <= 21:
            operator = 1200 + raw[position + 1] if byte == 12 else byte
            position += 2 if byte == 12 else 1
            entries[operator] = (operands, raw[start:position])
            operands, start = [], position
        elif byte == 28:
            operands.append(struct.unpack_from(">h", raw, position + 1)[0])
            position += 3
        elif byte == 29:
            operands.append(struct.unpack_from(">i", raw, position + 1)[0])
            position += 5
        elif byte == 30:
            position += 1
            while raw[position] & 0x0F != 0x0F and raw[position] >> 4 != 0x0F:
                position += 1
            position += 1
            operands.append(None)
        elif 32 <= byte <= 246:
            operands.append(byte - 139)
            position += 1
        elif 247 <= byte <= 250:
            operands.append((byte - 247) * 256 + raw[position + 1] + 108)
            position += 2
        elif 251 <= byte <= 254:
            operands.append(-(byte - 251) * 256 - raw[position + 1] - 108)
            position += 2
        else:
            msg = f"a CFF DICT holds the reserved byte {byte}"
            raise AssetError(msg)
    return entries


def _dict_bytes(entries: Mapping[int, tuple[list, bytes]], skip: set[int]) -> bytes:
    return b"".join(raw for operator, (_, raw) in entries.items() if operator not in skip)


def _int5(value: int) -> bytes:
    return b"\x1d" + struct.pack(">i", value)


def _number(out: bytearray, start: int) -> int:
    """Return the charstring number written at ``start`` (the last token of ``out``) and remove it."""
    token = bytes(out[start:])
    del out[start:]
    byte = token[0]
    if byte == 28:
        return struct.unpack(">h", token[1:3])[0]
    if byte <= 246:
        return byte - 139
    if byte <= 250:
        return (byte - 247) * 256 + token[1] + 108
    if byte <= 254:
        return -(byte - 251) * 256 - token[1] - 108
    return struct.unpack(">i", token[1:5])[0] >> 16


def _bias(count: int) -> int:
    return 107 if count < 1240 else 1131 if count < 33900 else 32768


def _read_charset(data: bytes, offset: int, glyph_count: int) -> np.ndarray:
    """Return the CID of each glyph."""
    cids = np.zeros(glyph_count, dtype=np.int64)
    kind, position = data[offset], offset + 1
    if kind == 0:
        cids[1:] = np.frombuffer(data, ">u2", glyph_count - 1, position)
        return cids
    gid = 1
    while gid < glyph_count:
        first = struct.unpack_from(">H", data, position)[0]
        left = data[position + 2] if kind == 1 else struct.unpack_from(">H", data, position + 2)[0]
        position += 3 if kind == 1 else 4
        cids[gid : gid + left + 1] = np.arange(first, first + left + 1)[: glyph_count - gid]
        gid += left + 1
    return cids


def _read_fdselect(data: bytes, offset: int, glyph_count: int) -> np.ndarray:
    """Return the font dictionary of each glyph."""
    kind = data[offset]
    if kind == 0:
        return np.frombuffer(data, np.uint8, glyph_count, offset + 1).astype(np.int64)
    if kind != 3:
        msg = f"FDSelect format {kind} is not supported"
        raise AssetError(msg)
    count = struct.unpack_from(">H", data, offset + 1)[0]
    fds = np.zeros(glyph_count, dtype=np.int64)
    for n in range(count):
        first, fd = struct.unpack_from(">HB", data, offset + 3 + 3 * n)
        last = struct.unpack_from(">H", data, offset + 3 + 3 * (n + 1))[0]
        fds[first:last] = fd
    return fds


def _fdselect(fds: list[int]) -> bytes:
    """Return an FDSelect of format 3 (ranges) for the font dictionary of each new glyph."""
    ranges = [(gid, fd) for gid, fd in enumerate(fds) if gid == 0 or fd != fds[gid - 1]]
    body = b"".join(struct.pack(">HB", gid, fd) for gid, fd in ranges)
    return struct.pack(">BH", 3, len(ranges)) + body + struct.pack(">H", len(fds))


def _read_cmap(table: bytes, file_name: str) -> dict[int, int]:
    """Return character code -> glyph of the font's Unicode map (format 12, else format 4)."""
    count = struct.unpack_from(">H", table, 2)[0]
    subtables = {}
    for n in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", table, 4 + 8 * n)
        subtables[(platform, encoding, struct.unpack_from(">H", table, offset)[0])] = offset
    for key in ((3, 10, 12), (0, 4, 12), (3, 1, 4), (0, 3, 4)):
        if key in subtables:
            offset = subtables[key]
            return _cmap12(table, offset) if key[2] == 12 else _cmap4(table, offset)
    msg = f"{file_name} has no Unicode character map of format 4 or 12"
    raise AssetError(msg)


def _cmap12(table: bytes, offset: int) -> dict[int, int]:
    groups = struct.unpack_from(">I", table, offset + 12)[0]
    spans = np.frombuffer(table, ">u4", 3 * groups, offset + 16).reshape(groups, 3).astype(np.int64)
    lengths = spans[:, 1] - spans[:, 0] + 1
    steps = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    codes = np.repeat(spans[:, 0], lengths) + steps
    gids = np.repeat(spans[:, 2], lengths) + steps
    return dict(zip(codes.tolist(), gids.tolist()))


def _cmap4(table: bytes, offset: int) -> dict[int, int]:
    segments = struct.unpack_from(">H", table, offset + 6)[0] // 2
    ends = struct.unpack_from(f">{segments}H", table, offset + 14)
    starts = struct.unpack_from(f">{segments}H", table, offset + 16 + 2 * segments)
    deltas = struct.unpack_from(f">{segments}h", table, offset + 16 + 4 * segments)
    ranges_at = offset + 16 + 6 * segments
    range_offsets = struct.unpack_from(f">{segments}H", table, ranges_at)
    mapping = {}
    for n in range(segments):
        for code in range(starts[n], ends[n] + 1):
            if code == 0xFFFF:
                continue
            if range_offsets[n] == 0:
                gid = (code + deltas[n]) & 0xFFFF
            else:
                at = ranges_at + 2 * n + range_offsets[n] + 2 * (code - starts[n])
                gid = struct.unpack_from(">H", table, at)[0]
                gid = (gid + deltas[n]) & 0xFFFF if gid else 0
            if gid:
                mapping[code] = gid
    return mapping


def _write_cmap(codes: list[tuple[int, int]]) -> bytes:
    """Return a cmap table with a format 4 subtable, and one of format 12 when a code lies beyond U+FFFF."""
    runs = _runs(codes)
    basic = [(first, last, gid) for first, last, gid in runs if last <= 0xFFFF]
    subtables = [((3, 1), _format4(basic))]
    if any(last > 0xFFFF for _, last, _ in runs):
        subtables.append(((3, 10), _format12(runs)))
    offset = 4 + 8 * len(subtables)
    header = struct.pack(">HH", 0, len(subtables))
    records, bodies = [], []
    for (platform, encoding), body in subtables:
        records.append(struct.pack(">HHI", platform, encoding, offset))
        bodies.append(body)
        offset += len(body)
    return header + b"".join(records) + b"".join(bodies)


def _runs(codes: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """Return (first code, last code, first glyph) of each run of consecutive codes on consecutive glyphs."""
    runs: list[list[int]] = []
    for code, gid in codes:
        if runs and code == runs[-1][1] + 1 and gid == runs[-1][2] + code - runs[-1][0]:
            runs[-1][1] = code
        else:
            runs.append([code, code, gid])
    return [tuple(run) for run in runs]


def _format4(runs: list[tuple[int, int, int]]) -> bytes:
    # The closing segment maps U+FFFF to .notdef, as the format requires.
    segments = [*runs, (0xFFFF, 0xFFFF, 0)]
    count = len(segments)
    power = 1 << (count.bit_length() - 1)
    ends = struct.pack(f">{count}H", *(last for _, last, _ in segments))
    starts = struct.pack(f">{count}H", *(first for first, _, _ in segments))
    deltas = struct.pack(f">{count}H", *((gid - first) & 0xFFFF for first, _, gid in segments))
    body = ends + b"\0\0" + starts + deltas + b"\0\0" * count
    header = struct.pack(">7H", 4, 14 + len(body), 0, 2 * count, 2 * power, count.bit_length() - 1, 2 * (count - power))
    return header + body


def _format12(runs: list[tuple[int, int, int]]) -> bytes:
    body = b"".join(struct.pack(">III", first, last, gid) for first, last, gid in runs)
    return struct.pack(">HHIII", 12, 0, 16 + len(body), 0, len(runs)) + body


def _read_hmtx(hhea: bytes, hmtx: bytes, glyph_count: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the advance width and left side bearing of each glyph."""
    metrics = struct.unpack_from(">H", hhea, 34)[0]
    pairs = np.frombuffer(hmtx, ">i2", 2 * metrics).reshape(metrics, 2).astype(np.int64)
    advances = np.full(glyph_count, pairs[-1, 0] & 0xFFFF, dtype=np.int64)
    advances[:metrics] = pairs[:, 0] & 0xFFFF
    bearings = np.zeros(glyph_count, dtype=np.int64)
    bearings[:metrics] = pairs[:, 1]
    bearings[metrics:] = np.frombuffer(hmtx, ">i2", glyph_count - metrics, 4 * metrics)
    return advances, bearings


def _read_names(table: bytes) -> bytes:
    """Return the name table with only the records of :data:`NAME_IDS`."""
    count, storage = struct.unpack_from(">2H", table, 2)
    kept = []
    for n in range(count):
        platform, encoding, language, name_id, length, offset = struct.unpack_from(">6H", table, 6 + 12 * n)
        if name_id in NAME_IDS:
            kept.append((platform, encoding, language, name_id, table[storage + offset : storage + offset + length]))
    records, strings, at = [], [], 0
    for platform, encoding, language, name_id, text in kept:
        records.append(struct.pack(">6H", platform, encoding, language, name_id, len(text), at))
        strings.append(text)
        at += len(text)
    return struct.pack(">3H", 0, len(kept), 6 + 12 * len(kept)) + b"".join(records) + b"".join(strings)


def _os2(table: bytes, codes: list[int]) -> bytes:
    """Return the OS/2 table with the first and last character of the subset."""
    first = min(codes, default=0x20)
    last = max(codes, default=0x20)
    return table[:64] + struct.pack(">HH", min(first, 0xFFFF), min(last, 0xFFFF)) + table[68:]


def _sfnt(tables: Mapping[bytes, bytes]) -> bytes:
    """Return an OpenType file of ``tables`` with its directory, checksums and head.checkSumAdjustment."""
    count = len(tables)
    power = 1 << (count.bit_length() - 1)
    header = struct.pack(">4s4H", b"OTTO", count, 16 * power, count.bit_length() - 1, 16 * (count - power))
    offset = 12 + 16 * count
    tables = dict(tables)
    tables[b"head"] = tables[b"head"][:8] + b"\0\0\0\0" + tables[b"head"][12:]
    directory, body = [], []
    for tag in sorted(tables):
        data = tables[tag]
        directory.append(struct.pack(">4sIII", tag, _checksum(data), offset, len(data)))
        body.append(_padded(data))
        offset += len(body[-1])
    font = bytearray(header + b"".join(directory) + b"".join(body))
    head_at = struct.unpack_from(">I", font, 12 + 16 * sorted(tables).index(b"head") + 8)[0]
    struct.pack_into(">I", font, head_at + 8, (0xB1B0AFBA - _checksum(bytes(font))) & 0xFFFFFFFF)
    return bytes(font)


def _checksum(data: bytes) -> int:
    words = np.frombuffer(_padded(data), ">u4")
    return int(words.sum(dtype=np.uint64) & 0xFFFFFFFF)


def _pad4(length: int) -> int:
    return (length + 3) & ~3


def _padded(data: bytes) -> bytes:
    return data + b"\0" * (_pad4(len(data)) - len(data))
