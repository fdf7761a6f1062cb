"""Base exception shared by every cqgis package, and the one "did you mean" rule; the CLI turns an error into one clean line."""

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
