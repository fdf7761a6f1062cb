"""cqgis: GIS spatial analysis for Chongqing's 14th Five-Year energy-saving plan.

``import cqgis`` gives the Python API of :mod:`cqgis.api` (``cqgis.layer``,
the analyses, ``cqgis.build_map`` ...); each function's module is imported
when the function is first used.
"""

from cqgis.api import EXPORTS, resolve
from cqgis.version import __version__

__all__ = ["__version__", *EXPORTS]


def __getattr__(name: str) -> object:
    return resolve(name)


def __dir__() -> list[str]:
    return sorted({*globals(), *EXPORTS})
