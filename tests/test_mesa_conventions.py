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


def test_solara_viz_renders_the_model_with_a_plot():
    """Mesa's own SolaraViz accepts the model's constructor (keywords with defaults and a
    var-keyword named ``kwargs``) and renders it with a plot of a reporter."""
    import solara
    from mesa.visualization import SolaraViz, make_plot_component

    model = YichunModel(population_scale=0.05, seed=1)
    page = SolaraViz(model, components=[make_plot_component("revenue")],
                     model_params={"population_scale": 0.05, "seed": 1}, name="Yichun")
    box, _ = solara.render(page, handle_error=False)
    assert box is not None


def test_batch_run_iterations_differ_without_a_seed():
    """Seed None is fresh entropy, as in Mesa: three iterations, three economies."""
    results = mesa.batch_run(YichunModel, parameters={"population_scale": 0.05}, iterations=3,
                             max_steps=2, number_processes=1, display_progress=False)
    assert len({round(row["revenue"], 9) for row in results}) == 3


def test_agents_are_firms_with_names_and_a_replaceable_collector():
    model = YichunModel(seed=1, agent_reporters=True)      # full size: the anchors are there
    assert all(hasattr(a, "alive") for a in model.agents)          # no government among them
    named = [a for a in model.agents if a.anchor]
    assert named and all(isinstance(a.anchor, str) for a in named)
    assert all(a.anchor is None for a in model.agents if a.anchor_index < 0)
    assert named[0].anchor in repr(named[0])
    model.run(2)
    firms = model.datacollector.get_agent_vars_dataframe()
    assert {"revenue", "anchor", "alive"} <= set(firms.columns) and len(firms) > 0
    model.datacollector = mesa.DataCollector(model_reporters={"t": lambda m: m.t})
    model.step()
    assert model.datacollector.get_model_vars_dataframe()["t"].tolist() == [3]
