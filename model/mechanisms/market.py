"""Demand: how much Yichun's firms can sell, and how it is shared among them.

Segment demand is the market's trend (China's market for lithium, ``exogenous``) with
Yichun's share of it moving with Yichun's own capacity: demand = base x market^(1-θ) x
(capacity / capacity_2021)^θ, with θ = ``capacity_pull_*``, and with its relative price
(productivity gains passed on to buyers win customers from other regions, elasticity
``price_elasticity``). So a new plant's orders come
through its group's contracts in proportion to what it adds, an elasticity that
calibration estimates rather than a fixed captive share.

Within a segment a firm's pull is usable capacity x (competitiveness gained since the firm
was created)^elasticity x appeal (its size already reflects its competitiveness then), and
its market share moves each month toward its pull's share (``share_persistence`` keeps
customers sticky). ``appeal`` is a firm's idiosyncratic demand (customers won and lost), a
persistent log-AR(1) whose volatility falls with size (size^``volatility_size_elasticity``),
as firm growth rates do; young small firms drift up as they win customers (Haltiwanger et
al. 2013: young firms grow faster, "up or out"). Part of the orders a firm cannot fill
(``spillover_share``) go to the segment's firms with spare capacity; the rest buy outside
the city. Large firms buy part of their materials from their linked local suppliers
(本地配套), as far as those can make it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.population import competitiveness_of
from model.structure import IS_LITHIUM

if TYPE_CHECKING:
    from model.economy import YichunModel

_LITHIUM = np.array(IS_LITHIUM)


def drift_appeal(model: YichunModel) -> None:
    """Each firm wins and loses customers: a persistent log-AR(1), less volatile for larger firms."""
    f, p, rng = model.f, model.params, model.stream("market")
    size = np.maximum(12.0 * f.capacity * 0.8, 0.01)
    sigma = p.appeal_volatility * size ** p.volatility_size_elasticity
    young = (model.t - f.born_month < 60) & (size < 5.0)
    drift = young * p.young_firm_growth / 12.0
    shock = sigma * rng.standard_normal(f.n)  # the same draws as rng.normal(0, sigma)
    f.appeal[:] = np.exp(p.appeal_persistence * np.log(f.appeal) + drift + shock)


def spill_over(model: YichunModel, demand: np.ndarray, ceiling: np.ndarray) -> np.ndarray:
    """Part of the orders beyond a firm's capacity (``spillover_share``) go to its segment's
    firms with spare capacity; the rest are lost to suppliers elsewhere. Moving them all would
    peg every firm's sales to its capacity whenever its segment is near full, erasing the
    firm-level demand shocks that make firm growth rates dispersed."""
    f, n_seg = model.f, model.n_segments
    excess = model.params.spillover_share * np.maximum(demand - ceiling, 0.0)
    spare = np.maximum(ceiling - demand, 0.0)
    excess_total = np.bincount(f.segment, excess, minlength=n_seg)
    spare_total = np.bincount(f.segment, spare, minlength=n_seg)
    moved = np.minimum(excess_total, spare_total)
    take = np.divide(moved, spare_total, out=np.zeros(n_seg), where=spare_total > 0)[f.segment]
    give = np.divide(moved, excess_total, out=np.zeros(n_seg), where=excess_total > 0)[f.segment]
    return demand - give * excess + take * spare


def segment_demand(model: YichunModel) -> np.ndarray:
    """Real demand met by each segment this month: the market, pulled by Yichun's capacity and
    by its prices relative to competitors elsewhere (lowered by its productivity gains)."""
    f, p, c, t = model.f, model.params, model.conditions, model.t
    capacity = np.bincount(f.segment, f.capacity * f.alive, minlength=model.n_segments)
    relative = np.divide(capacity, model.base_capacity, out=np.ones_like(capacity),
                         where=model.base_capacity > 0)
    theta = np.where(_LITHIUM, p.capacity_pull_lithium, p.capacity_pull_other)
    pull = (relative / c.market[t]) ** theta
    gain, _ = model.technology()
    relative_price = gain ** (-p.productivity_price_pass_through)
    return model.base_demand * c.real_demand[t] * pull * relative_price ** (-p.price_elasticity)


def allocate_demand(model: YichunModel) -> None:
    f, p, t = model.f, model.params, model.t
    n_seg = model.n_segments
    drift_appeal(model)
    usable = f.capacity * model.conditions.capacity_factor[t, f.segment] * f.alive
    # a firm's size already reflects its competitiveness when it was created: shares move with
    # what it gains (or loses) since, so the starting population is in its own steady state
    gain = competitiveness_of(model.firms, slice(0, f.n), p) / f.competitiveness_base
    pull = usable * gain ** p.competitiveness_elasticity * f.appeal
    pull_total = np.bincount(f.segment, pull, minlength=n_seg)
    target = pull / np.where(pull_total > 0, pull_total, 1.0)[f.segment]
    share = p.share_persistence * f.share + (1.0 - p.share_persistence) * target
    share *= f.alive
    share_total = np.bincount(f.segment, share, minlength=n_seg)
    f.share[:] = share / np.where(share_total > 0, share_total, 1.0)[f.segment]
    # local suppliers' sales to their buyer are part of their segment's demand, not extra to
    # it; a buyer sources locally only what its suppliers can make beside their other orders
    ceiling = usable * p.max_utilisation
    market_total = segment_demand(model)
    wanted = local_supplier_pull(model)
    open_market = market_total - np.bincount(f.segment, wanted, minlength=n_seg)
    local = np.minimum(wanted, np.maximum(ceiling - f.share * open_market[f.segment], 0.0))
    open_market = np.maximum(market_total - np.bincount(f.segment, local, minlength=n_seg), 0.0)
    demand = f.share * open_market[f.segment] + local
    f.demand[:] = spill_over(model, demand, ceiling)


def local_supplier_pull(model: YichunModel) -> np.ndarray:
    """Real demand each supplier gets from the large firm it supplies, by supplier capacity."""
    f, p = model.f, model.params
    linked = (f.supplier_of >= 0) & f.alive
    pull = np.zeros(f.n)
    if not linked.any():
        return pull
    buyer = f.supplier_of[linked]
    purchases = p.local_sourcing_share * f.volume[buyer] * p.material_cost_share[f.segment[buyer]]
    weight = f.capacity[linked]
    weight_total = np.bincount(buyer, weight, minlength=f.n)
    pull[linked] = purchases * weight / np.where(weight_total[buyer] > 0, weight_total[buyer], 1.0)
    return pull
