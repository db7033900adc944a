"""Scenario discovery and the explored space."""

import numpy as np
import pandas as pd
import pytest

from model.analysis.discovery import discover
from model.analysis.space import apply, load_space, public_money
from model.errors import InputError
from model.scenario import load_scenario
from tests.conftest import BASELINE, write


def test_prim_recovers_a_planted_box():
    """Met exactly when x0 > 0.6 and x1 < 0.3 (x2 irrelevant): PRIM finds that box."""
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.uniform(0, 1, (3000, 3)), columns=["x0", "x1", "x2"])
    table = x.assign(met_t=((x.x0 > 0.6) & (x.x1 < 0.3)).astype(float))
    box = discover(table, ["x0", "x1", "x2"], "t", threshold=0.9)
    assert set(box.limits) == {"x0", "x1"}
    assert box.limits["x0"][0] == pytest.approx(0.6, abs=0.05)
    assert box.limits["x1"][1] == pytest.approx(0.3, abs=0.05)
    assert box.density >= 0.9 and box.coverage >= 0.8


def test_space_sets_the_scenario_keys():
    space = load_space()
    scenario = load_scenario(BASELINE)
    changed = apply(scenario, space, {"upgrade_fund": 7.5, "carbonate_price_2026": 150000.0,
                                      "national_battery_growth": 0.3})
    fund = changed.spec.policy.instruments.tech_upgrade_fund
    assert fund.budget_per_year == 7.5
    assert changed.data["exogenous"]["lithium_price"]["points"][0]["value"] == 150000.0
    assert changed.parameters.values["national_growth_after_2024"] == 0.3
    assert public_money(space, {"upgrade_fund": 7.5, "sme_fund": 1.0}) == pytest.approx(34.0)


def test_a_range_outside_its_documented_limit_is_an_error(tmp_path):
    from model.analysis.space import SPACE_FILE

    text = SPACE_FILE.read_text(encoding="utf-8").replace("range: [0.0, 5.0]\n    limit: [0.0, 5.0]",
                                                           "range: [0.0, 9.0]\n    limit: [0.0, 5.0]")
    path = write(tmp_path, "space.yaml", text)
    with pytest.raises(InputError, match="leaves the documented limit") as err:
        load_space(path)
    assert "space.yaml" in str(err.value) and "levers.6" in str(err.value)
