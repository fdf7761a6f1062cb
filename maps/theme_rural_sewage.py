"""Theme ``rural-sewage``: district treatment rates against the plan's target, settlements by status and the priority untreated ones."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import geopandas as gpd
import pandas as pd

from cqgis.analysis import rural_sewage
from cqgis.maps.style import Bins, LayerSpec
from cqgis.maps.theme_base import ALERT_COLOR, Layers, ThemeParts
from cqgis.maps.theme_focus import Focus
from cqgis.maps.theme_names import THEMES

OPTIONS: Mapping[str, object] = MappingProxyType({})
#: Percentage points below the target that separate "close" from "far".
CLOSE_GAP = 10.0
TREATED, UNTREATED = "已治理", "未治理"
SETTLEMENT_COLORS: Mapping[str, str] = MappingProxyType({TREATED: "#2c7fb8", UNTREATED: "#fdae61"})
RATE_COLORS = ("#fcbba1", "#fee8c8", "#a1d99b")
RATE_POPUP: Mapping[str, str] = MappingProxyType({
    "name": "区县", "settlements": "集聚点数", "treated": "已治理数", "rate_count": "治理率（%）",
    "target": "目标（%）", "gap": "差距（百分点）", "priority_untreated": "重点未治理集聚点数",
})


def rate_labels(target: float) -> tuple[str, str, str]:
    """Return the labels of the rate classes for ``target``, lowest first.

    Parameters
    ----------
    target : float
        Target treatment rate in percent.

    Returns
    -------
    tuple of str
        Below ``target - CLOSE_GAP``, up to ``target``, and at or above it.
    """
    return (f"<{target - CLOSE_GAP:g}%", f"{target - CLOSE_GAP:g}%–{target:g}%", f"≥{target:g}%（达标）")


def rate_bins(target: float) -> Bins:
    """Return the rate classes of the districts for ``target`` (see :func:`rate_labels`).

    Parameters
    ----------
    target : float
        Target treatment rate in percent.

    Returns
    -------
    Bins
        Classes of ``rate_count``.
    """
    return Bins("rate_count", (target - CLOSE_GAP, target), rate_labels(target))


def district_rates(districts: gpd.GeoDataFrame, rates: pd.DataFrame, target: float) -> gpd.GeoDataFrame:
    """Return the districts joined with their rows of ``rates`` and a rate class.

    Parameters
    ----------
    districts : geopandas.GeoDataFrame
        The ``districts`` layer.
    rates : pandas.DataFrame
        From :func:`cqgis.analysis.rural_sewage.treatment_rates`; its city
        row is dropped.
    target : float
        Target treatment rate in percent.

    Returns
    -------
    geopandas.GeoDataFrame
        Every district with its rate columns and ``rate_class`` (one of
        :func:`rate_labels`; missing for a district without settlements).
    """
    rates = rates[rates["district"] != rural_sewage.CITY].drop(columns="district")
    frame = districts[["adcode", "name", "short_name", "geometry"]].merge(rates, on="adcode", how="left")
    frame["rate_class"] = rate_bins(target).classify(frame["rate_count"])
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=districts.crs)


def rates_layer(frame: gpd.GeoDataFrame, target: float) -> LayerSpec:
    """Return the districts coloured by treatment rate class against ``target``.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        From :func:`district_rates` (or part of it).
    target : float
        Target treatment rate in percent.

    Returns
    -------
    LayerSpec
        The polygon layer, classed by :func:`rate_bins`.
    """
    return LayerSpec(
        "区县治理率", frame, "polygon", color_column="rate_class",
        colors=dict(zip(rate_labels(target), RATE_COLORS)), bins=rate_bins(target),
        label_column="short_name", weight=0.8, fill_opacity=0.8,
        tooltip={"name": "区县", "rate_count": "治理率（%）"}, popup=RATE_POPUP,
    )


def priority_layer(priority: gpd.GeoDataFrame) -> LayerSpec:
    """Return the priority untreated settlements as red rings.

    Parameters
    ----------
    priority : geopandas.GeoDataFrame
        From :func:`cqgis.analysis.rural_sewage.priority_untreated`.

    Returns
    -------
    LayerSpec
        The point layer.
    """
    return LayerSpec(
        f"重点未治理集聚点（≥{rural_sewage.PRIORITY_HOUSEHOLDS}户或≥{rural_sewage.PRIORITY_RESIDENTS}人）",
        priority, "point", color=ALERT_COLOR, edge_color=ALERT_COLOR, radius=7.0, weight=2.0,
        fill_opacity=0.0, tooltip={"name": "集聚点", "households": "户数", "residents": "人口"},
    )


def _percent(rate: float) -> str:
    """A rate for the subtitle; a district without rural settlements has none."""
    return "无数据" if pd.isna(rate) else f"{rate:.1f}%"


def build(layers: Layers, focus: Focus) -> ThemeParts:
    """Return the rural sewage layers of the focused area.

    Parameters
    ----------
    layers : Layers
        Catalogue layers of this map.
    focus : Focus
        Area shown.

    Returns
    -------
    ThemeParts
        District rates against the target, the priority untreated
        settlements and every settlement by status.
    """
    settlements = layers["rural_sewage"]
    target = rural_sewage.plan_target(layers["targets"])
    rates = rural_sewage.treatment_rates(settlements, target)
    districts = district_rates(layers["districts"], rates, target)
    shown = focus.keep(settlements)
    shown = shown.assign(
        status=shown["has_sewage_treatment"].astype(bool).map({True: TREATED, False: UNTREATED})
    )
    priority = rural_sewage.priority_untreated(shown)
    city = rates[rates["district"] == rural_sewage.CITY].iloc[0]
    local = focus.keep(districts)
    rates_text = [f"全市 {_percent(city['rate_count'])}"] + (
        [f"{local['name'].iloc[0]} {_percent(local['rate_count'].iloc[0])}"]
        if focus.area is not None and len(local) == 1
        else []
    )
    return ThemeParts(
        THEMES["rural-sewage"],
        [
            rates_layer(local, target),
            priority_layer(priority),
            LayerSpec(
                "农村集聚点", shown, "point", color_column="status", colors=SETTLEMENT_COLORS, radius=3.5,
                weight=0.5, fill_opacity=0.9, tooltip={"name": "集聚点", "status": "治理状况"},
                popup={
                    "name": "集聚点", "district": "区县", "households": "户数", "residents": "人口",
                    "status": "治理状况", "facility_type": "治理方式",
                },
            ),
        ],
        subtitle=f"目标：农村生活污水治理率达到{target:g}%（2025年）；" + "，".join(rates_text),
        sources=("rural_sewage", "targets"),
    )

