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

from model.jit import jit
from model.sampling import bernoulli_rows
from model.state import firm_arrays
from model.structure import COUNTIES

if TYPE_CHECKING:
    from model.economy import YichunModel

ETDZ = COUNTIES.index("etdz")
SME_REVENUE_LINE = 4.0  # 亿元: China's industrial SME line (营业收入 < 40000 万元)


def invest(model: YichunModel) -> None:
    """Each firm in turn: its expectations adapt, its expansions and new plant mature, and it
    expands where expected use and margin are high (one pass over the firms: each step reads
    only the firm's own state)."""
    p, t = model.params, model.t
    _invest(model.arrays(_INVESTING), p.expectation_weight, p.loss_shrink_rate,
            p.expansion_utilisation_threshold, p.expansion_margin_threshold, p.expansion_speed,
            p.capital_output_ratio, model.conditions.other_price[t], p.credit_to_capital)


_INVESTING = firm_arrays("_INVESTING", (
    "volume", "capacity", "revenue", "total_cost", "utilisation_expected", "margin_expected",
    "pending_expansion", "expansion_rate", "ramping", "ramp_step", "loss_months", "alive", "cash", "capital",
    "debt"), __name__)


@jit
def _invest(f, expectation_weight, loss_shrink_rate, threshold,  # noqa: ANN001, ANN202, PLR0913
            margin_threshold, speed, capital_output_ratio, price, credit_to_capital):
    """Each step is a rule on the firm's own numbers, made in locals and stored once (a loop
    that reads back what it just stored runs one firm at a time; this one runs several at
    once, to the same bits)."""
    for i in range(f.n):
        utilisation_expected, margin_expected = update_expectations(
            f.volume[i], f.capacity[i], f.revenue[i], f.total_cost[i],
            f.utilisation_expected[i], f.margin_expected[i], expectation_weight)
        pending, ramping, ramp_step, capacity = mature_capacity(
            f.pending_expansion[i], f.expansion_rate[i], f.ramping[i], f.ramp_step[i],
            f.capacity[i], f.loss_months[i], loss_shrink_rate)
        added, cost = expand_capacity(
            utilisation_expected, margin_expected, f.alive[i], capacity,
            finance_of(f.cash[i], f.capital[i], f.debt[i], credit_to_capital),
            threshold, margin_threshold, speed, capital_output_ratio, price)
        f.utilisation_expected[i], f.margin_expected[i] = utilisation_expected, margin_expected
        # a firm that does not expand keeps its numbers exactly (adding 0.0 is not a no-op on -0.0)
        f.pending_expansion[i] = pending + added if added > 0.0 else pending
        f.ramping[i], f.ramp_step[i], f.capacity[i] = ramping, ramp_step, capacity
        f.capital[i] = f.capital[i] + cost if cost > 0.0 else f.capital[i]
        f.cash[i] = f.cash[i] - cost if cost > 0.0 else f.cash[i]


@jit
def update_expectations(volume, capacity, revenue, total_cost, utilisation_expected,  # noqa: ANN001, ANN201, PLR0913
                        margin_expected, w):
    """Adaptive expectations of utilisation and margin (weight ``expectation_weight``)."""
    utilisation = volume / capacity if capacity > 0 else 0.0
    margin = (revenue - total_cost) / revenue if revenue > 0 else 0.0
    return ((1 - w) * utilisation_expected + w * utilisation,
            (1 - w) * margin_expected + w * margin)


@jit
def mature_capacity(pending, expansion_rate, ramping, ramp_step, capacity, loss_months,  # noqa: ANN001, ANN201, PLR0913
                    loss_shrink_rate):
    """Own expansions complete at the firm's rate; a new plant or line ramps up in equal
    monthly steps (``ramp_step``, its capacity over ``ramp_up_months``: a straight line, as
    Gotion's carbonate plant went from nothing in April 2022 to about 8 kt that year and its
    full 30 kt in 2023); a firm losing money for six months or more lets capacity go
    (``loss_shrink_rate`` a month). Returns the pending expansion, the capacity still ramping,
    the monthly ramp step and the capacity."""
    done = pending * expansion_rate
    ramped = min(ramp_step, ramping) if ramping != 0.0 else 0.0
    left = ramping - ramped
    step = ramp_step if left > 0.0 else 0.0
    shrink = (1.0 if loss_months >= 6 else 0.0) * loss_shrink_rate
    return pending - done, left, step, (capacity + (done + ramped)) * (1.0 - shrink)


@jit
def finance_of(cash, capital, debt, credit_to_capital):  # noqa: ANN001, ANN201
    """A firm's cash plus what it may still borrow against its capital."""
    return max(cash + credit_to_capital * capital - debt, 0.0)


@jit
def finance_available(f, i, credit_to_capital):  # noqa: ANN001, ANN201
    """Firm i's cash plus what it may still borrow against its capital."""
    return finance_of(f.cash[i], f.capital[i], f.debt[i], credit_to_capital)


@jit
def expand_capacity(utilisation_expected, margin_expected, alive, capacity, finance,  # noqa: ANN001, ANN201, PLR0913
                    threshold, margin_threshold, speed, capital_output_ratio, price):
    """Expand where expected utilisation and margin are high, as far as finance allows: the
    capacity added (to the pending expansion) and its cost (0, 0 for a firm below the
    thresholds, most firms in a month)."""
    if not (utilisation_expected > threshold and margin_expected > 0.0
            and margin_expected > margin_threshold and alive):
        return 0.0, 0.0
    pressure = min((utilisation_expected - threshold) / (1 - threshold), 1.0)
    profitability = min(margin_expected / 0.1, 1.0)
    added = speed * capacity * pressure * profitability
    cost = added * 12.0 * capital_output_ratio * price
    scale = min(1.0, finance / cost if cost > 0 else 1.0)
    return added * scale, cost * scale


PROGRAMS = {
    # program: (review probability, cost share of capital, productivity gain, digital gain)
    "upgrade": ("upgrade_review_probability", "upgrade_cost_to_capital",
                "upgrade_productivity_gain", "upgrade_digital_gain"),
    "digital": ("digital_review_probability", "digital_cost_to_capital",
                "digital_productivity_gain", "digital_project_gain"),
}
#: 技改 replaces and adds equipment: it raises capacity too (digital projects do not)
CAPACITY_GAIN = {"upgrade": "upgrade_capacity_gain", "digital": None}


def upgrade_projects(model: YichunModel, program: str) -> None:
    """Firms weigh upgrade (or digital) projects; funds rank and pay; projects raise productivity."""
    f, p, t, rng = model.f, model.params, model.t, model.stream(program)
    review, cost_share, prod_gain, digital_gain = (p.values[k] for k in PROGRAMS[program])
    candidates, cost, variable_cost, use, margin, finance = _applicants(
        model.arrays(_APPLICANT), bernoulli_rows(rng, f.n, review), cost_share,
        model.conditions.other_price[t], p.max_utilisation, p.credit_to_capital)
    if candidates.size == 0:
        return
    capacity_gain = p.values[CAPACITY_GAIN[program]] if CAPACITY_GAIN[program] else 0.0
    noise = np.exp(rng.normal(0.0, p.decision_noise, candidates.size))
    government = model.government
    funds, terms = government.fund_terms(program, t)   # the city fund first, then ETDZ and SME
    done = f.upgrades_month if program == "upgrade" else f.digital_projects_month
    paid_count, paid_rows, paid_amounts = _fund_projects(
        model.arrays(_PROJECT_DONE), candidates, cost, variable_cost, use ** 4, margin, noise, finance,
        terms, prod_gain, (1.0 + capacity_gain) * (1.0 + prod_gain) ** p.tfp_output_elasticity,
        digital_gain, p.project_horizon_years, p.upgrade_hurdle, done)
    for k, name in enumerate(funds):
        if paid_count[k]:
            rows = paid_rows[k, : paid_count[k]]
            government.record(name, t, candidates[rows], paid_amounts[k, : paid_count[k]])


_APPLICANT = firm_arrays("_APPLICANT", (
    "alive", "capital", "total_cost", "rd_spend", "utilisation_expected", "revenue", "cash",
    "debt"), __name__)
_PROJECT_DONE = firm_arrays("_PROJECT_DONE", (
    "productivity", "capacity", "digital", "capital", "cash", "above_scale",
    "revenue_last_year", "county"), __name__)


@jit
def _fund_projects(f, candidates, cost, variable_cost, bound, margin, noise, finance, terms,  # noqa: ANN001, ANN202, PLR0913
                   productivity_gain, capacity_factor, digital_gain, horizon, hurdle, done):
    """The applicants decide and the funds pay, in four steps.

    1. Each applicant's benefit (savings on variable costs, plus the margin on extra output
       where it is capacity-bound, over the horizon) and the subsidy it expects (the best
       offer among the funds it is eligible for: rate x cost up to the cap).
    2. It wants the project if it can pay and the benefit, with its own noise, clears the
       hurdle on the cost net of the expected subsidy.
    3. Each fund in turn (``terms`` rows: rate, cap, money left this month, eligibility)
       ranks the eligible applicants that want it and are not yet paid by benefit per cost
       (stable: ties in row order) and pays requests in that order while its money lasts.
    4. A firm paid, or still willing at the full cost, carries the project out.

    Returns, per fund, the number paid, the applicants paid (positions in `candidates`, in
    rank order) and the amounts."""
    m, n_funds = candidates.size, terms.shape[0]
    eligible = np.zeros((n_funds, m), dtype=np.bool_)
    benefit, wants, subsidy = np.empty(m), np.empty(m, dtype=np.bool_), np.zeros(m)
    for j in range(m):
        i = candidates[j]
        expected = 0.0
        for k in range(n_funds):
            rule = int(terms[k, 3])
            above = f.above_scale[i]
            eligible[k, j] = (rule == 0 or (rule == 1 and above)
                              or (rule == 2 and f.revenue_last_year[i] < SME_REVENUE_LINE)
                              or (rule == 3 and f.county[i] == ETDZ and above))
            offer = min(terms[k, 0] * cost[j], terms[k, 1])
            expected = max(expected, offer * (1.0 if eligible[k, j] else 0.0))
        extra_margin = (capacity_factor - 1.0) * bound[j] * 12.0 * margin[j]
        benefit[j] = (productivity_gain * variable_cost[j] + extra_margin) * horizon
        wants[j] = cost[j] <= finance[j] and (
            benefit[j] * noise[j] >= hurdle * (cost[j] - expected))
    paid_count = np.zeros(n_funds, dtype=np.int64)
    paid_rows = np.empty((n_funds, m), dtype=np.int64)
    paid_amounts = np.empty((n_funds, m))
    for k in range(n_funds):
        asking = np.flatnonzero(wants & (subsidy == 0) & eligible[k])
        budget = terms[k, 2]
        if asking.size == 0 or budget <= 0:
            continue
        score = np.empty(asking.size)
        for a in range(asking.size):
            score[a] = -(benefit[asking[a]] / cost[asking[a]])
        spent = 0.0
        for a in np.argsort(score, kind="mergesort"):
            j = asking[a]
            request = min(terms[k, 0] * cost[j], terms[k, 1])
            spent += request
            if not spent <= budget + 1e-12:
                break
            subsidy[j] = request
            paid_rows[k, paid_count[k]] = j
            paid_amounts[k, paid_count[k]] = request
            paid_count[k] += 1
    for j in range(m):
        if not (wants[j] and (subsidy[j] > 0 or benefit[j] * noise[j] >= hurdle * cost[j])):
            continue
        i = candidates[j]
        f.productivity[i] *= 1.0 + productivity_gain
        f.capacity[i] *= capacity_factor     # the project's new equipment and the TFP gain
        f.digital[i] += digital_gain * (1.0 - f.digital[i])
        f.capital[i] += cost[j]
        f.cash[i] -= cost[j]
        done[i] += 1.0
    return paid_count, paid_rows, paid_amounts


@jit
def _applicants(f, reviewing, cost_share, price, max_utilisation, credit_to_capital):  # noqa: ANN001, ANN202
    """The firms reviewing a project this month that are alive and have capital, and for each:
    the project's cost, its variable costs a year, its expected use of capacity (0..1), its
    operating margin and the finance it has."""
    rows = np.empty(reviewing.size, dtype=np.int64)
    count = 0
    for i in reviewing:
        if f.alive[i] and f.capital[i] > 0:
            rows[count] = i
            count += 1
    rows = rows[:count]
    cost, variable_cost, use = np.empty(count), np.empty(count), np.empty(count)
    margin, finance = np.empty(count), np.empty(count)
    for j in range(count):
        i = rows[j]
        cost[j] = cost_share * f.capital[i] * price
        variable_cost[j] = 12.0 * (f.total_cost[i] - f.rd_spend[i])
        use[j] = min(max(f.utilisation_expected[i] / max_utilisation, 0.0), 1.0)
        margin[j] = max(f.revenue[i] - f.total_cost[i], 0.0)
        finance[j] = finance_available(f, i, credit_to_capital)
    return rows, cost, variable_cost, use, margin, finance
