"""Atlas books and index: one PDF per theme (contents, then a page per map) and the index page's sections."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from cqgis.errors import one_line
from cqgis.maps.atlas.config import COVERAGES, FORMATS, AtlasConfig
from cqgis.maps.atlas.outcome import FAILED, Outcome
from cqgis.maps.atlas.items import BOOK_NAME, PROJECT_NAME, AtlasItem
from cqgis.maps.atlas.workers import run_jobs
from cqgis.maps.errors import AssetError
from cqgis.maps.index_page import Card, Group, Section
from cqgis.maps.pdf import A4_LANDSCAPE, Page, Picture, Text, write_pdf
from cqgis.maps.theme_names import THEMES

#: Contents lines per page of a theme PDF.
CONTENTS_LINES = 26

#: Page size of the theme PDFs in points.
BOOK_PAGE = A4_LANDSCAPE


def by_theme(outcomes: Iterable[Outcome]) -> dict[str, list[Outcome]]:
    """Return the outcomes of each theme that has any, in theme order, each theme's by coverage kind.

    Parameters
    ----------
    outcomes : iterable of Outcome
        In plan order.

    Returns
    -------
    dict of str to list of Outcome
        Theme -> its outcomes: the order of the PDFs, the index page and the QGIS projects.
    """
    grouped: dict[str, list[Outcome]] = {theme: [] for theme in THEMES}
    for outcome in outcomes:
        grouped[outcome.item.theme].append(outcome)
    for theme in grouped:
        grouped[theme].sort(key=lambda o: list(COVERAGES).index(o.item.coverage_kind))
    return {theme: members for theme, members in grouped.items() if members}


def write_books(
    config: AtlasConfig,
    outcomes: Sequence[Outcome],
    keys: Mapping[str, str],
    manifest: dict,
    force: bool,
    workers: int = 1,
    scheduler: str | None = None,
) -> tuple[tuple[Path, ...], tuple[tuple[str, str], ...]]:
    """Write each theme's PDF from its drawn maps, unless its pages are unchanged.

    Parameters
    ----------
    config : AtlasConfig
        Gives the output folder and the title.
    outcomes : sequence of Outcome
        Every map, in plan order; failed ones get no page.
    keys : mapping of str to str
        Each item's key: a PDF whose pages and keys are those recorded in
        ``manifest`` is kept.
    manifest : dict
        Its ``books`` entry is read and replaced.
    force : bool
        Write every PDF.
    workers : int
        Processes writing the PDFs, one theme each.
    scheduler : str, optional
        Dask scheduler address; overrides ``workers``.

    Returns
    -------
    (tuple of Path, tuple of (str, str))
        The PDFs written or kept, in theme order; (theme, reason) of those
        that could not be written.
    """
    written, failures, kept = {}, [], {}
    stale = []
    for theme, members in by_theme(outcomes).items():
        pages = [o.item for o in members if o.status != FAILED]
        if not pages:
            continue
        path = config.output / BOOK_NAME.format(theme=theme)
        payload = json.dumps([config.title, theme, [(item.ident, keys[item.ident]) for item in pages]], ensure_ascii=False)
        key = hashlib.sha256(payload.encode()).hexdigest()[:24]
        if force or manifest["books"].get(theme) != key or not path.is_file():
            stale.append((theme, key, (path, f"{config.title} · {THEMES[theme]}", pages)))
        else:
            kept[theme], written[theme] = key, path
    for index, result in run_jobs(write_book, [job for _, _, job in stale], workers, scheduler):
        theme, key, (path, _, _) = stale[index]
        try:
            result()
        except Exception as exc:
            failures.append((theme, one_line(exc)))
            continue
        kept[theme], written[theme] = key, path
    manifest["books"] = {theme: kept[theme] for theme in THEMES if theme in kept}
    order = [theme for theme in THEMES if theme in written]
    return tuple(written[theme] for theme in order), tuple(sorted(failures, key=lambda f: list(THEMES).index(f[0])))


def write_book(path: Path, title: str, items: Sequence[AtlasItem]) -> Path:
    """Write a multi-page PDF: contents pages, then one page per item showing its PNG.

    Parameters
    ----------
    path : Path
        Target PDF, written atomically.
    title : str
        Title of the contents pages.
    items : sequence of AtlasItem
        Items whose :attr:`AtlasItem.book_image` exists (see :func:`cqgis.maps.atlas.previews.write_previews`), in page order.

    Returns
    -------
    Path
        ``path``; the file has no creation date, so equal pages give equal bytes.

    Raises
    ------
    WriteError
        The PDF cannot be written; ``path`` is left as it was.
    AssetError
        The packaged Chinese font is not installed.
    MapError
        A page image cannot be read.
    """
    # matplotlib's font manager, which fonts imports, is not needed until a book is written.
    from cqgis.maps import fonts

    font = fonts.packaged_font_path()
    if font is None:
        msg = f"theme PDFs embed the packaged Chinese font: install the Python package {fonts.FONT_DISTRIBUTION}"
        raise AssetError(msg)
    contents = math.ceil(len(items) / CONTENTS_LINES)
    pages = [
        _contents_page(title, items[number * CONTENTS_LINES : (number + 1) * CONTENTS_LINES],
                       contents + number * CONTENTS_LINES + 1, number + 1)
        for number in range(contents)
    ]
    pages += [_map_page(title, item, contents + offset + 1) for offset, item in enumerate(items)]
    return write_pdf(path, pages, font, title, BOOK_PAGE)


def _area_label(item: AtlasItem) -> str:
    return f"{COVERAGES[item.coverage_kind]} · {item.area_name}"


# Text is placed as on the matplotlib pages of earlier versions: by the top
# or bottom of the line, as fractions of the page; the font's ascent is 0.88
# of its size and its descent 0.12.
def _below(fraction: float, size: float) -> float:
    return fraction * BOOK_PAGE[1] - 0.88 * size


def _above(fraction: float, size: float) -> float:
    return fraction * BOOK_PAGE[1] + 0.12 * size


def _contents_page(title: str, items: Sequence[AtlasItem], first_page: int, number: int) -> Page:
    width = BOOK_PAGE[0]
    texts = [Text(width / 2, _below(0.93, 20), title, 20, "center"), Text(width / 2, _below(0.86, 15), "目录", 15, "center")]
    step = 0.74 / CONTENTS_LINES
    for row, item in enumerate(items):
        y = _below(0.80 - row * step, 11)
        texts += [Text(0.2 * width, y, _area_label(item), 11), Text(0.8 * width, y, str(first_page + row), 11, "right")]
    texts.append(Text(width / 2, _above(0.03, 9), str(number), 9, "center"))
    return Page(tuple(texts))


def _map_page(title: str, item: AtlasItem, number: int) -> Page:
    width, height = BOOK_PAGE
    texts = (
        Text(width / 2, _below(0.97, 15), _area_label(item), 15, "center"),
        Text(0.03 * width, _above(0.03, 9), title, 9),
        Text(0.97 * width, _above(0.03, 9), str(number), 9, "right"),
    )
    picture = Picture(Path(item.root, item.book_image), (0.03 * width, 0.06 * height, 0.94 * width, 0.86 * height))
    return Page(texts, (picture,))


def index_sections(outcomes: Sequence[Outcome], failed_books: set[str], projects: Sequence[Path] = ()) -> list[Section]:
    """Return the index page's sections: per theme its PDF, its QGIS project and its cards by coverage kind.

    Parameters
    ----------
    outcomes : sequence of Outcome
        Every map, in plan order.
    failed_books : set of str
        Themes whose PDF could not be made (no link).
    projects : sequence of Path
        The QGIS projects written (see :func:`cqgis.maps.atlas.projects.write_projects`).

    Returns
    -------
    list of Section
        In theme order.
    """
    names = {path.name for path in projects}
    sections = []
    for theme, members in by_theme(outcomes).items():
        groups = []
        for kind in COVERAGES:
            cards = tuple(_card(o) for o in members if o.item.coverage_kind == kind)
            if cards:
                groups.append(Group(COVERAGES[kind], cards))
        has_book = theme not in failed_books and any(o.status != FAILED for o in members)
        book = BOOK_NAME.format(theme=theme) if has_book else None
        project = PROJECT_NAME.format(theme=theme)
        sections.append(
            Section(f"theme-{theme}", THEMES[theme], book, tuple(groups), project if project in names else None)
        )
    return sections


def _card(outcome: Outcome) -> Card:
    item = outcome.item
    if outcome.status == FAILED:
        return Card(item.area_name, (), None, outcome.reason)
    links = tuple((FORMATS[fmt], output) for fmt, output in item.listed)
    return Card(item.area_name, links, item.thumbnail, picture=item.page)
