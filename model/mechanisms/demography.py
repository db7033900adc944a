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
from model.sampling import bernoulli_rows, categorical
from model.state import Opening, firm_arrays
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
    set_entry_rate(model)


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
    """New plants enter the statistics once their annualised revenue passes the line (only
    firms opened in the last 12 months can: the rows after the starting population)."""
    _count_new_plants(model.arrays(_NEW_PLANTS), model.first_entrant, model.t, ABOVE_SCALE_LINE)


_NEW_PLANTS = firm_arrays("_NEW_PLANTS", (
    "born_month", "alive", "above_scale", "revenue_ytd"), __name__)


@jit
def _count_new_plants(f, first, t, line):  # noqa: ANN001, ANN202
    for i in range(first, f.n):
        months_open = t - f.born_month[i] + 1
        if f.alive[i] and not f.above_scale[i] and 0 < months_open <= 12:
            annualised = f.revenue_ytd[i] * 12.0 / min(months_open, t % 12 + 1)
            if annualised >= line:
                f.above_scale[i] = True


def close_firms(model: YichunModel) -> None:
    """Firms with long loss streaks close (``exit_probability`` a month once the streak reaches
    ``exit_loss_months``); below-scale firms also close at a background rate. The two hazards
    are independent: a firm exposed to both closes with probability 1 - (1 - a)(1 - b). Firms
    are first picked at the highest such probability, then each picked firm closes with its
    own probability over that one (thinning: the same chances, with draws only for the few
    firms picked)."""
    f, p, rng = model.f, model.params, model.stream("exit")
    losing, background = p.exit_probability, p.below_scale_exit_rate / 12.0
    highest = chance_of_either(losing, background)
    picked = bernoulli_rows(rng, f.n, highest)
    _close(model.arrays(_CLOSING), picked, rng.random(picked.size) * highest, p.exit_loss_months,
           losing, background)


_CLOSING = firm_arrays("_CLOSING", (
    "loss_months", "above_scale", "alive", "chain_leader", "capacity", "pending_expansion",
    "ramping", "ramp_step", "share", "supplier_of", "anchor"), __name__)


@jit
def _close(f, picked, draw, exit_loss_months, losing_hazard, background_hazard):  # noqa: ANN001, ANN202
    """Each picked firm closes if its draw (uniform below the picking probability) falls below
    its own probability of closing; suppliers of a closed firm lose their buyer."""
    closed = np.zeros(f.n, dtype=np.bool_)
    any_closed = False
    for k in range(picked.size):
        i = picked[k]
        # a named group's plant is backed by the group, which closes a site by decision, not by
        # a stand-alone firm's cash-flow rule: none of them closed in 2022-2025 (Gotion
        # expanded in 2025, fact gotion_phase2_2025); its losses shrink it instead (investment)
        on_its_own = f.anchor[i] < 0
        losing = losing_hazard if f.loss_months[i] >= exit_loss_months and on_its_own else 0.0
        # a new plant still ramping up is below the line by its first months' sales, not small
        background = background_hazard if not (f.above_scale[i] or f.ramping[i] > 0) else 0.0
        if f.alive[i] and draw[k] < chance_of_either(losing, background):
            closed[i] = any_closed = True
            f.alive[i] = f.above_scale[i] = f.chain_leader[i] = False
            f.capacity[i] = f.pending_expansion[i] = f.ramping[i] = f.ramp_step[i] = 0.0
            f.share[i] = 0.0
            f.supplier_of[i] = -1
    if any_closed:
        for i in range(f.n):
            if f.supplier_of[i] >= 0 and closed[f.supplier_of[i]]:
                f.supplier_of[i] = -1


@jit
def chance_of_either(a, b):  # noqa: ANN001, ANN201
    """The chance of at least one of two independent events of chances `a` and `b`."""
    return 1.0 - (1.0 - a) * (1.0 - b)


def set_entry_rate(model: YichunModel) -> None:
    """Each January (and at the start): this year's small entrants a month replace the pool's
    background closures and grow it by ``small_firm_pool_growth`` (see its basis)."""
    f, p = model.f, model.params
    pool = np.count_nonzero(f.alive & ~f.above_scale)
    model.entrants_per_month = max(p.below_scale_exit_rate + p.small_firm_pool_growth, 0.0) * pool / 12.0


def enter_small_firms(model: YichunModel) -> None:
    """Small firms enter at a Poisson rate (``set_entry_rate``), in segments weighted by their
    2021 above-scale firm counts, sized below the above-scale line; they open with the month's
    new plants."""
    rng = model.stream("entry")
    count = rng.poisson(model.entrants_per_month)
    if count == 0:
        return
    segment = categorical(rng, model.entry_segment_cdf, count)
    model.waiting_firms.append(Opening(segment, model.small_firm_sizes(count)))


def open_firms(model: YichunModel) -> None:
    """The month's new firms open together, new plants of finished projects and small entrants
    alike (setting up new firms costs the same for one or a hundred); each kind then does
    what it does with its firms."""
    waiting, model.waiting_firms = model.waiting_firms, []
    if not waiting:
        return
    idx = model.add_firms(np.concatenate([w.segment for w in waiting]),
                          np.concatenate([w.revenue for w in waiting]))
    start = 0
    for w in waiting:
        if w.opened is not None:
            w.opened(idx[start: start + w.segment.size])
        start += w.segment.size
