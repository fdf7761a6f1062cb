"""Layer schemas: field names, types, allowed values and geometry type, and conforming a frame to them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from cqgis import config
from cqgis.config import PRECISIONS
from cqgis.geo import validate as validation
from cqgis.layers.errors import LayerError

DType = Literal["str", "int", "float", "bool"]

#: Pandas dtypes the schema types are stored as; every one holds missing values.
_PANDAS_DTYPES: Mapping[str, str] = MappingProxyType(
    {"str": "string", "int": "Int64", "float": "Float64", "bool": "boolean"}
)

#: How many problems a LayerError message lists before summarising the rest.
_SHOWN_PROBLEMS = 5


@dataclass(frozen=True)
class Field:
    """One attribute column of a layer.

    Parameters
    ----------
    name : str
        Column name (English, snake_case).
    dtype : {"str", "int", "float", "bool"}
        Value type; stored as pandas' nullable ``string``, ``Int64``,
        ``Float64`` or ``boolean``.
    required : bool
        Whether every feature must have a value. A column that is not
        required may be left out of a user's file; it is then empty.
    allowed : tuple, optional
        The only values allowed (empty values aside).
    description : str
        What the column means, for ``cqgis layers show``.
    aliases : tuple of str
        Other headers users' files give this column (Chinese headers such as
        ``断面名称``); matched case-insensitively when a user file is loaded.
    derived : bool
        Computed by the layer (a district from a spatial join, an area), so
        never expected in a user's file even when required.
    value_aliases : mapping of str to str, optional
        Other spellings users' files give the allowed values (``Ⅱ类`` and
        ``II`` for ``Ⅱ``, ``河流`` for ``river``), replaced when a user file is loaded.
    minimum : float, optional
        Smallest possible value of a numeric field (0 for counts).
    """

    name: str
    dtype: DType
    required: bool = True
    allowed: tuple | None = None
    description: str = ""
    aliases: tuple[str, ...] = ()
    derived: bool = False
    value_aliases: Mapping[str, str] | None = None
    minimum: float | None = None


#: The provenance columns every layer carries.
PROVENANCE_FIELDS = (
    Field("source", "str", description="document or dataset the feature comes from", aliases=("来源", "数据来源")),
    Field(
        "precision",
        "str",
        allowed=PRECISIONS,
        description="exact / approximate / schematic / synthetic",
        aliases=("精度",),
    ),
)


@dataclass(frozen=True)
class Schema:
    """The shape of one layer.

    Parameters
    ----------
    name : str
        Layer name in the catalogue.
    title_zh : str
        Chinese title, used on maps and in reports.
    geometry_type : str or None
        ``"Point"``, ``"LineString"`` or ``"Polygon"`` (their multi-part
        forms are accepted too); None for a table without geometry.
    fields : tuple of Field
        Attribute columns, in output order.
    description : str
        One sentence on what the layer holds.
    """

    name: str
    title_zh: str
    geometry_type: str | None
    fields: tuple[Field, ...]
    description: str = ""
    _by_name: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {f.name: f for f in self.fields})

    @property
    def columns(self) -> list[str]:
        """The attribute column names, in order."""
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        """Return the field called ``name``.

        Parameters
        ----------
        name : str
            A column name of the schema.

        Returns
        -------
        Field
            The field's definition.

        Raises
        ------
        KeyError
            When the schema has no such field.
        """
        return self._by_name[name]

    def alias_table(self) -> dict[str, str]:
        """Return every name a header may give a field by (its name and aliases) -> the field's name.

        Returns
        -------
        dict of str to str
            The first field to claim a name keeps it, as :func:`cqgis.layers.user.header_mapping` reads them.
        """
        table: dict[str, str] = {}
        for f in self.fields:
            for name in (f.name, *f.aliases):
                table.setdefault(name, f.name)
        return table

    def rules(self) -> dict:
        """Return the schema's column rules as keyword arguments of :func:`cqgis.geo.validate.validate`.

        Returns
        -------
        dict
            ``required`` (non-derived required columns), ``numeric`` (int and
            float columns), ``allowed`` (column -> allowed values),
            ``integer`` (int columns) and ``minimum`` (column -> least value).
        """
        return {
            "required": [f.name for f in self.fields if f.required and not f.derived],
            "numeric": [f.name for f in self.fields if f.dtype in ("int", "float")],
            "allowed": {f.name: f.allowed for f in self.fields if f.allowed is not None},
            "integer": [f.name for f in self.fields if f.dtype == "int"],
            "minimum": {f.name: f.minimum for f in self.fields if f.minimum is not None},
        }

    def value_problems(self, frame: pd.DataFrame, rows: np.ndarray) -> list[validation.Problem]:
        """Find the cells of yes/no columns that are no yes or no, by the rows the user knows.

        Parameters
        ----------
        frame : pandas.DataFrame
            The data, with the schema's column names.
        rows : numpy.ndarray
            The number the user knows each row by.

        Returns
        -------
        list of cqgis.geo.validate.Problem
            One per bad cell.
        """
        words = "/".join(BOOL_WORDS)
        return [
            validation.Problem("not_allowed", int(rows[i]), f.name, str(frame[f.name].iloc[i]),
                               f"expected yes/no ({words}), got '{frame[f.name].iloc[i]}'")
            for f in self.fields
            if f.dtype == "bool" and f.name in frame.columns
            for i in np.flatnonzero(frame[f.name].map(lambda v: _as_bool(v) is None).to_numpy(bool))
        ]

    def problems(self, frame: pd.DataFrame) -> list[str]:
        """List how ``frame`` breaks the schema, one readable line per problem.

        Rows are numbered from 1 in the order of the frame.

        Parameters
        ----------
        frame : pandas.DataFrame
            The data; a GeoDataFrame when the schema has a geometry type.

        Returns
        -------
        list of str
            One line per problem; empty when ``frame`` conforms.
        """
        rows = np.arange(1, len(frame) + 1)
        found = [str(p) for p in validation.check_attributes(frame, rows, **self.rules())]
        found += [str(p) for p in self.value_problems(frame, rows)]
        if self.geometry_type is not None:
            found.extend(_geometry_problems(self.geometry_type, frame))
        return found

    def conform(self, frame: pd.DataFrame) -> gpd.GeoDataFrame | pd.DataFrame:
        """Return ``frame`` with the schema's columns, in order and typed.

        Optional columns that are missing are added empty; extra columns are
        dropped.

        Parameters
        ----------
        frame : pandas.DataFrame
            The data; a GeoDataFrame in EPSG:4326 when the schema has a
            geometry type.

        Returns
        -------
        geopandas.GeoDataFrame or pandas.DataFrame
            A new frame with a fresh 0..n-1 index: a GeoDataFrame in
            EPSG:4326 when the schema has a geometry type, else a DataFrame.

        Raises
        ------
        LayerError
            When a required column is missing, a value has the wrong type or
            is not allowed, a required value is empty, or a geometry is of
            the wrong type, empty, invalid or not in EPSG:4326; the message
            names the layer, the column and the rows.
        """
        found = self.problems(frame)
        if found:
            shown = "; ".join(found[:_SHOWN_PROBLEMS])
            more = len(found) - _SHOWN_PROBLEMS
            tail = f"; and {more} more" if more > 0 else ""
            msg = f"layer '{self.name}': {shown}{tail}"
            raise LayerError(msg)
        columns = {
            f.name: _typed(frame[f.name], f.dtype)
            if f.name in frame.columns
            else pd.Series(pd.NA, index=frame.index, dtype=_PANDAS_DTYPES[f.dtype])
            for f in self.fields
        }
        data = pd.DataFrame(columns, index=frame.index).reset_index(drop=True)
        if self.geometry_type is None:
            return data
        geometry = gpd.GeoSeries(frame.geometry.to_numpy(), crs=config.STORAGE_CRS)
        return gpd.GeoDataFrame(data, geometry=geometry, crs=config.STORAGE_CRS)


def _rows(mask: np.ndarray) -> str:
    rows = np.flatnonzero(mask) + 1
    listed = ", ".join(str(r) for r in rows[:10])
    return f"row {listed}" if len(rows) == 1 else f"rows {listed}" + (" ..." if len(rows) > 10 else "")


def _typed(values: pd.Series, dtype: DType) -> pd.Series:
    if dtype == "str":
        return values.astype("string")
    if dtype == "bool":
        return values.map(_as_bool).astype("boolean")
    numbers = pd.to_numeric(values, errors="coerce")
    if dtype == "int":
        return numbers.round().astype("Int64")
    return numbers.astype("Float64")


#: Words users' files write for yes and no, matched after lower-casing and stripping.
BOOL_WORDS: Mapping[str, bool] = MappingProxyType({
    "true": True, "yes": True, "y": True, "1": True, "是": True, "有": True, "√": True,
    "false": False, "no": False, "n": False, "0": False, "否": False, "无": False, "×": False,
})


def _as_bool(value: object) -> object:
    """Return True/False for a recognised yes/no value, pd.NA for a blank, None when unrecognised."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return pd.NA
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    key = str(value).strip().lower()
    if key.endswith(".0"):
        key = key[:-2]
    return pd.NA if key == "" else BOOL_WORDS.get(key)


def _geometry_problems(geometry_type: str, frame: pd.DataFrame) -> list[str]:
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        return ["no geometry column"]
    found = []
    if frame.crs is None or not frame.crs.equals(config.STORAGE_CRS):
        found.append(f"geometry CRS is {frame.crs}, expected {config.STORAGE_CRS}")
    geoms = frame.geometry
    missing = (geoms.isna() | geoms.is_empty).to_numpy()
    if missing.any():
        found.append(f"empty geometry in {_rows(missing)}")
    types = geoms.geom_type.fillna("").to_numpy()
    wrong = ~missing & ~np.isin(types, [geometry_type, f"Multi{geometry_type}"])
    if wrong.any():
        found.append(f"expected {geometry_type} geometry, got {types[wrong][0]} in {_rows(wrong)}")
    invalid = ~missing & ~geoms.is_valid.to_numpy()
    if invalid.any():
        found.append(f"invalid geometry in {_rows(invalid)}")
    return found
