"""cqgis: GIS spatial analysis for Chongqing's 14th Five-Year energy-saving plan."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cqgis")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
