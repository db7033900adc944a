"""Production within capacity; nominal revenue = price x volume; costs, value added, profit.

Firms make what they can sell, up to capacity x ``max_utilisation``, as long as the price
covers their unit cash cost (intermediate inputs and labour over productivity). Only when it
does not do they cut output, linearly to nothing once the price is ``shutdown_band`` below
cost (lepidolite refiners in 2024); sustained losses then lead to idling and exit
(``demography``). No cut happens at normal margins, so seasonality and demand pass through.

Value added is gross output less intermediate inputs: materials, energy and purchased
services (``material_cost_share``, part priced off carbonate) and the capacity-related
overheads (``fixed_cost_rate``). Labour, depreciation, interest, R&D and profit are what
remains. Real value added is measured as Chinese statistics do (``statistics``): each firm's
output deflated to last year's prices by the official price index of its industry, times
the industry's value-added ratio of last year, over the same firms a year before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

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
    f, p, c, t = model.f, model.params, model.conditions, model.t
    linked = np.full(f.n, c.lithium_index[t])
    refiner = (f.segment == UPSTREAM) & ~f.integrated
    linked[refiner] = max(c.lithium_index[t], p.concentrate_floor)
    return (1.0 - f.lithium_exposure) * c.other_price[t] + f.lithium_exposure * linked


def unit_cash_cost(model: YichunModel, inputs: np.ndarray | None = None) -> np.ndarray:
    """Nominal cash cost per unit of real output (intermediates + labour) over productivity."""
    f, p, c, t = model.f, model.params, model.conditions, model.t
    seg = f.segment
    inputs = input_price(model) if inputs is None else inputs
    materials = p.material_cost_share[seg] * inputs
    labour = model.labour_cost_share[seg] * c.other_price[t]
    return (materials + labour) / f.productivity


def open_month(model: YichunModel) -> None:
    """Start the month's flows from zero (awards paid in January count in January)."""
    f = model.f
    f.subsidy_income[:] = 0.0
    f.upgrades_month[:] = 0.0
    f.digital_projects_month[:] = 0.0


def competitive_price(model: YichunModel) -> np.ndarray:
    """Segment price indices, lowered by the segment's productivity gains since 2021."""
    gain, _ = model.technology()
    return model.conditions.price[model.t] * gain ** (-model.params.productivity_price_pass_through)


def run_rate(price: np.ndarray, cash_cost: np.ndarray, band: float) -> np.ndarray:
    """1 while price covers unit cash cost; falls linearly to 0 at `band` below it."""
    shortfall = (cash_cost - price) / (band * cash_cost)
    return 1.0 - np.clip(shortfall, 0.0, 1.0)


def produce(model: YichunModel) -> None:
    f, p, c, t = model.f, model.params, model.conditions, model.t
    seg = f.segment
    segment_price = competitive_price(model)
    model.official_price = segment_price * c.official_adjust[t]
    price = segment_price[seg]
    inputs = input_price(model)
    cash_cost = unit_cash_cost(model, inputs)
    ceiling = f.capacity * c.capacity_factor[t, seg] * p.max_utilisation
    f.volume[:] = np.minimum(f.demand, ceiling) * run_rate(price, cash_cost, p.shutdown_band) * f.alive
    f.revenue[:] = price * f.volume
    f.material_cost[:] = f.volume * p.material_cost_share[seg] * inputs / f.productivity
    labour = f.volume * model.labour_cost_share[seg] * c.other_price[t] / f.productivity
    overheads = p.fixed_cost_rate * f.capacity * c.other_price[t]  # capacity is monthly
    depreciation = p.depreciation_rate / 12.0 * f.capital
    interest = p.interest_rate / 12.0 * f.debt
    f.rd_spend[:] = f.rd_intensity * f.revenue
    f.total_cost[:] = f.material_cost + labour + overheads + depreciation + interest + f.rd_spend
    f.value_added[:] = f.revenue - f.material_cost - overheads
    # the bureau's measure: output deflated to last year's prices by the official deflator,
    # times last year's value-added ratio of the industry
    deflate = model.deflator_last_year / model.official_price
    f.value_added_prevprice[:] = f.revenue * (deflate * model.segment_va_ratio)[seg]
    f.value_added_ytd += f.value_added


def close_accounts(model: YichunModel) -> None:
    """Profit (利润总额, subsidies included), tax net of the R&D super-deduction, cash, debt."""
    f, p = model.f, model.params
    f.profit[:] = (f.revenue - f.total_cost + f.subsidy_income) * f.alive
    deduction = model.policy.instruments.rd_super_deduction.extra_deduction_rate
    taxable = np.maximum(f.profit - deduction * f.rd_spend, 0.0)
    tax = p.tax_rate * taxable
    depreciation = p.depreciation_rate / 12.0 * f.capital
    f.capital -= depreciation
    f.cash += f.profit - tax + depreciation
    borrow = np.maximum(-f.cash, 0.0)
    f.debt += borrow
    f.cash += borrow
    buffer = 0.05 * f.revenue_last_year
    repay = np.minimum(f.debt, np.maximum(f.cash - buffer, 0.0))
    f.debt -= repay
    f.cash -= repay
    # a plant still ramping up is expected to lose money: its losses do not count toward exit
    settled = model.t - f.born_month >= model.params.ramp_up_months
    f.loss_months[:] = np.where((f.profit < 0) & settled, f.loss_months + 1, 0)
    f.revenue_ytd += f.revenue
    f.profit_ytd += f.profit
