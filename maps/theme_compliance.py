"""Theme ``compliance``: districts by 达标 / 未达标 / 无数据 on one district-scope target of the plan."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import geopandas as gpd
import pandas as pd

from cqgis.analysis import compliance, rural_sewage
from cqgis.errors import did_you_mean
from cqgis.maps.errors import MapOptionError
from cqgis.maps.style import MISSING_COLOR, LayerSpec
from cqgis.maps.theme_base import ALERT_COLOR, GOOD_COLOR, Layers, ThemeParts
from cqgis.maps.theme_focus import Focus
from cqgis.maps.theme_names import THEMES

#: Target mapped when none is chosen.
DEFAULT_TARGET = "energy_intensity_gdp"
OPTIONS: Mapping[str, object] = MappingProxyType({"target": DEFAULT_TARGET})
STATUS_COLORS: Mapping[str, str] = MappingProxyType(
    {compliance.MET: GOOD_COLOR, compliance.UNMET: ALERT_COLOR, compliance.NO_DATA: MISSING_COLOR}
)
#: How each comparator of the ``targets`` layer reads in a subtitle.
COMPARATOR_TEXT: Mapping[str, str] = MappingProxyType({
    "≥": "不低于{value}{unit}",
    "≤": "不高于{value}{unit}",
    "=": "达到{value}{unit}",
    "下降": "比{baseline}年下降{value}{unit}",
    "左右": "{value}{unit}左右",
})


def district_target(targets: pd.DataFrame, target_id: str) -> pd.Series:
    """Return the ``targets`` row of ``target_id``, checking that it is assessed per district.

    Parameters
    ----------
    targets : pandas.DataFrame
        The ``targets`` layer.
    target_id : str
        Value of its ``id`` column.

    Returns
    -------
    pandas.Series
        The target's row.

    Raises
    ------
    MapOptionError
        Unknown id (close ids are listed) or a target not assessed per district.
    """
    local = targets.loc[targets["scope"] == "district", "id"].tolist()
    rows = targets[targets["id"] == target_id]
    if rows.empty:
        hint = did_you_mean(target_id, targets["id"].astype(str))
        msg = f"unknown target '{target_id}'; {f'{hint} ' if hint else ''}district targets: {', '.join(local)}"
        raise MapOptionError(msg)
    if target_id not in local:
        msg = (
            f"target '{target_id}' is set for the whole city ({rows['scope'].iloc[0]}), not per district, "
            f"so it cannot be mapped; district targets: {', '.join(local)}"
        )
        raise MapOptionError(msg)
    return rows.iloc[0]


def target_text(target: pd.Series) -> str:
    """Return the target's figure as a Chinese phrase (``比2020年下降14%（2025年）``).

    Parameters
    ----------
    target : pandas.Series
        A row of the ``targets`` layer.

    Returns
    -------
    str
        The comparator, value, unit and, where given, baseline and target
        year; an unknown comparator is written as it is.
    """
    template = COMPARATOR_TEXT.get(target["comparator"], "{comparator}{value}{unit}")
    phrase = template.format(
        value=f"{float(target['value']):g}", unit=target["unit"] if pd.notna(target["unit"]) else "",
        baseline=target["baseline_year"], comparator=target["comparator"],
    )
    return f"{phrase}（{target['period']}年）" if pd.notna(target["period"]) else phrase


def status_frame(results: pd.DataFrame, districts: gpd.GeoDataFrame, target_id: str) -> gpd.GeoDataFrame:
    """Return the districts with their status on one district-scope target and their short names.

    Parameters
    ----------
    results : pandas.DataFrame
        From :func:`cqgis.analysis.compliance.evaluate`.
    districts : geopandas.GeoDataFrame
        The ``districts`` layer.
    target_id : str
        The target mapped.

    Returns
    -------
    geopandas.GeoDataFrame
        :func:`cqgis.analysis.compliance.district_map` plus ``short_name``.
    """
    frame = compliance.district_map(results, districts, target_id)
    return frame.merge(districts[["adcode", "short_name"]], on="adcode", how="left")


def status_layer(frame: gpd.GeoDataFrame) -> LayerSpec:
    """Return the districts coloured 达标 / 未达标 / 无数据.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        From :func:`status_frame`.

    Returns
    -------
    LayerSpec
        The polygon layer.
    """
    return LayerSpec(
        "区县达标情况", frame, "polygon", color_column="status", colors=STATUS_COLORS,
        label_column="short_name", weight=0.8, fill_opacity=0.8,
        tooltip={"name": "区县", "status": "状态"},
        popup={
            "name": "区县", "indicator": "指标", "value": "实际值", "target": "目标值",
            "target_basis": "目标依据", "unit": "单位", "comparator": "比较方式", "gap": "差距",
            "status": "状态",
        },
    )


def build(layers: Layers, focus: Focus, target: str) -> ThemeParts:
    """Return the compliance layer of one district-scope target in the focused area.

    Parameters
    ----------
    layers : Layers
        Catalogue layers of this map.
    focus : Focus
        Area shown.
    target : str
        Target id of the ``targets`` layer, scope ``district``.

    Returns
    -------
    ThemeParts
        The districts by 达标 / 未达标 / 无数据 on ``target``.

    Raises
    ------
    MapOptionError
        Unknown target, or a target not assessed per district.
    """
    targets = layers["targets"]
    chosen = district_target(targets, target)
    values, _ = compliance.with_rural_sewage(layers["indicators"], layers["rural_sewage"], targets)
    results = compliance.evaluate(targets, values, layers["districts"])
    frame = status_frame(results, layers["districts"], target)
    return ThemeParts(
        f"{THEMES['compliance']}：{chosen['indicator']}",
        [
            status_layer(focus.keep(frame)),
        ],
        # The map has no district's own targets: every district is compared with the city-wide figure.
        subtitle=f"目标：{chosen['indicator']}{target_text(chosen)}（各区县{compliance.CITY_REFERENCE}）",
        sources=("targets", "indicators", *(("rural_sewage",) if target == rural_sewage.TARGET_ID else ())),
    )
