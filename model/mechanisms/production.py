"""Production within capacity; nominal revenue = price x volume; costs, value added, profit.

Firms make what they can sell, up to capacity x ``max_utilisation``, as long as the price
covers their unit cash cost (intermediate inputs and labour over productivity). Only when it
does not do they cut output, linearly to nothing once the price is ``shutdown_band`` below
cost (lepidolite refiners in 2024); sustained losses then lead to idling and exit
(``demography``). No cut happens at normal margins, so seasonality and demand pass through.

Value added is gross output less intermediate inputs: materials, energy and purchased
services (``material_cost_share``, part priced off carbonate) and the capacity-related
overheads (``fixed_cost_rate``). Labour, depreciation, interest, R&D and profit are what
remains. Real value added is measured as Chinese statistics do, by the statistics
(``statistics``), from the month's revenue and the official price of each industry set here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.jit import jit, rows, vectorize
from model.state import firm_arrays
from model.structure import SEGMENT_INDEX

if TYPE_CHECKING:
    from model.economy import YichunModel

UPSTREAM = SEGMENT_INDEX["li_upstream"]


def input_price(model: YichunModel) -> np.ndarray:
    """Each firm's intermediate-input price index: the carbonate-linked share follows lithium.

    A refiner buying lepidolite concentrate pays at least ``concentrate_floor`` (in carbonate
    index terms): concentrate is not sold below the mines' cash cost, so when carbonate falls
    the refiners are squeezed first (the cash-cost curve of 2024).
    """
    return _input_prices(model.f, _lithium_prices(model))


def unit_cash_cost(model: YichunModel, inputs: np.ndarray | None = None) -> np.ndarray:
    """Nominal cash cost per unit of real output (intermediates + labour) over productivity."""
    inputs = input_price(model) if inputs is None else inputs
    return _cash_costs(model.f, inputs, model.params.material_cost_share, model.labour_cost_share,
                       model.conditions.other_price[model.t])


def _lithium_prices(model: YichunModel) -> tuple[float, float, float, int]:
    """(carbonate index, what a concentrate-buying refiner pays, other prices, upstream segment)."""
    p, c, t = model.params, model.conditions, model.t
    return (c.lithium_index[t], max(c.lithium_index[t], p.concentrate_floor), c.other_price[t],
            UPSTREAM)


@jit
def _input_prices(f, lithium_prices):  # noqa: ANN001, ANN202
    return np.array([_input_price(f, i, *lithium_prices) for i in range(f.n)])


@jit
def _cash_costs(f, inputs, material_cost_share, labour_cost_share, other_price):  # noqa: ANN001, ANN202
    return np.array([_cash_cost(material_cost_share[f.segment[i]], labour_cost_share[f.segment[i]],
                                inputs[i], other_price, f.productivity[i]) for i in range(f.n)])


@jit
def _input_price(f, i, lithium_index, refiner_price, other_price, upstream):  # noqa: ANN001, ANN202
    linked = _linked_price(f.segment[i], f.integrated[i], lithium_index, refiner_price, upstream)
    return _inputs(f.lithium_exposure[i], linked, other_price)


@jit
def _linked_price(segment, integrated, lithium_index, refiner_price, upstream):  # noqa: ANN001, ANN202
    """What a firm's lithium-linked inputs cost: a refiner buying concentrate pays the
    concentrate floor, everyone else the carbonate index."""
    return refiner_price if (segment == upstream and not integrated) else lithium_index


@jit
def _inputs(lithium_exposure, linked_price, other_price):  # noqa: ANN001, ANN202
    """The input price index: the lithium-linked share at its price, the rest at others'."""
    return (1.0 - lithium_exposure) * other_price + lithium_exposure * linked_price


@jit
def _cash_cost(material_cost_share, labour_cost_share, inputs, other_price, productivity):  # noqa: ANN001, ANN202
    """Unit cash cost: intermediates and labour at their prices, over productivity."""
    return (material_cost_share * inputs + labour_cost_share * other_price) / productivity


def open_month(model: YichunModel) -> None:
    """Start the month's flows from zero (awards paid in January count in January)."""
    f = model.f
    f.subsidy_income[:] = 0.0
    f.upgrades_month[:] = 0.0
    f.digital_projects_month[:] = 0.0


def competitive_price(model: YichunModel) -> np.ndarray:
    """Segment price indices, lowered by the segment's productivity gains since 2021:
    competition passes most cost savings on to buyers, so value-added ratios stay near their
    level (the rivals elsewhere cut their prices with their own gains: ``market``)."""
    gain, _ = model.technology()
    return model.conditions.price[model.t] * gain ** (-model.params.productivity_price_pass_through)


@jit
def _run_rate(price: float, cash_cost: float, band: float) -> float:
    """1 while price covers unit cash cost; falls linearly to 0 at `band` below it."""
    return 1.0 - min(max((cash_cost - price) / (band * cash_cost), 0.0), 1.0)


#: ``_run_rate`` over arrays (a compiled loop calls the scalar rule, which it can inline;
#: under NUMBA_DISABLE_JIT the rule is the plain function)
run_rate = vectorize(getattr(_run_rate, "py_func", _run_rate))


def produce(model: YichunModel) -> None:
    p, c, t = model.params, model.conditions, model.t
    segment_price = competitive_price(model)
    model.segment_price = segment_price
    model.official_price = segment_price * c.official_adjust[t]
    _produce(model.arrays(_PRODUCING), model.segment_runs(), segment_price, _lithium_prices(model),
             c.capacity_factor[t], p.max_utilisation, p.shutdown_band, p.material_cost_share,
             model.labour_cost_share, p.fixed_cost_rate, p.depreciation_rate, p.interest_rate)


_PRODUCING = firm_arrays("_PRODUCING", (
    "segment", "capacity", "demand", "alive", "volume", "revenue", "material_cost",
    "productivity", "capital", "debt", "rd_intensity", "rd_spend", "total_cost", "value_added",
    "value_added_ytd", "integrated", "lithium_exposure"), __name__)


@jit
def _produce(f, runs, segment_price, lithium_prices, capacity_factor, max_utilisation,  # noqa: ANN001, ANN202, PLR0913
             shutdown_band, material_cost_share, labour_cost_share, fixed_cost_rate,
             depreciation_rate, interest_rate):
    """Volume within demand, capacity and the cash-cost cut; revenue, costs, value added.

    Firms are stored by segment: the loop goes over runs of one segment's rows (``runs``:
    their starts, then n), reading the segment's prices once a run, so the rows of a run are
    made several at once (see ``model.jit.rows``). Each firm's figures are made in locals and
    stored once."""
    lithium_index, refiner_price, other_price, upstream = lithium_prices
    depreciation_monthly, interest_monthly = depreciation_rate / 12.0, interest_rate / 12.0
    for r in range(runs.size - 1):
        s = f.segment[runs[r]]
        price, factor = segment_price[s], capacity_factor[s]
        materials_share, labour_share = material_cost_share[s], labour_cost_share[s]
        for i in rows(runs[r], runs[r + 1]):
            productivity, capacity = f.productivity[i], f.capacity[i]
            linked = _linked_price(s, f.integrated[i], lithium_index, refiner_price, upstream)
            inputs = _inputs(f.lithium_exposure[i], linked, other_price)
            cash_cost = _cash_cost(materials_share, labour_share, inputs, other_price,
                                   productivity)
            ceiling = capacity * factor * max_utilisation
            # (a firm whose price covers its cash cost runs fully)
            rate = 1.0 if cash_cost <= price else _run_rate(price, cash_cost, shutdown_band)
            volume = min(f.demand[i], ceiling) * rate * (1.0 if f.alive[i] else 0.0)
            revenue = price * volume
            material_cost = volume * materials_share * inputs / productivity
            labour = volume * labour_share * other_price / productivity
            overheads = fixed_cost_rate * capacity * other_price    # capacity is monthly
            rd_spend = f.rd_intensity[i] * revenue
            value_added = revenue - material_cost - overheads
            f.volume[i], f.revenue[i], f.material_cost[i], f.rd_spend[i] = (
                volume, revenue, material_cost, rd_spend)
            f.total_cost[i] = (material_cost + labour + overheads
                               + depreciation_monthly * f.capital[i]
                               + interest_monthly * f.debt[i] + rd_spend)
            f.value_added[i] = value_added
            f.value_added_ytd[i] += value_added


def close_accounts(model: YichunModel) -> None:
    """Profit (利润总额, subsidies included), tax net of the R&D super-deduction, cash, debt."""
    p = model.params
    deduction = model.policy.instruments.rd_super_deduction.extra_deduction_rate
    _close_accounts(model.arrays(_ACCOUNTS), model.t, deduction, p.tax_rate, p.depreciation_rate,
                    p.ramp_up_months)


_ACCOUNTS = firm_arrays("_ACCOUNTS", (
    "profit", "revenue", "total_cost", "subsidy_income", "alive", "rd_spend", "capital", "cash",
    "debt", "revenue_last_year", "born_month", "loss_months", "revenue_ytd", "profit_ytd"), __name__)


@jit
def _close_accounts(f, t, deduction, tax_rate, depreciation_rate, ramp_up_months):  # noqa: ANN001, ANN202
    """(Each firm's figures are made in locals, in the order the accounts run, and stored
    once: a loop that reads back what it just stored must run one firm at a time, one that
    does not runs eight at once, to the same bits.)"""
    for i in range(f.alive.size):
        profit = (f.revenue[i] - f.total_cost[i] + f.subsidy_income[i]) * (
            1.0 if f.alive[i] else 0.0)
        tax = tax_rate * max(profit - deduction * f.rd_spend[i], 0.0)
        depreciation = depreciation_rate / 12.0 * f.capital[i]
        cash = f.cash[i] + (profit - tax + depreciation)
        borrow = max(-cash, 0.0)
        debt = f.debt[i] + borrow
        cash = cash + borrow
        repay = min(debt, max(cash - 0.05 * f.revenue_last_year[i], 0.0))
        # a plant still ramping up is expected to lose money: its losses do not count toward exit
        settled = t - f.born_month[i] >= ramp_up_months
        f.loss_months[i] = f.loss_months[i] + 1 if (profit < 0 and settled) else 0
        f.profit[i] = profit
        f.capital[i] -= depreciation
        f.debt[i] = debt - repay
        f.cash[i] = cash - repay
        f.revenue_ytd[i] += f.revenue[i]
        f.profit_ytd[i] += profit
