"""Theme ``hydrogen``: fuel-cell vehicle demonstration zones, hydrogen stations, their service rings and the share of each zone they cover."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import geopandas as gpd
import pandas as pd

from cqgis.analysis import coverage
from cqgis.maps.style import Bins, LayerSpec
from cqgis.maps.theme_base import Layers, ThemeParts, base_districts
from cqgis.maps.theme_focus import Focus
from cqgis.maps.theme_names import THEMES

#: ``radius``: service radius of a station in metres (validated by the analysis);
#: ``status``: which stations the covered shares count (see :data:`cqgis.analysis.coverage.SCENARIOS`).
OPTIONS: Mapping[str, object] = MappingProxyType(
    {"radius": coverage.DEFAULT_RADIUS_M, "status": coverage.DEFAULT_SCENARIO}
)
#: Covered share of a zone (percent): inner edges and labels of the classes.
COVERAGE_EDGES = (25.0, 50.0, 75.0)
COVERAGE_COLORS: Mapping[str, str] = MappingProxyType({
    "覆盖率 ≥75%": "#238b45",
    "覆盖率 50%–75%": "#74c476",
    "覆盖率 25%–50%": "#c7e9c0",
    "覆盖率 <25%": "#fee6ce",
})
COVERAGE_BINS = Bins("covered_pct", COVERAGE_EDGES, tuple(COVERAGE_COLORS)[::-1])
#: Colour of each station status of the ``h2_stations`` layer.
STATUS_COLORS: Mapping[str, str] = MappingProxyType(
    {"运营": "#08519c", "在建": "#f28e2b", "规划": "#9e9ac8", "停运": "#636363"}
)
RING_COLOR = "#41b6c4"
def build(layers: Layers, focus: Focus, radius: float, status: str) -> ThemeParts:
    """Return the hydrogen layers of the focused area.

    Parameters
    ----------
    layers : Layers
        Catalogue layers of this map.
    focus : Focus
        Area shown.
    radius : float
        Service radius of a station in metres.
    status : str
        Scenario of the stations counted (现状 / 含在建 / 含规划); stations
        without a real position are never counted.

    Returns
    -------
    ThemeParts
        Districts, the demonstration zones by covered share, the counted
        stations' service rings and every station by status, each saying
        whether it is counted.

    Raises
    ------
    cqgis.analysis.errors.ParameterError
        A radius that is no positive distance, an unknown scenario.
    """
    stations = layers["h2_stations"]
    split = coverage.split_facilities(stations, status)
    scenario = coverage.scenario_label(status)
    result = coverage.coverage(split.counted, layers["h2_zones"], radius)
    zones = result.zones
    zones = zones.assign(
        coverage_class=COVERAGE_BINS.classify(zones["covered_pct"]),
        zone_label=zones["name"] + " " + zones["covered_pct"].round().astype(int).astype(str) + "%",
        scenario=scenario,
        not_counted=coverage.not_counted(split.left_out, layers["h2_zones"]).to_numpy(),
    )
    counted = pd.Series("计入", index=stations.index).where(
        stations.index.isin(split.counted.index), "不计入：" + split.left_out["reason"].reindex(stations.index)
    )
    shown = focus.keep(stations.assign(counted=counted))
    ringed = shown[shown["counted"] == "计入"]
    # The rings are the circles the covered shares were measured with.
    rings = gpd.GeoDataFrame(ringed[["name", "status", "precision"]], geometry=result.service_areas.loc[ringed.index])
    km = f"{float(radius) / 1000:g}"
    # Only the stations counted get a ring; with none counted there is no ring layer.
    ring_layers = [
        LayerSpec(
            f"加氢站服务范围（{km} 千米）", rings, "polygon", color=RING_COLOR, edge_color=RING_COLOR,
            fill_opacity=0.15, weight=1.0, tooltip={"name": "加氢站"},
        )
    ] if len(rings) else []
    return ThemeParts(
        THEMES["hydrogen"],
        [
            base_districts(focus.keep(layers["districts"]), labels=False),
            LayerSpec(
                "示范区域（加氢站覆盖率）", focus.keep(zones), "polygon", color_column="coverage_class",
                colors=COVERAGE_COLORS, bins=COVERAGE_BINS, label_column="zone_label", weight=1.2, fill_opacity=0.75,
                tooltip={"name": "示范区域", "covered_pct": "覆盖率（%）"},
                popup={
                    "name": "示范区域", "kind": "类型", "zone_km2": "面积（平方千米）",
                    "covered_km2": f"{km} 千米内面积（平方千米）", "covered_pct": "覆盖率（%）",
                    "facilities": "服务该区域的加氢站数", "scenario": "计入的加氢站",
                    "not_counted": "区内未计入的加氢站",
                },
            ),
            *ring_layers,
            LayerSpec(
                "加氢站", shown, "point", color_column="status", colors=STATUS_COLORS, radius=6.0,
                fill_opacity=0.95, tooltip={"name": "加氢站", "status": "状态", "counted": "覆盖率"},
                popup={
                    "name": "加氢站", "operator": "运营单位", "type": "类型", "status": "状态", "year": "年份",
                    "capacity_kg_per_day": "加注能力（千克/日）", "address": "地址", "district": "区县",
                    "counted": "覆盖率", "location_source": "位置依据",
                },
            ),
        ],
        subtitle=(
            f"覆盖率：示范区域内距加氢站 {km} 千米以内（直线距离）的面积比例；计入{scenario}的加氢站 "
            f"{len(split.counted)} 座，无实际位置（示意点）的站点不计入"
            + (f"；未计入 {len(split.left_out)} 座" if len(split.left_out) else "")
        ),
        sources=("h2_zones", "h2_stations"),
    )
