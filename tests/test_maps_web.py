"""Tests of the map spec and the self-contained web maps: offline page, escaping, GCJ-02 shift, determinism, atomic writes, embedded font."""

from __future__ import annotations

import base64
import io
import json
import os
import re

import geopandas as gpd
import numpy as np
import pytest
import shapely
from fontTools.ttLib import TTFont

from cqgis.geo import crs
from cqgis.maps import fonts, web, webfont
from cqgis.geo.errors import WriteError
from cqgis.maps.errors import MapError, MapOptionError
from cqgis.maps.style import LayerSpec, LegendEntry, MapSpec, PALETTE, MISSING_COLOR

HOSTILE_NAME = "<script>alert(1)</script>"
TEMPLATE_NAME = "{{ 7*7 }}"
URL = re.compile(r"https?://")
TIANDITU_KEY = "0123456789abcdef0123456789abcdef"
FONT_FACE = re.compile(r"src:url\(data:font/(woff2?);base64,([A-Za-z0-9+/=]+)\)")


def make_spec(synthetic: bool = True) -> MapSpec:
    """Three districts (one with a hostile name), a river and two stations near 渝中."""
    districts = gpd.GeoDataFrame(
        {
            "name": [HOSTILE_NAME, TEMPLATE_NAME, "渝中区"],
            "kind": ["市辖区", "县", "市辖区"],
            "energy": [1.23456, None, 3.0],
        },
        geometry=[
            shapely.box(106.40, 29.40, 106.50, 29.50),
            shapely.box(106.50, 29.40, 106.60, 29.50),
            shapely.box(106.40, 29.50, 106.60, 29.60),
        ],
        crs="EPSG:4326",
    )
    rivers = gpd.GeoDataFrame(
        {"name": ["长江"]},
        geometry=[shapely.LineString([(106.30, 29.45), (106.70, 29.55)])],
        crs="EPSG:4326",
    )
    stations = gpd.GeoDataFrame(
        {"name": ["加氢站甲", "加氢站乙"]},
        geometry=shapely.points([106.45, 106.55], [29.45, 29.55]),
        crs="EPSG:4326",
    )
    return MapSpec(
        title="测试地图",
        subtitle="单元测试",
        layers=[
            LayerSpec(
                "区县", districts, "polygon", color_column="kind",
                tooltip={"name": "名称"}, popup={"name": "名称", "energy": "能耗"},
                label_column="name",
            ),
            LayerSpec("河流", rivers, "line", color="#2166ac", weight=2.0),
            LayerSpec("加氢站", stations, "point", color="#e15759", tooltip={"name": "站名"}),
        ],
        sources=["高德地图行政区划", "GeoNames"],
        synthetic=synthetic,
    )


def geojson_blocks(page: str) -> list[dict]:
    """The FeatureCollections embedded in a page, in layer order."""
    return [json.loads(text) for text in re.findall(r"geo_json_\d+_add\((\{.*\})\);", page)]


def wavy_grid(cells: int = 3, size: float = 0.1, vertices: int = 400) -> np.ndarray:
    """A coverage of cells x cells squares near Chongqing whose shared edges wiggle."""
    def edge(start, end, vertical: bool) -> np.ndarray:
        t = np.linspace(0.0, 1.0, vertices)
        along = start + (end - start) * t
        wiggle = 0.004 * np.sin(40 * np.pi * t) * np.sin(np.pi * t)
        return np.column_stack([wiggle, along]) if vertical else np.column_stack([along, wiggle])

    x0, y0 = 106.0, 29.0
    xs = x0 + size * np.arange(cells + 1)
    ys = y0 + size * np.arange(cells + 1)
    polygons = []
    for i in range(cells):
        for j in range(cells):
            def side(k, a, b, vertical):
                line = edge(a, b, vertical)
                inner = 0 < k < cells
                offset = line[:, 0] if vertical else line[:, 1]
                offset = offset if inner else offset * 0
                return (np.column_stack([xs[k] + offset, line[:, 1]]) if vertical
                        else np.column_stack([line[:, 0], ys[k] + offset]))
            bottom = side(j, xs[i], xs[i + 1], False)
            right = side(i + 1, ys[j], ys[j + 1], True)
            top = side(j + 1, xs[i], xs[i + 1], False)[::-1]
            left = side(i, ys[j], ys[j + 1], True)[::-1]
            ring = np.concatenate([bottom, right[1:], top[1:], left[1:]])
            polygons.append(shapely.Polygon(ring))
    return np.array(polygons)


def test_spec_rejects_missing_column():
    frame = make_spec().layers[0].frame
    with pytest.raises(MapError, match="no column 'population'"):
        LayerSpec("区县", frame, "polygon", tooltip={"population": "人口"})


def test_spec_rejects_wrong_geometry_and_crs():
    frame = make_spec().layers[1].frame
    with pytest.raises(MapError, match="row 0 is a LineString"):
        LayerSpec("河流", frame, "polygon")
    with pytest.raises(MapError, match="EPSG:4326"):
        LayerSpec("河流", frame.to_crs(crs.metric_crs()), "line")


def test_spec_rejects_colours_that_are_not_hex():
    frame = make_spec().layers[1].frame
    with pytest.raises(MapError, match="#rrggbb"):
        LayerSpec("河流", frame, "line", color="red;}</style>")


def test_categories_get_palette_colours_and_a_missing_row():
    layer = make_spec().layers[0]
    frame = layer.frame.assign(kind=["市辖区", None, "县"])
    spec = LayerSpec("区县", frame, "polygon", color_column="kind")
    assert list(spec.feature_colors()) == [PALETTE[1], MISSING_COLOR, PALETTE[0]]
    labels = [entry.label for entry in spec.legend_entries()]
    assert labels == ["县", "市辖区", "无数据"]


def test_default_page_loads_nothing_from_the_network():
    page = web.build_html(make_spec())
    assert not URL.search(page)
    assert "<script src" not in page and "<link" not in page
    assert "Leaflet 1.9.4" in page
    assert "data:image/png;base64," in page


def test_tile_basemaps_are_the_only_addresses():
    osm = web.build_html(make_spec(), basemap="osm")
    assert URL.findall(osm) == ["https://"]
    assert "tile.openstreetmap.org/{z}/{x}/{y}.png" in osm
    tianditu = web.build_html(make_spec(), basemap="tianditu", tianditu_key=TIANDITU_KEY)
    assert len(URL.findall(tianditu)) == 2
    assert tianditu.count(f"tk={TIANDITU_KEY}") == 2


def test_unusable_basemap_options_are_usage_errors():
    with pytest.raises(MapOptionError, match="unknown basemap 'bing'"):
        web.build_html(make_spec(), basemap="bing")
    with pytest.raises(MapOptionError, match="Tianditu browser key"):
        web.build_html(make_spec(), basemap="tianditu")
    with pytest.raises(MapOptionError, match="Tianditu browser key"):
        web.build_html(make_spec(), basemap="tianditu", tianditu_key="x'});alert(1);//")


def test_user_strings_are_escaped_everywhere():
    page = web.build_html(make_spec())
    assert HOSTILE_NAME not in page
    assert "alert(1)" in page
    # folium re-reads its script as a Jinja template: braces must not survive.
    assert "{{ 7*7 }}" not in page and "\\u0026#123;\\u0026#123; 7*7" in page
    features = geojson_blocks(page)[0]["features"]
    assert features[0]["properties"]["t"] == ["&lt;script&gt;alert(1)&lt;/script&gt;"]
    assert features[1]["properties"]["p"] == ["&#123;&#123; 7*7 &#125;&#125;", "—"]
    assert features[0]["properties"]["p"][1] == "1.23"


def test_page_has_title_badge_legend_scale_and_sources():
    page = web.build_html(make_spec())
    assert "<title>测试地图</title>" in page
    assert '<span class="cqgis-badge">示例数据</span>' in page
    assert "L.control.scale({metric: true, imperial: false" in page
    assert "cqgis-legend" in page and "图例" in page
    assert "数据来源：高德地图行政区划；GeoNames" in page
    assert "L.control.layers(" in page
    assert "cqgis-badge\">" not in web.build_html(make_spec(synthetic=False))


def test_two_renders_are_byte_identical(tmp_path):
    first = web.render_html(make_spec(), tmp_path / "a.html")
    second = web.render_html(make_spec(), tmp_path / "b.html")
    assert first.read_bytes() == second.read_bytes()
    assert not re.search(r"_[0-9a-f]{32}", first.read_text(encoding="utf-8"))


def test_gaode_basemap_shifts_layers_to_gcj02():
    plain = geojson_blocks(web.build_html(make_spec()))
    gaode = geojson_blocks(web.build_html(make_spec(), basemap="gaode"))
    lon, lat = np.array([f["geometry"]["coordinates"] for f in plain[2]["features"]]).T
    glon, glat = np.array([f["geometry"]["coordinates"] for f in gaode[2]["features"]]).T
    metric = gpd.GeoSeries(shapely.points(lon, lat), crs="EPSG:4326").to_crs(crs.metric_crs())
    shifted = gpd.GeoSeries(shapely.points(glon, glat), crs="EPSG:4326").to_crs(crs.metric_crs())
    distance = metric.distance(shifted).to_numpy()
    assert np.all((distance > 400) & (distance < 650))
    assert np.all(glon > lon) and np.all(glat < lat)


def test_display_geometries_keep_a_coverage_without_slivers():
    grid = wavy_grid()
    assert shapely.coverage_is_valid(grid)
    frame = gpd.GeoDataFrame({"cell": range(len(grid))}, geometry=grid, crs="EPSG:4326")
    shown = web.display_geometries(frame)
    geometries = np.asarray(shown.geometry.values)
    kept = shapely.get_num_coordinates(geometries).sum()
    assert kept < 0.5 * shapely.get_num_coordinates(grid).sum()
    assert shapely.coverage_is_valid(geometries)
    union = shapely.union_all(geometries)
    assert union.geom_type == "Polygon" and len(union.interiors) == 0
    assert union.area == pytest.approx(shapely.area(geometries).sum(), rel=1e-12)
    coordinates = shapely.get_coordinates(geometries)
    assert np.array_equal(coordinates, np.round(coordinates, web.COORDINATE_DECIMALS))


def test_real_districts_stay_a_coverage(districts):
    shown = web.display_geometries(districts)
    geometries = np.asarray(shown.geometry.values)
    assert shapely.coverage_is_valid(geometries)
    kept = shapely.get_num_coordinates(geometries).sum()
    assert kept < 0.5 * shapely.get_num_coordinates(np.asarray(districts.geometry.values)).sum()


def test_empty_and_null_geometries_are_skipped():
    spec = make_spec()
    frame = spec.layers[2].frame
    frame = gpd.GeoDataFrame(
        {"name": ["甲", "乙", "丙"]},
        geometry=[frame.geometry.iloc[0], None, shapely.Point()],
        crs="EPSG:4326",
    )
    page = web.build_html(MapSpec("点", [LayerSpec("站点", frame, "point")]))
    assert len(geojson_blocks(page)[0]["features"]) == 1


def test_render_html_refuses_other_suffixes(tmp_path):
    with pytest.raises(MapOptionError, match=".html"):
        web.render_html(make_spec(), tmp_path / "map.png")


def test_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    target = tmp_path / "map.html"
    target.write_text("old", encoding="utf-8")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(WriteError, match="disk full"):
        web.render_html(make_spec(), target)
    assert target.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["map.html"]
    with pytest.raises(WriteError, match="does not exist"):
        web.render_html(make_spec(), tmp_path / "missing" / "map.html")


def test_explicit_legend_replaces_layer_entries():
    spec = make_spec()
    explicit = MapSpec(spec.title, spec.layers, legend=[LegendEntry("一类", "#59a14f")])
    page = web.build_html(explicit)
    assert "一类" in page and "市辖区</div>" not in page


def embedded_font(page: str) -> TTFont:
    """The one font embedded in a page, checked to be in the flavor cqgis writes."""
    faces = FONT_FACE.findall(page)
    assert [flavor for flavor, _ in faces] == [webfont.WEB_FONT_FLAVOR]
    return TTFont(io.BytesIO(base64.b64decode(faces[0][1])))


def test_page_embeds_a_font_subset_of_its_own_characters():
    page = web.build_html(make_spec())
    font = embedded_font(page)
    covered = set(map(chr, font.getBestCmap()))
    literal = {char for char in page if ord(char) > 0x7F}
    # Tooltip and popup texts reach the page as \uXXXX escapes in the GeoJSON.
    features = [f for block in geojson_blocks(page) for f in block["features"]]
    texts = ["".join(value) for f in features for value in f["properties"].values()]
    escaped = set("".join(texts))
    assert {"甲", "乙"} <= escaped - literal
    assert literal | escaped | set(webfont.ASCII_PRINTABLE) <= covered
    full = TTFont(fonts.packaged_font_path(), lazy=True)
    assert len(font.getGlyphOrder()) < 0.02 * len(full.getGlyphOrder())
    assert font["name"].getDebugName(1) == "Noto Sans SC"
    assert "SIL Open Font License" in font["name"].getDebugName(13)


def test_font_stack_puts_system_fonts_first_and_the_subset_before_sans_serif():
    page = web.build_html(make_spec())
    assert f"body,.leaflet-container{{font-family:{webfont.FONT_STACK}}}" in page
    families = webfont.FONT_STACK.split(",")
    assert families[0] == '"Microsoft YaHei"'
    assert families[-2:] == [f'"{webfont.WEB_FONT_FAMILY}"', "sans-serif"]
    assert page.index(webfont.FONT_STACK) < page.index("@font-face") < page.index("</head>")


def test_font_face_is_deterministic():
    characters = webfont.page_characters(web.build_html(make_spec()))
    path = fonts.packaged_font_path()
    first = webfont.font_face_css(characters, path)
    assert webfont.font_face_css(sorted(characters, reverse=True), path) == first


def test_page_characters_read_references_and_escapes():
    characters = webfont.page_characters("&copy;&#215;\\u6e1d\\ud83d\\ude00\x01\x85长江")
    assert {"©", "×", "渝", "\U0001F600", "长", "江"} <= characters
    assert characters.isdisjoint({"\x01", "\x85", "\ud83d"})
    assert webfont.ASCII_PRINTABLE <= characters


def test_page_without_the_packaged_font_still_renders(monkeypatch):
    monkeypatch.setattr(fonts, "PACKAGED_FONTS", (("no_such_font_package", "x.otf"),))
    with pytest.warns(UserWarning, match=webfont.FONT_DISTRIBUTION):
        page = web.build_html(make_spec())
    assert "@font-face" not in page
    assert webfont.FONT_STACK in page and "<title>测试地图</title>" in page
