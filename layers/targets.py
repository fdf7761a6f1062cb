"""Layer `targets`: every quantitative 2025 target of the plan, as a table.

One row per target figure of 《重庆市“十四五”节能减排综合工作实施方案》,
curated by hand in ``data/targets.csv``; ``data/TARGETS_README.md`` gives the
rules for comparators, scopes and the numbers judged not to be targets, and
``tests/test_targets_seed.py`` checks the table against the plan's text. The
figures are the plan's own, so every row is ``exact``.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from cqgis.layers.sources import DATA_DIR
from cqgis.layers.schema import PROVENANCE_FIELDS, Field, Schema

SOURCE_PACKAGES = ()
DEPENDS = ()
DATA_FILES = ("targets.csv",)

PLAN = "《重庆市“十四五”节能减排综合工作实施方案》"
COMPARATORS = ("≥", "≤", "=", "下降", "左右")
SCOPES = ("city", "district", "zone", "sector")

SCHEMA = Schema(
    name="targets",
    title_zh="“十四五”节能减排目标",
    geometry_type=None,
    fields=(
        Field("id", "str", description="stable target id"),
        Field("indicator", "str", description="the indicator as the plan words it", aliases=("指标", "指标名称")),
        Field("value", "float", description="the target figure", aliases=("目标值",)),
        Field("unit", "str", description="unit of the figure (%, 万吨, 个 ...)", aliases=("单位",)),
        Field("comparator", "str", allowed=COMPARATORS, description="≥ / ≤ / = / 下降 / 左右"),
        Field("baseline_year", "int", required=False, description="base year when the plan states one"),
        Field("scope", "str", allowed=SCOPES, description="city / district / zone / sector"),
        Field("layer", "str", required=False, description="cqgis layer the target can be mapped on"),
        Field("section", "str", description="the plan's section number, e.g. 三(五)3"),
        Field("lead_departments", "str", description="lead departments, 牵头 first"),
        Field("period", "str", allowed=("2025", "十四五"), description="到2025年 or “十四五”期间"),
        Field("notes", "str", required=False, description="how the row was read from the plan"),
        *PROVENANCE_FIELDS,
    ),
    description="The plan's quantitative targets: indicator, figure, comparator, scope and section.",
)


def build(deps: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Build the table from ``data/targets.csv``.

    Parameters
    ----------
    deps : mapping of str to pandas.DataFrame
        The layers named in :data:`DEPENDS`; there are none, so it is unused.

    Returns
    -------
    pandas.DataFrame
        The table conformed to :data:`SCHEMA`.
    """
    table = pd.read_csv(DATA_DIR / "targets.csv", dtype=str)
    table = table.assign(source=PLAN + " " + table["section"], precision="exact")
    return SCHEMA.conform(table)
