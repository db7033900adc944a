"""Investment: capacity expansion, technical upgrades (技改) and digital transformation.

Expansion follows pressure (expected utilisation over a threshold, expected margin over a
threshold) and is cut to what cash and credit can pay. Upgrade and digital projects are
weighed by their discounted cost savings against their cost net of the subsidy a firm
expects; the government then ranks applicants and pays within budget, and a firm that is
turned down decides again at the full cost. A subsidy therefore lowers net cost and raises
the number of upgrades.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.structure import COUNTIES

if TYPE_CHECKING:
    from model.economy import YichunModel

ETDZ = COUNTIES.index("etdz")
SME_REVENUE_LINE = 4.0  # 亿元: China's industrial SME line (营业收入 < 40000 万元)


def update_expectations(model: YichunModel) -> None:
    f, w = model.f, model.params.expectation_weight
    utilisation = np.divide(f.volume, f.capacity, out=np.zeros(f.n), where=f.capacity > 0)
    margin = np.divide(f.revenue - f.total_cost, f.revenue, out=np.zeros(f.n), where=f.revenue > 0)
    f.utilisation_expected[:] = (1 - w) * f.utilisation_expected + w * utilisation
    f.margin_expected[:] = (1 - w) * f.margin_expected + w * margin


def mature_capacity(model: YichunModel) -> None:
    """Own expansions complete at the firm's rate; new plants ramp up to full capacity."""
    f, p = model.f, model.params
    done = f.pending_expansion * f.expansion_rate
    f.pending_expansion -= done
    ramped = f.ramping / p.ramp_up_months
    f.ramping -= ramped
    f.capacity += done + ramped
    shrink = (f.loss_months >= 6) * p.loss_shrink_rate
    f.capacity *= 1.0 - shrink


def finance_available(model: YichunModel) -> np.ndarray:
    f = model.f
    return np.maximum(f.cash + model.params.credit_to_capital * f.capital - f.debt, 0.0)


def expand_capacity(model: YichunModel) -> None:
    f, p, t = model.f, model.params, model.t
    thr = p.expansion_utilisation_threshold
    pressure = np.clip((f.utilisation_expected - thr) / (1 - thr), 0, 1)
    profitability = np.clip(f.margin_expected / 0.1, 0, 1)
    go = (f.margin_expected > p.expansion_margin_threshold) & f.alive
    added = p.expansion_speed * f.capacity * pressure * profitability * go
    cost = added * 12.0 * p.capital_output_ratio * model.conditions.other_price[t]
    scale = np.minimum(1.0, np.divide(finance_available(model), cost, out=np.ones(f.n),
                                      where=cost > 0))
    f.pending_expansion += added * scale
    f.capital += cost * scale
    f.cash -= cost * scale


PROGRAMS = {
    # program: (review probability, cost share of capital, productivity gain, digital gain)
    "upgrade": ("upgrade_review_probability", "upgrade_cost_to_capital",
                "upgrade_productivity_gain", "upgrade_digital_gain"),
    "digital": ("digital_review_probability", "digital_cost_to_capital",
                "digital_productivity_gain", "digital_project_gain"),
}
#: 技改 replaces and adds equipment: it raises capacity too (digital projects do not)
CAPACITY_GAIN = {"upgrade": "upgrade_capacity_gain", "digital": None}


def eligible(model: YichunModel, rule: str, firms: np.ndarray) -> np.ndarray:
    f = model.f
    if rule == "above_scale":
        return f.above_scale[firms]
    if rule == "sme":
        return f.revenue_last_year[firms] < SME_REVENUE_LINE
    if rule == "etdz":
        return (f.county[firms] == ETDZ) & f.above_scale[firms]
    return np.ones(firms.size, dtype=bool)


def upgrade_projects(model: YichunModel, program: str) -> None:
    """Firms weigh upgrade (or digital) projects; funds rank and pay; projects raise productivity."""
    f, p, t, rng = model.f, model.params, model.t, model.stream(program)
    review, cost_share, prod_gain, digital_gain = (p.values[k] for k in PROGRAMS[program])
    candidates = np.flatnonzero(f.alive & (rng.random(f.n) < review) & (f.capital > 0))
    if candidates.size == 0:
        return
    cost = cost_share * f.capital[candidates] * model.conditions.other_price[t]
    variable_cost = 12.0 * (f.total_cost - f.rd_spend)[candidates]
    capacity_gain = p.values[CAPACITY_GAIN[program]] if CAPACITY_GAIN[program] else 0.0
    # savings on costs, plus the margin on extra output where the firm is capacity-bound
    bound = np.clip(f.utilisation_expected[candidates] / p.max_utilisation, 0.0, 1.0) ** 4
    extra_margin = capacity_gain * bound * 12.0 * np.maximum(
        f.revenue - f.total_cost, 0.0)[candidates]
    benefit = (prod_gain * variable_cost + extra_margin) * p.project_horizon_years
    noise = np.exp(rng.normal(0.0, p.decision_noise, candidates.size))
    affordable = cost <= finance_available(model)[candidates]

    funds = [(name, inst) for name, inst in model.policy.instruments.funds().items()
             if inst.program == program and model.government.active(name, t)]
    expected = np.zeros(candidates.size)
    for _, inst in funds:
        offer = np.minimum(inst.subsidy_rate * cost, inst.per_project_cap)
        expected = np.maximum(expected, offer * eligible(model, inst.eligibility, candidates))
    wants = affordable & (benefit * noise >= p.upgrade_hurdle * (cost - expected))
    subsidy = np.zeros(candidates.size)
    for name, inst in funds:  # ETDZ and SME funds are listed after the city fund: rank each
        asking = wants & (subsidy == 0) & eligible(model, inst.eligibility, candidates)
        idx = np.flatnonzero(asking)
        request = np.minimum(inst.subsidy_rate * cost[idx], inst.per_project_cap)
        paid = model.government.allocate(name, t, candidates[idx], request, benefit[idx] / cost[idx])
        subsidy[idx] = paid
    go = wants & ((subsidy > 0) | (benefit * noise >= p.upgrade_hurdle * cost))
    firms = candidates[go]
    f.productivity[firms] *= 1.0 + prod_gain
    f.capacity[firms] *= 1.0 + capacity_gain
    f.digital[firms] += digital_gain * (1.0 - f.digital[firms])
    f.capital[firms] += cost[go]
    f.cash[firms] -= cost[go]
    done = f.upgrades_month if program == "upgrade" else f.digital_projects_month
    done[firms] += 1.0
