"""Theme ``water``: sections by GB 3838 class in the latest full year, their target compliance and the cross-border sections."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import geopandas as gpd
import pandas as pd

from cqgis.analysis import monitoring, water_quality
from cqgis.maps.style import LayerSpec
from cqgis.maps.theme_base import (
    ALERT_COLOR, Layers, ThemeParts, base_districts, rivers_layer,
)
from cqgis.maps.theme_focus import Focus
from cqgis.maps.theme_names import THEMES

OPTIONS: Mapping[str, object] = MappingProxyType({})
#: Colour of each water-quality class, clear blue to red (the usual colours of Chinese water reports).
CLASS_COLORS: Mapping[str, str] = MappingProxyType({
    "Ⅰ类": "#5ec8f2",
    "Ⅱ类": "#1f6fd1",
    "Ⅲ类": "#2ca25f",
    "Ⅳ类": "#f2d024",
    "Ⅴ类": "#f28e2b",
    "劣Ⅴ类": "#d7191c",
})
CROSS_BORDER_COLOR = "#7b3294"
MET, UNMET, NO_TARGET = "达标", "未达标", "无目标"
#: Months of a full year of monitoring.
FULL_YEAR_MONTHS = 12
SECTION_POPUP: Mapping[str, str] = MappingProxyType({
    "name": "断面", "river": "河流", "district": "区县", "class_label": "水质类别",
    "target_class": "水质目标", "compliance": "是否达标", "main_pollutants": "主要污染指标",
    "exceedances": "超Ⅲ类项目（超标倍数）", "target_exceedances": "超目标项目（对目标超标倍数）",
    "direction": "跨界流向", "year": "评价年份",
})


def latest_full_year(tidy: pd.DataFrame) -> str | None:
    """Return the latest year monitored in all 12 months, else the latest year, or None without data.

    Parameters
    ----------
    tidy : pandas.DataFrame
        Measurements from :func:`cqgis.analysis.water_quality.tidy`, with a
        ``month`` column (``YYYY-MM``).

    Returns
    -------
    str or None
        The year as ``YYYY``.
    """
    months = tidy["month"].dropna().drop_duplicates()
    if months.empty:
        return None
    per_year = months.str[:4].value_counts()
    full = per_year[per_year >= FULL_YEAR_MONTHS]
    return str(max(full.index if len(full) else per_year.index))


def section_results(sections: gpd.GeoDataFrame, measurements: pd.DataFrame) -> tuple[gpd.GeoDataFrame, str | None]:
    """Return every section with its class and compliance in the latest full year, and that year.

    Sections are matched to results by code, else by name; a section
    without results shows 无数据.

    Parameters
    ----------
    sections : geopandas.GeoDataFrame
        The ``sections`` layer.
    measurements : pandas.DataFrame
        The ``measurements`` layer, long or wide.

    Returns
    -------
    tuple of (geopandas.GeoDataFrame, str or None)
        Every section with ``class_label``, ``compliance`` (达标 / 未达标 /
        无目标), ``main_pollutants``, ``exceedances``, ``target_exceedances``
        and ``year``; and the
        year assessed, None without measurements.
    """
    if monitoring.is_class_table(measurements):
        # A monthly report gives classes without values: its latest period per section is shown as reported.
        results = monitoring.read_classes(measurements, sections).frame
        results = results.sort_values("period").drop_duplicates(["section_code", "section_name"], keep="last")
        years = results["year"].dropna()
        year = str(int(years.max())) if len(years) else None
    else:
        tidy = water_quality.tidy(measurements)
        year = latest_full_year(tidy)
        results = water_quality.classify(tidy, sections, "year")
        results = results[results["period"] == year]
    by_code = results.dropna(subset=["section_code"]).set_index("section_code")
    by_name = results.dropna(subset=["section_name"]).drop_duplicates("section_name").set_index("section_name")
    columns = ["class", "meets_target", "main_pollutants", "exceedances", "target_exceedances", "precision"]
    found = by_code[columns].reindex(sections["code"].astype("string")).reset_index(drop=True)
    named = by_name[columns].reindex(sections["name"].astype("string")).reset_index(drop=True)
    found = found.fillna(named) if len(found) else found
    frame = sections.reset_index(drop=True).drop(columns="precision").join(found)
    frame["precision"] = frame["precision"].fillna(sections["precision"].reset_index(drop=True))
    frame["class_label"] = (frame["class"].astype("string") + "类").astype(object)
    target = frame["target_class"].notna()
    met = frame["meets_target"].astype("boolean")
    frame["compliance"] = met.map({True: MET, False: UNMET}).astype(object).where(target, NO_TARGET)
    frame["year"] = year
    if "class_source" in results:
        frame["class_source"] = results["class_source"].iloc[0] if len(results) else pd.NA
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=sections.crs), year


def build(layers: Layers, focus: Focus) -> ThemeParts:
    """Return the water-quality layers of the focused area.

    Parameters
    ----------
    layers : Layers
        Catalogue layers of this map.
    focus : Focus
        Area shown.

    Returns
    -------
    ThemeParts
        Districts, rivers, the cross-border and failing sections, and the
        sections by class.
    """
    sections, year = layers.derived(
        "water.section_results", lambda: section_results(layers["sections"], layers["measurements"])
    )
    shown = focus.keep(sections)
    unmet = shown[shown["compliance"] == UNMET]
    cross = shown[shown["cross_border"].astype("boolean").fillna(False).to_numpy()]
    cross = cross.assign(border_label=cross["name"] + "（" + cross["direction"].fillna("跨界") + "）")
    return ThemeParts(
        THEMES["water"],
        [
            base_districts(focus.keep(layers["districts"])),
            *rivers_layer(focus.keep(layers["rivers"]), whole_city=focus.area is None),
            LayerSpec(
                "跨界断面", cross, "point", color=CROSS_BORDER_COLOR, edge_color=CROSS_BORDER_COLOR,
                radius=12.0, weight=3.0, fill_opacity=0.0, label_column="border_label",
                tooltip={"name": "断面", "direction": "跨界流向"},
            ),
            LayerSpec(
                "未达标断面", unmet, "point", color=ALERT_COLOR, edge_color=ALERT_COLOR,
                radius=9.0, weight=3.0, fill_opacity=0.0, tooltip={"name": "断面", "compliance": "是否达标"},
            ),
            LayerSpec(
                "断面水质类别", shown, "point", color_column="class_label", colors=CLASS_COLORS,
                radius=6.0, fill_opacity=0.95, tooltip={"name": "断面", "class_label": "水质类别"},
                popup=SECTION_POPUP,
            ),
        ],
        subtitle=_subtitle(year, "class_source" in sections) + ("；本图范围内无监测断面" if shown.empty else ""),
        sources=("sections", "measurements", "rivers"),
    )


def _subtitle(year: str | None, reported: bool) -> str:
    """The map's subtitle: the year assessed, and whether the classes come from a report without values."""
    marks = "红圈：未达到水质目标；紫圈：川渝跨界断面"
    if reported:
        return f"{year + '年' if year else '本期'}断面水质类别（报表类别，无监测值）；{marks}"
    return f"{year}年断面水质类别（GB 3838-2002）；{marks}" if year else "无监测数据"
