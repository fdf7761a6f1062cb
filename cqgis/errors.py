"""Base exception shared by every cqgis package; the CLI turns it into one clean line."""


class CqgisError(Exception):
    """A problem the user can fix: bad input, a missing file, an unknown name.

    The CLI prints the message on one line and exits with ``exit_code``;
    anything that is not a ``CqgisError`` is a bug and keeps its traceback.
    """

    exit_code = 1


class UsageError(CqgisError):
    """The command was called with arguments that cannot work."""

    exit_code = 2
