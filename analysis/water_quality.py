"""Surface-water quality by section and period: GB 3838-2002 class, target compliance, exceedances and rates.

Rules
-----
The class follows GB 3838-2002 Table 1 (:mod:`cqgis.layers.gb3838`) and
the national assessment rules, 《地表水环境质量评价办法（试行）》
(环办〔2011〕22号):

* Concentrations are averaged over the period (month, quarter or year)
  first; the period mean of each item is classed, never the single samples.
* The class of an item is the best class whose limit the mean meets
  (``C <= S`` for upper bounds; ``C >= S`` for dissolved oxygen, a lower
  bound); a mean beyond the class Ⅴ limit is 劣Ⅴ. pH meets every class
  within 6-9 and is 劣Ⅴ outside it.
* The section's class is its worst item over the 21 items of Table 1 the
  rules use: all but 水温, 总氮 and 粪大肠菌群. Lakes and reservoirs use the
  lake TP limits. Total nitrogen of a lake or reservoir is a reference item
  assessed on its own (its class is reported in ``reference_classes``); pass
  ``lake_tn_in_class=True`` to let it count, as some provincial schemes do.
  Total nitrogen of a river is not assessed.
* A section meets its target when its class is no worse than the target.
* Exceeding items (``exceedances``) are those worse than class Ⅲ, each with
  its exceedance multiple ``(C - S) / S``, ``S`` the class Ⅲ limit (the
  rules' formula, whatever the section's target); water temperature, pH and
  dissolved oxygen get no multiple (the rules exclude them).
* Main pollutants are named only for a section worse than Ⅲ: up to three
  exceeding items, the worst item class first and, within a class, the
  largest multiple first (items without a multiple after those with one); cyanide
  and the heavy metals (:data:`ALWAYS_MAIN`) are named too whenever they
  exceed, even beyond three.
* Separately, ``target_exceedances`` lists the items worse than the
  section's target with the multiple against the target-class limit
  (对目标超标倍数): cqgis's own aid for target follow-up, not part of the
  rules.

Values
------
``0.01L`` and ``<0.01`` are below the detection limit 0.01 and count as half
of it (0.005). ``ND`` / ``未检出`` take the limit from the table's
``detection_limit`` column when there is one; without a limit the value is
known to be undetected but not how low it is, so it does not enter the
mean: an item with only such values in a period is left out of the class
and listed in ``undetected_items``. A blank (also ``-``, ``--``, ``/``,
``—``) is "not measured" and ``*`` "withheld": neither ever counts as zero.
Tables are read by :mod:`cqgis.analysis.monitoring` (:func:`tidy` is
re-exported here); :func:`classify` sums the samples of each section and
month first, so a year of 4-hourly data costs about as much as monthly data.

Rates
-----
:func:`compliance_rates` counts section-periods (a section assessed in 12
months counts 12 times in a monthly assessment).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cqgis.analysis import provenance
from cqgis.analysis.errors import AnalysisError
from cqgis.analysis.monitoring import ParsedValue, parse_value, read_table, section_table, tidy
from cqgis.layers.gb3838 import (
    CLASS_NAMES,
    STATUS,
    WORSE_THAN_V,
    item_classes,
    limits,
    standard,
)

__all__ = [
    "ParsedValue", "classify", "compliance_rates", "parse_value", "period_labels", "read_table", "section_table",
    "tidy",
]

PERIODS = ("month", "quarter", "year")

#: Class whose limit exceedances and their multiples are measured against (环办〔2011〕22号): Ⅲ.
EXCEEDANCE_CLASS = 2

#: Items whose exceedance multiple the rules do not compute: water temperature, pH, dissolved oxygen.
NO_MULTIPLE = ("wt", "ph", "do")

#: How many main pollutants are named (before :data:`ALWAYS_MAIN`).
MAIN_POLLUTANTS = 3

#: Items the rules name as main pollutants whenever they exceed: cyanide and
#: the heavy metals of Table 1 (copper, zinc, arsenic, mercury, cadmium,
#: chromium (VI), lead; arsenic is counted with them as in China's
#: heavy-metal programmes; selenium, a non-metal, is not).
ALWAYS_MAIN = ("cn", "cu", "zn", "as", "hg", "cd", "cr6", "pb")

#: Decimals the period means keep, so float noise cannot push a mean over a limit.
MEAN_DECIMALS = 10

#: Chinese headers of the result and rate columns, for reports.
HEADERS_ZH = {
    "section_code": "断面编码", "section_name": "断面名称", "river": "河流", "adcode": "区县代码",
    "district": "区县", "level": "级别", "cross_border": "是否跨界", "direction": "跨界流向",
    "waterbody": "水体类型", "basin": "流域", "period": "评价时段", "year": "年份", "class": "水质类别",
    "status": "水质状况", "target_class": "水质目标", "meets_target": "是否达标",
    "exceedances": "超Ⅲ类项目（超标倍数）", "main_pollutants": "主要污染指标（超标倍数）",
    "target_exceedances": "超目标项目（对目标超标倍数）", "items_assessed": "评价项目数",
    "undetected_items": "未检出且无检出限的项目", "reference_classes": "参考指标（单独评价）",
    "assessed": "评价断面次数", "with_target": "有目标断面次数", "meeting": "达标断面次数",
    "compliance_rate": "达标率（%）", "good_rate": "Ⅰ～Ⅲ类比例（%）", "worse_than_v_rate": "劣Ⅴ类比例（%）",
    "source": "来源", "precision": "精度",
}
EMPTY_LABEL = "（空）"


def period_labels(months: pd.Series, period: str) -> pd.Series:
    """Label ``YYYY-MM`` months by ``period``: ``2024-03``, ``2024-Q1`` or ``2024``."""
    if period not in PERIODS:
        msg = f"unknown period '{period}': expected one of {', '.join(PERIODS)}"
        raise AnalysisError(msg)
    text = months.astype(str)
    # Each distinct month is parsed once: a long table repeats a few dozen months.
    distinct = text.unique()
    index = pd.PeriodIndex(distinct, freq="M")
    if period == "month":
        labels = index.strftime("%Y-%m")
    elif period == "quarter":
        labels = index.asfreq("Q").strftime("%Y-Q%q")
    else:
        labels = index.strftime("%Y")
    return text.map(dict(zip(distinct, labels))).set_axis(months.index)


def _attach_sections(tidy_frame: pd.DataFrame, sections: pd.DataFrame) -> pd.DataFrame:
    """Join section attributes by code where the measurements have one, else by name."""
    by_code = tidy_frame["section_code"].notna().any()
    key, left, other = ("code", "section_code", "section_name") if by_code else ("name", "section_name", "section_code")
    attributes = sections.dropna(subset=[key]).drop_duplicates(key).rename(
        columns={"code": "section_code", "name": "section_name", "source": "section_source",
                 "precision": "section_precision"}
    )
    joined = tidy_frame.drop(columns=[other]).merge(attributes, on=left, how="left")
    joined["waterbody"] = joined["waterbody"].fillna("river")
    return joined


def classify(
    tidy_frame: pd.DataFrame,
    sections: pd.DataFrame | None = None,
    period: str = "year",
    lake_tn_in_class: bool = False,
) -> pd.DataFrame:
    """Class, target compliance, exceedances and main pollutants per section and period.

    Parameters
    ----------
    tidy_frame : pandas.DataFrame
        Output of :func:`tidy`.
    sections : pandas.DataFrame, optional
        The ``sections`` layer or a user table (see :func:`section_table`);
        matched on ``section_code`` when the measurements have codes, else
        on the section name. Unmatched sections are classed as rivers
        without a target.
    period : {"month", "quarter", "year"}
        Averaging period.
    lake_tn_in_class : bool
        Count total nitrogen in the class of lakes and reservoirs.

    Returns
    -------
    pandas.DataFrame
        One row per section and period: section attributes, ``period``,
        ``year``, ``class`` (Ⅰ..劣Ⅴ, empty when no item could be classed),
        ``status``, ``target_class``, ``meets_target`` (empty without a
        target), ``exceedances`` (items worse than Ⅲ with their multiples,
        ``总磷(0.25)、...``), ``main_pollutants`` (empty unless the section
        is worse than Ⅲ), ``target_exceedances`` (items worse than the
        target, multiples against the target class; empty without a
        target), ``items_assessed``, ``undetected_items``,
        ``reference_classes``, one ``mean_<item>`` column per item, and
        ``precision`` / ``source`` (the weakest and all of measurements and
        section).
    """
    frame = _attach_sections(_monthly(tidy_frame), section_table(sections))
    frame["period"] = period_labels(frame["month"], period)
    keys = ["section_code", "section_name", "period"]
    # Group keys cannot be missing; an unmatched code or name is restored to empty below.
    frame[keys] = frame[keys].astype("string").fillna("")
    means = _classed_items(_item_means(frame, keys), lake_tn_in_class)
    results = _section_rows(frame, means, keys)
    results[keys] = results[keys].replace("", pd.NA)
    return results.sort_values(["section_code", "section_name", "period"], ignore_index=True)


#: Columns of the tidy rows that :func:`_monthly` keeps apart.
MONTHLY_KEYS = ["section_code", "section_name", "month", "item", "source", "precision"]


def _monthly(tidy_frame: pd.DataFrame) -> pd.DataFrame:
    """Sum the samples of each section, month, item and provenance, so a year of hourly data costs as little as monthly data.

    ``total`` and ``samples`` add up to the period mean as the samples
    would; ``unknown`` marks an undetected value without a limit. The groups
    are found on integer codes of the key columns (categorical in
    :func:`tidy`), not on their text.
    """
    key = np.zeros(len(tidy_frame), dtype=np.int64)
    labels = []
    for column in MONTHLY_KEYS:
        values = tidy_frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes, uniques = values.cat.codes.to_numpy(), values.cat.categories
        else:
            codes, uniques = pd.factorize(values, use_na_sentinel=True)
        # Code 0 is a missing value.
        key *= len(uniques) + 1
        key += codes.astype(np.int64) + 1
        labels.append(np.append(np.array([pd.NA], dtype=object), np.asarray(uniques, dtype=object)))
    group, keys = pd.factorize(key)
    concentration = tidy_frame["concentration"].to_numpy(float)
    measured = ~np.isnan(concentration)
    unknown = tidy_frame["below_detection"].to_numpy(bool) & ~measured
    monthly = {}
    for column, names in zip(reversed(MONTHLY_KEYS), reversed(labels)):
        keys, codes = np.divmod(keys, len(names))
        monthly[column] = pd.array(names[codes], dtype="string")
    monthly = pd.DataFrame({column: monthly[column] for column in MONTHLY_KEYS})
    monthly["total"] = np.bincount(group, weights=np.where(measured, concentration, 0.0), minlength=len(monthly))
    monthly["samples"] = np.bincount(group, weights=measured, minlength=len(monthly)).astype(int)
    monthly["unknown"] = np.bincount(group, weights=unknown, minlength=len(monthly)) > 0
    return monthly


def _item_means(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    grouped = frame.groupby([*keys, "item"], sort=True)
    sums = grouped[["total", "samples"]].sum()
    mean = sums["total"] / sums["samples"].where(sums["samples"] > 0)
    means = mean.round(MEAN_DECIMALS).rename("mean").reset_index()
    means["waterbody"] = grouped["waterbody"].first().to_numpy()
    return means


def _classed_items(means: pd.DataFrame, lake_tn_in_class: bool) -> pd.DataFrame:
    """Add each item mean's class, whether it counts, and its reference-limit lookups."""
    parts = []
    for body, group in means.groupby("waterbody", sort=False):
        table = limits(body, lake_tn_in_class)
        group = group[group["item"].isin(table.index)].copy()
        codes = group["item"].to_numpy(str)
        group["item_class"] = item_classes(codes, group["mean"].to_numpy(float), table)
        group["used"] = table.loc[codes, "used"].to_numpy(bool)
        group["name_zh"] = table.loc[codes, "name_zh"].to_numpy(str)
        group[["I", "II", "III", "IV", "V"]] = table.loc[codes, ["I", "II", "III", "IV", "V"]].to_numpy(float)
        parts.append(group)
    return pd.concat(parts, ignore_index=True)


def _section_rows(frame: pd.DataFrame, means: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    first = frame.groupby(keys, sort=True).first()
    attributes = [c for c in ("river", "adcode", "district", "level", "cross_border", "direction",
                              "waterbody", "basin", "target_class") if c in first]
    rows = first[attributes].copy()
    rows["year"] = rows.index.get_level_values("period").str[:4].astype(int)
    used = means[means["used"] & (means["item_class"] >= 0)]
    worst = used.groupby(keys)["item_class"].max()
    rows["class_index"] = worst.reindex(rows.index).fillna(-1).astype(int)
    rows["class"] = _names(rows["class_index"], CLASS_NAMES)
    rows["status"] = _names(rows["class_index"], STATUS)
    target = rows["target_class"].map({name: i for i, name in enumerate(CLASS_NAMES)})
    rows["meets_target"] = pd.Series(rows["class_index"] <= target, dtype="boolean").where(
        target.notna() & (rows["class_index"] >= 0)
    )
    national = pd.Series(EXCEEDANCE_CLASS, index=rows.index)
    rows = rows.join(_exceedances(used, national, keys, main=True))
    rows = rows.join(_exceedances(used, target.dropna().astype(int), keys).rename(
        columns={"exceedances": "target_exceedances"}
    ))
    labels = ["exceedances", "main_pollutants", "target_exceedances"]
    rows[labels] = rows[labels].fillna("")
    rows["items_assessed"] = used.groupby(keys).size().reindex(rows.index).fillna(0).astype(int)
    rows["undetected_items"] = _undetected(frame, means, keys).reindex(rows.index).fillna("")
    rows["reference_classes"] = _references(means, keys).reindex(rows.index).fillna("")
    order = standard()["code"].drop_duplicates()
    mean_columns = means.pivot(index=keys, columns="item", values="mean")
    mean_columns = mean_columns[order[order.isin(mean_columns.columns)]]
    rows = rows.join(mean_columns.add_prefix("mean_"))
    rows = rows.join(_provenance(frame, keys))
    return rows.drop(columns="class_index").reset_index()


def _names(index: pd.Series, names: tuple[str, ...]) -> pd.Series:
    lookup = np.array(["", *names], dtype=object)
    return pd.Series(lookup[index.to_numpy(int) + 1], index=index.index, dtype="string").replace("", pd.NA)


def _exceedances(used: pd.DataFrame, reference: pd.Series, keys: list[str], main: bool = False) -> pd.DataFrame:
    """Items worse than each section-period's ``reference`` class, with multiples against its limit.

    Returns ``exceedances`` (worst class first, then the largest multiple)
    and, with ``main``, the ``main_pollutants`` the rules name from them.
    Section-periods without a reference class are left out.
    """
    ref = reference.reindex(pd.MultiIndex.from_frame(used[keys])).to_numpy(float)
    over = used.assign(ref=ref)[used["item_class"].to_numpy() > ref].copy()
    if over.empty:
        index = pd.MultiIndex.from_frame(used[keys].iloc[:0])
        return pd.DataFrame(index=index, columns=["exceedances", "main_pollutants"] if main else ["exceedances"])
    limit = over[["I", "II", "III", "IV", "V"]].to_numpy(float)[np.arange(len(over)), over["ref"].to_numpy(int)]
    multiple = (over["mean"].to_numpy(float) - limit) / limit
    over["multiple"] = np.where(over["item"].isin(NO_MULTIPLE), np.nan, multiple)
    over["label"] = over["name_zh"].where(
        over["multiple"].isna(), over["name_zh"] + over["multiple"].map("({:.2f})".format).astype("string")
    )
    ordered = over.sort_values([*keys, "item_class", "multiple"], ascending=[True] * len(keys) + [False, False],
                               na_position="last")
    grouped = ordered.groupby(keys, sort=False)
    out = pd.DataFrame({"exceedances": grouped["label"].agg("、".join)})
    if main:
        # Every exceeding item makes the section worse than Ⅲ, so every group here gets main pollutants.
        rank = grouped.cumcount().to_numpy()
        named = ordered[(rank < MAIN_POLLUTANTS) | ordered["item"].isin(ALWAYS_MAIN).to_numpy()]
        out["main_pollutants"] = named.groupby(keys, sort=False)["label"].agg("、".join)
    return out


def _undetected(frame: pd.DataFrame, means: pd.DataFrame, keys: list[str]) -> pd.Series:
    unknown = frame[frame["unknown"]]
    names = standard().drop_duplicates("code").set_index("code")["name_zh"]
    classed = means.loc[means["item_class"] >= 0, [*keys, "item"]]
    pending = unknown[[*keys, "item"]].drop_duplicates().merge(classed, how="left", indicator=True)
    only = pending[pending["_merge"] == "left_only"]
    return only.assign(name=only["item"].map(names)).groupby(keys)["name"].agg("、".join)


def _references(means: pd.DataFrame, keys: list[str]) -> pd.Series:
    reference = means[~means["used"] & (means["item_class"] >= 0)]
    labels = reference["name_zh"] + ":" + _names(reference["item_class"], CLASS_NAMES)
    return labels.groupby([reference[k] for k in keys]).agg("；".join)


def _provenance(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    both = pd.concat(
        [
            frame[keys].assign(source=frame["source"], precision=frame["precision"].fillna("approximate")),
            frame[keys].assign(source=frame["section_source"], precision=frame["section_precision"]).dropna(
                subset=["precision"]
            ),
        ],
        ignore_index=True,
    )
    return provenance.summarise(both, keys)


def compliance_rates(results: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """Share of section-periods meeting their target, good (Ⅰ-Ⅲ) and worse than Ⅴ, per group.

    Parameters
    ----------
    results : pandas.DataFrame
        Output of :func:`classify`.
    by : str or list of str
        Grouping columns, e.g. ``"district"``, ``"direction"``, ``"year"``,
        ``"basin"``, ``["year", "direction"]``; an empty group value is
        labelled :data:`EMPTY_LABEL`.

    Returns
    -------
    pandas.DataFrame
        The group columns, ``assessed`` (section-periods with a class),
        ``with_target``, ``meeting``, ``compliance_rate``, ``good_rate``,
        ``worse_than_v_rate`` (percent; compliance empty without targets),
        ``precision``, ``source``.

    Raises
    ------
    AnalysisError
        When a grouping column is missing.
    """
    columns = [by] if isinstance(by, str) else list(by)
    missing = [c for c in columns if c not in results]
    if missing:
        msg = f"cannot group water-quality results by {', '.join(missing)}: no such column"
        raise AnalysisError(msg)
    assessed = results[results["class"].notna()].copy()
    for column in columns:
        if column != "year":
            assessed[column] = assessed[column].astype("string").fillna(EMPTY_LABEL)
    meets = assessed["meets_target"].astype("boolean")
    flags = assessed[columns].assign(
        with_target=meets.notna(),
        meeting=meets.fillna(False).astype(bool),
        good=assessed["class"].isin(CLASS_NAMES[:3]),
        worst=assessed["class"].eq(CLASS_NAMES[WORSE_THAN_V]),
    )
    grouped = flags.groupby(columns, sort=True)
    rates = pd.DataFrame({"assessed": grouped.size()})
    rates["with_target"] = grouped["with_target"].sum()
    rates["meeting"] = grouped["meeting"].sum()
    rates["compliance_rate"] = (100.0 * rates["meeting"] / rates["with_target"].replace(0, np.nan)).round(1)
    rates["good_rate"] = (100.0 * grouped["good"].sum() / rates["assessed"]).round(1)
    rates["worse_than_v_rate"] = (100.0 * grouped["worst"].sum() / rates["assessed"]).round(1)
    rates = rates.join(provenance.summarise(assessed, columns))
    return rates.reset_index()
