"""Errors raised by the maps package: unusable map specifications, unknown outputs, missing fonts or assets."""

from __future__ import annotations

from cqgis.errors import CqgisError, UsageError


class MapError(CqgisError):
    """A map cannot be drawn from what it was given: a missing column, a wrong geometry type."""


class MapOptionError(UsageError):
    """A rendering option that cannot work: an unknown basemap, a missing key, an unknown format."""


class AssetError(MapError):
    """A file the maps need (Leaflet, a Chinese font) is not installed."""

