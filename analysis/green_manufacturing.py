"""Green factories and green parks on the published lists, counted by district against the plan's 2025 targets.

The plan (三(二)1) says 到2025年，建成绿色园区30个、绿色工厂300家: a city-wide
total, not split among the districts, and without saying national or
municipal. What is counted here is every unit on the lists the project
holds (``green_factories`` and the ``parks`` rows with a ``green_park``
level), of the levels and up to the list year asked for, each unit once
however many lists name it. The district of a unit is only as sure as its
``district_precision``: a unit whose district is not known is counted in the
row 未定位, never spread over the districts. The lists held are incomplete
(see ``layers/data/GREEN_LISTS.md``), so the counts are floors, and
:func:`reported_totals` gives the cumulative counts the city has published.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from cqgis.analysis import provenance
from cqgis.analysis.errors import AnalysisError
from cqgis.layers.places import CITY_ROW as CITY

FACTORY, PARK = "绿色工厂", "绿色园区"
#: Ids of the plan's two targets in the ``targets`` layer.
TARGET_IDS: Mapping[str, str] = MappingProxyType({FACTORY: "green_factories", PARK: "green_parks"})
LEVELS = ("国家级", "市级")
UNPLACED = "未定位"
#: Count columns of :func:`district_counts`, by kind.
COUNT_COLUMNS: Mapping[str, str] = MappingProxyType({FACTORY: "green_factories", PARK: "green_parks"})

REPORTED_TOTALS = Path(__file__).with_name("data") / "green_reported_totals.csv"

#: Chinese headers of the district table, for the workbook and the map.
COUNT_LABELS: Mapping[str, str] = MappingProxyType({
    "adcode": "区县代码", "district": "区县",
    "green_factories": "绿色工厂（家）", "green_factories_approximate": "其中区县为推断的工厂",
    "green_parks": "绿色园区（个）", "green_parks_approximate": "其中区县为推断的园区",
    "target_factories": "2025年目标：绿色工厂", "target_parks": "2025年目标：绿色园区",
    "share_factories": "名录中绿色工厂占目标（%）", "share_parks": "名录中绿色园区占目标（%）",
    "precision": "精度", "source": "来源",
})
UNIT_LABELS: Mapping[str, str] = MappingProxyType({
    "kind": "类别", "name": "名称", "level": "级别", "list_year": "入选年度", "batch": "批次",
    "adcode": "区县代码", "district": "区县", "district_precision": "区县精度",
    "precision": "精度", "source": "来源",
})


def units(
    factories: pd.DataFrame,
    parks: pd.DataFrame,
    levels: Sequence[str] = LEVELS,
    until: int | None = None,
) -> pd.DataFrame:
    """Return the listed green factories and parks counted, one row per unit.

    Parameters
    ----------
    factories : pandas.DataFrame
        The ``green_factories`` layer: ``name``, ``level``, ``list_year``,
        ``adcode``, ``district``, ``district_precision`` and optionally
        ``batch``, ``source``, ``precision``.
    parks : pandas.DataFrame
        The ``parks`` layer; only rows with a ``green_park`` level count.
        A park's district is that of its point; it is ``exact`` when the
        point is, else ``approximate`` (placed from a name or a report).
    levels : sequence of str
        List levels counted (国家级, 市级).
    until : int, optional
        Last list year counted; default: every year.

    Returns
    -------
    pandas.DataFrame
        ``kind`` (绿色工厂 / 绿色园区), ``name``, ``level``, ``list_year``,
        ``batch``, ``adcode``, ``district`` (未定位 when unknown),
        ``district_precision``, ``precision``, ``source``. A unit named on
        several lists appears once, with its first listing's year and
        district and every level it holds (国家级、市级).

    Raises
    ------
    AnalysisError
        When ``levels`` holds an unknown level.
    """
    unknown = sorted(set(levels) - set(LEVELS))
    if unknown:
        msg = f"unknown list level(s) {', '.join(unknown)}; levels: {', '.join(LEVELS)}"
        raise AnalysisError(msg)
    listed_parks = parks[parks["green_park"].notna()]
    # The park lists are official; how sure a park's district is depends on how its point was placed.
    park_district = np.where(listed_parks["precision"].eq("exact"), "exact", "approximate")
    park_rows = pd.DataFrame({
        "kind": PARK,
        "name": listed_parks["name"],
        "level": listed_parks["green_park"],
        "list_year": listed_parks["green_park_year"],
        "batch": pd.NA,
        "adcode": listed_parks["adcode"],
        "district": listed_parks["district"],
        "district_precision": park_district,
        "precision": park_district,
        "source": listed_parks["source"],
    })
    factory_rows = factories.assign(kind=FACTORY).reindex(columns=park_rows.columns)
    both = pd.concat([factory_rows, park_rows], ignore_index=True)
    kept = both["level"].isin(levels)
    if until is not None:
        kept &= both["list_year"].le(until).fillna(False)
    both = both[kept].sort_values(["list_year", "level"], kind="stable")
    placed = both["district"].notna()
    # A placed unit is only as sure as its district; an unplaced one keeps its listing's precision.
    inferred = placed & both["district_precision"].eq("approximate").fillna(False) & both["precision"].eq("exact")
    both = both.assign(
        district=both["district"].where(placed, UNPLACED),
        district_precision=both["district_precision"].where(placed, pd.NA),
        precision=both["precision"].where(~inferred, "approximate"),
    )
    # A factory on a national and a municipal list is one factory toward the target.
    key = both["kind"] + "|" + both["name"].str.strip()
    levels_held = both.groupby(key, sort=False)["level"].agg(lambda held: "、".join(dict.fromkeys(held)))
    first = ~key.duplicated()
    return both[first].assign(level=key[first].map(levels_held)).reset_index(drop=True)


def plan_targets(targets: pd.DataFrame) -> dict[str, float]:
    """Return the plan's 2025 targets for green factories and parks from the ``targets`` layer.

    Parameters
    ----------
    targets : pandas.DataFrame
        The ``targets`` layer (``id``, ``value``).

    Returns
    -------
    dict
        {绿色工厂: 300.0, 绿色园区: 30.0} as the table gives them.

    Raises
    ------
    AnalysisError
        When the table lacks either row.
    """
    values = targets.set_index("id")["value"]
    missing = [i for i in TARGET_IDS.values() if i not in values.index]
    if missing:
        msg = f"the targets table has no {', '.join(missing)} row"
        raise AnalysisError(msg)
    return {kind: float(values[i]) for kind, i in TARGET_IDS.items()}


def district_counts(listed: pd.DataFrame, districts: pd.DataFrame, targets: dict[str, float]) -> pd.DataFrame:
    """Count the listed units per district, the unplaced ones and the city, against the targets.

    Parameters
    ----------
    listed : pandas.DataFrame
        From :func:`units`.
    districts : pandas.DataFrame
        The ``districts`` layer (``adcode``, ``name``): every district gets
        a row, with zeros where nothing is listed.
    targets : dict
        From :func:`plan_targets`: {绿色工厂: 300, 绿色园区: 30}.

    Returns
    -------
    pandas.DataFrame
        One row per district (by adcode), then 未定位 and 全市:
        ``green_factories`` and ``green_parks`` with how many of them have
        an inferred (``approximate``) district, and on the city row only,
        the targets and the share of each the listed units make up
        (percent). ``precision`` and ``source`` summarise the listings of
        the row.
    """
    rows = pd.concat([
        districts[["adcode", "name"]].rename(columns={"name": "district"}),
        pd.DataFrame({"adcode": [pd.NA, pd.NA], "district": [UNPLACED, CITY]}),
    ], ignore_index=True).astype({"adcode": "string", "district": "string"})
    everything = pd.concat([listed, listed.assign(adcode=pd.NA, district=CITY)], ignore_index=True)
    table = rows.set_index("district")
    for kind, column in COUNT_COLUMNS.items():
        of_kind = everything[everything["kind"] == kind]
        table[column] = of_kind.groupby("district").size().reindex(table.index, fill_value=0)
        inferred = of_kind["district_precision"].eq("approximate").fillna(False)
        table[f"{column}_approximate"] = (
            of_kind[inferred.to_numpy()].groupby("district").size().reindex(table.index, fill_value=0)
        )
    city = table.index == CITY
    for kind, column in ((FACTORY, "factories"), (PARK, "parks")):
        target = targets[kind]
        table[f"target_{column}"] = np.where(city, target, np.nan)
        table[f"share_{column}"] = np.where(city, 100.0 * table[COUNT_COLUMNS[kind]] / target, np.nan)
    table = table.join(provenance.summarise(everything, "district"))
    # A district without listings has no provenance to weaken: what it shows is a zero.
    table["precision"] = table["precision"].fillna("exact")
    table["source"] = table["source"].fillna("")
    return table.reset_index()[list(COUNT_LABELS)]


def reported_totals(path: Path = REPORTED_TOTALS) -> pd.DataFrame:
    """Return the counts of green factories and parks the city and the ministry have published.

    Parameters
    ----------
    path : Path
        The table; default: ``analysis/data/green_reported_totals.csv``.

    Returns
    -------
    pandas.DataFrame
        ``kind``, ``level``, ``scope`` (``cumulative`` or ``batch``),
        ``period`` (as the source words it), ``as_of`` (date, YYYY-MM-DD),
        ``count``, ``source``, ``precision``, ``notes``.
    """
    return pd.read_csv(path, dtype={"count": "Int64", "as_of": str})


def notes(
    listed: pd.DataFrame, levels: Sequence[str], until: int | None, targets: dict[str, float], reported: pd.DataFrame
) -> list[str]:
    """Return the lines saying what the counts are, against what and how sure.

    Parameters
    ----------
    listed : pandas.DataFrame
        From :func:`units`.
    levels, until
        As given to :func:`units`.
    targets : dict
        From :func:`plan_targets`.
    reported : pandas.DataFrame
        From :func:`reported_totals`; its latest cumulative counts are quoted.

    Returns
    -------
    list of str
        Chinese sentences for the workbook's notes sheet.
    """
    per_year = listed.groupby(["kind", "level", "list_year"]).size()
    held = [
        f"{kind}（{level}）：" + "，".join(f"{int(year)}年度{count}" for year, count in by_year.droplevel([0, 1]).items())
        for (kind, level), by_year in per_year.groupby(level=[0, 1])
    ]
    missing = [level for level in levels if not listed["level"].str.contains(level).any()]
    unplaced = int(listed["district"].eq(UNPLACED).sum())
    cumulative = reported[reported["scope"] == "cumulative"]
    latest = cumulative[cumulative["as_of"] == cumulative["as_of"].max()]
    published = "、".join(f"{r.kind}（{r.level}）{r.count}" for r in latest.itertuples())
    return [
        f"目标：《重庆市“十四五”节能减排综合工作实施方案》三(二)1“到2025年，建成绿色园区{targets[PARK]:g}个、"
        f"绿色工厂{targets[FACTORY]:g}家”，为全市合计，未分解到区县；原文未限定级别，"
        "人民日报（2023-04-11）报道作“市级及以上”。",
        f"计数对象：所收名录中的{'、'.join(levels)}绿色工厂和绿色园区"
        + (f"，入选年度截至{until}年" if until is not None else "")
        + "；同一单位多次入选只计一次。各年度收录数：" + "；".join(held) + "。",
        *([f"未收录任何{'、'.join(missing)}名单的单位名称。"] if missing else []),
        f"区县：名单只写“重庆”。文件载明区县的为 exact，由名称推断的为 approximate；"
        f"无法确定区县的{unplaced}个单位计入“{UNPLACED}”，不分摊到各区县。",
        "名录不完整时计数只是下限，不能据此判断目标是否完成；目标完成情况应看“公布数”表中公布的累计数"
        + (f"（最新：{latest['period'].iloc[0]}，{published}）" if len(latest) else "")
        + "。",
        "动态管理：工信部和市经济信息委会把单位移出名单；此处统计的是入选，未核对是否仍在名单内。",
    ]
