"""Monitoring tables read: national automatic-station exports and monthly sheets into one row per section, month and item.

Layouts
-------
Long tables (section, time, item, value) and wide sheets (one column per
GB 3838 item) are read alike. The national surface-water automatic-station
release is a wide sheet: 省份, 流域, 断面名称, 监测时间, 水质类别, 水温(℃),
pH(无量纲), 溶解氧(mg/L) ... 站点情况. A unit in a header is ignored
(``溶解氧(mg/L)``), so is a code written after the name (``溶解氧DO``).

Cells
-----
``0.01L`` and ``<0.01`` are below the detection limit 0.01; ``ND`` / ``未检出``
take the limit from a ``detection_limit`` column when there is one. A blank,
``--``, ``/`` or ``—`` is "not measured" and ``*`` is "withheld": both are
counted and reported, never zero. HTML tags copied from the web page are
stripped. A pH outside 0-14 or a dissolved oxygen beyond
:data:`DO_MAX` is no water's and is not used: it is reported by row.

Times
-----
``2024-03``, ``2024/3/15``, ``2024年3月``, ``202403``, Excel dates and
serial numbers (45717 = 2025-03-01), and ``2025.10`` typed in Excel (stored
as the number 2025.1: October) are read to ``YYYY-MM``. The national release
page shows ``MM-DD HH:MM`` without a year: such times need ``year``.

Every cell is read once per distinct text of its column, with vectorized
string operations; a year of 4-hourly data from 400 stations has a few
thousand distinct cells per column.
"""

from __future__ import annotations

import datetime
import difflib
import html
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from cqgis.analysis.errors import AnalysisError
from cqgis.geo import io
from cqgis.layers.gb3838 import CLASS_NAMES, CLASS_SPELLINGS, standard

#: Cell texts meaning "not measured" (lower-cased).
BLANKS = ("", "-", "--", "---", "—", "——", "/", "／", "nan", "none", "null")

#: Cell texts meaning "withheld" (the national release's ``*``).
WITHHELD = ("*", "**", "＊", "＊＊")

#: Cell texts meaning "not detected" without a limit (upper-cased).
NOT_DETECTED = ("ND", "N.D.", "N.D", "未检出", "未检")

#: Highest plausible dissolved oxygen, mg/L: twice the saturation of fresh water at 0 °C (14.6 mg/L).
#: Algal supersaturation stays below this; beyond it the reading is an instrument or typing fault.
DO_MAX = 2 * 14.6

#: pH range of any water.
PH_RANGE = (0.0, 14.0)

#: Excel serial numbers taken as dates (1954-10-03 .. 2119-01-10); Excel counts days from 1899-12-30.
EXCEL_SERIALS = (20_000, 80_000)
EXCEL_EPOCH = pd.Timestamp("1899-12-30")

#: Years a monitoring time may carry.
YEARS = (1900, 2200)

#: Station status that needs no report (national release column 站点情况).
NORMAL_STATUS = ("正常",)

#: Problem kinds that stop an assessment (the rest are reported and the analysis goes on).
FATAL = ("duplicate_item", "unreadable_value", "bad_time")

_LIMIT_SUFFIX = r"^([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*[lL]$"
_LIMIT_PREFIX = r"^[<＜]\s*=?\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)$"
_MONTH = r"^\s*(\d{4})\s*[-/.年]?\s*(\d{1,2})(?!\d)"
_NO_YEAR = r"^\s*(\d{1,2})\s*[-/月]\s*\d{1,2}\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?\s*$"
_SERIAL_TEXT = r"^\d{5}(?:\.\d+)?$"
_TAGS = r"<[^>]*>"
_PARENS = str.maketrans({"（": "(", "）": ")", "　": " "})
# "溶解氧DO": Chinese name followed by its Latin code.
_NAME_AND_CODE = re.compile(r"^([\u4e00-\u9fff()]+)[a-z][a-z0-9+]*$")

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
    "数据来源": "source", "precision": "precision", "精度": "precision", "站点情况": "status",
    "站点状态": "status", "运行状态": "status", "status": "status",
}


#: Columns of a class-only table, such as the monthly district reports (序号 | 河流 | 断面名称 |
#: 断面属性 | 上年 | 上月 | 本月 | 主要污染指标(类别), or ... | 水域功能 | 监测结果 | 主要污染指标).
CLASS_ALIASES = {
    "断面名称": "section_name", "断面": "section_name", "section_name": "section_name", "断面编码": "section_code",
    "section_code": "section_code", "河流": "river", "河流名称": "river", "所在河流": "river", "river": "river",
    "断面属性": "level", "断面级别": "level", "级别": "level", "区县": "district", "所在区县": "district",
    "本月": "class", "本月水质": "class", "本月类别": "class", "监测结果": "class", "水质类别": "class", "class": "class",
    "水域功能": "target_class", "水质目标": "target_class", "目标水质": "target_class", "考核目标": "target_class",
    "目标类别": "target_class", "target_class": "target_class", "主要污染指标": "main_pollutants",
    "主要污染物": "main_pollutants", "监测时间": "month", "监测月份": "month", "月份": "month", "month": "month",
    "source": "source", "来源": "source",
}

class ParsedValue(NamedTuple):
    """One cell of a monitoring sheet, read.

    ``value`` is the measured number (NaN when below detection or not
    measured); ``below_detection`` says the item was not detected;
    ``detection_limit`` is the limit of an undetected value (NaN if unknown).
    """

    value: float
    below_detection: bool
    detection_limit: float


# What a cell holds, as :func:`parse_cells` reports it in ``state``.
VALUE, NOT_MEASURED, WITHHELD_CELL, UNREADABLE, NEGATIVE, IMPOSSIBLE = range(6)


@dataclass(frozen=True)
class Reading:
    """A monitoring table read: the tidy rows and what was not used, by row.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per usable cell (see :func:`read_measurements`).
    problems : pandas.DataFrame
        ``kind``, ``row``, ``column``, ``value``, ``message``: each cell or
        row not used or worth a look; kinds as in
        :data:`cqgis.geo.validate.KINDS`, those in :data:`FATAL` stop an
        assessment.
    """

    frame: pd.DataFrame
    problems: pd.DataFrame

    def raise_fatal(self) -> None:
        """Raise the first problem that stops an assessment, if any.

        Raises
        ------
        AnalysisError
            Named by row and column.
        """
        fatal = self.problems[self.problems["kind"].isin(FATAL)]
        if len(fatal):
            first = fatal.iloc[0]
            where = f"row {first['row']}, " if pd.notna(first["row"]) else ""
            column = f"column '{first['column']}': " if pd.notna(first["column"]) else ""
            msg = f"{where}{column}{first['message']}"
            raise AnalysisError(msg)

    def summary(self) -> list[str]:
        """Return one line per kind of problem that did not stop the reading, for the user.

        Returns
        -------
        list of str
            E.g. ``column '站点情况': 站点情况 '维护' is not 正常: the row's values
            are used as given (rows 9, 61; 2 in all)``.
        """
        lines = []
        for (kind, column), found in self.problems.groupby(["kind", "column"], sort=False, dropna=False):
            if kind in FATAL:
                continue
            rows = found["row"].dropna().astype(int)
            where = f"column '{column}'" if pd.notna(column) else "table"
            if len(rows):
                listed = ", ".join(map(str, rows.iloc[:10])) + (" ..." if len(rows) > 10 else "")
                lines.append(f"{where}: {found['message'].iloc[0]} (rows {listed}; {len(rows)} in all)")
            else:
                lines += [f"{where}: {message}" for message in found["message"].iloc[:10]]
                lines += [f"{where}: ... and {len(found) - 10} more"] if len(found) > 10 else []
        return lines


def _normalise(header: object) -> str:
    text = re.sub(_TAGS, "", str(header)).translate(_PARENS).strip().lower()
    return re.sub(r"[\s\-_·]", "", text)


def header_key(header: object, aliases: dict[str, str]) -> str | None:
    """Return the role or item ``header`` names under ``aliases``, ignoring case, spaces, units and codes.

    ``氨氮(mg/L)`` and ``溶解氧DO`` name 氨氮 and 溶解氧; ``铬(六价)`` keeps its
    bracket to be found.
    """
    lookup = {_normalise(name): key for name, key in aliases.items()}
    text = _normalise(header)
    bare = re.sub(r"\(.*?\)", "", text)
    named = _NAME_AND_CODE.match(bare)
    return lookup.get(text) or lookup.get(bare) or (lookup.get(named.group(1)) if named else None)


def _stripped(text: pd.Series) -> pd.Series:
    """Text without HTML tags, entities and surrounding spaces."""
    unescaped = text.str.replace(_TAGS, "", regex=True).map(html.unescape, na_action="ignore")
    # An all-missing column maps to plain objects, which the .str accessor refuses.
    return unescaped.astype(text.dtype).str.strip()


def _distinct(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Codes of each cell into its column's distinct cells (-1 for missing), and those cells as objects."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, pd.Series(np.asarray(uniques, dtype=object), dtype=object)


def _is_number(cells: pd.Series) -> pd.Series:
    return cells.map(lambda v: isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)).astype(bool)


def parse_cells(cells: pd.Series, detection_limit: pd.Series | float | None = None) -> pd.DataFrame:
    """Read a column of monitoring-sheet cells, each distinct cell once.

    Parameters
    ----------
    cells : pandas.Series
        Numbers, or text such as ``"0.52"``, ``"0.01L"``, ``"<0.01"``,
        ``"ND"``, ``"未检出"``, ``"--"``, ``"*"``; HTML tags are stripped.
    detection_limit : pandas.Series or float, optional
        Limit of ``ND`` / ``未检出`` cells (a limit written in the cell wins).

    Returns
    -------
    pandas.DataFrame
        Indexed as ``cells``: ``value``, ``below_detection``,
        ``detection_limit`` as in :class:`ParsedValue`, and ``state``: one of
        ``VALUE`` (a value or an undetected one), ``NOT_MEASURED``,
        ``WITHHELD_CELL``, ``UNREADABLE``, ``NEGATIVE`` (negative or not finite).
    """
    codes, uniques = _distinct(cells)
    text = _stripped(uniques.astype(str)) if len(uniques) else pd.Series([], dtype=object)
    blank = text.str.lower().isin(BLANKS)
    withheld = text.isin(WITHHELD)
    undetected = text.str.upper().isin(NOT_DETECTED)
    limit = pd.to_numeric(text.str.extract(_LIMIT_SUFFIX)[0].fillna(text.str.extract(_LIMIT_PREFIX)[0]))
    below = undetected | limit.notna()
    number = pd.to_numeric(text.where(~(blank | withheld | below)), errors="coerce").to_numpy(float)
    state = np.select(
        [blank.to_numpy(), withheld.to_numpy(), below.to_numpy(), np.isnan(number), ~np.isfinite(number) | (number < 0)],
        [NOT_MEASURED, WITHHELD_CELL, VALUE, UNREADABLE, NEGATIVE],
        VALUE,
    ).astype(np.int8)
    value = np.where(state == VALUE, number, np.nan)
    value[below.to_numpy()] = np.nan
    # Missing cells (code -1) read as the extra last entry: not measured.
    value, state = np.append(value, np.nan)[codes], np.append(state, np.int8(NOT_MEASURED))[codes]
    below_rows = np.append(below.to_numpy(), False)[codes]
    cell_limit = np.append(limit.to_numpy(float), np.nan)[codes]
    if isinstance(detection_limit, pd.Series):
        # A limit column of text (a CSV) reads like the cells; one that is no number gives no limit.
        given = pd.to_numeric(detection_limit, errors="coerce").to_numpy(float)
    else:
        given = np.nan if detection_limit is None else float(detection_limit)
    limits = np.where(below_rows & np.isnan(cell_limit), given, cell_limit)
    return pd.DataFrame(
        {"value": value, "below_detection": below_rows, "detection_limit": limits, "state": state}, index=cells.index
    )


def parse_value(raw: object, detection_limit: float | None = None) -> ParsedValue:
    """Read one monitoring-sheet cell (see :func:`parse_cells`).

    Parameters
    ----------
    raw : object
        A number, or text such as ``"0.52"``, ``"0.01L"``, ``"<0.01"``,
        ``"ND"``, ``"未检出"``; blank, ``-``, ``/``, ``*`` mean not measured.
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
    cell = parse_cells(pd.Series([raw], dtype=object), detection_limit).iloc[0]
    if cell["state"] in (UNREADABLE, NEGATIVE):
        raise AnalysisError(_cell_message(str(raw).strip(), int(cell["state"])))
    return ParsedValue(float(cell["value"]), bool(cell["below_detection"]), float(cell["detection_limit"]))


def _cell_message(text: str, state: int) -> str:
    if state == NEGATIVE:
        return f"'{text}' is not a concentration: values must be finite and not negative"
    return f"cannot read '{text}' as a value: expected a number, '0.01L', '<0.01', 'ND', '未检出', '--', '*' or a blank"


def months(values: pd.Series, year: int | None = None) -> tuple[pd.Series, pd.Series]:
    """Read monitoring times to ``YYYY-MM``, each distinct cell once.

    Parameters
    ----------
    values : pandas.Series
        Times as the table gives them (see the module docstring).
    year : int, optional
        Year of times written without one (``03-01 04:00``).

    Returns
    -------
    (pandas.Series, pandas.Series)
        The months (missing where unreadable) and, where unreadable, why.
    """
    codes, uniques = _distinct(values)
    month = pd.Series(pd.NA, index=uniques.index, dtype=object)
    timestamps = uniques.map(lambda v: isinstance(v, (datetime.date, pd.Timestamp, np.datetime64))).astype(bool)
    month[timestamps] = [f"{t.year:04d}-{t.month:02d}" for t in pd.to_datetime(uniques[timestamps])]
    text = _stripped(uniques.astype(str))
    numbers = _is_number(uniques) & ~timestamps
    serial_text = text.str.match(_SERIAL_TEXT) & ~timestamps
    serial = pd.to_numeric(text.where(numbers | serial_text), errors="coerce")
    is_serial = serial.between(*EXCEL_SERIALS)
    month[is_serial] = (EXCEL_EPOCH + pd.to_timedelta(serial[is_serial], unit="D")).dt.strftime("%Y-%m")
    # Excel stores 2025.10 as the number 2025.1: the decimals are the month.
    dotted = numbers & serial.between(*YEARS) & (serial % 1 > 0)
    whole = np.floor(serial[dotted])
    month[dotted] = [f"{int(y):04d}-{int(round(m)):02d}" for y, m in zip(whole, (serial[dotted] - whole) * 100)]
    rest = month.isna() & ~timestamps & ~is_serial & ~dotted
    parts = text.where(rest).str.extract(_MONTH)
    month[parts[0].notna()] = parts[0] + "-" + parts[1].str.zfill(2)
    no_year = rest & parts[0].isna() & text.str.match(_NO_YEAR)
    if year is not None:
        month[no_year] = f"{int(year):04d}-" + text[no_year].str.extract(_NO_YEAR)[0].str.zfill(2)
    number = pd.to_numeric(month.astype("string").str[5:], errors="coerce")
    first = pd.to_numeric(month.astype("string").str[:4], errors="coerce")
    valid = number.between(1, 12) & first.between(*YEARS)
    month = month.where(valid)
    why = pd.Series(
        np.where(
            no_year & month.isna(),
            "'" + text + "' has no year (the national release shows MM-DD HH:MM): give it with --year",
            "cannot read '" + text + "' as a month; expected e.g. 2024-03, 2024/3/15, 2024年3月 or an Excel date",
        ),
        index=uniques.index,
    ).where(month.isna())
    blank_why = "no monitoring time"
    out = pd.Series(np.append(month.to_numpy(object), pd.NA)[codes], index=values.index, dtype=object)
    reason = pd.Series(np.append(why.to_numpy(object), blank_why)[codes], index=values.index, dtype=object)
    return out, reason


def read_table(
    path: str | os.PathLike,
    sheet: str | None = None,
    columns: Callable[[str], bool] | None = None,
    header_row: int | None = None,
) -> pd.DataFrame:
    """Read a user's table (CSV/TXT, XLSX, Parquet, or any vector file) with cells as given.

    CSV cells stay text so ``0.01L`` and leading zeros survive; a vector
    file's geometry is dropped. CSV and Excel rows keep their spreadsheet
    numbers as the index (see :func:`cqgis.geo.io.read_rows`), which error
    messages give.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    sheet : str, optional
        Worksheet of an Excel file, or layer of a vector file.
    columns : callable, optional
        Keep only the CSV or Excel columns whose header it accepts, such as
        :func:`is_measurement_column`.
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
        return io.read_rows(path, sheet=sheet, text=True, header_row=header_row, columns=columns)
    if Path(path).suffix.lower() == ".parquet" and Path(path).is_file():
        table = pd.read_parquet(path)
        if "geometry" not in table.columns:
            return table
    frame = io.read(path, layer=sheet)
    return pd.DataFrame(frame.drop(columns=frame.geometry.name))


def is_measurement_column(header: object) -> bool:
    """Whether a monitoring table's column is one the reader uses (ids, times, items, classes, status).

    A national export's 电导率, 浊度, 叶绿素α and 藻密度 are not GB 3838 items:
    left unread, a year of data takes a third less memory.
    """
    return any(header_key(header, aliases) for aliases in (ID_ALIASES, ITEM_ALIASES, CLASS_ALIASES))


def is_complete(table: pd.DataFrame) -> bool:
    """Whether ``table`` has section, time and item columns (or item and value), or is a class-only table."""
    roles = _roles(table)
    sections = "section_code" in roles or "section_name" in roles
    items = ("item" in roles and "value" in roles) or any(header_key(c, ITEM_ALIASES) for c in table.columns)
    return (sections and "month" in roles and items) or is_class_table(table)


def _roles(frame: pd.DataFrame) -> dict[str, str]:
    roles: dict[str, str] = {}
    for column in frame.columns:
        role = header_key(column, ID_ALIASES)
        if role and role not in roles:
            roles[role] = column
    return roles


def _headers(frame: pd.DataFrame) -> str:
    return ", ".join(str(c) for c in frame.columns if c != "_row")


def _problems(kind: str, rows: np.ndarray, column: object, values: object, messages: object) -> pd.DataFrame:
    return pd.DataFrame({"kind": kind, "row": rows, "column": column, "value": values, "message": messages})


def _categories(values: pd.Series | None, n: int) -> pd.Categorical:
    """Cleaned text of an identifier column as a categorical (blank -> missing)."""
    if values is None:
        return pd.Categorical.from_codes(np.full(n, -1), categories=pd.Index([], dtype=object))
    codes, uniques = _distinct(values)
    cleaned = _stripped(uniques.astype(str)).replace("", pd.NA)
    new_codes, categories = pd.factorize(cleaned, use_na_sentinel=True)
    mapped = np.append(new_codes, -1)[codes]
    return pd.Categorical.from_codes(mapped, categories=pd.Index(categories, dtype=object))


def _item_cells(frame: pd.DataFrame, roles: dict[str, str]) -> tuple[Iterable[tuple[object, object, pd.DataFrame]], pd.DataFrame]:
    """Parsed cells per item column (column, item codes per row, parsed), and duplicate-item problems."""
    limit = frame[roles["detection_limit"]] if "detection_limit" in roles else None
    if "item" in roles and "value" in roles:
        headers = frame[roles["item"]].astype(str)
        distinct = headers.unique()
        codes = headers.map({h: header_key(h, ITEM_ALIASES) for h in distinct})
        unknown = codes.isna()
        if unknown.any():
            first = int(np.flatnonzero(unknown.to_numpy())[0])
            msg = (
                f"row {frame['_row'].iloc[first]}: unknown item '{headers.iloc[first]}'; "
                "use GB 3838 Table 1 names (溶解氧, 氨氮 ...) or codes (do, nh3n ...)"
            )
            raise AnalysisError(msg)
        parsed = parse_cells(frame[roles["value"]], limit)
        if "below_detection" in roles:
            # The layer writes an undetected value as an empty value with the flag and the limit.
            flag = frame[roles["below_detection"]].astype("string").str.strip().str.lower()
            flag_only = flag.isin(["true", "1", "是", "yes"]).to_numpy() & np.isnan(parsed["value"].to_numpy())
            flag_only &= parsed["state"].to_numpy() == NOT_MEASURED
            given = pd.to_numeric(limit, errors="coerce").to_numpy(float) if limit is not None else np.nan
            parsed.loc[flag_only, "below_detection"] = True
            parsed.loc[flag_only, "state"] = VALUE
            parsed["detection_limit"] = np.where(flag_only, given, parsed["detection_limit"])
        return [(roles["value"], codes.to_numpy(object), parsed)], _problems("duplicate_item", [], None, None, [])
    items = {c: header_key(c, ITEM_ALIASES) for c in frame.columns if c not in roles.values() and c != "_row"}
    items = {c: code for c, code in items.items() if code}
    if not items:
        msg = (
            "no water-quality items found: name columns after GB 3838 Table 1 (溶解氧, 高锰酸盐指数, 氨氮, 总磷 ...) "
            f"or by code (do, codmn, nh3n, tp ...), or give a long table with item and value columns; headers read: {_headers(frame)}"
        )
        raise AnalysisError(msg)
    by_code: dict[str, list] = {}
    for column, code in items.items():
        by_code.setdefault(code, []).append(column)
    repeated = [columns for columns in by_code.values() if len(columns) > 1]
    duplicates = _problems(
        "duplicate_item", np.full(len(repeated), pd.NA), [" / ".join(map(str, c)) for c in repeated], None,
        [f"columns {' and '.join(repr(str(c)) for c in cs)} give the same item ({items[cs[0]]}); keep one: "
         "values are never averaged across columns" for cs in repeated],
    )
    # Parsed one column at a time, as they are used: together they would hold 20 bytes per cell.
    cells = ((c, code, parse_cells(frame[c], limit)) for c, code in items.items())
    return cells, duplicates


def _impossible_message(text: str, code: str) -> str:
    if code == "do":
        return f"dissolved oxygen '{text}' mg/L is far above saturation (at most {DO_MAX:g} mg/L): not used"
    return f"pH '{text}' is outside {PH_RANGE[0]:g}-{PH_RANGE[1]:g}: not used"


def _impossible(codes: pd.Series, values: np.ndarray) -> np.ndarray:
    ph = codes.eq("ph").to_numpy() & ((values < PH_RANGE[0]) | (values > PH_RANGE[1]))
    return ph | (codes.eq("do").to_numpy() & (values > DO_MAX))


def read_measurements(measurements: pd.DataFrame, year: int | None = None) -> Reading:
    """Read a long or wide monitoring table into tidy rows, with every cell or row not used reported.

    Parameters
    ----------
    measurements : pandas.DataFrame
        Either the ``measurements`` layer's long form (``section_code``,
        ``month``, ``item``, ``value`` and optionally ``below_detection``,
        ``detection_limit``), or a wide sheet: a section column (断面编码 /
        断面名称 / section_code / section_name), a time column (监测时间 /
        月份 / month ...) and one column per item, named as in GB 3838
        Table 1 (溶解氧, 氨氮, 总磷, 铬(六价) ..., a unit in brackets is
        ignored) or by code (:data:`ITEM_ALIASES`). Rows are numbered as in
        a spreadsheet (header = row 1), or by an index named
        :data:`cqgis.geo.io.ROW_INDEX`.
    year : int, optional
        Year of times written without one (``MM-DD HH:MM``).

    Returns
    -------
    Reading
        ``frame``: ``section_code``, ``section_name`` (one may be empty),
        ``month`` (``YYYY-MM``), ``item`` (code), ``value``,
        ``below_detection``, ``detection_limit``, ``concentration`` (the
        value, half the limit when below detection, NaN when not usable),
        ``source``, ``precision``; text columns are categorical. Unmeasured,
        withheld and impossible cells and items outside Table 1 (水温) are
        left out. ``problems``: see :class:`Reading`.

    Raises
    ------
    AnalysisError
        No rows, no section or time column, no item, or an unknown item
        name in a long table.
    """

    if measurements.empty:
        msg = "the measurements table has no rows"
        raise AnalysisError(msg)
    frame = measurements.reset_index(drop=True).assign(_row=io.row_numbers(measurements))
    roles = _roles(frame)
    if "section_code" not in roles and "section_name" not in roles:
        msg = f"no section column: expected 断面编码 / section_code or 断面名称 / section_name; headers read: {_headers(measurements)}"
        raise AnalysisError(msg)
    if "month" not in roles:
        msg = f"no month column: expected 监测时间 / 月份 / month; headers read: {_headers(measurements)}"
        raise AnalysisError(msg)
    rows = frame["_row"].to_numpy()
    cells, problems = _item_cells(frame, roles)
    # Items are kept as codes into this list: 6 million item names as objects would cost 100s of MB.
    known = list(dict.fromkeys(standard()["code"]))
    found = [problems]
    parts: dict[str, list] = {"position": [], "item": [], "value": [], "below_detection": [], "detection_limit": []}
    usable_rows = np.zeros(len(frame), bool)
    for column, code, parsed in cells:
        # A wide sheet's column holds one item; a long table names the item on every row.
        codes = pd.Series(code if isinstance(code, np.ndarray) else [code], dtype=object)
        state = parsed["state"].to_numpy()
        value = parsed["value"].to_numpy()
        impossible = (state == VALUE) & _impossible(codes, value)
        state = np.where(impossible, IMPOSSIBLE, state)
        found.append(_cell_problems(frame, column, rows, state, codes))
        use = (state == VALUE) & codes.isin(known).to_numpy()
        usable_rows |= use
        positions = np.flatnonzero(use)
        parts["position"].append(positions)
        index = pd.Index(known).get_indexer(codes).astype(np.int8)
        parts["item"].append(index[positions] if len(codes) > 1 else np.full(len(positions), index[0]))
        for name in ("value", "below_detection", "detection_limit"):
            parts[name].append(parsed[name].to_numpy()[positions])
        del parsed
    long = {name: np.concatenate(arrays) for name, arrays in parts.items()}
    del parts
    month, why = months(frame[roles["month"]], year)
    bad_time = usable_rows & month.isna().to_numpy()
    found.append(_problems("bad_time", rows[bad_time], roles["month"], frame[roles["month"]][bad_time].astype(str).to_numpy(), why[bad_time].to_numpy()))
    found.append(_problems("no_values", rows[~usable_rows], None, None, "no usable value in this row (blank, --, * or refused): not used"))
    if "status" in roles:
        status = pd.Series(_categories(frame[roles["status"]], len(frame)))
        odd = (status.notna() & ~status.isin(NORMAL_STATUS)).to_numpy()
        text = status[odd].astype(str).to_numpy(object)
        found.append(_problems("station_status", rows[odd], roles["status"], text,
                               "站点情况 '" + text + "' is not 正常: the row's values are used as given"))
    section_codes = _categories(frame.get(roles.get("section_code")), len(frame))
    section_names = _categories(frame.get(roles.get("section_name")), len(frame))
    nameless = usable_rows & (section_codes.codes < 0) & (section_names.codes < 0)
    if nameless.any():
        found.append(_problems("no_section", rows[nameless], None, None, "no section name or code: the row is not used"))
        keep = ~nameless[long["position"]]
        long = {name: array[keep] for name, array in long.items()}
    position = long["position"]
    tidy = pd.DataFrame(
        copy=False,
        data={
            "section_code": section_codes[position],
            "section_name": section_names[position],
            "month": _categories(month, len(frame))[position],
            "item": pd.Categorical.from_codes(long.pop("item"), categories=known),
            "value": long["value"],
            "below_detection": long["below_detection"].astype(bool),
            "detection_limit": long["detection_limit"],
        }
    )
    tidy["concentration"] = tidy["value"].where(~tidy["below_detection"], tidy["detection_limit"] / 2)
    for role in ("source", "precision"):
        tidy[role] = _categories(frame.get(roles.get(role)), len(frame))[position]
    problems = pd.concat([p for p in found if len(p)], ignore_index=True) if any(len(p) for p in found) else found[0]
    return Reading(tidy, problems.astype({"row": "Int64"}))


def _cell_problems(frame: pd.DataFrame, column: object, rows: np.ndarray, state: np.ndarray, codes: pd.Series) -> pd.DataFrame:
    """Problems of one item column: unreadable and impossible cells by row, and counts of -- and *.

    ``codes`` is the column's item, or each row's item in a long table.
    """
    raw = frame[column]
    out = []
    for kind, states in (("unreadable_value", (UNREADABLE, NEGATIVE)), ("impossible_value", (IMPOSSIBLE,))):
        bad = np.isin(state, states)
        if bad.any():
            text = _stripped(raw[bad].astype(str)).to_numpy(object)
            if kind == "impossible_value":
                items = np.broadcast_to(codes.to_numpy(object), len(state))[bad]
                messages = [_impossible_message(t, code) for t, code in zip(text, items)]
            else:
                messages = [_cell_message(t, s) for t, s in zip(text, state[bad])]
            out.append(_problems(kind, rows[bad], column, text, messages))
    # Blank cells are missing (see cqgis.geo.io.read_rows): what is left of "not measured" is written out.
    dashes = int(((state == NOT_MEASURED) & raw.notna().to_numpy()).sum())
    stars = int((state == WITHHELD_CELL).sum())
    if dashes or stars:
        out.append(_problems(
            "not_measured", [pd.NA], column, None,
            f"cells not measured (--): {dashes}; withheld (*): {stars}; left out, never counted as zero",
        ))
    return pd.concat(out, ignore_index=True) if out else _problems("not_measured", [], None, None, [])


def tidy(measurements: pd.DataFrame, year: int | None = None) -> pd.DataFrame:
    """Turn a long or wide monitoring table into one clean row per section, time and item.

    Parameters
    ----------
    measurements : pandas.DataFrame
        See :func:`read_measurements`.
    year : int, optional
        Year of times written without one.

    Returns
    -------
    pandas.DataFrame
        :attr:`Reading.frame` of :func:`read_measurements`.

    Raises
    ------
    AnalysisError
        As :func:`read_measurements`, and at the first unreadable cell or
        time (named by row and column) or duplicate item column.
    """
    reading = read_measurements(measurements, year)
    reading.raise_fatal()
    return reading.frame


def unmatched_sections(tidy_frame: pd.DataFrame, sections: pd.DataFrame | None) -> pd.DataFrame:
    """Sections of the measurements that the sections table lacks, each with its closest names.

    Measurements are matched by code when they have codes, else by name, as
    :func:`cqgis.analysis.water_quality.classify` joins them; an unmatched
    section is classed as a river without a target.

    Parameters
    ----------
    tidy_frame : pandas.DataFrame
        Output of :func:`tidy`.
    sections : pandas.DataFrame or None
        The sections layer or a user's table; None matches nothing and
        reports nothing.

    Returns
    -------
    pandas.DataFrame
        Problems (as :attr:`Reading.problems`) of kind ``unknown_section``.
    """
    from cqgis.analysis.water_quality import section_table

    if sections is None:
        return _problems("unknown_section", [], None, None, [])
    table = section_table(sections)
    by_code = tidy_frame["section_code"].notna().any()
    column, key = ("section_code", "code") if by_code else ("section_name", "name")
    known = table[key].dropna().astype(str).unique().tolist()
    counts = tidy_frame[column].value_counts(sort=False)
    missing = counts[(counts > 0) & ~counts.index.astype(str).isin(known)]
    messages = []
    for name, count in missing.items():
        close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.5)
        hint = f"; did you mean {' / '.join(close)}?" if close else ""
        messages.append(f"section '{name}' ({count} values) is not in the sections table: no target, classed as a river{hint}")
    header = "断面编码" if by_code else "断面名称"
    return _problems("unknown_section", np.full(len(missing), pd.NA), header, missing.index.astype(str).to_numpy(object), messages)


def is_class_table(table: pd.DataFrame) -> bool:
    """Whether ``table`` gives each section's class without values (a monthly district report).

    Parameters
    ----------
    table : pandas.DataFrame
        A monitoring table as read.

    Returns
    -------
    bool
        True when it has a section and a class column (本月, 监测结果 ...) and
        no GB 3838 item column.
    """
    roles = {header_key(c, CLASS_ALIASES) for c in table.columns}
    items = any(header_key(c, ITEM_ALIASES) for c in table.columns)
    return "class" in roles and bool(roles & {"section_name", "section_code"}) and not items


def _class_index(values: pd.Series) -> pd.Series:
    """Class index (0 = Ⅰ .. 5 = 劣Ⅴ) of each spelling; NA when blank or unreadable."""
    text = _stripped(values.astype("string")).str.replace("类", "", regex=False).str.upper().str.replace(" ", "")
    return text.map(CLASS_SPELLINGS).map({name: index for index, name in enumerate(CLASS_NAMES)}).astype("Int64")


def read_classes(table: pd.DataFrame, sections: pd.DataFrame | None = None, year: int | None = None) -> Reading:
    """Read a class-only table (no values) into results shaped like :func:`cqgis.analysis.water_quality.classify`'s.

    The class and main pollutants are taken as the report gives them; no
    mean, exceedance multiple or undetected item can be computed, and the
    results say so in ``class_source``. A target missing from the table is
    taken from ``sections`` (matched by code, else name).

    Parameters
    ----------
    table : pandas.DataFrame
        A table :func:`is_class_table` accepts.
    sections : pandas.DataFrame, optional
        The sections layer or a user's table.
    year : int, optional
        Year of the report, when the table has no time column.

    Returns
    -------
    Reading
        ``frame``: one row per section with ``section_code``,
        ``section_name``, ``river``, ``district``, ``level``, ``period``
        (the month, else ``本期``), ``year``, ``class``, ``status``,
        ``target_class``, ``meets_target``, ``exceedances`` and
        ``target_exceedances`` (empty), ``main_pollutants``, ``class_source``,
        ``precision``, ``source``. ``problems``: unreadable classes and
        targets, by row (the section is then not assessed).
    """
    from cqgis.analysis.water_quality import STATUS, section_table

    rows = io.row_numbers(table)
    frame = table.reset_index(drop=True)
    roles: dict[str, object] = {}
    for column in frame.columns:
        role = header_key(column, CLASS_ALIASES)
        if role and role not in roles:
            roles[role] = column
    out = pd.DataFrame({role: _stripped(frame[roles[role]].astype("string")).replace("", pd.NA)
                        for role in ("section_code", "section_name", "river", "district", "level", "main_pollutants")
                        if role in roles})
    for role in ("section_code", "section_name"):
        if role not in out:
            out[role] = pd.Series(pd.NA, index=out.index, dtype="string")
    found = []
    klass = _class_index(frame[roles["class"]])
    given = frame[roles["class"]].astype("string").str.strip()
    bad = (klass.isna() & given.notna() & given.ne("")).to_numpy()
    found.append(_problems("unreadable_value", rows[bad], roles["class"], given[bad].to_numpy(object),
                           "'" + given[bad].to_numpy(object) + "' is not a class (Ⅰ..Ⅴ, 劣Ⅴ): the section is not assessed"))
    target = _class_index(frame[roles["target_class"]]) if "target_class" in roles else pd.Series(pd.NA, index=frame.index, dtype="Int64")
    known = section_table(sections) if sections is not None else None
    if known is not None:
        key, column = ("code", "section_code") if out["section_code"].notna().any() else ("name", "section_name")
        attributes = known.dropna(subset=[key]).drop_duplicates(key).set_index(key)
        matched = attributes.reindex(out[column].astype(str))
        target = target.fillna(_class_index(matched["target_class"]).set_axis(frame.index))
        for role in ("river", "district", "level"):
            if role not in out:
                out[role] = matched[role].to_numpy()
    if "month" in roles:
        month, _why = months(frame[roles["month"]], year)
        out["period"] = month.fillna("本期").astype("string")
    else:
        out["period"] = pd.Series("本期", index=out.index, dtype="string")
    out["year"] = pd.to_numeric(out["period"].str[:4], errors="coerce").fillna(year or np.nan).astype("Int64")
    out["class"] = _class_names(klass, CLASS_NAMES)
    out["status"] = _class_names(klass, STATUS)
    out["target_class"] = _class_names(target, CLASS_NAMES)
    out["meets_target"] = pd.Series(klass <= target, dtype="boolean")
    # A report gives classes, not values: no multiple of any kind can be computed.
    out["exceedances"] = ""
    out["target_exceedances"] = ""
    out["main_pollutants"] = out.get("main_pollutants", pd.Series("", index=out.index)).fillna("")
    out["class_source"] = "报表类别（无监测值）"
    out["precision"] = "approximate"
    out["source"] = frame[roles["source"]] if "source" in roles else pd.NA
    problems = pd.concat([p for p in found if len(p)] or [found[0]], ignore_index=True)
    return Reading(out, problems.astype({"row": "Int64"}))


def _class_names(index: pd.Series, names: tuple[str, ...]) -> pd.Series:
    return pd.Series(pd.array(np.asarray(names, dtype=object)[index.fillna(0).to_numpy(int)], dtype="string"),
                     index=index.index).where(index.notna().to_numpy())
