"""Each mechanism moves the economy in the direction economics says it should."""

import copy

import numpy as np
import pytest

from model.economy import YichunModel
from model.mechanisms import demography, innovation, investment, market, production, statuses
from model.mechanisms.projects import draw_projects
from model.runner import YEARLY_STATS
from model.statistics import comparable_price_factors
from model.structure import SCOPES, SEGMENT_INDEX


def advanced(model: YichunModel, months: int) -> YichunModel:
    for _ in range(months):
        model.step()
    return model


def with_policy(model: YichunModel, changes: dict) -> YichunModel:
    clone = copy.deepcopy(model)
    scenario = clone.scenario.updated({"policy": changes})
    clone.scenario, clone.policy = scenario, scenario.spec.policy
    clone.government.policy = scenario.spec.policy
    return clone


def test_subsidy_lowers_net_cost_and_raises_upgrades(small_model):
    base = advanced(small_model, 13)
    rich = {"budget_per_year": 100.0, "per_project_cap": 10.0}
    no_aid = with_policy(base, {"instruments": {"tech_upgrade_fund": {"subsidy_rate": 0.0, **rich},
                                                "sme_fund": {"enabled": False}}})
    aid = with_policy(base, {"instruments": {"tech_upgrade_fund": {"subsidy_rate": 0.5, **rich},
                                             "sme_fund": {"enabled": False}}})
    before = aid.f.productivity.copy()
    production.open_month(aid)
    production.open_month(no_aid)
    investment.upgrade_projects(no_aid, "upgrade")
    investment.upgrade_projects(aid, "upgrade")
    assert aid.f.upgrades_month.sum() > no_aid.f.upgrades_month.sum()
    upgraded = aid.f.productivity > before
    paid = aid.f.subsidy_income > 0
    assert paid.any() and (paid <= upgraded).all()  # only upgraders are paid
    ledger = aid.government.ledger()
    this_month = ledger["month"] == aid.t
    assert ledger["amount"][this_month].sum() == pytest.approx(aid.f.subsidy_income.sum())


def test_price_fall_above_cost_moves_revenue_not_volume(small_model):
    """A price fall that leaves the price above a firm's cash cost changes its revenue one for
    one and leaves its volume (and value added at last year's prices) alone: no artefact of the
    production rule at normal margins."""
    model = advanced(small_model, 10)  # November 2022, carbonate near its peak
    low = copy.deepcopy(model)
    up = SEGMENT_INDEX["li_upstream"]
    low.conditions.price[model.t, up] *= 0.9
    for m in (model, low):
        market.allocate_demand(m)
        production.produce(m)
    price = production.competitive_price(low)[low.f.segment]
    covered = (low.f.segment == up) & (price >= production.unit_cash_cost(low)) & low.f.alive
    assert covered.sum() >= 5
    assert low.f.volume[covered] == pytest.approx(model.f.volume[covered], rel=1e-9)
    assert low.f.revenue[covered].sum() == pytest.approx(0.9 * model.f.revenue[covered].sum(), rel=1e-9)
    def at_last_years_prices(m):
        this_month, _ = comparable_price_factors(m.segment_va_ratio, m.deflator_last_year,
                                                 m.official_price, m.official_price)
        return (m.f.revenue * this_month[m.f.segment])[covered].sum()

    assert at_last_years_prices(low) == pytest.approx(at_last_years_prices(model), rel=1e-9)


def test_normal_margins_do_not_cap_output(small_model):
    """At 2021 margins every firm sells what it is asked for up to capacity x max utilisation:
    the run rate is one, so seasonality and demand noise pass through."""
    model = advanced(small_model, 1)
    market.allocate_demand(model)
    production.produce(model)
    f = model.f
    price = production.competitive_price(model)[f.segment]
    rate = production.run_rate(price, production.unit_cash_cost(model), model.params.shutdown_band)
    lithium = f.member[:, 0] | (f.chain == 0)
    assert np.mean(rate[f.alive & ~lithium] == 1.0) > 0.95  # only the least productive tail is cut
    ceiling = f.capacity * model.params.max_utilisation
    unconstrained = f.alive & ~lithium & (f.demand < ceiling) & (rate == 1.0)
    assert f.volume[unconstrained] == pytest.approx(f.demand[unconstrained], rel=1e-12)


def test_refiners_cut_before_integrated_producers(small_model):
    """The carbonate cash-cost curve: at a low price the concentrate-buying refiners stop first."""
    model = advanced(small_model, 1)
    up = SEGMENT_INDEX["li_upstream"]
    model.conditions.price[model.t, up] = 0.62
    model.conditions.lithium_index[model.t] = 0.62
    market.allocate_demand(model)
    production.produce(model)
    f = model.f
    upstream = f.alive & (f.segment == up) & (f.demand > 0)
    utilisation = f.volume / np.maximum(f.demand, 1e-12)
    assert (f.integrated & upstream).any() and (~f.integrated & upstream).any()
    assert utilisation[f.integrated & upstream].mean() > utilisation[~f.integrated & upstream].mean()


def test_price_below_cost_cuts_output(small_model):
    model = advanced(small_model, 1)
    cheap = copy.deepcopy(model)
    up = SEGMENT_INDEX["li_upstream"]
    cheap.conditions.price[model.t, up] = 0.3  # far below the upstream unit cost
    for m in (model, cheap):
        market.allocate_demand(m)
        production.produce(m)
    firms = model.f.segment == up
    assert cheap.f.volume[firms].sum() < 0.1 * model.f.volume[firms].sum()


def test_budgets_are_never_overspent(small_baseline):
    model = YichunModel(small_baseline, seed=11).run()
    gov = model.government
    ledger = gov.ledger()
    for (name, year), paid in gov.paid_by_year.items():
        assert paid <= gov.yearly_budget(name, year) + 1e-9, (name, year)
        in_year = (ledger["instrument"] == name) & (ledger["month"] // 12 + 2022 == year)
        assert ledger["amount"][in_year].sum() == pytest.approx(paid)
    assert ledger["amount"].size > 0


def test_firm_crossing_the_line_enters_the_count(small_model):
    model = advanced(small_model, 11)          # the December step is next
    f = model.f
    riser = int(np.flatnonzero(f.alive & ~f.above_scale & (f.born_month < 0))[0])
    faller = int(np.flatnonzero(f.alive & f.above_scale)[0])
    f.revenue_ytd[riser] += 0.5
    f.revenue_ytd[faller] = 0.0
    f.capacity[faller] = 0.0                    # the faller sells nothing in December
    model.step()                                # December (ytd keeps the change)
    model.step()                                # January: last year's revenue decides
    f = model.f
    assert f.above_scale[riser] and not f.above_scale[faller]
    k = YEARLY_STATS.index("above_scale_firms")
    counted = model.recorder.monthly[model.t - 1, 0, k]
    assert counted == (f.above_scale & f.alive).sum()


def test_competitiveness_wins_market_share(small_model):
    model = advanced(small_model, 2)
    better = copy.deepcopy(model)
    chosen = model.f.alive & model.f.above_scale & (model.f.segment != SEGMENT_INDEX["li_upstream"])
    firm = int(np.flatnonzero(chosen)[0])
    better.f.productivity[firm] *= 1.5
    for m in (model, better):
        market.allocate_demand(m)
    assert better.f.share[firm] > model.f.share[firm]
    assert better.f.demand[firm] > model.f.demand[firm]


def test_a_refiner_sells_what_it_can_make_whatever_its_appeal(small_model):
    """Carbonate is a commodity: a refiner's orders are its usable capacity (the price-taking
    supply of a competitive market), not a share of the segment's demand weighted by appeal."""
    model = advanced(small_model, 2)
    shunned = copy.deepcopy(model)
    f = model.f
    refiners = np.flatnonzero(f.alive & (f.segment == SEGMENT_INDEX["li_upstream"]) & (f.capacity > 0))
    shunned.f.appeal[refiners[0]] *= 0.2        # customers walk away: irrelevant at the market price
    for m in (model, shunned):
        market.allocate_demand(m)
    t, up = model.t, SEGMENT_INDEX["li_upstream"]
    ceiling = (f.capacity[refiners] * model.conditions.capacity_factor[t, up]
               * model.params.max_utilisation)
    np.testing.assert_allclose(model.f.demand[refiners], ceiling)
    np.testing.assert_allclose(shunned.f.demand[refiners], ceiling)


def test_super_deduction_raises_rd_intensity(small_model):
    base = advanced(small_model, 1)
    low = with_policy(base, {"instruments": {"rd_super_deduction": {"extra_deduction_rate": 0.5}}})
    high = with_policy(base, {"instruments": {"rd_super_deduction": {"extra_deduction_rate": 2.0}}})
    for _ in range(24):
        innovation.research(low)
        innovation.research(high)
    assert high.f.rd_intensity.mean() > low.f.rd_intensity.mean() * 1.05


def test_approval_reform_brings_starts_forward(small_model):
    months = np.zeros(2000, dtype=int)
    slow = with_policy(small_model, {"approval": {"reform_start": "2030-01"}})
    fast = with_policy(small_model, {"approval": {"reform_start": "2022-01"}})
    lag_slow = draw_projects(slow, months, np.random.default_rng(1))["start_month"].mean()
    lag_fast = draw_projects(fast, months, np.random.default_rng(1))["start_month"].mean()
    assert lag_slow - lag_fast == pytest.approx((80 - 25) / 21.75, abs=0.6)


def test_a_new_plant_ramps_up_in_a_straight_line():
    """A plant of capacity C opened with ramp_up_months L gains C / L a month and is at full
    capacity after L months (Gotion's carbonate plant: ~8 kt in its first nine months, the full
    30 kt the next year); a line added while ramping adds its own step."""
    capacity, ramping, step, pending = 0.0, 12.0, 12.0 / 8, 0.0
    path = []
    for _ in range(10):
        pending, ramping, step, capacity = investment.mature_capacity(
            pending, 0.0, ramping, step, capacity, 0, 0.0)
        path.append(capacity)
    assert np.diff(path[:8]) == pytest.approx(np.full(7, 1.5))      # equal monthly steps
    assert path[7] == pytest.approx(12.0) and path[9] == pytest.approx(12.0)
    assert ramping == 0.0 and step == 0.0                          # the ramp is over
    # losses for six months let capacity go even while ramping
    _, _, _, shrunk = investment.mature_capacity(0.0, 0.0, 6.0, 1.5, 4.0, 6, 0.1)
    assert shrunk == pytest.approx((4.0 + 1.5) * 0.9)


@pytest.mark.parametrize("months", [1, 7, 13])
def test_every_ramp_ends_within_ramp_up_months(baseline, months):
    """Plants and expansions of 2021 start part-way up their straight line, and none (nor any
    opened since) has more capacity still ramping than its monthly step brings on line in
    ``ramp_up_months``; a firm with nothing ramping has no step."""
    model = YichunModel(baseline, seed=11)
    for _ in range(months):
        model.step()
    f, months_left = model.f, model.params.ramp_up_months
    ramping = f.ramping > 0
    assert ramping.any()
    assert (f.ramp_step[ramping] > 0).all()
    assert (f.ramping[ramping] <= f.ramp_step[ramping] * months_left * (1 + 1e-9)).all()
    assert (f.ramp_step[~ramping] == 0).all()
    model.release()


def test_the_zone_factor_moves_firms_outside_lithium_in_or_out_of_the_zone(small_baseline):
    """``etdz_share_outside_lithium`` scales the zone's weight for the segments outside lithium
    (rows still sum to one, lithium rows untouched), and so the zone's lithium share of
    revenue (fact etdz_lithium_share_2025) falls as more of the rest of industry sits there."""
    from model.calibration.observations import load_observations, simulated
    from model.population import county_weights
    from model.structure import COUNTIES, IS_LITHIUM

    zone = COUNTIES.index("etdz")
    share = next(o for o in load_observations().observations
                 if o.id == "etdz_lithium_share_2025")
    weights, shares = {}, {}
    for factor in (0.3, 1.0, 2.0):
        run = small_baseline.with_parameters({"etdz_share_outside_lithium": factor})
        model = YichunModel(run, seed=3)
        weights[factor] = county_weights(model.params)
        model.run()
        shares[factor] = simulated(share, model.recorder.yearly, model.recorder.monthly)
        model.release()
    lithium = np.asarray(IS_LITHIUM)
    for w in weights.values():
        assert np.allclose(w.sum(axis=1), 1.0)
        assert np.array_equal(w[lithium], weights[1.0][lithium])
    outside = ~lithium & (weights[1.0][:, zone] > 0)
    assert np.allclose(weights[2.0][outside, zone], 2.0 * weights[1.0][outside, zone])
    assert shares[0.3] > shares[1.0] > shares[2.0]


def test_sustained_losses_lead_to_exit(small_model):
    model = advanced(small_model, 1)
    model.params = copy.deepcopy(model.params)      # the scenario's parameters are shared
    model.params.override("exit_probability", 1.0)
    f = model.f
    losers = np.flatnonzero(f.alive & (f.anchor < 0))[:25]
    anchors = np.flatnonzero(f.alive & (f.anchor < 0))[25:30]
    f.anchor[anchors] = 0                           # as if they were a named group's plants
    f.loss_months[losers] = f.loss_months[anchors] = 100
    demography.close_firms(model)
    assert not model.f.alive[losers].any()
    assert (model.f.capacity[losers] == 0).all()
    # the named groups' plants are backed by their groups: losses shrink them, never close them
    assert model.f.alive[anchors].all()


def test_exit_hazards_combine_as_independent_events(small_model):
    """A firm with a loss streak closes with ``exit_probability``, a below-scale firm with the
    background rate, one exposed to both with 1 - (1 - a)(1 - b); other firms never close, nor
    does a new plant still ramping up below the line by the background rate.
    (Firms are picked by thinning, so this checks the chances, not just the direction.)"""
    model = advanced(small_model, 1)
    model.params = copy.deepcopy(model.params)      # the scenario's parameters are shared
    model.params.override("exit_probability", 0.2)
    model.params.override("below_scale_exit_rate", 0.48)        # 0.04 a month
    f = model.f
    ramping = np.flatnonzero(f.alive & (f.ramping > 0) & ~f.above_scale)
    assert ramping.size >= 1
    live = np.flatnonzero(f.alive & (f.ramping == 0) & (f.anchor < 0))
    f.loss_months[live[::2]] = 100
    saved = {k: getattr(f, k).copy() for k in ("alive", "above_scale", "chain_leader", "capacity",
                                                "pending_expansion", "ramping", "share", "supplier_of")}
    groups = {(streak, above): live[((f.loss_months[live] >= 100) == streak)
                                    & (f.above_scale[live] == above)]
              for streak in (True, False) for above in (True, False)}
    closed = {key: 0 for key in groups}
    reps = 200
    for _ in range(reps):
        demography.close_firms(model)
        assert f.alive[ramping].all()
        for key, rows in groups.items():
            closed[key] += int((~f.alive[rows]).sum())
        for k, v in saved.items():
            getattr(f, k)[:] = v
    expected = {(True, True): 0.2, (False, False): 0.04, (True, False): 1 - 0.8 * 0.96,
                (False, True): 0.0}
    for key, rows in groups.items():
        assert rows.size >= 20, key
        rate, p = closed[key] / (reps * rows.size), expected[key]
        assert rate == pytest.approx(p, abs=4 * np.sqrt(p * (1 - p) / (reps * rows.size)) + 1e-12), key


def test_chain_leader_rule_of_annex_9(small_model):
    model = advanced(small_model, 1)
    f = model.f
    firm = int(np.flatnonzero(f.alive & f.above_scale & (f.chain == 1))[0])  # circular chain
    f.revenue_last_year[firm] = 60.0
    f.margin_last_year[firm] = f.margin_two_years_ago[firm] = 0.3
    f.rd_intensity[firm] = 0.035
    suppliers = np.flatnonzero(f.alive & (f.chain == 1) & (f.supplier_of < 0))
    suppliers = suppliers[suppliers != firm][:5]
    f.supplier_of[suppliers] = firm
    assert statuses.leader_eligible(model)[firm]
    f.rd_intensity[firm] = 0.02           # below the 3% R&D condition
    assert not statuses.leader_eligible(model)[firm]


def test_price_collapse_moves_nominal_and_physical_apart(baseline_run):
    """2023: carbonate fell about 80%; the lithium chain's revenue falls, its physical output
    (battery GWh, materials tonnes) does not (carbonate refiners do cut as the price nears their cost)."""
    y = baseline_run.yearly
    lithium = SCOPES.index("lithium")
    rev = YEARLY_STATS.index("revenue_all_firms")
    assert y[3, lithium, rev] < y[2, lithium, rev]        # 2023 < 2022 nominal
    for unit in ("battery_gwh", "materials_tonnes"):
        k = YEARLY_STATS.index(unit)
        assert y[3, lithium, k] >= 0.95 * y[2, lithium, k], unit


def test_official_deflator_counts_a_price_boom_as_growth(small_baseline):
    """The sensitivity case: a deflator that follows carbonate only weakly (elasticity 0.1, the
    loophole of earlier rounds) counts 2022's price boom as volume, so measured real growth is
    higher than with the bureau's producer-price deflator (the default, 1)."""
    from model.runner import collect

    method = YichunModel(small_baseline, seed=3).run(12)
    broad = YichunModel(small_baseline.with_parameters(
        {"official_deflator_lithium_elasticity": 0.1}), seed=3).run(12)
    k = YEARLY_STATS.index("value_added_real_growth_pct")
    assert collect(broad).yearly[1, 0, k] > collect(method).yearly[1, 0, k] + 1.0


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_orders_a_full_firm_turns_away_spill_over_in_part(small_baseline, share):
    """A firm at capacity passes `spillover_share` of its excess orders to firms of its segment
    with spare capacity; the rest are lost to the city (customers buy elsewhere)."""
    model = YichunModel(small_baseline.with_parameters({"spillover_share": share}), seed=3)
    f = model.f
    seg = f.segment == f.segment[int(np.argmax(f.capacity))]
    ceiling = f.capacity.copy()
    demand = ceiling * np.where(seg, 0.8, 1.0)
    full = int(np.flatnonzero(seg)[0])
    demand[full] = 2.0 * ceiling[full]
    after = market.spill_over(model, demand, ceiling)
    excess = ceiling[full]
    assert after[full] == pytest.approx(demand[full] - share * excess)
    assert after[seg].sum() == pytest.approx(demand[seg].sum())          # orders are moved, not made
    sold = np.minimum(after, ceiling)[seg].sum() - np.minimum(demand, ceiling)[seg].sum()
    assert sold == pytest.approx(share * excess)


def test_expansions_go_to_firms_in_proportion_to_capacity(small_model):
    """A project expanding an existing firm lands in its segment, on a firm drawn in proportion
    to capacity; a segment with no producing firm gets none (the project opens a new firm)."""
    from model.mechanisms.projects import expansion_hosts

    model, f = small_model, small_model.f
    seg = int(f.segment[int(np.argmax(f.capacity))])
    hosts = expansion_hosts(model, np.full(40_000, seg), np.random.default_rng(1))
    assert (f.segment[hosts] == seg).all()
    live = np.flatnonzero(f.alive & (f.capacity > 0) & (f.segment == seg))
    share = f.capacity[live] / f.capacity[live].sum()
    top = live[np.argsort(-share)[:3]]
    drawn = np.array([(hosts == i).mean() for i in top])
    assert drawn == pytest.approx(np.sort(share)[::-1][:3], abs=0.01)
    f.capacity[f.segment == seg] = 0.0
    assert (expansion_hosts(model, np.array([seg]), np.random.default_rng(1)) == -1).all()
