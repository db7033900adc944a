"""Investment attraction (招商引资): signed → approved → built (or dropped) → ramping → producing.

Projects are records, not agents. Each signed project draws an investment amount
(lognormal fitted to 2022's 338 projects worth 1796 亿), whether it will be realised, an
approval time (80 working days before the reform, 25 after) and a construction lag. When
construction ends it either opens a new firm or adds a plant to an existing firm of its
segment; the plant's capacity then ramps up (``mature_capacity``). The named anchor plants
and expansions (``anchors.yaml``) are projects too, with their own dates, sizes and hosts.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import special

from model.anchors import anchor_capacity, load_anchors
from model.jit import jit, next_group
from model.population import place_anchor_attributes
from model.sampling import cumulative, lookup
from model.scenario import month_index
from model.state import Opening
from model.structure import CHAINS, COUNTIES, SEGMENT_INDEX, SEGMENTS

if TYPE_CHECKING:
    from model.economy import YichunModel

SIGNED, BUILDING, PRODUCING, DROPPED = 0, 1, 2, 3
TAIL_START = 20.0  # 亿元: the "5020" line of large projects
STAGES = ("signed", "building", "producing", "dropped")
WORKING_DAYS_PER_MONTH = 21.75
_FIELDS = ("sign_month", "start_month", "done_month", "segment", "chain", "amount",
           "realised", "stage", "firm", "anchor")
#: anchor projects were signed before the simulation; they do not count as signings
ANCHOR_SIGNED = -1000
#: a new plant's annual revenue when it opens (it starts empty and ramps up)
NEW_PLANT_REVENUE = 1e-6


class ProjectBook:
    """All projects as parallel arrays, with spare room as the firm arrays have (a month's
    signings take the next free rows without copying the book); each column is read as the
    used part of its array, ``book.stage``."""

    def __init__(self, size: int = 512) -> None:
        self.n = 0
        self._columns = {name: np.zeros(size, dtype=dtype) for name, dtype in _DTYPES.items()}

    def extend(self, **columns: np.ndarray) -> None:
        """Add projects, one array per column; a column left out takes its default (signed,
        no firm yet, not a named anchor)."""
        count = columns["amount"].size
        if self.n + count > self._columns["amount"].size:
            size = max(self.n + count, 2 * self._columns["amount"].size)
            for name, old in self._columns.items():
                new = np.zeros(size, dtype=old.dtype)
                new[: self.n] = old[: self.n]
                self._columns[name] = new
        for name in _FIELDS:
            self._columns[name][self.n : self.n + count] = (columns[name] if name in columns
                                                                else _DEFAULTS[name])
        self.n += count

    def __len__(self) -> int:
        return self.n


_DEFAULTS = {"stage": SIGNED, "firm": -1, "anchor": -1}
_DTYPES = {name: (float if name == "amount" else bool if name == "realised" else np.int64)
           for name in _FIELDS}
for _name in _FIELDS:
    setattr(ProjectBook, _name, property(lambda book, name=_name: book._columns[name][: book.n],
                                         doc=f"the projects' {_name}"))


def draw_projects(model: YichunModel, months: np.ndarray,
                  rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Projects signed in the given months: chain, segment, size, realisation, timing."""
    p, attraction, approval = model.params, model.policy.attraction, model.policy.approval
    n = months.size
    chain_cdf, lithium_cdf, lithium_segments = _attraction_tables(model)
    # a project's seven uniforms in one call (the same numbers as seven calls of n each)
    chain_u, lithium_u, ceramics_u, tail_u, body_u, large_u, realised_u = rng.random((7, n))
    chain = lookup(chain_cdf, chain_u)
    lithium_segment = lithium_segments[lookup(lithium_cdf, lithium_u)]
    ceramics = ceramics_u < 0.5
    amount = attraction.size_multiplier * project_sizes(p, tail_u, body_u, large_u)
    rate = attraction.realisation_rate
    realised = realised_u < (p.project_realisation_rate if rate is None else rate)
    mean_lag = attraction.construction_lag_months or p.construction_lag_months
    lag = rng.gamma(4.0, mean_lag / 4.0, n)
    chain, segment, start, done = _place_and_time(
        chain, lithium_segment, ceramics, months, lag, _SINGLE_SEGMENT, len(CHAINS),
        month_index(approval.reform_start), _approval_months(approval.days_before),
        _approval_months(approval.days_after))
    return {"sign_month": months, "start_month": start, "done_month": done, "segment": segment,
            "chain": chain, "amount": amount, "realised": realised}


def _approval_months(working_days: float) -> int:
    return round(working_days / WORKING_DAYS_PER_MONTH)   # halves to even, as np.round


@jit
def _place_and_time(chain, lithium_segment, ceramics, months, lag, single_segment, n_chains,  # noqa: ANN001, ANN202, PLR0913
                    reform, approval_before, approval_after):
    """Each project's segment (the lithium segment drawn for lithium projects; ceramics or
    furniture for building materials), its chain (-1: outside the eight), the month building
    starts (after approval, shorter from the reform on) and the month it ends (a lag of at
    least a month)."""
    n = chain.size
    segment, start, done = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    chain_out = np.empty(n, np.int64)
    for k in range(n):
        c = chain[k]
        if c == _LITHIUM_CHAIN:
            segment[k] = lithium_segment[k]
        elif c == _BUILDING_CHAIN:
            segment[k] = _CERAMICS if ceramics[k] else _FURNITURE
        else:
            segment[k] = single_segment[c]
        chain_out[k] = c if c < n_chains else -1
        start[k] = months[k] + (approval_after if months[k] >= reform else approval_before)
        done[k] = start[k] + max(int(np.round(lag[k])), 1)
    return chain_out, segment, start, done


#: where projects go: the eight chains and "other"; the segment of a single-segment chain
_NAMES = [*CHAINS, "other"]
_SINGLE_SEGMENT = np.array([SEGMENT_INDEX.get(c, -1) for c in _NAMES])
_LITHIUM_CHAIN, _BUILDING_CHAIN = _NAMES.index("lithium"), _NAMES.index("building")
_CERAMICS, _FURNITURE = SEGMENT_INDEX["building_ceramics"], SEGMENT_INDEX["building_furniture"]


def _attraction_tables(model: YichunModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cumulative chain and lithium-segment probabilities of a signed project, and the
    lithium segments (read once per policy)."""
    attraction = model.policy.attraction
    cached = model.__dict__.get("_attraction_tables")
    if cached is None or cached[0] is not attraction:
        model._attraction_tables = (attraction, _tables_of(attraction))
    return model._attraction_tables[1]


def _tables_of(attraction: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    weights = np.array([attraction.chain_weights.get(c, 0.0) for c in _NAMES])
    li_w = np.array(list(attraction.lithium_segment_weights.values()))
    li_segments = np.array([SEGMENT_INDEX[s] for s in attraction.lithium_segment_weights])
    return cumulative(weights / weights.sum()), cumulative(li_w / li_w.sum()), li_segments


def project_sizes(p: Any, tail_u: np.ndarray, body_u: np.ndarray,
                  large_u: np.ndarray) -> np.ndarray:
    """Signed amounts, 亿元: a lognormal body below 20 亿 and a Pareto tail above (the 5020
    projects), the mixture fitted to 2022's 338 projects, 1796 亿, 298 over 1 亿, 41 over 20 亿.
    From three uniforms per project: in the tail or not, the body's quantile, the tail's."""
    tail = tail_u < p.project_tail_share
    below = p.derived("project_body_below_tail", lambda: special.ndtr(
        (np.log(TAIL_START) - p.project_size_mu) / p.project_size_sigma))
    body = np.exp(p.project_size_mu + p.project_size_sigma * special.ndtri(body_u * below))
    large = TAIL_START * (1.0 - large_u) ** (-1.0 / p.project_tail_index)
    return np.where(tail, large, body)


def seed_anchor_projects(model: YichunModel) -> None:
    """The named plants and expansions of anchors.yaml, opening in their start months."""
    p = model.params
    rows = [(k, a) for k, a in enumerate(load_anchors()) if a.kind != "existing" and a.month >= -12]
    if not rows or model.population_scale < 0.999:
        return
    n = len(rows)
    capacity = np.array([anchor_capacity(a, p.anchor_size_factor) for _, a in rows])
    segment = np.array([SEGMENT_INDEX[a.segment] for _, a in rows])
    start = np.array([a.month for _, a in rows])
    chain = np.array([CHAINS.index(SEGMENTS[s].chain) if SEGMENTS[s].chain else -1 for s in segment])
    model.projects.extend(
        sign_month=np.full(n, ANCHOR_SIGNED), start_month=start - 1, done_month=start,
        segment=segment, chain=chain, amount=capacity / p.revenue_per_investment,
        realised=np.ones(n, bool), stage=np.full(n, SIGNED), firm=np.full(n, -1),
        anchor=np.array([k for k, _ in rows]))


def seed_pipeline(model: YichunModel) -> None:
    """Projects signed in 2020-2021 that are still to open, or that opened in 2021 and are still
    ramping up, when the simulation starts (the 2021 plants are the 新建投产企业 of 2022)."""
    rate = model.params.projects_per_year_before_2022 / 12.0
    counts = model.rng.poisson(rate, 24)
    months = np.repeat(np.arange(-24, 0), counts)
    drawn = draw_projects(model, months, model.rng)
    keep = drawn["done_month"] >= -12
    model.projects.extend(**{k: v[keep] for k, v in drawn.items()})


def sign_projects(model: YichunModel) -> None:
    """This month's signings; large (50 亿+) projects come on top, Pareto-sized above 50 亿."""
    attraction, rng = model.policy.attraction, model.stream("sign")
    year = 2022 + model.t // 12
    count = rng.poisson(attraction.per_year(year) / 12.0)
    if count:
        model.projects.extend(**draw_projects(model, np.full(count, model.t), rng))
    large = rng.poisson(attraction.large_projects_per_year / 12.0)
    if large:
        drawn = draw_projects(model, np.full(large, model.t), rng)
        drawn["amount"] = 50.0 * (1.0 - rng.random(large)) ** (-1.0 / attraction.large_project_tail)
        model.projects.extend(**drawn)


def advance_projects(model: YichunModel) -> None:
    """Move projects through their stages; completed ones open or expand a firm."""
    book, t = model.projects, model.t
    opening = _move_stages(book.stage, book.start_month, book.done_month, book.realised, t)
    if opening.size == 0:
        return
    p, rng, f = model.params, model.stream("open"), model.f
    built, full_capacity, named, new_firm = _opening_terms(
        book.anchor, book.amount, opening, rng.random(opening.size), p.first_phase_share,
        p.revenue_per_investment, p.project_new_firm_share)
    if named.any():
        open_anchor_projects(model, opening[named], full_capacity[named])
    expanding = np.flatnonzero(~new_firm & ~named)
    if expanding.size:
        hosts = expansion_hosts(model, book.segment[opening[expanding]], rng)
        _expand_hosts(f.ramping, f.ramp_step, f.capital, book.firm, book.amount, opening,
                      expanding, hosts, built, full_capacity, new_firm, float(p.ramp_up_months))
    catch_up_ramp(model, opening[~new_firm], full_capacity[~new_firm])
    if new_firm.any():           # new plants open with the month's other new firms
        plants = opening[new_firm]
        model.waiting_firms.append(Opening(
            book.segment[plants], np.full(plants.size, NEW_PLANT_REVENUE),
            partial(_plants_opened, model, plants, full_capacity[new_firm],
                    book.amount[plants] * built[new_firm])))


@jit
def _opening_terms(anchor, amount, opening, draw, first_phase_share, revenue_per_investment,  # noqa: ANN001, ANN202
                   new_firm_share):
    """For each opening project: the share built (a named anchor in full, others their first
    phase), its monthly capacity at full use, whether it is a named anchor, and whether it is
    a new firm (drawn; a named anchor never is: it opens as its own firm or expansion)."""
    m = opening.size
    built, full_capacity = np.empty(m), np.empty(m)
    named, new_firm = np.empty(m, dtype=np.bool_), np.empty(m, dtype=np.bool_)
    for k in range(m):
        j = opening[k]
        named[k] = anchor[j] >= 0
        built[k] = 1.0 if named[k] else first_phase_share
        full_capacity[k] = amount[j] * built[k] * revenue_per_investment / 12.0
        new_firm[k] = draw[k] < new_firm_share and not named[k]
    return built, full_capacity, named, new_firm


@jit
def _expand_hosts(ramping, ramp_step, capital, project_firm, amount, opening, expanding, hosts,  # noqa: ANN001, ANN202, PLR0913
                  built, full_capacity, new_firm, ramp_up_months):
    """Expansions add their capacity (to ramp up) and investment to their host; one with no
    host in its segment becomes a new firm."""
    for k in range(expanding.size):
        j, host = expanding[k], hosts[k]
        if host < 0:
            new_firm[j] = True
            continue
        ramping[host] += full_capacity[j]
        ramp_step[host] += full_capacity[j] / ramp_up_months
        capital[host] += amount[opening[j]] * built[j]
        project_firm[opening[j]] = host


def _plants_opened(model: YichunModel, projects: np.ndarray, full_capacity: np.ndarray,
                   investment: np.ndarray, idx: np.ndarray) -> None:
    """The plants of finished `projects` have opened as firms `idx`: equip them."""
    equip_plants(model, idx, full_capacity, investment)
    model.projects.firm[projects] = idx
    catch_up_ramp(model, projects, full_capacity)


@jit
def _move_stages(stage, start_month, done_month, realised, t):  # noqa: ANN001, ANN202
    """Signed projects whose building month has come start building (or are dropped, if they
    were not to be realised); those whose building is done by month t start producing: return
    their rows."""
    opening = np.empty(stage.size, dtype=np.int64)
    count = 0
    for k in range(stage.size):
        if stage[k] == SIGNED and start_month[k] <= t:
            stage[k] = BUILDING if realised[k] else DROPPED
        if stage[k] == BUILDING and done_month[k] <= t:
            stage[k] = PRODUCING
            opening[count] = k
            count += 1
    return opening[:count]


def expansion_hosts(model: YichunModel, segment: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each project expanding an existing firm of its segment, the host: drawn in
    proportion to capacity (a bigger firm builds more of its segment's new lines); -1 where
    the segment has no producing firm."""
    f = model.f
    return _capacity_draw(f.segment, f.alive, f.capacity, model.n_segments, segment,
                          rng.random(segment.size))


@jit
def _capacity_draw(firm_segment, alive, capacity, n_seg, segment, uniform):  # noqa: ANN001, ANN202
    """For each draw k, the live firm of segment[k] at which its segment's running total of
    capacity (in row order) first exceeds uniform[k] x the segment's total: a firm is drawn in
    proportion to its capacity. Two passes over the firms, the second ending once every draw
    has its firm."""
    total = np.zeros(n_seg)
    last_live = np.full(n_seg, -1)
    current, running, last = 0, 0.0, -1    # the current segment's sum and last live firm
    for i in range(firm_segment.size):
        if firm_segment[i] != current:
            running = next_group(total, current, running, firm_segment[i])
            last_live[current], last = last, last_live[firm_segment[i]]
            current = firm_segment[i]
        if alive[i] and capacity[i] > 0:
            running += capacity[i]
            last = i
    total[current], last_live[current] = running, last
    target = uniform * total[segment]
    # each segment's draws in rising target, as a chain: first[s], then following[k]
    first, tail = np.full(n_seg, -1), np.full(n_seg, -1)
    following = np.full(segment.size, -1)
    pending = 0
    for k in np.argsort(target):
        s = segment[k]
        if total[s] <= 0:
            continue
        if first[s] < 0:
            first[s] = k
        else:
            following[tail[s]] = k
        tail[s] = k
        pending += 1
    hosts = np.full(segment.size, -1)
    running = np.zeros(n_seg)
    for i in range(firm_segment.size):
        if pending == 0:
            break
        s = firm_segment[i]
        if first[s] < 0 or not alive[i] or capacity[i] <= 0:
            continue
        running[s] += capacity[i]
        k = first[s]
        while k >= 0 and running[s] > target[k]:
            hosts[k] = i
            pending -= 1
            k = following[k]
        first[s] = k
    for k in range(segment.size):      # a draw at the very top of its segment's total
        if hosts[k] < 0:
            hosts[k] = last_live[segment[k]]
    return hosts


def catch_up_ramp(model: YichunModel, opening: np.ndarray, full_capacity: np.ndarray) -> None:
    """Plants that opened before the simulation began (in 2021) start part-way up their ramp:
    the months since they opened, each bringing the project's capacity over
    ``ramp_up_months``; a project whose ramp is over no longer adds to its firm's step."""
    if opening.size == 0:
        return
    book, f = model.projects, model.f
    late = _late(opening, book.done_month, book.firm, model.t)
    capacity_of = dict(zip(opening.tolist(), full_capacity.tolist(), strict=True))
    for proj in late:
        firm, capacity = book.firm[proj], capacity_of[int(proj)]
        step = capacity / model.params.ramp_up_months
        elapsed = model.t - book.done_month[proj]
        done = min(elapsed * step, capacity, f.ramping[firm])
        f.capacity[firm] += done
        f.ramping[firm] -= done
        if elapsed * step >= capacity:
            f.ramp_step[firm] = max(f.ramp_step[firm] - step, 0.0)
        if f.ramping[firm] <= 0.0:
            f.ramping[firm] = f.ramp_step[firm] = 0.0
        if f.born_month[firm] == model.t:
            f.born_month[firm] = book.done_month[proj]


@jit
def _late(opening, done_month, project_firm, t):  # noqa: ANN001, ANN202
    """The opening projects with a firm that were done before month t."""
    late = np.empty(opening.size, dtype=np.int64)
    count = 0
    for j in opening:
        if done_month[j] < t and project_firm[j] >= 0:
            late[count] = j
            count += 1
    return late[:count]


def open_anchor_projects(model: YichunModel, projects: np.ndarray, full_capacity: np.ndarray) -> None:
    """Open named plants as new firms (county, ore, certification from anchors.yaml); add named
    expansions to their host anchor."""
    book, f = model.projects, model.f
    anchors = load_anchors()
    for proj, cap in zip(projects, full_capacity, strict=True):
        a = anchors[book.anchor[proj]]
        if a.kind == "expansion":
            host = model.anchor_firm(a.of)
            if host is None:
                continue
            f.ramping[host] += cap
            f.ramp_step[host] += cap / model.params.ramp_up_months
            f.capital[host] += book.amount[proj]
            book.firm[proj] = host
            continue
        (idx,) = open_plants(model, np.array([book.segment[proj]]), np.array([cap]),
                             np.array([book.amount[proj]]), county=COUNTIES.index(a.county))
        book.firm[proj] = idx
        place_anchor_attributes(model.firms, np.array([idx]), np.array([book.anchor[proj]]),
                                model.params)
        model.link_suppliers_of(np.array([idx]), np.array([cap * 12.0]))


def open_plants(model: YichunModel, segment: np.ndarray, full_capacity: np.ndarray,
                investment: np.ndarray, county: int | None = None) -> np.ndarray:
    """New firms from attracted projects, opened at once (the named anchor plants)."""
    idx = model.add_firms(segment, np.full(segment.size, NEW_PLANT_REVENUE))
    if county is not None:
        model.f.county[idx] = county
        model.refresh_scopes(idx)
    equip_plants(model, idx, full_capacity, investment)
    return idx


def equip_plants(model: YichunModel, idx: np.ndarray, full_capacity: np.ndarray,
                 investment: np.ndarray) -> None:
    """New plants (firms `idx`) start empty and ramp up to full capacity; small ones may
    become local suppliers of a large firm of their chain."""
    p, rng, f = model.params, model.stream("links"), model.f
    f.ramping[idx] = full_capacity
    f.ramp_step[idx] = full_capacity / p.ramp_up_months
    f.capital[idx] = investment
    f.cash[idx] = 0.05 * investment
    f.rd_intensity[idx] = f.rd_base[idx] = p.rd_intensity_2021 * np.maximum(
        12.0 * full_capacity * p.initial_utilisation, 0.01) ** p.rd_size_elasticity
    # small new plants in a chain may become local suppliers of one of its large firms
    small = idx[(full_capacity * 12 < 5.0) & (rng.random(idx.size) < p.project_supplier_probability)]
    if small.size:
        chains = f.chain[small].tolist()
        large = np.flatnonzero(f.alive & (f.revenue_last_year >= 10.0))
        large_of = {c: large[f.chain[large] == c] for c in set(chains) if c >= 0}
        for firm, chain in zip(small.tolist(), chains, strict=True):
            big = large_of.get(chain)
            if big is not None and big.size:
                f.supplier_of[firm] = big[rng.integers(big.size)]   # rng.choice(big), less checking
