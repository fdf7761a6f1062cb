"""Place names users write: the city, districts (full or short name), functional zones, basins and rivers, resolved one way.

Every name a user gives, on the command line or in a file's column, goes
through :func:`canonical` (many names) or :func:`rows` (one area): a name
is known when it is a place's full name, its short name (涪陵 for 涪陵区,
两江新区 for 重庆两江新区), a basin with or without 流域, or a river's other
name (澎溪河 for 小江); an unknown name raises :class:`UnknownPlaceError`
with the one "did you mean" rule of :func:`cqgis.errors.did_you_mean`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

import numpy as np
import pandas as pd

from cqgis.errors import did_you_mean
from cqgis.layers.errors import UnknownPlaceError
from cqgis.layers.river_names import aliases as river_aliases

#: The city's name, in titles and as the area of a whole-city map.
CITY = "重庆市"

#: What tables call the city as a whole: the city-wide row of a report or of a user's indicators.
CITY_ROW = "全市"

#: Every name that means the whole city.
CITY_NAMES = (CITY, CITY_ROW)

#: Suffix a basin's name may carry (琼江流域 is the basin 琼江).
BASIN_SUFFIX = "流域"

#: Kind of place -> how messages call it.
KINDS: Mapping[str, str] = MappingProxyType({
    "district": "district",
    "functional_zone": "functional zone",
    "basin": "basin",
    "river": "river",
})


def lookup(frame: pd.DataFrame, kind: str) -> pd.Series:
    """Return every name a layer's places go by, mapped to the place's ``name`` in the layer.

    Parameters
    ----------
    frame : pandas.DataFrame
        The ``districts``, ``functional_zones``, ``basins`` or ``rivers``
        layer (its ``name``, and ``short_name`` where it has one).
    kind : str
        One of :data:`KINDS`.

    Returns
    -------
    pandas.Series
        Layer name indexed by every accepted name; the full name wins where
        a short name is also someone's full name.
    """
    names = frame["name"].dropna().astype(str)
    names = names[names.str.strip() != ""].to_numpy()
    other: list[pd.Series] = [pd.Series(names, index=names)]
    if "short_name" in frame:
        shorts = frame.loc[frame["name"].notna(), "short_name"].astype("string").to_numpy()
        other.append(pd.Series(names, index=shorts))
    if kind == "basin":
        other.append(pd.Series(names, index=[f"{name}{BASIN_SUFFIX}" for name in names]))
    if kind == "river":
        known = set(names)
        extra = {alias: river for alias, river in river_aliases().items() if river in known}
        other.append(pd.Series(list(extra.values()), index=list(extra), dtype=object))
    found = pd.concat(other)
    found = found[found.index.notna()]
    return found[~found.index.duplicated()]


def canonical(
    given: pd.Series, known: pd.Series, what: str, where: Sequence[str] | None = None
) -> pd.Series:
    """Return the layer name of each given place name; blanks stay missing.

    Parameters
    ----------
    given : pandas.Series
        Names as the user wrote them (surrounding spaces are ignored).
    known : pandas.Series
        A :func:`lookup` (or several concatenated).
    what : str
        What a name must be, for the message (``district``, ``district or
        functional zone``).
    where : sequence of str, optional
        Where each name comes from (``indicators row 3``), aligned with
        ``given``; the message names the first unknown one's.

    Returns
    -------
    pandas.Series
        Layer names (string dtype), indexed like ``given``.

    Raises
    ------
    UnknownPlaceError
        For the first name ``known`` does not hold; the message says how
        many more there are.
    """
    text = given.astype("string").str.strip().replace("", pd.NA)
    found = text.map(known, na_action="ignore").astype("string")
    unknown = (text.notna() & found.isna()).to_numpy()
    if unknown.any():
        first = int(np.flatnonzero(unknown)[0])
        more = int(unknown.sum()) - 1
        tail = f" ({more} more unknown)" if more else ""
        at = f"{where[first]}: " if where is not None else ""
        msg = f"{at}{_unknown(str(text.iloc[first]), known, what)}{tail}"
        raise UnknownPlaceError(msg)
    return found


def rows(name: str, frame: pd.DataFrame, kind: str) -> np.ndarray:
    """Return which rows of a layer are the place called ``name``.

    Parameters
    ----------
    name : str
        A full, short or other name (see :func:`lookup`).
    frame : pandas.DataFrame
        The layer.
    kind : str
        One of :data:`KINDS`.

    Returns
    -------
    numpy.ndarray
        Booleans, one per row; at least one is true.

    Raises
    ------
    UnknownPlaceError
        When no place of the layer goes by ``name``.
    """
    found = canonical(pd.Series([name]), lookup(frame, kind), KINDS[kind]).iloc[0]
    if pd.isna(found):
        msg = f"no {KINDS[kind]} given"
        raise UnknownPlaceError(msg)
    return frame["name"].astype("string").eq(found).fillna(False).to_numpy()


def is_city(names: pd.Series) -> pd.Series:
    """Return, for each name, whether it means the whole city (:data:`CITY_NAMES`).

    Parameters
    ----------
    names : pandas.Series
        Names as written.

    Returns
    -------
    pandas.Series
        Booleans, indexed like ``names``.
    """
    return names.astype("string").str.strip().isin(CITY_NAMES).fillna(False).astype(bool)


def _unknown(name: str, known: pd.Series, what: str) -> str:
    """Return the message for an unknown name: close names, else every layer name."""
    hint = did_you_mean(name, known.index.astype(str)) or f"known names: {', '.join(sorted(set(known)))}"
    return f"unknown {what} '{name}'; {hint}"
