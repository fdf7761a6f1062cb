"""Thematic maps of the plan: build a theme's MapSpec for the city or one area and write it as HTML, PNG, PDF, SVG or GeoPackage.

Each theme lives in its own module (``theme_overview``, ``theme_water`` ...)
exposing ``OPTIONS`` (option name -> default) and
``build(layers, focus, **options) -> ThemeParts``; the titles are in
:mod:`cqgis.maps.theme_names`. This module adds what
every map shares: the area in the title and extent, the grey districts
around a focused area, the source note and the 示例数据 badge.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING

from cqgis.config import Settings, settings as default_settings
from cqgis.maps import export_styles, qgis_project, static, web
from cqgis.maps.atlas.previews import write_previews
from cqgis.maps.errors import MapOptionError
from cqgis.maps.style import MapSpec
from cqgis.maps.theme_base import Layers, is_synthetic, legend
from cqgis.maps.theme_focus import resolve
from cqgis.maps.theme_names import THEMES

if TYPE_CHECKING:
    from cqgis.maps.atlas import AtlasItem

__all__ = [
    "SUFFIXES", "THEMES", "Map", "build_spec", "check_suffix", "make_map", "render", "render_item", "theme_module",
    "write",
]

#: Theme name -> the module that builds it.
THEME_MODULES: Mapping[str, str] = MappingProxyType({
    "overview": "cqgis.maps.theme_overview",
    "water": "cqgis.maps.theme_water",
    "hydrogen": "cqgis.maps.theme_hydrogen",
    "parks": "cqgis.maps.theme_parks",
    "rural-sewage": "cqgis.maps.theme_rural_sewage",
    "compliance": "cqgis.maps.theme_compliance",
})
#: Suffix of the map's data layers written as one GeoPackage.
DATA_SUFFIX = ".gpkg"
#: Suffix of a QGIS project of the map (its GeoPackage is written beside it).
PROJECT_SUFFIX = ".qgz"
#: Every suffix :func:`render` writes.
SUFFIXES = (*web.HTML_SUFFIXES, *static.STATIC_FORMATS, DATA_SUFFIX, PROJECT_SUFFIX)
#: Separator between the area and the theme in a title.
TITLE_SEPARATOR = " · "


def theme_module(theme: str) -> ModuleType:
    """Return the module of ``theme``.

    Parameters
    ----------
    theme : str
        One of :data:`THEMES`.

    Returns
    -------
    types.ModuleType
        The theme's module, imported now (see the module docstring).

    Raises
    ------
    MapOptionError
        Unknown theme.
    """
    if theme not in THEME_MODULES:
        msg = f"unknown theme '{theme}'; themes: {', '.join(THEME_MODULES)}"
        raise MapOptionError(msg)
    return importlib.import_module(THEME_MODULES[theme])


def build_spec(
    theme: str,
    *,
    district: str | None = None,
    basin: str | None = None,
    river: str | None = None,
    settings: Settings | None = None,
    layers: Layers | None = None,
    **theme_options: object,
) -> MapSpec:
    """Return the map of a theme, for the whole city or one area.

    Parameters
    ----------
    theme : str
        One of :data:`THEMES`.
    district, basin, river : str, optional
        At most one area to focus on: a district (full or short name), a
        basin or a river. The map then shows only that area's features,
        with the districts around it in grey.
    settings : Settings, optional
        Layer cache and the user's data folder (its files replace layers).
    layers : Layers, optional
        Layers already loaded with ``settings`` (and results derived from
        them) to reuse; by default they are loaded for this map alone.
    **theme_options
        The theme's options: ``radius`` (metres) and ``status``
        (``hydrogen``), ``target`` (target id, ``compliance``).

    Returns
    -------
    MapSpec
        The map: its layers, title, legend, sources and extent.

    Raises
    ------
    MapOptionError
        Unknown theme, area or option.
    """
    module = theme_module(theme)
    unknown = sorted(set(theme_options) - set(module.OPTIONS))
    if unknown:
        takes = ", ".join(module.OPTIONS) or "none"
        msg = f"theme '{theme}' has no option {', '.join(unknown)} (its options: {takes})"
        raise MapOptionError(msg)
    options = {**module.OPTIONS, **{k: v for k, v in theme_options.items() if v is not None}}
    layers = layers if layers is not None else Layers(settings or default_settings())
    focus = resolve(layers, district=district, basin=basin, river=river)
    parts = module.build(layers, focus, **options)
    context = focus.context(layers)
    shown = [*([context] if context is not None else []), *parts.layers]
    sources = ["districts", *(["neighbors"] if context is not None else []), *parts.sources]
    return MapSpec(
        title=f"{focus.name}{TITLE_SEPARATOR}{parts.title}",
        layers=shown,
        subtitle=parts.subtitle,
        legend=legend(shown),
        sources=layers.sources(sources),
        synthetic=is_synthetic(parts.layers) or layers.synthetic(parts.sources),
        extent=focus.extent,
    )


def write(
    spec: MapSpec,
    path: str | os.PathLike,
    basemap: str = "none",
    tianditu_key: str | None = None,
) -> Path:
    """Write a map in the format its suffix names (see :data:`SUFFIXES`).

    Parameters
    ----------
    spec : MapSpec
        The map, e.g. from :func:`build_spec`.
    path : str or os.PathLike
        ``.html``: web map; ``.png``, ``.pdf``, ``.svg``: static map;
        ``.gpkg``: the map's layers, one GeoPackage layer each, named as in
        the legend, each with the map's style as its default QGIS style;
        ``.qgz``: a QGIS project of those layers, styled and ordered as on
        the map, reading the GeoPackage of the same name written beside it
        by relative path.
    basemap, tianditu_key : str, optional
        Tile basemap of the web map (see :func:`cqgis.maps.web.render_html`).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    MapOptionError
        Unknown suffix or basemap.
    """
    path = check_suffix(path)
    suffix = path.suffix.lower()
    if suffix in web.HTML_SUFFIXES:
        return web.render_html(spec, path, basemap=basemap, tianditu_key=tianditu_key)
    if suffix in static.STATIC_FORMATS:
        return static.render_static(spec, path)
    if suffix == PROJECT_SUFFIX:
        data = write(spec, path.with_suffix(DATA_SUFFIX))
        return qgis_project.write_project(path, spec.title, [data])
    return export_styles.write_styled({layer.name_zh: layer for layer in spec.layers}, path)


def check_suffix(path: str | os.PathLike) -> Path:
    """Refuse a file name of a format maps are not written in, before any map is built.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    MapOptionError
        When its suffix is not one of :data:`SUFFIXES`.
    """
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        msg = f"cannot write {path.name}: maps are written as {', '.join(SUFFIXES)}"
        raise MapOptionError(msg)
    return path


@dataclass(frozen=True, repr=False)
class Map:
    """A theme's map: shown inline in Jupyter, saved in every format :func:`write` writes.

    Parameters
    ----------
    spec : MapSpec
        What the map shows.
    basemap : {"none", "osm", "gaode", "tianditu"}
        Tiles under the web map (inline and ``.html``); ``"none"`` needs no network.
    tianditu_key : str, optional
        Key of the ``tianditu`` basemap.

    Examples
    --------
    >>> m = cqgis.map("water", district="万州区")  # doctest: +SKIP
    >>> m                                          # in Jupyter: the map itself
    >>> m.save("万州水质.png")                      # or .html .pdf .svg .gpkg .qgz
    """

    spec: MapSpec
    basemap: str = "none"
    tianditu_key: str | None = None

    @property
    def title(self) -> str:
        """The map's title (area · theme)."""
        return self.spec.title

    def save(self, path: str | os.PathLike) -> Path:
        """Write the map; the suffix of ``path`` picks the format (see :func:`write`).

        Parameters
        ----------
        path : str or os.PathLike
            ``.html``, ``.png``, ``.pdf``, ``.svg``, ``.gpkg`` or ``.qgz``;
            its folder must exist.

        Returns
        -------
        pathlib.Path
            The file written.

        Raises
        ------
        MapOptionError
            Unknown suffix.
        """
        return write(self.spec, path, self.basemap, self.tianditu_key)

    def _repr_html_(self) -> str:
        """Show the map inline in Jupyter: its self-contained web page (no network needed) in an iframe."""
        return web.notebook_frame(self.spec, self.basemap, self.tianditu_key)

    def __repr__(self) -> str:
        return f"<cqgis Map {self.spec.title!r}: {len(self.spec.layers)} layers>"


def make_map(
    theme: str,
    *,
    district: str | None = None,
    basin: str | None = None,
    river: str | None = None,
    basemap: str = "none",
    tianditu_key: str | None = None,
    settings: Settings | None = None,
    **theme_options: object,
) -> Map:
    """Return a theme's map of the city or one area, ready to show or save (``cqgis.map``).

    Parameters
    ----------
    theme : str
        One of :data:`THEMES`: ``overview``, ``water``, ``hydrogen``,
        ``parks``, ``rural-sewage``, ``compliance``.
    district, basin, river : str, optional
        At most one area to focus on (see :func:`build_spec`).
    basemap : {"none", "osm", "gaode", "tianditu"}
        Tiles under the web map; ``"none"`` needs no network.
    tianditu_key : str, optional
        Key of the ``tianditu`` basemap.
    settings : Settings, optional
        Layer cache and the user's data folder (its files replace layers).
    **theme_options
        ``radius`` (metres) and ``status`` (``现状``, ``含在建``, ``含规划``)
        for ``hydrogen``; ``target`` (target id) for ``compliance``.

    Returns
    -------
    Map
        The map.

    Raises
    ------
    MapOptionError
        Unknown theme, area, option or basemap.
    """
    # A bad basemap or key is refused before the layers are loaded.
    web.tile_sources(basemap, tianditu_key)
    settings = settings or default_settings()
    spec = build_spec(theme, district=district, basin=basin, river=river, settings=settings, **theme_options)
    return Map(spec, basemap, tianditu_key)


def render(
    theme: str,
    path: str | os.PathLike,
    *,
    district: str | None = None,
    basin: str | None = None,
    river: str | None = None,
    basemap: str = "none",
    tianditu_key: str | None = None,
    settings: Settings | None = None,
    **theme_options: object,
) -> Path:
    """Build a theme's map and write it; the suffix of ``path`` picks the format.

    Parameters
    ----------
    theme : str
        One of :data:`THEMES`.
    path : str or os.PathLike
        Target file, one of :data:`SUFFIXES`; its folder must exist.
    district, basin, river : str, optional
        Area to focus on (see :func:`build_spec`).
    basemap : {"none", "osm", "gaode", "tianditu"}
        Tiles under a web map.
    tianditu_key : str, optional
        Key of the ``tianditu`` basemap.
    settings : Settings, optional
        Layer cache and user data folder.
    **theme_options
        As for :func:`make_map`.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    MapOptionError
        Unknown theme, area, option, basemap or suffix.
    """
    path = check_suffix(path)
    chosen = make_map(
        theme, district=district, basin=basin, river=river, basemap=basemap, tianditu_key=tianditu_key,
        settings=settings, **theme_options,
    )
    return chosen.save(path)


@functools.lru_cache(maxsize=2)
def _run_layers(settings: Settings, inputs: str) -> Layers:
    """Return the layers shared by the maps of one atlas run in this process.

    ``inputs`` is the run's digest of every input (layers, user files, code,
    see :func:`cqgis.maps.atlas.inputs_digest`): a run with any input
    changed gets fresh layers.
    """
    return Layers(settings)


def render_item(item: AtlasItem) -> tuple[Path, ...]:
    """Render one atlas item: build its map once and write every path it asks for, and its previews.

    Items of one run (the same :attr:`~cqgis.maps.atlas.AtlasItem.inputs`)
    drawn in the same process share their layers and derived results.

    Parameters
    ----------
    item : cqgis.maps.atlas.AtlasItem
        Gives ``theme``, ``focus`` (None for the city, else ``(kind, name)``
        with kind ``district``, ``basin`` or ``river``), ``paths``,
        ``settings`` and ``inputs``.

    Returns
    -------
    tuple of pathlib.Path
        The files written.

    Raises
    ------
    MapOptionError
        Unknown theme or area, or a path of an unknown format.
    """
    area = {item.focus[0]: item.focus[1]} if item.focus else {}
    settings = item.settings or default_settings()
    layers = _run_layers(settings, item.inputs) if item.inputs else None
    spec = build_spec(item.theme, settings=settings, layers=layers, **area)
    page = Path(item.root, item.page)
    for path in item.paths:
        if path == page:
            # Its previews are made from the picture in hand, not by reading the file back.
            write_previews(item, static.render_png(spec, path))
        else:
            write(spec, path)
    return item.paths
