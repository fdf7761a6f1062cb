"""Label placement on static maps: no two labels overlap, none covers a marker or leaves the frame."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely
from hypothesis import given, settings, strategies as st

from cqgis.maps import labels, static
from cqgis.maps.labels import LINE_EM, LabelPlacer, text_width_em

EXTENT = (0.0, 0.0, 100.0, 100.0)


def _box(placer: LabelPlacer, label: labels.Label) -> tuple[float, float, float, float]:
    return labels._box(label, text_width_em(label.text) * placer.em, LINE_EM * placer.em)


def _overlap(a, b, touch: float = 1e-9) -> bool:
    # Boxes placed edge to edge may cross by a rounding error (4e-15 found by hypothesis): they only touch.
    return a[0] < b[2] - touch and b[0] < a[2] - touch and a[1] < b[3] - touch and b[1] < a[3] - touch


def test_text_width_counts_chinese_as_one_em():
    assert text_width_em("长江") == 2.0
    assert text_width_em("ab") == pytest.approx(1.2)
    assert text_width_em("朱沱（川入渝）") == 7.0


def test_point_label_goes_right_of_its_marker_then_elsewhere():
    placer = LabelPlacer(EXTENT, em=2.0)
    point = shapely.Point(50, 50)
    placer.block(np.array([50.0]), np.array([50.0]), 1.0)
    first = placer.place("point", point, "寸滩", radius=1.0)
    second = placer.place("point", point, "寸滩", radius=1.0)
    assert (first.ha, first.va) == ("left", "center") and first.x > 51.0
    assert (second.ha, second.va) == ("right", "center") and second.x < 49.0
    marker = (49.0, 49.0, 51.0, 51.0)
    assert not _overlap(_box(placer, first), marker) and not _overlap(_box(placer, second), marker)


def test_label_that_fits_nowhere_is_dropped():
    placer = LabelPlacer((0.0, 0.0, 10.0, 10.0), em=2.0)
    assert placer.place("polygon", shapely.box(0, 0, 10, 10), "一二三四五六七八") is None
    assert placer.dropped == ["一二三四五六七八"]


def test_line_label_moves_along_the_line():
    placer = LabelPlacer(EXTENT, em=2.0)
    line = shapely.LineString([(10, 50), (90, 50)])
    first = placer.place("line", line, "嘉陵江")
    second = placer.place("line", line, "嘉陵江")
    assert (first.x, first.y) == (50.0, 50.0)
    # Just above and below the first would still overlap it: the next position along the line is free.
    assert (second.x, second.y) == (42.0, 50.0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(5, 95), st.floats(5, 95), st.sampled_from(["point", "polygon", "line"])),
                min_size=1, max_size=40))
def test_placed_labels_never_overlap_and_stay_inside(features):
    placer = LabelPlacer(EXTENT, em=1.5)
    xy = np.array([(x, y) for x, y, kind in features if kind == "point"]).reshape(-1, 2)
    placer.block(xy[:, 0], xy[:, 1], 0.8)
    for x, y, kind in features:
        shape = {
            "point": shapely.Point(x, y),
            "polygon": shapely.Point(x, y).buffer(4),
            "line": shapely.LineString([(x - 5, y), (x + 5, y + 1)]),
        }[kind]
        placer.place(kind, shape, "断面名", radius=0.8)
    boxes = [_box(placer, label) for label in placer.placed]
    assert len(placer.placed) + len(placer.dropped) == len(features)
    for a, b in itertools.combinations(boxes, 2):
        assert not _overlap(a, b)
    markers = [(x - 0.8, y - 0.8, x + 0.8, y + 0.8) for x, y in xy]
    for box in boxes:
        assert EXTENT[0] <= box[0] and box[2] <= EXTENT[2] and EXTENT[1] <= box[1] and box[3] <= EXTENT[3]
        assert not any(_overlap(box, marker) for marker in markers)


def test_city_water_map_labels_sections_first_without_overlaps():
    """On the real city map every section with a label keeps it; no two drawn labels overlap, nor a label and the legend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib import rc_context

    from cqgis.maps import fonts, themes

    spec = themes.build_spec("water")
    with rc_context(fonts.rc_params()):
        figure = static.draw(spec)
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        renderer = canvas.get_renderer()
        axes = figure.axes[0]
        texts = [t for t in axes.texts if t.get_zorder() == static.LABEL_ZORDER]
        extents = [t.get_window_extent(renderer) for t in texts]
        legend = axes.get_legend().get_window_extent(renderer)
    shown = {t.get_text() for t in texts}
    sections = next(layer for layer in spec.layers if layer.kind == "point" and layer.label_column)
    wanted = set(sections.drawable()[sections.label_column].dropna().astype(str))
    assert wanted and wanted <= shown
    # The estimate of a text's size may be a little off; real overlaps of more than 2 pixels are not allowed.
    for a, b in itertools.combinations([*extents, legend], 2):
        assert min(a.x1, b.x1) - max(a.x0, b.x0) <= 2 or min(a.y1, b.y1) - max(a.y0, b.y0) <= 2


def test_required_label_is_placed_where_it_overlaps_least():
    placer = LabelPlacer((0.0, 0.0, 10.0, 10.0), em=2.0)
    area = shapely.box(0, 0, 10, 10)
    for _ in range(3):
        assert placer.place("polygon", area, "两江新区") is not None
    assert placer.place("polygon", area, "两江新区") is None
    crowded = placer.place("polygon", area, "两江新区", required=True)
    assert crowded is not None and placer.placed[-1] == crowded


def test_district_map_keeps_names_off_the_legend():
    """丰都县's neighbour 彭水 lies under the legend's corner: its name moves out from under it."""
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from cqgis.maps import fonts, themes

    with rc_context(fonts.rc_params()):
        figure = static.draw(themes.build_spec("rural-sewage", district="丰都县"))
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        renderer = canvas.get_renderer()
        axes = figure.axes[0]
        legend = axes.get_legend().get_window_extent(renderer)
        labels = {t.get_text(): t.get_window_extent(renderer) for t in axes.texts if t.get_zorder() == static.LABEL_ZORDER}
    assert "彭水苗族土家族自治县" in labels
    for extent in labels.values():
        assert min(extent.x1, legend.x1) - max(extent.x0, legend.x0) <= 0 or min(extent.y1, legend.y1) - max(extent.y0, legend.y0) <= 0
