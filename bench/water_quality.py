"""Benchmark `cqgis analyze water-quality --period month` on a year of automatic-station data against a plain pandas pipeline.

The data are generated in the national automatic-station release layout
(GBK CSV; 省份, 流域, 断面名称, 监测时间 as ``MM-DD HH:MM`` without a year,
水质类别, 水温(℃), pH(无量纲), 溶解氧(mg/L) ... 站点情况), 4-hourly at
enough stations for ``--rows`` rows, with ``--`` and ``*`` cells, blanks,
``0.025L``-style values below detection and stations under maintenance.
All values are SYNTHETIC.

Both sides read the CSV, group by section and month, class each monthly
mean by the GB 3838-2002 river limits (pH, DO, CODMn, NH3-N, TP) and write
an XLSX workbook. cqgis runs through its command line in this process; the
plain pipeline is what a pandas user would write, without any checking.
Prints each time and the peak resident memory of the process during each
run (the kernel's high-water mark, reset before each), the ratio, and
whether every section-month class and mean agree.
Goal (issue 13.1): cqgis <= 5x the plain pipeline, <= 1 GB.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

from cqgis.analysis import water_quality as wq
from cqgis.layers import gb3838
from cqgis.cli.main import cli

SEED = 13
STEPS_PER_YEAR = 365 * 6
YEAR = 2025
ITEMS = {  # header: (item code, typical level, spread between stations (log), spread of samples, decimals)
    "pH(无量纲)": ("ph", 7.8, 0.03, 0.3, 2),
    "溶解氧(mg/L)": ("do", 8.0, 0.15, 1.2, 2),
    "高锰酸盐指数(mg/L)": ("codmn", 3.0, 0.3, 1.0, 1),
    "氨氮(mg/L)": ("nh3n", 0.25, 0.3, 0.2, 3),
    "总磷(mg/L)": ("tp", 0.08, 0.3, 0.04, 3),
    "总氮(mg/L)": ("tn", 1.5, 0.3, 0.5, 2),
}
OTHERS = {"水温(℃)": (18.0, 0.1, 5.0, 1), "电导率(μS/cm)": (350.0, 0.3, 50.0, 1), "浊度(NTU)": (20.0, 0.3, 10.0, 1),
          "叶绿素α(mg/L)": (0.005, 0.3, 0.002, 4), "藻密度(cells/L)": (1e6, 0.3, 3e5, 0)}
NH3N_LIMIT = 0.025


def generate(rows: int, path: Path) -> int:
    """Write a GBK CSV of about ``rows`` rows in the national release layout; return the rows written."""
    rng = np.random.default_rng(SEED)
    stations = -(-rows // STEPS_PER_YEAR)
    times = pd.date_range(f"{YEAR}-01-01", periods=STEPS_PER_YEAR, freq="4h").strftime("%m-%d %H:%M")
    n = stations * STEPS_PER_YEAR
    names = np.array([f"断面{i:03d}" for i in range(stations)])
    data = {
        "省份": "重庆市", "流域": "长江流域", "断面名称": np.repeat(names, STEPS_PER_YEAR),
        "监测时间": np.tile(times.to_numpy(), stations), "水质类别": "Ⅱ",
    }
    status = np.where(rng.random(n) < 0.01, "维护", "正常")
    columns = {**{h: v[1:] for h, v in ITEMS.items()}, **OTHERS}
    for header, (level, between, spread, decimals) in columns.items():
        station_level = level * rng.lognormal(0, between, stations)
        values = np.abs(np.repeat(station_level, STEPS_PER_YEAR) + rng.normal(0, spread, n)).round(decimals)
        text = values.astype(str).astype(object)
        if header == "氨氮(mg/L)":
            text[values < NH3N_LIMIT] = f"{NH3N_LIMIT}L"
        draw = rng.random(n)
        text[draw < 0.03] = "--"
        text[(draw >= 0.03) & (draw < 0.035)] = "*"
        text[(draw >= 0.035) & (draw < 0.045)] = ""
        text[status == "维护"] = "--"
        data[header] = text
    data["站点情况"] = status
    order = ["省份", "流域", "断面名称", "监测时间", "水质类别", "水温(℃)", "pH(无量纲)", "溶解氧(mg/L)", "电导率(μS/cm)",
             "浊度(NTU)", "高锰酸盐指数(mg/L)", "氨氮(mg/L)", "总磷(mg/L)", "总氮(mg/L)", "叶绿素α(mg/L)",
             "藻密度(cells/L)", "站点情况"]
    pd.DataFrame(data)[order].to_csv(path, index=False, encoding="gbk")
    return n


def plain_pandas(path: Path, output: Path) -> pd.DataFrame:
    """Read, group by section and month, class by GB 3838 river limits, write xlsx: no checks at all."""
    table = pd.read_csv(path, encoding="gbk")
    frame = pd.DataFrame({"section": table["断面名称"], "month": f"{YEAR}-" + table["监测时间"].str[:2]})
    for header, (code, *_rest) in ITEMS.items():
        text = table[header].astype(str)
        below = text.str.endswith("L")
        number = pd.to_numeric(text.str.rstrip("L"), errors="coerce")
        frame[code] = number.where(~below, number / 2)
    means = frame.groupby(["section", "month"]).mean().round(wq.MEAN_DECIMALS)
    limits = gb3838.limits("river")
    used = [code for _header, (code, *_rest) in ITEMS.items() if code in limits.index and limits.loc[code, "used"]]
    classes = np.column_stack([gb3838.item_classes(np.full(len(means), c), means[c].to_numpy(), limits) for c in used])
    means["class"] = np.array(gb3838.CLASS_NAMES)[classes.max(axis=1)]
    means.reset_index().to_excel(output, index=False)
    return means


def resident_mb(field: str) -> float:
    """The process's resident memory (``VmRSS``) or its peak since the last reset (``VmHWM``), in MB."""
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith(field)).split()[1]) / 1024


def measured(run):
    """Run once; return (seconds, CPU seconds, peak resident MB during the run, resident MB at its start, result).

    CPU seconds (user + system, all threads) say what the run costs on a shared machine whose wall time is noisy.
    """
    Path("/proc/self/clear_refs").write_text("5")  # resets the kernel's peak-RSS mark (Linux)
    before = resident_mb("VmRSS")
    start, cpu = time.perf_counter(), time.process_time()
    result = run()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return seconds, cpu, resident_mb("VmHWM"), before, result


def run_cqgis(path: Path, sections: Path, output: Path) -> pd.DataFrame:
    args = ["analyze", "water-quality", str(path), "--sections", str(sections), "--period", "month",
            "--year", str(YEAR), "-o", str(output)]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    if result.exit_code != 0:
        raise SystemExit(result.output)
    return result.output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of data (default 1,000,000)")
    rows = parser.parse_args().rows
    # The data are kept between runs: generating 1,000,000 rows takes longer than either pipeline.
    data = Path(tempfile.gettempdir()) / f"cqgis-bench-water-quality-{rows}-{SEED}.csv"
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        sections = folder / "sections.csv"
        start = time.perf_counter()
        if not data.exists():
            generate(rows, data.with_suffix(".part"))
            data.with_suffix(".part").rename(data)
        stations = -(-rows // STEPS_PER_YEAR)
        n = stations * STEPS_PER_YEAR
        pd.DataFrame({"断面名称": [f"断面{i:03d}" for i in range(stations)], "水质目标": "Ⅲ"}).to_csv(sections, index=False)
        print(f"{n:,} rows, {stations} stations, {data.stat().st_size / 2**20:.0f} MB GBK CSV "
              f"ready in {time.perf_counter() - start:.1f} s (synthetic; {data})")
        # cqgis first: memory the other run leaves to the allocator would count against it.
        t_cqgis, c_cqgis, m_cqgis, s_cqgis, _said = measured(lambda: run_cqgis(data, sections, folder / "cqgis.xlsx"))
        t_plain, c_plain, m_plain, s_plain, plain = measured(lambda: plain_pandas(data, folder / "plain.xlsx"))
        ours = pd.read_excel(folder / "cqgis.xlsx", sheet_name="断面评价结果")
    print(f"cqgis water-quality:   {t_cqgis:6.2f} s ({c_cqgis:6.2f} s CPU), peak resident {m_cqgis:5.0f} MB "
          f"(process at start {s_cqgis:.0f} MB)")
    print(f"plain pandas pipeline: {t_plain:6.2f} s ({c_plain:6.2f} s CPU), peak resident {m_plain:5.0f} MB "
          f"(process at start {s_plain:.0f} MB)")
    print(f"ratio cqgis / plain: {t_cqgis / t_plain:.2f}x wall, {c_cqgis / c_plain:.2f}x CPU (goal <= 5x, <= 1024 MB)")
    ours = ours.set_index(["断面名称", "评价时段"]).sort_index()
    theirs = plain.rename_axis(["断面名称", "评价时段"]).sort_index()
    same = ours.index.equals(theirs.index) and (ours["水质类别"].to_numpy() == theirs["class"].to_numpy()).all()
    print(f"section-month classes: {len(ours):,} from cqgis, {len(theirs):,} from pandas, identical: {same}")
    names = gb3838.standard().drop_duplicates("code").set_index("code")["name_zh"]
    worst = max(
        float(np.nanmax(np.abs(ours[f"{names[code]}均值"].to_numpy(float) - theirs[code].to_numpy(float))))
        for code in ("ph", "do", "codmn", "nh3n", "tp")
    )
    print(f"section-month means of pH, DO, CODMn, NH3-N, TP: largest difference {worst:.1e}")


if __name__ == "__main__":
    main()
