"""Scenario files: merge rules, every class of error with its message, shipped scenarios."""

import numpy as np
import pytest

from model.economy import YichunModel
from model.errors import InputError
from model.exogenous import lithium_price_path
from model.paths import SCENARIO_DIR
from model.scenario import deep_merge, load_scenario
from tests.conftest import BASELINE, write

SHIPPED = sorted(SCENARIO_DIR.glob("*.yaml"))


def test_deep_merge_rules():
    base = {"a": {"b": 1, "c": {"d": 2}}, "lst": [1, 2], "x": 1}
    over = {"a": {"c": {"e": 3}}, "lst": [9], "y": 2}
    assert deep_merge(base, over) == {"a": {"b": 1, "c": {"d": 2, "e": 3}}, "lst": [9], "x": 1,
                                      "y": 2}
    assert base["a"]["c"] == {"d": 2}  # inputs untouched


def test_extends_overrides_only_what_it_states(tmp_path):
    child = write(tmp_path, "child.yaml", f"""extends: {BASELINE}
name: child
policy:
  instruments:
    tech_upgrade_fund:
      subsidy_rate: 0.4
parameters:
  real_demand_growth: {{textile: 0.1}}
""")
    base, sc = load_scenario(BASELINE), load_scenario(child)
    fund = sc.spec.policy.instruments.tech_upgrade_fund
    base_fund = base.spec.policy.instruments.tech_upgrade_fund
    assert fund.subsidy_rate == 0.4 and fund.per_project_cap == base_fund.per_project_cap
    assert sc.parameters.values["real_demand_growth"]["textile"] == 0.1
    growth, base_growth = sc.parameters.values["real_demand_growth"], base.parameters.values[
        "real_demand_growth"]
    assert growth["food"] == base_growth["food"]
    assert sc.spec.exogenous.lithium_price.points == base.spec.exogenous.lithium_price.points
    assert [p.name for p in sc.files] == ["baseline.yaml", "child.yaml"]


def _error(tmp_path, text, name="s.yaml"):
    path = write(tmp_path, name, text.replace("{base}", str(BASELINE)))
    with pytest.raises(InputError) as err:
        load_scenario(path)
    return str(err.value)


def test_unknown_key_names_file_line_and_key(tmp_path):
    msg = _error(tmp_path, "extends: {base}\nname: x\npolicy:\n  attraction:\n    projectz: 3\n")
    assert msg.startswith(f"{tmp_path / 's.yaml'}:5:")
    assert "policy.attraction.projectz" in msg and "unknown key" in msg


def test_wrong_type(tmp_path):
    msg = _error(tmp_path, "extends: {base}\nname: x\nrun:\n  replications: many\n")
    assert "run.replications" in msg and ":4:" in msg and "integer" in msg


def test_out_of_range(tmp_path):
    msg = _error(tmp_path, "extends: {base}\nname: x\npolicy:\n  chain_leaders:\n"
                           "    max_per_chain: 500\n")
    assert "policy.chain_leaders.max_per_chain" in msg and "less than or equal to 50" in msg
    msg = _error(tmp_path, "extends: {base}\nname: x\nparameters:\n  expansion_lag_months: 0\n")
    assert "parameters.expansion_lag_months" in msg and "outside its documented range" in msg
    assert ":4:" in msg


@pytest.mark.parametrize("text", [
    "extends: {base}\nname: x\npolicy:\n  approval:\n    reform_start: 2023-13\n",
    "extends: {base}\nname: x\nexogenous:\n  lithium_price:\n    points:\n"
    "      - {date: 2026-02-30, value: 1}\n",
])
def test_bad_date(tmp_path, text):
    msg = _error(tmp_path, text)
    assert "month" in msg or "date" in msg
    assert ":5:" in msg or ":6:" in msg


def test_missing_parent_file(tmp_path):
    msg = _error(tmp_path, "extends: nowhere.yaml\nname: x\n")
    assert "extends" in msg and "parent file not found: nowhere.yaml" in msg


def test_cycle_of_extends(tmp_path):
    write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\nname: b\n")
    with pytest.raises(InputError) as err:
        load_scenario(tmp_path / "a.yaml")
    assert "cycle of extends: a.yaml -> b.yaml -> a.yaml" in str(err.value)


def test_malformed_yaml_names_line(tmp_path):
    msg = _error(tmp_path, "name: x\npolicy: [\n")
    assert "malformed YAML" in msg and "s.yaml:" in msg


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenario_validates_and_runs(path):
    scenario = load_scenario(path)
    assert scenario.spec.question, "each shipped scenario states its question"
    assert scenario.spec.question_zh, "... and in Chinese"
    assert path.read_text(encoding="utf-8").startswith("# Question:")
    small = scenario.updated({"run": {"population_scale": 0.2}})
    model = YichunModel(small, seed=1).run()
    assert model.recorder.yearly[-1, 0, 0] > 0


def test_scenarios_differ_where_they_say(tmp_path):
    slump = load_scenario(SCENARIO_DIR / "lithium_slump.yaml")
    recovery = load_scenario(SCENARIO_DIR / "lithium_recovery.yaml")
    rng = np.random.default_rng(0)
    calm = {"exogenous": {"lithium_price": {"monthly_volatility": 0}}}
    low = lithium_price_path(slump.updated(calm), rng)
    high = lithium_price_path(recovery.updated(calm), rng)
    assert low[-1] == pytest.approx(50000, rel=0.03) and high[-1] == pytest.approx(150000, rel=0.03)
    assert np.array_equal(low[:40], high[:40])  # the data are shared


def test_every_error_at_once_in_plain_words(tmp_path):
    """All of a file's problems are reported together, one line each with file:line and key, in
    plain words (no library internals), with a did-you-mean for a misspelt key."""
    msg = _error(tmp_path, "extends: {base}\nname: x\npolicy:\n  attraction:\n"
                           "    projects_per_yaer: 400\n  instruments:\n    tech_upgrade_fund:\n"
                           "      budget_per_year: lots\nrun:\n  replications: 0\n")
    lines = msg.splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"{tmp_path / 's.yaml'}:") for line in lines)
    assert "did you mean 'projects_per_year'?" in lines[0] and ":5:" in lines[0]
    assert "budget_per_year" in lines[1] and "expected a number, got 'lots'" in lines[1]
    assert "run.replications" in lines[2] and ":10:" in lines[2]
    for internal in ("Value error", "float_parsing", "dict[int,float]", "pydantic", "…"):
        assert internal not in msg


def test_either_date_format_is_accepted_and_normalised(tmp_path):
    path = write(tmp_path, "d.yaml", f"""extends: {BASELINE}
name: d
exogenous:
  lithium_price:
    points:
      - {{date: 2026-06, value: 90000}}
  shocks:
    - {{start: 2024-03-15, end: 2024-06, segments: [li_upstream], capacity_factor: 0.9}}
""")
    sc = load_scenario(path)
    assert str(sc.spec.exogenous.lithium_price.points[-1].date) == "2026-06-01"
    assert (sc.spec.exogenous.shocks[-1].start, sc.spec.exogenous.shocks[-1].end) == ("2024-03", "2024-06")


def test_shipped_scenarios_by_name_and_extends_by_name(tmp_path):
    assert load_scenario("baseline").name == "baseline"
    child = write(tmp_path, "child.yaml", "extends: baseline\nname: child\n")
    assert [p.name for p in load_scenario(child).files] == ["baseline.yaml", "child.yaml"]
    with pytest.raises(InputError) as err:
        load_scenario("baselin")
    assert "did you mean 'baseline'?" in str(err.value)


def test_committed_json_schema_is_current():
    """scenarios/scenario.schema.json (for editors) is what `yichun-abm schema` prints now."""
    import json

    from model.scenario import scenario_json_schema

    committed = json.loads((SCENARIO_DIR / "scenario.schema.json").read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(scenario_json_schema())), \
        "rebuild with: yichun-abm schema --out scenarios/scenario.schema.json"


def test_a_new_question_drops_the_inherited_chinese_one(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text("extends: baseline\nname: child\nquestion: What if?\n", encoding="utf-8")
    assert load_scenario(child).spec.question_zh == ""
    same = tmp_path / "same.yaml"
    same.write_text("extends: baseline\nname: same\n", encoding="utf-8")
    assert load_scenario(same).spec.question_zh == load_scenario("baseline").spec.question_zh
