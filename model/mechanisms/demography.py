"""Entry, exit and the above-scale line (规模以上, 0.2 亿 a year), both ways.

Established firms are counted from January by last year's revenue, as the statistics do;
a new plant joins the count in the month its annualised revenue since opening passes the
line (新建投产企业入统). Firms with long loss streaks close; below-scale firms also close at
a small background rate. New small firms enter below the line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.jit import jit
from model.sampling import categorical
from model.state import firm_arrays
from model.structure import ABOVE_SCALE_LINE

if TYPE_CHECKING:
    from model.economy import YichunModel


def roll_year(model: YichunModel) -> None:
    """January: last year's revenue and margins become the base of this year's statuses."""
    f = model.f
    f.revenue_two_years_ago[:] = f.revenue_last_year
    f.revenue_last_year[:] = f.revenue_ytd
    margin = np.divide(f.profit_ytd, f.revenue_ytd, out=np.zeros(f.n), where=f.revenue_ytd > 0)
    f.margin_two_years_ago[:] = f.margin_last_year
    f.margin_last_year[:] = margin
    f.revenue_ytd[:] = 0.0
    f.profit_ytd[:] = 0.0
    f.above_scale[:] = f.alive & (f.revenue_last_year >= ABOVE_SCALE_LINE)
    roll_prices(model)


def roll_prices(model: YichunModel) -> None:
    """Each industry's value-added ratio (增加值率) of last year becomes this year's weight.

    As the bureau computes real value added: each firm's output at last year's prices times
    its industry's value-added ratio of the previous year; an industry whose value added was
    below zero weighs zero. (Last year's average deflator is set when the year closes.)
    """
    f = model.f
    n_seg = model.n_segments
    revenue = np.bincount(f.segment, f.revenue_last_year, minlength=n_seg)
    model.segment_va_ratio = np.maximum(np.divide(
        np.bincount(f.segment, f.value_added_ytd, minlength=n_seg), revenue,
        out=model.segment_va_ratio.copy(), where=revenue > 0), 0.0)
    f.value_added_ytd[:] = 0.0


def count_new_plants(model: YichunModel) -> None:
    """New plants enter the statistics once their annualised revenue passes the line."""
    _count_new_plants(model.arrays(_NEW_PLANTS), model.t,
                      ABOVE_SCALE_LINE)


_NEW_PLANTS = firm_arrays("_NEW_PLANTS", (
    "born_month", "alive", "above_scale", "revenue_ytd"), __name__)


@jit
def _count_new_plants(f, t, line):  # noqa: ANN001, ANN202
    for i in range(f.n):
        months_open = t - f.born_month[i] + 1
        if f.alive[i] and not f.above_scale[i] and 0 < months_open <= 12:
            annualised = f.revenue_ytd[i] * 12.0 / min(months_open, t % 12 + 1)
            if annualised >= line:
                f.above_scale[i] = True


def close_firms(model: YichunModel) -> None:
    """Firms with long loss streaks close (``exit_probability`` a month once the streak reaches
    ``exit_loss_months``); below-scale firms also close at a background rate."""
    f, p, rng = model.f, model.params, model.stream("exit")
    losing_draw = rng.random(f.n)
    background_draw = rng.random(f.n)
    _close(model.arrays(_CLOSING), losing_draw, background_draw, p.exit_loss_months, p.exit_probability,
           p.below_scale_exit_rate / 12.0)


_CLOSING = firm_arrays("_CLOSING", (
    "loss_months", "above_scale", "alive", "chain_leader", "capacity", "pending_expansion",
    "ramping", "share", "supplier_of"), __name__)


@jit
def _close(f, losing_draw, background_draw, exit_loss_months, exit_probability,  # noqa: ANN001, ANN202
           background_rate):
    closed = np.zeros(f.n, dtype=np.bool_)
    for i in range(f.n):
        losing = f.loss_months[i] >= exit_loss_months and losing_draw[i] < exit_probability
        background = not f.above_scale[i] and background_draw[i] < background_rate
        if f.alive[i] and (losing or background):
            closed[i] = True
            f.alive[i] = f.above_scale[i] = f.chain_leader[i] = False
            f.capacity[i] = f.pending_expansion[i] = f.ramping[i] = f.share[i] = 0.0
            f.supplier_of[i] = -1
    for i in range(f.n):           # suppliers of a closed firm lose their buyer
        if f.supplier_of[i] >= 0 and closed[f.supplier_of[i]]:
            f.supplier_of[i] = -1


def enter_small_firms(model: YichunModel) -> None:
    p, rng = model.params, model.stream("entry")
    count = rng.poisson(p.small_firm_entry_per_year * model.population_scale / 12.0)
    if count == 0:
        return
    segment = categorical(rng, model.entry_segment_cdf, count)
    revenue = model.small_firm_sizes(count)
    model.add_firms(segment, revenue)
