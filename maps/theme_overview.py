"""Theme ``overview``: districts by 一区两群 region, basins, rivers, functional zones and the Sichuan–Chongqing border."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from cqgis.maps.style import LayerSpec
from cqgis.maps.theme_base import Layers, ThemeParts, present, rivers_layer
from cqgis.maps.theme_focus import Focus
from cqgis.maps.theme_names import THEMES

OPTIONS: Mapping[str, object] = MappingProxyType({})
#: Colour of each region of 一区两群.
REGION_COLORS: Mapping[str, str] = MappingProxyType({
    "主城都市区": "#f6c28b",
    "渝东北三峡库区城镇群": "#a6d4a0",
    "渝东南武陵山区城镇群": "#c6b3e0",
})
FUNCTIONAL_ZONE_COLOR = "#8c510a"
# Muted and thin, so that basin edges are not mistaken for the (blue) rivers.
BASIN_EDGE = "#9e8fb8"
BORDER_COLOR = "#c51b8a"


def build(layers: Layers, focus: Focus) -> ThemeParts:
    """Return the overview layers of the focused area.

    Parameters
    ----------
    layers : Layers
        Catalogue layers of this map.
    focus : Focus
        Area shown.

    Returns
    -------
    ThemeParts
        Districts by region, basins, functional zones, rivers and the border.
    """
    districts = focus.keep(layers["districts"])
    zones = focus.keep(layers["functional_zones"])
    return ThemeParts(
        THEMES["overview"],
        [
            LayerSpec(
                "区县（一区两群）", districts[["name", "short_name", "region", "area_km2", "precision", "geometry"]],
                "polygon", color_column="region", colors=present(REGION_COLORS, districts["region"]),
                tooltip={"name": "区县", "region": "所属区域"},
                popup={"name": "区县", "region": "所属区域", "area_km2": "面积（平方千米）"},
                label_column="short_name", weight=0.8, fill_opacity=0.6,
            ),
            LayerSpec(
                "流域", focus.keep(layers["basins"])[["name", "parent", "area_km2", "precision", "geometry"]],
                "polygon", color=BASIN_EDGE, edge_color=BASIN_EDGE, fill_opacity=0.0, weight=0.9,
                popup={"name": "流域", "parent": "汇入", "area_km2": "市内面积（平方千米）"},
            ),
            LayerSpec(
                "功能区", zones[["name", "short_name", "scope", "published_area_km2", "precision", "geometry"]],
                "polygon", color=FUNCTIONAL_ZONE_COLOR, edge_color=FUNCTIONAL_ZONE_COLOR,
                tooltip={"name": "功能区"},
                popup={"name": "功能区", "scope": "范围", "published_area_km2": "公布面积（平方千米）"},
                fill_opacity=0.25, weight=1.5,
            ),
            *rivers_layer(focus.keep(layers["rivers"]), whole_city=focus.area is None),
            LayerSpec(
                "川渝边界", focus.keep(layers["border"])[["district", "neighbor", "length_km", "precision", "geometry"]],
                "line", color=BORDER_COLOR, weight=3.0,
                tooltip={"district": "区县", "neighbor": "相邻四川县区", "length_km": "长度（千米）"},
            ),
        ],
        sources=("districts", "basins", "functional_zones", "rivers", "border"),
    )
