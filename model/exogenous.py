"""Outside conditions, precomputed for all 60 months: prices, real demand, shocks.

Price indices are 1 at the 2021 average, so a firm's 2021 revenue equals its real volume.
The lithium carbonate price is interpolated (linear in time) between the facts' dated
points from 2022 and the scenario's points after them, flat after the last point, with
optional log-normal noise after the data (the scenario's ``monthly_volatility``). Its 2021
average, the index base, is a parameter (``lithium_price_2021_average``): the 2021 path was
convex, so a straight line between the two 2021 quotes would overstate it.

Markets: lithium segments sell into China's market, whose growth is the facts'
``national_context`` (battery output for cells and applications, materials output for
materials and, with carbonate output for 2024, upstream) and ``national_growth_after_2024``
later; other segments into markets growing at ``real_demand_growth``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from model.facts import load_facts
from model.parameters import Parameters
from model.scenario import N_MONTHS, START_YEAR, ResolvedScenario, month_index
from model.structure import IS_LITHIUM, LITHIUM_SEGMENTS, SEGMENT_IDS, SEGMENT_INDEX, SEGMENTS

#: mid-points of the months January 2021 .. December 2026
_MONTHS_FROM_2021 = [dt.date(2021 + m // 12, m % 12 + 1, 15) for m in range(12 + N_MONTHS)]


@dataclass
class OutsideConditions:
    """Per month t (0 = January 2022) and segment s."""

    lithium_price: np.ndarray      # 元/吨, shape (T,)
    lithium_index: np.ndarray      # over the 2021 average, (T,)
    price: np.ndarray              # output price index, (T, S)
    official_adjust: np.ndarray    # the bureau's deflator over the true price index, (T, S)
    other_price: np.ndarray        # general producer price index, (T,)
    market: np.ndarray             # trend of the market each segment sells into, 2021 = 1, (T, S)
    real_demand: np.ndarray        # market x season x noise x shocks, (T, S)
    capacity_factor: np.ndarray    # shocks to usable capacity, (T, S)


def lithium_price_path(scenario: ResolvedScenario, rng: np.random.Generator) -> np.ndarray:
    """Monthly carbonate price for 2022-2026, 元/吨."""
    spec = scenario.spec.exogenous.lithium_price
    points: dict[dt.date, float] = {}
    if spec.use_facts:
        points.update({p.date: p.value for p in load_facts().lithium_carbonate_price.points})
    points.update({p.date: p.value for p in spec.points})
    if len(points) < 2:
        raise ValueError("the lithium price path needs at least two dated points")
    dates = sorted(points)
    x = np.array([d.toordinal() for d in dates], dtype=float)
    y = np.array([points[d] for d in dates])
    months = np.array([d.toordinal() for d in _MONTHS_FROM_2021], dtype=float)
    path = np.interp(months, x, y)
    if spec.monthly_volatility > 0:
        after = months > spec.volatility_after.toordinal()
        sigma = spec.monthly_volatility
        shocks = rng.normal(-0.5 * sigma**2, sigma, after.sum())
        path[after] *= np.exp(np.cumsum(shocks))
    return path[12:]


def market_growth(params: Parameters) -> np.ndarray:
    """Yearly real growth of each segment's market, 2022..2026 (rows) x segments."""
    national = load_facts().national_context
    years = range(START_YEAR, START_YEAR + N_MONTHS // 12)
    growth = np.tile(params.real_demand_growth, (len(years), 1))
    later = params.national_growth_after_2024
    for row, year in enumerate(years):
        if year > 2024:
            battery = materials = carbonate = later
        else:
            battery, materials = national.battery_growth(year), national.materials_growth(year)
            carbonate = national.carbonate_growth(year)
            carbonate = materials if carbonate is None else carbonate
        for seg, g in (("li_upstream", carbonate), ("li_materials", materials),
                       ("li_cells", battery), ("li_applications", battery)):
            s = SEGMENT_INDEX[seg]
            growth[row, s] = (1.0 + g) * (1.0 + params.real_demand_growth[s]) - 1.0
    return growth


def build_conditions(scenario: ResolvedScenario, params: Parameters,
                     rng: np.random.Generator) -> OutsideConditions:
    n_seg = len(SEGMENTS)
    t = np.arange(N_MONTHS)
    years_from_mid_2021 = (t + 6.0) / 12.0
    li_price = lithium_price_path(scenario, rng)
    li_index = li_price / params.lithium_price_2021_average
    other = (1.0 + params.nonlithium_price_growth) ** years_from_mid_2021

    beta = np.zeros(n_seg)
    for s in LITHIUM_SEGMENTS:
        beta[s] = params.lithium_price_pass_through[SEGMENT_IDS[s]]
    price = (1 - beta) * other[:, None] + beta * li_index[:, None]
    # the bureau's deflator of lithium output: the producer price itself at the default
    # elasticity 1 (comparable prices at a fine product level); below 1 it follows carbonate
    # only partly, counting price swings as volume (a sensitivity case, README)
    official = (1 - beta) * other[:, None] + beta * other[:, None] * (
        li_index / other)[:, None] ** params.official_deflator_lithium_elasticity
    official_adjust = official / price

    growth = np.repeat(market_growth(params), 12, axis=0)
    for shift in scenario.spec.exogenous.demand_shifts:
        a, b = month_index(shift.start), month_index(shift.end)
        for seg, value in shift.by_segment().items():
            growth[a:b + 1, SEGMENT_INDEX[seg]] += value
    monthly_growth = np.log1p(np.clip(growth, -0.95, None)) / 12.0
    # level at mid-2021 is 1; January 2022 is 6.5 months later
    log_level = np.cumsum(monthly_growth, axis=0) + 5.5 * monthly_growth[0]
    level = np.exp(log_level)
    non_lithium = ~np.array(IS_LITHIUM)
    level[:, non_lithium] *= 1.0 + params.nonlithium_demand_shock_2022
    market = level.copy()
    season = np.ones(12)
    season[:2] -= params.seasonality_spring_festival
    season[2:] += 2 * params.seasonality_spring_festival / 10
    level *= season[t % 12][:, None]
    level *= np.exp(rng.normal(0.0, params.demand_noise_sd, level.shape))

    capacity_factor = np.ones((N_MONTHS, n_seg))
    for shock in scenario.spec.exogenous.shocks:
        a, b = month_index(shock.start), month_index(shock.end)
        idx = [SEGMENT_INDEX[s] for s in shock.segments]
        capacity_factor[a:b + 1, idx] *= shock.capacity_factor
        level[a:b + 1, idx] *= shock.demand_factor
    return OutsideConditions(li_price, li_index, price, official_adjust, other, market, level,
                             capacity_factor)


def month_label(t: int) -> str:
    return f"{START_YEAR + t // 12}-{t % 12 + 1:02d}"
