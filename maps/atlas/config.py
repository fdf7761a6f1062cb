"""Atlas configuration: reading and checking the YAML file of map entries (theme, coverage, formats, file names, filter, sort)."""

from __future__ import annotations

import difflib
import json
import re
import string
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import yaml

from cqgis.maps.atlas.filter import Filter
from cqgis.maps.errors import MapOptionError
from cqgis.maps.theme_names import THEMES

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

#: Top-level keys of the config file.
TOP_KEYS = ("output", "title", "maps")

#: Keys of one map entry.
MAP_KEYS = ("theme", "coverage", "formats", "filename", "filter", "sort")

MAX_FILENAME_CHARS = 200

_COLUMN = re.compile(r"^-?[^\W\d]\w*$")


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
