"""Base exception shared by every cqgis package, the one "did you mean" rule and the one-line message; the CLI turns an error into one clean line."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class CqgisError(Exception):
    """A problem the user can fix: bad input, a missing file, an unknown name.

    The CLI prints the message on one line and exits with ``exit_code``;
    anything that is not a ``CqgisError`` is a bug and keeps its traceback.
    """

    exit_code = 1


class UsageError(CqgisError):
    """The command was called with arguments that cannot work."""

    exit_code = 2


#: How alike a word must be to a known one (difflib's ratio) to be offered in "did you mean".
CLOSE_CUTOFF = 0.5

#: Most known words offered in "did you mean".
CLOSE_COUNT = 3


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """Return the "did you mean" hint for an unknown word: the known words closest to it, or empty.

    The one rule every unknown name (a district, a theme, a target, a key)
    is answered by, so a typo is offered the same help everywhere.

    Parameters
    ----------
    word : str
        What the user wrote.
    known : iterable of str
        The words that would have been accepted.

    Returns
    -------
    str
        ``"did you mean A, B?"``, or ``""`` when nothing is at least
        :data:`CLOSE_CUTOFF` alike.
    """
    close = difflib.get_close_matches(str(word), list(dict.fromkeys(known)), n=CLOSE_COUNT, cutoff=CLOSE_CUTOFF)
    return f"did you mean {', '.join(close)}?" if close else ""


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
