"""Layer `green_factories`: Chongqing's factories on the published green-factory lists (绿色工厂), as a table.

Method
------
One row per listing in ``data/green_factories.csv`` (see
``data/GREEN_LISTS.md``): the factory's name as listed, the level of the
list (国家级 for the 工业和信息化部 绿色制造名单, 市级 for 重庆市经济和信息化委员会's
lists), the batch and its year, and the district when it can be told. The
lists give the province only, so ``district`` is filled where a document
states it (``district_precision`` ``exact``) or the factory's name holds a
district's name (``approximate``), and is otherwise left empty: such a
factory is counted as 未定位 (not placed), never guessed. ``precision``
is that of the listing itself (``exact``: as published).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from cqgis.geo.io import row_numbers
from cqgis.layers import places
from cqgis.layers.schema import PROVENANCE_FIELDS, Field, Schema
from cqgis.layers.sources import DATA_DIR

SOURCE_PACKAGES = ()
DEPENDS = ("districts",)
DATA_FILES = ("green_factories.csv",)

#: Levels of the green-manufacturing lists.
LEVELS = ("国家级", "市级")
#: How sure a row's district is; empty when it is not known.
DISTRICT_PRECISIONS = ("exact", "approximate")

SCHEMA = Schema(
    name="green_factories",
    title_zh="绿色工厂名单",
    geometry_type=None,
    fields=(
        Field("name", "str", description="factory (company) name as listed", aliases=("企业名称", "工厂名称", "名称")),
        Field("level", "str", allowed=LEVELS, description="国家级 (MIIT list) / 市级 (municipal list)", aliases=("级别", "层级")),
        Field("batch", "str", description="batch as the list names it (第一批, 2021年度 ...)", aliases=("批次",)),
        Field("list_year", "int", description="year of the batch", aliases=("年度", "年份", "入选年份")),
        Field("published", "str", required=False, description="publication date of the list or report (YYYY-MM-DD)", aliases=("发布日期",)),
        Field("district", "str", required=False, description="district (区县) full name; empty when not known", aliases=("区县", "所在区县")),
        Field(
            "district_precision", "str", required=False, allowed=DISTRICT_PRECISIONS,
            description="exact: a document states the district; approximate: inferred from the name; empty: not placed",
            aliases=("区县精度",),
        ),
        Field("adcode", "str", required=False, derived=True, description="district adcode (from the district name); empty when not placed"),
        Field("notes", "str", required=False, description="how the row was read and placed", aliases=("备注",)),
        *PROVENANCE_FIELDS,
    ),
    description="Green factories on the national and municipal lists, with batch, district where known and sources.",
)


def complete(frame: pd.DataFrame, deps: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Add the ``adcode`` of each row's district (a user's file or the curated CSV).

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with ``district`` (full or short name, or empty).
    deps : mapping of str to pandas.DataFrame
        Built layers; ``districts`` is used.

    Returns
    -------
    pandas.DataFrame
        A copy of ``frame`` with ``district`` as the full name and ``adcode``.

    Raises
    ------
    cqgis.layers.errors.UnknownPlaceError
        When a district is not one of Chongqing's.
    """
    districts = deps["districts"]
    named = frame.get("district", pd.Series(pd.NA, index=frame.index))
    where = [f"row {n}, column district" for n in row_numbers(frame)]
    district = places.canonical(named, places.lookup(districts, "district"), "Chongqing district", where)
    adcode = district.map(districts.set_index("name")["adcode"], na_action="ignore").astype("string")
    return frame.assign(district=district, adcode=adcode)


def build(deps: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Build the table from ``data/green_factories.csv``.

    Parameters
    ----------
    deps : mapping of str to pandas.DataFrame
        The layers named in :data:`DEPENDS`: ``districts``.

    Returns
    -------
    pandas.DataFrame
        The table conformed to :data:`SCHEMA`.
    """
    table = pd.read_csv(DATA_DIR / "green_factories.csv", dtype=str)
    return SCHEMA.conform(complete(table, deps))
