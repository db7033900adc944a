"""Demand: how much Yichun's firms can sell, and how it is shared among them.

Carbonate (the lithium upstream) is a commodity: its refiners take the market price and sell
all they make, so the segment's demand is its usable capacity and its output is cut only by
the cash-cost rule (``production``). Every other segment's demand is the market's trend
(China's market for lithium, ``exogenous``) times Yichun's share of it, which moves over time
(``update_regional_share``) toward what Yichun's own capacity implies: in the long run
demand = base x market^(1-θ) x (capacity / capacity_2021)^θ, with θ = ``capacity_pull_*``;
and with its relative price
(productivity gains passed on to buyers win customers from other regions, elasticity
``price_elasticity``). So a new plant's orders come
through its group's contracts in proportion to what it adds, an elasticity that
calibration estimates rather than a fixed captive share.

Within a segment a firm's pull is usable capacity x (competitiveness gained since the firm
was created)^elasticity x appeal (its size already reflects its competitiveness then), and
its market share moves each month toward its pull's share (``share_persistence`` keeps
customers sticky; not for carbonate, a commodity, nor for the groups' captive cell lines).
``appeal`` is a firm's idiosyncratic demand (customers won and lost), a
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

from model.jit import jit, next_group
from model.population import competitiveness_of
from model.structure import IS_LITHIUM, SEGMENT_INDEX

if TYPE_CHECKING:
    from model.economy import YichunModel
    from model.parameters import Parameters

_LITHIUM = np.array(IS_LITHIUM)


def drift_appeal(model: YichunModel) -> None:
    """Each firm wins and loses customers: a persistent log-AR(1), less volatile for larger firms."""
    f, p, rng = model.f, model.params, model.stream("market")
    # in place where it can be (at 10^6 firms each temporary array is 8 MB)
    sigma = _firm_sizes(f.capacity)
    np.power(sigma, p.volatility_size_elasticity, out=sigma)   # size -> volatility
    level = np.log(f.appeal)
    _log_ar1(level, p.appeal_persistence, f.capacity, f.born_month, model.t, p.young_firm_growth,
             p.appeal_volatility, sigma, rng)
    np.exp(level, out=f.appeal)


@jit
def _firm_size(capacity):  # noqa: ANN001, ANN202
    """Annual size at 80% use (at least 0.01 亿)."""
    return max(12.0 * capacity * 0.8, 0.01)


@jit
def _firm_sizes(capacity):  # noqa: ANN001, ANN202
    sizes = np.empty(capacity.size)
    for i in range(capacity.size):
        sizes[i] = _firm_size(capacity[i])
    return sizes


@jit
def _log_ar1(log_level, persistence, capacity, born_month, t, young_firm_growth,  # noqa: ANN001, ANN202, PLR0913
             volatility, size_factor, rng):
    """One step of the log-AR(1), in place: shock sd = volatility x size_factor; young small
    firms (5 years, under 5 亿) drift up at ``young_firm_growth`` a year. The shocks are
    `rng`'s standard normals in row order: numba's generator runs numpy's ziggurat on the same
    bit generator (the same numbers and the same state after), at half numpy's cost per draw."""
    shock = np.empty(log_level.size)
    for i in range(shock.size):              # the draws, one after another
        shock[i] = rng.standard_normal()
    monthly_growth = young_firm_growth / 12.0
    for i in range(log_level.size):          # the arithmetic, several firms at once
        young = (t - born_month[i] < 60) and (_firm_size(capacity[i]) < 5.0)
        drift = monthly_growth if young else 0.0
        sigma = size_factor[i] * volatility
        log_level[i] = persistence * log_level[i] + drift + sigma * shock[i]


class CompetitiveGains:
    """Each firm's competitiveness gained since it was created, to the power
    ``competitiveness_elasticity``: the factor by which its pull on demand moved (a firm's size
    already reflects its competitiveness when it was created, so the starting population is in
    its own steady state).

    Competitiveness (productivity, R&D quality, digital level) moves only for the few firms that
    innovate, upgrade or digitalise in a month, so the factor is recomputed for those firms
    (and new ones) alone: a firm whose three levels are what they were last month keeps its
    factor, the same number the full computation gives.
    """

    def __init__(self) -> None:
        self.levels = np.full((0, 3), np.nan)  # productivity, quality, digital when last computed
        self.factor = np.zeros(0)               # (with spare rows, NaN: not yet computed)
        self.weights: tuple[float, ...] = ()
        self.seen = 0                           # firms at the last update

    def update(self, model: YichunModel) -> np.ndarray:
        f, p, n = model.f, model.params, model.f.n
        weights = (p.quality_weight, p.digital_weight, p.competitiveness_elasticity)
        if weights != self.weights or n < self.seen:
            self.__init__()
            self.weights = weights
        if self.factor.size < n:               # room for a year of entrants at a time
            room = n + n // 8
            self.levels = np.concatenate((self.levels, np.full((room - self.factor.size, 3), np.nan)))
            self.factor = np.concatenate((self.factor, np.zeros(room - self.factor.size)))
        self.seen = n
        rows = _changed(self.levels, f.productivity, f.quality, f.digital)
        gain = competitiveness_of(f, rows, p) / f.competitiveness_base[rows]
        self.factor[rows] = gain ** p.competitiveness_elasticity
        return self.factor[:n]


@jit
def _changed(levels, productivity, quality, digital):  # noqa: ANN001, ANN202
    """Rows whose productivity, quality or digital level differs from `levels` (NaN: never
    seen); `levels` takes their new values."""
    rows = np.empty(productivity.size, dtype=np.int64)
    count = 0
    for i in range(productivity.size):
        if (levels[i, 0] != productivity[i] or levels[i, 1] != quality[i]
                or levels[i, 2] != digital[i]):
            levels[i, 0], levels[i, 1], levels[i, 2] = productivity[i], quality[i], digital[i]
            rows[count] = i
            count += 1
    return rows[:count]


_UPSTREAM = SEGMENT_INDEX["li_upstream"]
_CELLS = np.isin(np.arange(len(IS_LITHIUM)), [SEGMENT_INDEX["li_cells"],
                                               SEGMENT_INDEX["li_applications"]])
#: segments whose firms take the market price and sell all they make: carbonate, a commodity
_PRICE_TAKERS = np.arange(len(IS_LITHIUM)) == _UPSTREAM


def capacity_pulls(p: Parameters) -> np.ndarray:
    """Per segment, how far its demand follows its capacity (θ): the groups' cell and pack
    plants (``capacity_pull_cells``), the rest of lithium (``capacity_pull_lithium``), and
    other industry (``capacity_pull_other``)."""
    return np.where(_CELLS, p.capacity_pull_cells,
                    np.where(_LITHIUM, p.capacity_pull_lithium, p.capacity_pull_other))


def segment_demand(model: YichunModel) -> np.ndarray:
    """Real demand met by each segment this month: the market, pulled by Yichun's capacity and
    by its prices relative to competitors elsewhere (lowered by its productivity gains)."""
    p, c, t = model.params, model.conditions, model.t
    gain = model.productivity_against_rivals()
    relative_price = gain ** (-p.productivity_price_pass_through)
    demand = (model.base_demand * c.real_demand[t] * model.regional_share
              * relative_price ** (-p.price_elasticity))
    # carbonate is a commodity sold at the market price: the refiners sell what they can make
    # (the price-taking supply of competitive markets); how much they make is the production
    # rule's, cut only where the price falls below their cash cost
    demand[_UPSTREAM] = (model.base_capacity[_UPSTREAM] * model.relative_capacity[_UPSTREAM]
                         * c.capacity_factor[t, _UPSTREAM] * p.max_utilisation)
    return demand


def update_regional_share(model: YichunModel) -> None:
    """Yichun's share of each market moves toward what its capacity implies,
    (capacity / capacity_2021 over the market's growth)^θ, by ``share_adjustment`` a month (in
    logs): buyers change regions' suppliers slowly (contracts, supplier
    qualification), so a market's growth reaches the city at once and the city's capacity
    changes its share over time."""
    c, p, t = model.conditions, model.params, model.t
    target = (model.relative_capacity / c.market[t]) ** capacity_pulls(p)
    speed = share_adjustment(p)
    model.regional_share = model.regional_share ** (1.0 - speed) * target ** speed


def share_adjustment(p: Parameters) -> np.ndarray:
    """Per segment, the monthly speed of ``update_regional_share``: 1 for the groups' cell and
    pack plants, whose orders are the group's own and come with the plant (it places them when
    it builds the line), ``regional_share_adjustment`` for markets of outside buyers."""
    return np.where(_CELLS, 1.0, p.regional_share_adjustment)


def share_persistence(p: Parameters) -> np.ndarray:
    """Per segment, the weight of last month's share within the segment: customer stickiness
    (``share_persistence``) where buyers choose among the city's firms, none for carbonate (a
    commodity: each refiner sells what it makes at the market price) and none for the groups'
    cell and pack plants (their orders are the group's own, placed with the line), so a new
    refinery or cell line sells its usable capacity from its first month, as Gotion's did."""
    return np.where(_CELLS | (np.arange(_CELLS.size) == _UPSTREAM), 0.0, p.share_persistence)


def allocate_demand(model: YichunModel) -> None:
    """Shares move toward each firm's pull; the segment's demand is shared out, local suppliers
    served first, and part of what a full firm cannot make spills to firms with spare room."""
    f, p, t = model.f, model.params, model.t
    drift_appeal(model)
    model.technology()                  # this month's relative capacity
    update_regional_share(model)
    gain_factor = model.competitive_gains.update(model)
    wanted, substituted = local_supplier_pull(model)
    # a chain leader's purchases matched to local suppliers beyond what it bought here before
    # were bought outside the city: new demand for the suppliers' segments
    market_total = segment_demand(model) + np.bincount(f.segment, substituted,
                                                       minlength=model.n_segments)
    _share_out(f.segment, f.alive, f.capacity, model.conditions.capacity_factor[t], gain_factor,
               f.appeal, share_persistence(p), _PRICE_TAKERS, p.max_utilisation, market_total,
               wanted, p.spillover_share,
               f.share, f.demand)


@jit
def _share_out(segment, alive, capacity, capacity_factor, gain_factor, appeal, persistence,  # noqa: ANN001, ANN202, PLR0913
               price_takers, max_utilisation, market_total, wanted, spillover_share, share, demand):
    """Market shares (in place), then each firm's demand (into ``demand``), segment by segment;
    in a price takers' segment each firm's demand is what it can make (its ceiling).
    Segment totals are summed in row order with each segment's running sum in a register
    while its rows follow one another (as ``sum_by``), inside the pass that makes the values."""
    n, n_seg = segment.size, market_total.size
    ceiling = np.empty(n)
    pull = np.empty(n)
    pull_total, wanted_total = np.zeros(n_seg), np.zeros(n_seg)
    current, running_pull, running_wanted = 0, 0.0, 0.0
    for i in range(n):
        if segment[i] != current:
            running_pull = next_group(pull_total, current, running_pull, segment[i])
            running_wanted = next_group(wanted_total, current, running_wanted, segment[i])
            current = segment[i]
        usable = capacity[i] * capacity_factor[segment[i]] * (1.0 if alive[i] else 0.0)
        pull[i] = usable * gain_factor[i] * appeal[i]
        ceiling[i] = usable * max_utilisation
        running_pull += pull[i]
        running_wanted += wanted[i]
    pull_total[current], wanted_total[current] = running_pull, running_wanted
    share_total = np.zeros(n_seg)
    current, running = 0, 0.0
    for i in range(n):
        if segment[i] != current:
            running, current = next_group(share_total, current, running, segment[i]), segment[i]
        total = pull_total[segment[i]]
        target = pull[i] / (total if total > 0 else 1.0)
        keep = persistence[segment[i]]
        share[i] = (keep * share[i] + (1.0 - keep) * target) * (1.0 if alive[i] else 0.0)
        running += share[i]
    share_total[current] = running
    # local suppliers' sales to their buyer are part of their segment's demand, not extra to
    # it; a buyer sources locally only what its suppliers can make beside their other orders
    open_market = market_total - wanted_total
    local = np.empty(n)
    local_total = np.zeros(n_seg)
    current, running = 0, 0.0
    for i in range(n):
        if segment[i] != current:
            running, current = next_group(local_total, current, running, segment[i]), segment[i]
        total = share_total[segment[i]]
        share[i] = share[i] / (total if total > 0 else 1.0)
        local[i] = min(wanted[i], max(ceiling[i] - share[i] * open_market[segment[i]], 0.0))
        running += local[i]
    local_total[current] = running
    open_market = np.maximum(market_total - local_total, 0.0)
    excess_total, spare_total = np.zeros(n_seg), np.zeros(n_seg)
    current, running_excess, running_spare = 0, 0.0, 0.0
    for i in range(n):
        if segment[i] != current:
            running_excess = next_group(excess_total, current, running_excess, segment[i])
            running_spare = next_group(spare_total, current, running_spare, segment[i])
            current = segment[i]
        if price_takers[segment[i]]:
            demand[i] = ceiling[i]           # sells what it makes at the market price
        else:
            demand[i] = share[i] * open_market[segment[i]] + local[i]
        excess, spare = _excess_and_spare(demand[i], ceiling[i], spillover_share)
        running_excess += excess
        running_spare += spare
    excess_total[current], spare_total[current] = running_excess, running_spare
    _move_spillover(segment, demand, ceiling, spillover_share, excess_total, spare_total)


def spill_over(model: YichunModel, demand: np.ndarray, ceiling: np.ndarray) -> np.ndarray:
    """Part of the orders beyond a firm's capacity (``spillover_share``) go to its segment's
    firms with spare capacity; the rest are lost to suppliers elsewhere. Moving them all would
    peg every firm's sales to its capacity whenever its segment is near full, erasing the
    firm-level demand shocks that make firm growth rates dispersed."""
    out = demand.copy()
    _spill_over(model.f.segment, out, ceiling, model.params.spillover_share, model.n_segments)
    return out


@jit
def _spill_over(segment, demand, ceiling, spillover_share, n_seg):  # noqa: ANN001, ANN202
    """``spill_over`` in place (segment sums as in ``_share_out``)."""
    excess_total, spare_total = np.zeros(n_seg), np.zeros(n_seg)
    current, running_excess, running_spare = 0, 0.0, 0.0
    for i in range(segment.size):
        if segment[i] != current:
            running_excess = next_group(excess_total, current, running_excess, segment[i])
            running_spare = next_group(spare_total, current, running_spare, segment[i])
            current = segment[i]
        excess, spare = _excess_and_spare(demand[i], ceiling[i], spillover_share)
        running_excess += excess
        running_spare += spare
    excess_total[current], spare_total[current] = running_excess, running_spare
    _move_spillover(segment, demand, ceiling, spillover_share, excess_total, spare_total)


@jit
def _move_spillover(segment, demand, ceiling, spillover_share, excess_total, spare_total):  # noqa: ANN001, ANN202
    """Given each segment's excess orders and spare capacity, move what fits: each firm gives
    the same share of its excess and takes the same share of its spare room."""
    n_seg = excess_total.size
    give, take = np.zeros(n_seg), np.zeros(n_seg)    # the share of excess moved, of spare filled
    for s in range(n_seg):
        moved = min(excess_total[s], spare_total[s])
        if excess_total[s] > 0:
            give[s] = moved / excess_total[s]
        if spare_total[s] > 0:
            take[s] = moved / spare_total[s]
    for i in range(segment.size):
        excess, spare = _excess_and_spare(demand[i], ceiling[i], spillover_share)
        demand[i] = demand[i] - give[segment[i]] * excess + take[segment[i]] * spare


@jit
def _excess_and_spare(demand, ceiling, spillover_share):  # noqa: ANN001, ANN202
    """A firm's orders beyond its capacity that may spill to others, and its spare room."""
    return spillover_share * max(demand - ceiling, 0.0), max(ceiling - demand, 0.0)


def local_supplier_pull(model: YichunModel) -> tuple[np.ndarray, np.ndarray]:
    """Real demand each supplier gets from the large firm it supplies, by supplier capacity,
    and the part of it that a chain leader's supplier matching brought home (bought outside
    the city before: ``leader_local_sourcing_share`` over ``local_sourcing_share``)."""
    f, p = model.f, model.params
    return _supplier_pull(f.supplier_of, f.alive, f.volume, f.capacity, f.segment,
                          f.chain_leader, p.material_cost_share, p.local_sourcing_share,
                          max(p.leader_local_sourcing_share, p.local_sourcing_share))


@jit
def _supplier_pull(supplier_of, alive, volume, capacity, segment, chain_leader,  # noqa: ANN001, ANN202, PLR0913
                   material_cost_share, local_sourcing_share, leader_sourcing_share):
    """A buyer's local purchases, shared among its live suppliers by capacity; and the part of
    each supplier's share that its buyer, a chain leader, buys here beyond the usual share."""
    n = supplier_of.size
    capacity_total = np.zeros(n)
    for i in range(n):
        if supplier_of[i] >= 0 and alive[i]:
            capacity_total[supplier_of[i]] += capacity[i]
    pull, substituted = np.zeros(n), np.zeros(n)
    for i in range(n):
        buyer = supplier_of[i]
        if buyer >= 0 and alive[i]:
            share = leader_sourcing_share if chain_leader[buyer] else local_sourcing_share
            purchases = volume[buyer] * material_cost_share[segment[buyer]]
            total = capacity_total[buyer]
            weight = capacity[i] / (total if total > 0 else 1.0)
            pull[i] = share * purchases * weight
            substituted[i] = (share - local_sourcing_share) * purchases * weight
    return pull, substituted
