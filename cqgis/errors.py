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


def one_line(exc: BaseException, with_type: bool | None = None) -> str:
    """Return an exception's message on one line, as the CLI and the atlas report it.

    Parameters
    ----------
    exc : BaseException
        Any exception; GDAL's and other libraries' messages can span lines.
    with_type : bool, optional
        Prefix the exception's class name (``ValueError: ...``), which tells
        a reader of a report that an unexpected error, not a user mistake,
        stopped a map. Default: for anything but a :class:`CqgisError`.

    Returns
    -------
    str
        The message with runs of whitespace folded to one space; the class
        name alone when the message is empty.
    """
    text = " ".join(str(exc).split())
    if with_type is None:
        with_type = not isinstance(exc, CqgisError)
    if not text:
        return type(exc).__name__
    return f"{type(exc).__name__}: {text}" if with_type else text
