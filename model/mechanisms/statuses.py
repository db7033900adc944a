"""Statuses and awards, decided each January from last year's accounts.

- Chain leaders (链主), annex 9 of the plan: revenue >= 50 亿 (>= 10 亿 as the largest firm
  of a sub-chain segment), at least 5 local suppliers (3 in a sub-chain), R&D >= 3% of
  revenue (2.5%), and profitability in the last two years above the same industry's
  average (近两年盈利能力超过同行业企业平均水平: the firm's segment); at most
  ``max_per_chain`` per chain, the largest first. Leaders get the
  one-off award and, with land and energy priority, faster expansions.
- Scale milestones: first year over 100 亿 or 50 亿 with growth at least the city's, price-
  driven firms excepted (the plan's 受价格因素影响大的除外: the lithium carbonate segment).
- Gazelles and potential gazelles by two-year revenue growth (``gazelle_growth``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

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
    f = model.f
    revenue = f.revenue_last_year
    suppliers = local_supplier_counts(model)
    counted = f.alive & f.above_scale
    weight = np.bincount(f.segment, revenue * counted, minlength=model.n_segments)

    def industry_margin(margin: np.ndarray) -> np.ndarray:
        total = np.bincount(f.segment, margin * revenue * counted, minlength=model.n_segments)
        return np.divide(total, weight, out=np.zeros_like(total), where=weight > 0)[f.segment]

    above_average = (f.chain >= 0) & (f.margin_last_year >= industry_margin(f.margin_last_year)) & (
        f.margin_two_years_ago >= industry_margin(f.margin_two_years_ago))
    full = (revenue >= 50.0) & (suppliers >= 5) & (f.rd_intensity >= 0.03)
    sub_segment = np.isin(f.segment, [SEGMENT_INDEX[s] for s in SUB_CHAIN_SEGMENTS])
    seg_max = np.zeros(model.n_segments)
    np.maximum.at(seg_max, f.segment[f.alive], revenue[f.alive])
    top_of_segment = revenue >= seg_max[f.segment]
    sub = sub_segment & top_of_segment & (revenue >= 10.0) & (suppliers >= 3) & (
        f.rd_intensity >= 0.025)
    return f.alive & f.above_scale & above_average & (full | sub)


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
    f.chain_leader[:] = leaders
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
