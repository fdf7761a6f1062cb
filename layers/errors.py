"""Errors raised by the layers package."""

from __future__ import annotations

from cqgis.errors import CqgisError, UsageError


class LayerError(CqgisError):
    """A layer's data does not match its schema, or a layer cannot be built."""


class UnknownLayerError(UsageError):
    """A layer name that the catalogue does not hold."""


class UnknownPlaceError(UsageError, LayerError):
    """A place name (district, functional zone, basin, river) that no layer holds; the message offers close names."""
