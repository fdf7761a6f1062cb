"""Provenance of analysis results: the weakest precision and the sources of the inputs behind each row."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

import pandas as pd

from cqgis.config import PRECISIONS

# A result is only as good as its weakest input.
_RANK: Mapping[str, int] = MappingProxyType({name: rank for rank, name in enumerate(PRECISIONS)})


def weakest(precisions: Iterable[object]) -> str:
    """Return the weakest precision among ``precisions`` (``exact`` when there are none).

    An input whose precision is not known (a user's file without a
    ``precision`` column or with blank cells: None, NA, empty text, or a word
    that is not one of :data:`cqgis.config.PRECISIONS`) counts as
    ``approximate``: nothing says it is exact. Callers leave out inputs that
    are absent (no value, no reach), they do not pass them as missing.

    Parameters
    ----------
    precisions : iterable
        The precision of each input.

    Returns
    -------
    str
        One of :data:`cqgis.config.PRECISIONS`.
    """
    unknown = _RANK["approximate"]
    ranks = [_RANK.get(p, unknown) if isinstance(p, str) else unknown for p in precisions]
    return PRECISIONS[max(ranks, default=0)]


def join_sources(sources: Iterable[str]) -> str:
    """Join the distinct sources of a group's inputs, in first-seen order, with '；'.

    Parameters
    ----------
    sources : iterable of str
        Source texts; blank and non-text entries are ignored.

    Returns
    -------
    str
        The distinct sources joined; empty when there are none.
    """
    seen = dict.fromkeys(s for s in sources if isinstance(s, str) and s)
    return "；".join(seen)


def summarise(frame: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """Per group of ``frame``, the weakest ``precision`` and the joined ``source``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with ``precision`` and ``source`` columns (either may be absent).
    by : str or list of str
        Grouping columns.

    Returns
    -------
    pandas.DataFrame
        Indexed by the groups, with columns ``precision`` and ``source``.
    """
    provenance = frame.assign(
        precision=frame["precision"] if "precision" in frame else "approximate",
        source=frame["source"] if "source" in frame else "",
    )
    grouped = provenance.groupby(by, sort=True, dropna=False)
    return pd.DataFrame(
        {
            "precision": grouped["precision"].agg(weakest),
            "source": grouped["source"].agg(join_sources),
        }
    )
