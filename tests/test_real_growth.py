"""Real value-added growth as Chinese statistics compute it (same firms, last year's prices)."""

import numpy as np
import pytest

from model.economy import YichunModel
from model.runner import YEARLY_STATS, collect
from model.statistics import MONTHLY, comparable_price_factors
from model.structure import SCOPES


def stationary(scenario):
    """No entry or exit, no attraction, no innovation, no shocks, constant prices, flat demand."""
    calm = scenario.updated({
        "policy": {"attraction": {"projects_per_year": 0}},
        "exogenous": {"lithium_price": {"monthly_volatility": 0.0}, "shocks": []},
    }).with_parameters({
        "small_firm_pool_growth": -0.2, "projects_per_year_before_2022": 0,
        "rival_productivity_growth": 0.0, "leader_local_sourcing_share": 0.05,
        "leader_matched_suppliers": 0.0,
        # the refiners sell what they can make: start them at the ceiling and keep it there
        "initial_utilisation_lithium": 0.95, "max_utilisation": 0.95, "expansion_speed": 0.0,
        "demand_noise_sd": 0.0, "capacity_pull_lithium": 0.0, "capacity_pull_other": 0.0,
        "capacity_pull_cells": 0.0,
        "rd_success_rate": 0.0, "upgrade_review_probability": 0.0, "digital_review_probability": 0.0,
        "exit_probability": 0.0, "below_scale_exit_rate": 0.0, "loss_shrink_rate": 0.0,
        "appeal_volatility": 0.0, "young_firm_growth": 0.0,
    })
    model = YichunModel(calm, seed=5)
    c = model.conditions
    c.market[:] = 1.0
    c.real_demand[:] = 1.0
    c.price[:] = 1.0
    c.official_adjust[:] = 1.0
    c.other_price[:] = 1.0
    c.lithium_index[:] = 1.0
    return model


def test_flat_economy_has_zero_real_growth(small_baseline):
    """With flat demand, constant prices, no innovation and no entry, real growth is 0 ± 0.2 pp
    every year: the production rule and the statistics add no artefact of their own. (Selection
    — loss-makers shrinking and exiting, their customers moving to more productive firms — and
    firm-level demand shocks, whose losers drop below the line and out of the same-firm
    comparison, move same-firm growth too; they are switched off here with the other sources
    of growth, and measured in test_line_crossing_bias_is_small.)"""
    model = stationary(small_baseline).run(36)
    growth = collect(model).yearly[:, 0, YEARLY_STATS.index("value_added_real_growth_pct")]
    assert np.abs(growth[1:4]) == pytest.approx(np.zeros(3), abs=0.2)


def test_new_plant_growth_is_its_whole_output(small_model):
    """同口径: a firm that did not produce last year has a zero base, so all of its output at
    last year's prices is growth, and counts as the new plants' contribution."""
    model = small_model
    for _ in range(14):
        model.step()
    rec = model.recorder
    t = model.t - 1
    new = MONTHLY.index("value_added_base_new")
    assert rec.monthly[t, 0, new] <= rec.monthly[t, 0, MONTHLY.index("value_added_base")]
    born = model.f.born_month >= 12
    assert np.all(rec.revenue_last_year[:, : model.f.n][:, born] == 0.0)


def test_same_firm_growth_ignores_firms_that_left(small_model):
    """A firm that leaves the statistics drops out of both periods, not only the current one."""
    model = small_model
    for _ in range(13):
        model.step()
    f = model.f
    big = int(np.argmax(f.revenue_last_year * f.above_scale))
    city = SCOPES.index("total")
    base_before = model.recorder.firm_sums()["value_added_base"][city]
    f.above_scale[big] = False
    sums = model.recorder.firm_sums()
    _, base_factor = comparable_price_factors(
        model.segment_va_ratio, model.deflator_last_year, model.official_price,
        model.recorder.official_last_year[model.t % 12])
    assert base_before - sums["value_added_base"][city] == pytest.approx(
        model.recorder.revenue_last_year[model.t % 12, big] * base_factor[f.segment[big]])
    assert sums["value_added_base"][city] < base_before

def test_real_growth_is_reported_for_every_scope(baseline_run):
    g = baseline_run.yearly[1:, :, YEARLY_STATS.index("value_added_real_growth_pct")]
    assert np.isfinite(g[:, [SCOPES.index(s) for s in ("total", "lithium", "etdz")]]).all()


def test_line_crossing_bias_is_small(small_baseline):
    """Same-firm (同口径) growth is biased up when firms hit by bad shocks drop out of the
    statistics while those hit by good ones enter: with firm-level demand shocks on but the
    economy otherwise flat, the bias stays under 1 pp a year."""
    calm = small_baseline.with_parameters({"appeal_volatility": 0.07})
    model = stationary(calm)
    model.params.override("appeal_volatility", 0.07)
    model.params.override("young_firm_growth", 0.1)
    model.run(36)
    growth = collect(model).yearly[:, 0, YEARLY_STATS.index("value_added_real_growth_pct")]
    assert np.all(np.abs(growth[1:4]) < 1.0)
