"""Layer `indicators`: SYNTHETIC achieved values of the plan's targets, city-wide and per district, for the demo.

Method
------
No public table gives, district by district, the 2025 values of the plan's
indicators. To exercise the compliance analysis and its maps, this layer
invents them deterministically (seed :data:`SEED`): for every target of the
``targets`` table one city-wide value, and for targets whose scope is
``district`` one value per district, drawn around the target figure so that
some units meet it and some fall short. Every row is ``synthetic``; maps
that show it carry the 示例数据 badge. The office replaces this layer with its
own statistics (a table of target id or indicator, district, value).

Values are in the target's unit; for a ``下降`` target the value is the
achieved reduction against the baseline, in the same unit as the target.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cqgis.layers.places import CITY_ROW as CITY
from cqgis.layers.schema import PROVENANCE_FIELDS, Field, Schema

SOURCE_PACKAGES = ()
DEPENDS = ("targets", "districts")

SEED = 2025
#: The year the example values stand for.
YEAR = 2025
SOURCE = "示例数据：cqgis 以固定随机种子生成（seed 2025），围绕规划目标值随机取值；非真实统计数据"

#: Targets whose values cqgis computes from other layers, so none is invented here.
COMPUTED = ("rural_sewage_treatment_rate",)

#: Relative spread of the invented values around the target: most units land
#: within ±12 % of it, so both sides of the target are well represented.
SPREAD = 0.12

SCHEMA = Schema(
    name="indicators",
    title_zh="指标完成情况",
    geometry_type=None,
    fields=(
        Field("target_id", "str", required=False, description="id of the target in the targets table", aliases=("目标编号", "指标编号")),
        Field("indicator", "str", required=False, description="indicator as the plan words it (when no target_id)", aliases=("指标", "指标名称")),
        Field("adcode", "str", required=False, description="district adcode; empty for the whole city", aliases=("区划代码", "行政区划代码")),
        Field("district", "str", required=False, description="district name, or 全市", aliases=("区县", "地区", "行政区")),
        Field("year", "int", required=False, description="year of the value", aliases=("年份", "年度")),
        Field("value", "float", description="achieved value in the target's unit", aliases=("实际值", "完成值", "数值", "值")),
        *PROVENANCE_FIELDS,
    ),
    description="Achieved indicator values per district and city (the embedded one is a synthetic example).",
)


def build(deps: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Invent the example values for every target (see the module docstring).

    Parameters
    ----------
    deps : mapping of str to pandas.DataFrame
        The layers named in :data:`DEPENDS`: ``targets`` and ``districts``.

    Returns
    -------
    pandas.DataFrame
        The table conformed to :data:`SCHEMA`.
    """
    # Rural sewage rates come from the rural_sewage layer through its analysis, not from here.
    targets = deps["targets"][~deps["targets"]["id"].isin(COMPUTED)]
    districts = deps["districts"].sort_values("adcode")
    rng = np.random.default_rng(SEED)
    city = pd.DataFrame({"target_id": targets["id"], "adcode": pd.NA, "district": CITY})
    per_district = targets[targets["scope"] == "district"]
    local = pd.DataFrame(
        {
            "target_id": np.repeat(per_district["id"].to_numpy(), len(districts)),
            "adcode": np.tile(districts["adcode"].to_numpy(), len(per_district)),
            "district": np.tile(districts["name"].to_numpy(), len(per_district)),
        }
    )
    rows = pd.concat([city, local], ignore_index=True)
    figure = rows["target_id"].map(targets.set_index("id")["value"]).astype(float).to_numpy()
    value = figure * (1 + rng.normal(0.02, SPREAD, len(rows)))
    # Percent shares cannot pass 100 %.
    unit = rows["target_id"].map(targets.set_index("id")["unit"]).to_numpy()
    value = np.where(unit == "%", np.minimum(value, 100.0), value)
    table = rows.assign(
        indicator=rows["target_id"].map(targets.set_index("id")["indicator"]),
        year=YEAR,
        value=np.round(value, 2),
        source=SOURCE,
        precision="synthetic",
    )
    return SCHEMA.conform(table)
