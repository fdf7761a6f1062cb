"""Atlas QGIS projects: one per theme and one for the whole atlas, the maps' GeoPackages grouped as on the index page."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cqgis.errors import CqgisError, one_line
from cqgis.maps import qgis_project
from cqgis.maps.atlas.books import by_theme
from cqgis.maps.atlas.config import COVERAGES, AtlasConfig
from cqgis.maps.atlas.items import ATLAS_PROJECT, PROJECT_NAME, AtlasItem
from cqgis.maps.atlas.outcome import FAILED, Outcome
from cqgis.maps.theme_names import THEMES

# The atlas formats that leave a styled GeoPackage of the map (a .qgz writes one beside it).
_DATA_FORMATS = ("gpkg", "qgz")


def data_file(item: AtlasItem) -> Path | None:
    """Return the GeoPackage of an atlas map, or None when it asks for none.

    Parameters
    ----------
    item : AtlasItem
        The map.

    Returns
    -------
    pathlib.Path or None
        Its ``gpkg`` output, else the GeoPackage written beside its ``qgz`` output.
    """
    for fmt in _DATA_FORMATS:
        if fmt in item.formats:
            return item.paths[item.formats.index(fmt)].with_suffix(".gpkg")
    return None


def write_projects(
    config: AtlasConfig, outcomes: Sequence[Outcome]
) -> tuple[tuple[Path, ...], tuple[tuple[str, str], ...]]:
    """Write a QGIS project per theme and one for the whole atlas, over the maps that have a GeoPackage.

    The layer tree is grouped as the index page is: theme, coverage kind
    (区县, 流域 ...), area, then the map's layers styled and ordered as on the
    map. Only the first area of a project is drawn when it opens (the
    areas' maps overlap; checking another group shows its first area); every source is a relative path to a GeoPackage
    that exists, so QGIS opens the project without a missing-layer dialog.

    Parameters
    ----------
    config : AtlasConfig
        The atlas (its title and output folder).
    outcomes : sequence of Outcome
        Every map, in plan order; failed maps are left out.

    Returns
    -------
    projects : tuple of pathlib.Path
        The theme projects, then the atlas project; empty when no map
        has a GeoPackage.
    failures : tuple of (str, str)
        (project file name, reason) of projects that could not be written
        (a map's GeoPackage unreadable); no partial file is left.
    """
    themes = {}
    for theme, members in by_theme(outcomes).items():
        groups = []
        for kind, heading in COVERAGES.items():
            areas = [
                (o.item.area_name, data_file(o.item))
                for o in members
                if o.item.coverage_kind == kind and o.status != FAILED and data_file(o.item) is not None
            ]
            if areas:
                groups.append((heading, areas))
        if groups:
            themes[theme] = groups
    wanted = [
        (PROJECT_NAME.format(theme=theme), f"{config.title} · {THEMES[theme]}", _tree(groups, True))
        for theme, groups in themes.items()
    ]
    if themes:
        tree = [
            qgis_project.Group(THEMES[theme], _tree(groups, number == 0), checked=number == 0)
            for number, (theme, groups) in enumerate(themes.items())
        ]
        wanted.append((ATLAS_PROJECT, config.title, tree))
    written, failures = [], []
    for name, title, tree in wanted:
        try:
            written.append(qgis_project.write_project(config.output / name, title, tree))
        except CqgisError as exc:
            failures.append((name, one_line(exc)))
    return tuple(written), tuple(failures)


def _tree(groups: list[tuple[str, list[tuple[str, Path]]]], shown: bool) -> list[qgis_project.Group]:
    """Coverage groups of area groups: the first area of each checked, and only the first group when ``shown``.

    Checking another group in QGIS then shows its first area, not all of them on top of each other.
    """
    return [
        qgis_project.Group(
            heading,
            [qgis_project.Group(area, [data], checked=number == 0) for number, (area, data) in enumerate(areas)],
            checked=shown and first == 0,
        )
        for first, (heading, areas) in enumerate(groups)
    ]
