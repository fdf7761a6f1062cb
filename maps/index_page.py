"""The atlas's index.html: every map grouped by theme and area, with thumbnails and relative links that work from file://."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from cqgis.maps import webfont

#: Width in pixels of a thumbnail in the index.
THUMBNAIL_WIDTH = 240

_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: {fonts}; margin: 2em; color: #222; }}
h1 {{ font-size: 1.6em; }}
h2 {{ border-bottom: 2px solid #4e79a7; padding-bottom: 0.2em; margin-top: 2em; }}
nav a, .book a {{ margin-right: 1.2em; }}
.cards {{ display: flex; flex-wrap: wrap; gap: 1em; }}
.card {{ width: {width}px; border: 1px solid #ccc; border-radius: 4px; padding: 0.5em; }}
.card h4 {{ margin: 0 0 0.4em 0; }}
.card img {{ display: block; border: 1px solid #eee; }}
.card ul {{ list-style: none; padding: 0; margin: 0.4em 0 0 0; }}
.placeholder {{ height: 120px; display: flex; align-items: center; justify-content: center; background: #f4f3ef; color: #777; }}
.failed {{ color: #c0392b; }}
</style>
</head>
<body>
<h1>{title}</h1>
<nav>{nav}</nav>
{sections}
</body>
</html>
"""


@dataclass(frozen=True)
class Card:
    """One coverage feature of a theme: its thumbnail and the links to its files.

    Parameters
    ----------
    area : str
        Name of the area shown as the card's heading.
    links : sequence of (str, str)
        (label, path relative to the index) of every output.
    thumbnail : str or None
        Path of a PNG relative to the index; None shows a text placeholder.
    failure : str or None
        Why the map could not be drawn, shown instead of the thumbnail.
    picture : str or None
        Full-size image the thumbnail opens; default: the thumbnail itself.
    """

    area: str
    links: tuple[tuple[str, str], ...]
    thumbnail: str | None = None
    failure: str | None = None
    picture: str | None = None


@dataclass(frozen=True)
class Group:
    """The cards of one coverage kind (区县, 流域 ...) within a theme."""

    heading: str
    cards: tuple[Card, ...]


@dataclass(frozen=True)
class Section:
    """One theme: its heading, the link to its multi-page PDF and its groups.

    Parameters
    ----------
    anchor : str
        Fragment id of the section (ASCII, stable across runs).
    heading : str
        Title of the theme.
    book : str or None
        Path of the theme's PDF relative to the index.
    groups : sequence of Group
        Cards by coverage kind.
    project : str or None
        Path of the theme's QGIS project relative to the index.
    """

    anchor: str
    heading: str
    book: str | None
    groups: tuple[Group, ...]
    project: str | None = None


def href(path: str) -> str:
    """Return a relative POSIX path as an attribute-safe URL (percent-encoded, HTML-escaped).

    Parameters
    ----------
    path : str
        A relative path with ``/`` separators.

    Returns
    -------
    str
        The URL, safe inside a quoted HTML attribute.
    """
    return html.escape(quote(path, safe="/"), quote=True)


def index_html(title: str, sections: Sequence[Section], project: str | None = None) -> str:
    """Return the index page: a navigation bar, then each theme's PDF and cards.

    Parameters
    ----------
    title : str
        Page title and heading.
    sections : sequence of Section
        Themes in display order.
    project : str, optional
        Path of the whole atlas's QGIS project relative to the index, linked after the themes.

    Returns
    -------
    str
        A complete HTML document with no script, no remote resource and no
        time stamp, so the same atlas always gives the same bytes.
    """
    nav = "".join(
        f'<a href="#{href(section.anchor)}">{html.escape(section.heading)}</a>' for section in sections
    ) + (f'<a href="{href(project)}">整本图集 QGIS 工程（.qgz）</a>' if project else "")
    page = _PAGE.format(
        title=html.escape(title),
        fonts=webfont.FONT_STACK,
        width=THUMBNAIL_WIDTH,
        nav=nav,
        sections="\n".join(_section(section) for section in sections),
    )
    # The same embedded Chinese subset as the maps, for machines without a Chinese font.
    return webfont.embed(page)


def _section(section: Section) -> str:
    links = [
        f'<a href="{href(path)}">{label}</a>'
        for path, label in ((section.book, "下载本专题多页 PDF 图集"), (section.project, "本专题 QGIS 工程（.qgz）"))
        if path
    ]
    book = f'<p class="book">{"".join(links)}</p>' if links else ""
    groups = "\n".join(_group(group) for group in section.groups)
    return (
        f'<section id="{href(section.anchor)}">\n<h2>{html.escape(section.heading)}</h2>\n'
        f"{book}\n{groups}\n</section>"
    )


def _group(group: Group) -> str:
    cards = "\n".join(_card(card) for card in group.cards)
    return f'<h3>{html.escape(group.heading)}</h3>\n<div class="cards">\n{cards}\n</div>'


def _card(card: Card) -> str:
    area = html.escape(card.area)
    if card.failure is not None:
        picture = f'<div class="placeholder failed">生成失败：{html.escape(card.failure)}</div>'
    elif card.thumbnail is not None:
        target = href(card.picture or card.thumbnail)
        picture = (
            f'<a href="{target}"><img src="{href(card.thumbnail)}" width="{THUMBNAIL_WIDTH}" '
            f'alt="{area}" loading="lazy"></a>'
        )
    else:
        picture = '<div class="placeholder">无缩略图</div>'
    links = "".join(
        f'<li><a href="{href(path)}">{html.escape(label)}</a></li>' for label, path in card.links
    )
    return f'<div class="card">\n<h4>{area}</h4>\n{picture}\n<ul>{links}</ul>\n</div>'
