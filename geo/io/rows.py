"""Reading spreadsheets and CSV files as rows of cells: the header row found below title rows, typed columns, the row numbers users know."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cqgis.errors import one_line
from cqgis.geo.errors import NoRowsError, ReadError
from cqgis.geo.io.encoding import CSV_ENCODINGS, text_encoding
from cqgis.geo.io.formats import FileFormat, existing_file, read_format, reading

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


#: Name of the index holding the number the user knows each row by (see :func:`row_numbers`).
#: Row numbers travel as the index, never in ``frame.attrs``: pandas deep-copies
#: ``attrs`` on every operation, which made large tables crawl.
ROW_INDEX = "row"
#: Rows of a table searched for its header when none is given (see :func:`find_header_row`).
HEADER_SEARCH_ROWS = 30
#: Header words marking a column of dates, whose Excel serial day numbers are read as dates:
#: anywhere in the header, or (the second tuple) at its end, so that 监测时间 is a
#: date and 运行时间(h), hours, is not.
DATE_HEADER_WORDS = (("日期", "年月"), ("时间", "date", "time"))
# Excel serial days of 1950-01-01 and 2100-01-01: a date column's numbers between them are days.
_EXCEL_SERIAL_RANGE = (18264, 73051)
_EXCEL_EPOCH = "1899-12-30"
# Cells kept as text in a column of numbers: ids with leading zeros, and
# digit strings longer than a float's 15 significant digits keep.
_KEEP_AS_TEXT = r"[+-]?(?:0\d|\d{16})"
# Characters of a CSV read to find its separator, width and header; blocks checked for its encoding.
_CSV_HEAD_CHARS = 1 << 16


def read_rows(
    path: str | os.PathLike,
    sheet: str | None = None,
    text: bool = False,
    header_row: int | None = None,
    columns: Callable[[str], bool] | None = None,
) -> pd.DataFrame:
    """Read a CSV or Excel table as it is, its rows labelled as the spreadsheet numbers them.

    Title rows above the header are skipped: the header is the row given, or
    the one :func:`find_header_row` finds. A blank header cell under a
    cell merged over several rows takes that cell's name; columns without
    a header are dropped when empty and refused when they hold a value. Rows with every cell blank
    are dropped (their numbers are skipped, not reused).

    Without ``text``, a column becomes numeric only when every cell is a
    number and none is written with a leading zero (``00123``, ``0500103``)
    or with more digits than a float keeps, so ids stay text; in a column
    whose header names a date or time (:data:`DATE_HEADER_WORDS`), Excel
    serial day numbers (45717) become dates.

    Parameters
    ----------
    path : str or os.PathLike
        ``.csv``/``.txt`` or Excel file (see :func:`read_table`).
    sheet : str, optional
        Worksheet of an Excel file; default: the first.
    text : bool
        Keep every CSV cell as text (``0.01L``, codes with leading zeros)
        and every Excel cell as Excel typed it, instead of inferring column types.
    header_row : int, optional
        Spreadsheet row (from 1) holding the column headers; default: found.
    columns : callable, optional
        Keep only the columns whose header (found as above) it accepts;
        default: all.

    Returns
    -------
    pandas.DataFrame
        The cells, untouched but for the typing above: no coordinate is
        parsed or converted. The index, named :data:`ROW_INDEX`, holds the
        row numbers.

    Raises
    ------
    ReadError
        Missing, empty, undecodable or non-table file, an unknown sheet, a
        header row outside the table, two columns with the same header, or
        no data rows under the header.
    """

    path = existing_file(path)
    fmt = read_format(path)
    if not fmt.is_table:
        msg = f"{path.name} is a {fmt.label} file, not a table: read it with read_vector"
        raise ReadError(msg)
    where = path.name
    if fmt.kind == "excel":
        raw, where = _read_excel(path, fmt, sheet)
    elif sheet is not None:
        msg = f"{path.name} is a CSV table and has no sheets; sheets exist only in Excel workbooks"
        raise ReadError(msg)
    else:
        raw = read_csv_cells(path)
    data = under_header(raw, header_position(raw, header_row, path), path)
    if text:
        data = without_blank_cells(data)
    data = data.dropna(how="all")
    if data.empty:
        msg = f"{where} has a header row ({', '.join(map(str, data.columns))}) but no data rows under it"
        raise NoRowsError(msg)
    if columns is not None:
        # Rows blank in every kept column go too, as if the others had never been there.
        data = data[[name for name in data.columns if columns(name)]].dropna(how="all")
    if not text:
        data = data.apply(_typed_column)
    data.index = data.index.rename(ROW_INDEX)
    return data


def find_header_row(raw: pd.DataFrame) -> int:
    """Return the position of a raw table's header row, skipping title and unit rows above it.

    The header is the first of the first :data:`HEADER_SEARCH_ROWS` rows
    that fills more than half of the table's width and whose cells are all
    names: text that is not a number. A title (one cell, often merged across
    the sheet), a unit line or a group row of merged cells above the header
    fills too little of the width; a data row holds numbers. A header of
    two rows, names merged down over both and groups merged across, ends on
    its lower row: the one of names under the group's blank cells. When no
    row qualifies, the first row with a cell is the header.

    Parameters
    ----------
    raw : pandas.DataFrame
        The sheet's cells without a header (``header=None``): text for CSV,
        as Excel typed them for workbooks.

    Returns
    -------
    int
        Position (from 0) of the header row in ``raw``.
    """
    import numpy as np

    sample = raw.iloc[:HEADER_SEARCH_ROWS]
    filled = sample.map(_is_filled).to_numpy(dtype=bool)
    names = sample.map(_is_name).to_numpy(dtype=bool)
    counts = filled.sum(axis=1)
    if not counts.any():
        return 0
    qualifies = (counts * 2 > counts.max()) & (names.sum(axis=1) == counts)
    if not qualifies.any():
        return int(np.argmax(counts > 0))
    top = int(np.argmax(qualifies))
    if top + 1 < len(sample):
        upper, lower = filled[top], filled[top + 1]
        # A header of two rows (a group merged across, names merged down) ends on its lower row.
        if (names[top + 1] == lower).all() and (lower & ~upper).any() and (upper & ~lower).any():
            return top + 1
    return top


def excel_serial_dates(values: pd.Series) -> pd.Series | None:
    """Return a column of Excel serial day numbers (45717 = 2025-03-01) as dates, or None when it is not one.

    Parameters
    ----------
    values : pandas.Series
        A column's cells.

    Returns
    -------
    pandas.Series or None
        Dates (``datetime64``) when every non-blank cell is a number of days
        between 1950 and 2100 in Excel's count; None otherwise.
    """
    import pandas as pd

    numbers = pd.to_numeric(values, errors="coerce")
    present = values.notna()
    if not present.any() or numbers[present].isna().any():
        return None
    low, high = _EXCEL_SERIAL_RANGE
    if not numbers[present].between(low, high).all():
        return None
    return pd.to_datetime(numbers, unit="D", origin=_EXCEL_EPOCH)


def _is_filled(cell: object) -> bool:
    import pandas as pd

    if isinstance(cell, str):
        return bool(cell.strip())
    return not pd.isna(cell)


def _is_name(cell: object) -> bool:
    """Whether a cell reads as a column name: text that is not a number."""
    if not isinstance(cell, str) or not cell.strip():
        return False
    try:
        float(cell.replace(",", ""))
    except ValueError:
        return True
    return False


def header_position(raw: pd.DataFrame, header_row: int | None, path: Path) -> int:
    """Return the position of the header in ``raw``: the row the user gave (from 1), or the one found."""
    if raw.empty:
        msg = f"{path.name} is empty: it has no header row and no data"
        raise ReadError(msg)
    if header_row is None:
        return find_header_row(raw)
    if not 1 <= header_row <= len(raw):
        msg = f"{path.name}: --header-row {header_row} is outside the table, which has rows 1 to {len(raw)}"
        raise ReadError(msg)
    return header_row - 1


def under_header(raw: pd.DataFrame, position: int, path: Path) -> pd.DataFrame:
    """Return the rows below the header, named by it and labelled with their spreadsheet row numbers."""
    header = raw.iloc[position]
    above = raw.iloc[:position]
    names = {}
    for column in raw.columns:
        name = header[column]
        if not _is_filled(name):
            # A header merged over several rows holds its name in its top cell only.
            over = [cell for cell in above[column] if _is_filled(cell)]
            name = over[-1] if over else None
        if name is None:
            _check_headless(raw[column].iloc[position + 1 :], column, position, path)
            continue
        names[column] = _header_text(name)
    _check_unique(names, position, path)
    data = raw.iloc[position + 1 :][list(names)]
    data.columns = list(names.values())
    # Spreadsheet rows count from 1.
    data.index = data.index + 1
    return data


def _check_headless(values: pd.Series, column: int, position: int, path: Path) -> None:
    """Refuse values in a column without a header: no command could tell what they are."""
    filled = values.map(_is_filled)
    if filled.any():
        row = int(filled.idxmax()) + 1
        msg = (
            f"{path.name} row {row}, column {_column_letter(column)}: {values[filled.idxmax()]!r} "
            f"stands in a column without a header (row {position + 1}); give the column a header or clear it"
        )
        raise ReadError(msg)


def _header_text(cell: object) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def _check_unique(names: Mapping[int, str], position: int, path: Path) -> None:
    """Refuse two columns with one header: which one a command would use is a guess."""
    seen: dict[str, list[int]] = {}
    for column, name in names.items():
        seen.setdefault(name.strip(), []).append(column)
    for name, columns in seen.items():
        if len(columns) > 1:
            letters = " and ".join(_column_letter(column) for column in columns)
            msg = (
                f"{path.name} row {position + 1}: columns {letters} are both headed {name!r}; "
                f"give each column its own header"
            )
            raise ReadError(msg)


def _column_letter(position: int) -> str:
    """Spreadsheet letter of a column position from 0 (0 -> A, 26 -> AA)."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _is_date_header(name: str) -> bool:
    key = name.strip().lower()
    inside, ending = DATE_HEADER_WORDS
    return any(word in key for word in inside) or key.endswith(ending)


def _typed_column(values: pd.Series) -> pd.Series:
    """Type one column: numbers where every cell is a number and no id would lose its zeros; dates in date columns."""
    import numpy as np

    if _is_date_header(str(values.name)):
        dates = excel_serial_dates(values)
        if dates is not None:
            return dates
    if values.dtype == object:
        # Excel cells: text typed as text stays text unless every cell of the column is a number.
        kinds = values.dropna().map(type)
        if not kinds.eq(str).any():
            return values.infer_objects()
        text = values.where(values.isna(), values.astype(str))
    else:
        text = values
    text = text.str.strip()
    try:
        # A cast stops at the first text cell, so text columns cost little.
        numbers = text.astype("float64")
    except (ValueError, TypeError):
        return values
    if text.str.match(_KEEP_AS_TEXT).any():
        return values
    whole = np.isfinite(numbers).all() and (numbers == numbers.round()).all()
    return numbers.astype("int64") if whole else numbers


def row_numbers(frame: pd.DataFrame) -> np.ndarray:
    """Return the number the user knows each row of ``frame`` by, for error messages.

    A table read by :func:`read_rows`, a vector file read by
    :func:`read_vector` (features from 1), or a user's file loaded as a
    layer keeps its rows as its index, named :data:`ROW_INDEX`; any other
    frame is numbered as a spreadsheet would be: 2, 3 ... after the header.

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows.

    Returns
    -------
    numpy.ndarray
        One number per row.
    """
    import numpy as np

    if frame.index.name == ROW_INDEX:
        return frame.index.to_numpy()
    return np.arange(len(frame)) + 2


def without_blank_cells(data: pd.DataFrame) -> pd.DataFrame:
    """Blank out cells of spaces: they are as blank as empty ones (not measured, never zero)."""
    import pandas as pd

    blank = pd.DataFrame(
        {
            column: data[column].map(lambda cell: isinstance(cell, str) and not cell.strip())
            if data[column].dtype == object
            else data[column].str.strip().eq("").fillna(False)
            for column in data.columns
        },
        index=data.index,
    )
    return data.mask(blank.astype(bool))


def read_csv_cells(
    path: Path,
    layout: tuple[str, str, int] | None = None,
    nrows: int | None = None,
    chunk_rows: int | None = None,
) -> pd.DataFrame | Iterator[pd.DataFrame]:
    """Read a CSV or tab-separated text file's cells as text, without a header.

    ``layout`` is :func:`csv_layout`'s (found when not given); ``nrows``
    reads only the first rows and ``chunk_rows`` gives an iterator of
    blocks of that many rows, labelled by their position in the file.
    """
    import pandas as pd

    encoding, separator, width = layout or csv_layout(path)
    # pandas decodes the file as it parses: no copy of the whole text is held.
    with reading(path, pd.errors.ParserError, pd.errors.EmptyDataError):
        return pd.read_csv(
            path, sep=separator, header=None, names=range(width), encoding=encoding,
            skip_blank_lines=False, dtype=str, nrows=nrows, chunksize=chunk_rows,
        )


def csv_layout(path: Path) -> tuple[str, str, int]:
    """Return a CSV file's (encoding, separator, number of columns), refusing undecodable and empty files."""
    encoding = text_encoding(path, CSV_ENCODINGS)
    if encoding is None:
        msg = (
            f"cannot read {path.name}: it is neither UTF-8 nor GBK/GB18030 text; "
            f"save it as UTF-8 CSV"
        )
        raise ReadError(msg)
    with path.open(encoding=encoding, newline="") as stream:
        head = stream.read(_CSV_HEAD_CHARS).splitlines()[:HEADER_SEARCH_ROWS]
    if not any(line.strip() for line in head):
        msg = f"{path.name} is empty: it has no header row and no data"
        raise ReadError(msg)
    # Excel's "text (tab delimited)" export uses tabs; everything else commas.
    separator = "\t" if any("\t" in line for line in head) else ","
    # Title rows above the header are narrower than it: name the widest row's columns.
    width = max(line.count(separator) for line in head) + 1
    return encoding, separator, width


def _read_excel(path: Path, fmt: FileFormat, sheet: str | None) -> tuple[pd.DataFrame, str]:
    """Read a worksheet's cells as Excel typed them, without a header; also say which sheet it is."""
    import pandas as pd

    try:
        book = pd.ExcelFile(path, engine=fmt.driver)
    except ImportError as exc:
        msg = (
            f"cannot read {path.name}: {fmt.label} workbooks need the {fmt.driver} package, "
            f"which is not installed; save the workbook as .xlsx"
        )
        raise ReadError(msg) from exc
    except (ValueError, OSError, zipfile.BadZipFile, KeyError) as exc:
        msg = f"cannot read {path.name}: not a valid Excel workbook ({one_line(exc, with_type=False)})"
        raise ReadError(msg) from exc
    with book:
        name = _choose_sheet(path, book.sheet_names, sheet)
        others = [other for other in book.sheet_names if other != name]
        where = f"{path.name} sheet {name!r}" + (f" (other sheets: {', '.join(others)})" if others else "")
        return pd.read_excel(book, sheet_name=name, header=None, dtype=object), where


def _choose_sheet(path: Path, sheets: Sequence[str], sheet: str | None) -> str:
    if sheet is None:
        return sheets[0]
    if sheet not in sheets:
        msg = f"{path.name} has no sheet {sheet!r}; its sheets are: {', '.join(sheets)}"
        raise ReadError(msg)
    return sheet
