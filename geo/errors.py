"""Errors raised by the geo package: bad coordinate systems and unreadable or unwritable files."""

from cqgis.errors import CqgisError, UsageError


class CRSError(UsageError):
    """A coordinate system name or code that cannot be used."""


class ReadError(CqgisError):
    """A file that cannot be read: missing, unknown format, or content that does not fit."""


class NoRowsError(ReadError):
    """A table with a header but no data rows under it: a caller may have a better hint than the reader."""


class WriteError(CqgisError):
    """An output that cannot be written; nothing is left behind."""
