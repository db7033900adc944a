"""Production within capacity, nominal revenue = price x volume, costs, value added, profit.

Volume is real (2021 prices); revenue is nominal. Real value added is single-deflated
(real output x the segment's 2021 value-added ratio), as China's industrial value-added
growth is computed from constant-price output. A firm whose unit variable cost exceeds
its price cuts output smoothly (``shutdown_softness``), as lepidolite producers did in 2024.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from model.economy import YichunModel


def unit_variable_cost(model: YichunModel) -> np.ndarray:
    """Nominal variable cost per unit of real output (materials + labour) over productivity."""
    f, p, c, t = model.f, model.params, model.conditions, model.t
    seg = f.segment
    materials = p.material_cost_share[seg] * c.input_price[t, seg]
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
    f, p, c, t = model.f, model.params, model.conditions, model.t
    weight = f.capacity * f.alive
    total = np.bincount(f.segment, weight, minlength=model.n_segments)
    mean_productivity = np.divide(np.bincount(f.segment, weight * f.productivity,
                                              minlength=model.n_segments),
                                  total, out=np.ones(model.n_segments), where=total > 0)
    gain = mean_productivity / model.base_productivity
    return c.price[t] * gain ** (-p.productivity_price_pass_through)


def produce(model: YichunModel) -> None:
    f, p, c, t = model.f, model.params, model.conditions, model.t
    seg = f.segment
    price = competitive_price(model)[seg]
    uvc = unit_variable_cost(model)
    gap = (price - uvc) / (p.shutdown_softness * uvc)
    willing = 1.0 / (1.0 + np.exp(-np.clip(gap, -50, 50)))
    ceiling = f.capacity * c.capacity_factor[t, seg] * p.max_utilisation * willing
    f.volume[:] = np.minimum(f.demand, ceiling) * f.alive
    f.revenue[:] = price * f.volume
    f.material_cost[:] = f.volume * p.material_cost_share[seg] * c.input_price[t, seg] / f.productivity
    labour = f.volume * model.labour_cost_share[seg] * c.other_price[t] / f.productivity
    overheads = p.fixed_cost_rate * f.capacity * c.other_price[t]  # capacity is monthly
    depreciation = p.depreciation_rate / 12.0 * f.capital
    interest = p.interest_rate / 12.0 * f.debt
    f.rd_spend[:] = f.rd_intensity * f.revenue
    f.total_cost[:] = f.material_cost + labour + overheads + depreciation + interest + f.rd_spend
    f.value_added_real[:] = f.volume * (1.0 - p.material_cost_share[seg])


def close_accounts(model: YichunModel) -> None:
    """Profit (利润总额, subsidies included), tax, cash and debt; loss streaks."""
    f, p = model.f, model.params
    f.profit[:] = (f.revenue - f.total_cost + f.subsidy_income) * f.alive
    tax = p.tax_rate * np.maximum(f.profit, 0.0)
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
