"""Tests of reading monitoring tables as offices get them: the national automatic-station export, Excel dates, bad cells."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cqgis.analysis import monitoring
from cqgis.analysis import water_quality as wq
from cqgis.analysis.errors import AnalysisError
from cqgis.cli import main
from cqgis.geo import io

NATIONAL_HEADER = (
    "省份,流域,断面名称,监测时间,水质类别,水温(℃),pH(无量纲),溶解氧(mg/L),电导率(μS/cm),浊度(NTU),"
    "高锰酸盐指数(mg/L),氨氮(mg/L),总磷(mg/L),总氮(mg/L),叶绿素α(mg/L),藻密度(cells/L),站点情况"
)
NATIONAL_ROWS = (
    "重庆市,长江流域,朱沱,03-01 00:00,Ⅱ,12.1,7.9,9.1,300,12,2.1,0.12,0.08,1.5,0.002,100000,正常",
    "重庆市,长江流域,朱沱,03-01 04:00,Ⅱ,12.0,7.8,*,301,12,2.3,0.10,0.06,1.4,0.002,100000,正常",
    "重庆市,长江流域,朱沱,03-01 08:00,Ⅱ,--,--,--,--,--,--,--,--,--,--,--,维护",
    '重庆市,长江流域,<span style="color:red">朱沱</span>,03-01 12:00,Ⅲ,12.3,7.7,8.9,302,12,'
    '<span style="color:red">4.1</span>,0.025L,0.12,1.6,0.002,100000,正常',
)


def national(tmp_path, rows=NATIONAL_ROWS, encoding="gbk"):
    path = tmp_path / "自动站.csv"
    path.write_bytes(("\n".join([NATIONAL_HEADER, *rows]) + "\n").encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_national_export_reads_as_it_comes(tmp_path, encoding):
    reading = monitoring.read_measurements(wq.read_table(national(tmp_path, encoding=encoding)), year=2025)
    frame = reading.frame
    assert set(frame["section_name"]) == {"朱沱"}  # the HTML span is gone
    assert set(frame["month"]) == {"2025-03"}
    assert set(frame["item"]) == {"ph", "do", "codmn", "nh3n", "tp", "tn", "wt"} - {"wt"}
    # '*' and '--' are left out, never zero: DO is the mean of 9.1 and 8.9.
    do = frame.loc[frame["item"] == "do", "concentration"]
    assert sorted(do) == [8.9, 9.1]
    assert frame.loc[frame["item"] == "codmn", "value"].max() == 4.1
    assert frame.loc[(frame["item"] == "nh3n") & frame["below_detection"], "concentration"].tolist() == [0.0125]
    problems = reading.problems.set_index("kind")
    counted = problems.loc["not_measured"].set_index("column").loc["溶解氧(mg/L)", "message"]
    assert counted.startswith("cells not measured (--): 1; withheld (*): 1;")
    assert problems.loc["station_status", "row"] == 4
    assert "维护" in problems.loc["station_status", "message"]
    assert problems.loc["no_values", "row"] == 4


def test_times_without_a_year_need_one(tmp_path):
    table = wq.read_table(national(tmp_path))
    with pytest.raises(AnalysisError, match=r"row 2, column '监测时间'.*'03-01 00:00' has no year.*--year"):
        wq.tidy(table)
    args = ["analyze", "water-quality", str(national(tmp_path)), "-o", str(tmp_path / "o.xlsx")]
    refused = CliRunner().invoke(main.cli, args)
    assert refused.exit_code != 0 and "--year" in refused.output
    assert not (tmp_path / "o.xlsx").exists()
    done = CliRunner().invoke(main.cli, [*args, "--year", "2025", "--period", "month"])
    assert done.exit_code == 0, done.output
    assert "withheld (*): 1;" in done.output and "维护" in done.output
    results = pd.read_excel(tmp_path / "o.xlsx", sheet_name=None)
    row = results["断面评价结果"].iloc[0]
    assert (row["断面名称"], row["评价时段"], row["溶解氧均值"]) == ("朱沱", "2025-03", 9.0)
    assert results["说明"]["说明"].str.contains("未公布 1 个").any()


def test_validate_explains_every_row_not_used(tmp_path):
    rows = (
        *NATIONAL_ROWS,
        "重庆市,长江流域,朱沱,03-02 00:00,Ⅱ,12.1,15,9.1,300,12,2.1,0.12,0.08,1.5,0.002,100000,正常",
        "重庆市,长江流域,朱沱,03-02 04:00,Ⅱ,12.1,7.5,7500,300,12,abc,0.12,0.08,1.5,0.002,100000,正常",
        "重庆市,长江流域,朱沱,昨天,Ⅱ,12.1,7.5,8,300,12,2,0.12,0.08,1.5,0.002,100000,正常",
        "重庆市,长江流域,朱陀,03-02 08:00,Ⅱ,12.1,7.5,8,300,12,2,0.12,0.08,1.5,0.002,100000,正常",
        "重庆市,长江流域,,03-02 12:00,Ⅱ,12.1,7.5,8,300,12,2,0.12,0.08,1.5,0.002,100000,正常",
    )
    path = national(tmp_path, rows)
    result = CliRunner().invoke(main.cli, ["validate", str(path), "--as", "measurements", "--year", "2025", "--limit", "100"])
    assert result.exit_code == 1
    lines = result.output.splitlines()

    def line(*words):
        return [x for x in lines if all(w in x for w in words)]

    assert line("row 6", "pH(无量纲)", "pH '15' is outside 0-14")
    assert line("row 7", "溶解氧(mg/L)", "dissolved oxygen '7500' mg/L is far above saturation")
    assert line("row 7", "高锰酸盐指数(mg/L)", "cannot read 'abc'")
    assert line("row 8", "监测时间", "cannot read '昨天' as a month")
    assert line("row 4", "维护")
    assert line("row 4", "no usable value")
    assert line("朱陀", "did you mean 朱沱")
    assert line("row 10", "no section name or code")
    no_year = CliRunner().invoke(main.cli, ["validate", str(path), "--as", "measurements"])
    assert "has no year" in no_year.output and "--year" in no_year.output


def test_impossible_values_are_refused_by_row_not_classed():
    table = pd.DataFrame(
        {"断面名称": ["朱沱"] * 3, "监测时间": ["2025-03"] * 3, "pH": [15, 7.5, -1], "溶解氧": [8.0, 7500, 8.0]}
    )
    reading = monitoring.read_measurements(table)
    refused = reading.problems[reading.problems["kind"].isin(["impossible_value", "unreadable_value"])]
    assert sorted(map(tuple, refused[["row", "column", "kind"]].values.tolist())) == [
        (2, "pH", "impossible_value"), (3, "溶解氧", "impossible_value"), (4, "pH", "unreadable_value")
    ]
    assert sorted(reading.frame["value"]) == [7.5, 8.0, 8.0]


@pytest.mark.parametrize(
    ("cell", "month"),
    [
        (45717, "2025-03"),  # an Excel serial: 2025-03-01
        ("45717", "2025-03"),
        (2025.1, "2025-10"),  # 2025.10 typed in Excel
        (2025.01, "2025-01"),
        ("2025.10", "2025-10"),
        ("2025年3月", "2025-03"),
        (datetime.datetime(2025, 3, 1), "2025-03"),
        (pd.Timestamp("2025-11-30 23:00"), "2025-11"),
        (202405, "2024-05"),
        ("2024/3/15 08:00", "2024-03"),
    ],
)
def test_every_spelling_of_a_month(cell, month):
    found, why = monitoring.months(pd.Series([cell], dtype=object))
    assert found.tolist() == [month]
    assert why.isna().all()


def test_excel_dates_read_right_from_a_workbook(tmp_path):
    path = tmp_path / "m.xlsx"
    pd.DataFrame(
        {"断面名称": ["朱沱", "朱沱", "朱沱"], "监测时间": [45717, 2025.1, "2025年3月"], "溶解氧": [8, 8, 8]}
    ).to_excel(path, index=False)
    assert sorted(wq.tidy(wq.read_table(path))["month"].unique()) == ["2025-03", "2025-10"]


@pytest.mark.parametrize("header", ["溶解氧DO", "溶解氧(DO)", "DO", "溶解氧（mg/L）", " 溶 解 氧 "])
def test_item_headers_with_codes_and_units(header):
    frame = wq.tidy(pd.DataFrame({"断面名称": ["朱沱"], "监测时间": ["2025-03"], header: ["8.1"]}))
    assert frame["item"].tolist() == ["do"]


def test_one_item_in_two_columns_is_reported_not_averaged():
    table = pd.DataFrame({"断面名称": ["朱沱"], "监测时间": ["2025-03"], "NH3-N": [0.1], "氨 氮": [0.9]})
    with pytest.raises(AnalysisError, match="columns 'NH3-N' and '氨 氮' give the same item"):
        wq.tidy(table)


def test_misspelt_section_reported_with_close_matches():
    from cqgis.layers import catalog

    frame = wq.tidy(pd.DataFrame({"断面名称": ["朱陀", "朱沱"], "监测时间": ["2025-03"] * 2, "溶解氧": [8, 8]}))
    found = monitoring.unmatched_sections(frame, catalog.load("sections"))
    assert found["value"].tolist() == ["朱陀"]
    assert "did you mean 朱沱" in found["message"].iloc[0]


def test_cells_parsed_per_column_match_one_by_one():
    cells = pd.Series(["0.52", 0.52, "0.01L", "<0.01", "ND", "未检出", "", "--", "*", None, "<b>1.5</b>", "1e-3"], dtype=object)
    parsed = monitoring.parse_cells(cells, 0.02)
    for i, cell in enumerate(cells):
        one = wq.parse_value(cell, 0.02)
        np.testing.assert_equal(
            [one.value, one.below_detection, one.detection_limit],
            [parsed["value"].iloc[i], parsed["below_detection"].iloc[i], parsed["detection_limit"].iloc[i]],
        )
    assert parsed["state"].tolist()[7:10] == [monitoring.NOT_MEASURED, monitoring.WITHHELD_CELL, monitoring.NOT_MEASURED]


def test_row_numbers_travel_as_the_index_not_in_attrs(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("断面名称,监测时间,溶解氧\n朱沱,2024-01,7.1\n,,\n朱沱,2024-03, \n", encoding="utf-8")
    table = io.read_rows(path, text=True)
    assert table.attrs == {}
    assert table.index.name == io.ROW_INDEX
    assert io.row_numbers(table).tolist() == [2, 4]
    assert pd.isna(table.loc[4, "溶解氧"])  # a cell of spaces is blank


CLASS_REPORT = pd.DataFrame(
    {
        "序号": [1, 2, 3],
        "河流": ["长江", "琼江", "濑溪河"],
        "断面名称": ["朱沱", "光辉", "断面X"],
        "断面属性": ["国控", "国控", "区控"],
        "上年": ["Ⅱ", "Ⅲ", "Ⅳ"],
        "上月": ["Ⅱ", "Ⅲ", "Ⅳ"],
        "本月": ["Ⅱ类", "Ⅳ", "断流"],
        "主要污染指标(类别)": ["", "总磷(Ⅳ)", ""],
    }
)


def test_class_only_report_gives_classes_targets_and_rates():
    from cqgis.layers import catalog

    assert monitoring.is_class_table(CLASS_REPORT)
    assert not monitoring.is_class_table(pd.DataFrame({"断面名称": ["朱沱"], "水质类别": ["Ⅱ"], "溶解氧": [8]}))
    reading = monitoring.read_classes(CLASS_REPORT, catalog.load("sections"), year=2025)
    frame = reading.frame.set_index("section_name")
    # 朱沱's target Ⅱ comes from the sections layer (渝府发〔2012〕4号).
    assert (frame.loc["朱沱", "class"], frame.loc["朱沱", "target_class"], frame.loc["朱沱", "meets_target"]) == ("Ⅱ", "Ⅱ", True)
    assert frame.loc["光辉", "main_pollutants"] == "总磷(Ⅳ)"
    assert pd.isna(frame.loc["断面X", "class"])
    assert reading.problems[["row", "kind"]].values.tolist() == [[4, "unreadable_value"]]
    rates = wq.compliance_rates(reading.frame, "level").set_index("level")
    assert rates.loc["国控", "assessed"] == 2 and rates.loc["国控", "good_rate"] == 50.0


def test_class_only_report_through_the_command_says_so(tmp_path):
    path = tmp_path / "月报.xlsx"
    CLASS_REPORT.rename(columns={"本月": "监测结果", "上年": "水域功能"}).drop(columns="上月").to_excel(path, index=False)
    out = tmp_path / "o.xlsx"
    result = CliRunner().invoke(main.cli, ["analyze", "water-quality", str(path), "--year", "2025", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "class-only table" in result.output
    sheets = pd.read_excel(out, sheet_name=None)
    table = sheets["断面评价结果"].set_index("断面名称")
    assert table.loc["光辉", "水质类别"] == "Ⅳ" and table.loc["光辉", "是否达标"] == "否"  # 水域功能 Ⅲ
    assert table.loc["光辉", "类别来源"] == "报表类别（无监测值）"
    assert sheets["说明"]["说明"].str.contains("类别报表（无监测值）").any()


def test_an_empty_sections_file_is_named_as_such(tmp_path):
    data = tmp_path / "m.csv"
    data.write_text("断面名称,监测时间,溶解氧\n朱沱,2025-03,8\n", encoding="utf-8")
    sections = tmp_path / "断面.csv"
    sections.write_text("断面名称,水质目标\n", encoding="utf-8")
    result = CliRunner().invoke(main.cli, ["analyze", "water-quality", str(data), "--sections", str(sections), "-o", str(tmp_path / "o.xlsx")])
    assert result.exit_code != 0
    assert "the sections file 断面.csv has no rows" in result.output and "measurements" not in result.output


def test_missing_columns_list_the_headers_read(tmp_path):
    data = tmp_path / "m.csv"
    data.write_text("站名,时间,溶解氧\n朱沱,2025-03,8\n", encoding="utf-8")
    result = CliRunner().invoke(main.cli, ["analyze", "water-quality", str(data), "-o", str(tmp_path / "o.xlsx")])
    assert result.exit_code != 0
    assert "headers read: 站名, 时间, 溶解氧" in result.output
    data.write_text("断面名称,监测时间,电导率\n朱沱,2025-03,300\n", encoding="utf-8")
    result = CliRunner().invoke(main.cli, ["analyze", "water-quality", str(data), "-o", str(tmp_path / "o.xlsx")])
    assert "no water-quality items found" in result.output and "headers read: 断面名称, 监测时间, 电导率" in result.output


def test_class_only_report_on_the_water_map():
    from cqgis.layers import catalog
    from cqgis.maps import theme_water

    frame, year = theme_water.section_results(catalog.load("sections"), CLASS_REPORT.assign(月份="2025-03"))
    assert year == "2025"
    assert frame.set_index("name").loc["朱沱", "class_label"] == "Ⅱ类"
    assert "报表类别，无监测值" in theme_water._subtitle(year, "class_source" in frame)


def test_validate_a_class_only_report(tmp_path):
    path = tmp_path / "月报.xlsx"
    CLASS_REPORT.to_excel(path, index=False)
    result = CliRunner().invoke(main.cli, ["validate", str(path), "--as", "measurements"])
    assert result.exit_code == 1
    assert "row 4, column 本月: '断流' is not a class" in result.output


def test_a_long_table_read_as_text_takes_its_detection_limits():
    long = pd.DataFrame(
        {
            "断面编码": ["R1"] * 3,
            "监测时间": ["2025-03"] * 3,
            "监测项目": ["氨氮", "总磷", "砷"],
            "监测值": ["ND", "ND", "0.002"],
            "检出限": ["0.025", "?", ""],
        },
        dtype="str",
    )
    frame = wq.tidy(long).set_index("item")
    assert frame.loc["nh3n", "concentration"] == 0.0125
    assert pd.isna(frame.loc["tp", "detection_limit"]) and frame.loc["tp", "below_detection"]
    assert frame.loc["as", "value"] == 0.002
