"""Atlas plan: the coverage features of each entry and the items (one map each) with their output paths."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from cqgis.config import Settings, settings as default_settings
from cqgis.maps.atlas.config import CITY_NAME, AtlasConfig, MapEntry
from cqgis.maps.errors import MapOptionError
from cqgis.maps.theme_names import THEMES

if TYPE_CHECKING:
    import pandas as pd

#: Format the PDF pages and thumbnails are made from.
PAGE_FORMAT = "png"

#: Hidden folder of PNGs made only for the PDFs and the index.
PAGES_DIR = ".atlas-pages"

#: Where the index's thumbnails go, and their width in pixels (twice the shown width, for sharp screens).
THUMBS_DIR = f"{PAGES_DIR}/thumbs"

#: Where the theme PDFs' page images go, and their width in pixels (about
#: the 889 the pages showed when matplotlib resampled the full PNGs).
BOOK_IMAGES_DIR = f"{PAGES_DIR}/book"

#: Manifest of item keys, for skipping unchanged items.
MANIFEST = ".atlas-manifest.json"

#: The index page.
INDEX = "index.html"

#: File name of a theme's multi-page PDF.
BOOK_NAME = "atlas-{theme}.pdf"

#: File name of a theme's QGIS project, beside its PDF, and of the whole atlas's.
PROJECT_NAME = "atlas-{theme}.qgz"
ATLAS_PROJECT = "atlas.qgz"

_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def coverage(kind: str, settings: Settings | None = None) -> pd.DataFrame:
    """Return the features of a coverage kind as an attribute table, one row per map.

    Parameters
    ----------
    kind : {"district", "basin", "river", "city"}
        ``district`` and ``basin``: the layers of those names; ``river``:
        the named rivers whose course crosses the Sichuan–Chongqing border
        (:func:`cqgis.analysis.cross_border.border_rivers`), one row per
        name with its total ``length_km``; ``city``: one row, 重庆市.
    settings : Settings, optional
        Where layers come from.

    Returns
    -------
    pandas.DataFrame
        A ``name`` column and the features' attributes, without geometry,
        in layer order.
    """
    from cqgis.layers import catalog

    settings = settings or default_settings()
    if kind == "river":
        from cqgis.analysis.cross_border import border_rivers

        found = border_rivers(
            catalog.load("rivers", settings), catalog.load("districts", settings), catalog.load("neighbors", settings)
        )
        return found.drop(columns="directions").reset_index(drop=True)
    if kind == "city":
        import pandas as pd

        districts = catalog.load("districts", settings)
        return pd.DataFrame(
            {"name": [CITY_NAME], "area_km2": [float(districts["area_km2"].sum())], "districts": [len(districts)]}
        )
    layer = {"district": "districts", "basin": "basins"}[kind]
    frame = catalog.load(layer, settings)
    return frame.drop(columns=frame.geometry.name).reset_index(drop=True)


def _select(entry: MapEntry, frame: pd.DataFrame) -> list[str]:
    """Return the names of the features ``entry`` draws, filtered and sorted."""
    if entry.filter is not None:
        frame = frame[entry.filter.mask(frame)]
    if entry.sort is not None:
        column = entry.sort.lstrip("-")
        if column not in frame.columns:
            msg = (
                f"{entry.sort_where}: cannot sort by unknown column {column!r}; "
                f"columns: {', '.join(map(str, frame.columns))}"
            )
            raise MapOptionError(msg)
        by = [column] if column == "name" else [column, "name"]
        frame = frame.sort_values(by, ascending=[not entry.sort.startswith("-"), True][: len(by)], kind="stable")
    return [str(name) for name in frame["name"]]


@dataclass(frozen=True)
class AtlasItem:
    """One map of the atlas: a theme over one coverage feature, in one or more formats.

    Parameters
    ----------
    theme : str
        Key of :data:`THEMES`.
    coverage_kind : str
        Key of :data:`COVERAGES`.
    area_name : str
        Name of the feature (重庆市 for the city).
    formats : tuple of str
        Formats to write, matching ``outputs``; always holds ``png``.
    outputs : tuple of str
        POSIX paths relative to the output folder, one per format.
    root : str
        The output folder.
    settings : Settings or None
        Where the renderer loads layers from: the caller's cache and user
        data folders, made absolute so that workers with another working
        folder find them; None for the defaults.
    inputs : str
        The run's :func:`inputs_digest` (set by :func:`run_atlas`; empty
        otherwise): renderers may share loaded layers between items with
        the same digest.
    """

    theme: str
    coverage_kind: str
    area_name: str
    formats: tuple[str, ...]
    outputs: tuple[str, ...]
    root: str = ""
    settings: Settings | None = None
    inputs: str = ""

    @property
    def ident(self) -> str:
        """Return ``theme/kind/area``: the item's name in the manifest and in messages."""
        return f"{self.theme}/{self.coverage_kind}/{self.area_name}"

    @property
    def focus(self) -> tuple[str, str] | None:
        """Return what the map centres on: None for the city, else (kind, name)."""
        return None if self.coverage_kind == "city" else (self.coverage_kind, self.area_name)

    @property
    def paths(self) -> tuple[Path, ...]:
        """Return the absolute paths to write, matching :attr:`formats`."""
        return tuple(Path(self.root, output) for output in self.outputs)

    @property
    def page(self) -> str:
        """Return the PNG output the theme PDF and the index thumbnail use."""
        return self.outputs[self.formats.index(PAGE_FORMAT)]

    @property
    def thumbnail(self) -> str:
        """Return the small copy of :attr:`page` the index shows (full pages would make it hundreds of MB)."""
        return f"{THUMBS_DIR}/{self.page}"

    @property
    def book_image(self) -> str:
        """Return the copy of :attr:`page` the theme PDF shows, small enough to embed quickly."""
        return f"{BOOK_IMAGES_DIR}/{self.page}"

    @property
    def listed(self) -> tuple[tuple[str, str], ...]:
        """Return (format, output) of the outputs the user asked for."""
        return tuple(
            (fmt, output) for fmt, output in zip(self.formats, self.outputs) if not output.startswith(PAGES_DIR + "/")
        )

def plan(config: AtlasConfig, settings: Settings | None = None) -> list[AtlasItem]:
    """List every item of an atlas, in config order and each entry's sort order.

    Parameters
    ----------
    config : AtlasConfig
        From :func:`read_config`.
    settings : Settings, optional
        Where the coverage layers come from; recorded in each item.

    Returns
    -------
    list of AtlasItem
        One per map to draw.

    Raises
    ------
    MapOptionError
        Unknown filter or sort columns, two entries drawing the same theme
        and feature, or two maps writing the same file.
    """
    settings = settings or default_settings()
    frames: dict[str, pd.DataFrame] = {}
    items: list[AtlasItem] = []
    made: dict[str, str] = {}
    for entry in config.maps:
        if entry.coverage not in frames:
            frames[entry.coverage] = coverage(entry.coverage, settings)
        for area in _select(entry, frames[entry.coverage]):
            item = _item(entry, area, config.output, settings)
            if item.ident in made:
                msg = f"{entry.where}: {item.ident} is already drawn by the map at {made[item.ident]}"
                raise MapOptionError(msg)
            made[item.ident] = entry.where
            items.append(item)
    _check_unique_outputs(items, config)
    return items


def _item(entry: MapEntry, area: str, root: Path, settings: Settings) -> AtlasItem:
    safe = _UNSAFE_NAME.sub("_", area)
    names = {"theme": entry.theme, "coverage": entry.coverage, "area": safe, entry.coverage: safe}
    outputs = [_output(entry, {**names, "ext": fmt}) for fmt in entry.formats]
    formats = list(entry.formats)
    if PAGE_FORMAT not in formats:
        formats.append(PAGE_FORMAT)
        outputs.append(f"{PAGES_DIR}/{entry.theme}/{entry.coverage}/{safe}.{PAGE_FORMAT}")
    data_dir = Path(settings.data_dir).absolute() if settings.data_dir is not None else None
    absolute = Settings(cache_dir=Path(settings.cache_dir).absolute(), data_dir=data_dir)
    return AtlasItem(entry.theme, entry.coverage, area, tuple(formats), tuple(outputs), str(root), absolute)


def _output(entry: MapEntry, names: Mapping[str, str]) -> str:
    path = PurePosixPath(entry.filename.format_map(names))
    if path.is_absolute() or ".." in path.parts or path.parts[0].startswith("."):
        msg = f"{entry.where}: filename {entry.filename!r} gives {str(path)!r}, which is not inside the output folder"
        raise MapOptionError(msg)
    return str(path)


def _check_unique_outputs(items: Sequence[AtlasItem], config: AtlasConfig) -> None:
    owners = {INDEX: "the index", MANIFEST: "the manifest"}
    owners.update({BOOK_NAME.format(theme=theme): f"the {theme} PDF" for theme in THEMES})
    for item in items:
        for output in item.outputs:
            if output in owners:
                msg = (
                    f"{config.path.name}: {item.ident} and {owners[output]} would both write {output}; "
                    f"change the filename template"
                )
                raise MapOptionError(msg)
            owners[output] = item.ident
