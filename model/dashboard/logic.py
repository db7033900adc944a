"""What the dashboard computes, kept apart from its widgets so it can be tested without a browser:
the levers and uncertainties it offers (the exploration space, scenarios/explore/space.yaml),
the check of a typed value, a small live ensemble and what is shown of it."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model.analysis.space import Dimension, apply, load_space
from model.analysis.targets import evaluate, load_targets
from model.calibration.abc import load_draws
from model.economy import YichunModel
from model.errors import InputError
from model.paths import POSTERIOR_DIR
from model.runner import Replication, collect, replication_seed
from model.scenario import ResolvedScenario, load_scenario, scenario_names
from model.structure import CHAIN_NAMES_EN, CHAIN_NAMES_ZH

#: Labels of the space's dimensions in Chinese (English is the space file's name and unit).
LABELS_ZH = {
    "upgrade_fund": "技改资金（亿元/年）", "upgrade_subsidy_rate": "技改补贴比例",
    "sme_fund": "中小企业资金（亿元/年）", "digital_fund": "数字化转型资金（亿元/年）",
    "projects_per_year": "每年签约项目数", "realisation_rate": "签约项目落地率",
    "large_projects_per_year": "每年50亿元以上项目数", "approval_days": "审批天数",
    "rd_extra_deduction": "研发费用加计扣除比例",
    "carbonate_price_2026": "2026年末碳酸锂价格（元/吨）", "price_volatility": "碳酸锂价格月波动",
    "national_battery_growth": "全国电池产量增速（2025—2026）", "mine_halt_capacity": "停矿期间上游产能比例",
}
#: Defaults the command line may set for the dashboard process (solara runs it as a module).
ENV_REPLICATIONS, ENV_SCALE = "YICHUN_DASHBOARD_REPLICATIONS", "YICHUN_DASHBOARD_SCALE"


def default_replications() -> int:
    return int(os.environ.get(ENV_REPLICATIONS, "12"))


def default_scale() -> float:
    return float(os.environ.get(ENV_SCALE, "1.0"))


def dimensions() -> list[Dimension]:
    space = load_space()
    return space.dimensions


def label(dim: Dimension) -> str:
    return f"{LABELS_ZH.get(dim.name, dim.name)} · {dim.name} ({dim.unit})"


def current_value(scenario: ResolvedScenario, dim: Dimension) -> float:
    """The scenario's value of a dimension: as set, else the schema's or the parameter's default
    (else the space's stated default, for a key left to the posterior)."""
    parts = dim.key.split(".")
    node: Any = (scenario.parameters.values if parts[0] == "parameters"
                 else scenario.spec.model_dump(mode="python"))
    for part in parts[1:] if parts[0] == "parameters" else parts:
        if isinstance(node, list):
            node = node[int(part)] if part.isdigit() and int(part) < len(node) else None
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            node = None
    if isinstance(node, int | float):
        return float(node)
    return float(dim.default if dim.default is not None else dim.range[0])


def check_value(dim: Dimension, value: Any) -> str | None:
    """None when a typed value is usable; otherwise the message to show (never an exception)."""
    if value is None or value == "":
        return f"{label(dim)}: enter a number 请输入数字"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return f"{label(dim)}: '{value}' is not a number 不是数字"
    if not np.isfinite(number):
        return f"{label(dim)}: '{value}' is not a finite number 不是有限数字"
    lo, hi = dim.limit
    if not lo <= number <= hi:
        return (f"{label(dim)}: {number:g} is outside the allowed range {lo:g}–{hi:g} "
                f"超出允许范围 ({dim.basis})")
    return None


@dataclass
class Ensemble:
    """A small live ensemble: target rows, the replications and the last run's largest firms."""

    scenario: str
    values: dict[str, float]
    rows: list[dict[str, Any]]
    reps: list[Replication]
    firms: list[dict[str, Any]] = field(default_factory=list)


def load_offered(name: str) -> ResolvedScenario:
    """A shipped scenario the dashboard offers, by name; the name comes from the browser, so
    anything else (a path, another file) is refused."""
    if name not in scenario_names():
        raise InputError("scenario", None, f"{name!r} is not one of the dashboard's scenarios "
                         f"{scenario_names()}")
    return load_scenario(name)


def run_ensemble_live(scenario_name: str, values: dict[str, float], replications: int,
                      population_scale: float = 1.0, seed: int = 20230101,
                      progress: Callable[[float], None] | None = None) -> Ensemble:
    """`replications` runs of the scenario with the dimensions set to `values`, each drawing its
    parameters from the scenario's posterior (as `yichun-abm run` does), on the same seeds for
    any setting, so two settings differ only through the levers (common random numbers)."""
    base = load_offered(scenario_name)
    space = load_space()
    # only what was moved: a key the scenario leaves to the posterior stays with the posterior
    moved = {name: v for name, v in values.items()
             if v != current_value(base, space.dimension(name))}
    scenario = apply(base, space, moved)
    if population_scale != 1.0:
        scenario = scenario.updated({"run": {"population_scale": population_scale}})
    posterior = POSTERIOR_DIR / base.spec.calibration if base.spec.calibration else None
    draws = load_draws(posterior) if posterior and (posterior / "draws.json").is_file() else None
    reps, firms = [], []
    for i in range(replications):
        run_scenario = scenario.with_parameters(draws[i % len(draws)]) if draws else scenario
        model = YichunModel(run_scenario, seed=replication_seed(seed, i)).run()
        reps.append(collect(model, i))
        if i == replications - 1:
            firms = largest_firms(model)
        model.release()
        if progress:
            progress((i + 1) / replications)
    rows = evaluate(load_targets(), np.stack([r.yearly for r in reps]))
    return Ensemble(scenario_name, dict(values), rows, reps, firms)


def largest_firms(model: YichunModel, count: int = 12) -> list[dict[str, Any]]:
    """The largest firms of a finished run, read through their Mesa agents."""
    from model.agents import Enterprise

    agents = model.agents_by_type[Enterprise].select(lambda a: a.alive)
    top = sorted(agents, key=lambda a: a.revenue_ytd, reverse=True)[:count]
    return [{"id": a.unique_id, "name": a.anchor or "", "segment": a.segment_id,
             "chains": ", ".join(f"{CHAIN_NAMES_ZH[c]} {CHAIN_NAMES_EN[c]}" for c in a.chains),
             "county": a.county_id, "revenue_2026_yi": round(float(a.revenue_ytd), 1),
             "chain_leader": bool(a.chain_leader)} for a in top]


def probability_table(ensemble: Ensemble) -> list[dict[str, Any]]:
    """One row a target: P(met) with its 95% interval, the median 2026 value and the target."""
    zh = {t.id: t.description_zh for t in load_targets().targets}
    return [{"目标 target": f"{zh.get(r['target'], '')} · {r['description']}",
             "P(达成 met)": f"{r['probability']:.0%}",
             "95% 区间 interval": f"{r['probability_low']:.0%}–{r['probability_high']:.0%}",
             "中位数 median 2026": f"{r['median_2026']:,.4g}",
             "目标值 target value": f"{r['target_value']:g}"} for r in ensemble.rows]


__all__ = ["Ensemble", "check_value", "current_value", "dimensions", "label", "largest_firms",
           "probability_table", "run_ensemble_live", "scenario_names"]
