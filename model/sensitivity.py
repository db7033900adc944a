"""Global sensitivity of the 2026 outcomes to policy levers and outside conditions (SALib Morris).

Each lever is a scenario change (a deep-merged patch of the scenario) with a range. Morris
elementary effects rank the levers by mu* (mean absolute effect) with a bootstrap confidence
interval from SALib; each design point is run for several replications, so the probability of
the 9%-a-year target is estimated at every point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from SALib.analyze import morris as morris_analyze
from SALib.sample import morris as morris_sample

from model.economy import YichunModel
from model.runner import collect
from model.scenario import ResolvedScenario
from model.statistics import YEARLY, YEARS
from model.structure import CHAINS


@dataclass(frozen=True)
class Lever:
    name: str
    low: float
    high: float
    patch: Callable[[float], dict[str, Any]]
    meaning: str


def _fund_budget(x: float) -> dict[str, Any]:
    return {"policy": {"instruments": {"tech_upgrade_fund": {"budget_per_year": x}}}}


LEVERS: tuple[Lever, ...] = (
    Lever("tech_upgrade_budget", 0.0, 6.0, _fund_budget, "tech-upgrade fund, 亿元 a year"),
    Lever("tech_upgrade_subsidy_rate", 0.0, 0.5,
          lambda x: {"policy": {"instruments": {"tech_upgrade_fund": {"subsidy_rate": x}}}},
          "share of an upgrade's cost the fund pays"),
    Lever("projects_per_year", 200.0, 600.0,
          lambda x: {"policy": {"attraction": {"projects_per_year": x}}}, "projects signed a year"),
    Lever("realisation_rate", 0.3, 0.9,
          lambda x: {"policy": {"attraction": {"realisation_rate": x}}}, "share of projects built"),
    Lever("large_projects_per_year", 0.0, 8.0,
          lambda x: {"policy": {"attraction": {"large_projects_per_year": x}}},
          "extra projects of 50 亿+ a year"),
    Lever("rd_super_deduction", 0.5, 2.0,
          lambda x: {"policy": {"instruments": {"rd_super_deduction": {"extra_deduction_rate": x}}}},
          "R&D extra deduction rate"),
    Lever("lithium_price_end_2026", 40000.0, 200000.0,
          lambda x: {"exogenous": {"lithium_price": {"points": [{"date": "2026-12-31", "value": x}]}}},
          "carbonate price at the end of 2026, 元/吨"),
    Lever("nonlithium_demand_shift", -0.05, 0.05,
          lambda x: {"exogenous": {"demand_shifts": [{"start": "2023-01", "end": "2026-12",
                                                      "segments": {c: x for c in CHAINS
                                                                   if c != "lithium"}}]}},
          "added real demand growth outside lithium from 2023, a year"),
)


def problem(levers: tuple[Lever, ...] = LEVERS) -> dict[str, Any]:
    return {"num_vars": len(levers), "names": [lv.name for lv in levers],
            "bounds": [[lv.low, lv.high] for lv in levers]}


def apply(scenario: ResolvedScenario, values: np.ndarray,
          levers: tuple[Lever, ...] = LEVERS) -> ResolvedScenario:
    from model.scenario import deep_merge

    patch: dict[str, Any] = {}
    for lever, x in zip(levers, values, strict=True):
        patch = deep_merge(patch, lever.patch(float(x)))
    return scenario.updated(patch)


def outcomes(scenario: ResolvedScenario, seed: int, point: int, replications: int) -> tuple[float, float]:
    """(probability of 9% a year over 2023-2026, median 2026 above-scale revenue) at one point."""
    k = YEARLY.index("revenue")
    y22, y26 = YEARS.index(2022), YEARS.index(2026)
    met, revenue = [], []
    for r in range(replications):
        seq = np.random.SeedSequence(seed, spawn_key=(point, r))
        model = YichunModel(scenario, seed=seq).run()
        rep = collect(model)
        model.release()
        rev22, rev26 = rep.yearly[y22, 0, k], rep.yearly[y26, 0, k]
        met.append((rev26 / rev22) ** 0.25 - 1.0 >= 0.09)
        revenue.append(rev26)
    return float(np.mean(met)), float(np.median(revenue))


def morris(scenario: ResolvedScenario, trajectories: int = 10, replications: int = 4,
           seed: int = 1, levels: int = 4) -> dict[str, Any]:
    """Morris screening of LEVERS: mu*, its 95% confidence interval and sigma per outcome."""
    prob = problem()
    rng_seed = int(np.random.SeedSequence(seed).generate_state(1)[0] % (2**31))
    design = morris_sample.sample(prob, trajectories, num_levels=levels, seed=rng_seed)
    results = np.array([outcomes(apply(scenario, row), seed, i, replications)
                        for i, row in enumerate(design)])
    out: dict[str, Any] = {"design": design, "results": results, "problem": prob}
    for j, name in enumerate(("p_9pct", "revenue_2026")):
        out[name] = morris_analyze.analyze(prob, design, results[:, j], num_levels=levels,
                                           conf_level=0.95, seed=rng_seed)
    return out
