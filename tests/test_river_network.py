"""Tests of the river network: graph, direction inference, snapping, upstream/downstream tracing."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from cqgis.analysis import river_network as rn
from cqgis.analysis.errors import AnalysisError
from cqgis.cli.analyze.upstream import upstream as upstream_command
from cqgis.geo import crs
from cqgis.layers import catalog

# A Y-shaped network: 甲河 west to east, 乙河 joining it from the north at 106.1,
# unnamed reaches around them (drawn in arbitrary directions).
MAIN, TRIBUTARY, HEAD, TAIL, ISLAND, LINK = 1, 2, 3, 4, 5, 6
LINES = {
    MAIN: ("甲河", True, [(106.0, 29.0), (106.2, 29.0)]),
    TRIBUTARY: ("乙河", True, [(106.1, 29.1), (106.1, 29.0)]),
    # Drawn away from 乙河's head: it is a headwater flowing into it.
    HEAD: ("", False, [(106.1, 29.1), (106.05, 29.2)]),
    # Drawn downstream from 甲河's end: the only way out of that node.
    TAIL: ("", False, [(106.2, 29.0), (106.3, 29.0)]),
    # Touches nothing.
    ISLAND: ("", False, [(106.5, 29.5), (106.6, 29.5)]),
    # Links 甲河 and 乙河 in their middles: rules point both ways.
    LINK: ("", False, [(106.05, 29.0), (106.1, 29.05)]),
}


@pytest.fixture(scope="module")
def toy() -> gpd.GeoDataFrame:
    ids = list(LINES)
    return gpd.GeoDataFrame(
        {
            "river_id": ids,
            "name": [LINES[i][0] for i in ids],
            "flows_into": "",
            "oriented": [LINES[i][1] for i in ids],
            "source": "test",
            "precision": "synthetic",
        },
        geometry=[shapely.LineString(LINES[i][2]) for i in ids],
        crs="EPSG:4326",
    )


@pytest.fixture(scope="module")
def graph(toy):
    return rn.build_graph(toy)


def _directions(graph) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for _, _, data in graph.edges(data=True):
        found.setdefault(data["river_id"], set()).add(data["direction"])
    return found


def test_graph_nodes_cut_main_river_at_confluences(graph):
    # 甲河 is cut where 乙河 and the link end on it; 乙河 where the link ends on it.
    main_edges = [d for _, _, d in graph.edges(data=True) if d["river_id"] == MAIN]
    tributary_edges = [d for _, _, d in graph.edges(data=True) if d["river_id"] == TRIBUTARY]
    assert len(main_edges) == 3
    assert len(tributary_edges) == 2


def test_directions_inferred_from_the_network(graph):
    directions = _directions(graph)
    assert directions[MAIN] == directions[TRIBUTARY] == {"data"}
    assert directions[HEAD] == directions[TAIL] == {"inferred"}
    assert directions[ISLAND] == directions[LINK] == {"undecided"}
    assert graph.graph["undecided"] == [ISLAND, LINK]
    signs = dict(zip(graph.graph["rivers"]["river_id"], graph.graph["signs"]))
    assert signs[HEAD] == -1 and signs[TAIL] == 1


def test_upstream_of_a_point_below_the_confluence(graph):
    up = rn.upstream(graph, shapely.Point(106.15, 29.001))
    assert set(up["river_id"]) == {MAIN, TRIBUTARY, HEAD}
    main = up.set_index("river_id").loc[MAIN]
    assert main["partial"]
    # The main river is cut at the snapped point and still runs downstream.
    first, last = shapely.get_coordinates(main.geometry)[[0, -1]]
    assert first == pytest.approx((106.0, 29.0), abs=1e-6)
    assert last == pytest.approx((106.15, 29.0), abs=1e-4)
    assert main["length_km"] == pytest.approx(0.75 * rn._metric_lines(graph.graph["rivers"])[0].length / 1000, rel=1e-3)
    assert not up.set_index("river_id").loc[TRIBUTARY, "partial"]


def test_downstream_of_the_same_point(graph):
    down = rn.downstream(graph, shapely.Point(106.15, 29.001))
    assert set(down["river_id"]) == {MAIN, TAIL}
    main = down.set_index("river_id").loc[MAIN]
    assert shapely.get_coordinates(main.geometry)[0] == pytest.approx((106.15, 29.0), abs=1e-4)


def test_upstream_above_the_confluence_excludes_the_tributary(graph):
    up = rn.upstream(graph, shapely.Point(106.02, 29.0))
    assert set(up["river_id"]) == {MAIN}


def test_a_reach_stands_for_its_mouth(graph):
    assert set(rn.upstream(graph, "乙河")["river_id"]) == {TRIBUTARY, HEAD}
    assert set(rn.downstream(graph, TRIBUTARY)["river_id"]) == {MAIN, TAIL}


def test_undecided_reach_cannot_be_traced(graph):
    with pytest.raises(AnalysisError, match="no known direction"):
        rn.upstream(graph, ISLAND)
    with pytest.raises(AnalysisError, match="no known direction"):
        rn.upstream(graph, shapely.Point(106.55, 29.5))


def test_unknown_reach_lists_close_names(graph):
    with pytest.raises(AnalysisError, match="close names: 甲河"):
        rn.upstream(graph, "甲")


def test_snap_tolerance(toy):
    snapped = rn.snap(shapely.Point(106.15, 29.01), toy, tolerance_m=2000)
    assert snapped.river_id == MAIN
    assert snapped.distance_m == pytest.approx(1100, rel=0.02)
    with pytest.raises(AnalysisError, match="within 1 km .* nearest is 1.1 km away"):
        rn.snap(shapely.Point(106.15, 29.01), toy, tolerance_m=1000)


def test_snap_keeps_to_the_named_river(toy):
    near_tributary = shapely.Point(106.101, 29.02)
    assert rn.snap(near_tributary, toy).river_id == TRIBUTARY
    assert rn.snap(near_tributary, toy, river="甲河").river_id == MAIN
    # A river absent from the layer may only be an unnamed reach.
    assert rn.snap(near_tributary, toy, river="丙河").river_id == LINK


@pytest.fixture(scope="module")
def rivers():
    return catalog.load("rivers")


@pytest.fixture(scope="module")
def sections():
    return catalog.load("sections")


@pytest.fixture(scope="module")
def real_graph(rivers):
    return rn.build_graph(rivers)


def _areas(name, sections, real_graph, rivers, districts, neighbors):
    section = sections[sections["name"] == name].iloc[0]
    return rn.upstream_areas(section, real_graph, rivers, districts, neighbors)


def test_real_network_named_rivers_are_directed(real_graph):
    directions = _directions(real_graph)
    assert directions[1] == {"data"}
    assert real_graph.number_of_edges() > len(directions)


def test_upstream_of_zhutuo_is_sichuan(sections, real_graph, rivers, districts, neighbors):
    areas = _areas("朱沱", sections, real_graph, rivers, districts, neighbors)
    sichuan = areas[areas["province"] == "四川省"]
    assert {"泸州市", "宜宾市"} <= set(sichuan["name"])
    assert sichuan["length_km"].sum() > 10 * areas.loc[areas["province"] == "重庆市", "length_km"].sum()
    # Beside the Yangtze at the border, only 荣昌区 drains there: 大清流河 rises there and joins the 沱江 in Sichuan.
    assert set(areas.loc[areas["province"] == "重庆市", "name"]) <= {"永川区", "江津区", "荣昌区"}
    section = sections[sections["name"] == "朱沱"].iloc[0]
    reaches = rn.upstream(real_graph, rn.snap(section.geometry, rivers, river="长江"))
    assert "大清流河" in set(reaches["name"]) and "嘉陵江" not in set(reaches["name"])


def test_upstream_of_jialing_section_reaches_sichuan(sections, real_graph, rivers, districts, neighbors):
    areas = _areas("北温泉", sections, real_graph, rivers, districts, neighbors)
    assert "四川省" in set(areas["province"])
    assert {"合川区", "南充市", "广安市"} <= set(areas["name"])
    assert "江津区" not in set(areas["name"])


def test_cli_upstream(tmp_path):
    runner = CliRunner()
    result = runner.invoke(upstream_command, ["--section", "朱沱", "-o", str(tmp_path / "up.geojson")])
    assert result.exit_code == 0, result.output
    assert "泸州市" in result.output
    written = gpd.read_file(tmp_path / "up.geojson")
    assert "长江" in set(written["name"])
    wrong = runner.invoke(upstream_command, ["--section", "朱拖"])
    assert wrong.exit_code != 0
    assert "朱沱" in str(wrong.exception)


def test_metric_crs_used_for_lengths(real_graph):
    line = real_graph.graph["lines"][0]
    expected = gpd.GeoSeries([line], crs=crs.metric_crs("distance")).length.iloc[0]
    pieces = [d["length_m"] for _, _, d in real_graph.edges(data=True) if d["river_id"] == 1]
    assert sum(pieces) == pytest.approx(expected, rel=1e-6)


def test_two_channels_between_the_same_nodes_are_both_kept():
    channels = gpd.GeoDataFrame(
        {"river_id": [1, 2], "name": ["甲河", "甲河汊"], "flows_into": "", "oriented": True, "source": "test",
         "precision": "synthetic"},
        geometry=[
            shapely.LineString([(106.0, 29.0), (106.1, 29.0)]),
            shapely.LineString([(106.0, 29.0), (106.05, 29.02), (106.1, 29.0)]),
        ],
        crs="EPSG:4326",
    )
    graph = rn.build_graph(channels)
    assert graph.number_of_edges() == 3
    assert set(rn.upstream(graph, shapely.Point(106.1, 29.0))["river_id"]) == {1, 2}
