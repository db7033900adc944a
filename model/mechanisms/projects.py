"""Investment attraction (招商引资): signed → approved → built (or dropped) → ramping → producing.

Projects are records, not agents. Each signed project draws an investment amount
(lognormal fitted to 2022's 338 projects worth 1796 亿), whether it will be realised, an
approval time (80 working days before the reform, 25 after) and a construction lag. When
construction ends it either opens a new firm or adds a plant to an existing firm of its
segment; the plant's capacity then ramps up (``mature_capacity``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from model.scenario import month_index
from model.structure import CHAINS, SEGMENT_INDEX

if TYPE_CHECKING:
    from model.economy import YichunModel

SIGNED, BUILDING, PRODUCING, DROPPED = 0, 1, 2, 3
STAGES = ("signed", "building", "producing", "dropped")
WORKING_DAYS_PER_MONTH = 21.75
_FIELDS = ("sign_month", "start_month", "done_month", "segment", "chain", "amount",
           "realised", "stage", "firm")


@dataclass
class ProjectBook:
    """All projects as parallel arrays."""

    sign_month: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    start_month: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    done_month: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    segment: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    chain: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    amount: np.ndarray = field(default_factory=lambda: np.zeros(0))
    realised: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    stage: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    firm: np.ndarray = field(default_factory=lambda: np.zeros(0, int))

    def extend(self, **columns: np.ndarray) -> None:
        for name in _FIELDS:
            setattr(self, name, np.concatenate([getattr(self, name), columns[name]]))

    def __len__(self) -> int:
        return self.amount.size


def draw_projects(model: YichunModel, months: np.ndarray) -> dict[str, np.ndarray]:
    """Projects signed in the given months: chain, segment, size, realisation, timing."""
    p, rng, attraction = model.params, model.rng, model.policy.attraction
    n = months.size
    names = [*CHAINS, "other"]
    weights = np.array([attraction.chain_weights.get(c, 0.0) for c in names])
    chain = rng.choice(len(names), n, p=weights / weights.sum())
    li_names = list(attraction.lithium_segment_weights)
    li_w = np.array(list(attraction.lithium_segment_weights.values()))
    li_segment = np.array([SEGMENT_INDEX[s] for s in li_names])[
        rng.choice(len(li_names), n, p=li_w / li_w.sum())]
    building = np.where(rng.random(n) < 0.5, SEGMENT_INDEX["building_ceramics"],
                        SEGMENT_INDEX["building_furniture"])
    single = np.array([SEGMENT_INDEX.get(c, -1) for c in names])[chain]
    segment = np.where(chain == names.index("lithium"), li_segment,
                       np.where(chain == names.index("building"), building, single))
    amount = attraction.size_multiplier * np.exp(rng.normal(p.project_size_mu,
                                                            p.project_size_sigma, n))
    rate = attraction.realisation_rate
    realised = rng.random(n) < (p.project_realisation_rate if rate is None else rate)
    approval = model.policy.approval
    reform = month_index(approval.reform_start)
    days = np.where(months >= reform, approval.days_after, approval.days_before)
    start = months + np.round(days / WORKING_DAYS_PER_MONTH).astype(int)
    mean_lag = attraction.construction_lag_months or p.construction_lag_months
    lag = rng.gamma(4.0, mean_lag / 4.0, n)
    done = start + np.maximum(np.round(lag).astype(int), 1)
    return {"sign_month": months, "start_month": start, "done_month": done, "segment": segment,
            "chain": np.where(chain < len(CHAINS), chain, -1), "amount": amount,
            "realised": realised, "stage": np.full(n, SIGNED), "firm": np.full(n, -1)}


def seed_pipeline(model: YichunModel) -> None:
    """Projects signed in 2020-2021 that are still to open when the simulation starts."""
    rate = model.params.projects_per_year_before_2022 / 12.0
    counts = model.rng.poisson(rate, 24)
    months = np.repeat(np.arange(-24, 0), counts)
    drawn = draw_projects(model, months)
    keep = drawn["done_month"] >= 0
    model.projects.extend(**{k: v[keep] for k, v in drawn.items()})


def sign_projects(model: YichunModel) -> None:
    """This month's signings; large (50 亿+) projects come on top, Pareto-sized above 50 亿."""
    attraction, rng = model.policy.attraction, model.rng
    year = 2022 + model.t // 12
    count = rng.poisson(attraction.per_year(year) / 12.0)
    if count:
        model.projects.extend(**draw_projects(model, np.full(count, model.t)))
    large = rng.poisson(attraction.large_projects_per_year / 12.0)
    if large:
        drawn = draw_projects(model, np.full(large, model.t))
        drawn["amount"] = 50.0 * (1.0 - rng.random(large)) ** (-1.0 / attraction.large_project_tail)
        model.projects.extend(**drawn)


def advance_projects(model: YichunModel) -> None:
    """Move projects through their stages; completed ones open or expand a firm."""
    book, t = model.projects, model.t
    book.stage[(book.stage == SIGNED) & (book.start_month <= t) & book.realised] = BUILDING
    book.stage[(book.stage == SIGNED) & (book.start_month <= t) & ~book.realised] = DROPPED
    opening = np.flatnonzero((book.stage == BUILDING) & (book.done_month <= t))
    if opening.size == 0:
        return
    book.stage[opening] = PRODUCING
    p, rng, f = model.params, model.rng, model.f
    full_capacity = book.amount[opening] * p.revenue_per_investment / 12.0
    new_firm = rng.random(opening.size) < p.project_new_firm_share
    for j in np.flatnonzero(~new_firm):
        proj = opening[j]
        hosts = np.flatnonzero(f.alive & (f.segment == book.segment[proj]) & (f.capacity > 0))
        if hosts.size == 0:
            new_firm[j] = True
            continue
        firm = rng.choice(hosts, p=f.capacity[hosts] / f.capacity[hosts].sum())
        f.ramping[firm] += full_capacity[j]
        f.capital[firm] += book.amount[proj]
        book.firm[proj] = firm
    if new_firm.any():
        plants = opening[new_firm]
        book.firm[plants] = open_plants(model, book.segment[plants], full_capacity[new_firm],
                                        book.amount[plants])


def open_plants(model: YichunModel, segment: np.ndarray, full_capacity: np.ndarray,
                investment: np.ndarray) -> np.ndarray:
    """New firms from attracted projects: they start empty and ramp up to full capacity."""
    p, rng = model.params, model.rng
    idx = model.add_firms(segment, np.full(segment.size, 1e-6))
    f = model.f
    f.ramping[idx] = full_capacity
    f.capital[idx] = investment
    f.cash[idx] = 0.05 * investment
    f.rd_intensity[idx] = f.rd_base[idx] = p.rd_intensity_2021
    # small new plants in a chain may become local suppliers of one of its large firms
    small = idx[(full_capacity * 12 < 5.0) & (rng.random(idx.size) < p.project_supplier_probability)]
    for firm in small:
        big = np.flatnonzero(f.alive & (f.chain == f.chain[firm]) & (f.revenue_last_year >= 10.0))
        if f.chain[firm] >= 0 and big.size:
            f.supplier_of[firm] = rng.choice(big)
    return idx
