"""Renderer-independent map specification: layers, colours, legend entries and the shared cartographic constants.

A :class:`MapSpec` says *what* a map shows; :func:`cqgis.maps.web.render_html`
and :func:`cqgis.maps.static.render_static` decide *how*. Both read the same
colours, legend entries and labels from here, so an interactive map and its
printed version agree.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cqgis import config
from cqgis.maps.errors import MapError

Kind = Literal["polygon", "line", "point"]

#: Geometry types each layer kind accepts.
GEOMETRY_TYPES: Mapping[str, frozenset[str]] = MappingProxyType({
    "polygon": frozenset({"Polygon", "MultiPolygon"}),
    "line": frozenset({"LineString", "MultiLineString"}),
    "point": frozenset({"Point", "MultiPoint"}),
})

#: Colour of a layer drawn in one colour when none is given.
DEFAULT_COLOR = "#4e79a7"
#: Outline of polygons.
EDGE_COLOR = "#5a5a5a"
#: Features whose category has no colour (missing values).
MISSING_COLOR = "#bdbdbd"
#: Map background when no basemap is drawn.
BACKGROUND = "#f4f3ef"
#: Background of the synthetic-data badge.
BADGE_COLOR = "#c0392b"
#: Qualitative palette for categories (Tableau 10), in assignment order.
PALETTE = (
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)

#: Badge shown on every map built from invented data.
SYNTHETIC_LABEL = "示例数据"
#: Prefix of the source note.
SOURCE_LABEL = "数据来源："
#: Heading of the legend.
LEGEND_TITLE = "图例"
#: Legend label of features without a category.
MISSING_LABEL = "无数据"
#: Separator between sources in the note.
SOURCE_SEPARATOR = "；"

# Colours end up inside CSS and JavaScript: only #rrggbb is accepted, which
# also rules out any injection through a colour string.
_HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class LegendEntry:
    """One legend row: a coloured symbol and its Chinese label.

    Parameters
    ----------
    label : str
        Text shown next to the symbol.
    color : str
        ``#rrggbb``.
    kind : {"polygon", "line", "point"}
        Symbol drawn: a filled box, a line or a dot.
    """

    label: str
    color: str
    kind: Kind = "polygon"

    def __post_init__(self) -> None:
        check_kind(self.kind, f"legend entry {self.label!r}")
        check_color(self.color, f"legend entry {self.label!r}")


@dataclass(frozen=True)
class Bins:
    """Classes cut from a numeric column: left-closed bins between ascending inner edges.

    Parameters
    ----------
    column : str
        Column of numbers the classes are cut from.
    edges : tuple of float
        Inner bin edges, strictly ascending; a value equal to an edge falls
        in the bin above it.
    labels : tuple of str
        Bin labels, lowest first; one more than ``edges``.
    """

    column: str
    edges: tuple[float, ...]
    labels: tuple[str, ...]

    def __post_init__(self) -> None:
        edges = np.asarray(self.edges, dtype=float)
        if len(self.labels) != len(edges) + 1 or not (np.diff(edges) > 0).all():
            msg = (
                f"classes of column {self.column!r}: {len(self.labels)} labels need "
                f"{len(self.labels) - 1} strictly ascending edges, not {self.edges}"
            )
            raise MapError(msg)

    def classify(self, values: pd.Series) -> pd.Series:
        """Return the label of the bin each value falls in; missing stays missing.

        Parameters
        ----------
        values : pandas.Series
            Numbers (text that is no number counts as missing).

        Returns
        -------
        pandas.Series
            Object dtype, indexed like ``values``; None where a value is missing.
        """
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        index = np.searchsorted(np.asarray(self.edges, dtype=float), numbers, side="right")
        chosen = np.asarray(self.labels, dtype=object)[index]
        return pd.Series(np.where(np.isnan(numbers), None, chosen), index=values.index, dtype="object")


@dataclass(frozen=True, eq=False)
class LayerSpec:
    """One map layer and how to draw it.

    Parameters
    ----------
    name_zh : str
        Layer name shown in the layer control and the legend.
    frame : geopandas.GeoDataFrame
        Features in EPSG:4326.
    kind : {"polygon", "line", "point"}
        Geometry kind; every non-empty geometry must be of that kind.
    color : str
        ``#rrggbb`` used for every feature when ``color_column`` is not set.
    color_column : str, optional
        Column whose values pick each feature's colour from ``colors``.
    colors : mapping, optional
        Value of ``color_column`` -> ``#rrggbb``; legend rows follow its
        order. Default: :data:`PALETTE` over the sorted distinct values.
        Values missing from it are drawn in :data:`MISSING_COLOR`.
    tooltip, popup : mapping
        Column -> Chinese label of the fields shown on hover and on click.
    visible : bool
        Whether the layer is shown when the web map opens.
    label_column : str, optional
        Column written on the map at each feature.
    weight : float
        Outline (polygon, point) or line width, in pixels on the web map
        and points on paper.
    fill_opacity : float
        Opacity of polygon and point fills.
    radius : float
        Point radius in pixels.
    edge_color : str
        Outline of polygons and points.
    bins : Bins, optional
        The numeric classes ``color_column`` holds (made with
        :meth:`Bins.classify`), for renderers that class the numbers
        themselves (QGIS graduated styles).
    """

    name_zh: str
    frame: gpd.GeoDataFrame
    kind: Kind
    color: str = DEFAULT_COLOR
    color_column: str | None = None
    colors: Mapping[Hashable, str] | None = None
    tooltip: Mapping[str, str] = field(default_factory=dict)
    popup: Mapping[str, str] = field(default_factory=dict)
    visible: bool = True
    label_column: str | None = None
    weight: float = 1.0
    fill_opacity: float = 0.7
    radius: float = 5.0
    edge_color: str = EDGE_COLOR
    bins: Bins | None = None

    def __post_init__(self) -> None:
        where = f"layer {self.name_zh!r}"
        check_kind(self.kind, where)
        _check_frame(self.frame, where)
        _check_columns(self, where)
        _check_geometry_types(self.frame, self.kind, where)
        check_color(self.color, where)
        check_color(self.edge_color, where)
        if self.color_column is not None and self.colors is None:
            object.__setattr__(
                self, "colors", categorical_colors(self.frame[self.color_column], where)
            )
        for value, color in (self.colors or {}).items():
            check_color(color, f"{where}, category {value!r}")

    def feature_colors(self, frame: gpd.GeoDataFrame | None = None) -> np.ndarray:
        """Return each feature's ``#rrggbb`` colour, in row order.

        Parameters
        ----------
        frame : geopandas.GeoDataFrame, optional
            Rows of this layer's frame (e.g. :meth:`drawable`); default: all.

        Returns
        -------
        numpy.ndarray of str
            One colour per row; :data:`MISSING_COLOR` for unknown categories.
        """
        frame = self.frame if frame is None else frame
        if self.color_column is None:
            return np.full(len(frame), self.color, dtype=object)
        mapped = frame[self.color_column].map(dict(self.colors or {}))
        return mapped.fillna(MISSING_COLOR).to_numpy(dtype=object)

    def legend_entries(self) -> list[LegendEntry]:
        """Return the legend rows of this layer (one per category, or one for the layer).

        Returns
        -------
        list of LegendEntry
            The rows, in display order.
        """
        if self.color_column is None:
            return [LegendEntry(self.name_zh, self.color, self.kind)]
        entries = [
            LegendEntry(str(value), color, self.kind)
            for value, color in (self.colors or {}).items()
        ]
        if (self.feature_colors() == MISSING_COLOR).any():
            entries.append(LegendEntry(MISSING_LABEL, MISSING_COLOR, self.kind))
        return entries

    def drawable(self) -> gpd.GeoDataFrame:
        """Return the features that have a non-empty geometry (the ones that can be drawn).

        Returns
        -------
        geopandas.GeoDataFrame
            The subset of :attr:`frame`, index kept.
        """
        geometries = np.asarray(self.frame.geometry.values)
        return self.frame[~(shapely.is_missing(geometries) | shapely.is_empty(geometries))]


@dataclass(frozen=True, eq=False)
class MapSpec:
    """Everything a map shows, independent of the renderer.

    Parameters
    ----------
    title : str
        Map title (Chinese).
    layers : sequence of LayerSpec
        Drawn in order, the first at the bottom.
    subtitle : str
        Line under the title.
    legend : sequence of LegendEntry
        Legend rows; empty means the layers' own entries
        (:meth:`LayerSpec.legend_entries`).
    sources : sequence of str
        Data sources named in the note at the bottom.
    synthetic : bool
        True when any data shown is invented: the map then carries the
        :data:`SYNTHETIC_LABEL` badge.
    extent : (lon_min, lat_min, lon_max, lat_max), optional
        Area shown, in WGS84; default: the bounds of all layers.
    """

    title: str
    layers: Sequence[LayerSpec]
    subtitle: str = ""
    legend: Sequence[LegendEntry] = ()
    sources: Sequence[str] = ()
    synthetic: bool = False
    extent: tuple[float, float, float, float] | None = None

    def __post_init__(self) -> None:
        if self.extent is not None:
            west, south, east, north = self.extent
            if not (west < east and south < north):
                msg = (
                    f"map {self.title!r}: extent {self.extent} must be "
                    f"(lon_min, lat_min, lon_max, lat_max) with min < max"
                )
                raise MapError(msg)

    def legend_entries(self) -> list[LegendEntry]:
        """Return the legend rows: the explicit ones, or those of every layer.

        Returns
        -------
        list of LegendEntry
            The rows, in display order.
        """
        if self.legend:
            return list(self.legend)
        return [entry for layer in self.layers for entry in layer.legend_entries()]

    def bounds(self) -> tuple[float, float, float, float]:
        """Return the area to show in WGS84: ``extent``, the layers' bounds, or Chongqing's.

        Returns
        -------
        (float, float, float, float)
            (west, south, east, north) in degrees.
        """
        if self.extent is not None:
            return tuple(float(value) for value in self.extent)
        frames = [layer.drawable() for layer in self.layers]
        boxes = np.array([frame.total_bounds for frame in frames if len(frame)])
        if not len(boxes):
            return config.CHONGQING_BOUNDS
        return (
            float(boxes[:, 0].min()), float(boxes[:, 1].min()),
            float(boxes[:, 2].max()), float(boxes[:, 3].max()),
        )

    def source_note(self) -> str:
        """Return the source line (empty when no source is named).

        Returns
        -------
        str
            The note shown under the map.
        """
        if not self.sources:
            return ""
        return SOURCE_LABEL + SOURCE_SEPARATOR.join(self.sources)


def categorical_colors(values: pd.Series, where: str = "layer") -> dict[Hashable, str]:
    """Give each distinct value a colour of :data:`PALETTE`, in sorted order.

    Parameters
    ----------
    values : pandas.Series
        Category of each feature; missing values get no colour.
    where : str
        What the values belong to, for the error message.

    Returns
    -------
    dict
        Value -> ``#rrggbb``.

    Raises
    ------
    MapError
        When there are more categories than palette colours.
    """
    categories = sorted(values.dropna().unique().tolist(), key=str)
    if len(categories) > len(PALETTE):
        msg = (
            f"{where}: {len(categories)} categories in column {values.name!r}, "
            f"at most {len(PALETTE)} can be told apart; pass colors= or group them"
        )
        raise MapError(msg)
    return dict(zip(categories, PALETTE))


def check_color(color: str, where: str) -> None:
    """Raise :class:`MapError` unless ``color`` is ``#rrggbb``.

    Parameters
    ----------
    color : str
        The colour to check.
    where : str
        What the colour belongs to, for the message.

    Raises
    ------
    MapError
        When ``color`` is not a ``#rrggbb`` string.
    """
    if not isinstance(color, str) or not _HEX_COLOR.fullmatch(color):
        msg = f"{where}: colour {color!r} is not of the form #rrggbb"
        raise MapError(msg)


def check_kind(kind: str, where: str) -> None:
    """Raise :class:`MapError` unless ``kind`` is polygon, line or point.

    Parameters
    ----------
    kind : str
        The layer kind to check.
    where : str
        What the kind belongs to, for the message.

    Raises
    ------
    MapError
        When ``kind`` is not a key of :data:`GEOMETRY_TYPES`.
    """
    if kind not in GEOMETRY_TYPES:
        msg = f"{where}: kind {kind!r} is not one of {', '.join(GEOMETRY_TYPES)}"
        raise MapError(msg)


def _check_frame(frame: gpd.GeoDataFrame, where: str) -> None:
    if not isinstance(frame, gpd.GeoDataFrame):
        msg = f"{where}: frame must be a GeoDataFrame, not {type(frame).__name__}"
        raise MapError(msg)
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        msg = (
            f"{where}: frame must be in EPSG:4326 (WGS84), not {frame.crs}; "
            f"convert it with cqgis.geo.crs.to_wgs84"
        )
        raise MapError(msg)


def _check_columns(layer: LayerSpec, where: str) -> None:
    wanted = [
        *layer.tooltip, *layer.popup, layer.color_column, layer.label_column,
        layer.bins.column if layer.bins is not None else None,
    ]
    missing = [name for name in wanted if name is not None and name not in layer.frame.columns]
    if missing:
        msg = (
            f"{where}: no column {missing[0]!r}; "
            f"columns are {', '.join(map(str, layer.frame.columns))}"
        )
        raise MapError(msg)


def _check_geometry_types(frame: gpd.GeoDataFrame, kind: str, where: str) -> None:
    types = frame.geom_type
    wrong = types.notna().to_numpy() & ~types.isin(GEOMETRY_TYPES[kind]).to_numpy()
    if wrong.any():
        row = int(np.flatnonzero(wrong)[0])
        msg = (
            f"{where}: row {row} is a {types.iloc[row]}, but a {kind} layer "
            f"takes {', '.join(sorted(GEOMETRY_TYPES[kind]))}"
        )
        raise MapError(msg)
