"""The channels issue 25 added, each tested for its economic direction: TFP raises what a plant
can make, chain leaders' supplier matching brings purchases home, refiners sell what they can
make, rivals' productivity gains take customers, entry replaces and grows the pool, and the
carbonate-indexed margins of materials and cells stay positive through the boom."""

import copy

import numpy as np
import pytest

from model.mechanisms import demography, innovation, market, production
from model.population import lithium_input_shares
from model.runner import YEARLY_STATS
from model.structure import SCOPES, SEGMENT_INDEX
from tests.test_mechanisms import advanced


def test_tfp_gain_raises_capacity_and_lowers_unit_cost(small_model):
    model = small_model
    f = model.f
    firm = int(np.argmax(f.capacity * f.alive))
    capacity, cost = f.capacity[firm], production.unit_cash_cost(model)[firm]
    innovation.raise_tfp(model, np.array([firm]), 0.10)
    assert f.capacity[firm] == pytest.approx(1.10 * capacity)          # neutral TFP: elasticity 1
    assert production.unit_cash_cost(model)[firm] == pytest.approx(cost / 1.10)


def test_without_the_output_channel_tfp_only_lowers_cost(small_model):
    model = small_model
    model.params = copy.deepcopy(model.params)
    model.params.override("tfp_output_elasticity", 0.0)
    f = model.f
    firm = int(np.argmax(f.capacity * f.alive))
    capacity = f.capacity[firm]
    innovation.raise_tfp(model, np.array([firm]), 0.10)
    assert f.capacity[firm] == capacity


def test_a_chain_leaders_matched_purchases_are_new_demand_for_its_suppliers(small_model):
    model = advanced(small_model, 2)
    f = model.f
    linked = (f.supplier_of >= 0) & f.alive
    buyers = np.unique(f.supplier_of[linked])
    assert buyers.size >= 1
    pull, substituted = market.local_supplier_pull(model)
    assert substituted.sum() == 0.0                         # no leaders yet: nothing new
    leaders = copy.deepcopy(model)
    leaders.f.chain_leader[buyers] = True
    leader_pull, leader_substituted = market.local_supplier_pull(leaders)
    p = model.params
    extra = (p.leader_local_sourcing_share - p.local_sourcing_share) / p.local_sourcing_share
    assert leader_substituted.sum() == pytest.approx(extra * pull.sum())
    assert leader_pull.sum() == pytest.approx(pull.sum() + leader_substituted.sum())
    # the same month's allocation (same random draws) with and without the leaders: their
    # suppliers' segments sell more, by what was bought outside the city before
    for m in (model, leaders):
        market.allocate_demand(m)
    segments = np.unique(f.segment[linked])
    total = {id(m): np.bincount(m.f.segment, m.f.demand, minlength=m.n_segments)[segments].sum()
             for m in (model, leaders)}
    assert total[id(leaders)] > total[id(model)]


def test_refiners_sell_what_they_can_make(small_model):
    model = advanced(small_model, 3)
    up = SEGMENT_INDEX["li_upstream"]
    demand = market.segment_demand(model)
    usable = (model.base_capacity[up] * model.relative_capacity[up]
              * model.conditions.capacity_factor[model.t, up] * model.params.max_utilisation)
    assert demand[up] == pytest.approx(usable)


def test_rivals_productivity_gains_take_customers(small_model):
    model = advanced(small_model, 6)
    demand = market.segment_demand(model)
    model.params = copy.deepcopy(model.params)
    model.params.override("rival_productivity_growth", 0.06)
    faster_rivals = market.segment_demand(model)
    other = SEGMENT_INDEX["food"]
    assert faster_rivals[other] < demand[other]


def test_entry_replaces_closures_and_grows_the_pool(small_model):
    model = small_model
    f, p = model.f, model.params
    pool = np.count_nonzero(f.alive & ~f.above_scale)
    demography.set_entry_rate(model)
    assert model.entrants_per_month == pytest.approx(
        (p.below_scale_exit_rate + p.small_firm_pool_growth) * pool / 12.0)
    model.params = copy.deepcopy(model.params)
    model.params.override("small_firm_pool_growth", p.small_firm_pool_growth + 0.05)
    before = model.entrants_per_month
    demography.set_entry_rate(model)
    assert model.entrants_per_month > before


def test_materials_and_cells_pass_carbonate_through_their_costs(small_baseline):
    """Their lithium-linked cost share is their price pass-through over their material share."""
    p = small_baseline.parameters
    shares = lithium_input_shares(p)
    for seg in ("li_materials", "li_cells", "li_applications"):
        s = SEGMENT_INDEX[seg]
        assert shares[s] * p.material_cost_share[s] == pytest.approx(p.lithium_price_pass_through[seg])


def test_mid_and_downstream_value_added_stays_positive_through_the_boom(baseline_run):
    """Cathode and cell makers had positive margins in 2022: their value-added ratio (the
    bureau's weight of the next year) stays above zero in every year."""
    y = baseline_run.yearly
    for scope in ("li_materials", "li_cells"):
        s = SCOPES.index(scope)
        va, rev = (y[1:, s, YEARLY_STATS.index(k)] for k in ("value_added", "revenue"))
        assert (va > 0).all() and (va / rev > 0.05).all(), scope


def test_the_citys_market_share_follows_its_capacity_over_time(small_model):
    """A market's growth reaches the city's firms at once; what the city's capacity implies for
    its share (capacity over the market's growth, to the power θ) arrives gradually."""
    model = advanced(small_model, 6)
    c, t = model.conditions, model.t
    target = (model.relative_capacity / c.market[t]) ** market.capacity_pulls(model.params)
    start = model.regional_share.copy()
    slow, fast = copy.deepcopy(model), copy.deepcopy(model)
    fast.params = copy.deepcopy(fast.params)
    fast.params.override("regional_share_adjustment", 1.0)
    for m in (slow, fast):
        market.update_regional_share(m)
    assert fast.regional_share == pytest.approx(target)            # the earlier, instant rule
    moved = np.abs(target - start) > 1e-6
    assert moved.any()
    # the groups' cell plants bring their orders with them: their share moves at once
    cells = market._CELLS
    assert slow.regional_share[cells] == pytest.approx(target[cells])
    moved &= ~cells
    # elsewhere the gradual rule moves part of the way, in the right direction
    gap_before, gap_after = np.abs(target - start)[moved], np.abs(target - slow.regional_share)[moved]
    assert (gap_after < gap_before).all()
    assert (np.sign(slow.regional_share - start)[moved] == np.sign(target - start)[moved]).all()
