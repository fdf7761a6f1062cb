"""Benchmark the 100 m distance raster over Chongqing for 30 facilities against a brute-force numpy broadcast.

Both compute exact Euclidean distances from every cell centre to the nearest
facility in the conformal metric CRS. cqgis only measures, per 256-cell
tile, the facilities that can be nearest there; the brute force measures
every facility for every cell, in row blocks. Prints each time and peak
traced memory (tracemalloc), their ratio, and the largest difference.
Goal: <= 3 s and <= 1 GB for cqgis.
"""

from __future__ import annotations

import time
import tracemalloc

import geopandas as gpd
import numpy as np
import shapely

from cqgis import config
from cqgis.analysis import coverage

N_FACILITIES = 30
SEED = 30
ROWS_PER_BLOCK = 64


def brute_force(xs: np.ndarray, ys: np.ndarray, fx: np.ndarray, fy: np.ndarray) -> np.ndarray:
    """Distance to the nearest facility by broadcasting every cell against every facility."""
    out = np.empty((ys.size, xs.size), dtype=np.float32)
    dx2 = (xs[:, None] - fx) ** 2
    for start in range(0, ys.size, ROWS_PER_BLOCK):
        dy2 = (ys[start : start + ROWS_PER_BLOCK, None] - fy) ** 2
        out[start : start + ROWS_PER_BLOCK] = np.sqrt((dy2[:, None, :] + dx2[None, :, :]).min(axis=2))
    return out


def measured(run):
    """Run once; return (seconds, peak traced MB, result)."""
    tracemalloc.start()
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak, result


def main() -> None:
    west, south, east, north = config.CHONGQING_BOUNDS
    rng = np.random.default_rng(SEED)
    facilities = gpd.GeoDataFrame(
        geometry=shapely.points(rng.uniform([west, south], [east, north], (N_FACILITIES, 2))),
        crs=config.STORAGE_CRS,
    )
    t_fast, m_fast, (distances, profile) = measured(lambda: coverage.distance_raster(facilities, cell_m=100))
    xs, ys = coverage.cell_centres(profile)
    points = facilities.to_crs(profile["crs"]).geometry
    t_slow, m_slow, brute = measured(lambda: brute_force(xs, ys, points.x.to_numpy(), points.y.to_numpy()))
    cells = distances.size
    print(f"{N_FACILITIES} facilities, {profile['width']} x {profile['height']} = {cells:,} cells of 100 m")
    print(f"cqgis distance_raster: {t_fast:6.3f} s, peak {m_fast:7.1f} MB")
    print(f"brute-force broadcast: {t_slow:6.3f} s, peak {m_slow:7.1f} MB")
    print(f"ratio {t_slow / t_fast:.1f}x; largest difference {np.abs(distances - brute).max():.3f} m")


if __name__ == "__main__":
    main()
