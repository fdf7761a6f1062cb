"""layers/data/targets.csv must hold every quantitative target of the plan's text.

The plan's full text (the seed) lives outside the repository, in
<repo parent>/shared/seed/*.txt. The seed we have is a Traditional-character
conversion of the Simplified original, so everything below accepts both scripts.

What is checked:

* every number-with-unit in a clause that states a 2025 / 十四五 target has a row
  in targets.csv, in the same section and as many times as the text states it;
  a 全部 ("all") in such a clause is an unprinted 100 % target and needs a row too;
* every other number-with-unit anywhere in the plan is either a target row
  (e.g. the undated 公务用车 30 %) or on the short documented NON_TARGETS list;
* every row's number really occurs in its section (catches typos in the table);
* every row is filled in: indicator, value, unit, comparator, section, departments.

Numbers are compared per (section, value, unit), counted, so that deleting
any one row makes the test fail even where a figure such as 100 % occurs in
several sections.
"""

import csv
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TARGETS_CSV = REPO / "layers" / "data" / "targets.csv"
SEED_DIR = Path(__file__).resolve().parents[2] / "shared" / "seed"

COLUMNS = [
    "id", "indicator", "value", "unit", "comparator", "baseline_year", "scope",
    "layer", "section", "lead_departments", "period", "notes",
]
COMPARATORS = {"≥", "≤", "=", "下降", "左右"}
SCOPES = {"city", "district", "zone", "sector"}
LAYERS = {"", "districts", "sections", "parks", "h2_stations", "rural_settlements"}
PERIODS = {"2025", "十四五"}

# Units as the plan prints them (Traditional and Simplified) -> unit in targets.csv.
# Longest spellings first so that 万吨/日 is not read as 万吨.
UNITS = {
    "萬噸/日": "万吨/日", "万吨/日": "万吨/日",
    "蒸噸/小時": "蒸吨/小时", "蒸吨/小时": "蒸吨/小时",
    "噸標準煤": "吨标准煤", "吨标准煤": "吨标准煤",
    "萬平方米": "万平方米", "万平方米": "万平方米",
    "萬噸": "万吨", "万吨": "万吨",
    "萬輛": "万辆", "万辆": "万辆",
    "mg/L": "mg/L",
    "%": "%", "％": "%",
    "個": "个", "个": "个",
    "家": "家",
    "戶": "户", "户": "户",
    "人": "人",
}
UNIT_RE = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
# A number not glued to a preceding digit or dot, directly followed by a unit.
NUMBER_UNIT = re.compile(rf"(?<![\d.])(\d+(?:\.\d+)?)\s*({UNIT_RE})")

# A clause states a target when it says 到2025年 or “十四五”期间 (any quotes, either script).
TARGET_MARKER = re.compile(r"到\s*2025\s*年|十四五[”\"」』]?\s*期[间間]")

# Numbers-with-units in the plan that are NOT targets, keyed like the targets.
# None of them sits in a 到2025年 / 十四五期间 clause; they are listed so that the
# whole-text sweep below can prove nothing else was missed.
NON_TARGETS = {
    # 年产废量1万吨以上的企业: size threshold for firms that should build
    # hazardous-waste facilities, not a quantity to reach.
    ("三(二)2", Decimal("1"), "万吨"): "threshold",
    # 常住人口200户或500人以上的农村集聚点: defines which settlements get
    # sewage treatment first (a priority class), not a target.
    ("三(五)3", Decimal("200"), "户"): "priority-class definition",
    ("三(五)3", Decimal("500"), "人"): "priority-class definition",
    # 淘汰35蒸吨/小时以下燃煤锅炉 / 65蒸吨/小时以上锅炉超低排放改造: boiler-size
    # thresholds that say which boilers a measure covers; undated.
    ("三(八)2", Decimal("35"), "蒸吨/小时"): "boiler-size threshold",
    ("三(八)2", Decimal("65"), "蒸吨/小时"): "boiler-size threshold",
    # 进水生化需氧量浓度低于100mg/L的污水厂实施一厂一策: trigger for a plant
    # retrofit, not a concentration to reach.
    ("三(十)1", Decimal("100"), "mg/L"): "retrofit trigger",
    # 年综合能源消费量5000吨标准煤及以上的两高项目: project-size threshold.
    ("四(三)2", Decimal("5000"), "吨标准煤"): "project-size threshold",
}

# Figures that one clause gives to several indicators at once; each occurrence
# needs that many rows ("one row per indicator").
SHARED_FIGURES = {
    # 主要农作物农药、化肥利用率达到43%: pesticide and fertilizer utilisation rates.
    ("三(五)2", Decimal("43"), "%"): 2,
}

# Section headings: "三、…", "(一)…" / "（一）…", "1.…" / "1．…".
TOP_HEADING = re.compile(r"^([一二三四五六七八九十]+)、")
SUB_HEADING = re.compile(r"^[(（]([一二三四五六七八九十]+)[)）]")
ITEM_HEADING = re.compile(r"^(\d{1,2})[.．](?!\d)")


# ---------------------------------------------------------------- helpers


def seed_files():
    if not SEED_DIR.is_dir():
        pytest.skip(f"plan text not available: {SEED_DIR} does not exist")
    files = sorted(SEED_DIR.glob("*.txt"))
    if not files:
        pytest.skip(f"plan text not available: no *.txt in {SEED_DIR}")
    return files


def sectioned_lines(text):
    """Yield (section, line), section written like the table: 二, 三(一)1, 四(三)2."""
    top = sub = item = ""
    for raw in text.splitlines():
        line = raw.strip()
        if m := TOP_HEADING.match(line):
            top, sub, item = m.group(1), "", ""
        elif m := SUB_HEADING.match(line):
            sub, item = f"({m.group(1)})", ""
        elif m := ITEM_HEADING.match(line):
            item = m.group(1)
        yield top + sub + item, line


def target_clauses(line):
    """Clauses of a line that state a 2025 / 十四五 target.

    Sentences end at 。; clauses within a sentence at ；/; (the converted seed
    uses ASCII ';'). A clause after a semicolon continues the sentence's
    到2025年 (e.g. "…80%以上;主要农作物农药、化肥利用率达到43%…"), so once a
    sentence has named the target year, the rest of it counts as target text.
    """
    for sentence in re.split(r"[。]", line):
        dated = False
        for clause in re.split(r"[；;]", sentence):
            dated = dated or bool(TARGET_MARKER.search(clause))
            if dated:
                yield clause


def numbers_with_units(text):
    """[(Decimal value, unit as in targets.csv)] for every number followed by a unit."""
    return [(Decimal(n), UNITS[u]) for n, u in NUMBER_UNIT.findall(text)]


def implicit_full_targets(clause):
    """全部 ("all") in a target clause is a 100 % target without a printed number
    (重点行业和数据中心能效全部达到基准水平; 党政机关全部创建成节约型机关)."""
    return [(Decimal("100"), "%")] * clause.count("全部")


def stated_targets(files):
    """Counter of (section, value, unit) the plan states as 2025 / 十四五 targets."""
    found = Counter()
    for path in files:
        for section, line in sectioned_lines(path.read_text(encoding="utf-8")):
            for clause in target_clauses(line):
                for value, unit in numbers_with_units(clause) + implicit_full_targets(clause):
                    key = (section, value, unit)
                    if key not in NON_TARGETS:
                        found[key] += SHARED_FIGURES.get(key, 1)
    return found


def all_numbers(files):
    """Counter of (section, value, unit) for every number with a unit in the plan."""
    found = Counter()
    for path in files:
        for section, line in sectioned_lines(path.read_text(encoding="utf-8")):
            for value, unit in numbers_with_units(line):
                found[section, value, unit] += 1
    return found


def section_texts(files):
    """section -> its text, to check that a row's section exists."""
    texts = {}
    for path in files:
        for section, line in sectioned_lines(path.read_text(encoding="utf-8")):
            texts[section] = texts.get(section, "") + line + "\n"
    return texts


def read_rows():
    with TARGETS_CSV.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == COLUMNS
        return list(reader)


def table_counts(rows):
    return Counter((r["section"], Decimal(r["value"]), r["unit"]) for r in rows)


def shortfall(needed, have):
    """Keys that `needed` counts more often than `have`, with the numbers."""
    return {k: (n, have[k]) for k, n in needed.items() if have[k] < n}


# ---------------------------------------------------------------- tests


def test_rows_are_complete_and_well_formed():
    rows = read_rows()
    assert rows, "targets.csv is empty"
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "duplicate ids"
    for r in rows:
        where = r["id"] or r
        assert re.fullmatch(r"[a-z][a-z0-9_]*", r["id"]), where
        for col in ("indicator", "value", "unit", "section", "lead_departments"):
            assert r[col].strip(), f"{where}: empty {col}"
        Decimal(r["value"])  # a number only, no unit or words
        assert r["comparator"] in COMPARATORS, where
        assert r["scope"] in SCOPES, where
        assert r["layer"] in LAYERS, where
        assert r["period"] in PERIODS, where
        assert r["baseline_year"] in {"", "2020"}, where
        assert all(d.strip() for d in r["lead_departments"].split("、")), where


def test_every_stated_target_has_a_row():
    stated = stated_targets(seed_files())
    assert stated, "no 到2025年 / 十四五期间 clause found: is the seed the plan?"
    missing = shortfall(stated, table_counts(read_rows()))
    assert not missing, f"targets stated in the plan but missing from targets.csv: {missing}"


def test_every_number_in_the_plan_is_a_target_or_a_documented_non_target():
    # Catches targets written outside a 到2025年 clause (e.g. 公务用车 30 %) and
    # keeps NON_TARGETS honest: each entry must still occur in the text.
    everything = all_numbers(seed_files())
    table = table_counts(read_rows())
    unexplained = {
        k: n for k, n in everything.items() if k not in NON_TARGETS and table[k] < n
    }
    assert not unexplained, f"numbers neither in targets.csv nor in NON_TARGETS: {unexplained}"
    stale = set(NON_TARGETS) - set(everything)
    assert not stale, f"NON_TARGETS entries not found in the plan: {stale}"
    stale = set(SHARED_FIGURES) - set(everything)
    assert not stale, f"SHARED_FIGURES entries not found in the plan: {stale}"


def test_every_row_is_stated_in_its_section():
    files = seed_files()
    texts = section_texts(files)
    in_text = all_numbers(files)
    stated = stated_targets(files)
    for r in read_rows():
        key = (r["section"], Decimal(r["value"]), r["unit"])
        assert r["section"] in texts, f"{r['id']}: no section {r['section']} in the plan"
        assert key in in_text or key in stated, (
            f"{r['id']}: {r['value']}{r['unit']} does not occur in section {r['section']}"
        )


# ---------------------------------------------------------------- what each row says
#
# The counts above would not notice two rows swapping their figures, comparators or
# scopes. The tests below read each row's own statement in the plan (in Simplified
# characters, through OpenCC) and check that the figure belongs to the row's
# indicator, that the plan's wording gives the row's comparator, and that the
# scope rule of layers/data/TARGETS_README.md gives the row's scope.

# Clauses end at these marks (the converted seed uses ASCII commas and semicolons).
CLAUSE_END = re.compile(r"[，,；;]")
# Places a zone-scope target names (TARGETS_README.md, scope rule 1).
ZONE_WORDS = ("中心城区", "渝入川")
# Sectors a sector-scope target is about (scope rule 2).
SECTOR_WORDS = (
    "工业", "重点行业", "数据中心", "园区", "工厂", "建筑", "汽车", "公务用车", "农作物", "农药", "化肥",
    "秸秆", "畜禽", "公共机构", "机关", "企业", "涂料", "油墨", "胶粘剂",
)
# A share of a total (占…比重, 占比) is a city-wide mix, not a rate a district is assessed on (rule 3 vs 4).
SHARE_OF_TOTAL = "占"


def simplified_sections(files):
    """section -> its text in Simplified characters."""
    from opencc_purepy import OpenCC

    converter = OpenCC("t2s")
    texts = {}
    for path in files:
        text = converter.convert(path.read_text(encoding="utf-8"))
        for section, line in sectioned_lines(text):
            texts[section] = texts.get(section, "") + line + "\n"
    return texts


def common_run(a, b):
    """Length of the longest run of characters that a and b share."""
    best = 0
    for i in range(len(a)):
        for j in range(i + best + 1, len(a) + 1):
            if a[i:j] in b:
                best = j - i
            else:
                break
    return best


def statement(row, text):
    """Where the plan states a row: (sentence, clause, index of the figure in the clause, figure end) or None.

    The figure is the row's number with its unit; a 100 % row without a printed
    number is stated by a clause saying 全部.
    """
    value, unit = Decimal(row["value"]), row["unit"]
    found = []
    for sentence in text.split("。"):
        for clause in CLAUSE_END.split(sentence):
            for m in NUMBER_UNIT.finditer(clause):
                if Decimal(m.group(1)) == value and UNITS[m.group(2)] == unit:
                    found.append((sentence, clause, m.start(), m.end()))
            if value == 100 and unit == "%" and "全部" in clause and not NUMBER_UNIT.search(clause):
                found.append((sentence, clause, clause.index("全部"), clause.index("全部")))
    # A figure printed in several clauses of a section belongs to the one naming the indicator.
    return max(found, key=lambda f: common_run(row["indicator"], f[1]), default=None)


def figure_windows(clause):
    """[(start, end, words before it)] of each figure of a clause; the words run from the previous figure."""
    windows, previous = [], 0
    for m in NUMBER_UNIT.finditer(clause):
        windows.append((m.start(), m.end(), clause[previous:m.start()]))
        previous = m.end()
    return windows


def bound_term(indicator, clause, start):
    """For "A、B、C…分别达到x、y、z": whether the row's indicator is the term in the figure's position."""
    terms = clause[: clause.index("分别")].split("、")
    figures = [m.start() for m in NUMBER_UNIT.finditer(clause, clause.index("分别"))]
    position = figures.index(start)
    # The last term carries the words all terms share ("…重点工程减排量"); take them off the indicator.
    shared = 0
    while shared < min(len(indicator), len(terms[-1])) and indicator[-1 - shared] == terms[-1][-1 - shared]:
        shared += 1
    head = indicator[: len(indicator) - shared]
    if not head:
        return position == len(terms) - 1
    scores = [common_run(head, term) for term in terms]
    return scores.index(max(scores)) == position


def words_for(indicator, clause, start, end):
    """The words naming a figure: those before it, or after it when the plan puts the figure first (创建50家…)."""
    before = next((w for s, e, w in figure_windows(clause) if s == start), clause[:start])
    after = clause[end:]
    return before if common_run(indicator, before) >= min(4, len(indicator)) else after


def comparator_of(clause, start, end):
    """The comparator the plan's wording gives a figure (TARGETS_README.md, comparator rule)."""
    lead = clause[clause.index("分别") : start] if "分别" in clause[:start] else clause[:start]
    tail = clause[end : end + 2]
    if tail == "左右":
        return "左右"
    if tail == "以上" or any(w in lead[-4:] for w in ("超过", "不少于", "不低于")):
        return "≥"
    if tail == "以下" or any(w in lead[-4:] for w in ("不超过", "不高于")):
        return "≤"
    if re.search(r"(下降|降低)(?!至)", lead):
        return "下降"
    return "="


def scope_of(row, sentence):
    """The scope rule of TARGETS_README.md applied to a row and the sentence that states it."""
    if any(w in sentence for w in ZONE_WORDS):
        return "zone"
    if any(w in row["indicator"] or w in sentence for w in SECTOR_WORDS):
        return "sector"
    if row["unit"] == "%" and SHARE_OF_TOTAL not in row["indicator"]:
        return "district"
    return "city"


def check_row(row, texts, rows):
    """Problems with one row against the plan's text (an empty list when it says what the plan says).

    ``rows`` are all rows: the words at the row's figure must fit its indicator
    no worse than the indicator of any row of the section claiming another figure.
    """
    found = statement(row, texts.get(row["section"], ""))
    if found is None:
        return [f"{row['id']}: {row['value']}{row['unit']} not stated in {row['section']}"]
    sentence, clause, start, end = found
    indicator, problems = row["indicator"], []
    if "分别" in clause[:start]:
        if not bound_term(indicator, clause, start):
            problems.append(f"{row['id']}: {row['value']}{row['unit']} belongs to another term of '{clause}'")
    elif start != end:
        words = words_for(indicator, clause, start, end)
        own = common_run(indicator, words)
        if own < min(4, len(indicator)):
            problems.append(f"{row['id']}: '{indicator}' is not what '{clause}' says of {row['value']}{row['unit']}")
        others = [common_run(indicator, w) for s, e, w in figure_windows(clause) if s != start]
        if any(score > own for score in others):
            problems.append(f"{row['id']}: '{indicator}' fits another figure of '{clause}' better")
        rivals = [
            r["id"] for r in rows
            if r["section"] == row["section"] and (r["value"], r["unit"]) != (row["value"], row["unit"])
            and common_run(r["indicator"], words) > own
        ]
        if rivals:
            problems.append(f"{row['id']}: the plan's words for {row['value']}{row['unit']} name {rivals[0]}")
    elif common_run(indicator, clause) < min(4, len(indicator)):
        problems.append(f"{row['id']}: '{indicator}' is not what '{clause}' says")
    comparator = comparator_of(clause, start, end) if start != end else "="
    if row["comparator"] != comparator:
        problems.append(f"{row['id']}: comparator {row['comparator']}, the plan's wording gives {comparator} ('{clause}')")
    scope = scope_of(row, sentence)
    if row["scope"] != scope:
        problems.append(f"{row['id']}: scope {row['scope']}, the scope rule gives {scope} ('{sentence[:60]}')")
    return problems


def test_every_row_says_what_the_plan_says_of_its_figure():
    texts = simplified_sections(seed_files())
    rows = read_rows()
    problems = [p for row in rows for p in check_row(row, texts, rows)]
    assert not problems, "\n".join(problems)


def _swapped(rows, first, second, column):
    by_id = {r["id"]: dict(r) for r in rows}
    by_id[first][column], by_id[second][column] = by_id[second][column], by_id[first][column]
    return list(by_id.values())


@pytest.mark.parametrize(
    ("first", "second", "column"),
    [
        # Same section, unit and comparator: only the binding of figure to wording tells them apart.
        ("green_pest_control_coverage", "unified_pest_control_coverage", "value"),
        ("cod_key_project_reduction", "vocs_key_project_reduction", "value"),
        ("solvent_industrial_coating_use_share", "solvent_ink_use_share", "value"),
        ("public_institution_energy_per_floor_area", "public_institution_energy_per_capita", "value"),
        ("straw_utilization_rate", "livestock_manure_utilization_rate", "value"),
        ("non_fossil_energy_share", "coal_consumption_share", "comparator"),
        ("benchmark_capacity_share", "key_industry_datacenter_baseline_compliance", "comparator"),
        ("urban_sewage_treatment_rate", "non_fossil_energy_share", "scope"),
        ("public_transport_mode_share_central_city", "green_building_standard_new_urban_buildings", "scope"),
        ("cod_key_project_reduction", "energy_intensity_gdp", "scope"),
    ],
)
def test_swapping_two_rows_fails(first, second, column):
    texts = simplified_sections(seed_files())
    rows = read_rows()
    assert not [p for row in rows if row["id"] in (first, second) for p in check_row(row, texts, rows)]
    swapped = _swapped(rows, first, second, column)
    changed = [row for row in swapped if row["id"] in (first, second)]
    assert [p for row in changed for p in check_row(row, texts, swapped)], f"swapping {column} of {first} and {second} went unnoticed"
