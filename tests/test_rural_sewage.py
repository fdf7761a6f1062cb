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
