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

The subset (:func:`cqgis.maps.opentype.cut`) is WOFF (zlib): 25 to 150 KB
of base64 for a page, against 8.3 MB for the whole font. WOFF2 (Brotli)
would be a tenth smaller but its compression takes longer than the cut.
The same page always gets the same bytes.

Without the packaged font the page is written without an embedded font and
a warning says what to install: a web map still works wherever a Chinese
system font exists, and only static maps cannot be drawn without one. The
packaged file is used, never a system font, so a page does not depend on
the fonts of the machine that wrote it.
"""

from __future__ import annotations

import base64
import html
import re
import warnings
from collections.abc import Iterable
from pathlib import Path

from cqgis.maps.fonts import FONT_DISTRIBUTION, packaged_font_path
from cqgis.maps.opentype import cut, woff

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

# JSON and JavaScript strings in the page write characters as \uHHHH (four hex digits)
# (folium's GeoJSON is ASCII-only), astral ones as a surrogate pair.
_SURROGATE_PAIR = re.compile(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})", re.IGNORECASE)
_ESCAPE = re.compile(r"\\u([0-9a-f]{4})", re.IGNORECASE)
_HEAD_END = "</head>"


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


def font_face_css(characters: Iterable[str], path: str | Path) -> str:
    """Return an @font-face rule for :data:`WEB_FONT_FAMILY`: the subset as a data URI.

    Parameters
    ----------
    characters : iterable of str
        Characters the font must hold.
    path : str or pathlib.Path
        Font to cut down (a CID-keyed CFF OpenType font).

    Returns
    -------
    str
        CSS text, ASCII only.

    Raises
    ------
    AssetError
        The font cannot be cut down (see :func:`cqgis.maps.opentype.cut`).
    """
    flavor = WEB_FONT_FLAVOR
    data = base64.b64encode(woff(cut(path, characters).font)).decode("ascii")
    return (
        f'@font-face{{font-family:"{WEB_FONT_FAMILY}";font-style:normal;font-weight:400;'
        f'src:url(data:font/{flavor};base64,{data}) format("{flavor}")}}'
    )


def embed(page: str) -> str:
    """Return a page with the subset of its characters embedded as :data:`WEB_FONT_FAMILY`.

    The @font-face rule goes at the end of the head. Without the packaged
    font the page is returned unchanged, with a warning naming the package
    to install; it then relies on the reader's system fonts.

    Parameters
    ----------
    page : str
        A finished HTML page with a ``</head>`` tag, using
        :data:`FONT_STACK`.

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
    style = f"<style>{font_face_css(page_characters(page), path)}</style>\n"
    return f"{head}{style}{end}{body}"
