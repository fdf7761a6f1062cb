"""The GB 3838-2002 surface-water standard: Table 1's limits, the class names, and the class a concentration falls in."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

#: GB 3838-2002 Table 1 (基本项目标准限值), one row per item and water-body kind, with its source.
TABLE_PATH = Path(__file__).with_name("data") / "gb3838.csv"

#: The five classes of the standard and 劣Ⅴ (worse than Ⅴ), best first.
CLASS_NAMES = ("Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ", "劣Ⅴ")
#: Class index of 劣Ⅴ; the indices below it are the standard's classes Ⅰ..Ⅴ.
WORSE_THAN_V = len(CLASS_NAMES) - 1
#: The classes a section's target can be (the standard's five).
TARGET_CLASSES = CLASS_NAMES[:WORSE_THAN_V]
#: Column names of the limits of classes Ⅰ..Ⅴ in :func:`standard`, also the Latin spellings of the classes.
LIMIT_COLUMNS = ("I", "II", "III", "IV", "V")


def _spellings() -> dict[str, str]:
    names = {}
    for name, latin, digit, chinese in zip(TARGET_CLASSES, LIMIT_COLUMNS, "12345", "一二三四五"):
        for form in (name, latin, latin.lower(), digit, chinese):
            names[form] = names[f"{form}类"] = name
            if name == "Ⅴ":
                names[f"劣{form}"] = names[f"劣{form}类"] = CLASS_NAMES[WORSE_THAN_V]
    return names


#: How users' tables write a class (Ⅱ, Ⅱ类, II, ii, 2, 二类, 劣Ⅴ类 ...), to its name in :data:`CLASS_NAMES`.
CLASS_SPELLINGS = MappingProxyType(_spellings())


def standard() -> pd.DataFrame:
    """Return GB 3838-2002 Table 1 as a frame: one row per item and water-body kind.

    Returns
    -------
    pandas.DataFrame
        ``code``, ``name_zh``, ``unit``, ``bound`` (upper / lower / range),
        ``I`` .. ``V`` (float; the upper limit for pH), ``low`` (6 for pH),
        ``applies_to``, ``used_for_class_rivers``, ``used_for_class_lakes``,
        ``source``.
    """
    table = pd.read_csv(TABLE_PATH, dtype=str)
    ranged = table["bound"].eq("range")
    table["low"] = pd.to_numeric(table["I"].where(ranged).str.split("-").str[0])
    for column in LIMIT_COLUMNS:
        table[column] = pd.to_numeric(table[column].where(~ranged, table[column].str.split("-").str[1]))
    for column in ("used_for_class_rivers", "used_for_class_lakes"):
        table[column] = table[column].str.lower().eq("true")
    return table


def limits(waterbody: str, lake_tn_in_class: bool = False) -> pd.DataFrame:
    """Return the Table 1 limits a ``river`` or ``lake-reservoir`` is classed with, indexed by item code.

    Parameters
    ----------
    waterbody : {"river", "lake-reservoir"}
        Lakes and reservoirs have their own total phosphorus limits and
        assess total nitrogen.
    lake_tn_in_class : bool
        Let a lake's total nitrogen count towards its class (some provincial
        schemes do; the national rules assess it on its own).

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`standard` that apply, with a column ``used``:
        whether the item counts towards the class.
    """
    table = standard()
    lake = waterbody == "lake-reservoir"
    rows = table[table["applies_to"].isin(["both", "lake" if lake else "river"])]
    used = rows["used_for_class_lakes" if lake else "used_for_class_rivers"].copy()
    if lake and lake_tn_in_class:
        used |= rows["code"].eq("tn")
    return rows.assign(used=used).set_index("code")


def item_classes(codes: np.ndarray, means: np.ndarray, table: pd.DataFrame) -> np.ndarray:
    """Return the class index (0 = Ⅰ .. 5 = 劣Ⅴ) of each item's concentration.

    The class is the best whose limit the value meets: ``C <= S`` for upper
    bounds, ``C >= S`` for dissolved oxygen (a lower bound); pH meets every
    class within its range and is 劣Ⅴ outside it.

    Parameters
    ----------
    codes : numpy.ndarray
        Item code of each value (an index of ``table``).
    means : numpy.ndarray
        The concentrations, float.
    table : pandas.DataFrame
        From :func:`limits`.

    Returns
    -------
    numpy.ndarray
        Class indices into :data:`CLASS_NAMES`; -1 where the value is NaN.
    """
    rows = table.loc[codes]
    bounds = rows[list(LIMIT_COLUMNS)].to_numpy(float)
    c = means[:, None]
    upper = np.sum(c > bounds, axis=1)
    lower = np.sum(c < bounds, axis=1)
    inside = (means >= rows["low"].to_numpy(float)) & (means <= bounds[:, 0])
    ranged = np.where(inside, 0, WORSE_THAN_V)
    bound = rows["bound"].to_numpy(str)
    found = np.select([bound == "upper", bound == "lower"], [upper, lower], ranged)
    return np.where(np.isnan(means), -1, found)
