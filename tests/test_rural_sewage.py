"""Tests for analysis.rural_sewage: rates equal hand counts; the priority class follows the plan."""

import numpy as np
import pandas as pd
import pytest

from cqgis.analysis import rural_sewage
from cqgis.analysis.errors import AnalysisError


@pytest.fixture
def settlements():
    # 万州区: 1 of 3 treated; 涪陵区: 2 of 2 treated; 黔江区: 0 of 1.
    return pd.DataFrame(
        {
            "adcode": ["500101", "500101", "500101", "500102", "500102", "500114"],
            "district": ["万州区", "万州区", "万州区", "涪陵区", "涪陵区", "黔江区"],
            "has_sewage_treatment": [True, False, False, True, True, False],
            "households": [300, 150, np.nan, 250, 50, 199],
            "residents": [800, 400, 600, 700, 120, 499],
            "precision": ["approximate", "approximate", "synthetic", "approximate", "approximate", "approximate"],
            "source": ["a", "a", "b", "a", "a", "a"],
        }
    )


def test_rates_equal_hand_counts(settlements):
    rates = rural_sewage.treatment_rates(settlements, 40).set_index("district")
    wz = rates.loc["万州区"]
    assert (wz.settlements, wz.treated) == (3, 1)
    assert wz.rate_count == pytest.approx(100 / 3)
    assert wz.rate_households == pytest.approx(100 * 300 / 450)  # unknown households left out
    assert wz.rate_residents == pytest.approx(100 * 800 / 1800)
    assert wz.gap == pytest.approx(100 / 3 - 40) and not wz.meets_target
    assert rates.loc["涪陵区"].rate_count == 100 and rates.loc["涪陵区"].meets_target
    city = rates.loc["全市"]
    assert (city.settlements, city.treated) == (6, 3)
    assert city.rate_count == pytest.approx(50)


def test_city_row_is_last_and_districts_sorted(settlements):
    rates = rural_sewage.treatment_rates(settlements.iloc[::-1], 40)
    assert rates["district"].tolist() == ["万州区", "涪陵区", "黔江区", "全市"]


def test_priority_class_is_200_households_or_500_residents(settlements):
    mask = rural_sewage.priority_mask(settlements)
    # 300 households; 400 residents/150 h no; 600 residents; 250 h; 50/120 no; 199/499 no.
    assert mask.tolist() == [True, False, True, True, False, False]
    untreated = rural_sewage.priority_untreated(settlements)
    assert untreated.index.tolist() == [2]
    rates = rural_sewage.treatment_rates(settlements, 40).set_index("district")
    assert rates.loc["万州区"].priority_untreated == 1
    assert rates.loc["全市"].priority_untreated == 1


def test_synthetic_input_makes_the_result_synthetic(settlements):
    rates = rural_sewage.treatment_rates(settlements, 40).set_index("district")
    assert rates.loc["万州区"].precision == "synthetic"
    assert rates.loc["涪陵区"].precision == "approximate"
    assert rates.loc["全市"].precision == "synthetic"
    assert rates.loc["万州区"].source == "a；b"


def test_weighted_rate_empty_without_weights(settlements):
    rates = rural_sewage.treatment_rates(settlements.drop(columns=["households", "residents"]), 40)
    assert rates["rate_households"].isna().all()


def test_missing_column_is_a_clear_error(settlements):
    with pytest.raises(AnalysisError, match="has_sewage_treatment"):
        rural_sewage.treatment_rates(settlements.drop(columns=["has_sewage_treatment"]), 40)


def test_cli_on_a_survey_file(tmp_path, districts):
    from click.testing import CliRunner

    from cqgis.cli import main

    survey = tmp_path / "农村污水.csv"
    # Two settlements in 万州区, one treated; one large untreated in 潼南区.
    survey.write_text(
        "名称,经度,纬度,户数,常住人口,是否治理\n"
        "甲村,108.38,30.81,120,300,是\n"
        "乙村,108.40,30.80,80,,否\n"
        "丙村,105.84,30.19,260,700,否\n",
        encoding="utf-8",
    )
    output = tmp_path / "治理率.xlsx"
    result = CliRunner().invoke(main.cli, ["analyze", "rural-sewage", str(survey), "-o", str(output)])
    assert result.exit_code == 0, result.output
    book = pd.read_excel(output, sheet_name=None)
    rates = book["区县治理率"].set_index("区县")
    assert rates.loc["万州区", "治理率(%)"] == 50
    assert rates.loc["潼南区", "治理率(%)"] == 0
    assert rates.loc["全市", "治理率(%)"] == pytest.approx(100 / 3)
    assert rates.loc["全市", "目标(%)"] == 40
    assert list(book["重点未治理集聚点"]["集聚点"]) == ["丙村"]
    assert "synthetic" not in result.output


def test_cli_rejects_a_survey_without_status(tmp_path):
    from click.testing import CliRunner

    from cqgis.cli import main

    survey = tmp_path / "s.csv"
    survey.write_text("名称,经度,纬度\n甲村,108.38,30.81\n", encoding="utf-8")
    result = CliRunner().invoke(main.cli, ["analyze", "rural-sewage", str(survey), "-o", str(tmp_path / "o.xlsx")])
    assert result.exit_code == 1
    assert "required column 'has_sewage_treatment' is missing" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o.xlsx").exists()


def test_cli_header_only_survey_is_a_clean_error(tmp_path):
    from click.testing import CliRunner

    from cqgis.cli import main

    survey = tmp_path / "s.csv"
    survey.write_text("名称,经度,纬度,是否治理\n", encoding="utf-8")
    result = CliRunner().invoke(main.cli, ["analyze", "rural-sewage", str(survey), "-o", str(tmp_path / "o.xlsx")])
    assert result.exit_code == 1
    assert "no data rows" in result.output and "Traceback" not in result.output


def test_cli_leaves_out_settlements_in_sichuan(tmp_path, districts):
    from click.testing import CliRunner

    from cqgis.cli import main

    survey = tmp_path / "s.csv"
    survey.write_text(
        "名称,经度,纬度,户数,是否治理\n甲村,108.38,30.81,100,是\n四川村,106.44,30.54,300,否\n", encoding="utf-8"
    )
    output = tmp_path / "o.xlsx"
    result = CliRunner().invoke(main.cli, ["analyze", "rural-sewage", str(survey), "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert "四川村 (row 3)" in result.output
    rates = pd.read_excel(output, sheet_name="区县治理率").set_index("区县")
    assert rates.loc["全市", "集聚点数"] == 1
    assert pd.read_excel(output, sheet_name="重点未治理集聚点").empty
