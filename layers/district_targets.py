"""District targets: a user's table of the targets districts set themselves, read like a layer's file.

The plan (四(一)1) has each district set its own energy targets, so a
district's result judged against the city-wide figure is only a reference
(参照全市目标). No district's own 2025 targets are embedded: the office
gives them as a table (target id or indicator wording, district, target
figure in the plan target's unit, optionally ``source`` and ``precision``),
and :func:`cqgis.analysis.compliance.evaluate` judges those districts
against them. The comparator and unit stay the plan target's.
"""

from __future__ import annotations

from cqgis.layers import indicators
from cqgis.layers.schema import PROVENANCE_FIELDS, Field, Schema

SCHEMA = Schema(
    name="district_targets",
    title_zh="区县目标",
    geometry_type=None,
    fields=(
        # Targets and districts are named as in an indicators table.
        *(indicators.SCHEMA.field(name) for name in ("target_id", "indicator", "adcode", "district")),
        Field("value", "float", description="the district's own target figure, in the plan target's unit", aliases=("目标值", "区县目标", "目标")),
        *PROVENANCE_FIELDS,
    ),
    description="Targets districts set themselves, overriding the city-wide figure for them.",
)
