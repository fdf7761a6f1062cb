"""Plan compliance: status by comparator, district resolution, and the CLI on a small indicator file."""

import pandas as pd
import pytest
from click.testing import CliRunner

from cqgis.analysis import compliance
from cqgis.analysis.errors import AnalysisError
from cqgis.cli import main
from cqgis.layers import catalog
from cqgis.layers.errors import UnknownPlaceError


def _status(comparator, target, value):
    return compliance.status(pd.Series([comparator]), pd.Series([target]), pd.Series([value]))[0]


@pytest.mark.parametrize(
    ("comparator", "target", "value", "expected"),
    [
        ("≥", 98, 98, "达标"),
        ("≥", 98, 97.9, "未达标"),
        ("=", 40, 41, "达标"),  # 达到40%: more is fine
        ("=", 40, 39.99, "未达标"),
        ("≤", 10, 10, "达标"),
        ("≤", 10, 10.1, "未达标"),
        ("下降", 14, 14.2, "达标"),  # the achieved cut is at least the planned cut
        ("下降", 14, 13, "未达标"),
        ("左右", 40, 41.9, "达标"),  # within 5 % of 40
        ("左右", 40, 42.1, "未达标"),
        ("左右", 40, 37.9, "未达标"),
        ("≥", 98, None, "无数据"),
    ],
)
def test_status_rules(comparator, target, value, expected):
    assert _status(comparator, target, value) == expected


@pytest.fixture(scope="module")
def targets():
    return catalog.load("targets")


def test_district_targets_cover_every_district(targets, districts):
    values = pd.DataFrame(
        {
            "target_id": ["urban_sewage_treatment_rate"] * 2,
            "district": ["万州", "潼南区"],  # short and full names
            "value": [99.0, 90.0],
            "source": "测试",
        }
    )
    results = compliance.evaluate(targets, values, districts)
    sewage = results[results["target_id"] == "urban_sewage_treatment_rate"].set_index("district")
    assert len(sewage) == 39  # 全市 + 38 districts
    assert sewage.loc["万州区", "status"] == "达标"
    assert sewage.loc["潼南区", "status"] == "未达标"
    assert sewage.loc["潼南区", "gap"] == pytest.approx(-8.0)
    assert sewage.loc["渝中区", "status"] == "无数据"
    assert sewage.loc["全市", "status"] == "无数据"
    # A city-scope target has one row only.
    assert (results["target_id"] == "coal_consumption_share").sum() == 1
    summary = compliance.summary(results).set_index("target_id")
    assert summary.loc["urban_sewage_treatment_rate", ["达标", "未达标", "无数据"]].tolist() == [1, 1, 36]


def test_indicator_wording_and_latest_year(targets, districts):
    values = pd.DataFrame(
        {
            "indicator": ["煤炭消费占能源消费总量比重", "煤炭消费占能源消费总量比重"],
            "district": ["全市", "全市"],
            "year": [2025, 2024],
            "value": [40.5, 50.0],
        }
    )
    row = compliance.evaluate(targets, values, districts).set_index("target_id").loc["coal_consumption_share"]
    assert row["value"] == 40.5 and row["status"] == "达标"
    # A user table without precision is "approximate": nothing says it is exact.
    assert row["precision"] == "approximate"


def test_unknown_target_and_district_are_named(targets, districts):
    with pytest.raises(AnalysisError, match="row 3: '不存在的指标'"):
        compliance.evaluate(targets, pd.DataFrame({"indicator": ["绿色园区", "不存在的指标"], "value": [1, 2]}), districts)
    with pytest.raises(UnknownPlaceError, match="indicators row 2: unknown district '火星区'"):
        compliance.evaluate(
            targets, pd.DataFrame({"target_id": ["green_parks"], "district": ["火星区"], "value": [1]}), districts
        )


def test_synthetic_indicators_flag_results(targets, districts):
    results = compliance.evaluate(targets, catalog.load("indicators"), districts)
    assert (results.loc[results["value"].notna(), "precision"] == "synthetic").all()
    assert set(results["status"]) >= {"达标", "未达标"}


def test_district_map_and_cli(tmp_path, districts):
    indicators = tmp_path / "指标.csv"
    indicators.write_text("目标编号,区县,实际值\nurban_sewage_treatment_rate,万州区,99\n", encoding="utf-8")
    workbook = tmp_path / "评估.xlsx"
    result = CliRunner().invoke(main.cli, ["analyze", "compliance", str(indicators), "-o", str(workbook)])
    assert result.exit_code == 0, result.output
    sheet = pd.read_excel(workbook, sheet_name="目标评估结果")
    row = sheet[(sheet["目标编号"] == "urban_sewage_treatment_rate") & (sheet["区县"] == "万州区")]
    assert row["状态"].tolist() == ["达标"]
    # The embedded rural sewage survey is synthetic: it is not mixed into the user's own indicators.
    rural = sheet[sheet["目标编号"] == "rural_sewage_treatment_rate"]
    assert rural["实际值"].isna().all() and (rural["状态"] == "无数据").all()
    assert "not mixed with your indicators" in result.output
    notes = pd.read_excel(workbook, sheet_name="说明")["说明"].str.cat()
    assert "±5%" in notes
    gpkg = tmp_path / "map.gpkg"
    mapped = CliRunner().invoke(
        main.cli, ["analyze", "compliance", str(indicators), "-o", str(gpkg), "--target", "urban_sewage_treatment_rate"]
    )
    assert mapped.exit_code == 0, mapped.output
    import geopandas as gpd

    frame = gpd.read_file(gpkg)
    assert len(frame) == 38
    assert frame.set_index("name").loc["万州区", "status"] == "达标"
    wrong = CliRunner().invoke(main.cli, ["analyze", "compliance", "-o", str(gpkg), "--target", "coal_consumption_share"])
    assert wrong.exit_code == 1 and "not assessed per district" in wrong.output


def test_cli_names_the_spreadsheet_row_of_a_bad_indicator(tmp_path, districts):
    indicators = tmp_path / "指标.csv"
    indicators.write_text("目标编号,区县,实际值\ngreen_parks,全市,31\n\nno_such_target,全市,1\n", encoding="utf-8")
    result = CliRunner().invoke(main.cli, ["analyze", "compliance", str(indicators), "-o", str(tmp_path / "o.xlsx")])
    assert result.exit_code == 1
    assert "indicators row 4: 'no_such_target'" in result.output


def test_ids_in_the_indicator_column_percent_values_and_repeats(tmp_path, targets, districts):
    indicators = tmp_path / "指标.csv"
    indicators.write_text("指标,区县,实际值\nurban_sewage_treatment_rate,渝北区,98.6%\n", encoding="utf-8")
    workbook = tmp_path / "o.xlsx"
    result = CliRunner().invoke(main.cli, ["analyze", "compliance", str(indicators), "-o", str(workbook)])
    assert result.exit_code == 0, result.output
    sheet = pd.read_excel(workbook, sheet_name="目标评估结果")
    row = sheet[(sheet["目标编号"] == "urban_sewage_treatment_rate") & (sheet["区县"] == "渝北区")]
    assert row["实际值"].tolist() == [98.6]
    repeated = pd.DataFrame({"target_id": ["green_parks"] * 2, "district": ["全市", "全市"], "value": [30, 31]})
    with pytest.raises(AnalysisError, match="rows 2, 3: the same target"):
        compliance.evaluate(targets, repeated, districts)


def test_a_rural_sewage_rate_given_by_wording_is_kept(tmp_path, districts):
    indicators = tmp_path / "指标.csv"
    indicators.write_text("指标,区县,实际值\n农村生活污水治理率,全市,42\n", encoding="utf-8")
    workbook = tmp_path / "o.xlsx"
    result = CliRunner().invoke(main.cli, ["analyze", "compliance", str(indicators), "-o", str(workbook)])
    assert result.exit_code == 0 and "无数据 (no survey" not in result.output
    sheet = pd.read_excel(workbook, sheet_name="目标评估结果")
    city = sheet[(sheet["目标编号"] == "rural_sewage_treatment_rate") & (sheet["区县"] == "全市")]
    assert city["状态"].tolist() == ["达标"]


def test_district_rows_say_they_use_the_city_wide_target(targets, districts):
    values = pd.DataFrame({"target_id": ["energy_intensity_gdp"], "district": ["万州区"], "value": [13.0]})
    results = compliance.evaluate(targets, values, districts)
    energy = results[results["target_id"] == "energy_intensity_gdp"].set_index("district")
    assert energy.loc["全市", "target_basis"] == "全市目标"
    assert (energy.drop(index="全市")["target_basis"] == "参照全市目标").all()
    assert any("参照全市目标" in line for line in compliance.notes(results))


def test_a_districts_own_target_overrides_the_city_figure(tmp_path, targets, districts):
    values = pd.DataFrame(
        {"target_id": ["energy_intensity_gdp"] * 2, "district": ["万州区", "潼南区"], "value": [13.0, 13.0]}
    )
    own = pd.DataFrame({"target_id": ["energy_intensity_gdp"], "district": ["万州"], "value": [12.5], "source": "万州区方案"})
    results = compliance.evaluate(targets, values, districts, own.assign(precision="exact"))
    energy = results[results["target_id"] == "energy_intensity_gdp"].set_index("district")
    # 万州区 cut 13 % against its own 12.5 %: met; 潼南区 still judged against the city's 14 %: not met.
    assert energy.loc["万州区", ["target", "target_basis", "status"]].tolist() == [12.5, "区县目标", "达标"]
    assert energy.loc["潼南区", ["target", "target_basis", "status"]].tolist() == [14.0, "参照全市目标", "未达标"]
    assert "万州区方案" in energy.loc["万州区", "source"]
    with pytest.raises(AnalysisError, match="row 2: 'coal_consumption_share' is not a target the plan assesses per district"):
        compliance.evaluate(targets, values, districts, own.assign(target_id="coal_consumption_share"))
    # Through the command line: the file's rows name it in the source.
    table = tmp_path / "区县目标.csv"
    table.write_text("目标编号,区县,目标值\nenergy_intensity_gdp,万州区,12.5\n", encoding="utf-8")
    indicators = tmp_path / "指标.csv"
    indicators.write_text("目标编号,区县,实际值\nenergy_intensity_gdp,万州区,13\n", encoding="utf-8")
    workbook = tmp_path / "o.xlsx"
    result = CliRunner().invoke(
        main.cli, ["analyze", "compliance", str(indicators), "--district-targets", str(table), "-o", str(workbook)]
    )
    assert result.exit_code == 0, result.output
    sheet = pd.read_excel(workbook, sheet_name="目标评估结果")
    row = sheet[(sheet["目标编号"] == "energy_intensity_gdp") & (sheet["区县"] == "万州区")].iloc[0]
    assert (row["目标值"], row["目标依据"], row["状态"]) == (12.5, "区县目标", "达标")
    assert "用户文件 区县目标.csv" in row["来源"] and row["精度"] == "approximate"


def test_synthetic_rural_sewage_never_tops_up_a_users_indicators(targets, districts):
    survey = catalog.load("rural_sewage")
    users = pd.DataFrame({"target_id": ["green_parks"], "district": ["全市"], "value": [31]})
    for values in (users, users.assign(precision=pd.NA), users.assign(precision=["synthetic"]).iloc[:0]):
        kept, note = compliance.with_rural_sewage(values, survey, targets)
        assert len(kept) == len(values), values.columns.tolist()
        assert "not mixed" in note
    # The synthetic example indicators do get the synthetic rates, saying what they count.
    example = catalog.load("indicators")
    topped, note = compliance.with_rural_sewage(example, survey, targets)
    assert topped["target_id"].eq("rural_sewage_treatment_rate").any()
    assert "镇、乡驻地" in note
