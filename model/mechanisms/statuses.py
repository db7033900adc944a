"""Statuses and awards, decided each January from last year's accounts.

- Chain leaders (链主), annex 9 of the plan: revenue >= 50 亿 (>= 10 亿 as the largest firm
  of a sub-chain segment), at least 5 local suppliers (3 in a sub-chain), R&D >= 3% of
  revenue (2.5%), and profitability in the last two years above the same industry's
  average (近两年盈利能力超过同行业企业平均水平: the firm's segment); at most
  ``max_per_chain`` per chain, the largest first. Leaders get the one-off award, supplier
  matching (the city links local firms of the chain to a new leader, which then buys more of
  its materials locally: ``leader_local_sourcing_share``, new demand for those suppliers) and,
  with land and energy priority, faster expansions.
- Scale milestones: first year over 100 亿 or 50 亿 with growth at least the city's, price-
  driven firms excepted (the plan's 受价格因素影响大的除外: the lithium carbonate segment).
- Gazelles and potential gazelles by two-year revenue growth (``gazelle_growth``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.jit import jit
from model.scenario import month_index
from model.structure import CHAINS, SEGMENT_INDEX

if TYPE_CHECKING:
    from model.economy import YichunModel

SUB_CHAIN_SEGMENTS = {"li_upstream", "li_materials", "li_cells", "li_applications",
                      "building_ceramics", "building_furniture"}


def local_supplier_counts(model: YichunModel) -> np.ndarray:
    f = model.f
    linked = (f.supplier_of >= 0) & f.alive
    return np.bincount(f.supplier_of[linked], minlength=f.n)


def leader_eligible(model: YichunModel) -> np.ndarray:
    """Which firms meet annex 9's conditions for chain leader this January (see the module)."""
    f = model.f
    return _leader_eligible(f.segment, f.chain, f.alive, f.above_scale, f.revenue_last_year,
                            f.margin_last_year, f.margin_two_years_ago, f.rd_intensity,
                            local_supplier_counts(model), _SUB_CHAIN)


#: the sub-chain segments, as a flag per segment
_SUB_CHAIN = np.isin(np.arange(len(SEGMENT_INDEX)), [SEGMENT_INDEX[s] for s in SUB_CHAIN_SEGMENTS])


@jit
def _leader_eligible(segment, chain, alive, above_scale, revenue, margin_last, margin_before,  # noqa: ANN001, ANN202, PLR0913
                     rd_intensity, suppliers, sub_chain):
    """First each segment's revenue-weighted average margins of its counted (live, above-scale)
    firms in the last two years and its largest live firm; then each firm's conditions: a
    chain firm above both averages, and either a full leader (50 亿, 5 suppliers, R&D 3%) or
    the largest of a sub-chain segment (10 亿, 3 suppliers, R&D 2.5%)."""
    n_seg = sub_chain.size
    weight, last_total, before_total = np.zeros(n_seg), np.zeros(n_seg), np.zeros(n_seg)
    largest = np.zeros(n_seg)
    for i in range(segment.size):
        s = segment[i]
        counted = 1.0 if (alive[i] and above_scale[i]) else 0.0
        weight[s] += revenue[i] * counted
        last_total[s] += margin_last[i] * revenue[i] * counted
        before_total[s] += margin_before[i] * revenue[i] * counted
        if alive[i]:
            largest[s] = max(largest[s], revenue[i])
    average_last, average_before = np.zeros(n_seg), np.zeros(n_seg)
    for s in range(n_seg):
        if weight[s] > 0:
            average_last[s] = last_total[s] / weight[s]
            average_before[s] = before_total[s] / weight[s]
    eligible = np.zeros(segment.size, dtype=np.bool_)
    for i in range(segment.size):
        s = segment[i]
        above_average = (chain[i] >= 0 and margin_last[i] >= average_last[s]
                         and margin_before[i] >= average_before[s])
        full = revenue[i] >= 50.0 and suppliers[i] >= 5 and rd_intensity[i] >= 0.03
        sub = (sub_chain[s] and revenue[i] >= largest[s] and revenue[i] >= 10.0
               and suppliers[i] >= 3 and rd_intensity[i] >= 0.025)
        eligible[i] = alive[i] and above_scale[i] and above_average and (full or sub)
    return eligible


def recognise_leaders(model: YichunModel) -> None:
    f, t, policy = model.f, model.t, model.policy.chain_leaders
    if t < month_index(policy.recognition_start):
        return
    eligible = leader_eligible(model)
    leaders = np.zeros(f.n, dtype=bool)
    for c in range(len(CHAINS)):
        pool = np.flatnonzero(eligible & (f.chain == c))
        best = pool[np.argsort(-f.revenue_last_year[pool], kind="stable")][: policy.max_per_chain]
        leaders[best] = True
    new_leaders = np.flatnonzero(leaders & ~f.chain_leader)
    f.chain_leader[:] = leaders
    # supplier matching (产业链对接): the city links local firms of the chain to each new leader;
    # its purchases from them beyond the usual local share are new demand (market)
    if new_leaders.size and model.params.leader_matched_suppliers > 0:
        model.link_suppliers_of(new_leaders, f.revenue_last_year[new_leaders],
                                model.params.leader_matched_suppliers)
    lag = model.params.expansion_lag_months
    cut = policy.expansion_lag_cut if policy.land_energy_priority else 0.0
    f.expansion_rate[:] = np.where(leaders, 1.0 / (lag * (1 - cut)), 1.0 / lag)
    gov = model.government
    if not gov.active("chain_leader_award", t):
        return
    award = model.policy.instruments.chain_leader_award
    new = np.flatnonzero(leaders & ~f.leader_awarded)
    amounts = np.where(f.revenue_last_year[new] >= award.provincial_min_revenue,
                       award.provincial_award, award.city_award)
    paid = gov.allocate("chain_leader_award", t, new, amounts, f.revenue_last_year[new])
    f.leader_awarded[new[paid > 0]] = True


def milestone_awards(model: YichunModel) -> None:
    f, t, gov = model.f, model.t, model.government
    if not gov.active("scale_milestone_award", t):
        return
    award = model.policy.instruments.scale_milestone_award
    growth = np.divide(f.revenue_last_year, f.revenue_two_years_ago, out=np.zeros(f.n),
                       where=f.revenue_two_years_ago > 0) - 1.0
    city_growth = model.recorder.last_city_revenue_growth()
    qualifies = f.alive & (growth >= city_growth) & (f.segment != SEGMENT_INDEX["li_upstream"])
    for line, flag, amount in ((100.0, f.awarded_100yi, award.award_100yi),
                               (50.0, f.awarded_50yi, award.award_50yi)):
        new = np.flatnonzero(qualifies & (f.revenue_last_year >= line) & ~flag)
        paid = gov.allocate("scale_milestone_award", t, new, np.full(new.size, amount),
                            f.revenue_last_year[new])
        flag[new[paid > 0]] = True


def gazelle_awards(model: YichunModel) -> None:
    f, p, t, gov = model.f, model.params, model.t, model.government
    growth = np.sqrt(np.divide(f.revenue_last_year, f.revenue_two_years_ago, out=np.zeros(f.n),
                               where=f.revenue_two_years_ago > 0)) - 1.0
    in_range = f.alive & f.above_scale & (f.revenue_last_year <= p.gazelle_max_revenue)
    gazelle = in_range & (growth >= p.gazelle_growth)
    potential = in_range & ~gazelle & (growth >= p.potential_gazelle_growth)
    if gov.active("gazelle_award", t):
        award = model.policy.instruments.gazelle_award
        for status, flag, amount in ((gazelle, f.gazelle, award.gazelle),
                                     (potential, f.potential_gazelle, award.potential_gazelle)):
            new = np.flatnonzero(status & ~flag)
            gov.allocate("gazelle_award", t, new, np.full(new.size, amount), growth[new])
    f.gazelle[:] |= gazelle
    f.potential_gazelle[:] |= potential & ~f.gazelle
