"""Names and Chinese titles of the thematic maps (light to import: the CLI lists them without loading geopandas)."""

from collections.abc import Mapping
from types import MappingProxyType

#: Theme name -> Chinese title (the area is put before it).
THEMES: Mapping[str, str] = MappingProxyType({
    "overview": "一区两群总览",
    "water": "水环境质量",
    "hydrogen": "氢燃料电池汽车示范与加氢站覆盖",
    "parks": "绿色园区与园区循环化改造",
    "rural-sewage": "农村生活污水治理",
    "compliance": "规划目标达标情况",
})
