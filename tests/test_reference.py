"""The vectorised engine against the plain object-per-agent Mesa reference (benchmarks/).

Both start from the same end-2021 state and draw the same random numbers (the engine's
per-month, per-mechanism streams) in the same order,
so they must agree to floating-point summation error: the tolerance is a relative 1e-9.
"""

import numpy as np
import pytest

from benchmarks.reference_mesa import FIRM_RULES_ONLY, ReferenceModel
from model.economy import YichunModel
from model.statistics import YEARLY, YEARS


@pytest.mark.parametrize("seed", [3, 4])
def test_engine_matches_object_per_agent_reference(small_baseline, seed):
    scenario = small_baseline.updated({**FIRM_RULES_ONLY, "run": {"population_scale": 0.03}})
    engine = YichunModel(scenario, seed=seed).run()
    reference = ReferenceModel(scenario, seed=seed).run()
    assert 250 <= len(reference.firms) <= 600          # a few hundred firms
    for year in range(2022, 2027):
        ref = reference.yearly[year]
        for stat in ("revenue", "profit", "value_added", "value_added_prevprice", "above_scale_firms",
                     "firms_alive"):
            ours = engine.recorder.yearly[YEARS.index(year), 0, YEARLY.index(stat)]
            assert ours == pytest.approx(ref[stat], rel=1e-9, abs=1e-9), (year, stat)
    alive = np.array([f.alive for f in reference.firms])
    assert np.array_equal(alive, engine.f.alive)
    assert alive.sum() < alive.size                    # exits happened: the rule was exercised
