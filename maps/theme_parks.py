"""Theme ``parks``: industrial parks by green-park listing and circular-transformation status."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
import pandas as pd

from cqgis.maps.style import LayerSpec
from cqgis.maps.theme_base import Layers, ThemeParts, base_districts
from cqgis.maps.theme_focus import Focus
from cqgis.maps.theme_names import THEMES

OPTIONS: Mapping[str, object] = MappingProxyType({})
GREEN_AND_CIRCULAR, GREEN, CIRCULAR, NEITHER = "绿色园区且实施循环化改造", "绿色园区", "实施循环化改造", "其他园区"
STATUS_COLORS: Mapping[str, str] = MappingProxyType(
    {GREEN_AND_CIRCULAR: "#1b7837", GREEN: "#7fbc41", CIRCULAR: "#2166ac", NEITHER: "#969696"}
)
FUNCTIONAL_ZONE_COLOR = "#8c510a"


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
        Districts, functional zones and the parks by status.
    """
    parks = focus.keep(layers["parks"])
    parks = parks.assign(park_status=park_status(parks))
    zones = focus.keep(layers["functional_zones"])
    return ThemeParts(
        THEMES["parks"],
        [
            base_districts(focus.keep(layers["districts"])),
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
        subtitle="绿色园区：入选国家级或市级绿色园区名单；循环化改造：《实施方案》列明实施",
        sources=("parks", "functional_zones"),
    )
