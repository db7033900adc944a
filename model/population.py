"""Synthetic firm population at the end of 2021, seeded and documented.

Procedure (every number from ``defaults.yaml`` or the facts):

1. Segment revenue totals: the eight chains' segments from ``revenue_2021``; the segment
   'other' is the remainder of the city's 2021 above-scale revenue (5094.6 / 1.088).
2. The named anchor firms that existed in 2021 (``anchors.yaml``, kind ``existing``) take
   their sizes; the segment's other above-scale firms draw Pareto sizes above the 0.2 亿
   line (tail index ``pareto_alpha``), the excess over 0.2 rescaled so the segment adds to
   its total.
3. A below-scale pool (``below_scale_per_above_scale`` per firm) draws lognormal sizes
   truncated below the line.
4. Each firm gets a county (``geography``), extra chain memberships
   (``membership_probability``), productivity, R&D intensity rising with size (certified
   high-tech firms at the certification thresholds), digital level, capital, cash, its
   exposure to the carbonate price (upstream: integrated producers or concentrate-buying
   refiners) and, for firms over 10 亿, local suppliers in its chain.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from model.anchors import Anchor, anchor_capacity, load_anchors
from model.errors import ParameterConflict
from model.jit import jit
from model.parameters import Parameters, load_geography
from model.state import FirmState, FirmViews, firm_arrays
from model.structure import (
    ABOVE_SCALE_LINE,
    CHAINS,
    COUNTIES,
    EMERGING_CHAINS,
    IS_LITHIUM,
    LITHIUM_MID_DOWN,
    SEGMENT_CHAIN_INDEX,
    SEGMENT_IDS,
    SEGMENT_INDEX,
)

#: No firm reached 100 亿 before 2022 (fact first_100yi_firm_2022: the "zero" was broken in 2022).
LARGEST_2021 = 95.0
#: China's high-tech enterprise rule: R&D over revenue of at least 5% (revenue < 0.5 亿),
#: 4% (0.5-2 亿) or 3% (larger) (高新技术企业认定管理办法, 2016).
HIGH_TECH_RD = ((0.5, 0.05), (2.0, 0.04), (np.inf, 0.03))


def existing_anchors(params: Parameters) -> dict[int, list[tuple[int, Anchor, float]]]:
    """{segment: [(anchor number, anchor, 2021 revenue)]} for anchors producing in 2021."""
    out: dict[int, list[tuple[int, Anchor, float]]] = {}
    for k, a in enumerate(load_anchors()):
        if a.kind == "existing":
            revenue = anchor_capacity(a, params.anchor_size_factor) * params.initial_utilisation
            out.setdefault(SEGMENT_INDEX[a.segment], []).append((k, a, revenue))
    return out


def segment_revenue_2021(params: Parameters) -> np.ndarray:
    """2021 above-scale revenue per segment, 亿元 (``revenue_2021``, 'other' included).

    The city's 2021 level is not 5094.6 / 1.088: a published growth rate compares the same
    firms in both years (同口径), while the level counts the firms of the year, so the 2021
    level is a parameter, and the 2022 level and growth are separate observations."""
    rev = params.revenue_2021.copy()
    if np.isnan(rev).any():
        missing = [seg for seg, value in zip(SEGMENT_IDS, rev, strict=True) if np.isnan(value)]
        raise ParameterConflict(None, "parameters.revenue_2021",
                                f"a 2021 revenue is needed for every segment; missing: {missing}")
    return rev


_MID_DOWN = np.isin(np.arange(len(SEGMENT_IDS)), LITHIUM_MID_DOWN)


_ETDZ = COUNTIES.index("etdz")


def county_weights(params: Parameters) -> np.ndarray:
    """Where firms of each segment sit (`geography`, rows summing to one), with the zone's
    weight outside lithium scaled by ``etdz_share_outside_lithium`` and the other places'
    weights of those rows scaled to keep each row summing to one."""
    weights = load_geography().copy()
    outside = ~np.asarray(IS_LITHIUM) & (weights[:, _ETDZ] > 0)
    zone = np.minimum(weights[outside, _ETDZ] * params.etdz_share_outside_lithium, 0.95)
    rest = 1.0 - weights[outside, _ETDZ]
    weights[outside] *= ((1.0 - zone) / rest)[:, None]
    weights[outside, _ETDZ] = zone
    return weights


def start_utilisation(params: Parameters) -> np.ndarray:
    """Output over capacity at the end of 2021, by segment (lithium was still ramping new lines)."""
    return params.derived("start_utilisation", lambda: np.where(
        np.array(IS_LITHIUM), params.initial_utilisation_lithium, params.initial_utilisation))


def membership_probabilities(params: Parameters) -> np.ndarray:
    """(segments x chains): the chance a firm of the segment also counts in the chain
    (``membership_probability``, keyed "<segment>_in_<chain>")."""
    def table() -> np.ndarray:
        probs = np.zeros((len(SEGMENT_IDS), len(CHAINS)))
        for key, prob in params.membership_probability.items():
            seg_name, chain_name = key.split("_in_")
            probs[SEGMENT_INDEX[seg_name], CHAINS.index(chain_name)] = prob
        return probs
    return params.derived("membership_probabilities", table)


def labour_cost_shares(params: Parameters) -> np.ndarray:
    return params.derived("labour_cost_shares", lambda: _labour_cost_shares(params))


def _labour_cost_shares(params: Parameters) -> np.ndarray:
    """Labour cost per unit of output, by segment, that makes the 2021 margins come out as
    documented: what is left of revenue after materials, overheads, depreciation and R&D."""
    p = params
    labour = (1.0 - p.margin_2021 - p.material_cost_share - p.fixed_cost_rate / start_utilisation(p)
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
    anchors = existing_anchors(params)
    sizes, segments, above, anchor_ids = [], [], [], []
    for s, seg in enumerate(SEGMENT_IDS):
        n, total = counts[s], seg_rev[s]
        placed = anchors.get(s, []) if scale >= 0.999 else []
        fixed = np.array([revenue for _, _, revenue in placed])
        if placed and (len(placed) >= n or fixed.sum() >= total - ABOVE_SCALE_LINE * (n - len(placed))):
            raise ParameterConflict(None, f"parameters.revenue_2021.{seg}",
                                    f"{total:.1f} 亿 cannot hold the named anchor firms "
                                    f"({fixed.sum():.1f} 亿) and {n - len(placed)} more firms")
        rest = pareto_sizes(n - len(placed), total - fixed.sum(), params.pareto_alpha, rng)
        seg_sizes = np.concatenate([fixed, rest])
        n_below = int(round(n * params.below_scale_per_above_scale))
        small = below_scale_sizes(n_below, params.below_scale_median_revenue,
                                  params.below_scale_sigma, rng)
        sizes += [seg_sizes, small]
        segments += [np.full(n, s), np.full(n_below, s)]
        above += [np.ones(n, bool), np.zeros(n_below, bool)]
        anchor_ids += [np.array([k for k, _, _ in placed], dtype=int),
                       np.full(n - len(placed) + n_below, -1)]
    revenue = np.concatenate(sizes)
    segment = np.concatenate(segments)
    n_firms = revenue.size

    firms = FirmState(size=int(n_firms * 1.3) + 64)
    idx = firms.add(n_firms)
    initialise_firms(FirmViews.of(firms), idx, segment, revenue, params, rng)
    firms.above_scale[idx] = np.concatenate(above)
    firms.born_month[idx] = -rng.integers(12, 240, n_firms)
    place_anchor_attributes(firms, idx[np.concatenate(anchor_ids) >= 0],
                            np.concatenate(anchor_ids)[np.concatenate(anchor_ids) >= 0], params)
    # 2020 and 2019 revenue for growth-based statuses: back-cast with noisy past growth
    past_growth = rng.normal(0.08, 0.15, n_firms)
    firms.revenue_two_years_ago[idx] = revenue / np.clip(1 + past_growth, 0.3, None)
    link_suppliers(firms, idx, idx, params.supplier_links_per_large_firm, rng)
    return firms


def place_anchor_attributes(firms: FirmState, idx: np.ndarray, numbers: np.ndarray,
                            params: Parameters) -> None:
    """Give firms `idx` the county, ore and certification of anchors `numbers`."""
    anchors = load_anchors()
    for i, k in zip(idx, numbers, strict=True):
        a = anchors[k]
        firms.anchor[i] = k
        if a.county is not None:
            firms.county[i] = COUNTIES.index(a.county)
        if a.integrated and not firms.integrated[i]:
            firms.integrated[i] = True
            firms.lithium_exposure[i] = params.integrated_lithium_input_share
            firms.productivity[i] *= 1.0 + params.refiner_cost_premium
        if a.high_tech:
            size = max(firms.revenue_last_year[i], 12.0 * (firms.capacity[i] + firms.ramping[i])
                       * params.initial_utilisation)
            certify(firms, np.array([i]), np.array([size]))


def certify(firms: FirmState, idx: np.ndarray, size: np.ndarray | None = None) -> None:
    """Make firms certified high-tech: R&D at least at the threshold for their size."""
    revenue = firms.revenue_last_year[idx] if size is None else size
    for i, r in zip(idx.tolist(), revenue.tolist(), strict=True):
        _certify(firms.high_tech, firms.rd_base, firms.rd_intensity, i, r)


@jit
def _certify(high_tech, rd_base, rd_intensity, i, revenue):  # noqa: ANN001, ANN202
    """Firm i certified high-tech at annual `revenue`: its R&D at least at its size's threshold."""
    (small, rd_small), (mid, rd_mid), (_, rd_large) = HIGH_TECH_RD
    floor = rd_small if revenue < small else (rd_mid if revenue < mid else rd_large)
    high_tech[i] = True
    rd_base[i] = max(rd_base[i], floor * 1.02)
    rd_intensity[i] = rd_base[i]


def initialise_firms(f: FirmViews, idx: np.ndarray, segment: np.ndarray, revenue: np.ndarray,
                     params: Parameters, rng: np.random.Generator,
                     technology: tuple[np.ndarray, np.ndarray] | None = None,
                     opening_month: int | None = None) -> None:
    """Fill the attributes of new firms `idx` (rows of `f`) from their segment and annual revenue.

    Each firm gets its chain and extra memberships, a county, productivity (concentrate-buying
    refiners at a cost premium; scaled so each segment's revenue-weighted mean of
    1/productivity is 1, the least productive held at cash break-even), R&D intensity rising
    with size (some firms certified high-tech), exposure to the carbonate price, a digital
    level, capital and cash. A firm opening during the run (in `opening_month`) comes with its
    segment's `technology` of the month (productivity and quality factors by segment) and no
    revenue last year.
    """
    # the draws, in a fixed order: uniforms (memberships, county, certification, integration),
    # the productivity and R&D shocks, the digital level
    uniform = rng.random((idx.size, len(CHAINS) + 3))
    shock = rng.standard_normal((2, idx.size))
    digital = _digital_levels(rng, revenue, params.digital_level_2021)
    _fill_firms(_FILLED.of(f), idx, segment, revenue, uniform, shock, digital,
                *(technology or _unchanged_technology(params)),
                -1 if opening_month is None else opening_month, *_segment_tables(params))
    f.competitiveness_base[idx] = competitiveness_of(f, idx, params)


def _digital_levels(rng: np.random.Generator, revenue: np.ndarray, level_2021: float) -> np.ndarray:
    """Digital levels: beta(8m, 8(1 - m)) around a mean m of 0.7x the 2021 level below the
    above-scale line, the 2021 level above it. Drawn by group (numpy's beta with a parameter
    per firm costs ~25 µs a call)."""
    below = revenue < ABOVE_SCALE_LINE
    digital = np.empty(revenue.size)
    for group, mean in ((below, 0.7 * level_2021), (~below, level_2021)):
        count = np.count_nonzero(group)
        if count:
            digital[group] = rng.beta(mean * 8, (1 - mean) * 8, count)
    return digital


def _unchanged_technology(params: Parameters) -> tuple[np.ndarray, np.ndarray]:
    ones = np.ones(len(SEGMENT_IDS))
    return ones, ones


#: the firm arrays ``_fill_firms`` writes
_FILLED = firm_arrays("_FILLED", (
    "alive", "segment", "chain", "member", "lithium_mid_down", "emerging", "extra_memberships",
    "county", "volume", "demand", "capacity", "quality", "appeal", "anchor", "rd_intensity",
    "rd_base", "revenue_last_year", "integrated", "lithium_exposure", "productivity",
    "unit_va_2021", "digital", "capital", "cash", "utilisation_expected", "margin_expected",
    "margin_last_year", "margin_two_years_ago", "expansion_rate", "supplier_of", "high_tech",
    "born_month"), __name__)


def lithium_input_shares(params: Parameters) -> np.ndarray:
    """Per segment, the share of material costs priced off carbonate. Refiners: their own
    parameter. Materials, cells and applications: their lithium price pass-through over their
    material share, so the lithium-linked part of their price pays for the lithium-linked part
    of their costs (cathode and cell contracts are indexed to carbonate, 价格联动): a carbonate
    swing moves their revenue and costs together and leaves their unit margin, so their
    value-added ratio stays positive through the 2022 boom, as cathode makers' did."""
    shares = np.zeros(len(SEGMENT_IDS))
    for seg, pass_through in params.lithium_price_pass_through.items():
        s = SEGMENT_INDEX[seg]
        shares[s] = (params.lithium_input_share["li_upstream"] if seg == "li_upstream"
                     else min(pass_through / params.material_cost_share[s], 1.0))
    return shares


def _segment_tables(params: Parameters) -> tuple:
    """What ``_fill_firms`` reads per segment or chain, and the scalar parameters it uses."""
    return params.derived("firm_tables", lambda: (
        np.asarray(SEGMENT_CHAIN_INDEX), membership_probabilities(params), _MID_DOWN,
        np.isin(np.arange(len(CHAINS)), EMERGING_CHAINS),
        np.cumsum(county_weights(params), axis=1), start_utilisation(params),
        lithium_input_shares(params),
        params.rd_intensity_2021, params.high_tech_share, params.productivity_sigma,
        params.rd_intensity_sigma, params.rd_size_elasticity,
        SEGMENT_INDEX["li_upstream"], params.upstream_integrated_share,
        params.integrated_lithium_input_share, params.refiner_cost_premium,
        (params.material_cost_share + labour_cost_shares(params)) * 1.01,
        params.material_cost_share, params.fixed_cost_rate, params.capital_output_ratio,
        params.initial_cash_to_revenue, params.margin_2021, 1.0 / params.expansion_lag_months))


@jit
def _fill_firms(f, idx, segment, revenue, uniform, shock, digital,  # noqa: ANN001, ANN202, PLR0913
                technology_productivity, technology_quality, opening_month, chain_of,
                member_probability, mid_down, emerging_chain, county_cumulative, utilisation,
                lithium_input_share, rd_intensity_2021, high_tech_share, productivity_sigma,
                rd_sigma, rd_size_elasticity, upstream, integrated_share,
                integrated_input_share, refiner_cost_premium, break_even, material_cost_share,
                fixed_cost_rate, capital_output_ratio, cash_to_revenue, margin_2021,
                expansion_rate):
    """New firms' attributes from their draws: ``uniform`` (firms x chains + 3: memberships,
    county, certification, integration), ``shock`` (2 x firms standard normals: productivity,
    R&D) and ``digital``."""
    n_chains = member_probability.shape[1]
    productivity = np.exp(productivity_sigma * shock[0])
    n_seg = utilisation.size
    inverse = np.zeros(n_seg)
    weight = np.zeros(n_seg)
    for k in range(idx.size):
        i, s = idx[k], segment[k]
        f.alive[i] = True
        f.segment[i] = s
        f.chain[i] = chain_of[s]
        # fixed per firm (segment and memberships never change)
        members = 0
        emerging = False
        for c in range(n_chains):
            f.member[i, c] = c == chain_of[s] or uniform[k, c] < member_probability[s, c]
            members += f.member[i, c]
            emerging = emerging or (f.member[i, c] and emerging_chain[c])
        f.lithium_mid_down[i] = mid_down[s]
        f.emerging[i] = emerging
        f.extra_memberships[i] = max(members - 1, 0)
        county = 0
        for j in range(county_cumulative.shape[1]):
            county += uniform[k, n_chains] > county_cumulative[s, j]
        f.county[i] = county
        f.volume[i] = revenue[k] / 12.0
        f.demand[i] = revenue[k] / 12.0
        f.capacity[i] = revenue[k] / 12.0 / utilisation[s]
        f.quality[i] = 1.0
        f.appeal[i] = 1.0
        f.anchor[i] = -1
        rd = (rd_intensity_2021 * max(revenue[k], 0.01) ** rd_size_elasticity
              * np.exp(rd_sigma * shock[1, k] - rd_sigma**2 / 2))
        f.rd_intensity[i] = min(max(rd, 0.0), 0.15)
        f.rd_base[i] = f.rd_intensity[i]
        f.revenue_last_year[i] = revenue[k]
        # upstream: integrated producers with their own ore, or concentrate-buying refiners,
        # which work at a higher unit cost
        integrated = s == upstream and uniform[k, n_chains + 2] < integrated_share
        f.integrated[i] = integrated
        f.lithium_exposure[i] = integrated_input_share if integrated else lithium_input_share[s]
        if s == upstream and not integrated:
            productivity[k] /= 1.0 + refiner_cost_premium
        inverse[s] += revenue[k] / productivity[k]
        weight[s] += revenue[k]
    for k in range(idx.size):
        i, s = idx[k], segment[k]
        # each segment's revenue-weighted mean of 1/productivity is 1 (its 2021 margin holds for
        # the segment as a whole); a firm producing in 2021 covered its cash cost at 2021
        # prices, so the least productive tail is held at the segment's cash break-even
        norm = inverse[s] / weight[s] if weight[s] > 0 else 1.0
        f.productivity[i] = max(productivity[k] * norm, break_even[s])
        # value added per unit of output at 2021 prices (the base of 2022's real growth)
        f.unit_va_2021[i] = (1.0 - material_cost_share[s] / f.productivity[i]
                             - fixed_cost_rate / utilisation[s])
        f.digital[i] = digital[k]
        f.capital[i] = capital_output_ratio * revenue[k]
        f.cash[i] = cash_to_revenue * revenue[k]
        f.utilisation_expected[i] = utilisation[s]
        f.margin_expected[i] = margin_2021[s]
        f.margin_last_year[i] = margin_2021[s]
        f.margin_two_years_ago[i] = margin_2021[s]
        f.expansion_rate[i] = expansion_rate
        f.supplier_of[i] = -1
        if uniform[k, n_chains + 1] < min(high_tech_share * np.sqrt(max(revenue[k], 0.01)), 0.9):
            _certify(f.high_tech, f.rd_base, f.rd_intensity, i, revenue[k])
        f.productivity[i] *= technology_productivity[s]
        f.quality[i] *= technology_quality[s]
        if opening_month >= 0:
            f.born_month[i] = opening_month
            f.revenue_last_year[i] = 0.0


def competitiveness_of(firms: FirmState, idx: np.ndarray | slice, params: Parameters) -> np.ndarray:
    """Productivity, R&D quality and digital level combined (as demand allocation weighs them)."""
    return _combine(firms.productivity[idx], firms.quality[idx] ** params.quality_weight,
                    firms.digital[idx], params.digital_weight)


@jit
def _combine(productivity, quality_term, digital, digital_weight):  # noqa: ANN001, ANN202
    out = np.empty(productivity.size)
    for i in range(out.size):
        out[i] = productivity[i] * quality_term[i] * (1.0 + digital_weight * digital[i])
    return out


def link_suppliers(firms: FirmState, buyers: np.ndarray, pool_idx: np.ndarray, links_per_firm: float,
                   rng: np.random.Generator, size: np.ndarray | None = None) -> None:
    """Give each buyer over 10 亿 Poisson-many local suppliers among smaller firms of its chain
    (more for larger firms: the mean grows with the square root of size)."""
    revenue = firms.revenue_last_year[buyers] if size is None else size
    large = buyers[revenue >= 10.0]
    pool_rev = firms.revenue_last_year[pool_idx]
    candidates = pool_idx[(pool_rev < 5.0) & (firms.chain[pool_idx] >= 0)]
    by_size = np.argsort(-revenue[revenue >= 10.0], kind="stable")
    order = large[by_size]
    scale = np.sqrt(revenue[revenue >= 10.0][by_size] / 10.0).tolist()   # in `order`
    # each chain's unlinked candidates, kept in candidate order and shrunk as they are linked:
    # the same draws as filtering all candidates for every buyer, without its quadratic cost
    pools: dict[int, np.ndarray] = {}
    for firm, firm_scale in zip(order, scale, strict=True):
        chain = int(firms.chain[firm])
        if chain not in pools:
            pools[chain] = candidates[(firms.chain[candidates] == chain)
                                      & (firms.supplier_of[candidates] < 0)]
        pool = pools[chain]
        k = min(pool.size, rng.poisson(links_per_firm * firm_scale))
        if k:
            firms.supplier_of[rng.choice(pool, k, replace=False)] = firm
            pools[chain] = pool[firms.supplier_of[pool] < 0]
