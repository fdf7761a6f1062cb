"""Provenance never flatters: unknown precision is approximate, users' files are named, sources cite documents."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from cqgis.analysis import provenance
from cqgis.layers import catalog, h2_stations, h2_zones, user
from test_targets_seed import section_texts, seed_files

#: A path on a computer: a POSIX absolute path (not the path part of a URL), a
#: Windows drive, a home folder or a file URL.
LOCAL_PATH = re.compile(r"(?<![\w.:/\-])/(?:[\w.\-]+/)+[\w.\-]*|\b[A-Za-z]:\\|~/|file:/")

#: Hosts of pages that are not official publications, and what a source citing them must say.
UNOFFICIAL_HOSTS = ("greasyfork.org", "tzhuatian.com", "chinabgao.com")


@pytest.mark.parametrize(
    ("precisions", "expected"),
    [
        ([], "exact"),
        (["exact", "exact"], "exact"),
        (["exact", None], "approximate"),
        (["exact", pd.NA], "approximate"),
        (["exact", float("nan")], "approximate"),
        (["exact", ""], "approximate"),
        (["exact", "准确"], "approximate"),
        (["exact", "schematic", None], "schematic"),
        (["synthetic", None], "synthetic"),
    ],
)
def test_weakest_counts_unknown_precision_as_approximate(precisions, expected):
    assert provenance.weakest(precisions) == expected


def test_summarise_a_group_with_blank_precision_is_not_exact():
    frame = pd.DataFrame({"g": ["a", "a", "b"], "precision": ["exact", pd.NA, "exact"], "source": ["x", None, "y"]})
    summary = provenance.summarise(frame, "g")
    assert summary["precision"].to_dict() == {"a": "approximate", "b": "exact"}


def test_credit_names_the_file_in_every_source():
    frame = pd.DataFrame({"name": ["甲", "乙", "丙"], "source": ["区统计局 2024", "", None], "precision": ["exact", " ", None]})
    credited = user.credit(frame, "/home/someone/数据/站点.xlsx")
    assert credited["source"].tolist() == ["用户文件 站点.xlsx：区统计局 2024", "用户文件 站点.xlsx", "用户文件 站点.xlsx"]
    assert credited["precision"].tolist() == ["exact", "approximate", "approximate"]
    assert not credited["source"].str.contains("/home").any()


def test_a_users_file_with_blank_cells_is_named_and_approximate(tmp_path, districts):
    path = tmp_path / "加氢站.csv"
    path.write_text("站点名称,状态,经度,纬度,来源,精度\n甲站,运营,106.50,29.50,公司年报,exact\n乙站,规划,106.60,29.60,,\n", encoding="utf-8")
    report = user.load(path, h2_stations, deps={"districts": districts})
    assert report.ok, report.format()
    frame = report.frame
    assert frame["source"].tolist() == ["用户文件 加氢站.csv：公司年报", "用户文件 加氢站.csv"]
    assert frame["precision"].tolist() == ["exact", "approximate"]


@pytest.mark.parametrize("name", catalog.names())
def test_layer_sources_name_documents_not_paths(name):
    sources = catalog.load(name)["source"].dropna().astype(str).drop_duplicates()
    local = [s for s in sources if LOCAL_PATH.search(s)]
    assert not local, f"{name}: sources holding a path on a computer: {local[:3]}"
    for source in sources:
        for citation in re.split(r"\s[;|]\s|；", source):
            if any(host in citation for host in UNOFFICIAL_HOSTS):
                assert "非官方" in citation, f"{name}: an unofficial page cited as if official: {citation[:120]}"


def test_local_path_pattern_tells_paths_from_urls():
    assert LOCAL_PATH.search("规划 (/work/shared/seed/000.txt)")
    assert LOCAL_PATH.search(r"C:\Users\x\a.xlsx") and LOCAL_PATH.search("~/data/a.csv")
    assert not LOCAL_PATH.search("https://epaper.cqrb.cn/kjb/2021-07/27/02/content_kj_275799.htm")
    assert not LOCAL_PATH.search("《重庆市“十四五”节能减排综合工作实施方案》三(四)2 | 1.0 mg/L")


def test_hydrogen_zones_cite_the_plan_section_that_names_them():
    section = re.search(r"三\([一二三四五六七八九十]+\)\d+", h2_zones.PLAN).group(0)
    text = section_texts(seed_files())[section]
    # The seed is a Traditional-character conversion: 加氫站 for 加氢站.
    assert "加氫站" in text or "加氢站" in text
    for simplified, traditional in (("两江新区", "兩江新區"), ("九龙坡区", "九龍坡區"), ("綦江区", "綦江區"), ("潼南区", "潼南區")):
        assert simplified in text or traditional in text, simplified
