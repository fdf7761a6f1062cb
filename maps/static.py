"""Static maps: a MapSpec drawn with matplotlib (Agg) to PNG, PDF or SVG, with Chinese text embedded.

The map is drawn in the conformal CRS (:func:`cqgis.geo.crs.metric_crs`), so
shapes are true and the scale bar is measured in metres; the north arrow
follows the meridian at the map's centre (the grid converges by up to ~1.5
degrees at Chongqing's edges). Title, legend, source note and, for invented
data, the 示例数据 badge come from the same :class:`MapSpec` as the web map.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import pyproj
import shapely
from PIL import Image
from matplotlib import patheffects
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba_array
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from cqgis import config
from cqgis.geo import crs
from cqgis.maps import fonts, style
from cqgis.geo.io import atomic
from cqgis.maps.errors import MapOptionError
from cqgis.maps.pdf import truetype_fonts
from cqgis.maps.labels import MAX_BLOCKING_MARKERS, MAX_REQUIRED_LABELS, PRIORITY, LabelPlacer
from cqgis.maps.style import LayerSpec, LegendEntry, MapSpec

#: Output formats by suffix.
STATIC_FORMATS: Mapping[str, str] = MappingProxyType({".png": "png", ".pdf": "pdf", ".svg": "svg"})
#: Default page size in inches (landscape, about A4 less margins).
FIGSIZE = (10.0, 8.0)
#: Map frame inside the page, in figure fractions (left, bottom, width, height).
AXES_BOX = (0.03, 0.07, 0.94, 0.83)
#: Empty margin around the data, as a fraction of its extent.
MARGIN = 0.04
#: Default resolution of PNG output, in dots per inch.
DPI = 200
#: zlib level of PNG output: 1 encodes in about half the time of the default 6,
#: for files about 13 % larger (measured on the demo's maps: 0.12 s, 284 KB
#: against 0.20 s, 252 KB).
PNG_COMPRESSION = 1
#: Largest shift of a drawn vertex when shapes are simplified, in pixels at the
#: drawing's resolution: invisible, and the projection and the drawing handle
#: several times fewer vertices at district scale.
SIMPLIFY_PIXELS = 0.5
#: Font size of feature labels, in points.
LABEL_FONT_SIZE = 7
#: Drawing order of the labels: above the features, below the legend, scale bar and north arrow (5).
LABEL_ZORDER = 4
#: Scale bar length, as a fraction of the map width it should not exceed.
SCALE_BAR_FRACTION = 0.25
# Metadata left out so that the same spec gives the same bytes.
# matplotlib copies the metadata mapping before adding its own keys.
_METADATA: Mapping[str, Mapping[str, str | None]] = MappingProxyType({
    "pdf": MappingProxyType({"CreationDate": None, "Creator": "cqgis", "Producer": None}),
    "svg": MappingProxyType({"Date": None, "Creator": "cqgis"}),
})
_HALO = (patheffects.withStroke(linewidth=2.0, foreground="white"),)
_POINTS_PER_PIXEL = 0.75
# Most metres in a degree of latitude (at the poles; a degree of longitude is
# never longer), so a tolerance in degrees derived from it never moves a point farther.
_METRES_PER_DEGREE = 111_694.0


#: Widest grid the relief shade is computed on, in pixels (the frame is
#: scaled to its pixel size when drawn).
HILLSHADE_PIXELS = 1_200
#: Grid cells across each DEM cell: the shade has no detail finer than the
#: 30″ DEM, and a district spans only tens of its cells.
HILLSHADE_CELL_PIXELS = 4

#: Darkest a shadowed slope gets (alpha of black).
HILLSHADE_ALPHA = 0.45


def render_static(
    spec: MapSpec,
    path: str | os.PathLike,
    dpi: int = DPI,
    figsize: tuple[float, float] = FIGSIZE,
) -> Path:
    """Draw a map to a PNG, PDF or SVG file, atomically.

    Parameters
    ----------
    spec : MapSpec
        What to draw.
    path : str or os.PathLike
        Target; the suffix (.png, .pdf, .svg) picks the format. Its folder
        must exist.
    dpi : int
        Resolution of PNG output (and of any raster part of PDF/SVG).
    figsize : (float, float)
        Page size in inches.

    Returns
    -------
    pathlib.Path
        The target.

    Raises
    ------
    MapOptionError
        Unknown suffix or non-positive dpi.
    AssetError
        When no Chinese font is installed.
    cqgis.geo.errors.WriteError
        When the file cannot be written (nothing is left behind).
    """
    path = Path(path)
    fmt = STATIC_FORMATS.get(path.suffix.lower())
    if fmt is None:
        msg = f"cannot draw {path.name}: static maps are written as {', '.join(STATIC_FORMATS)}"
        raise MapOptionError(msg)
    if dpi <= 0:
        msg = f"dpi must be positive, not {dpi}"
        raise MapOptionError(msg)
    if fmt == "png":
        render_png(spec, path, dpi, figsize)
        return path
    with matplotlib.rc_context(fonts.rc_params()):
        figure = draw(spec, figsize, dpi)
        with atomic(path) as temp:
            figure.savefig(temp, format=fmt, dpi=dpi, metadata=_METADATA[fmt], facecolor="white")
            if fmt == "pdf":
                # matplotlib embeds a CFF font (Noto Sans SC) as if it were TrueType.
                temp.write_bytes(truetype_fonts(temp.read_bytes()))
    return path


def render_png(
    spec: MapSpec, path: str | os.PathLike, dpi: int = DPI, figsize: tuple[float, float] = FIGSIZE
) -> Image.Image:
    """Draw a map to an opaque RGB PNG, atomically, and return the picture written.

    The file has no date and no software name: the same map gives the same
    bytes. The picture is returned so that smaller copies of it (an
    atlas's previews) need not decode the file again.

    Parameters
    ----------
    spec : MapSpec
        What to draw.
    path : str or os.PathLike
        Target PNG; its folder must exist.
    dpi : int
        Resolution.
    figsize : (float, float)
        Page size in inches.

    Returns
    -------
    PIL.Image.Image
        The RGB picture the file holds.

    Raises
    ------
    AssetError
        When no Chinese font is installed.
    cqgis.geo.errors.WriteError
        When the file cannot be written (nothing is left behind).
    """
    with matplotlib.rc_context(fonts.rc_params()):
        figure = draw(spec, figsize, dpi)
        figure.set_dpi(dpi)
        figure.set_facecolor("white")
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
    # matplotlib draws RGBA; the page is white, and without the alpha channel
    # the encoding, the largest part of a map's time, is faster and the file
    # smaller. Pillow's own conversion is several times faster than copying
    # a numpy view without alpha.
    rgba = Image.frombuffer("RGBA", canvas.get_width_height(physical=True), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    image = rgba.convert("RGB")
    with atomic(path) as temp:
        image.save(temp, format="PNG", dpi=(dpi, dpi), compress_level=PNG_COMPRESSION)
    return image


def draw(spec: MapSpec, figsize: tuple[float, float] = FIGSIZE, dpi: int = DPI) -> Figure:
    """Return the matplotlib figure of a map (call inside ``rc_context(fonts.rc_params())``).

    Parameters
    ----------
    spec : MapSpec
        What to draw.
    figsize : (float, float)
        Page width and height in inches.
    dpi : int
        Resolution the figure will be drawn at: shapes are simplified by
        up to :data:`SIMPLIFY_PIXELS` of its pixels.

    Returns
    -------
    matplotlib.figure.Figure
        The map in the conformal metric CRS, with legend, scale bar, north
        arrow, title and source note.
    """
    figure = Figure(figsize=figsize)
    axes = figure.add_axes(AXES_BOX)
    axes.set_facecolor(style.BACKGROUND)
    axes.set_xticks([])
    axes.set_yticks([])
    metric = crs.metric_crs("distance")
    box_ratio = (figsize[0] * AXES_BOX[2]) / (figsize[1] * AXES_BOX[3])
    xmin, ymin, xmax, ymax = fit_extent(_metric_bounds(spec.bounds(), metric), box_ratio)
    # Shapes are simplified in degrees, before the projection, which then has fewer vertices to move.
    pixel_m = (xmax - xmin) / (figsize[0] * AXES_BOX[2] * dpi)
    tolerance = SIMPLIFY_PIXELS * pixel_m / _METRES_PER_DEGREE
    drawn = [(layer, _draw_layer(axes, layer, metric, tolerance)) for layer in spec.layers]
    # geopandas labels the axes with the CRS units; a map frame shows none.
    axes.set_xlabel("")
    axes.set_ylabel("")
    axes.set_xlim(xmin, xmax)
    axes.set_ylim(ymin, ymax)
    axes.set_aspect("equal", adjustable="box")
    _legend(axes, spec.legend_entries())
    _scale_bar(axes, (xmin, ymin, xmax, ymax))
    _north_arrow(axes, spec.bounds(), metric, (xmin, ymin, xmax, ymax))
    placer = LabelPlacer((xmin, ymin, xmax, ymax), LABEL_FONT_SIZE * dpi / 72 * pixel_m)
    for box in _furniture_boxes(figure, axes):
        placer.block_box(*box)
    _labels(axes, drawn, placer, dpi / 72 * pixel_m)
    _hillshade(axes, (xmin, ymin, xmax, ymax), metric)
    _texts(figure, spec)
    return figure


def fit_extent(
    bounds: tuple[float, float, float, float], ratio: float
) -> tuple[float, float, float, float]:
    """Pad metric bounds by :data:`MARGIN` and widen one side to the width/height ``ratio``.

    Parameters
    ----------
    bounds : (xmin, ymin, xmax, ymax)
        Data extent in metres.
    ratio : float
        Width / height of the map frame.

    Returns
    -------
    (xmin, ymin, xmax, ymax)
        An extent with that ratio, centred on the data.
    """
    xmin, ymin, xmax, ymax = bounds
    width = max(xmax - xmin, 1.0) * (1 + 2 * MARGIN)
    height = max(ymax - ymin, 1.0) * (1 + 2 * MARGIN)
    width, height = max(width, height * ratio), max(height, width / ratio)
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    return cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2


def nice_length(limit_m: float) -> float:
    """Return the largest 1, 2 or 5 x 10^k metres not above ``limit_m``.

    Parameters
    ----------
    limit_m : float
        Longest length allowed, in metres (positive).

    Returns
    -------
    float
        The scale bar length in metres.
    """
    exponent = math.floor(math.log10(limit_m))
    steps = np.array([1.0, 2.0, 5.0, 10.0]) * 10.0**exponent
    return float(steps[steps <= limit_m].max())


def _metric_bounds(
    bounds: tuple[float, float, float, float], metric: pyproj.CRS
) -> tuple[float, float, float, float]:
    return crs.transformer(config.STORAGE_CRS, metric).transform_bounds(*bounds, densify_pts=21)


def _hillshade(axes, extent: tuple[float, float, float, float], metric: pyproj.CRS) -> None:
    """Shade the map's relief from the 30″ DEM: slopes away from the light darken a little, nothing else changes."""
    from rasterio.warp import Resampling, reproject
    from rasterio.transform import from_bounds as transform_from_bounds

    from cqgis.layers import terrain

    xmin, ymin, xmax, ymax = extent
    west, south, east, north = crs.transformer(metric, config.STORAGE_CRS).transform_bounds(
        xmin, ymin, xmax, ymax, densify_pts=21
    )
    pad = 2 / 120
    dem, transform = terrain.read_dem((west - pad, south - pad, east + pad, north + pad))
    if dem.size < 9:
        return
    shade = terrain.hillshade(np.where(dem <= terrain.NODATA, np.nan, dem.astype(np.float32)), transform)
    width = int(min(HILLSHADE_PIXELS, HILLSHADE_CELL_PIXELS * dem.shape[1]))
    height = max(1, round(width * (ymax - ymin) / (xmax - xmin)))
    warped = np.full((height, width), np.nan, dtype=np.float32)
    reproject(
        shade, warped, src_transform=transform, src_crs=config.STORAGE_CRS,
        dst_transform=transform_from_bounds(xmin, ymin, xmax, ymax, width, height), dst_crs=metric,
        resampling=Resampling.bilinear, src_nodata=np.nan, dst_nodata=np.nan,
    )
    # Lit and flat ground (shade near the flat value) stays untouched; only shadowed slopes darken.
    flat = float(np.sin(np.radians(45.0)))
    alpha = np.nan_to_num(np.clip((flat - warped) / flat, 0, 1) * HILLSHADE_ALPHA)
    axes.add_artist(_FrameShade(np.rint(alpha * 255).astype(np.uint8), zorder=1.5))


class _FrameShade(Artist):
    """A black image of varying opacity that fills the map frame, drawn at the frame's own pixel size.

    ``imshow`` sends an image through matplotlib's general resampling,
    which took a fifth of a district map's time. The shade is smooth (its
    30″ cells span many pixels), so Pillow's bilinear scaling of the
    opacity to the frame's size, handed to the renderer as it is, draws
    the same picture several times faster, in raster and vector output.
    """

    def __init__(self, opacity: np.ndarray, zorder: float) -> None:
        super().__init__()
        self._opacity = Image.fromarray(opacity, mode="L")
        self.set_zorder(zorder)

    def draw(self, renderer) -> None:
        if not self.get_visible():
            return
        box = self.axes.bbox
        # Vector renderers draw images at their image resolution, not at 72 points per inch.
        scale = renderer.get_image_magnification()
        width, height = max(1, round(box.width * scale)), max(1, round(box.height * scale))
        rgba = np.zeros((height, width, 4), dtype=np.uint8)
        rgba[..., 3] = np.asarray(self._opacity.resize((width, height), Image.Resampling.BILINEAR))
        context = renderer.new_gc()
        context.set_clip_rectangle(box)
        # Renderers take image rows from the bottom up.
        renderer.draw_image(context, box.x0, box.y0, rgba[::-1])
        context.restore()


def _draw_layer(axes, layer: LayerSpec, metric: pyproj.CRS, tolerance: float) -> tuple[pd.DataFrame, gpd.GeoSeries] | None:
    """Draw one layer; return its features and their projected shapes for labelling (None when it has none)."""
    drawable = layer.drawable()
    if not len(drawable):
        return None
    # Plain Douglas-Peucker, ten times faster than keeping the topology: the
    # shapes are only drawn, and any ring it makes touch itself does so
    # within half a pixel.
    simplified = shapely.simplify(drawable.geometry.to_numpy(), tolerance, preserve_topology=False)
    geometry = gpd.GeoSeries(crs.project(simplified, drawable.crs, metric), index=drawable.index, crs=metric)
    colors = layer.feature_colors(drawable)
    if layer.kind == "polygon":
        geometry.plot(
            ax=axes,
            facecolor=to_rgba_array(list(colors), alpha=layer.fill_opacity),
            edgecolor=layer.edge_color,
            linewidth=layer.weight * 0.6,
        )
    elif layer.kind == "line":
        geometry.plot(ax=axes, color=list(colors), linewidth=layer.weight)
    else:
        diameter = 2 * layer.radius * _POINTS_PER_PIXEL
        geometry.plot(
            ax=axes,
            color=to_rgba_array(list(colors), alpha=layer.fill_opacity),
            edgecolor=layer.edge_color,
            linewidth=layer.weight * 0.5,
            markersize=diameter**2,
            zorder=3,
        )
    return drawable, geometry


def _labels(
    axes,
    drawn: list[tuple[LayerSpec, tuple[pd.DataFrame, gpd.GeoSeries] | None]],
    placer: LabelPlacer,
    metres_per_point: float,
) -> None:
    """Label every layer that asks for it, points first, without two labels or a label and a marker overlapping."""
    shown = [(layer, *features) for layer, features in drawn if features is not None]
    for layer, _, geometry in shown:
        if layer.kind == "point" and len(geometry) <= MAX_BLOCKING_MARKERS:
            values = geometry.to_numpy()
            placer.block(shapely.get_x(values), shapely.get_y(values), _marker_radius(layer, metres_per_point))
    for kind in PRIORITY:
        # The layers drawn last, on top, are the map's subject: theirs first.
        for layer, drawable, geometry in reversed(shown):
            if layer.kind != kind or layer.label_column is None:
                continue
            texts = drawable[layer.label_column]
            present = texts.notna().to_numpy()
            shapes, names = geometry.to_numpy()[present], texts[present].to_numpy()
            # Small areas first (they have the least room) and long rivers first (the main stems).
            size = {"polygon": shapely.area(shapes), "line": -shapely.length(shapes)}.get(kind)
            order = np.argsort(size, kind="stable") if size is not None else np.arange(len(shapes))
            radius = _marker_radius(layer, metres_per_point)
            required = kind != "line" and len(shapes) <= MAX_REQUIRED_LABELS
            for shape, text in zip(shapes[order], names[order]):
                label = placer.place(kind, shape, str(text), radius, required)
                if label is not None:
                    axes.text(
                        label.x, label.y, label.text, fontsize=LABEL_FONT_SIZE, ha=label.ha, va=label.va,
                        color="#222222", path_effects=_HALO, zorder=LABEL_ZORDER, clip_on=True,
                    )


def _furniture_boxes(figure: Figure, axes) -> list[tuple[float, float, float, float]]:
    """Return where the legend, scale bar and north arrow (the artists above the labels) cover the map, in map units."""
    renderer = FigureCanvasAgg(figure).get_renderer()
    # The frame's final place on the page, which the data coordinates below depend on.
    axes.apply_aspect()
    to_data = axes.transData.inverted()
    boxes = []
    for artist in axes.get_children():
        if artist.get_visible() and artist.get_zorder() > LABEL_ZORDER:
            extent = artist.get_window_extent(renderer).transformed(to_data)
            boxes.append((extent.x0, extent.y0, extent.x1, extent.y1))
    return boxes


def _marker_radius(layer: LayerSpec, metres_per_point: float) -> float:
    return layer.radius * _POINTS_PER_PIXEL * metres_per_point if layer.kind == "point" else 0.0


def _legend(axes, entries: list[LegendEntry]) -> None:
    if not entries:
        return
    handles = [_legend_handle(entry) for entry in entries]
    legend = axes.legend(
        handles=handles, loc="lower right", title=style.LEGEND_TITLE,
        fontsize=8, title_fontsize=9, framealpha=0.92,
    )
    legend.set_zorder(5)


def _legend_handle(entry: LegendEntry):
    if entry.kind == "line":
        return Line2D([], [], color=entry.color, linewidth=2, label=entry.label)
    if entry.kind == "point":
        return Line2D(
            [], [], marker="o", linestyle="", markersize=7, markerfacecolor=entry.color,
            markeredgecolor=style.EDGE_COLOR, label=entry.label,
        )
    return Patch(facecolor=entry.color, edgecolor=style.EDGE_COLOR, label=entry.label)


def _scale_bar(axes, extent: tuple[float, float, float, float]) -> None:
    xmin, ymin, xmax, ymax = extent
    length = nice_length((xmax - xmin) * SCALE_BAR_FRACTION)
    x0 = xmin + 0.04 * (xmax - xmin)
    y0 = ymin + 0.05 * (ymax - ymin)
    height = 0.008 * (ymax - ymin)
    half = length / 2
    for index, fill in enumerate(("#222222", "#ffffff")):
        axes.add_patch(
            Rectangle((x0 + index * half, y0), half, height, facecolor=fill,
                      edgecolor="#222222", linewidth=0.6, zorder=5)
        )
    text = f"{length / 1000:g} 千米" if length >= 1000 else f"{length:g} 米"
    for x, label in ((x0, "0"), (x0 + length, text)):
        axes.text(x, y0 + 2 * height, label, fontsize=7, ha="center", va="bottom",
                  path_effects=_HALO, zorder=5)


def _north_arrow(
    axes,
    bounds: tuple[float, float, float, float],
    metric: pyproj.CRS,
    extent: tuple[float, float, float, float],
) -> None:
    lon = (bounds[0] + bounds[2]) / 2
    lat = (bounds[1] + bounds[3]) / 2
    x, y = crs.transformer(config.STORAGE_CRS, metric).transform([lon, lon], [lat, lat + 0.01])
    angle = math.atan2(x[1] - x[0], y[1] - y[0])
    xmin, ymin, xmax, ymax = extent
    length = 0.07 * (ymax - ymin)
    base = (xmin + 0.06 * (xmax - xmin), ymax - 0.16 * (ymax - ymin))
    tip = (base[0] + length * math.sin(angle), base[1] + length * math.cos(angle))
    axes.annotate(
        "", xy=tip, xytext=base,
        arrowprops={
            "arrowstyle": "-|>,head_width=0.5,head_length=1", "color": "#222222", "linewidth": 1.5,
        },
        zorder=5,
    )
    axes.text(tip[0], tip[1] + 0.01 * (ymax - ymin), "北", fontsize=11, ha="center",
              va="bottom", path_effects=_HALO, zorder=5)


def _texts(figure: Figure, spec: MapSpec) -> None:
    figure.text(0.5, 0.955, spec.title, ha="center", va="center", fontsize=16)
    if spec.subtitle:
        figure.text(
            0.5, 0.918, spec.subtitle, ha="center", va="center", fontsize=10, color="#555555"
        )
    if spec.synthetic:
        figure.text(
            0.97, 0.955, style.SYNTHETIC_LABEL, ha="right", va="center", fontsize=10, color="white",
            bbox={
                "boxstyle": "round,pad=0.35", "facecolor": style.BADGE_COLOR, "edgecolor": "none",
            },
        )
    note = spec.source_note()
    if note:
        figure.text(0.03, 0.035, note, ha="left", va="center", fontsize=8, color="#444444")
