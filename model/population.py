"""Synthetic firm population at the end of 2021, seeded and documented.

Procedure (every number from ``defaults.yaml`` or the facts):

1. Segment revenue totals: the eight chains' segments from ``revenue_2021``; the segment
   'other' is the remainder of the city's 2021 above-scale revenue (5094.6 / 1.088).
2. Above-scale firms per segment draw Pareto sizes above the 0.2 亿 line (tail index
   ``pareto_alpha``); the excess over 0.2 is rescaled so the segment adds to its total.
   The largest lithium carbonate producer is placed first with its share of the segment.
3. A below-scale pool (``below_scale_per_above_scale`` per firm) draws lognormal sizes
   truncated below the line.
4. Each firm gets a county (``geography``), extra chain memberships
   (``membership_probability``), productivity, R&D intensity, digital level, capital,
   cash and, for firms over 10 亿, local suppliers in its chain.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from model.errors import ParameterConflict
from model.facts import revenue_2021_total
from model.parameters import Parameters, load_geography
from model.state import FirmState
from model.structure import (
    ABOVE_SCALE_LINE,
    CHAINS,
    SEGMENT_CHAIN_INDEX,
    SEGMENT_IDS,
    SEGMENT_INDEX,
)

#: No firm reached 100 亿 before 2022 (fact first_100yi_firm_2022: the "zero" was broken in 2022).
LARGEST_2021 = 95.0


def segment_revenue_2021(params: Parameters) -> np.ndarray:
    """2021 above-scale revenue per segment, 亿元; 'other' closes the city total."""
    rev = params.revenue_2021.copy()
    other = SEGMENT_INDEX["other"]
    rev[other] = revenue_2021_total() - np.nansum(np.delete(rev, other))
    if rev[other] <= 0:
        raise ParameterConflict(
            None, "parameters.revenue_2021",
            f"the eight chains' 2021 revenue ({np.nansum(np.delete(rev, other)):.0f} 亿) exceeds "
            f"the city total {revenue_2021_total():.0f} 亿")
    return rev


def labour_cost_shares(params: Parameters) -> np.ndarray:
    """Labour cost per unit of output, by segment, that makes the 2021 margins come out as
    documented: what is left of revenue after materials, overheads, depreciation and R&D."""
    p = params
    labour = (1.0 - p.margin_2021 - p.material_cost_share - p.fixed_cost_rate / p.initial_utilisation
              - p.depreciation_rate * p.capital_output_ratio - p.rd_intensity_2021)
    if np.any(labour < 0.01):
        bad = [seg for seg, x in zip(SEGMENT_IDS, labour, strict=True) if x < 0.01]
        raise ParameterConflict(None, "parameters.margin_2021",
                                f"2021 accounts cannot close for segments {bad}: margin, material "
                                "cost, overheads, depreciation and R&D leave no room for labour")
    return labour


def check_coherence(params: Parameters) -> None:
    """Raise ParameterConflict when the population cannot be built from these values."""
    labour_cost_shares(params)
    rev = segment_revenue_2021(params)
    counts = np.maximum(1, np.round(params.above_scale_firms_2021))
    for s, seg in enumerate(SEGMENT_IDS):
        if not ABOVE_SCALE_LINE * counts[s] < rev[s] < LARGEST_2021 * counts[s]:
            raise ParameterConflict(
                None, f"parameters.revenue_2021.{seg}",
                f"{rev[s]:.1f} 亿 cannot be shared by {counts[s]:.0f} firms of "
                f"{ABOVE_SCALE_LINE}-{LARGEST_2021} 亿 (above_scale_firms_2021.{seg})")


def pareto_sizes(n: int, total: float, alpha: float, rng: np.random.Generator,
                 cap: float = LARGEST_2021) -> np.ndarray:
    """n sizes above the line with a Pareto tail, rescaled to add to `total`, none over `cap`.

    The excess over the line is scaled to meet the total; sizes over the cap are clipped and
    the clipped amount is spread over the others in proportion to their excess.
    """
    if n == 0:
        return np.zeros(0)
    floor = ABOVE_SCALE_LINE * 1.0001
    if not floor * n < total < cap * n:
        raise ParameterConflict(None, "parameters.revenue_2021",
                                f"{total:.1f} 亿 cannot be split over {n} firms of {floor}-{cap} 亿")
    excess = ABOVE_SCALE_LINE * (1.0 - rng.random(n)) ** (-1.0 / alpha) - ABOVE_SCALE_LINE
    sizes = floor + excess * (total - floor * n) / excess.sum()
    for _ in range(50):
        over = sizes > cap
        if not over.any():
            break
        spill = (sizes[over] - cap).sum()
        sizes[over] = cap
        free = ~over & (sizes < cap)
        sizes[free] += spill * excess[free] / excess[free].sum()
    return sizes


def below_scale_sizes(n: int, median: float, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Lognormal sizes truncated below the above-scale line (inverse-CDF sampling)."""
    upper = special.ndtr(np.log(ABOVE_SCALE_LINE * 0.999 / median) / sigma)
    return median * np.exp(sigma * special.ndtri(rng.random(n) * upper))


def synthesise(params: Parameters, rng: np.random.Generator, scale: float = 1.0) -> FirmState:
    """Build the end-2021 population; annual revenues are at 2021 prices."""
    seg_rev = segment_revenue_2021(params) * scale
    counts = np.maximum(1, np.round(params.above_scale_firms_2021 * scale)).astype(int)
    sizes, segments, above = [], [], []
    for s, seg in enumerate(SEGMENT_IDS):
        n, total = counts[s], seg_rev[s]
        if seg == "li_upstream" and n > 1:
            top = params.lithium_top_firm_share_2021 * total
            rest = pareto_sizes(n - 1, total - top, params.pareto_alpha, rng)
            seg_sizes = np.concatenate([[top], rest])
        else:
            seg_sizes = pareto_sizes(n, total, params.pareto_alpha, rng)
        n_below = int(round(n * params.below_scale_per_above_scale))
        small = below_scale_sizes(n_below, params.below_scale_median_revenue,
                                  params.below_scale_sigma, rng)
        sizes += [seg_sizes, small]
        segments += [np.full(n, s), np.full(n_below, s)]
        above += [np.ones(n, bool), np.zeros(n_below, bool)]
    revenue = np.concatenate(sizes)
    segment = np.concatenate(segments)
    n_firms = revenue.size

    firms = FirmState(size=int(n_firms * 1.3) + 64)
    idx = firms.add(n_firms)
    initialise_firms(firms, idx, segment, revenue, params, rng)
    firms.above_scale[idx] = np.concatenate(above)
    firms.born_month[idx] = -rng.integers(12, 240, n_firms)
    # 2020 and 2019 revenue for growth-based statuses: back-cast with noisy past growth
    past_growth = rng.normal(0.08, 0.15, n_firms)
    firms.revenue_two_years_ago[idx] = revenue / np.clip(1 + past_growth, 0.3, None)
    link_suppliers(firms, idx, params.supplier_links_per_large_firm, rng)
    return firms


def initialise_firms(firms: FirmState, idx: np.ndarray, segment: np.ndarray, revenue: np.ndarray,
                     params: Parameters, rng: np.random.Generator) -> None:
    """Fill the attributes of new firms `idx` from their segment and annual revenue."""
    n = idx.size
    firms.alive[idx] = True
    firms.segment[idx] = segment
    chain = np.asarray(SEGMENT_CHAIN_INDEX)[segment]
    firms.chain[idx] = chain
    member = np.zeros((n, len(CHAINS)), dtype=bool)
    has_chain = chain >= 0
    member[np.flatnonzero(has_chain), chain[has_chain]] = True
    extra = params.membership_probability
    for key, prob in extra.items():
        seg_name, chain_name = key.split("_in_")
        hit = (segment == SEGMENT_INDEX[seg_name]) & (rng.random(n) < prob)
        member[hit, CHAINS.index(chain_name)] = True
    firms.member[idx] = member
    geo = load_geography()
    cum = np.cumsum(geo[segment], axis=1)
    firms.county[idx] = (rng.random(n)[:, None] > cum).sum(axis=1)

    monthly = revenue / 12.0
    firms.volume[idx] = monthly
    firms.demand[idx] = monthly
    firms.capacity[idx] = monthly / params.initial_utilisation
    productivity = np.exp(rng.normal(0.0, params.productivity_sigma, n))
    # scale so each segment's revenue-weighted mean of 1/productivity is 1: the 2021 margins
    # in defaults.yaml hold for the segment as a whole
    inverse = np.bincount(segment, revenue / productivity, minlength=len(SEGMENT_IDS))
    weight = np.bincount(segment, revenue, minlength=len(SEGMENT_IDS))
    norm = np.divide(inverse, weight, out=np.ones_like(inverse), where=weight > 0)
    firms.productivity[idx] = productivity * norm[segment]
    firms.quality[idx] = 1.0
    small = revenue < ABOVE_SCALE_LINE
    sigma = params.rd_intensity_sigma
    rd = params.rd_intensity_2021 * np.exp(rng.normal(-sigma**2 / 2, sigma, n))
    rd[small] *= 0.5
    firms.rd_intensity[idx] = np.clip(rd, 0.0, 0.15)
    firms.rd_base[idx] = firms.rd_intensity[idx]
    mean_digital = np.where(small, 0.7, 1.0) * params.digital_level_2021
    firms.digital[idx] = rng.beta(mean_digital * 8, (1 - mean_digital) * 8)
    firms.capital[idx] = params.capital_output_ratio * revenue
    firms.cash[idx] = params.initial_cash_to_revenue * revenue
    firms.revenue_last_year[idx] = revenue
    firms.utilisation_expected[idx] = params.initial_utilisation
    firms.margin_expected[idx] = params.margin_2021[segment]
    firms.margin_last_year[idx] = params.margin_2021[segment]
    firms.margin_two_years_ago[idx] = params.margin_2021[segment]
    firms.expansion_rate[idx] = 1.0 / params.expansion_lag_months
    firms.supplier_of[idx] = -1


def link_suppliers(firms: FirmState, idx: np.ndarray, links_per_firm: float,
                   rng: np.random.Generator) -> None:
    """Give each firm over 10 亿 Poisson-many local suppliers among smaller firms of its chain."""
    revenue = firms.revenue_last_year[idx]
    large = idx[revenue >= 10.0]
    candidates = idx[(revenue < 5.0) & (firms.chain[idx] >= 0)]
    for firm in large[np.argsort(-firms.revenue_last_year[large])]:
        pool = candidates[(firms.chain[candidates] == firms.chain[firm])
                          & (firms.supplier_of[candidates] < 0)]
        k = min(pool.size, rng.poisson(links_per_firm))
        if k:
            firms.supplier_of[rng.choice(pool, k, replace=False)] = firm
