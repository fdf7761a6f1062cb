"""Chinese web font for offline maps: the packaged Noto Sans SC cut down to a page's characters, as an @font-face data URI.

A browser without a Chinese font (many Linux desktops and servers) draws
every Chinese character of a map as an empty box. :func:`embed` adds to a
finished page a subset of Noto Sans SC (PyPI ``pylopdf-fonts-zh-cn``, the
font :mod:`cqgis.maps.fonts` gives the static maps) holding exactly the
characters the page can show, under the family name
:data:`WEB_FONT_FAMILY`. :data:`FONT_STACK` lists the usual Chinese system
fonts first, so Windows and macOS users see the font they are used to, and
the embedded subset after them as the fallback that always works; the
generic ``sans-serif`` comes last.

The subset is WOFF (zlib): 40 to 150 KB of base64 for a whole-city theme,
against 8.3 MB for the full font. WOFF2 (Brotli) would be a tenth smaller
but its compression took as long again as the subsetting, over a second
per page of an atlas.
Hints and OpenType layout tables are dropped (horizontal Chinese needs
neither) and the font's timestamps are kept, so the same page always gets
the same bytes.

Cutting the whole font down took most of a web map's time, for each page.
Given a cache folder, the first page cuts it once to a base font of the
characters maps use (every GB 2312 character and everything before the
CJK blocks) and keeps it there; later pages are cut from that base, three
times faster, into the very same bytes. A page with a character outside
the base, or made while another process (an atlas worker) is making the
base, is cut from the whole font.

Without the packaged font the page is written without an embedded font and
a warning says what to install: a web map still works wherever a Chinese
system font exists, and only static maps cannot be drawn without one. The
packaged file is used, never a system font, so a page does not depend on
the fonts of the machine that wrote it.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import html
import io
import re
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

from cqgis.geo.errors import WriteError
from cqgis.geo.io import atomic
from cqgis.maps.fonts import FONT_DISTRIBUTION, packaged_font_path

#: Container of the embedded subset (see the module docstring).
WEB_FONT_FLAVOR = "woff"
#: Family name of the embedded subset in the page's CSS.
WEB_FONT_FAMILY = "cqgis-cjk"
#: CSS font-family of every map text: Chinese system fonts (Windows, macOS,
#: Linux), then the embedded subset, then the browser's sans-serif.
FONT_STACK = ",".join(
    f'"{family}"'
    for family in (
        "Microsoft YaHei",
        "PingFang SC",
        "Noto Sans CJK SC",
        "Noto Sans SC",
        "Source Han Sans SC",
        "WenQuanYi Micro Hei",
        WEB_FONT_FAMILY,
    )
) + ",sans-serif"
#: Characters every subset holds: printable ASCII, for text the page builds
#: in the browser (Leaflet's scale bar, numbers).
ASCII_PRINTABLE = frozenset(map(chr, range(0x20, 0x7F)))
#: Name records kept in the subset: names, version, and the SIL OFL notice.
NAME_IDS = (0, 1, 2, 3, 4, 5, 6, 13, 14)

# JSON and JavaScript strings in the page write characters as \uHHHH (four hex digits)
# (folium's GeoJSON is ASCII-only), astral ones as a surrogate pair.
_SURROGATE_PAIR = re.compile(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})", re.IGNORECASE)
_ESCAPE = re.compile(r"\\u([0-9a-f]{4})", re.IGNORECASE)
_HEAD_END = "</head>"
# Changed whenever the base font's characters or cutting options change.
_BASE_RULE = "gb2312+below-2e80;no-hints;desubroutinized;no-layout;v1"


def page_characters(page: str) -> frozenset[str]:
    """Return the characters a page can show: printable ASCII and every other character it holds.

    Characters written as HTML character references (``&copy;``) or as
    ``\\uHHHH`` escapes in its script and data count too.

    Parameters
    ----------
    page : str
        The HTML text.

    Returns
    -------
    frozenset of str
        Single characters, no control characters and no lone surrogates.
    """
    text = _SURROGATE_PAIR.sub(_join_surrogates, page)
    text = _ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)
    found = set(text) | set(html.unescape(text))
    wide = {char for char in found if ord(char) > 0x9F and not 0xD800 <= ord(char) <= 0xDFFF}
    return frozenset(wide | ASCII_PRINTABLE)


def _join_surrogates(match: re.Match[str]) -> str:
    high, low = int(match.group(1), 16), int(match.group(2), 16)
    return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))


def subset_font(
    path: str | Path, characters: Iterable[str], flavor: str | None = None, stripped: bool = False
) -> bytes:
    """Return a font file holding only the glyphs of ``characters``.

    Parameters
    ----------
    path : str or pathlib.Path
        OpenType or TrueType font.
    characters : iterable of str
        Single characters; those the font lacks are ignored.
    flavor : {"woff2", "woff"} or None
        Web font container ("woff2" needs the brotli package); None writes a plain OpenType/TrueType file.
    stripped : bool
        The font has no hints and no subroutines already (a :func:`base_font`):
        removing them again would run every glyph's program for nothing.

    Returns
    -------
    bytes
        The font; the same for the same font and characters (its
        timestamps are those of the original).
    """
    options = subset.Options()
    options.hinting = stripped
    options.desubroutinize = not stripped
    options.layout_features = []
    options.name_IDs = list(NAME_IDS)
    # Saving would otherwise stamp head.modified with the current time, and
    # measure every kept glyph again for the font-wide bounding boxes (half
    # the time of a subset; the whole font's boxes hold the subset's glyphs).
    font = TTFont(path, lazy=True, recalcTimestamp=False, recalcBBoxes=False)
    # Dropped before subsetting, unread: the subsetter would first load the
    # large CJK layout tables only to drop them (a fifth of its time).
    for tag in ("GSUB", "GPOS", "GDEF"):
        if tag in font:
            del font[tag]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(map(ord, characters)))
    subsetter.subset(font)
    font.flavor = flavor
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


@functools.cache
def base_characters() -> frozenset[str]:
    """Return the characters of the base font: every GB 2312 character and every one before U+2E80.

    Returns
    -------
    frozenset of str
        About 8,000 characters: the Chinese of place names, rivers and
        labels, with Latin, digits, punctuation and symbols.
    """
    gb2312 = set()
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                gb2312.add(bytes((row, cell)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return frozenset(gb2312 | {chr(code) for code in range(0x20, 0x2E80)} - {chr(c) for c in range(0x7F, 0xA0)})


def base_font(path: str | Path, cache_dir: Path) -> Path | None:
    """Return the base font cut from ``path`` (see the module docstring), making it on first use.

    Parameters
    ----------
    path : str or pathlib.Path
        The whole font.
    cache_dir : pathlib.Path
        Cache folder; the base goes into its ``fonts`` folder, named after
        the font file and this code, so a changed font or rule makes a new one.

    Returns
    -------
    pathlib.Path or None
        The base font (OpenType); None while another process is making it.

    Raises
    ------
    OSError, cqgis.geo.errors.WriteError
        The cache folder cannot be made or written.
    """
    path = Path(path)
    target = base_path(path, cache_dir)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(target.with_suffix(".lock")) as mine:
        # Another process (an atlas worker) is making it: this page is cut
        # from the whole font meanwhile rather than waiting or making it twice.
        if not mine:
            return None
        if not target.is_file():
            with atomic(target) as temp:
                temp.write_bytes(subset_font(path, base_characters()))
    return target


def base_path(path: str | Path, cache_dir: Path) -> Path:
    """Return where :func:`base_font` keeps the base of the font ``path``: named after the file and the base's rule.

    Parameters
    ----------
    path : str or pathlib.Path
        The whole font.
    cache_dir : pathlib.Path
        Cache folder.

    Returns
    -------
    pathlib.Path
        ``cache_dir/fonts/STEM-base-DIGEST.otf``.
    """
    path = Path(path)
    status = path.stat()
    stamp = f"{path.resolve()}|{status.st_size}|{status.st_mtime_ns}|{_BASE_RULE}"
    return Path(cache_dir, "fonts", f"{path.stem}-base-{hashlib.sha256(stamp.encode()).hexdigest()[:16]}.otf")


@contextlib.contextmanager
def _exclusive(lock: Path) -> Iterator[bool]:
    """Hold an exclusive lock on a file if no other process holds it; yield whether this one does."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; processes may make the base side by side
        yield True
        return
    with open(lock, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def font_face_css(characters: Iterable[str], path: str | Path, cache_dir: Path | None = None) -> str:
    """Return an @font-face rule for :data:`WEB_FONT_FAMILY`: the subset as a data URI.

    Parameters
    ----------
    characters : iterable of str
        Characters the font must hold.
    path : str or pathlib.Path
        Font to cut down.
    cache_dir : pathlib.Path, optional
        Cache folder of the base font (see :func:`base_font`); without it,
        or when it cannot be written, the whole font is cut.

    Returns
    -------
    str
        CSS text, ASCII only; the same with or without the cache.
    """
    flavor = WEB_FONT_FLAVOR
    characters = frozenset(characters)
    base = None
    if cache_dir is not None and characters <= base_characters():
        try:
            base = base_font(path, cache_dir)
        except (OSError, WriteError) as exc:
            warnings.warn(f"web font cut from the whole font, more slowly: {exc}", stacklevel=2)
    font = subset_font(base or path, characters, flavor, stripped=base is not None)
    data = base64.b64encode(font).decode("ascii")
    return (
        f'@font-face{{font-family:"{WEB_FONT_FAMILY}";font-style:normal;font-weight:400;'
        f'src:url(data:font/{flavor};base64,{data}) format("{flavor}")}}'
    )


def embed(page: str, cache_dir: Path | None = None) -> str:
    """Return a page with the subset of its characters embedded as :data:`WEB_FONT_FAMILY`.

    The @font-face rule goes at the end of the head. Without the packaged
    font the page is returned unchanged, with a warning naming the package
    to install; it then relies on the reader's system fonts.

    Parameters
    ----------
    page : str
        A finished HTML page with a ``</head>`` tag, using
        :data:`FONT_STACK`.
    cache_dir : pathlib.Path, optional
        Cache folder of the base font, which makes the subset faster (see
        :func:`font_face_css`); the page is the same either way.

    Returns
    -------
    str
        The page with one more ``<style>`` element.
    """
    path = packaged_font_path()
    if path is None:
        msg = (
            "web map written without an embedded Chinese font: Chinese text shows as "
            f"boxes where no Chinese font is installed; install the Python package "
            f"{FONT_DISTRIBUTION}"
        )
        warnings.warn(msg, stacklevel=2)
        return page
    head, end, body = page.partition(_HEAD_END)
    style = f"<style>{font_face_css(page_characters(page), path, cache_dir)}</style>\n"
    return f"{head}{style}{end}{body}"
