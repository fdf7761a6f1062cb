"""Benchmark GCJ-02 -> WGS84 on 1,000,000 points: cqgis's vectorised inverse against a per-point loop.

Both sides invert the published GCJ-02 forward formula to the same tolerance.
The loop does it the way the usual snippets do: fixed-point iteration with
the ``math`` module, one point at a time. cqgis takes Newton steps with the
formula's analytic Jacobian on whole arrays (two evaluations per point
instead of about five, see :func:`cqgis.geo.crs._gcj_backward`).
Prints the two times, their ratio (goal >= 50x) and the worst round-trip error.
"""

from __future__ import annotations

import math
import time

import numpy as np

from cqgis.geo import crs

N = 1_000_000
A = 6378245.0
EE = 0.00669342162296594323


def forward_one(lon: float, lat: float) -> tuple[float, float]:
    """WGS84 -> GCJ-02 for one point, written plainly with math.sin."""
    x, y = lon - 105.0, lat - 35.0
    pi = math.pi
    wave = (20 * math.sin(6 * x * pi) + 20 * math.sin(2 * x * pi)) * 2 / 3
    dlat = (-100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x)) + wave
            + (20 * math.sin(y * pi) + 40 * math.sin(y / 3 * pi)) * 2 / 3
            + (160 * math.sin(y / 12 * pi) + 320 * math.sin(y * pi / 30)) * 2 / 3)
    dlon = (300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x)) + wave
            + (20 * math.sin(x * pi) + 40 * math.sin(x / 3 * pi)) * 2 / 3
            + (150 * math.sin(x / 12 * pi) + 300 * math.sin(x / 30 * pi)) * 2 / 3)
    rad = math.radians(lat)
    magic = 1 - EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = math.degrees(dlat / ((A * (1 - EE)) / (magic * sqrt_magic)))
    dlon = math.degrees(dlon / (A / sqrt_magic * math.cos(rad)))
    return lon + dlon, lat + dlat


def inverse_one(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 -> WGS84 for one point by the same fixed-point iteration."""
    w_lon, w_lat = lon, lat
    for _ in range(30):
        f_lon, f_lat = forward_one(w_lon, w_lat)
        e_lon, e_lat = f_lon - lon, f_lat - lat
        w_lon, w_lat = w_lon - e_lon, w_lat - e_lat
        if max(abs(e_lon), abs(e_lat)) <= crs.INVERSE_TOLERANCE:
            break
    return w_lon, w_lat


def main() -> None:
    rng = np.random.default_rng(42)
    # Points across China's populated east and west, not only Chongqing.
    lon = rng.uniform(98.0, 122.0, N)
    lat = rng.uniform(20.0, 42.0, N)

    # Best of three for the vectorised side, as timeit does: the machine is shared.
    vector_seconds = vector_cpu = float("inf")
    for _ in range(3):
        start, start_cpu = time.perf_counter(), time.process_time()
        w_lon, w_lat = crs.gcj02_to_wgs84(lon, lat)
        vector_seconds = min(vector_seconds, time.perf_counter() - start)
        vector_cpu = min(vector_cpu, time.process_time() - start_cpu)

    start, start_cpu = time.perf_counter(), time.process_time()
    loop = [inverse_one(x, y) for x, y in zip(lon.tolist(), lat.tolist())]
    loop_seconds = time.perf_counter() - start
    loop_cpu = time.process_time() - start_cpu

    back_lon, back_lat = crs.wgs84_to_gcj02(w_lon, w_lat)
    round_trip = max(np.abs(back_lon - lon).max(), np.abs(back_lat - lat).max())
    loop_lon = np.fromiter((p[0] for p in loop), float, N)
    agreement = np.abs(loop_lon - w_lon).max()

    print(f"points                      {N:,}")
    print(f"cqgis vectorised            {vector_seconds:8.3f} s  ({vector_cpu:.3f} s CPU, all threads)")
    print(f"per-point Python loop       {loop_seconds:8.3f} s  ({loop_cpu:.3f} s CPU)")
    print(f"speed-up                    {loop_seconds / vector_seconds:8.1f} x  (goal >= 50 x)")
    # On a shared machine the wall-clock ratio moves with the others' load; the CPU ratio much less.
    print(f"speed-up in CPU time        {loop_cpu / vector_cpu:8.1f} x")
    print(f"worst round-trip error      {round_trip:.2e} degrees (limit 1e-7)")
    print(f"largest loop/vector gap     {agreement:.2e} degrees")


if __name__ == "__main__":
    main()
