"""Plan compliance: each target of the plan against achieved values, city-wide and per district.

Rules, by the target's comparator (see ``layers/data/TARGETS_README.md``):

``≥`` and ``=``
    达标 when the value reaches the figure (``=`` is the plan's bare
    达到X: reaching X or more meets it).
``≤``
    达标 when the value stays at or below the figure.
``下降``
    the value is the achieved reduction in the target's unit; 达标 when it
    is at least the planned reduction.
``左右``
    达标 when the value is within :data:`ABOUT_TOLERANCE` (relative) of the
    figure, the plan's "about".

A unit with no value is 无数据, never a failure. ``gap`` is value minus
figure in the target's unit (for ``左右`` the same, signed), so a negative
gap on a ``≥`` target is the shortfall.

Which figure a district is judged against: the plan sets city-wide figures
and has districts set their own (四(一)1). A district row uses the
district's own target when a district-targets table gives one
(``target_basis`` 区县目标), else the city-wide figure, labelled
参照全市目标: a reference, not the district's assessment.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from cqgis.analysis import provenance, rural_sewage
from cqgis.analysis.errors import AnalysisError
from cqgis.geo import io
from cqgis.layers import places
from cqgis.layers.places import CITY_ROW as CITY

MET, UNMET, NO_DATA = "达标", "未达标", "无数据"
STATUSES = (MET, UNMET, NO_DATA)

#: What each row's target figure is (``target_basis``).
CITY_TARGET, CITY_REFERENCE, OWN_TARGET = "全市目标", "参照全市目标", "区县目标"

#: Relative tolerance of a 左右 ("about") target. The plan does not say how
#: near "about" is; ±5 % is cqgis's convention, stated in every report.
ABOUT_TOLERANCE = 0.05

#: Chinese headers of the results, for reports.
LABELS = {
    "target_id": "目标编号",
    "indicator": "指标",
    "section": "方案条目",
    "scope": "范围",
    "adcode": "区划代码",
    "district": "区县",
    "comparator": "比较方式",
    "target": "目标值",
    "target_basis": "目标依据",
    "unit": "单位",
    "value": "实际值",
    "gap": "差距",
    "status": "状态",
    "precision": "精度",
    "source": "来源",
}


def resolve_targets(indicators: pd.DataFrame, targets: pd.DataFrame) -> pd.Series:
    """Return the target id of each indicator row, from its ``target_id`` or its ``indicator`` wording.

    Raises
    ------
    AnalysisError
        When a row names no known target; the message gives the row (from 1).
    """
    ids = indicators.get("target_id", pd.Series(pd.NA, index=indicators.index)).astype("string")
    by_name = pd.Series(targets["id"].to_numpy(), index=targets["indicator"].to_numpy())
    by_name = by_name[~by_name.index.duplicated(keep=False)]
    words = indicators.get("indicator", pd.Series(pd.NA, index=indicators.index)).astype("string").str.strip()
    # A 指标 column holding target ids is as good as a 目标编号 column.
    as_id = words.where(words.isin(targets["id"]))
    ids = ids.fillna(as_id).fillna(words.map(by_name).astype("string"))
    unknown = ~ids.isin(targets["id"]).to_numpy()
    if unknown.any():
        row = int(np.flatnonzero(unknown)[0])
        given = indicators.iloc[row].get("target_id")
        given = given if isinstance(given, str) else indicators.iloc[row].get("indicator")
        msg = (
            f"indicators row {io.row_numbers(indicators)[row]}: '{given}' is neither a target id nor the wording of a "
            f"target (see `cqgis layers show targets`); {int(unknown.sum())} such rows"
        )
        raise AnalysisError(msg)
    return ids


def resolve_districts(indicators: pd.DataFrame, districts: pd.DataFrame) -> pd.Series:
    """Return the adcode of each indicator row (empty for city-wide rows), from adcode or name.

    Raises
    ------
    cqgis.layers.errors.UnknownPlaceError
        When a row's district name is unknown (and it gives no adcode).
    AnalysisError
        When an adcode is unknown.
    """
    adcode = indicators.get("adcode", pd.Series(pd.NA, index=indicators.index)).astype("string")
    district = indicators.get("district", pd.Series(pd.NA, index=indicators.index)).astype("string").str.strip()
    city = places.is_city(district) | (adcode.isna() & district.isna())
    rows = [f"indicators row {n}" for n in io.row_numbers(indicators)]
    # A row's adcode, when given, says which district it is; its name is then only a label.
    named = adcode.isna() & ~city
    full = places.canonical(district[named], places.lookup(districts, "district"), "district", np.asarray(rows)[named.to_numpy()])
    adcode = adcode.fillna(full.map(districts.set_index("name")["adcode"]).astype("string"))
    unknown = (~city & ~adcode.isin(districts["adcode"])).to_numpy()
    if unknown.any():
        row = int(np.flatnonzero(unknown)[0])
        msg = f"{rows[row]}: unknown district adcode '{adcode.iloc[row]}'"
        raise AnalysisError(msg)
    return adcode.where(~city, pd.NA)


def with_rural_sewage(
    values: pd.DataFrame, settlements: pd.DataFrame, targets: pd.DataFrame
) -> tuple[pd.DataFrame, str | None]:
    """Add the rural sewage treatment rates computed from the settlements, unless the values give them.

    A synthetic survey (the embedded example) is never mixed into a user's
    own indicator values: the target then stays 无数据.

    Parameters
    ----------
    values : pandas.DataFrame
        Indicator values (the ``indicators`` layer or a user's table).
    settlements : pandas.DataFrame
        The ``rural_sewage`` layer (or the user's survey).
    targets : pandas.DataFrame
        The ``targets`` layer.

    Returns
    -------
    (pandas.DataFrame, str or None)
        The values, with the rates added when allowed, and a note saying
        what the added rates count, or that they were left out.
    """
    if resolve_targets(values, targets).eq(rural_sewage.TARGET_ID).any():
        return values, None
    rates = rural_sewage.treatment_rates(settlements, rural_sewage.plan_target(targets))
    # Values without a stated precision are a user's own, never the synthetic example.
    stated = values["precision"] if "precision" in values else pd.Series(pd.NA, index=values.index, dtype="string")
    values_synthetic = len(values) > 0 and bool(stated.astype("string").eq("synthetic").fillna(False).all())
    if values_synthetic or not rates["precision"].eq("synthetic").any():
        note = f"农村生活污水治理率: computed from the rural_sewage layer, counting {rates['counted'].iloc[0]}"
        return pd.concat([values, rural_sewage.as_indicators(rates)], ignore_index=True), note
    return values, "农村生活污水治理率: 无数据 (no survey given; the synthetic example is not mixed with your indicators)"


def status(comparator: pd.Series, target: pd.Series, value: pd.Series) -> pd.Series:
    """Return 达标 / 未达标 / 无数据 for each value against its target (rules in the module docstring)."""
    comparator = comparator.to_numpy(dtype=object)
    target = target.to_numpy(dtype=float)
    value = pd.to_numeric(value, errors="coerce").to_numpy(dtype=float)
    met = np.select(
        [comparator == "≤", comparator == "左右"],
        [value <= target, np.abs(value - target) <= ABOUT_TOLERANCE * np.abs(target)],
        default=value >= target,
    )
    return pd.Series(np.where(np.isnan(value), NO_DATA, np.where(met, MET, UNMET)), dtype="string")


def own_targets(district_targets: pd.DataFrame, targets: pd.DataFrame, districts: pd.DataFrame) -> pd.DataFrame:
    """Resolve a table of districts' own targets to one row per district-scope target and district.

    Parameters
    ----------
    district_targets : pandas.DataFrame
        The user's table (:mod:`cqgis.layers.district_targets`).
    targets, districts : pandas.DataFrame
        The ``targets`` and ``districts`` layers.

    Returns
    -------
    pandas.DataFrame
        ``target_id``, ``adcode``, ``value`` (the district's figure),
        ``precision``, ``source``.

    Raises
    ------
    AnalysisError
        A row naming an unknown target or district, the whole city, a
        target the plan does not assess per district, or a target and
        district given twice; the message gives the row.
    """
    rows = io.row_numbers(district_targets)
    own = district_targets.assign(
        target_id=resolve_targets(district_targets, targets),
        adcode=resolve_districts(district_targets, districts),
    )
    scope = own["target_id"].map(targets.set_index("id")["scope"])
    problems = [
        (own["adcode"].isna(), "names no district (a district's own target needs one)"),
        (scope.ne("district"), "is not a target the plan assesses per district"),
        (own.duplicated(["target_id", "adcode"], keep=False), "gives the same target and district twice"),
        (pd.to_numeric(own["value"], errors="coerce").isna(), "has no target figure"),
    ]
    for bad, what in problems:
        if bad.any():
            first = int(np.flatnonzero(bad.to_numpy())[0])
            msg = f"district targets row {rows[first]}: '{own['target_id'].iloc[first]}' {what}"
            raise AnalysisError(msg)
    own = own.assign(value=pd.to_numeric(own["value"]), adcode=own["adcode"].astype("string"))
    return own.reindex(columns=["target_id", "adcode", "value", "precision", "source"])


def evaluate(
    targets: pd.DataFrame,
    indicators: pd.DataFrame,
    districts: pd.DataFrame,
    district_targets: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Evaluate every target city-wide and, for district-scope targets, in every district.

    Parameters
    ----------
    targets : pandas.DataFrame
        The ``targets`` layer.
    indicators : pandas.DataFrame
        Achieved values: ``target_id`` or ``indicator``; ``adcode`` or
        ``district`` (empty or 全市 for the whole city); ``value``;
        optionally ``year``, ``precision``, ``source``. With several years
        for one unit, the latest counts.
    districts : pandas.DataFrame
        The ``districts`` layer (adcode, name, short_name).
    district_targets : pandas.DataFrame, optional
        Districts' own targets (:func:`own_targets`); they replace the
        city-wide figure for those districts.

    Returns
    -------
    pandas.DataFrame
        One row per target and unit (全市 first, then districts by adcode):
        the columns of :data:`LABELS`; ``target_basis`` says whether the
        figure is the city's (全市目标), the city's used for a district
        (参照全市目标) or the district's own (区县目标). Units without a
        value are 无数据.
    """
    values = indicators.assign(
        target_id=resolve_targets(indicators, targets),
        adcode=resolve_districts(indicators, districts),
    )
    repeated = values.duplicated(["target_id", "adcode", *(["year"] if "year" in values else [])], keep=False)
    if repeated.any():
        rows = ", ".join(str(r) for r in io.row_numbers(indicators)[repeated.to_numpy()][:10])
        msg = f"indicators rows {rows}: the same target, district and year more than once; keep one value each"
        raise AnalysisError(msg)
    if "year" in values:
        values = values.sort_values("year", kind="stable")
    values = values.drop_duplicates(["target_id", "adcode"], keep="last")
    # Nothing says a value without a stated precision is exact.
    stated = values["precision"] if "precision" in values else pd.Series(pd.NA, index=values.index)
    values = values.assign(precision=stated.fillna("approximate"))

    city = targets.assign(adcode=pd.NA, district=CITY)
    local_targets = targets[targets["scope"] == "district"]
    ordered = districts.sort_values("adcode")
    local = local_targets.loc[local_targets.index.repeat(len(ordered))].assign(
        adcode=np.tile(ordered["adcode"].to_numpy(), len(local_targets)),
        district=np.tile(ordered["name"].to_numpy(), len(local_targets)),
    )
    units = pd.concat([city.assign(target_basis=CITY_TARGET), local.assign(target_basis=CITY_REFERENCE)], ignore_index=True)
    units["adcode"] = units["adcode"].astype("string")
    if district_targets is not None:
        units = _with_own_targets(units, own_targets(district_targets, targets, districts))
    values["adcode"] = values["adcode"].astype("string")
    keep = ["target_id", "adcode", "value"] + [c for c in ("precision", "source") if c in values]
    merged = units.rename(columns={"id": "target_id", "value": "target", "precision": "_p", "source": "_s"}).merge(
        values[keep], on=["target_id", "adcode"], how="left"
    )
    merged["value"] = pd.to_numeric(merged["value"], errors="coerce")
    merged["gap"] = merged["value"] - merged["target"]
    merged["status"] = status(merged["comparator"], merged["target"], merged["value"]).to_numpy()
    # A result is as precise as the weaker of the target and the value; rows without a value keep the target's.
    missing = pd.Series(pd.NA, index=merged.index)
    given = merged["value"].notna()
    pairs = zip(merged["_p"], merged.get("precision", missing), merged["_s"], merged.get("source", missing), given)
    merged["precision"], merged["source"] = zip(
        *[
            (provenance.weakest([p1, p2] if has else [p1]), provenance.join_sources([s1, s2]))
            for p1, p2, s1, s2, has in pairs
        ]
    )
    return merged[list(LABELS)].reset_index(drop=True)


def _with_own_targets(units: pd.DataFrame, own: pd.DataFrame) -> pd.DataFrame:
    """Put districts' own figures, with their provenance beside the plan's, in place of the city-wide ones."""
    key = ["id", "adcode"]
    found = units.merge(own.rename(columns={"target_id": "id"}), on=key, how="left", suffixes=("", "_own"))
    has = found["value_own"].notna().to_numpy()
    units = units.copy()
    units.loc[has, "value"] = found.loc[has, "value_own"].to_numpy()
    units.loc[has, "target_basis"] = OWN_TARGET
    units.loc[has, "precision"] = [
        provenance.weakest([p, q]) for p, q in zip(found.loc[has, "precision"], found.loc[has, "precision_own"])
    ]
    units.loc[has, "source"] = [
        provenance.join_sources([q, p]) for p, q in zip(found.loc[has, "source"], found.loc[has, "source_own"])
    ]
    return units


def summary(results: pd.DataFrame) -> pd.DataFrame:
    """Count 达标 / 未达标 / 无数据 per target, over the districts for district-scope targets."""
    counted = results[(results["scope"] != "district") | results["adcode"].notna()]
    table = counted.pivot_table(
        index=["target_id", "indicator"], columns="status", values="scope", aggfunc="size", fill_value=0
    )
    return table.reindex(columns=list(STATUSES), fill_value=0).reset_index()


def notes(results: pd.DataFrame) -> list[str]:
    """Return the reading rules of a compliance report, in Chinese, for its notes sheet.

    Parameters
    ----------
    results : pandas.DataFrame
        Output of :func:`evaluate`.

    Returns
    -------
    list of str
        One line per rule, and a warning when any value is synthetic.
    """
    lines = [
        "评估依据：《重庆市“十四五”节能减排综合工作实施方案》各项量化目标（见 targets 图层）。",
        "“≥”与“达到X”：实际值不低于目标值为达标；“≤”：不高于目标值为达标；“下降X%”：实际降幅不低于X为达标。",
        f"“X左右”：规划未规定幅度，本工具约定实际值在目标值±{ABOUT_TOLERANCE:.0%}以内为达标。",
        "无实际值的区县或指标记为“无数据”，不计为未达标；差距 = 实际值 − 目标值（单位同目标）。",
        "区县的目标由各区县确定（规划四(一)1）：未提供区县目标表时，区县行按全市目标比较，"
        "“目标依据”标为“参照全市目标”，仅供参考，不是该区县的考核结论；提供区县目标表时标为“区县目标”。",
    ]
    if results["target_id"].eq(rural_sewage.TARGET_ID).any():
        lines.append(f"农村生活污水治理率：{rural_sewage.PLAN_BASIS}。")
    if (results["precision"] == "synthetic").any():
        lines.append("注意：含示例数据（合成），非真实统计数据，不得作为考核依据。")
    return lines


def district_map(results: pd.DataFrame, districts: gpd.GeoDataFrame, target_id: str) -> gpd.GeoDataFrame:
    """Return the districts with the status of one district-scope target, for a compliance map.

    Raises
    ------
    AnalysisError
        When ``target_id`` is unknown or not assessed per district.
    """
    chosen = results[(results["target_id"] == target_id) & results["adcode"].notna()]
    if chosen.empty:
        local = sorted(results.loc[results["adcode"].notna(), "target_id"].unique())
        msg = f"target '{target_id}' is not assessed per district; district targets: {', '.join(local)}"
        raise AnalysisError(msg)
    merged = districts[["adcode", "name", "geometry"]].merge(
        chosen.drop(columns="district"), on="adcode", how="left"
    )
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=districts.crs)
