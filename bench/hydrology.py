"""Benchmark the hydrology: the whole build from the DEM, and one catchment, against plain pyflwdir.

Builds, in a fresh cache folder, the conditioned flow directions, the named
rivers, the watersheds and the drainage model, timing each step. Then times
the catchment of 北碚 (嘉陵江, ~157,000 km²) and of 大安 (琼江, ~1,200 km²):
the first call in the process (it loads the cached model) and the next
ones, against the obvious alternative of rebuilding a ``pyflwdir`` object
from the D8 array and calling ``basins(xy=...)`` for each point. Checks that
both give the same catchment cells. Goal: one catchment under 1 s once the
layers are built.
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np


def timed(label: str, run):
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    print(f"{label:<44} {seconds:8.2f} s")
    return result, seconds


def main() -> None:
    os.environ["CQGIS_CACHE_DIR"] = tempfile.mkdtemp(prefix="cqgis-bench-")
    import pyflwdir

    from cqgis.analysis.catchment import catchment
    from cqgis.layers import catalog, terrain

    print("== build (fresh cache)")
    total = 0.0
    for label, run in (
        ("districts + river_courses (WDB II)", lambda: (catalog.load("districts"), catalog.load("river_courses"))),
        ("conditioned D8 + upstream areas", lambda: terrain.hydrology(catalog.load("river_courses"))),
        ("rivers (network, names, banks)", lambda: catalog.load("rivers")),
        ("drainage model + basins", lambda: catalog.load("basins")),
        ("counties (for the province/county split)", lambda: catalog.load("counties")),
    ):
        _, seconds = timed(label, run)
        total += seconds
    print(f"{'whole hydrology build':<44} {total:8.2f} s")

    print("== one catchment")
    points = {"北碚 嘉陵江": (106.43645, 29.82739, "嘉陵江"), "大安 琼江": (105.45594, 30.34956, "琼江")}
    first, _ = timed("first call in the process (loads the model)", lambda: catchment(*points["北碚 嘉陵江"]))
    model = catalog.drainage_model()
    hyd = model.hydrology
    for name, (lon, lat, river) in points.items():
        found, ours = timed(f"cqgis catchment {name}", lambda: catchment(lon, lat, river))
        cell = model.snap(lon, lat, river)
        xy = hyd.center([cell])[0]

        def plain() -> np.ndarray:
            flow = pyflwdir.from_array(hyd.d8, ftype="d8", transform=hyd.transform, latlon=True)
            return flow.basins(xy=(np.array([xy[0]]), np.array([xy[1]]))) > 0

        mask, theirs = timed(f"plain pyflwdir from the D8 array {name}", plain)
        same = np.array_equal(mask.ravel(), hyd.upstream_mask([cell]).ravel())
        area = float((np.broadcast_to(hyd.cell_km2, hyd.shape) * mask).sum())
        print(f"   ratio {theirs / ours:5.2f}x; same cells: {same}; area {found.area_km2:,.0f} km² (mask {area:,.0f})")
    print(f"   goal: < 1 s per catchment once built; first-in-process {first.area_km2:,.0f} km² includes loading")


if __name__ == "__main__":
    main()
