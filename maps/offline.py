"""Self-contained map files: Leaflet inlined from a Python package, deterministic element ids, atomic writes.

folium loads Leaflet, jQuery, Bootstrap and Font Awesome from CDNs, so its
pages stay blank without network (and on many networks in mainland China).
:class:`OfflineMap` drops every CDN link and inlines Leaflet 1.9.4 (script,
stylesheet and control images as data URIs) from the PyPI package
``django-js-lib-leaflet``, read as package data without importing Django,
plus the few lines of CSS and JavaScript the cqgis controls need. Its text
uses :data:`cqgis.maps.webfont.FONT_STACK`, whose last Chinese font is the
subset :func:`cqgis.maps.webfont.embed` adds to the finished page.

The inlined text contains no ``http(s)://`` address: stylesheet comments
are dropped and, in the script, ``://`` only occurs inside string literals
and comments (the SVG namespace, Leaflet's home page), where it is written
``:\\/\\/`` -- the same string to JavaScript.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Callable, Iterator, Mapping
from importlib import resources
from types import MappingProxyType

import folium
from branca.element import Element, MacroElement

from cqgis.maps import style, webfont
from cqgis.maps.errors import AssetError

#: Python package that ships Leaflet, and the folder of its files inside it.
LEAFLET_PACKAGE = "js_lib_leaflet"
LEAFLET_FOLDER = ("static", "js_lib_leaflet")
#: Distribution to install when the package is missing.
LEAFLET_DISTRIBUTION = "django-js-lib-leaflet"

#: Styles of the cqgis controls: title, badge, legend, source note, labels, tables.
CQGIS_CSS = f"""
body,.leaflet-container{{font-family:{webfont.FONT_STACK}}}
.leaflet-container{{background:{style.BACKGROUND};font-size:13px}}
.cqgis-title{{position:absolute;top:10px;left:50%;transform:translateX(-50%);z-index:1000;pointer-events:none;background:rgba(255,255,255,.92);padding:6px 14px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);text-align:center}}
.cqgis-title h1{{margin:0;font-size:18px}}
.cqgis-title p{{margin:2px 0 0;font-size:13px;color:#555}}
.cqgis-badge{{display:inline-block;margin-left:8px;padding:1px 6px;border-radius:3px;background:{style.BADGE_COLOR};color:#fff;font-size:12px;vertical-align:middle}}
.cqgis-box{{background:rgba(255,255,255,.92);padding:6px 8px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);line-height:18px;max-width:320px}}
.cqgis-box b{{display:block;margin-bottom:2px}}
.cqgis-legend i{{display:inline-block;width:14px;height:12px;margin-right:6px;vertical-align:middle;border:1px solid #777}}
.cqgis-legend i.line{{height:0;border:0;border-top:3px solid}}
.cqgis-legend i.point{{width:10px;height:10px;border-radius:50%}}
.cqgis-source{{font-size:11px;color:#444}}
.leaflet-tooltip.cqgis-label{{background:none;border:0;box-shadow:none;padding:0;font-size:12px;color:#222;text-shadow:0 0 2px #fff,0 0 2px #fff}}
.leaflet-tooltip.cqgis-label:before{{display:none}}
.cqgis-table th{{text-align:left;font-weight:normal;color:#666;padding-right:8px}}
"""

#: Helpers the generated map script calls: Leaflet controls holding prepared
#: HTML, tooltip/popup tables and permanent labels. Values reach them already
#: HTML-escaped by Python.
CQGIS_JS = """
var cqgis = {
  panel: function (map, position, className, html) {
    var control = L.control({position: position});
    control.onAdd = function () {
      var div = L.DomUtil.create('div', className);
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    return control.addTo(map);
  },
  table: function (labels, values) {
    var rows = labels.map(function (label, i) {
      return '<tr><th>' + label + '</th><td>' + values[i] + '</td></tr>';
    });
    return '<table class="cqgis-table">' + rows.join('') + '</table>';
  },
  bind: function (tooltipLabels, popupLabels) {
    return function (feature, layer) {
      var props = feature.properties || {};
      if (props.t) { layer.bindTooltip(cqgis.table(tooltipLabels, props.t), {sticky: true}); }
      if (props.p) { layer.bindPopup(cqgis.table(popupLabels, props.p), {maxWidth: 360}); }
    };
  },
  labels: function (group, rows) {
    rows.forEach(function (row) {
      group.addLayer(L.tooltip({permanent: true, direction: 'center', interactive: false,
        className: 'cqgis-label'}).setLatLng([row[0], row[1]]).setContent(row[2]));
    });
  }
};
"""

_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_IMAGE = re.compile(r"url\(images/([\w.-]+)\)")
# JSON is valid JavaScript except for characters that end a <script> element
# or (in older engines) a line inside a string.
_SCRIPT_UNSAFE: Mapping[str, str] = MappingProxyType({
    "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029",
})


def _leaflet_file(name: str) -> bytes:
    try:
        folder = resources.files(LEAFLET_PACKAGE).joinpath(*LEAFLET_FOLDER)
        return folder.joinpath(name).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        msg = (
            f"Leaflet file {name} not found: install the Python package "
            f"{LEAFLET_DISTRIBUTION} (it ships Leaflet 1.9.4 for offline maps)"
        )
        raise AssetError(msg) from exc


def leaflet_script() -> str:
    """Return Leaflet's minified script, ready to inline (no ``://`` outside string escapes).

    Returns
    -------
    str
        The script text.

    Raises
    ------
    AssetError
        When the package shipping Leaflet is not installed.
    """
    text = _leaflet_file("leaflet.js").decode("utf-8")
    return text.replace("://", ":\\/\\/")


def leaflet_stylesheet() -> str:
    """Return Leaflet's stylesheet without comments, its images inlined as data URIs.

    Returns
    -------
    str
        The stylesheet text.

    Raises
    ------
    AssetError
        When the package shipping Leaflet is not installed.
    """
    text = _CSS_COMMENT.sub("", _leaflet_file("leaflet.css").decode("utf-8"))

    def inline(match: re.Match[str]) -> str:
        data = base64.b64encode(_leaflet_file(f"images/{match.group(1)}")).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return _CSS_IMAGE.sub(inline, text)


def js_literal(value: object) -> str:
    """Return ``value`` as a JavaScript literal that is safe inside a ``<script>`` element.

    Parameters
    ----------
    value : object
        Anything :func:`json.dumps` accepts.

    Returns
    -------
    str
        JSON with ``< > &`` and the line separators escaped.
    """
    text = json.dumps(value, ensure_ascii=False)
    return re.sub("[<>&\u2028\u2029]", lambda match: _SCRIPT_UNSAFE[match.group(0)], text)


def html_text(value: object) -> str:
    """Escape a user's value for display through ``innerHTML`` in a folium page.

    Besides ``& < > " '``, braces become character references: folium runs
    the script it generates through Jinja a second time, so a ``{{`` in
    the data would be evaluated as a template expression.

    Parameters
    ----------
    value : object
        The value; it is shown as ``str(value)``.

    Returns
    -------
    str
        The escaped text.
    """
    escaped = html.escape(str(value), quote=True)
    return escaped.replace("{", "&#123;").replace("}", "&#125;")


class RawElement(Element):
    """Page text inserted exactly as given (never read as a Jinja template).

    Parameters
    ----------
    text : str
        The HTML or script text.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "RawElement"
        self.text = text

    def render(self, **kwargs: object) -> str:
        """Return the text unchanged.

        Parameters
        ----------
        **kwargs
            Render arguments branca passes; ignored.

        Returns
        -------
        str
            The text given at construction.
        """
        return self.text


class OfflineMap(folium.Map):
    """A folium map whose page loads nothing from the network.

    Every CDN script and stylesheet folium would link is dropped; Leaflet and
    the cqgis helpers (:data:`CQGIS_CSS`, :data:`CQGIS_JS`) are inlined in the
    page head instead. Use only Leaflet's own classes on it (GeoJson,
    CircleMarker, TileLayer, LayerControl, FeatureGroup): folium plugins and
    icon markers need the dropped libraries.

    Parameters
    ----------
    **kwargs
        Keyword arguments of :class:`folium.Map`.

    Raises
    ------
    AssetError
        When the package shipping Leaflet is not installed.
    """

    # Lists, not tuples: folium declares these List[Tuple[str, str]] and its
    # inherited add_js_link / add_css_link update them in place.
    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        assets = (
            f"<style>{leaflet_stylesheet()}{CQGIS_CSS}</style>\n"
            f"<script>{leaflet_script()}{CQGIS_JS}</script>\n"
        )
        self.get_root().header.add_child(RawElement(assets), name="cqgis_assets", index=0)


class ScriptElement(MacroElement):
    """A piece of map script built when the page is rendered.

    Element names (``map_3``, ``geo_json_7``) are only final once
    :func:`number_elements` has run, so the code comes from a callable
    called at render time; it goes into the page script as it is.

    Parameters
    ----------
    build : callable
        Called without arguments at render time; returns the script text.
    """

    def __init__(self, build: Callable[[], str]) -> None:
        super().__init__()
        self._name = "ScriptElement"
        self._build = build

    def render(self, **kwargs: object) -> None:
        """Build the code and append it to the page script.

        Parameters
        ----------
        **kwargs
            Render arguments branca passes; ignored.
        """
        self.get_root().script.add_child(RawElement(self._build() + "\n"), name=self.get_name())


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in element._children.values():
        yield from _walk(child)


def number_elements(root: Element) -> None:
    """Replace folium's random element ids with 1, 2, 3... in tree order.

    folium names every element ``<kind>_<32 random hex digits>``; numbering
    them in tree order makes two renders of the same map byte-identical.

    Parameters
    ----------
    root : branca.element.Element
        The figure (``map.get_root()``); every element below it is renumbered.
    """
    for index, element in enumerate(_walk(root), start=1):
        element._id = str(index)


