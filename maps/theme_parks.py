"""Theme ``parks``: industrial parks by green-park listing and circular-transformation status, and listed green units per district."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd

from cqgis.analysis import green_manufacturing as green
from cqgis.maps.style import LayerSpec
from cqgis.maps.theme_base import Layers, ThemeParts, binned
from cqgis.maps.theme_focus import Focus
from cqgis.maps.theme_names import THEMES

OPTIONS: Mapping[str, object] = MappingProxyType({})
GREEN_AND_CIRCULAR, GREEN, CIRCULAR, NEITHER = "绿色园区且实施循环化改造", "绿色园区", "实施循环化改造", "其他园区"
STATUS_COLORS: Mapping[str, str] = MappingProxyType(
    {GREEN_AND_CIRCULAR: "#1b7837", GREEN: "#7fbc41", CIRCULAR: "#2166ac", NEITHER: "#969696"}
)
FUNCTIONAL_ZONE_COLOR = "#8c510a"
#: Classes of listed green factories and parks per district, fewest first.
COUNT_EDGES = (1, 2, 4)
COUNT_LABELS = ("名录中无", "1个", "2–3个", "4个及以上")
COUNT_COLORS: Mapping[str, str] = MappingProxyType(dict(zip(COUNT_LABELS, ("#f7f7f7", "#d9f0d3", "#a6dba0", "#5aae61"))))
COUNT_POPUP: Mapping[str, str] = MappingProxyType({
    "name": "区县", "green_factories": "名录中绿色工厂（家）", "green_factories_approximate": "其中区县为推断的工厂",
    "green_parks": "名录中绿色园区（个）", "green_parks_approximate": "其中区县为推断的园区",
})


def park_status(parks: pd.DataFrame) -> pd.Series:
    """Return each park's status: listed as a green park, in circular transformation, both or neither.

    Parameters
    ----------
    parks : pandas.DataFrame
        Rows of the ``parks`` layer, with ``green_park`` and
        ``circular_transform`` (missing when the park is not listed).

    Returns
    -------
    pandas.Series
        One of :data:`GREEN_AND_CIRCULAR`, :data:`GREEN`, :data:`CIRCULAR`
        and :data:`NEITHER` per park, indexed like ``parks``.
    """
    green = parks["green_park"].notna().to_numpy()
    circular = parks["circular_transform"].notna().to_numpy()
    status = np.select(
        [green & circular, green, circular], [GREEN_AND_CIRCULAR, GREEN, CIRCULAR], default=NEITHER
    )
    return pd.Series(status, index=parks.index, dtype=object)


def district_counts(districts: gpd.GeoDataFrame, counts: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return the districts with their listed green factories and parks and a count class.

    Parameters
    ----------
    districts : geopandas.GeoDataFrame
        The ``districts`` layer.
    counts : pandas.DataFrame
        From :func:`cqgis.analysis.green_manufacturing.district_counts`;
        its 未定位 and 全市 rows have no polygon and are left out.

    Returns
    -------
    geopandas.GeoDataFrame
        Every district with its counts and ``count_class`` (one of
        :data:`COUNT_LABELS`, by factories and parks together).
    """
    frame = districts[["adcode", "name", "short_name", "geometry"]].merge(
        counts.drop(columns="district"), on="adcode", how="left"
    )
    frame["count_class"] = binned(frame["green_factories"] + frame["green_parks"], COUNT_EDGES, COUNT_LABELS)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=districts.crs)


def build(layers: Layers, focus: Focus) -> ThemeParts:
    """Return the park layers of the focused area.

    Parameters
    ----------
    layers : Layers
        Catalogue layers of this map.
    focus : Focus
        Area shown.

    Returns
    -------
    ThemeParts
        Districts by listed green factories and parks, functional zones and
        the parks by status; the subtitle gives the city's listed units
        against the plan's targets and how many have no district.
    """
    targets = green.plan_targets(layers["targets"])
    listed = green.units(layers["green_factories"], layers["parks"])
    counts = green.district_counts(listed, layers["districts"], targets).set_index("district")
    city, unplaced = counts.loc[green.CITY], counts.loc[green.UNPLACED]
    parks = focus.keep(layers["parks"])
    parks = parks.assign(park_status=park_status(parks))
    zones = focus.keep(layers["functional_zones"])
    return ThemeParts(
        THEMES["parks"],
        [
            LayerSpec(
                "区县名录内绿色工厂与园区数", focus.keep(district_counts(layers["districts"], counts.reset_index())),
                "polygon", color_column="count_class", colors=COUNT_COLORS, label_column="short_name",
                weight=0.8, fill_opacity=0.7, tooltip={"name": "区县", "count_class": "名录内绿色工厂与园区"},
                popup=COUNT_POPUP,
            ),
            LayerSpec(
                "功能区", zones[["name", "short_name", "precision", "geometry"]], "polygon",
                color=FUNCTIONAL_ZONE_COLOR, edge_color=FUNCTIONAL_ZONE_COLOR, fill_opacity=0.0,
                weight=1.5, tooltip={"name": "功能区"},
            ),
            LayerSpec(
                "园区", parks, "point", color_column="park_status", colors=STATUS_COLORS, radius=7.0,
                fill_opacity=0.95, tooltip={"name": "园区", "park_status": "类别"},
                popup={
                    "name": "园区", "level": "开发区级别", "green_park": "绿色园区级别",
                    "green_park_year": "绿色园区入选年份", "circular_transform": "循环化改造",
                    "central_wastewater": "污水集中处理", "district": "区县",
                },
            ),
        ],
        subtitle=(
            f"名录内全市绿色园区{city['green_parks']}个、绿色工厂{city['green_factories']}家，"
            f"2025年目标{targets[green.PARK]:g}个、{targets[green.FACTORY]:g}家"
            f"（{unplaced['green_factories'] + unplaced['green_parks']}个未定位；名录不全，仅为下限）"
        ),
        sources=("parks", "functional_zones", "green_factories", "targets"),
    )
