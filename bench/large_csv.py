"""Benchmark the peak memory of converting and validating a 50 MB CSV of points against plain pandas/geopandas.

Writes, with a fixed seed, CSV tables of points over Chongqing (ids with
leading zeros, names, coordinates, a type, an Excel serial date, a value,
a remark) of about 25 and 50 MB, then measures in this one process, one
after the other:

* plain pandas/geopandas: ``pandas.read_csv``, ``points_from_xy``, the same
  GCJ-02 conversion, ``to_csv`` -- the whole table in memory;
* cqgis in memory: ``io.read`` then ``io.write`` (what ``convert`` did for
  every CSV before it read CSVs in blocks);
* ``cqgis convert`` CSV to CSV and ``cqgis validate`` on a CSV, run as
  commands: both read the table in blocks of rows.

Peak memory is the resident set's high-water mark (Linux ``VmHWM``, reset
through ``/proc/self/clear_refs`` before each step) above the resident set
before the step, so it counts C allocations (GEOS, pyarrow) too; memory
freed by earlier steps is handed back first (``malloc_trim``, pyarrow's
pool), or a step could reuse it unseen. The
ratios compare each peak to the plain pandas way on the same file; the
two sizes show which peaks grow with the file.
"""

from __future__ import annotations

import ctypes
import gc
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
from click.testing import CliRunner

from cqgis import config
from cqgis.cli import main
from cqgis.geo import crs, io

SEED = 2025
#: Rows of the two tables: about 25 MB and 50 MB of UTF-8 text.
SIZES = (289_000, 578_000)
BLOCK = 50_000
MB = 1024 * 1024


def _status(key: str) -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(key):
                return int(line.split()[1]) * 1024 / MB
    msg = f"{key} not in /proc/self/status: this benchmark needs Linux"
    raise RuntimeError(msg)


def _release() -> None:
    """Hand memory freed by earlier steps back to the system, so that a step's peak is its own."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    ctypes.CDLL("libc.so.6").malloc_trim(0)


def measure(run: Callable[[], object]) -> tuple[float, float]:
    """Return (peak MB above the resident set before ``run``, seconds)."""
    _release()
    before = _status("VmRSS")
    with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
        clear.write("5")
    start = time.perf_counter()
    run()
    return _status("VmHWM") - before, time.perf_counter() - start


def write_table(path: Path, rows: int) -> None:
    """Write the benchmark table block by block, so that making it costs little memory."""
    rng = np.random.default_rng(SEED)
    west, south, east, north = config.CHONGQING_BOUNDS
    kinds = np.array(["加氢站", "监测断面", "排污口", "工业园区"])
    for start in range(0, rows, BLOCK):
        n = min(BLOCK, rows - start)
        ids = np.arange(start, start + n)
        block = pd.DataFrame({
            "编号": [f"{i:07d}" for i in ids],
            "名称": [f"站点{i}" for i in ids],
            "经度": np.round(rng.uniform(west, east, n), 6),
            "纬度": np.round(rng.uniform(south, north, n), 6),
            "类型": kinds[rng.integers(0, kinds.size, n)],
            "日期": rng.integers(45000, 46000, n),
            "数值": np.round(rng.uniform(0, 100, n), 3),
            "备注": "核查中，数据待复核",
        })
        block.to_csv(path, index=False, header=start == 0, mode="a" if start else "w", encoding="utf-8")


def plain(source: Path, target: Path) -> None:
    """The obvious way: the whole table through pandas and geopandas."""
    table = pd.read_csv(source, dtype={"编号": str})
    points = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["经度"], table["纬度"]), crs=4326)
    moved = crs.from_wgs84(points, "gcj02")
    table["经度"], table["纬度"] = moved.geometry.x, moved.geometry.y
    table.to_csv(target, index=False)


def in_memory(source: Path, target: Path) -> None:
    io.write(crs.from_wgs84(io.read(source), "gcj02"), target)


def command(*args: str) -> Callable[[], None]:
    def run() -> None:
        result = CliRunner().invoke(main.cli, list(args))
        assert result.exit_code == 0, result.output

    return run


def main_() -> None:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        # One warm-up conversion loads GDAL, PROJ and the CLI before anything is measured.
        write_table(folder / "warm.csv", 1000)
        in_memory(folder / "warm.csv", folder / "warm_out.csv")
        command("convert", str(folder / "warm.csv"), "-o", str(folder / "warm_cli.csv"), "--to", "gcj02")()
        print(f"{'rows':>8} {'MB':>5}  {'method':<34} {'peak MB':>8} {'x pandas':>8} {'s':>6}")
        for rows in SIZES:
            source = folder / f"points_{rows}.csv"
            write_table(source, rows)
            size = source.stat().st_size / MB
            steps = {
                "pandas + geopandas (whole table)": lambda: plain(source, folder / "plain.csv"),
                "cqgis io.read + io.write (whole)": lambda: in_memory(source, folder / "memory.csv"),
                "cqgis convert (blocks)": command("convert", str(source), "-o", str(folder / "cli.csv"), "--to", "gcj02"),
                "cqgis validate (blocks)": command("validate", str(source)),
            }
            base = None
            for name, run in steps.items():
                peak, seconds = measure(run)
                base = base or peak
                print(f"{rows:>8} {size:5.1f}  {name:<34} {peak:8.0f} {peak / base:8.2f} {seconds:6.1f}")
            written = pd.read_csv(folder / "cli.csv", dtype=str, encoding="utf-8-sig", usecols=["编号"], nrows=3)
            assert written["编号"].tolist() == ["0000000", "0000001", "0000002"], "ids lost their zeros"


if __name__ == "__main__":
    main_()
