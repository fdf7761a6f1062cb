"""QGIS layer styles inside a GeoPackage: the ``layer_styles`` table QGIS reads a layer's default style from.

QGIS (and GDAL's QGIS-compatible writers) keep one row per style in a
``layer_styles`` attribute table; a row whose ``useAsDefault`` is true is
applied when the layer is opened. :func:`write_styles` adds or replaces
the rows of some layers and keeps the rows of the others, so a GeoPackage
written layer by layer ends with one default style per layer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path
from typing import NamedTuple

#: Name of the table QGIS reads styles from.
STYLE_TABLE = "layer_styles"
#: Columns of :data:`STYLE_TABLE`, in the order QGIS creates them.
STYLE_COLUMNS = (
    "f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName",
    "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time",
)


class LayerStyle(NamedTuple):
    """A layer's style as QGIS stores it in ``layer_styles``.

    Parameters
    ----------
    qml : str
        The QGIS style document (``styleQML``), which QGIS applies.
    sld : str
        The same style as OGC SLD (``styleSLD``), for other clients; empty when there is none.
    """

    qml: str
    sld: str = ""


def write_styles(
    path: str | Path, styles: Mapping[str, str | LayerStyle], update_time: str, owner: str = "cqgis"
) -> None:
    """Store a default QGIS style (QML, and SLD when given) for each of some layers of a GeoPackage.

    Run it under the same fixed ``OGR_CURRENT_DATE`` as the layers were
    written with: the table's own entry in ``gpkg_contents`` is time-stamped
    by GDAL.

    Parameters
    ----------
    path : str or pathlib.Path
        An existing GeoPackage holding the layers.
    styles : mapping of str to str or LayerStyle
        Layer (table) name -> its style (a bare string is the QML). Rows of
        other layers are kept; earlier rows of these layers are replaced.
    update_time : str
        ISO 8601 time stored in ``update_time``: fixed, so that the same
        data gives the same bytes.
    owner : str
        Written in ``owner``.

    Raises
    ------
    KeyError
        A layer name that is not a table with geometry in the file.
    """
    import pandas as pd
    import pyogrio

    path = Path(path)
    with closing(sqlite3.connect(path)) as db:
        geometry_columns = dict(db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        has_table = db.execute(
            "SELECT 1 FROM gpkg_contents WHERE table_name = ?", (STYLE_TABLE,)
        ).fetchone() is not None
    rows = pd.DataFrame(
        [
            {
                "f_table_catalog": "",
                # QGIS finds a layer's rows by f_table_schema = '' (not NULL).
                "f_table_schema": "",
                "f_table_name": name,
                "f_geometry_column": geometry_columns[name],
                "styleName": name,
                "styleQML": style.qml,
                "styleSLD": style.sld,
                "useAsDefault": True,
                "description": "",
                "owner": owner,
                "ui": "",
                "update_time": pd.Timestamp(update_time),
            }
            for name, style in ((name, LayerStyle(given) if isinstance(given, str) else given) for name, given in styles.items())
        ],
        columns=list(STYLE_COLUMNS),
    )
    if has_table:
        kept = pyogrio.read_dataframe(path, layer=STYLE_TABLE, read_geometry=False)
        kept = kept[~kept["f_table_name"].isin(list(styles))]
        rows = pd.concat([kept[list(STYLE_COLUMNS)], rows], ignore_index=True)
    rows["update_time"] = pd.to_datetime(rows["update_time"], utc=True)
    rows["useAsDefault"] = rows["useAsDefault"].astype(bool)
    # Sorted, so that the bytes do not depend on the order layers were written in.
    rows = rows.sort_values("f_table_name", kind="stable", ignore_index=True)
    pyogrio.write_dataframe(rows, path, layer=STYLE_TABLE, driver="GPKG")
