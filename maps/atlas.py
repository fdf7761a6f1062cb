"""Atlas: many maps from one YAML file (theme x coverage feature), rendered in parallel, indexed and bound into one PDF per theme.

Configuration
    :func:`read_config` reads a YAML file such as::

        output: out/atlas
        maps:
          - theme: water
            coverage: district
            formats: [html, png]
            filename: "{theme}/{area}.{ext}"
            filter: "region == '主城都市区'"
            sort: -area_km2

    and reports unknown keys and bad values with the line they are on.
    ``filter`` is a condition over the coverage's attributes (comparisons,
    ``and``/``or``/``not``, ``in [...]``, column names and literals),
    checked by walking its syntax tree; nothing is ever evaluated as Python.

Items
    Each map entry becomes one :class:`AtlasItem` per coverage feature
    (:func:`coverage` lists them: districts, basins, cross-border rivers or
    the whole city). The renderer, one function ``render_item(item)``
    (default ``cqgis.maps.themes.render_item``), writes every path of
    :attr:`AtlasItem.paths` atomically. An item whose key (its fields, its
    map entry, the cqgis version, every layer's cache key and user file, the
    renderer's version) matches the manifest ``.atlas-manifest.json`` and
    whose files exist is skipped.

Execution
    :func:`run_atlas` renders items in this process, in ``workers`` worker
    processes (forked from a server that has imported the renderer, where
    the platform has one; spawned otherwise), or on a Dask cluster, all through :func:`run_item`, which
    turns a failure into a one-line reason instead of stopping the others.
    Nothing in an output depends on the order items finish in, so the files
    are the same whatever the worker count.

Outputs
    ``index.html`` (:mod:`cqgis.maps.index_page`) and, per theme,
    ``atlas-THEME.pdf``: a contents page then one page per coverage feature
    showing its PNG. Items that do not ask for PNG get one under
    ``.atlas-pages/`` for the PDF and the thumbnail.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import json
import math
import multiprocessing
import operator
import re
import string
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import TYPE_CHECKING

import yaml

from cqgis import __version__
from cqgis.config import Settings, settings as default_settings
from cqgis.errors import CqgisError
from cqgis.geo.io import atomic
from cqgis.maps.errors import MapError, MapOptionError
from cqgis.maps.index_page import Card, Group, Section, index_html
from cqgis.maps.theme_names import THEMES

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np
    import pandas as pd

#: Coverage kinds, with their Chinese titles, in display order.
COVERAGES: Mapping[str, str] = MappingProxyType({
    "city": "全市",
    "district": "区县",
    "basin": "流域",
    "river": "跨界河流",
})
#: Output formats, with the link labels of the index.
FORMATS: Mapping[str, str] = MappingProxyType({
    "html": "交互地图",
    "png": "图片（PNG）",
    "pdf": "打印版（PDF）",
    "svg": "矢量图（SVG）",
    "gpkg": "地图数据（GeoPackage）",
    "qgz": "QGIS 工程",
})
#: Name of the single feature of the ``city`` coverage.
CITY_NAME = "重庆市"
#: Default title of the index and the PDFs.
DEFAULT_TITLE = "重庆市节能减排专题图集"
#: Default output folder, relative to the config file.
DEFAULT_OUTPUT = "atlas"
#: Default file name template.
DEFAULT_FILENAME = "{theme}/{coverage}/{area}.{ext}"
#: Format the PDF pages and thumbnails are made from.
PAGE_FORMAT = "png"
#: Hidden folder of PNGs made only for the PDFs and the index.
PAGES_DIR = ".atlas-pages"
#: Where the index's thumbnails go, and their width in pixels (twice the shown width, for sharp screens).
THUMBS_DIR = f"{PAGES_DIR}/thumbs"
THUMBNAIL_PIXELS = 480
#: Where the theme PDFs' page images go, and their width in pixels (about
#: the 889 the pages showed when matplotlib resampled the full PNGs).
BOOK_IMAGES_DIR = f"{PAGES_DIR}/book"
BOOK_IMAGE_PIXELS = 900
#: Manifest of item keys, for skipping unchanged items.
MANIFEST = ".atlas-manifest.json"
#: The index page.
INDEX = "index.html"
#: File name of a theme's multi-page PDF.
BOOK_NAME = "atlas-{theme}.pdf"
#: The renderer used when none is given, as "module:function".
DEFAULT_RENDERER = "cqgis.maps.themes:render_item"
#: Top-level keys of the config file.
TOP_KEYS = ("output", "title", "maps")
#: Keys of one map entry.
MAP_KEYS = ("theme", "coverage", "formats", "filename", "filter", "sort")
#: Deepest nesting of a filter's conditions (``not not ...``, parentheses):
#: far beyond any real condition, and short of Python's recursion limit.
MAX_FILTER_DEPTH = 50
#: Longest filter and filename template accepted, in characters: a real one is a line.
MAX_FILTER_CHARS = 2000
MAX_FILENAME_CHARS = 200
#: Contents lines per page of a theme PDF.
CONTENTS_LINES = 26
#: Page size of the theme PDFs in inches (A4 landscape).
BOOK_PAGE = (11.69, 8.27)

BUILT, SKIPPED, FAILED = "built", "skipped", "failed"

# Characters no file name may hold on any platform cqgis runs on.
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
_COLUMN = re.compile(r"^-?[^\W\d]\w*$")
_COMPARISONS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)
_FILTER_NODES = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub,
    ast.Compare, ast.Name, ast.Load, ast.Constant, ast.List, ast.Tuple, *_COMPARISONS,
)
_OPERATORS = MappingProxyType({
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
    ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
})
_MANIFEST_VERSION = 1


# --------------------------------------------------------------------- filter


@dataclass(frozen=True)
class Filter:
    """A condition over a coverage's attributes, parsed without ever evaluating Python.

    Parameters
    ----------
    text : str
        The expression, e.g. ``region == '主城都市区' and area_km2 > 1000``.
    where : str
        Where it comes from (``atlas.yaml line 7``), prefixed to errors.
    """

    text: str
    where: str
    tree: ast.Expression = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.text) > MAX_FILTER_CHARS:
            msg = f"{self.where}: filter is {len(self.text):,} characters long; at most {MAX_FILTER_CHARS:,}"
            raise MapOptionError(msg)
        try:
            tree = ast.parse(self.text.strip(), mode="eval")
        except SyntaxError as exc:
            msg = f"{self.where}: filter {self.text!r} is not a valid expression ({exc.msg})"
            raise MapOptionError(msg) from exc
        except (RecursionError, MemoryError) as exc:
            msg = f"{self.where}: filter is nested too deeply (at most {MAX_FILTER_DEPTH} levels)"
            raise MapOptionError(msg) from exc
        if _depth(tree) > MAX_FILTER_DEPTH:
            msg = f"{self.where}: filter is nested too deeply (at most {MAX_FILTER_DEPTH} levels)"
            raise MapOptionError(msg)
        # Lists are only the right side of 'in'; a minus sign only negates a number.
        members = {
            id(right)
            for node in ast.walk(tree) if isinstance(node, ast.Compare)
            for op, right in zip(node.ops, node.comparators) if isinstance(op, (ast.In, ast.NotIn))
        }
        for node in ast.walk(tree):
            self._check_node(node, members)
        object.__setattr__(self, "tree", tree)

    def _check_node(self, node: ast.AST, members: set[int]) -> None:
        allowed = isinstance(node, _FILTER_NODES)
        if isinstance(node, ast.Constant):
            allowed = isinstance(node.value, (str, int, float, bool))
        elif isinstance(node, (ast.List, ast.Tuple)):
            allowed = id(node) in members and all(_literal(element) for element in node.elts)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            allowed = _literal(node) and not isinstance(node.operand.value, (str, bool))
        elif isinstance(node, ast.Compare):
            allowed = all(
                isinstance(right, (ast.List, ast.Tuple))
                for op, right in zip(node.ops, node.comparators)
                if isinstance(op, (ast.In, ast.NotIn))
            )
        if not allowed:
            shown = ast.get_source_segment(self.text.strip(), node) or type(node).__name__
            msg = (
                f"{self.where}: filter {self.text!r}: {shown!r} is not allowed; use column names, "
                f"literals, comparisons, 'in [...]', and, or, not"
            )
            raise MapOptionError(msg)

    def columns(self) -> set[str]:
        """Return the column names the filter reads.

        Returns
        -------
        set of str
            Every name in the expression.
        """
        return {node.id for node in ast.walk(self.tree) if isinstance(node, ast.Name)}

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Return which rows of ``frame`` satisfy the condition; a comparison with a missing value is false.

        Parameters
        ----------
        frame : pandas.DataFrame
            A coverage's attribute table (see :func:`coverage`).

        Returns
        -------
        numpy.ndarray
            One boolean per row.

        Raises
        ------
        MapOptionError
            Unknown column, a value of the wrong type, or an expression
            that is not a condition.
        """
        missing = sorted(self.columns() - set(frame.columns))
        if missing:
            msg = (
                f"{self.where}: filter {self.text!r} names unknown column {missing[0]!r}; "
                f"columns: {', '.join(map(str, frame.columns))}"
            )
            raise MapOptionError(msg)
        try:
            return self._as_mask(self._value(self.tree.body, frame), len(frame))
        except (TypeError, ValueError) as exc:
            msg = f"{self.where}: filter {self.text!r} cannot be evaluated: {_reason(exc)}"
            raise MapOptionError(msg) from exc

    def _value(self, node: ast.AST, frame: pd.DataFrame):
        import numpy as np

        n = len(frame)
        if isinstance(node, ast.BoolOp):
            masks = [self._as_mask(self._value(value, frame), n) for value in node.values]
            combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            return combine.reduce(masks)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ~self._as_mask(self._value(node.operand, frame), n)
        if isinstance(node, ast.Compare):
            return self._compare(node, frame)
        if isinstance(node, ast.Name):
            return frame[node.id]
        return _literal_value(node)

    def _compare(self, node: ast.Compare, frame: pd.DataFrame):
        import numpy as np

        n = len(frame)
        result = np.ones(n, dtype=bool)
        left = self._value(node.left, frame)
        for op, right_node in zip(node.ops, node.comparators):
            right = self._value(right_node, frame)
            self._check_kinds(left, right)
            if isinstance(op, (ast.In, ast.NotIn)):
                found = self._members(left, right, n)
                outcome = found if isinstance(op, ast.In) else ~found
            else:
                outcome = self._as_mask(_OPERATORS[type(op)](left, right), n)
            result &= outcome
            left = right
        return result

    def _check_kinds(self, left, right) -> None:
        """Refuse a column of text compared with a number, or a column of numbers with text."""
        import pandas as pd

        for column, value in ((left, right), (right, left)):
            if not isinstance(column, pd.Series) or isinstance(value, (pd.Series, list)):
                continue
            numbers = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
            present = column.dropna()
            text = not numbers and len(present) > 0 and present.map(lambda cell: isinstance(cell, str)).all()
            if text and isinstance(value, (int, float)) and not isinstance(value, bool):
                msg = (
                    f"{self.where}: filter {self.text!r}: column {column.name!r} holds text, not numbers; "
                    f"compare it with text in quotes ('{value}')"
                )
                raise MapOptionError(msg)
            if numbers and isinstance(value, str):
                msg = (
                    f"{self.where}: filter {self.text!r}: column {column.name!r} holds numbers, not text; "
                    f"compare it with a number, without quotes"
                )
                raise MapOptionError(msg)

    def _members(self, left, values: list, n: int) -> np.ndarray:
        import numpy as np
        import pandas as pd

        if isinstance(left, pd.Series):
            return left.isin(values).to_numpy(dtype=bool)
        return np.full(n, left in values)

    def _as_mask(self, value, n: int) -> np.ndarray:
        import numpy as np
        import pandas as pd

        if isinstance(value, pd.Series):
            if not pd.api.types.is_bool_dtype(value.dtype):
                msg = f"{self.where}: filter {self.text!r}: column {value.name!r} is not a condition; compare it"
                raise MapOptionError(msg)
            return value.fillna(False).to_numpy(dtype=bool)
        if isinstance(value, np.ndarray):
            return value.astype(bool)
        if isinstance(value, bool):
            return np.full(n, value)
        msg = f"{self.where}: filter {self.text!r} is not a condition (it gives {value!r})"
        raise MapOptionError(msg)


def _depth(tree: ast.AST) -> int:
    """Return how deeply a syntax tree nests, without recursing (the tree may be deeper than Python's stack)."""
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _literal(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool))


def _literal_value(node: ast.AST):
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal_value(element) for element in node.elts]
    if isinstance(node, ast.UnaryOp):
        return -_literal_value(node.operand)
    return node.value


# --------------------------------------------------------------------- config


@dataclass(frozen=True)
class MapEntry:
    """One entry of the config's ``maps`` list: a theme over a coverage.

    Parameters
    ----------
    theme, coverage : str
        Keys of :data:`THEMES` and :data:`COVERAGES`.
    formats : tuple of str
        Keys of :data:`FORMATS`, in the order given.
    filename : str
        Template of output paths relative to the output folder.
    filter : Filter or None
        Which coverage features to draw.
    sort : str or None
        Column to order the features by, ``-`` first for descending.
    where : str
        ``atlas.yaml line N`` of the entry, for messages.
    sort_where : str
        Where ``sort`` is given.
    canonical : str
        The entry as normalised JSON: part of its items' keys.
    """

    theme: str
    coverage: str
    formats: tuple[str, ...]
    filename: str
    filter: Filter | None
    sort: str | None
    where: str
    sort_where: str
    canonical: str


@dataclass(frozen=True)
class AtlasConfig:
    """A parsed atlas config: where to write, the title, and the map entries."""

    path: Path
    output: Path
    title: str
    maps: tuple[MapEntry, ...]


def read_config(path: str | Path, output: str | Path | None = None) -> AtlasConfig:
    """Read and check an atlas config file.

    Parameters
    ----------
    path : str or Path
        YAML file (see the module docstring).
    output : str or Path, optional
        Output folder overriding the file's ``output``.

    Returns
    -------
    AtlasConfig
        The checked config; a relative ``output`` in the file is taken from
        the file's folder.

    Raises
    ------
    MapOptionError
        Unreadable file, bad YAML, unknown keys, bad values: the message
        names the file and line.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read atlas config {path}: {exc}"
        raise MapOptionError(msg) from exc
    name = path.name
    root = _compose(text, name)
    if root is None:
        msg = f"{name} is empty; it needs a 'maps' list"
        raise MapOptionError(msg)
    values = dict(_mapping_items(root, name, TOP_KEYS))
    if "maps" not in values:
        msg = f"{_at(name, root)}: missing key 'maps' (a list of maps to draw)"
        raise MapOptionError(msg)
    maps_node = values["maps"]
    if not isinstance(maps_node, yaml.SequenceNode) or not maps_node.value:
        msg = f"{_at(name, maps_node)}: 'maps' must be a non-empty list of maps"
        raise MapOptionError(msg)
    folder = _string(values["output"], name, "output") if "output" in values else DEFAULT_OUTPUT
    title = _string(values["title"], name, "title") if "title" in values else DEFAULT_TITLE
    # Absolute, so that workers with another working folder write to the same place.
    target = (Path(output) if output is not None else path.parent / folder).absolute()
    return AtlasConfig(
        path=path,
        output=target,
        title=title,
        maps=tuple(_map_entry(node, name) for node in maps_node.value),
    )


def _compose(text: str, name: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f" line {mark.line + 1}" if mark is not None else ""
        msg = f"{name}{line}: not valid YAML: {exc.problem or exc.context}"
        raise MapOptionError(msg) from exc
    except yaml.YAMLError as exc:
        msg = f"{name}: not valid YAML: {exc}"
        raise MapOptionError(msg) from exc


def _at(name: str, node: yaml.Node) -> str:
    return f"{name} line {node.start_mark.line + 1}"


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _mapping_items(node: yaml.Node, name: str, allowed: Sequence[str]) -> Iterator[tuple[str, yaml.Node]]:
    """Yield (key, value node) of a mapping, rejecting unknown and repeated keys."""
    if not isinstance(node, yaml.MappingNode):
        msg = f"{_at(name, node)}: expected a mapping with keys {', '.join(allowed)}"
        raise MapOptionError(msg)
    seen: set[str] = set()
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key not in allowed:
            msg = (
                f"{_at(name, key_node)}: unknown key {key!r}{_suggest(str(key), allowed)}; "
                f"keys: {', '.join(allowed)}"
            )
            raise MapOptionError(msg)
        if key in seen:
            msg = f"{_at(name, key_node)}: key {key!r} is given twice"
            raise MapOptionError(msg)
        seen.add(key)
        yield key, value_node


def _construct(node: yaml.Node):
    return yaml.SafeLoader("").construct_object(node, deep=True)


def _string(node: yaml.Node, name: str, key: str) -> str:
    value = _construct(node) if isinstance(node, yaml.ScalarNode) else None
    if not isinstance(value, str) or not value.strip():
        msg = f"{_at(name, node)}: '{key}' must be a non-empty text"
        raise MapOptionError(msg)
    return value


def _choice(node: yaml.Node, name: str, key: str, choices: Iterable[str]) -> str:
    value = _string(node, name, key)
    choices = list(choices)
    if value not in choices:
        msg = (
            f"{_at(name, node)}: unknown {key} {value!r}{_suggest(value, choices)}; "
            f"{key}s: {', '.join(choices)}"
        )
        raise MapOptionError(msg)
    return value


def _formats(node: yaml.Node, name: str) -> tuple[str, ...]:
    elements = node.value if isinstance(node, yaml.SequenceNode) else [node]
    formats = tuple(_choice(element, name, "format", FORMATS) for element in elements)
    if not formats:
        msg = f"{_at(name, node)}: 'formats' must list at least one of {', '.join(FORMATS)}"
        raise MapOptionError(msg)
    if len(set(formats)) != len(formats):
        msg = f"{_at(name, node)}: 'formats' lists a format twice"
        raise MapOptionError(msg)
    return formats


def _map_entry(node: yaml.Node, name: str) -> MapEntry:
    values = dict(_mapping_items(node, name, MAP_KEYS))
    where = _at(name, node)
    for key in ("theme", "coverage"):
        if key not in values:
            msg = f"{where}: this map has no '{key}'"
            raise MapOptionError(msg)
    theme = _choice(values["theme"], name, "theme", THEMES)
    kind = _choice(values["coverage"], name, "coverage", COVERAGES)
    formats = _formats(values["formats"], name) if "formats" in values else ("html", "png")
    filename = _string(values["filename"], name, "filename") if "filename" in values else DEFAULT_FILENAME
    _check_template(filename, kind, formats, _at(name, values.get("filename", node)))
    text = _string(values["filter"], name, "filter") if "filter" in values else None
    condition = Filter(text, _at(name, values["filter"])) if text is not None else None
    sort = _string(values["sort"], name, "sort") if "sort" in values else None
    sort_where = _at(name, values.get("sort", node))
    if sort is not None and not _COLUMN.match(sort):
        msg = f"{sort_where}: 'sort' must be a column name, '-' first for descending, not {sort!r}"
        raise MapOptionError(msg)
    canonical = json.dumps(
        {"theme": theme, "coverage": kind, "formats": formats, "filename": filename,
         "filter": text, "sort": sort},
        ensure_ascii=False, sort_keys=True,
    )
    return MapEntry(theme, kind, formats, filename, condition, sort, where, sort_where, canonical)


def _check_template(template: str, kind: str, formats: Sequence[str], where: str) -> None:
    if len(template) > MAX_FILENAME_CHARS:
        msg = f"{where}: filename template is {len(template):,} characters long; at most {MAX_FILENAME_CHARS}"
        raise MapOptionError(msg)
    try:
        fields = [field_name for _, field_name, _, _ in string.Formatter().parse(template) if field_name is not None]
    except ValueError as exc:
        msg = f"{where}: filename {template!r} is not a valid template ({exc})"
        raise MapOptionError(msg) from exc
    allowed = {"theme", "coverage", "area", "ext", kind}
    specs = [
        f"{{{name}{'!' + conversion if conversion else ''}:{spec}}}"
        for _, name, spec, conversion in string.Formatter().parse(template)
        if name is not None and (spec or conversion)
    ]
    if specs:
        # A width such as {area:>2000000000} would build a string of that size.
        msg = f"{where}: filename {template!r}: placeholders take no format or conversion ({specs[0]}); write {{area}}"
        raise MapOptionError(msg)
    for name in fields:
        if name not in allowed:
            hint = "; use {area}" if name in COVERAGES else ""
            msg = (
                f"{where}: filename {template!r} uses {{{name}}}, which a {kind} map does not have"
                f"{hint}; placeholders: {{theme}}, {{coverage}}, {{area}}, {{{kind}}}, {{ext}}"
            )
            raise MapOptionError(msg)
    if kind != "city" and not {"area", kind} & set(fields):
        msg = f"{where}: filename {template!r} needs {{area}}, or every {kind} would get the same file"
        raise MapOptionError(msg)
    if len(formats) > 1 and "ext" not in fields:
        msg = f"{where}: filename {template!r} needs {{ext}} to tell the {len(formats)} formats apart"
        raise MapOptionError(msg)


# ------------------------------------------------------------------- coverage


def coverage(kind: str, settings: Settings | None = None) -> pd.DataFrame:
    """Return the features of a coverage kind as an attribute table, one row per map.

    Parameters
    ----------
    kind : {"district", "basin", "river", "city"}
        ``district`` and ``basin``: the layers of those names; ``river``:
        the named rivers whose course crosses the Sichuan–Chongqing border
        (:func:`cqgis.analysis.cross_border.border_rivers`), one row per
        name with its total ``length_km``; ``city``: one row, 重庆市.
    settings : Settings, optional
        Where layers come from.

    Returns
    -------
    pandas.DataFrame
        A ``name`` column and the features' attributes, without geometry,
        in layer order.
    """
    from cqgis.layers import catalog

    settings = settings or default_settings()
    if kind == "river":
        from cqgis.analysis.cross_border import border_rivers

        found = border_rivers(
            catalog.load("rivers", settings), catalog.load("districts", settings), catalog.load("neighbors", settings)
        )
        return found.drop(columns="directions").reset_index(drop=True)
    if kind == "city":
        import pandas as pd

        districts = catalog.load("districts", settings)
        return pd.DataFrame(
            {"name": [CITY_NAME], "area_km2": [float(districts["area_km2"].sum())], "districts": [len(districts)]}
        )
    layer = {"district": "districts", "basin": "basins"}[kind]
    frame = catalog.load(layer, settings)
    return frame.drop(columns=frame.geometry.name).reset_index(drop=True)


def _select(entry: MapEntry, frame: pd.DataFrame) -> list[str]:
    """Return the names of the features ``entry`` draws, filtered and sorted."""
    if entry.filter is not None:
        frame = frame[entry.filter.mask(frame)]
    if entry.sort is not None:
        column = entry.sort.lstrip("-")
        if column not in frame.columns:
            msg = (
                f"{entry.sort_where}: cannot sort by unknown column {column!r}; "
                f"columns: {', '.join(map(str, frame.columns))}"
            )
            raise MapOptionError(msg)
        by = [column] if column == "name" else [column, "name"]
        frame = frame.sort_values(by, ascending=[not entry.sort.startswith("-"), True][: len(by)], kind="stable")
    return [str(name) for name in frame["name"]]


# ---------------------------------------------------------------------- items


@dataclass(frozen=True)
class AtlasItem:
    """One map of the atlas: a theme over one coverage feature, in one or more formats.

    Parameters
    ----------
    theme : str
        Key of :data:`THEMES`.
    coverage_kind : str
        Key of :data:`COVERAGES`.
    area_name : str
        Name of the feature (重庆市 for the city).
    formats : tuple of str
        Formats to write, matching ``outputs``; always holds ``png``.
    outputs : tuple of str
        POSIX paths relative to the output folder, one per format.
    root : str
        The output folder.
    data_dir : str or None
        The user's data folder the layers come from.
    inputs : str
        The run's :func:`inputs_digest` (set by :func:`run_atlas`; empty
        otherwise): renderers may share loaded layers between items with
        the same digest.
    """

    theme: str
    coverage_kind: str
    area_name: str
    formats: tuple[str, ...]
    outputs: tuple[str, ...]
    root: str = ""
    data_dir: str | None = None
    inputs: str = ""

    @property
    def ident(self) -> str:
        """Return ``theme/kind/area``: the item's name in the manifest and in messages."""
        return f"{self.theme}/{self.coverage_kind}/{self.area_name}"

    @property
    def focus(self) -> tuple[str, str] | None:
        """Return what the map centres on: None for the city, else (kind, name)."""
        return None if self.coverage_kind == "city" else (self.coverage_kind, self.area_name)

    @property
    def paths(self) -> tuple[Path, ...]:
        """Return the absolute paths to write, matching :attr:`formats`."""
        return tuple(Path(self.root, output) for output in self.outputs)

    @property
    def page(self) -> str:
        """Return the PNG output the theme PDF and the index thumbnail use."""
        return self.outputs[self.formats.index(PAGE_FORMAT)]

    @property
    def thumbnail(self) -> str:
        """Return the small copy of :attr:`page` the index shows (full pages would make it hundreds of MB)."""
        return f"{THUMBS_DIR}/{self.page}"

    @property
    def book_image(self) -> str:
        """Return the copy of :attr:`page` the theme PDF shows, small enough to embed quickly."""
        return f"{BOOK_IMAGES_DIR}/{self.page}"

    @property
    def listed(self) -> tuple[tuple[str, str], ...]:
        """Return (format, output) of the outputs the user asked for."""
        return tuple(
            (fmt, output) for fmt, output in zip(self.formats, self.outputs) if not output.startswith(PAGES_DIR + "/")
        )

    def settings(self) -> Settings:
        """Return the settings the renderer should load layers with.

        Returns
        -------
        Settings
            With the item's user data folder, else the defaults.
        """
        return Settings(data_dir=Path(self.data_dir)) if self.data_dir else default_settings()


def plan(config: AtlasConfig, settings: Settings | None = None) -> list[AtlasItem]:
    """List every item of an atlas, in config order and each entry's sort order.

    Parameters
    ----------
    config : AtlasConfig
        From :func:`read_config`.
    settings : Settings, optional
        Where the coverage layers come from; recorded in each item.

    Returns
    -------
    list of AtlasItem
        One per map to draw.

    Raises
    ------
    MapOptionError
        Unknown filter or sort columns, two entries drawing the same theme
        and feature, or two maps writing the same file.
    """
    settings = settings or default_settings()
    frames: dict[str, pd.DataFrame] = {}
    items: list[AtlasItem] = []
    made: dict[str, str] = {}
    for entry in config.maps:
        if entry.coverage not in frames:
            frames[entry.coverage] = coverage(entry.coverage, settings)
        for area in _select(entry, frames[entry.coverage]):
            item = _item(entry, area, config.output, settings)
            if item.ident in made:
                msg = f"{entry.where}: {item.ident} is already drawn by the map at {made[item.ident]}"
                raise MapOptionError(msg)
            made[item.ident] = entry.where
            items.append(item)
    _check_unique_outputs(items, config)
    return items


def _item(entry: MapEntry, area: str, root: Path, settings: Settings) -> AtlasItem:
    safe = _UNSAFE_NAME.sub("_", area)
    names = {"theme": entry.theme, "coverage": entry.coverage, "area": safe, entry.coverage: safe}
    outputs = [_output(entry, {**names, "ext": fmt}) for fmt in entry.formats]
    formats = list(entry.formats)
    if PAGE_FORMAT not in formats:
        formats.append(PAGE_FORMAT)
        outputs.append(f"{PAGES_DIR}/{entry.theme}/{entry.coverage}/{safe}.{PAGE_FORMAT}")
    data_dir = str(Path(settings.data_dir).absolute()) if settings.data_dir is not None else None
    return AtlasItem(entry.theme, entry.coverage, area, tuple(formats), tuple(outputs), str(root), data_dir)


def _output(entry: MapEntry, names: Mapping[str, str]) -> str:
    path = PurePosixPath(entry.filename.format_map(names))
    if path.is_absolute() or ".." in path.parts or path.parts[0].startswith("."):
        msg = f"{entry.where}: filename {entry.filename!r} gives {str(path)!r}, which is not inside the output folder"
        raise MapOptionError(msg)
    return str(path)


def _check_unique_outputs(items: Sequence[AtlasItem], config: AtlasConfig) -> None:
    owners = {INDEX: "the index", MANIFEST: "the manifest"}
    owners.update({BOOK_NAME.format(theme=theme): f"the {theme} PDF" for theme in THEMES})
    for item in items:
        for output in item.outputs:
            if output in owners:
                msg = (
                    f"{config.path.name}: {item.ident} and {owners[output]} would both write {output}; "
                    f"change the filename template"
                )
                raise MapOptionError(msg)
            owners[output] = item.ident


# ----------------------------------------------------------------------- keys


def renderer_version(renderer: Callable) -> str:
    """Return a renderer's version: its ``version`` attribute, else a digest of the code it runs.

    The code is the renderer's own package and, for cqgis's renderer, the
    analyses and the geo package the maps are computed with: a fix to the
    GB 3838 rules must redraw the water maps.

    Parameters
    ----------
    renderer : callable
        The function that draws one atlas item.

    Returns
    -------
    str
        A version string or a hex digest.
    """
    version = getattr(renderer, "version", None)
    if version is not None:
        return str(version)
    folders = {Path(sys.modules[renderer.__module__].__file__).parent}
    if renderer.__module__.startswith("cqgis."):
        from cqgis import analysis, geo

        folders |= {Path(analysis.__file__).parent, Path(geo.__file__).parent}
    digest = hashlib.sha256()
    for path in sorted(p for folder in folders for p in folder.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def inputs_digest(settings: Settings, renderer: Callable) -> str:
    """Return a digest of everything every map depends on besides its own entry.

    That is the cqgis version, every layer's cache key, the bytes of every
    user file standing in for a layer, and the renderer's version.

    Parameters
    ----------
    settings : Settings
        Where the user's files standing in for layers are.
    renderer : callable
        The function that draws one atlas item.

    Returns
    -------
    str
        A hex digest.
    """
    from cqgis.layers import catalog

    digest = hashlib.sha256(f"cqgis {__version__}\nrenderer {renderer_version(renderer)}\n".encode())
    for name in catalog.names():
        digest.update(f"{name} {catalog.cache_key(name)}\n".encode())
        user_file = catalog.find_user_file(name, settings)
        if user_file is not None:
            digest.update(user_file.read_bytes())
    if settings.data_dir is not None and (Path(settings.data_dir) / catalog.COLUMNS_FILE).is_file():
        digest.update((Path(settings.data_dir) / catalog.COLUMNS_FILE).read_bytes())
    return digest.hexdigest()


def item_keys(items: Sequence[AtlasItem], config: AtlasConfig, inputs: str) -> dict[str, str]:
    """Return each item's key by :attr:`AtlasItem.ident`: a digest of the item, its entry and ``inputs``.

    Parameters
    ----------
    items : sequence of AtlasItem
        From :func:`plan`.
    config : AtlasConfig
        The config the items come from.
    inputs : str
        From :func:`inputs_digest`.

    Returns
    -------
    dict of str to str
        Item ident -> key (24 hex digits).
    """
    # Entries may split one theme and coverage between them (by filter), so
    # an item's key holds every entry of its pair.
    entries: dict[tuple[str, str], list[str]] = {}
    for entry in config.maps:
        entries.setdefault((entry.theme, entry.coverage), []).append(entry.canonical)
    keys = {}
    for item in items:
        payload = json.dumps(
            [item.theme, item.coverage_kind, item.area_name, item.formats, item.outputs,
             entries[(item.theme, item.coverage_kind)], inputs],
            ensure_ascii=False,
        )
        keys[item.ident] = hashlib.sha256(payload.encode()).hexdigest()[:24]
    return keys


def read_manifest(root: Path) -> dict:
    """Return the manifest of the atlas in ``root``; empty when there is none or it is unreadable.

    Parameters
    ----------
    root : Path
        The atlas's output folder.

    Returns
    -------
    dict
        ``items`` (item ident -> key) and ``books`` (theme -> key).
    """
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"items": {}, "books": {}}
    if not isinstance(manifest, dict) or manifest.get("version") != _MANIFEST_VERSION:
        return {"items": {}, "books": {}}
    return {"items": dict(manifest.get("items", {})), "books": dict(manifest.get("books", {}))}


def write_manifest(root: Path, manifest: Mapping) -> None:
    """Write the manifest atomically, sorted so that equal atlases give equal files.

    Parameters
    ----------
    root : Path
        The atlas's output folder.
    manifest : Mapping
        ``items`` and ``books``, as from :func:`read_manifest`.
    """
    text = json.dumps({"version": _MANIFEST_VERSION, **manifest}, ensure_ascii=False, sort_keys=True, indent=1)
    with atomic(root / MANIFEST) as temp:
        temp.write_text(text + "\n", encoding="utf-8")


# ------------------------------------------------------------------ execution


@dataclass(frozen=True)
class Outcome:
    """What happened to one item: ``built``, ``skipped`` (up to date) or ``failed`` with a reason."""

    item: AtlasItem
    status: str
    reason: str = ""


def run_item(item: AtlasItem, renderer: Callable[[AtlasItem], Sequence[Path]]) -> Outcome:
    """Render one item and its previews, turning any error into a failed :class:`Outcome` with a one-line reason.

    The previews (:func:`write_previews`) are made here, so that workers
    make them in parallel rather than the main process one by one.

    Ctrl-C is not caught: it stops the run. The same function runs in this
    process, in worker processes and on Dask workers.

    Parameters
    ----------
    item : AtlasItem
        The map to draw.
    renderer : callable
        ``renderer(item)`` writes every path of ``item``.

    Returns
    -------
    Outcome
        ``built``, or ``failed`` when the renderer raised or left a path
        unwritten.
    """
    try:
        renderer(item)
    except Exception as exc:
        return Outcome(item, FAILED, _reason(exc))
    missing = [output for output, path in zip(item.outputs, item.paths) if not path.is_file()]
    if missing:
        return Outcome(item, FAILED, f"the renderer wrote no {missing[0]}")
    try:
        write_previews(item)
    except Exception as exc:
        return Outcome(item, FAILED, f"cannot shrink {item.page}: {_reason(exc)}")
    return Outcome(item, BUILT)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, CqgisError) and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _serial(items: Sequence[AtlasItem], renderer: Callable) -> Iterator[Outcome]:
    for item in items:
        yield run_item(item, renderer)


def _worker_context(renderer: Callable) -> multiprocessing.context.BaseContext:
    """Where the platform allows, a fork server that has imported the renderer's module once.

    Each spawned worker would spend seconds importing geopandas, matplotlib
    and folium before its first map; workers forked from a server that
    preloaded them start at once, and the server is single-threaded, so the
    fork is safe. Windows has no fork server: its workers are spawned.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([renderer.__module__])
    return context


def _processes(items: Sequence[AtlasItem], renderer: Callable, workers: int) -> Iterator[Outcome]:
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=_worker_context(renderer))
    try:
        pending = {executor.submit(run_item, item, renderer): item for item in items}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                item = pending.pop(future)
                yield _collect(future.result, item)
    except BaseException:
        executor.shutdown(wait=True, cancel_futures=True)
        raise
    executor.shutdown(wait=True)


def _dask(items: Sequence[AtlasItem], renderer: Callable, scheduler: str) -> Iterator[Outcome]:
    from dask.distributed import Client, as_completed

    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        msg = f"cannot reach the Dask scheduler at {scheduler}: {_reason(exc)}"
        raise MapError(msg) from exc
    with client:
        futures = client.map(run_item, items, renderer=renderer, pure=False)
        owner = {future.key: item for future, item in zip(futures, items)}
        try:
            for future in as_completed(futures):
                yield _collect(future.result, owner[future.key])
        except BaseException:
            client.cancel(futures)
            raise


def _collect(result: Callable[[], Outcome], item: AtlasItem) -> Outcome:
    """Return a worker's outcome; a worker that died or could not run the item fails that item only."""
    try:
        return result()
    except Exception as exc:
        return Outcome(item, FAILED, _reason(exc))


def execute(
    items: Sequence[AtlasItem], renderer: Callable, workers: int = 1, scheduler: str | None = None
) -> Iterator[Outcome]:
    """Render items and yield their outcomes as they finish.

    Parameters
    ----------
    items : sequence of AtlasItem
        What to render; their folders must exist.
    renderer : callable
        ``renderer(item)`` writes the item's paths; it must be importable by
        name for processes and Dask.
    workers : int
        1 renders here; more renders in that many worker processes.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:port``); overrides ``workers``.

    Returns
    -------
    iterator of Outcome
        One per item, in the order they finish.

    Raises
    ------
    MapError
        While iterating, when the Dask scheduler cannot be reached.
    """
    if not items:
        return iter(())
    if scheduler is not None:
        return _dask(items, renderer, scheduler)
    if workers > 1:
        return _processes(items, renderer, min(workers, len(items)))
    return _serial(items, renderer)


def load_renderer(target: str | None = None) -> Callable[[AtlasItem], Sequence[Path]]:
    """Import a renderer given as ``"module:function"`` (default :data:`DEFAULT_RENDERER`).

    Parameters
    ----------
    target : str, optional
        ``"module:function"``; the module is imported now.

    Returns
    -------
    callable
        The renderer.

    Raises
    ------
    MapError
        When the module or function does not exist.
    """
    import importlib

    target = target or DEFAULT_RENDERER
    module_name, _, attribute = target.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        msg = f"the atlas renderer {target} is not available: {_reason(exc)}"
        raise MapError(msg) from exc


@dataclass(frozen=True)
class AtlasReport:
    """The result of :func:`run_atlas`.

    Parameters
    ----------
    outcomes : tuple of Outcome
        One per item, in plan order.
    index : Path
        The index page.
    books : tuple of Path
        The theme PDFs written or kept.
    book_failures : tuple of (str, str)
        (theme, reason) of PDFs that could not be made.
    """

    outcomes: tuple[Outcome, ...]
    index: Path
    books: tuple[Path, ...]
    book_failures: tuple[tuple[str, str], ...] = ()

    def count(self, status: str) -> int:
        """Return how many items have ``status``.

        Parameters
        ----------
        status : str
            :data:`BUILT`, :data:`SKIPPED` or :data:`FAILED`.

        Returns
        -------
        int
            The number of outcomes with that status.
        """
        return sum(outcome.status == status for outcome in self.outcomes)

    @property
    def failures(self) -> list[tuple[str, str]]:
        """Return (what, reason) of every failed map and PDF."""
        items = [(o.item.ident, o.reason) for o in self.outcomes if o.status == FAILED]
        return items + [(BOOK_NAME.format(theme=theme), reason) for theme, reason in self.book_failures]


def run_atlas(
    config: AtlasConfig,
    renderer: Callable[[AtlasItem], Sequence[Path]] | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    force: bool = False,
    settings: Settings | None = None,
    progress: Callable[[Outcome], None] | None = None,
    items: Sequence[AtlasItem] | None = None,
) -> AtlasReport:
    """Render an atlas: every map not up to date, then the theme PDFs and the index.

    Parameters
    ----------
    config : AtlasConfig
        From :func:`read_config`.
    renderer : callable, optional
        ``renderer(item) -> list[Path]``; default :data:`DEFAULT_RENDERER`,
        imported only now.
    workers : int
        Processes to render in (1: this process).
    scheduler : str, optional
        Dask scheduler address; the output folder must be shared with its workers.
    force : bool
        Rebuild items and PDFs even when up to date.
    settings : Settings, optional
        Where layers come from.
    progress : callable, optional
        Called in this process with each :class:`Outcome` as it is known.
    items : sequence of AtlasItem, optional
        ``plan(config, settings)`` when the caller has it already.

    Returns
    -------
    AtlasReport
        Every outcome; failed maps do not stop the others.

    Raises
    ------
    MapOptionError
        A config whose items cannot be planned (see :func:`plan`).
    MapError
        The output folder cannot be created, the renderer cannot be
        imported, or the Dask scheduler cannot be reached.
    KeyboardInterrupt
        After pending maps are cancelled and the manifest records the
        finished ones; no partial file is left.
    """
    settings = settings or default_settings()
    renderer = renderer or load_renderer()
    root = config.output
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create the atlas folder {root}: {_reason(exc)}"
        raise MapError(msg) from exc
    items = plan(config, settings) if items is None else items
    inputs = inputs_digest(settings, renderer)
    keys = item_keys(items, config, inputs)
    manifest = read_manifest(root)
    done = {o.item.ident: o for o in _current(items, keys, manifest, force)}
    for outcome in done.values():
        if progress:
            progress(outcome)
    todo = [replace(item, inputs=inputs) for item in items if item.ident not in done]
    for item in todo:
        for path in item.paths:
            path.parent.mkdir(parents=True, exist_ok=True)
    try:
        for outcome in execute(todo, renderer, workers, scheduler):
            done[outcome.item.ident] = outcome
            if progress:
                progress(outcome)
    finally:
        manifest["items"] = {
            ident: keys[ident] for ident, outcome in sorted(done.items()) if outcome.status != FAILED
        }
        write_manifest(root, manifest)
    outcomes = tuple(done[item.ident] for item in items)
    for outcome in outcomes:
        # Drawn items have theirs already; skipped ones may predate them.
        if outcome.status != FAILED:
            write_previews(outcome.item)
    books, book_failures = _write_books(config, outcomes, keys, manifest, force)
    write_manifest(root, manifest)
    index = root / INDEX
    text = index_html(config.title, _sections(outcomes, {theme for theme, _ in book_failures}))
    with atomic(index) as temp:
        temp.write_text(text, encoding="utf-8")
    return AtlasReport(outcomes, index, books, book_failures)


def _current(
    items: Sequence[AtlasItem], keys: Mapping[str, str], manifest: Mapping, force: bool
) -> list[Outcome]:
    """Return a skipped outcome for every item whose key is in the manifest and whose files exist."""
    if force:
        return []
    return [
        Outcome(item, SKIPPED)
        for item in items
        if manifest["items"].get(item.ident) == keys[item.ident] and all(p.is_file() for p in item.paths)
    ]


# ---------------------------------------------------------------------- books


def _by_theme(outcomes: Iterable[Outcome]) -> dict[str, list[Outcome]]:
    grouped: dict[str, list[Outcome]] = {theme: [] for theme in THEMES}
    for outcome in outcomes:
        grouped[outcome.item.theme].append(outcome)
    for theme in grouped:
        grouped[theme].sort(key=lambda o: list(COVERAGES).index(o.item.coverage_kind))
    return {theme: members for theme, members in grouped.items() if members}


def _write_books(
    config: AtlasConfig, outcomes: Sequence[Outcome], keys: Mapping[str, str], manifest: dict, force: bool
) -> tuple[tuple[Path, ...], tuple[tuple[str, str], ...]]:
    """Write each theme's PDF from its drawn maps, unless its pages are unchanged."""
    books, failures = [], []
    kept = {}
    for theme, members in _by_theme(outcomes).items():
        pages = [o.item for o in members if o.status != FAILED]
        if not pages:
            continue
        path = config.output / BOOK_NAME.format(theme=theme)
        payload = json.dumps([config.title, theme, [(item.ident, keys[item.ident]) for item in pages]], ensure_ascii=False)
        key = hashlib.sha256(payload.encode()).hexdigest()[:24]
        if force or manifest["books"].get(theme) != key or not path.is_file():
            try:
                write_book(path, f"{config.title} · {THEMES[theme]}", pages)
            except CqgisError as exc:
                failures.append((theme, _reason(exc)))
                continue
        kept[theme] = key
        books.append(path)
    manifest["books"] = kept
    return tuple(books), tuple(failures)


def write_book(path: Path, title: str, items: Sequence[AtlasItem]) -> Path:
    """Write a multi-page PDF: contents pages, then one page per item showing its PNG.

    Parameters
    ----------
    path : Path
        Target PDF, written atomically.
    title : str
        Title of the contents pages.
    items : sequence of AtlasItem
        Items whose :attr:`AtlasItem.book_image` exists (see :func:`write_previews`), in page order.

    Returns
    -------
    Path
        ``path``; the file has no creation date, so equal pages give equal bytes.

    Raises
    ------
    WriteError
        The PDF cannot be written; ``path`` is left as it was.
    AssetError
        No font can draw the Chinese text.
    """
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    from cqgis.maps import fonts

    contents = math.ceil(len(items) / CONTENTS_LINES)
    metadata = {"Creator": "cqgis", "Producer": None, "CreationDate": None, "Title": title}
    with matplotlib.rc_context(fonts.rc_params()), atomic(path) as temp, PdfPages(temp, metadata=metadata) as pdf:
        for number in range(contents):
            chunk = items[number * CONTENTS_LINES : (number + 1) * CONTENTS_LINES]
            first_page = contents + number * CONTENTS_LINES + 1
            pdf.savefig(_contents_figure(title, chunk, first_page, number + 1))
        for offset, item in enumerate(items):
            pdf.savefig(_page_figure(title, item, contents + offset + 1))
    return path


def _area_label(item: AtlasItem) -> str:
    return f"{COVERAGES[item.coverage_kind]} · {item.area_name}"


def _contents_figure(title: str, items: Sequence[AtlasItem], first_page: int, number: int):
    from matplotlib.figure import Figure

    figure = Figure(figsize=BOOK_PAGE)
    figure.text(0.5, 0.93, title, ha="center", va="top", fontsize=20)
    figure.text(0.5, 0.86, "目录", ha="center", va="top", fontsize=15)
    step = 0.74 / CONTENTS_LINES
    for row, item in enumerate(items):
        y = 0.80 - row * step
        figure.text(0.2, y, _area_label(item), ha="left", va="top", fontsize=11)
        figure.text(0.8, y, str(first_page + row), ha="right", va="top", fontsize=11)
    figure.text(0.5, 0.03, str(number), ha="center", va="bottom", fontsize=9)
    return figure


def _page_figure(title: str, item: AtlasItem, number: int):
    import numpy as np
    from matplotlib.figure import Figure
    from PIL import Image

    figure = Figure(figsize=BOOK_PAGE)
    figure.text(0.5, 0.97, f"{_area_label(item)}", ha="center", va="top", fontsize=15)
    axes = figure.add_axes((0.03, 0.06, 0.94, 0.86))
    with Image.open(Path(item.root, item.book_image)) as image:
        pixels = np.asarray(image.convert("RGB"))
    # Embedded as they are: resampling the full PNG took most of the PDF's time.
    axes.imshow(pixels, interpolation="none")
    axes.set_axis_off()
    figure.text(0.03, 0.03, title, ha="left", va="bottom", fontsize=9)
    figure.text(0.97, 0.03, str(number), ha="right", va="bottom", fontsize=9)
    return figure


# ---------------------------------------------------------------------- index


def _sections(outcomes: Sequence[Outcome], failed_books: set[str]) -> list[Section]:
    sections = []
    for theme, members in _by_theme(outcomes).items():
        groups = []
        for kind in COVERAGES:
            cards = tuple(_card(o) for o in members if o.item.coverage_kind == kind)
            if cards:
                groups.append(Group(COVERAGES[kind], cards))
        has_book = theme not in failed_books and any(o.status != FAILED for o in members)
        book = BOOK_NAME.format(theme=theme) if has_book else None
        sections.append(Section(f"theme-{theme}", THEMES[theme], book, tuple(groups)))
    return sections


def _card(outcome: Outcome) -> Card:
    item = outcome.item
    if outcome.status == FAILED:
        return Card(item.area_name, (), None, outcome.reason)
    links = tuple((FORMATS[fmt], output) for fmt, output in item.listed)
    return Card(item.area_name, links, item.thumbnail, picture=item.page)


def write_previews(item: AtlasItem) -> None:
    """Write the index thumbnail and the PDF page image of an item whose page is newer than them.

    Parameters
    ----------
    item : AtlasItem
        An item whose :attr:`AtlasItem.page` PNG exists.

    Raises
    ------
    OSError
        The page cannot be read or a preview written (nothing half-written is left).
    """
    from PIL import Image

    page = Path(item.root, item.page)
    # The index loads every thumbnail: those are worth optimizing; the PDF re-encodes its images anyway.
    wanted = [
        (Path(item.root, item.thumbnail), THUMBNAIL_PIXELS, True),
        (Path(item.root, item.book_image), BOOK_IMAGE_PIXELS, False),
    ]
    stale = [w for w in wanted if not w[0].exists() or w[0].stat().st_mtime < page.stat().st_mtime]
    if not stale:
        return
    with Image.open(page) as image:
        full = image.convert("RGB")
    for path, pixels, optimize in stale:
        small = full.copy()
        small.thumbnail((pixels, pixels))
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic(path) as temp:
            small.save(temp, format="PNG", optimize=optimize)
