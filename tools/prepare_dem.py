"""Derive ``layers/data/dem_30s.tif`` from the 30″ DEM inside the ``meteva`` wheel.

This is a one-off, reproducible preparation step, not part of the installed
package: cqgis commits its output so that neither meteva nor its heavy
dependencies are needed to install or run it. Run it again to check the
committed file::

    python tools/prepare_dem.py            # downloads the wheel with pip, checks its hash
    python tools/prepare_dem.py --wheel meteva-1.9.6.2-py3-none-any.whl

The window (:data:`BOUNDS`) holds the whole drainage area upstream of every
Chongqing section: the upper 长江 above the Three Gorges (金沙江 sources at
~91°E, 嘉陵江 and 汉江 headwaters at ~34.5°N) and the 沅江 and 汉江 reaches
that Chongqing's rivers join. Cells are copied unchanged on the source grid
(1/120°, origin 73.4428°E, 53.5561°N), so no resampling is involved.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import rasterio
from rasterio.windows import from_bounds

WHEEL = "meteva-1.9.6.2-py3-none-any.whl"
WHEEL_SHA256 = "772bbe95cadb32b80d8eb5e380d3c61bc1711282f8ccbe11d7eeff35e0f38a93"
MEMBER = "meteva/resources/stations/dem_0.00833.nc"
BOUNDS = (90.0, 24.0, 112.5, 36.0)
OUTPUT = Path(__file__).resolve().parents[1] / "layers" / "data" / "dem_30s.tif"

PROVENANCE = {
    "source": f"PyPI meteva 1.9.6.2 ({WHEEL}, sha256 {WHEEL_SHA256}), file {MEMBER}, variable data0",
    "licence": "meteva's package metadata says GPL3; the DEM's own origin and licence are not documented in the package",
    "resolution": "30 arc-seconds (about 0.9 km x 0.8 km at 30N); heights in metres (int16)",
    "window": "90.0-112.5E, 24.0-36.0N, snapped outward to the source grid",
}


def _wheel(path: str | None, folder: Path) -> Path:
    if path is None:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(folder), "meteva==1.9.6.2"],
            check=True,
        )
        path = folder / WHEEL
    path = Path(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        msg = f"{path} has sha256 {digest}, expected {WHEEL_SHA256}"
        raise SystemExit(msg)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", help="the meteva wheel, if already downloaded")
    parser.add_argument("-o", "--output", default=str(OUTPUT))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        wheel = _wheel(args.wheel, Path(folder))
        with zipfile.ZipFile(wheel) as archive:
            archive.extract(MEMBER, folder)
        with rasterio.open(Path(folder) / MEMBER) as src:
            window = from_bounds(*BOUNDS, src.transform).round_offsets().round_lengths()
            data = src.read(1, window=window)
            profile = {
                "driver": "GTiff",
                "width": data.shape[1],
                "height": data.shape[0],
                "count": 1,
                "dtype": "int16",
                "crs": "EPSG:4326",
                "transform": src.window_transform(window),
                "nodata": -999,
                "compress": "deflate",
                "predictor": 2,
                "zlevel": 9,
                "tiled": True,
            }
        with rasterio.open(args.output, "w", **profile) as dst:
            dst.write(data, 1)
            dst.update_tags(**PROVENANCE)
    print(f"wrote {args.output}: {data.shape[1]} x {data.shape[0]} cells")


if __name__ == "__main__":
    main()
