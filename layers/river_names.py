"""The documented river table and anchor places that name rivers and orient them."""

from __future__ import annotations

import pandas as pd

from cqgis.layers.sources import DATA_DIR
from cqgis.layers.errors import LayerError

#: The rivers cqgis names, their receivers, published areas and documents.
RIVERS_FILE = "rivers.csv"

#: How a river's course may condition the DEM (see :func:`read_rivers`).
CONDITIONS = ("wdb", "anchors", "")

#: Places each named river is documented to pass, in downstream order.
ANCHORS_FILE = "river_anchors.csv"


def read_rivers() -> pd.DataFrame:
    """Read ``rivers.csv``, indexed by river, receivers before the rivers that flow into them.

    Columns: ``aliases`` (other names, ``;``-separated), ``flows_into``,
    ``condition`` (how its course conditions the DEM: ``wdb`` its WDB II
    course, ``anchors`` straight lines between its anchor places where no
    mapped course exists and the DEM is known to misroute it, empty for
    none), ``from_source``
    (the name runs up the main stem above the first anchor),
    ``published_area_km2``, ``area_source`` and ``source``.

    Returns
    -------
    pandas.DataFrame
        One row per river, in routing order.

    Raises
    ------
    LayerError
        When two rivers flow into each other.
    """
    table = pd.read_csv(
        DATA_DIR / RIVERS_FILE,
        dtype={"river": str, "aliases": str, "flows_into": str, "condition": str, "area_source": str, "source": str},
        keep_default_na=False,
        na_values={"published_area_km2": [""]},
    ).set_index("river")
    table["from_source"] = table["from_source"].astype(str).str.lower().eq("true")
    table["condition"] = table["condition"].astype(str).str.strip().str.lower()
    unknown = sorted(set(table["condition"]) - set(CONDITIONS))
    if unknown:
        msg = f"{RIVERS_FILE}: condition must be one of {', '.join(repr(c) for c in CONDITIONS)}, not {', '.join(unknown)}"
        raise LayerError(msg)
    return table.loc[_routing_order(table)]


def _routing_order(table: pd.DataFrame) -> list[str]:
    """Order rivers so that each comes after the river it flows into (stable otherwise)."""

    def depth(river: str, below: tuple[str, ...] = ()) -> int:
        receiver = table.at[river, "flows_into"]
        if receiver in below + (river,):
            msg = f"{RIVERS_FILE}: {river} and {receiver} flow into each other"
            raise LayerError(msg)
        return 1 + depth(receiver, below + (river,)) if receiver in table.index else 0

    return sorted(table.index, key=depth)


def read_anchors() -> pd.DataFrame:
    """Read ``river_anchors.csv`` (river, seq, place, geonameid, lon, lat, source), each river in ``seq`` order.

    Returns
    -------
    pandas.DataFrame
        Rivers in order of first appearance, places in ``seq`` order.

    Raises
    ------
    LayerError
        When a river has anchors but no row in ``rivers.csv``.
    """
    table = pd.read_csv(DATA_DIR / ANCHORS_FILE, dtype={"river": str, "place": str, "source": str})
    unknown = sorted(set(table["river"]) - set(read_rivers().index))
    if unknown:
        msg = f"{ANCHORS_FILE}: {', '.join(unknown)} not listed in {RIVERS_FILE}"
        raise LayerError(msg)
    rank = table["river"].map({river: i for i, river in enumerate(dict.fromkeys(table["river"]))})
    return table.assign(rank=rank).sort_values(["rank", "seq"], kind="stable").drop(columns="rank").reset_index(drop=True)


def aliases() -> dict[str, str]:
    """Return every other name of a river mapped to the name cqgis uses (e.g. 澎溪河 -> 小江)."""
    table = read_rivers()
    return {
        alias.strip(): river
        for river, text in table["aliases"].items()
        for alias in text.split(";")
        if alias.strip()
    }


def sources(texts: pd.Series) -> str:
    """Join distinct document citations with 全角 semicolons, in order."""
    return "；".join(dict.fromkeys(texts.dropna()))
