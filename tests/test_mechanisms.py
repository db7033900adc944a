"""Each mechanism moves the economy in the direction economics says it should."""

import copy

import numpy as np
import pytest

from model.economy import YichunModel
from model.mechanisms import demography, innovation, investment, market, production, statuses
from model.mechanisms.projects import draw_projects
from model.runner import YEARLY_STATS
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


def test_price_fall_lowers_nominal_revenue_not_real_volume(small_model):
    """Demand side alone: with the shutdown rule made sharp, a price fall that leaves the price
    above cost changes revenue one for one and leaves volume and real value added alone."""
    model = advanced(small_model, 10)  # November 2022, carbonate near its peak
    model.params.values["shutdown_softness"] = 0.01
    low = copy.deepcopy(model)
    up = SEGMENT_INDEX["li_upstream"]
    low.conditions.price[model.t, up] *= 0.7
    for m in (model, low):
        market.allocate_demand(m)
        production.produce(m)
    firms = model.f.segment == up
    assert low.f.volume[firms] == pytest.approx(model.f.volume[firms], rel=1e-3)
    assert low.f.revenue[firms].sum() == pytest.approx(0.7 * model.f.revenue[firms].sum(), rel=1e-3)
    assert low.f.value_added_real[firms].sum() == pytest.approx(
        model.f.value_added_real[firms].sum(), rel=1e-3)


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
    firm = int(np.flatnonzero(model.f.alive & model.f.above_scale)[0])
    better.f.productivity[firm] *= 1.5
    for m in (model, better):
        market.allocate_demand(m)
    assert better.f.share[firm] > model.f.share[firm]
    assert better.f.demand[firm] > model.f.demand[firm]


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
    lag_slow = draw_projects(slow, months)["start_month"].mean()
    lag_fast = draw_projects(fast, months)["start_month"].mean()
    assert lag_slow - lag_fast == pytest.approx((80 - 25) / 21.75, abs=0.6)


def test_sustained_losses_lead_to_exit(small_model):
    model = advanced(small_model, 1)
    model.params.values["exit_probability"] = 1.0
    f = model.f
    losers = np.flatnonzero(f.alive)[:25]
    f.loss_months[losers] = 100
    demography.close_firms(model)
    assert not model.f.alive[losers].any()
    assert (model.f.capacity[losers] == 0).all()


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


def test_price_collapse_moves_nominal_and_real_apart(baseline_run):
    """2023: carbonate fell about 80%; the lithium chain's revenue falls, its real output does not."""
    y = baseline_run.yearly
    lithium = SCOPES.index("lithium")
    rev, va = YEARLY_STATS.index("revenue_all_firms"), YEARLY_STATS.index("value_added_real")
    assert y[3, lithium, rev] < y[2, lithium, rev]        # 2023 < 2022 nominal
    assert y[3, lithium, va] >= 0.95 * y[2, lithium, va]  # real output held up
