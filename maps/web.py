"""Interactive web maps: a MapSpec rendered as one self-contained HTML page (folium with Leaflet inlined).

The page has a layer control, a metric scale bar, an HTML legend, the source
note, the title and, for invented data, the 示例数据 badge. It loads nothing
from the network unless a tile basemap is chosen, and two renders of the same
spec are byte-identical. The page embeds the Chinese font subset of its own
characters (:mod:`cqgis.maps.webfont`), so it reads on machines without a
Chinese font.

Geometries are lightened for display by :func:`display_geometries`:
polygon coverages are simplified together (shared borders stay shared, no
slivers open between districts), lines are simplified one by one, and all
coordinates are rounded to :data:`COORDINATE_DECIMALS` decimals (1e-5 degree
is about 1 m at Chongqing's latitude).
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.utilities import JsCode

from cqgis import config
from cqgis.geo import crs
from cqgis.geo.io import atomic
from cqgis.maps import style, webfont
from cqgis.maps.errors import MapOptionError
from cqgis.maps.offline import (
    OfflineMap,
    RawElement,
    ScriptElement,
    html_text,
    js_literal,
    number_elements,
)
from cqgis.maps.style import LayerSpec, LegendEntry, MapSpec

#: Simplification tolerance for display, in metres (measured in the
#: conformal CRS). For polygon coverages it is the square root of the
#: largest triangle area removed (Visvalingam-Whyatt); for lines, the largest
#: distance a simplified line departs from the original (Douglas-Peucker).
#: 100 m is under one screen pixel (~130 m at 30 N) up to zoom level 10;
#: the whole of Chongqing fills a screen at zoom 7-8. On the districts layer
#: it keeps 26k of 74k vertices.
DISPLAY_TOLERANCE_M = 100.0
#: Decimals kept in displayed coordinates: 1e-5 degree is ~1.1 m north-south
#: and ~0.96 m east-west at 30 N.
COORDINATE_DECIMALS = 5
#: Suffixes render_html writes.
HTML_SUFFIXES = (".html", ".htm")
#: Height in pixels of a map shown in a Jupyter notebook.
NOTEBOOK_HEIGHT = 600


@dataclass(frozen=True)
class TileSource:
    """A tile basemap layer.

    Parameters
    ----------
    name_zh : str
        Name in the layer control.
    url : str
        Leaflet URL template; ``{key}`` is replaced by the user's key.
    attribution : str
        Credit shown in the corner (HTML).
    subdomains : str
        Values of ``{s}``.
    overlay : bool
        True for a transparent layer drawn over the base (labels).
    """

    name_zh: str
    url: str
    attribution: str
    subdomains: str = "abc"
    overlay: bool = False


_TIANDITU_URL = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
    "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={{key}}"
)

#: Tile basemaps by name ("none" draws a plain background).
BASEMAPS: Mapping[str, tuple[TileSource, ...]] = MappingProxyType({
    "none": (),
    "osm": (
        TileSource(
            "OpenStreetMap",
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            "&copy; OpenStreetMap 贡献者",
        ),
    ),
    "gaode": (
        TileSource(
            "高德地图",
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
            "&style=8&x={x}&y={y}&z={z}",
            "&copy; 高德地图",
            subdomains="1234",
        ),
    ),
    "tianditu": (
        TileSource("天地图", _TIANDITU_URL.format(layer="vec"), "&copy; 天地图", "01234567"),
        TileSource(
            "天地图注记", _TIANDITU_URL.format(layer="cva"), "&copy; 天地图", "01234567", True
        ),
    ),
})

#: Coordinate system each basemap's tiles are drawn in (default WGS84).
BASEMAP_SYSTEMS: Mapping[str, str] = MappingProxyType({"gaode": crs.GCJ02})

# A Tianditu key is 32 hexadecimal digits; checking it also keeps anything
# else out of the URL template.
_TIANDITU_KEY = re.compile(r"[0-9a-fA-F]{32}")
_MISSING_VALUE = "—"


def render_html(
    spec: MapSpec,
    path: str | os.PathLike,
    basemap: str = "none",
    tianditu_key: str | None = None,
    tolerance_m: float = DISPLAY_TOLERANCE_M,
) -> Path:
    """Write a map as one self-contained HTML page, atomically.

    Parameters
    ----------
    spec : MapSpec
        What to draw.
    path : str or os.PathLike
        Target ``.html`` file; its folder must exist.
    basemap : {"none", "osm", "gaode", "tianditu"}
        Tiles under the data. ``"gaode"`` tiles are in GCJ-02, so every
        layer is shifted to GCJ-02 to line up with them; ``"none"`` draws a
        plain background and needs no network.
    tianditu_key : str, optional
        Tianditu browser key (32 hex digits), required for ``"tianditu"``.
        It is written into the page.
    tolerance_m : float
        Display simplification in metres (see :data:`DISPLAY_TOLERANCE_M`);
        0 keeps every vertex.

    Returns
    -------
    pathlib.Path
        The target.

    Raises
    ------
    MapOptionError
        Unknown basemap, missing or malformed key, or not an .html target.
    cqgis.geo.errors.WriteError
        When the file cannot be written (nothing is left behind).
    """
    path = Path(path)
    if path.suffix.lower() not in HTML_SUFFIXES:
        msg = f"cannot write {path.name} as a web map: use a .html file name"
        raise MapOptionError(msg)
    page = build_html(spec, basemap, tianditu_key, tolerance_m)
    with atomic(path) as temp:
        temp.write_text(page, encoding="utf-8")
    return Path(path)


def build_html(
    spec: MapSpec,
    basemap: str = "none",
    tianditu_key: str | None = None,
    tolerance_m: float = DISPLAY_TOLERANCE_M,
) -> str:
    """Return the HTML page of a map.

    Parameters
    ----------
    spec : MapSpec
        What to draw.
    basemap : {"none", "osm", "gaode", "tianditu"}
        Tiles under the data, as for :func:`render_html`.
    tianditu_key : str, optional
        Tianditu browser key (32 hex digits), required for ``"tianditu"``.
    tolerance_m : float
        Display simplification in metres; 0 keeps every vertex.

    Returns
    -------
    str
        The self-contained page, fonts embedded.

    Raises
    ------
    MapOptionError
        Unknown basemap, or ``"tianditu"`` without a well-formed key.
    """
    tiles = tile_sources(basemap, tianditu_key)
    system = BASEMAP_SYSTEMS.get(basemap, crs.WGS84)
    fmap = OfflineMap(tiles=None, attribution_control=False)
    figure = fmap.get_root()
    figure.title = html_text(spec.title)
    for source in tiles:
        _tile_layer(source, tianditu_key).add_to(fmap)
    for layer in spec.layers:
        _add_layer(fmap, layer, system, tolerance_m)
    folium.LayerControl(collapsed=False).add_to(fmap)
    west, south, east, north = _shift_bounds(spec.bounds(), system)
    fmap.fit_bounds([[south, west], [north, east]])
    ScriptElement(lambda: _controls_script(fmap.get_name(), spec, bool(tiles))).add_to(fmap)
    figure.html.add_child(RawElement(title_html(spec)), name="cqgis_title")
    number_elements(figure)
    return webfont.embed(figure.render())


def notebook_frame(spec: MapSpec, basemap: str = "none", tianditu_key: str | None = None) -> str:
    """Return the HTML that shows a map inline in Jupyter: its page in an ``<iframe srcdoc>``.

    The page is the one :func:`render_html` writes, so with ``basemap="none"``
    it needs no network; inside ``srcdoc`` its own styles and scripts cannot
    clash with the notebook's.

    Parameters
    ----------
    spec : MapSpec
        What to draw.
    basemap, tianditu_key : str, optional
        Tiles under the data, as for :func:`render_html`.

    Returns
    -------
    str
        An ``<iframe>`` element, the page escaped as its attribute value.
    """
    page = build_html(spec, basemap, tianditu_key)
    # Escaping quotes too keeps the page inside the attribute; the sandbox
    # lets Leaflet run but keeps the page away from the notebook's cookies and DOM.
    return (
        f'<iframe srcdoc="{html.escape(page, quote=True)}" sandbox="allow-scripts" '
        f'title="{html.escape(spec.title, quote=True)}" '
        f'style="width: 100%; height: {NOTEBOOK_HEIGHT}px; border: none"></iframe>'
    )


def tile_sources(basemap: str, tianditu_key: str | None = None) -> tuple[TileSource, ...]:
    """Return the tile layers of a basemap, checking the name and the Tianditu key.

    Parameters
    ----------
    basemap : str
        A name in :data:`BASEMAPS`.
    tianditu_key : str, optional
        Tianditu browser key, required for ``"tianditu"``.

    Returns
    -------
    tuple of TileSource
        The tile layers, bottom first; empty for ``"none"``.

    Raises
    ------
    MapOptionError
        Unknown basemap, or ``"tianditu"`` without a well-formed key.
    """
    if basemap not in BASEMAPS:
        msg = f"unknown basemap {basemap!r}: use one of {', '.join(BASEMAPS)}"
        raise MapOptionError(msg)
    if basemap == "tianditu" and not (
        isinstance(tianditu_key, str) and _TIANDITU_KEY.fullmatch(tianditu_key)
    ):
        msg = "the tianditu basemap needs a Tianditu browser key (32 hexadecimal digits)"
        raise MapOptionError(msg)
    return BASEMAPS[basemap]


def display_geometries(
    frame: gpd.GeoDataFrame, tolerance_m: float = DISPLAY_TOLERANCE_M
) -> gpd.GeoDataFrame:
    """Return a copy of a frame with geometries lightened for display.

    Simplification happens in the conformal CRS, in metres. A polygon layer
    whose polygons form a coverage (no overlaps, shared edges with shared
    vertices, as district boundaries do) is simplified as a whole with
    :func:`shapely.coverage_simplify`, so neighbours keep one common border;
    other polygons and lines are simplified one by one keeping their
    topology. Coordinates are then rounded to :data:`COORDINATE_DECIMALS`
    decimals, vertex by vertex, so shared vertices stay shared.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Layer in EPSG:4326 (or GCJ-02 degrees labelled EPSG:4326).
    tolerance_m : float
        See :data:`DISPLAY_TOLERANCE_M`; 0 only rounds.

    Returns
    -------
    geopandas.GeoDataFrame
        Same rows and columns, new geometries, in EPSG:4326.
    """
    geometry = frame.geometry
    if tolerance_m > 0 and len(frame):
        metric = crs.metric_crs("distance")
        simplified = _simplify(crs.project(geometry.to_numpy(), geometry.crs, metric), tolerance_m)
        geometry = gpd.GeoSeries(crs.project(simplified, metric, config.STORAGE_CRS), index=frame.index)
    rounded = shapely.transform(
        np.asarray(geometry.values), lambda coords: np.round(coords, COORDINATE_DECIMALS)
    )
    out = frame.copy()
    out[frame.geometry.name] = gpd.GeoSeries(rounded, index=frame.index, crs=config.STORAGE_CRS)
    return out


def _simplify(geometries: np.ndarray, tolerance_m: float) -> np.ndarray:
    types = shapely.get_type_id(geometries)
    polygonal = np.isin(types, (3, 6)).all()
    if polygonal and shapely.coverage_is_valid(geometries):
        return shapely.coverage_simplify(geometries, tolerance_m)
    return shapely.simplify(geometries, tolerance_m, preserve_topology=True)


def _shift_bounds(
    bounds: tuple[float, float, float, float], system: str
) -> tuple[float, float, float, float]:
    lon, lat = crs.convert_coords(
        [bounds[0], bounds[2]], [bounds[1], bounds[3]], crs.WGS84, system
    )
    return float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1])


def _tile_layer(source: TileSource, key: str | None) -> folium.TileLayer:
    url = source.url.replace("{key}", key or "")
    return folium.TileLayer(
        tiles=url,
        attr=source.attribution,
        name=source.name_zh,
        overlay=source.overlay,
        control=True,
        subdomains=source.subdomains,
        max_zoom=18,
    )


def _add_layer(fmap: folium.Map, layer: LayerSpec, system: str, tolerance_m: float) -> None:
    drawable = layer.drawable()
    colors = layer.feature_colors(drawable)
    shifted = drawable if system == crs.WGS84 else crs.from_wgs84(drawable, system)
    frame = display_geometries(shifted, tolerance_m)
    styles = [_feature_style(layer, color) for color in colors]
    geojson = folium.GeoJson(
        feature_collection(frame, layer),
        name=html_text(layer.name_zh),
        show=layer.visible,
        style_function=lambda feature: styles[feature["id"]],
        marker=folium.CircleMarker(radius=layer.radius) if layer.kind == "point" else None,
        on_each_feature=_bind_code(layer),
    )
    geojson.add_to(fmap)
    if layer.label_column is not None and len(frame):
        rows = label_rows(frame, layer.label_column)
        ScriptElement(lambda: f"cqgis.labels({geojson.get_name()}, {js_literal(rows)});").add_to(
            fmap
        )


def _feature_style(layer: LayerSpec, color: str) -> dict:
    if layer.kind == "line":
        return {"color": color, "weight": layer.weight, "opacity": 0.9}
    fill = {
        "color": layer.edge_color,
        "weight": layer.weight,
        "fillColor": color,
        "fillOpacity": layer.fill_opacity,
    }
    if layer.kind == "point":
        return {**fill, "fill": True, "radius": layer.radius}
    return fill


def _bind_code(layer: LayerSpec) -> JsCode | None:
    if not (layer.tooltip or layer.popup):
        return None
    tooltip_labels = [html_text(label) for label in layer.tooltip.values()]
    popup_labels = [html_text(label) for label in layer.popup.values()]
    return JsCode(f"cqgis.bind({js_literal(tooltip_labels)}, {js_literal(popup_labels)})")


def feature_collection(frame: gpd.GeoDataFrame, layer: LayerSpec) -> dict:
    """Return the GeoJSON a layer is drawn from.

    Each feature carries an ``id`` (its position) and, as properties, only
    the HTML-escaped texts of its tooltip (``t``) and popup (``p``) fields,
    in the order of the layer's mappings; labels live in the page script.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The layer's drawable rows, with display geometries.
    layer : LayerSpec
        Gives the tooltip and popup columns.

    Returns
    -------
    dict
        A GeoJSON FeatureCollection.
    """
    properties = [{} for _ in range(len(frame))]
    for key, columns in (("t", list(layer.tooltip)), ("p", list(layer.popup))):
        if columns:
            for row, texts in zip(properties, cell_texts(frame, columns)):
                row[key] = texts
    geometries = [geometry.__geo_interface__ for geometry in frame.geometry]
    features = [
        {"type": "Feature", "id": index, "properties": props, "geometry": geometry}
        for index, (props, geometry) in enumerate(zip(properties, geometries))
    ]
    return {"type": "FeatureCollection", "features": features}


def cell_texts(frame: pd.DataFrame, columns: Sequence[str]) -> list[list[str]]:
    """Return, for each row, the HTML-escaped display texts of ``columns``.

    Missing values show as a dash, booleans as 是/否 and floats with at most
    two decimals.

    Parameters
    ----------
    frame : pandas.DataFrame
        The features' attributes.
    columns : sequence of str
        Columns to show, in order.

    Returns
    -------
    list of list of str
        One list per row, one text per column.
    """
    texts = [frame[column].map(format_value).map(html_text) for column in columns]
    return [list(row) for row in zip(*texts)]


def format_value(value: object) -> str:
    """Return the display text of one attribute value.

    Parameters
    ----------
    value : object
        A cell value.

    Returns
    -------
    str
        A dash when missing, 是/否 for booleans, floats with at most two
        decimals, otherwise ``str(value)``; not HTML-escaped.
    """
    if value is None or (np.ndim(value) == 0 and pd.isna(value)):
        return _MISSING_VALUE
    if isinstance(value, (bool, np.bool_)):
        return "是" if value else "否"
    if isinstance(value, (float, np.floating)):
        return np.format_float_positional(value, precision=2, trim="-")
    return str(value)


def label_rows(frame: gpd.GeoDataFrame, column: str) -> list[list]:
    """Return ``[lat, lon, escaped text]`` of each labelled feature, at a point on its surface.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The features, in lon/lat degrees.
    column : str
        The label column; rows where it is missing are skipped.

    Returns
    -------
    list of list
        ``[lat, lon, text]`` per labelled feature, coordinates rounded to
        :data:`COORDINATE_DECIMALS`.
    """
    present = frame[frame[column].notna().to_numpy()]
    anchors = shapely.point_on_surface(np.asarray(present.geometry.values))
    lon = np.round(shapely.get_x(anchors), COORDINATE_DECIMALS).tolist()
    lat = np.round(shapely.get_y(anchors), COORDINATE_DECIMALS).tolist()
    texts = present[column].map(format_value).map(html_text).tolist()
    return [list(row) for row in zip(lat, lon, texts)]


def title_html(spec: MapSpec) -> str:
    """Return the title box: title, 示例数据 badge when synthetic, subtitle.

    Parameters
    ----------
    spec : MapSpec
        The map.

    Returns
    -------
    str
        The box's HTML, texts escaped.
    """
    badge = f'<span class="cqgis-badge">{style.SYNTHETIC_LABEL}</span>' if spec.synthetic else ""
    subtitle = f"<p>{html_text(spec.subtitle)}</p>" if spec.subtitle else ""
    return f'<div class="cqgis-title"><h1>{html_text(spec.title)}{badge}</h1>{subtitle}</div>\n'


def legend_html(entries: Sequence[LegendEntry]) -> str:
    """Return the legend box's inner HTML (symbols and escaped labels).

    Parameters
    ----------
    entries : sequence of LegendEntry
        The legend entries, in order.

    Returns
    -------
    str
        The legend title and one row per entry.
    """
    rows = []
    for entry in entries:
        if entry.kind == "line":
            symbol = f'<i class="line" style="border-top-color:{entry.color}"></i>'
        else:
            symbol = f'<i class="{entry.kind}" style="background:{entry.color}"></i>'
        rows.append(f"<div>{symbol}{html_text(entry.label)}</div>")
    return f"<b>{style.LEGEND_TITLE}</b>" + "".join(rows)


def _controls_script(map_name: str, spec: MapSpec, with_tiles: bool) -> str:
    scale = "{metric: true, imperial: false, position: 'bottomleft'}"
    lines = [f"L.control.scale({scale}).addTo({map_name});"]
    note = spec.source_note()
    if note:
        lines.append(
            f"cqgis.panel({map_name}, 'bottomleft', 'cqgis-box cqgis-source', "
            f"{js_literal(html_text(note))});"
        )
    entries = spec.legend_entries()
    if entries:
        lines.append(
            f"cqgis.panel({map_name}, 'bottomright', 'cqgis-box cqgis-legend', "
            f"{js_literal(legend_html(entries))});"
        )
    if with_tiles:
        lines.append(f"L.control.attribution({{prefix: 'Leaflet'}}).addTo({map_name});")
    return "\n".join(lines)
