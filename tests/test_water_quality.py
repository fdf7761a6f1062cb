"""Tests of the GB 3838-2002 water-quality assessment and the `analyze water-quality` command, on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cqgis.analysis import water_quality as wq
from cqgis.layers import gb3838
from cqgis.analysis.errors import AnalysisError
from cqgis.cli.analyze.water_quality import water_quality
from cqgis.errors import CqgisError

SECTIONS = pd.DataFrame(
    {
        "code": ["R1", "R2", "L1"],
        "name": ["河一", "河二", "库一"],
        "district": ["永川区", "潼南区", "长寿区"],
        "direction": ["川入渝", None, None],
        "target_class": ["Ⅱ", "Ⅲ", "Ⅲ"],
        "waterbody": ["river", "river", "lake-reservoir"],
        "basin": ["长江", "嘉陵江", "长江"],
        "precision": ["approximate", "approximate", "approximate"],
    }
)


def wide(rows: list[dict]) -> pd.DataFrame:
    """A wide sheet with Chinese headers; every row defaults to a clean class-Ⅰ sample."""
    base = {"断面编码": "R1", "监测时间": "2024-01", "pH": 7.5, "溶解氧": 8.0, "高锰酸盐指数": 1.5, "氨氮": 0.1, "总磷": 0.01}
    return pd.DataFrame([{**base, **row} for row in rows])


def one(rows: list[dict], period: str = "year", **kwargs) -> pd.Series:
    results = wq.classify(wq.tidy(wide(rows)), SECTIONS, period, **kwargs)
    assert len(results) == 1
    return results.iloc[0]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0.52", (0.52, False, math.nan)),
        (0.52, (0.52, False, math.nan)),
        ("0.01L", (math.nan, True, 0.01)),
        ("0.01l", (math.nan, True, 0.01)),
        ("<0.01", (math.nan, True, 0.01)),
        ("＜0.005", (math.nan, True, 0.005)),
        ("ND", (math.nan, True, math.nan)),
        ("未检出", (math.nan, True, math.nan)),
        ("", (math.nan, False, math.nan)),
        ("—", (math.nan, False, math.nan)),
        (None, (math.nan, False, math.nan)),
    ],
)
def test_parse_value(raw, expected):
    parsed = wq.parse_value(raw)
    assert parsed.below_detection is expected[1]
    np.testing.assert_equal([parsed.value, parsed.detection_limit], [expected[0], expected[2]])


def test_parse_value_nd_takes_given_limit_and_rejects_junk():
    assert wq.parse_value("ND", 0.02).detection_limit == 0.02
    assert wq.parse_value("0.01L", 0.5).detection_limit == 0.01
    with pytest.raises(AnalysisError, match="cannot read 'abc'"):
        wq.parse_value("abc")
    with pytest.raises(AnalysisError, match="not negative"):
        wq.parse_value("-1")


@pytest.mark.parametrize(
    ("item", "value", "expected"),
    [
        ("溶解氧", 7.5, "Ⅰ"), ("溶解氧", 6.0, "Ⅱ"), ("溶解氧", 5.0, "Ⅲ"), ("溶解氧", 4.99, "Ⅳ"),
        ("溶解氧", 2.0, "Ⅴ"), ("溶解氧", 1.99, "劣Ⅴ"),
        ("pH", 6.0, "Ⅰ"), ("pH", 9.0, "Ⅰ"), ("pH", 9.1, "劣Ⅴ"), ("pH", 5.9, "劣Ⅴ"),
        ("高锰酸盐指数", 4.0, "Ⅱ"), ("高锰酸盐指数", 4.01, "Ⅲ"), ("高锰酸盐指数", 15.1, "劣Ⅴ"),
        ("化学需氧量", 15.0, "Ⅰ"), ("化学需氧量", 20.0, "Ⅲ"), ("化学需氧量", 40.5, "劣Ⅴ"),
        ("五日生化需氧量", 3.0, "Ⅰ"), ("五日生化需氧量", 6.0, "Ⅳ"),
        ("氨氮", 0.15, "Ⅰ"), ("氨氮", 1.0, "Ⅲ"), ("氨氮", 1.6, "Ⅴ"), ("氨氮", 2.01, "劣Ⅴ"),
        ("总磷", 0.1, "Ⅱ"), ("总磷", 0.3, "Ⅳ"), ("总磷", 0.41, "劣Ⅴ"),
        ("铜", 0.5, "Ⅱ"), ("锌", 1.5, "Ⅳ"), ("氟化物", 1.2, "Ⅳ"), ("硒", 0.015, "Ⅳ"),
        ("砷", 0.08, "Ⅳ"), ("汞", 0.0001, "Ⅲ"), ("汞", 0.0002, "Ⅳ"), ("镉", 0.003, "Ⅱ"),
        ("铬(六价)", 0.08, "Ⅴ"), ("铅", 0.03, "Ⅲ"), ("氰化物", 0.1, "Ⅲ"), ("挥发酚", 0.004, "Ⅲ"),
        ("石油类", 0.3, "Ⅳ"), ("阴离子表面活性剂", 0.25, "Ⅳ"), ("硫化物", 0.15, "Ⅲ"),
    ],
)
def test_each_item_class_edges(item, value, expected):
    assert one([{item: value}])["class"] == expected


def test_reference_items_do_not_set_a_river_class():
    row = one([{"总氮": 5.0, "粪大肠菌群": 50000, "水温": 30}])
    assert row["class"] == "Ⅰ"
    assert "粪大肠菌群:劣Ⅴ" in row["reference_classes"]


def test_lake_tp_limits_and_tn_reported_separately():
    lake = {"断面编码": "L1", "总磷": 0.06, "总氮": 1.2}
    assert one([{"总磷": 0.06}])["class"] == "Ⅱ"
    row = one([lake])
    assert row["class"] == "Ⅳ"
    assert row["reference_classes"] == "总氮:Ⅳ"
    assert one([{**lake, "总磷": 0.04, "总氮": 1.6}], lake_tn_in_class=True)["class"] == "Ⅴ"


def test_below_detection_counts_as_half_the_limit():
    # (0.3L -> 0.15 + 0.16) / 2 = 0.155: class Ⅱ; at the full limit it would be 0.23, Ⅲ.
    row = one([{"氨氮": "0.3L", "监测时间": "2024-01"}, {"氨氮": 0.16, "监测时间": "2024-02"}])
    assert row["mean_nh3n"] == pytest.approx(0.155)
    assert row["class"] == "Ⅱ"


def test_nd_without_limit_is_left_out_and_listed():
    rows = [{"氨氮": "ND", "监测时间": "2024-01"}, {"氨氮": "未检出", "监测时间": "2024-02"}]
    row = one(rows)
    assert np.isnan(row["mean_nh3n"])
    assert row["undetected_items"] == "氨氮"
    assert row["items_assessed"] == 4


def test_blanks_are_not_zero():
    row = one([{"总磷": 0.3, "监测时间": "2024-01"}, {"总磷": "", "监测时间": "2024-02"}, {"总磷": None, "监测时间": "2024-03"}])
    assert row["mean_tp"] == pytest.approx(0.3)
    assert row["class"] == "Ⅳ"


def test_period_means_before_classification():
    # DO 4 (Ⅳ) and 6 (Ⅱ): the annual mean 5 is Ⅲ, not the worst month.
    rows = [{"溶解氧": 4.0, "监测时间": "2024-01"}, {"溶解氧": 6.0, "监测时间": "2024-07"}]
    assert one(rows)["class"] == "Ⅲ"
    monthly = wq.classify(wq.tidy(wide(rows)), SECTIONS, "month")
    assert monthly["class"].tolist() == ["Ⅳ", "Ⅱ"]
    quarterly = wq.classify(wq.tidy(wide(rows)), SECTIONS, "quarter")
    assert quarterly["period"].tolist() == ["2024-Q1", "2024-Q3"]


def test_exceedance_multiples_are_against_class_iii_whatever_the_target():
    # Target Ⅱ, but the rules' multiple is (C - Ⅲ limit) / Ⅲ limit: TP 0.35 (Ⅴ, 0.75),
    # CODMn 9 (Ⅳ, 0.50), NH3-N 1.2 (Ⅳ, 0.20), DO 4 (Ⅳ, no multiple); BOD5 3.5 is Ⅲ and does not exceed.
    row = one([{"总磷": 0.35, "氨氮": 1.2, "高锰酸盐指数": 9.0, "五日生化需氧量": 3.5, "溶解氧": 4.0}])
    assert row["class"] == "Ⅴ"
    assert bool(row["meets_target"]) is False
    assert row["main_pollutants"] == "总磷(0.75)、高锰酸盐指数(0.50)、氨氮(0.20)"
    assert row["exceedances"] == "总磷(0.75)、高锰酸盐指数(0.50)、氨氮(0.20)、溶解氧"
    # Against the target class Ⅱ, in its own, separately labelled column.
    assert row["target_exceedances"] == "总磷(2.50)、氨氮(1.40)、高锰酸盐指数(1.25)、溶解氧、五日生化需氧量(0.17)"


def test_no_main_pollutants_unless_worse_than_class_iii():
    # TP 0.15 is Ⅲ: the section misses its Ⅱ target, but the rules name no main pollutant.
    row = one([{"总磷": 0.15}])
    assert row["class"] == "Ⅲ"
    assert bool(row["meets_target"]) is False
    assert row["main_pollutants"] == "" and row["exceedances"] == ""
    assert row["target_exceedances"] == "总磷(0.50)"


def test_class_beats_multiple_in_pollutant_order():
    # Hg 0.0009 is Ⅳ with multiple (0.0009-0.0001)/0.0001 = 8; COD 35 is Ⅴ with (35-20)/20 = 0.75.
    row = one([{"汞": 0.0009, "化学需氧量": 35.0}])
    assert row["main_pollutants"] == "化学需氧量(0.75)、汞(8.00)"


def test_cyanide_and_heavy_metals_are_main_pollutants_whenever_they_exceed():
    # 劣Ⅴ: NH3-N 3 (2.00), TP 0.5 (1.50), COD 45 (1.25), cyanide 0.22 (0.10); Ⅴ: lead 0.06 (0.20);
    # Ⅳ: sulfide 0.3 (0.50), selenium 0.012 (0.20). The top three, then cyanide and lead;
    # sulfide and selenium (not a metal) only among the exceedances.
    row = one([{"氨氮": 3.0, "总磷": 0.5, "化学需氧量": 45.0, "氰化物": 0.22, "铅": 0.06, "硫化物": 0.3, "硒": 0.012}])
    assert row["class"] == "劣Ⅴ"
    assert row["main_pollutants"] == "氨氮(2.00)、总磷(1.50)、化学需氧量(1.25)、氰化物(0.10)、铅(0.20)"
    assert row["exceedances"] == "氨氮(2.00)、总磷(1.50)、化学需氧量(1.25)、氰化物(0.10)、铅(0.20)、硫化物(0.50)、硒(0.20)"


def test_ph_out_of_range_gets_no_multiple():
    row = one([{"pH": 9.5}])
    assert row["class"] == "劣Ⅴ"
    assert row["main_pollutants"] == "pH值"


def test_meeting_target_and_no_target():
    assert bool(one([{"总磷": 0.1}])["meets_target"]) is True
    free = wq.classify(wq.tidy(wide([{"断面编码": "X9", "总磷": 0.25}])), SECTIONS)
    assert pd.isna(free.loc[0, "meets_target"])
    assert free.loc[0, "exceedances"] == "总磷(0.25)"
    assert free.loc[0, "main_pollutants"] == "总磷(0.25)"
    assert free.loc[0, "target_exceedances"] == ""


def test_long_table_with_english_codes_and_flags():
    long = pd.DataFrame(
        {
            "section_code": ["R2"] * 3,
            "month": ["2024-03"] * 3,
            "item": ["nh3n", "TP", "DO"],
            "value": [None, "0.12", "7.8"],
            "below_detection": [True, False, False],
            "detection_limit": [0.05, None, None],
        }
    )
    row = wq.classify(wq.tidy(long), SECTIONS).iloc[0]
    assert row["mean_nh3n"] == pytest.approx(0.025)
    # TP 0.12 is above the river Ⅱ limit 0.1: Ⅲ, which is R2's target.
    assert row["class"] == "Ⅲ"
    assert bool(row["meets_target"]) is True
    assert row["district"] == "潼南区"


def test_month_formats_and_bad_cells_name_row_and_column():
    months = wq.tidy(wide([{"监测时间": "2024年3月"}, {"监测时间": "2024/11/15"}, {"监测时间": 202405}]))
    assert sorted(months["month"].unique()) == ["2024-03", "2024-05", "2024-11"]
    with pytest.raises(AnalysisError, match=r"row 3, column '氨氮'.*'abc'"):
        wq.tidy(wide([{}, {"氨氮": "abc"}]))
    with pytest.raises(AnalysisError, match="row 2, column '监测时间'"):
        wq.tidy(wide([{"监测时间": "上月"}]))
    with pytest.raises(AnalysisError, match="no water-quality items"):
        wq.tidy(pd.DataFrame({"断面编码": ["R1"], "监测时间": ["2024-01"], "备注": ["x"]}))


def test_compliance_rates_by_district_direction_year_and_basin():
    rows = [
        {"断面编码": "R1", "总磷": 0.15, "监测时间": "2023-05"},
        {"断面编码": "R1", "总磷": 0.05, "监测时间": "2024-05"},
        {"断面编码": "R2", "总磷": 0.15, "监测时间": "2024-05"},
        {"断面编码": "R2", "总磷": 0.5, "监测时间": "2023-05"},
    ]
    results = wq.classify(wq.tidy(wide(rows)), SECTIONS)
    by_year = wq.compliance_rates(results, "year").set_index("year")
    assert by_year.loc[2023, "compliance_rate"] == 0.0
    assert by_year.loc[2024, "compliance_rate"] == 100.0
    assert by_year.loc[2023, "worse_than_v_rate"] == 50.0
    by_direction = wq.compliance_rates(results, "direction").set_index("direction")
    assert by_direction.loc["川入渝", "meeting"] == 1
    assert by_direction.loc[wq.EMPTY_LABEL, "assessed"] == 2
    assert set(wq.compliance_rates(results, "basin")["basin"]) == {"长江", "嘉陵江"}
    assert wq.compliance_rates(results, "district").loc[0, "precision"] == "approximate"
    with pytest.raises(AnalysisError, match="no such column"):
        wq.compliance_rates(results, "province")


def test_synthetic_input_gives_synthetic_result():
    table = wide([{"总磷": 0.05}]).assign(source="示例", precision="synthetic")
    row = wq.classify(wq.tidy(table), SECTIONS).iloc[0]
    assert row["precision"] == "synthetic"


def test_standard_table_has_21_river_items():
    table = gb3838.standard()
    assert table["used_for_class_rivers"].sum() == 21
    assert set(table.loc[~table["used_for_class_rivers"], "name_zh"]) == {"总磷", "总氮", "粪大肠菌群"}
    assert table["source"].str.contains("GB 3838-2002").all()


def test_cli_writes_workbook(tmp_path):
    sections = tmp_path / "断面.csv"
    SECTIONS.rename(columns={"code": "断面编码", "target_class": "水质目标"}).to_csv(sections, index=False)
    data = tmp_path / "监测.csv"
    wide([{"氨氮": "0.05L"}, {"断面编码": "R2", "总磷": 0.25, "监测时间": "2024-02"}]).to_csv(data, index=False)
    output = tmp_path / "评价.xlsx"
    result = CliRunner().invoke(
        water_quality, [str(data), "--sections", str(sections), "--period", "year", "-o", str(output)]
    )
    assert result.exit_code == 0, result.output
    sheets = pd.read_excel(output, sheet_name=None)
    assert {"断面评价结果", "按区县", "按流向", "按年度", "按流域", "说明"} <= set(sheets)
    table = sheets["断面评价结果"].set_index("断面编码")
    assert table.loc["R2", "水质类别"] == "Ⅳ"
    assert table.loc["R2", "是否达标"] == "否"
    assert table.loc["R1", "精度"] == "approximate"
    # R2 (target Ⅲ, TP 0.25): the national multiple against Ⅲ, (0.25 - 0.2) / 0.2.
    assert table.loc["R2", "主要污染指标（超标倍数）"] == "总磷(0.25)"
    # Both of the user's files are named in every row's source.
    assert table["来源"].str.contains("用户文件 监测.csv").all()
    assert table["来源"].str.contains("用户文件 断面.csv").all()
    notes = "\n".join(sheets["说明"]["说明"])
    assert "超标倍数 =（浓度 − Ⅲ类标准限值）/ Ⅲ类标准限值（环办〔2011〕22号）" in notes
    assert "对目标超标倍数" in notes and "不是环办〔2011〕22号规定的超标倍数" in notes
    assert list(tmp_path.glob(".*tmp*")) == []


def test_cli_bad_file_gives_clean_error(tmp_path):
    data = tmp_path / "bad.csv"
    data.write_text("断面编码,监测时间,氨氮\nR1,2024-01,很多\n", encoding="utf-8")
    sections = tmp_path / "s.csv"
    SECTIONS.to_csv(sections, index=False)
    result = CliRunner().invoke(water_quality, [str(data), "--sections", str(sections), "-o", str(tmp_path / "o.xlsx")])
    assert isinstance(result.exception, CqgisError)
    assert "row 2, column '氨氮'" in str(result.exception)
    missing = CliRunner().invoke(water_quality, [str(tmp_path / "none.csv"), "--sections", str(sections), "-o", str(tmp_path / "o.xlsx")])
    assert isinstance(missing.exception, CqgisError)
    wrong = CliRunner().invoke(water_quality, [str(data), "-o", str(tmp_path / "o.csv")])
    assert isinstance(wrong.exception, CqgisError)
    assert not (tmp_path / "o.xlsx").exists()


@pytest.mark.parametrize(("text", "message"), [("", "m.csv is empty"), ("断面名称,监测时间,溶解氧\n", "no data rows")])
def test_empty_and_header_only_files_are_clean_errors(tmp_path, text, message):
    from click.testing import CliRunner

    from cqgis.cli import main

    path = tmp_path / "m.csv"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main.cli, ["analyze", "water-quality", str(path), "-o", str(tmp_path / "o.xlsx")])
    assert result.exit_code != 0
    assert result.output.startswith("Error: ") and message in result.output
    assert not (tmp_path / "o.xlsx").exists()


def test_row_numbers_survive_blank_lines_as_in_excel(tmp_path):
    rows = [("朱沱", "2024-01", "7.1"), (None, None, None), ("朱沱", "2024-03", "abc")]
    frame = pd.DataFrame(rows, columns=["断面名称", "监测时间", "溶解氧"])
    csv = tmp_path / "m.csv"
    csv.write_text("断面名称,监测时间,溶解氧\n朱沱,2024-01,7.1\n\n朱沱,2024-03,abc\n", encoding="utf-8")
    xlsx = tmp_path / "m.xlsx"
    frame.to_excel(xlsx, index=False)
    for path in (csv, xlsx):
        with pytest.raises(AnalysisError, match="row 4"):
            wq.tidy(wq.read_table(path))
