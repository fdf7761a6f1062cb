"""cqgis: GIS spatial analysis for Chongqing's 14th Five-Year energy-saving plan.

``import cqgis`` gives the Python API of :mod:`cqgis.api` (``cqgis.layer``,
the analyses, ``cqgis.build_map`` ...); each function's module is imported
when the function is first used.
"""

from importlib.metadata import PackageNotFoundError, version

from cqgis.api import EXPORTS, resolve

try:
    __version__ = version("cqgis")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__", *EXPORTS]


def __getattr__(name: str) -> object:
    return resolve(name)


def __dir__() -> list[str]:
    return sorted({*globals(), *EXPORTS})
