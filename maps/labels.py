"""Map labels without overlaps: candidate positions around each anchor, placed greedily by priority, on static maps."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import shapely

#: Label kinds, in the order they are placed: a point's label says what the
#: map is about (a section, a station), an area's name orients the reader,
#: a river's name comes last.
PRIORITY = ("point", "polygon", "line")
#: Gap between a point's marker and its label, in ems.
GAP_EM = 0.3
#: Height of a line of text, in ems (the glyphs and the white halo around them).
LINE_EM = 1.3
#: Where along a line its name is tried, as fractions of its length, middle first.
LINE_POSITIONS = (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.1, 0.9)
#: Shifts of an area's name from the point inside it, in ems (x) and lines (y),
#: nearest first; a shifted anchor must still lie inside the area.
AREA_SHIFTS = tuple(sorted(
    ((dx, dy) for dx in (0, 2, -2, 4, -4) for dy in (0, 1, -1, 2, -2)), key=lambda s: (s[0] ** 2 + (2 * s[1]) ** 2, s)
))
#: A labelled point or area layer with at most this many features in view is a map's
#: subject (zones, cross-border sections): its labels are required, never left off.
MAX_REQUIRED_LABELS = 20
#: Point layers with more markers than this in view do not keep labels off
#: them: hundreds of settlements are a texture a name may cross, and keeping
#: off all of them would leave no district named.
MAX_BLOCKING_MARKERS = 100
# Directions a point's label is tried in, right of the marker first as
# cartographers place it, then left, above, below and the diagonals.
_POINT_DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1))
# Alignment of a label's text for each horizontal and vertical direction.
_HA = {1: "left", 0: "center", -1: "right"}
_VA = {1: "bottom", 0: "center", -1: "top"}


@dataclass(frozen=True)
class Label:
    """A label placed on the map.

    Parameters
    ----------
    x, y : float
        Anchor of the text in map units.
    text : str
        What it says.
    ha, va : str
        Horizontal and vertical alignment of the text at the anchor.
    """

    x: float
    y: float
    text: str
    ha: str
    va: str


def text_width_em(text: str) -> float:
    """Return the width of a text in ems: a Chinese (wide) character is one em, other characters about 0.6.

    Parameters
    ----------
    text : str
        One line of text.

    Returns
    -------
    float
        Its approximate width.
    """
    return sum(1.0 if unicodedata.east_asian_width(char) in "WF" else 0.6 for char in text)


class LabelPlacer:
    """Place labels one by one, each at the first candidate that overlaps nothing placed before.

    Parameters
    ----------
    extent : (xmin, ymin, xmax, ymax)
        The map frame in map units: a label must lie wholly inside it.
    em : float
        One em of the label font, in map units.
    """

    def __init__(self, extent: tuple[float, float, float, float], em: float) -> None:
        self.extent = extent
        self.em = em
        self._boxes: list[tuple[float, float, float, float]] = []
        self.placed: list[Label] = []
        self.dropped: list[str] = []

    def block(self, x: np.ndarray, y: np.ndarray, radius: float) -> None:
        """Keep labels off point markers of ``radius`` map units at (x, y).

        Parameters
        ----------
        x, y : numpy.ndarray
            Marker centres.
        radius : float
            Marker radius in map units.
        """
        self._boxes.extend(zip(x - radius, y - radius, x + radius, y + radius))

    def block_box(self, xmin: float, ymin: float, xmax: float, ymax: float) -> None:
        """Keep labels off a rectangle of the map: the legend, the scale bar, the north arrow.

        Parameters
        ----------
        xmin, ymin, xmax, ymax : float
            The rectangle in map units.
        """
        self._boxes.append((xmin, ymin, xmax, ymax))

    def place(
        self, kind: str, geometry: shapely.Geometry, text: str, radius: float = 0.0, required: bool = False
    ) -> Label | None:
        """Place one label at its first free candidate position, or drop it.

        Parameters
        ----------
        kind : {"point", "polygon", "line"}
            What is labelled: a point's label goes beside its marker, an
            area's at a point inside it (or one line above or below), a
            line's at a point along it.
        geometry : shapely.Geometry
            The feature, in map units.
        text : str
            The label.
        radius : float
            Marker radius of a point, in map units.
        required : bool
            Place the label even when every candidate overlaps something: at
            the candidate overlapping least. For the few labels that carry a
            map's message (a zone's coverage), which must not vanish.

        Returns
        -------
        Label or None
            The placed label; None when every candidate overlaps a label or
            marker placed before, or leaves the frame, and the label is not
            required (it is recorded in :attr:`dropped`).
        """
        width = text_width_em(text) * self.em
        height = LINE_EM * self.em
        fitting = []
        for label in self._candidates(kind, geometry, text, radius):
            box = _box(label, width, height)
            if not self._inside(box):
                continue
            overlap = self._overlap_area(box)
            if overlap == 0.0:
                return self._keep(label, box)
            fitting.append((overlap, len(fitting), label, box))
        if required and fitting:
            _, _, label, box = min(fitting)
            return self._keep(label, box)
        self.dropped.append(text)
        return None

    def _keep(self, label: Label, box: tuple[float, float, float, float]) -> Label:
        self._boxes.append(box)
        self.placed.append(label)
        return label

    def _candidates(self, kind: str, geometry: shapely.Geometry, text: str, radius: float) -> list[Label]:
        if kind == "point":
            x, y = shapely.get_x(geometry), shapely.get_y(geometry)
            reach = radius + GAP_EM * self.em
            return [
                Label(x + dx * reach, y + dy * reach, text, _HA[dx], _VA[dy]) for dx, dy in _POINT_DIRECTIONS
            ]
        if kind == "line":
            anchors = shapely.line_interpolate_point(geometry, LINE_POSITIONS, normalized=True)
            x, y = shapely.get_x(anchors), shapely.get_y(anchors)
            # On the line, else just above or below it, at each position in turn.
            shifts = (0.0, 0.8 * LINE_EM * self.em, -0.8 * LINE_EM * self.em)
            return [Label(a, b + dy, text, "center", "center") for a, b in zip(x, y) for dy in shifts]
        # Only the part in view can carry the name (a neighbouring province reaches far outside a district map).
        geometry = shapely.clip_by_rect(geometry, *self.extent)
        if shapely.is_empty(geometry):
            return []
        anchor = shapely.point_on_surface(geometry)
        x, y = shapely.get_x(anchor), shapely.get_y(anchor)
        shifted = [(x + dx * self.em, y + dy * LINE_EM * self.em) for dx, dy in AREA_SHIFTS]
        return [Label(a, b, text, "center", "center") for a, b in shifted if shapely.contains_xy(geometry, a, b)]

    def _inside(self, box: tuple[float, float, float, float]) -> bool:
        xmin, ymin, xmax, ymax = self.extent
        return box[0] >= xmin and box[1] >= ymin and box[2] <= xmax and box[3] <= ymax

    def _overlap_area(self, box: tuple[float, float, float, float]) -> float:
        if not self._boxes:
            return 0.0
        boxes = np.asarray(self._boxes)
        width = np.minimum(boxes[:, 2], box[2]) - np.maximum(boxes[:, 0], box[0])
        height = np.minimum(boxes[:, 3], box[3]) - np.maximum(boxes[:, 1], box[1])
        # Boxes that only touch (to rounding) do not overlap.
        touch = 1e-6 * self.em
        return float(np.sum(np.clip(width - touch, 0, None) * np.clip(height - touch, 0, None)))


def _box(label: Label, width: float, height: float) -> tuple[float, float, float, float]:
    """Return the (xmin, ymin, xmax, ymax) a label's text covers, from its anchor and alignment."""
    left = {"left": label.x, "center": label.x - width / 2, "right": label.x - width}[label.ha]
    bottom = {"bottom": label.y, "center": label.y - height / 2, "top": label.y - height}[label.va]
    return left, bottom, left + width, bottom + height
