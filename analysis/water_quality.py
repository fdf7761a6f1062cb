"""Surface-water quality by section and period: GB 3838-2002 class, target compliance, exceedances and rates.

Rules
-----
The class follows GB 3838-2002 Table 1 (``analysis/data/gb3838.csv``) and
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
* Exceeding items are those whose class is worse than the reference class:
  the target, or Ⅲ (the rules' choice) when the section has no target. The
  exceedance multiple is ``(C - S) / S`` against the reference-class limit;
  it is not computed for pH and dissolved oxygen (the rules exclude them).
* Main pollutants are up to three exceeding items, worst item class first
  and, within a class, the largest multiple first (the rules' order).

Values
------
``0.01L`` and ``<0.01`` are below the detection limit 0.01 and count as half
of it (0.005). ``ND`` / ``未检出`` take the limit from the table's
``detection_limit`` column when there is one; without a limit the value is
known to be undetected but not how low it is, so it does not enter the
mean: an item with only such values in a period is left out of the class
and listed in ``undetected_items``. A blank (also ``-``, ``/``, ``—``) is
"not measured" and never counts as zero.

Rates
-----
:func:`compliance_rates` counts section-periods (a section assessed in 12
months counts 12 times in a monthly assessment).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from cqgis.analysis import provenance
from cqgis.analysis.errors import AnalysisError
from cqgis.geo import io

GB3838_PATH = Path(__file__).with_name("data") / "gb3838.csv"

CLASS_NAMES = ("Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ", "劣Ⅴ")
WORSE_THAN_V = len(CLASS_NAMES) - 1
STATUS = ("优", "优", "良", "轻度污染", "中度污染", "重度污染")
PERIODS = ("month", "quarter", "year")

#: Class used as reference for exceedances when a section has no target (环办〔2011〕22号).
DEFAULT_REFERENCE = 2

#: Items whose exceedance multiple the rules do not compute.
NO_MULTIPLE = ("ph", "do")

#: How many main pollutants are named.
MAIN_POLLUTANTS = 3

#: Decimals the period means keep, so float noise cannot push a mean over a limit.
MEAN_DECIMALS = 10

#: Cell texts meaning "not measured".
BLANKS = ("", "-", "--", "—", "——", "/", "／", "nan", "none", "null")

#: Cell texts meaning "not detected" without a limit (upper-cased).
NOT_DETECTED = ("ND", "N.D.", "N.D", "未检出", "未检")

_LIMIT_SUFFIX = re.compile(r"^([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*[lL]$")
_LIMIT_PREFIX = re.compile(r"^[<＜]\s*=?\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)$")
_MONTH = re.compile(r"^\s*(\d{4})\s*[-/.年]?\s*(\d{1,2})(?!\d)")
_PARENS = str.maketrans({"（": "(", "）": ")", "　": " "})

#: Extra header spellings of items (normalised: lower case, no spaces, '-', '_' or '·').
ITEM_ALIASES = {
    "ph": "ph", "ph值": "ph", "溶解氧": "do", "do": "do", "高锰酸盐指数": "codmn", "codmn": "codmn",
    "化学需氧量": "cod", "cod": "cod", "codcr": "cod", "五日生化需氧量": "bod5", "bod5": "bod5", "bod": "bod5",
    "氨氮": "nh3n", "nh3n": "nh3n", "nh4n": "nh3n", "总磷": "tp", "tp": "tp", "总氮": "tn", "tn": "tn",
    "铜": "cu", "cu": "cu", "锌": "zn", "zn": "zn", "氟化物": "f", "f": "f", "硒": "se", "se": "se",
    "砷": "as", "as": "as", "汞": "hg", "hg": "hg", "镉": "cd", "cd": "cd", "铬(六价)": "cr6",
    "六价铬": "cr6", "cr6": "cr6", "cr6+": "cr6", "铅": "pb", "pb": "pb", "氰化物": "cn", "cn": "cn",
    "挥发酚": "phenol", "phenol": "phenol", "石油类": "oil", "oil": "oil", "阴离子表面活性剂": "las",
    "las": "las", "硫化物": "s2", "s2": "s2", "粪大肠菌群": "fcoli", "fcoli": "fcoli", "水温": "wt", "wt": "wt",
}

#: Identifier columns of a measurement table (normalised header -> role).
ID_ALIASES = {
    "section_code": "section_code", "code": "section_code", "断面编码": "section_code", "断面代码": "section_code",
    "section_name": "section_name", "section": "section_name", "name": "section_name", "断面名称": "section_name",
    "断面": "section_name", "month": "month", "date": "month", "监测月份": "month", "月份": "month",
    "监测时间": "month", "监测日期": "month", "采样时间": "month", "采样日期": "month", "时间": "month", "日期": "month",
    "item": "item", "监测项目": "item", "项目": "item", "指标": "item", "value": "value", "监测值": "value",
    "浓度": "value", "数值": "value", "结果": "value", "below_detection": "below_detection",
    "detection_limit": "detection_limit", "检出限": "detection_limit", "source": "source", "来源": "source",
    "数据来源": "source", "precision": "precision", "精度": "precision",
}

#: Sections columns (normalised header -> name) a sections table may use.
SECTION_ALIASES = {
    "code": "code", "section_code": "code", "断面编码": "code", "断面代码": "code", "name": "name",
    "section_name": "name", "断面名称": "name", "断面": "name", "river": "river", "河流": "river",
    "所在河流": "river", "adcode": "adcode", "district": "district", "区县": "district", "所在区县": "district",
    "level": "level", "级别": "level", "断面级别": "level", "cross_border": "cross_border", "跨界": "cross_border",
    "是否跨界": "cross_border", "direction": "direction", "流向": "direction", "跨界流向": "direction",
    "target_class": "target_class", "水质目标": "target_class", "目标水质": "target_class", "目标类别": "target_class",
    "考核目标": "target_class", "waterbody": "waterbody", "水体类型": "waterbody", "basin": "basin",
    "流域": "basin", "source": "source", "来源": "source", "precision": "precision", "精度": "precision",
}
SECTION_COLUMNS = (
    "code", "name", "river", "adcode", "district", "level", "cross_border", "direction", "target_class", "waterbody",
)
LAKE_WORDS = ("lake", "reservoir", "lake-reservoir", "湖库", "湖泊", "水库", "湖", "库")

#: Chinese headers of the result and rate columns, for reports.
HEADERS_ZH = {
    "section_code": "断面编码", "section_name": "断面名称", "river": "河流", "adcode": "区县代码",
    "district": "区县", "level": "级别", "cross_border": "是否跨界", "direction": "跨界流向",
    "waterbody": "水体类型", "basin": "流域", "period": "评价时段", "year": "年份", "class": "水质类别",
    "status": "水质状况", "target_class": "水质目标", "meets_target": "是否达标", "reference_class": "超标参照类别",
    "exceedances": "超标项目（超标倍数）", "main_pollutants": "主要污染指标", "items_assessed": "评价项目数",
    "undetected_items": "未检出且无检出限的项目", "reference_classes": "参考指标（单独评价）",
    "assessed": "评价断面次数", "with_target": "有目标断面次数", "meeting": "达标断面次数",
    "compliance_rate": "达标率（%）", "good_rate": "Ⅰ～Ⅲ类比例（%）", "worse_than_v_rate": "劣Ⅴ类比例（%）",
    "source": "来源", "precision": "精度",
}
EMPTY_LABEL = "（空）"


class ParsedValue(NamedTuple):
    """One cell of a monitoring sheet, read.

    ``value`` is the measured number (NaN when below detection or not
    measured); ``below_detection`` says the item was not detected;
    ``detection_limit`` is the limit of an undetected value (NaN if unknown).
    """

    value: float
    below_detection: bool
    detection_limit: float


def _normalise(header: object) -> str:
    text = str(header).translate(_PARENS).strip().lower()
    return re.sub(r"[\s\-_·]", "", text)


def _header_key(header: object, aliases: dict[str, str]) -> str | None:
    lookup = {_normalise(name): key for name, key in aliases.items()}
    text = _normalise(header)
    # "氨氮(mg/L)" names 氨氮; "铬(六价)" must keep its bracket to be found.
    return lookup.get(text) or lookup.get(re.sub(r"\(.*?\)", "", text))


def parse_value(raw: object, detection_limit: float | None = None) -> ParsedValue:
    """Read one monitoring-sheet cell.

    Parameters
    ----------
    raw : object
        A number, or text such as ``"0.52"``, ``"0.01L"``, ``"<0.01"``,
        ``"ND"``, ``"未检出"``; blank, ``-``, ``/`` mean not measured.
    detection_limit : float, optional
        Limit for ``ND`` / ``未检出`` (a limit written in the cell wins).

    Returns
    -------
    ParsedValue

    Raises
    ------
    AnalysisError
        When the text is none of these, or the number is negative.
    """
    limit = float(detection_limit) if detection_limit is not None and pd.notna(detection_limit) else np.nan
    if raw is None or (isinstance(raw, float) and np.isnan(raw)) or raw is pd.NA:
        return ParsedValue(np.nan, False, np.nan)
    if isinstance(raw, (int, float, np.integer, np.floating)) and not isinstance(raw, bool):
        return _checked(float(raw), raw)
    text = str(raw).strip()
    if text.lower() in BLANKS:
        return ParsedValue(np.nan, False, np.nan)
    if text.upper() in NOT_DETECTED:
        return ParsedValue(np.nan, True, limit)
    found = _LIMIT_SUFFIX.match(text) or _LIMIT_PREFIX.match(text)
    if found:
        return ParsedValue(np.nan, True, float(found.group(1)))
    try:
        number = float(text)
    except ValueError:
        msg = f"cannot read '{text}' as a value: expected a number, '0.01L', '<0.01', 'ND', '未检出' or a blank"
        raise AnalysisError(msg) from None
    return _checked(number, raw)


def _checked(number: float, raw: object) -> ParsedValue:
    if not np.isfinite(number) or number < 0:
        msg = f"'{raw}' is not a concentration: values must be finite and not negative"
        raise AnalysisError(msg)
    return ParsedValue(number, False, np.nan)


def standard() -> pd.DataFrame:
    """GB 3838-2002 Table 1 as a frame: one row per item and water-body kind.

    Returns
    -------
    pandas.DataFrame
        ``code``, ``name_zh``, ``unit``, ``bound`` (upper / lower / range),
        ``I`` .. ``V`` (float; the upper limit for pH), ``low`` (6 for pH),
        ``applies_to``, ``used_for_class_rivers``, ``used_for_class_lakes``,
        ``source``.
    """
    table = pd.read_csv(GB3838_PATH, dtype=str)
    ranged = table["bound"].eq("range")
    table["low"] = pd.to_numeric(table["I"].where(ranged).str.split("-").str[0])
    for column in ("I", "II", "III", "IV", "V"):
        table[column] = pd.to_numeric(table[column].where(~ranged, table[column].str.split("-").str[1]))
    for column in ("used_for_class_rivers", "used_for_class_lakes"):
        table[column] = table[column].str.lower().eq("true")
    return table


def limits(waterbody: str, lake_tn_in_class: bool = False) -> pd.DataFrame:
    """The Table 1 limits a ``river`` or ``lake-reservoir`` is classed with, indexed by item code.

    Adds a column ``used``: whether the item counts towards the class.
    """
    table = standard()
    lake = waterbody == "lake-reservoir"
    rows = table[table["applies_to"].isin(["both", "lake" if lake else "river"])]
    used = rows["used_for_class_lakes" if lake else "used_for_class_rivers"].copy()
    if lake and lake_tn_in_class:
        used |= rows["code"].eq("tn")
    return rows.assign(used=used).set_index("code")


def item_classes(codes: np.ndarray, means: np.ndarray, table: pd.DataFrame) -> np.ndarray:
    """Class index (0 = Ⅰ .. 5 = 劣Ⅴ) of each item mean against ``table`` (from :func:`limits`).

    NaN means give -1.
    """
    rows = table.loc[codes]
    bounds = rows[["I", "II", "III", "IV", "V"]].to_numpy(float)
    c = means[:, None]
    upper = np.sum(c > bounds, axis=1)
    lower = np.sum(c < bounds, axis=1)
    inside = (means >= rows["low"].to_numpy(float)) & (means <= bounds[:, 0])
    ranged = np.where(inside, 0, WORSE_THAN_V)
    bound = rows["bound"].to_numpy(str)
    found = np.select([bound == "upper", bound == "lower"], [upper, lower], ranged)
    return np.where(np.isnan(means), -1, found)


def read_table(path: str | os.PathLike, sheet: str | None = None, header_row: int | None = None) -> pd.DataFrame:
    """Read a user's table (CSV/TXT, XLSX, Parquet, or any vector file) with cells as given.

    CSV cells stay text so ``0.01L`` and leading zeros survive; a vector
    file's geometry is dropped. CSV and Excel rows keep their spreadsheet
    numbers (see :func:`cqgis.geo.io.read_rows`), which error messages give.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    sheet : str, optional
        Worksheet of an Excel file, or layer of a vector file.
    header_row : int, optional
        Header row of a CSV/Excel table, from 1; default: found below any title rows.

    Returns
    -------
    pandas.DataFrame
        The table.

    Raises
    ------
    cqgis.geo.errors.ReadError
        Missing, empty or unreadable file.
    """
    fmt = io.FORMATS.get(Path(path).suffix.lower())
    if fmt is not None and fmt.is_table:
        return io.read_rows(path, sheet=sheet, text=True, header_row=header_row)
    if Path(path).suffix.lower() == ".parquet" and Path(path).is_file():
        table = pd.read_parquet(path)
        if "geometry" not in table.columns:
            return table
    frame = io.read(path, layer=sheet)
    return pd.DataFrame(frame.drop(columns=frame.geometry.name))


def _roles(frame: pd.DataFrame) -> dict[str, str]:
    roles: dict[str, str] = {}
    for column in frame.columns:
        role = _header_key(column, ID_ALIASES)
        if role and role not in roles:
            roles[role] = column
    return roles


def _months(values: pd.Series, rows: pd.Series, column: str) -> pd.Series:
    text = values.astype("string").fillna("")
    parts = text.str.extract(_MONTH)
    month = pd.to_numeric(parts[1], errors="coerce")
    bad = parts[0].isna() | ~month.between(1, 12)
    if bad.any():
        first = np.flatnonzero(bad.to_numpy())[0]
        msg = (
            f"row {rows.iloc[first]}, column '{column}': cannot read '{text.iloc[first]}' as a month; "
            "expected e.g. 2024-03, 2024/3/15 or 2024年3月"
        )
        raise AnalysisError(msg)
    return parts[0] + "-" + month.astype(int).map("{:02d}".format)


def _long(frame: pd.DataFrame, roles: dict[str, str]) -> pd.DataFrame:
    """Long rows (row, section ids, month, item header, raw cell, limit) from a long or wide table."""
    keys = [roles[r] for r in ("section_code", "section_name", "month") if r in roles]
    extra = {roles[r]: r for r in ("detection_limit", "below_detection", "source", "precision") if r in roles}
    if "item" in roles and "value" in roles:
        long = frame[[*keys, "_row", *extra, roles["item"], roles["value"]]].rename(
            columns={roles["item"]: "_item", roles["value"]: "_raw"}
        )
    else:
        items = [c for c in frame.columns if c not in roles.values() and _header_key(c, ITEM_ALIASES)]
        if not items:
            msg = (
                "no water-quality items found: name columns after GB 3838 Table 1 (溶解氧, 高锰酸盐指数, 氨氮, 总磷 ...) "
                "or by code (do, codmn, nh3n, tp ...), or give a long table with item and value columns"
            )
            raise AnalysisError(msg)
        long = frame.melt(id_vars=[*keys, "_row", *extra], value_vars=items, var_name="_item", value_name="_raw")
    renamed = {roles[r]: r for r in ("section_code", "section_name", "month") if r in roles}
    return long.rename(columns={**renamed, **extra})


def tidy(measurements: pd.DataFrame) -> pd.DataFrame:
    """Turn a long or wide monitoring table into one clean row per section, month and item.

    Parameters
    ----------
    measurements : pandas.DataFrame
        Either the ``measurements`` layer's long form (``section_code``,
        ``month``, ``item``, ``value`` and optionally ``below_detection``,
        ``detection_limit``), or a wide sheet: a section column (断面编码 /
        断面名称 / section_code / section_name), a month column (监测时间 /
        月份 / month ...) and one column per item, named as in GB 3838
        Table 1 (溶解氧, 氨氮, 总磷, 铬(六价) ..., a unit in brackets is
        ignored) or by code (:data:`ITEM_ALIASES`). Rows are numbered as in
        a spreadsheet (header = row 1) in error messages.

    Returns
    -------
    pandas.DataFrame
        ``section_code``, ``section_name`` (one may be empty), ``month``
        (``YYYY-MM``), ``item`` (code), ``value``, ``below_detection``,
        ``detection_limit``, ``concentration`` (the value, half the limit
        when below detection, NaN when not usable), ``source``,
        ``precision``. Unmeasured cells and items outside Table 1 (水温)
        are dropped.

    Raises
    ------
    AnalysisError
        No section or month column, no item, an unknown item name in a long
        table, or an unreadable cell (named by row and column).
    """
    if measurements.empty:
        msg = "the measurements table has no rows"
        raise AnalysisError(msg)
    frame = measurements.reset_index(drop=True).assign(_row=io.row_numbers(measurements))
    roles = _roles(frame)
    # The CLI credits a user's file in a source column of its own; the user did not write it.
    read = ", ".join(str(column) for column in measurements.columns if column != "source")
    if "section_code" not in roles and "section_name" not in roles:
        msg = f"no section column: expected 断面编码 / section_code or 断面名称 / section_name; headers read: {read}"
        raise AnalysisError(msg)
    if "month" not in roles:
        msg = f"no month column: expected 监测时间 / 月份 / month; headers read: {read}"
        raise AnalysisError(msg)
    long = _long(frame, roles)
    long["item"] = _items(long)
    long = long[long["item"].isin(standard()["code"])]
    parsed = _parse_cells(long)
    clean = pd.concat([long.drop(columns=["_raw", "detection_limit", "below_detection"], errors="ignore"), parsed], axis=1)
    clean = clean[clean["value"].notna() | clean["below_detection"]]
    clean["month"] = _months(clean["month"], clean["_row"], roles["month"])
    clean["concentration"] = clean["value"].where(~clean["below_detection"], clean["detection_limit"] / 2)
    columns = ["section_code", "section_name", "month", "item", "value", "below_detection", "detection_limit",
               "concentration", "source", "precision"]
    for column in ("section_code", "section_name", "source", "precision"):
        if column not in clean:
            clean[column] = pd.NA
        clean[column] = clean[column].astype("string").str.strip().replace("", pd.NA)
    return clean[columns].reset_index(drop=True)


def _items(long: pd.DataFrame) -> pd.Series:
    headers = long["_item"].astype(str)
    codes = headers.map({h: _header_key(h, ITEM_ALIASES) for h in headers.unique()})
    unknown = codes.isna()
    if unknown.any():
        first = long[unknown].iloc[0]
        msg = f"row {first['_row']}: unknown item '{first['_item']}'; use GB 3838 Table 1 names (溶解氧, 氨氮 ...) or codes (do, nh3n ...)"
        raise AnalysisError(msg)
    return codes


def _parse_cells(long: pd.DataFrame) -> pd.DataFrame:
    """Parse every raw cell; the given limit and below-detection flag of long tables apply."""
    given_limit = pd.to_numeric(long.get("detection_limit", pd.Series(np.nan, index=long.index)), errors="coerce")
    flagged = long.get("below_detection", pd.Series(False, index=long.index))
    flagged = flagged.astype("string").str.strip().str.lower().isin(["true", "1", "是", "yes"])
    cells = pd.DataFrame({"raw": long["_raw"].astype("string").fillna(""), "limit": given_limit})
    # Sheets repeat few distinct cells, so each distinct (cell, limit) pair is parsed once.
    distinct = cells.drop_duplicates()
    parsed = {}
    for index, raw, limit in zip(distinct.index, distinct["raw"], distinct["limit"]):
        try:
            parsed[index] = parse_value(_number_or_text(long.at[index, "_raw"], raw), limit)
        except AnalysisError as exc:
            msg = f"row {long.at[index, '_row']}, column '{long.at[index, '_item']}': {exc}"
            raise AnalysisError(msg) from None
    table = pd.DataFrame.from_dict(parsed, orient="index", columns=list(ParsedValue._fields))
    first = cells.reset_index().merge(distinct.reset_index(), on=["raw", "limit"], how="left", suffixes=("", "_first"))
    table = table.loc[first["index_first"].to_numpy()].set_axis(long.index)
    # The layer writes an undetected value as an empty value with the flag and the limit.
    flag_only = flagged & table["value"].isna()
    table.loc[flag_only, "below_detection"] = True
    table.loc[flag_only, "detection_limit"] = given_limit[flag_only]
    table["below_detection"] = table["below_detection"].astype(bool)
    return table


def _number_or_text(cell: object, text: str) -> object:
    return cell if isinstance(cell, (int, float, np.integer, np.floating)) else text


def period_labels(months: pd.Series, period: str) -> pd.Series:
    """Label ``YYYY-MM`` months by ``period``: ``2024-03``, ``2024-Q1`` or ``2024``."""
    if period not in PERIODS:
        msg = f"unknown period '{period}': expected one of {', '.join(PERIODS)}"
        raise AnalysisError(msg)
    index = pd.PeriodIndex(months.astype(str), freq="M")
    if period == "month":
        labels = index.strftime("%Y-%m")
    elif period == "quarter":
        labels = index.asfreq("Q").strftime("%Y-Q%q")
    else:
        labels = index.strftime("%Y")
    return pd.Series(labels, index=months.index)


def section_table(sections: pd.DataFrame | None) -> pd.DataFrame:
    """Normalise a sections table (layer or user file) to :data:`SECTION_COLUMNS` plus optional ``basin``.

    Headers may be the layer's names or their Chinese aliases; the water
    body defaults to ``river``; 湖库 / 湖泊 / 水库 mean ``lake-reservoir``.

    Raises
    ------
    AnalysisError
        No code or name column, or a target class that is not Ⅰ..Ⅴ.
    """
    if sections is None:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in (*SECTION_COLUMNS, "source", "precision")})
    frame = pd.DataFrame(sections).drop(columns="geometry", errors="ignore")
    renamed = {}
    for column in frame.columns:
        key = _header_key(column, SECTION_ALIASES)
        if key and key not in renamed.values():
            renamed[column] = key
    read = ", ".join(str(column) for column in frame.columns)
    frame = frame[list(renamed)].rename(columns=renamed)
    if "code" not in frame and "name" not in frame:
        msg = f"the sections table has no code (断面编码) or name (断面名称) column; headers read: {read}"
        raise AnalysisError(msg)
    for column in (*SECTION_COLUMNS, "source", "precision"):
        if column not in frame:
            frame[column] = pd.NA
    for column in frame.columns.drop("cross_border"):
        frame[column] = frame[column].astype("string").str.strip().replace("", pd.NA)
    frame["target_class"] = _target_classes(frame["target_class"], io.row_numbers(sections))
    body = frame["waterbody"].fillna("river").str.lower()
    frame["waterbody"] = np.where(body.isin(LAKE_WORDS), "lake-reservoir", "river")
    return frame.reset_index(drop=True)


def _target_classes(values: pd.Series, rows: np.ndarray) -> pd.Series:
    roman = {"i": "Ⅰ", "ii": "Ⅱ", "iii": "Ⅲ", "iv": "Ⅳ", "v": "Ⅴ", "1": "Ⅰ", "2": "Ⅱ", "3": "Ⅲ", "4": "Ⅳ", "5": "Ⅴ"}
    text = values.str.replace("类", "", regex=False).str.strip()
    mapped = text.str.lower().map(roman).fillna(text).astype("string")
    bad = mapped.notna() & ~mapped.isin(CLASS_NAMES[:WORSE_THAN_V])
    if bad.any():
        first = np.flatnonzero(bad.to_numpy())[0]
        msg = f"sections row {rows[first]}: target class '{values.iloc[first]}' is not one of Ⅰ, Ⅱ, Ⅲ, Ⅳ, Ⅴ"
        raise AnalysisError(msg)
    return mapped


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
        target), ``reference_class``, ``exceedances`` (``总磷(0.25)、...``),
        ``main_pollutants``, ``items_assessed``, ``undetected_items``,
        ``reference_classes``, one ``mean_<item>`` column per item, and
        ``precision`` / ``source`` (the weakest and all of measurements and
        section).
    """
    frame = _attach_sections(tidy_frame, section_table(sections))
    frame["period"] = period_labels(frame["month"], period)
    keys = ["section_code", "section_name", "period"]
    # Group keys cannot be missing; an unmatched code or name is restored to empty below.
    frame[keys] = frame[keys].astype("string").fillna("")
    means = _classed_items(_item_means(frame, keys), lake_tn_in_class)
    results = _section_rows(frame, means, keys)
    results[keys] = results[keys].replace("", pd.NA)
    return results.sort_values(["section_code", "section_name", "period"], ignore_index=True)


def _item_means(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    grouped = frame.groupby([*keys, "item"], sort=True)
    means = grouped["concentration"].mean().round(MEAN_DECIMALS).rename("mean").reset_index()
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
    reference = target.fillna(DEFAULT_REFERENCE).astype(int)
    rows["reference_class"] = _names(reference, CLASS_NAMES)
    rows = rows.join(_exceedances(used, reference, keys))
    rows[["exceedances", "main_pollutants"]] = rows[["exceedances", "main_pollutants"]].fillna("")
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


def _exceedances(used: pd.DataFrame, reference: pd.Series, keys: list[str]) -> pd.DataFrame:
    """Exceeding items with multiples, and the main pollutants, per section-period."""
    ref = reference.reindex(pd.MultiIndex.from_frame(used[keys])).to_numpy(int)
    over = used.assign(ref=ref)[used["item_class"].to_numpy() > ref].copy()
    limit = over[["I", "II", "III", "IV", "V"]].to_numpy(float)[np.arange(len(over)), over["ref"].to_numpy(int)]
    multiple = (over["mean"].to_numpy(float) - limit) / limit
    over["multiple"] = np.where(over["item"].isin(NO_MULTIPLE), np.nan, multiple)
    over["label"] = over["name_zh"].where(
        over["multiple"].isna(), over["name_zh"] + over["multiple"].map("({:.2f})".format).astype("string")
    )
    ordered = over.sort_values([*keys, "item_class", "multiple"], ascending=[True] * len(keys) + [False, False],
                               na_position="last")
    grouped = ordered.groupby(keys, sort=False)["label"]
    return pd.DataFrame(
        {
            "exceedances": grouped.agg("、".join),
            "main_pollutants": grouped.agg(lambda labels: "、".join(labels.iloc[:MAIN_POLLUTANTS])),
        }
    )


def _undetected(frame: pd.DataFrame, means: pd.DataFrame, keys: list[str]) -> pd.Series:
    unknown = frame[frame["below_detection"] & frame["concentration"].isna()]
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
