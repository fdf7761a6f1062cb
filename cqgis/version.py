"""The installed cqgis version, in a module of its own so that any module can read it without importing the API."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cqgis")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
