"""Rural sewage treatment rates by district against the plan's target, and the priority untreated settlements.

The plan (三(五)3) sets 农村生活污水治理率 at 40 % by 2025 and gives priority
to 农村集聚点 with at least 200 households or 500 residents. Rates here are:

``rate_count``
    treated settlements / all settlements;
``rate_households``, ``rate_residents``
    the same weighted by households or residents, over the settlements
    where that number is known (empty where none is).

A district meets the target when its count rate does, the plan's measure
being per settlement; the weighted rates are reported beside it.

What is counted matters: the plan's rate is over administrative villages
(行政村, :data:`PLAN_BASIS`); the embedded example counts town and township
seats (镇/乡 from GeoNames), a user's survey whatever its rows are. Every
rates table says which in its ``counted`` column (:func:`counted_units`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cqgis.analysis import provenance
from cqgis.analysis.errors import AnalysisError, ParameterError
from cqgis.layers.places import CITY_ROW as CITY

#: The plan's priority class of rural settlements.
PRIORITY_HOUSEHOLDS = 200
PRIORITY_RESIDENTS = 500

REQUIRED = ("adcode", "district", "has_sewage_treatment")

#: What the plan's 农村生活污水治理率 counts.
PLAN_BASIS = "规划口径：完成生活污水治理的行政村占行政村总数的比例（三(五)3）"
#: What the embedded example counts.
EXAMPLE_UNITS = "镇、乡驻地（GeoNames，示例数据），不是行政村"
#: What a user's survey counts.
SURVEY_UNITS = "调查表所列集聚点（每行计一个）"


def counted_units(settlements: pd.DataFrame) -> str:
    """Say what a treatment rate over ``settlements`` counts: the example's town seats or a survey's rows.

    Parameters
    ----------
    settlements : pandas.DataFrame
        The ``rural_sewage`` layer or a user's survey.

    Returns
    -------
    str
        :data:`EXAMPLE_UNITS` when every row is synthetic (the embedded
        example), else :data:`SURVEY_UNITS`.
    """
    precision = settlements["precision"] if "precision" in settlements else pd.Series(pd.NA, index=settlements.index)
    synthetic = len(settlements) > 0 and bool(precision.astype("string").eq("synthetic").fillna(False).all())
    return EXAMPLE_UNITS if synthetic else SURVEY_UNITS


def _check(settlements: pd.DataFrame) -> None:
    missing = [c for c in REQUIRED if c not in settlements.columns]
    if missing:
        msg = f"settlements lack the column(s) {', '.join(missing)} needed for rural sewage rates"
        raise AnalysisError(msg)


def _weighted(treated: pd.Series, weight: pd.Series, groups: pd.Series) -> pd.Series:
    known = weight.notna()
    w = weight.where(known, 0).astype(float)
    total = w.groupby(groups).sum()
    done = (w * treated).groupby(groups).sum()
    counted = known.groupby(groups).any()
    return (100.0 * done / total.replace(0, np.nan)).where(counted)


def treatment_rates(settlements: pd.DataFrame, target_pct: float) -> pd.DataFrame:
    """Per district and for the whole city, the treatment rate against ``target_pct``.

    Parameters
    ----------
    settlements : pandas.DataFrame
        One row per settlement: ``adcode``, ``district``,
        ``has_sewage_treatment`` (bool) and optionally ``households``,
        ``residents``, ``precision``, ``source``.
    target_pct : float
        The target rate in percent (the plan's 40).

    Returns
    -------
    pandas.DataFrame
        One row per district (by adcode) and a last row ``全市``: settlements,
        treated, rate_count, rate_households, rate_residents (percent),
        target, gap (rate_count - target, percentage points), meets_target,
        priority_untreated (count), counted (what a settlement is, see
        :func:`counted_units`), precision, source.

    Raises
    ------
    ParameterError
        A target that is not a percentage (0 to 100).
    AnalysisError
        Settlements without the columns needed, or none in Chongqing.
    """
    if not 0 <= target_pct <= 100:
        msg = f"the target rate (--target) must be a percentage from 0 to 100, not {target_pct:g}"
        raise ParameterError(msg)
    _check(settlements)
    # Settlements outside every district (in Sichuan) are not Chongqing's to count.
    settlements = settlements[settlements["adcode"].notna()]
    if settlements.empty:
        msg = "the settlements table has no rows: nothing to compute a treatment rate from"
        raise AnalysisError(msg)
    frame = settlements.assign(
        treated=settlements["has_sewage_treatment"].astype(bool),
        priority=priority_mask(settlements),
    )
    city = frame.assign(adcode="", district=CITY)
    both = pd.concat([frame, city], ignore_index=True)
    key = both["adcode"].astype(str) + "|" + both["district"].astype(str)
    grouped = both.groupby(key, sort=False)

    rates = pd.DataFrame(
        {
            "adcode": grouped["adcode"].first(),
            "district": grouped["district"].first(),
            "settlements": grouped.size(),
            "treated": grouped["treated"].sum(),
        }
    )
    rates["rate_count"] = 100.0 * rates["treated"] / rates["settlements"]
    for column in ("households", "residents"):
        rates[f"rate_{column}"] = (
            _weighted(both["treated"], both[column], key) if column in both else np.nan
        )
    rates["target"] = float(target_pct)
    rates["gap"] = rates["rate_count"] - rates["target"]
    rates["meets_target"] = rates["gap"] >= 0
    rates["priority_untreated"] = (both["priority"] & ~both["treated"]).groupby(key).sum()
    rates["counted"] = counted_units(settlements)
    rates = rates.join(provenance.summarise(both.assign(_key=key), "_key"))
    # Districts by adcode, the city total last.
    order = np.lexsort((rates["adcode"].to_numpy(dtype=str), rates["district"].eq(CITY).to_numpy()))
    return rates.iloc[order].reset_index(drop=True)


def outside_chongqing(settlements: pd.DataFrame) -> pd.DataFrame:
    """Return the settlements that lie in no Chongqing district; the rates leave them out.

    Parameters
    ----------
    settlements : pandas.DataFrame
        Settlements with ``adcode`` (empty outside Chongqing).

    Returns
    -------
    pandas.DataFrame
        The rows without a district.
    """
    return settlements[settlements["adcode"].isna()]


def priority_mask(settlements: pd.DataFrame) -> pd.Series:
    """True for settlements in the plan's priority class (>= 200 households or >= 500 residents)."""
    mask = pd.Series(False, index=settlements.index)
    if "households" in settlements:
        mask |= pd.to_numeric(settlements["households"], errors="coerce").ge(PRIORITY_HOUSEHOLDS)
    if "residents" in settlements:
        mask |= pd.to_numeric(settlements["residents"], errors="coerce").ge(PRIORITY_RESIDENTS)
    return mask


def priority_untreated(settlements: pd.DataFrame) -> pd.DataFrame:
    """The untreated settlements of the priority class, largest first."""
    _check(settlements)
    settlements = settlements[settlements["adcode"].notna()]
    treated = settlements["has_sewage_treatment"].astype(bool)
    chosen = settlements[priority_mask(settlements) & ~treated]
    size = [c for c in ("households", "residents") if c in chosen]
    return chosen.sort_values(["adcode", *size], ascending=[True] + [False] * len(size))


#: Chinese headers of the rates table, for reports.
RATE_LABELS = {
    "adcode": "区划代码",
    "district": "区县",
    "settlements": "集聚点数",
    "treated": "已治理数",
    "rate_count": "治理率(%)",
    "rate_households": "按户数加权治理率(%)",
    "rate_residents": "按人口加权治理率(%)",
    "target": "目标(%)",
    "gap": "差距(百分点)",
    "meets_target": "是否达标",
    "priority_untreated": "重点未治理集聚点数",
    "counted": "统计对象",
    "precision": "精度",
    "source": "来源",
}


#: Chinese headers of the settlement tables, for reports.
SETTLEMENT_LABELS = {
    "geonameid": "GeoNames编号",
    "name": "集聚点",
    "adcode": "区划代码",
    "district": "区县",
    "households": "户数",
    "residents": "常住人口",
    "has_sewage_treatment": "是否治理",
    "facility_type": "治理方式",
    "precision": "精度",
    "source": "来源",
}


def plan_target(targets: pd.DataFrame) -> float:
    """Return the plan's rural sewage treatment target (percent) from the ``targets`` layer.

    Raises
    ------
    AnalysisError
        When the table has no 农村生活污水治理率 row.
    """
    rows = targets[targets["indicator"].astype(str).str.contains("农村生活污水治理率")]
    if rows.empty:
        msg = "the targets table has no 农村生活污水治理率 row"
        raise AnalysisError(msg)
    return float(rows["value"].iloc[0])


#: Id of the plan's rural sewage target in the ``targets`` layer.
TARGET_ID = "rural_sewage_treatment_rate"


def as_indicators(rates: pd.DataFrame) -> pd.DataFrame:
    """Return the treatment rates as rows of an indicator table, for the compliance analysis."""
    city = rates["district"].eq(CITY)
    return pd.DataFrame(
        {
            "target_id": TARGET_ID,
            "adcode": rates["adcode"].where(~city, pd.NA),
            "district": rates["district"],
            "value": rates["rate_count"],
            "precision": rates["precision"],
            "source": rates["source"],
        }
    )
