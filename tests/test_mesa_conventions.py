"""The model follows Mesa's conventions: built from keywords with defaults, so Mesa's own tools
(batch_run, DataCollector reporters) run it unchanged."""

import mesa
import numpy as np

from model.economy import YichunModel
from model.statistics import MONTHLY


def test_batch_run_runs_the_model_with_its_defaults():
    results = mesa.batch_run(YichunModel, parameters={"population_scale": 0.05, "seed": [1, 2]},
                             iterations=2, max_steps=3, number_processes=1, data_collection_period=1,
                             display_progress=False)
    assert len(results) == 2 * 2 * 4           # 2 seeds x 2 iterations x (max_steps + 1) months
    assert all(row["revenue"] > 0 for row in results)
    # the same seed gives the same economy in both iterations; another seed another one
    last = {(row["seed"], row["iteration"]): row["revenue"] for row in results if row["Step"] == 3}
    assert last[(1, 0)] == last[(1, 1)] != last[(2, 0)] == last[(2, 1)]


def test_keyword_levers_reach_the_scenario():
    base = YichunModel(population_scale=0.05, seed=3)
    push = YichunModel("baseline", seed=3, population_scale=0.05,
                       **{"policy.attraction.projects_per_year": 900,
                          "parameters.spillover_share": 0.2})
    assert push.policy.attraction.projects_per_year == 900
    assert push.params.spillover_share == 0.2
    assert base.params.spillover_share != 0.2
    for m in (base, push):
        m.run(14)
    frames = [m.datacollector.get_model_vars_dataframe() for m in (base, push)]
    assert len(frames[0]) == 14 and np.isfinite(frames[0]["revenue"]).all()
    signed = [m.recorder.monthly[:14, 0, MONTHLY.index("projects_signed")].sum() for m in (base, push)]
    assert signed[1] > signed[0]
    assert base.running and YichunModel(population_scale=0.05).run().running is False
