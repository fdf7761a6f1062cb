"""Benchmark the overview web map: size and time to first render in headless Chromium against geopandas.explore().

Prints, in one run:

* the cqgis ``overview`` page (all its layers, whole city): file size, build
  time and time to first render (navigation until Leaflet has drawn its
  vector features) in headless Chromium with the network blocked, as on an
  office intranet;
* ``geopandas.explore()`` of the same districts and rivers: size, build time
  and whether it renders at all under the same conditions (its Leaflet comes
  from CDNs, so it cannot); with the network open it would also fetch
  ~1 MB of scripts and styles;
* the vertices, holes and overlaps of per-polygon simplification against the
  coverage simplification cqgis uses for display.

``geopandas.explore()`` needs ``mapclassify`` (the ``bench`` extra, which
``make bench`` installs); without it that row says so.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

from cqgis.geo import crs
from cqgis.layers import catalog
from cqgis.maps import themes, web

#: How long to wait for a page to draw before calling it blank.
RENDER_TIMEOUT_MS = 10_000


def timed(func):
    """Run ``func`` once and return (result, seconds)."""
    start = time.perf_counter()
    result = func()
    return result, time.perf_counter() - start


def first_render(browser, path: Path) -> float | None:
    """Seconds from navigation until Leaflet has drawn vector features; None if it never does."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    # Only the file itself may load, as on a network without internet.
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://") else route.abort())
    page = context.new_page()
    start = time.perf_counter()
    page.goto(path.as_uri(), wait_until="commit")
    try:
        page.wait_for_selector("path.leaflet-interactive", state="attached", timeout=RENDER_TIMEOUT_MS)
    except Exception:  # playwright's TimeoutError: the page stayed blank
        return None
    finally:
        elapsed = time.perf_counter() - start
        context.close()
    return elapsed


def explore_page(path: Path) -> tuple[str, float]:
    """Write geopandas.explore() of the districts and rivers; return a status and the build time."""
    try:
        import mapclassify  # noqa: F401  (explore() refuses to run without it)
    except ImportError:
        return "mapclassify not installed (pip install '.[bench]')", 0.0
    districts, rivers = catalog.load("districts"), catalog.load("rivers")

    def build() -> None:
        fmap = districts.explore(column="region", tooltip=["name"])
        rivers.explore(m=fmap, color="#2166ac")
        fmap.save(str(path))

    _, seconds = timed(build)
    return "ok", seconds


def topology_errors(geometries: np.ndarray) -> tuple[int, float]:
    """Holes in the union (gaps) and overlapping area in km² of metric polygons."""
    union = shapely.union_all(geometries)
    holes = int(shapely.get_num_interior_rings(shapely.get_parts(union)).sum())
    overlap = (shapely.area(geometries).sum() - union.area) / 1e6
    return holes, float(overlap)


def main() -> None:
    """Build both pages, open them in Chromium and print sizes, times and ratios."""
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp())
    ours, explore = folder / "overview.html", folder / "explore.html"
    catalog.load("rivers")  # build the layers outside the timings
    _, build_time = timed(lambda: themes.render("overview", ours))
    status, explore_time = explore_page(explore)
    kib = 1024
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        # Best of three: the first navigation also warms the browser.
        ours_render = min(first_render(browser, ours) or np.inf for _ in range(3))
        explore_render = first_render(browser, explore) if status == "ok" else None
        browser.close()
    print(f"cqgis overview      {ours.stat().st_size / kib:8.0f} KiB  built in {build_time:5.2f} s  "
          f"first render {ours_render:5.2f} s (network blocked)")
    if status != "ok":
        print(f"geopandas.explore   {status}")
    else:
        shown = "never (blank page: Leaflet is on CDNs)" if explore_render is None else f"{explore_render:5.2f} s"
        print(f"geopandas.explore   {explore.stat().st_size / kib:8.0f} KiB  built in {explore_time:5.2f} s  "
              f"first render {shown}")
        print(f"size ratio explore / cqgis: {explore.stat().st_size / ours.stat().st_size:.1f}x")

    districts = catalog.load("districts")
    metric = crs.metric_crs("distance")
    original = np.asarray(districts.to_crs(metric).geometry.values)
    each = shapely.simplify(original, web.DISPLAY_TOLERANCE_M, preserve_topology=True)
    together = np.asarray(web.display_geometries(districts).to_crs(metric).geometry.values)
    for label, geometries in (("original", original), ("per-polygon simplify", each),
                              ("coverage simplify", together)):
        holes, overlap = topology_errors(geometries)
        vertices = int(shapely.get_num_coordinates(geometries).sum())
        print(f"{label:22s} vertices {vertices:7d}  holes {holes:4d}  overlaps {overlap:8.4f} km²")
    print("(the 4 holes of the original are enclaves of Sichuan and Hubei; more holes are gaps opened by simplifying)")
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
