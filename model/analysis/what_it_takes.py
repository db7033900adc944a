"""What it would take: the cheapest lever package that reaches a target with P >= 0.5 or 0.8.

From an experiment over the levers alone (uncertainty as in the scenario: posterior draws,
price paths, shocks), a logistic model of P(met | levers) is fitted per target (scikit-learn,
lever values and their squares). Candidate packages are scored by it; the cheapest (public
money over 2023-2026, from the funds' budgets) whose predicted probability clears the bar is
chosen, ties broken by the smallest change from the scenario's own lever values (attraction
and approval have no budget line, so the smallest departure is preferred). Every reported
package is confirmed by a fresh ensemble of replications at those lever values, with its
Wilson interval; if the confirmation falls short, the next candidate is tried.

Packages never set a lever worse than the scenario's own setting: each lever's "better"
direction is the economic one where the space states it (``better:``: more money, faster
approval), else the one in which a quadratic regression of the target's value on the levers
(from the same experiment, whose points share their random numbers) raises it at the
scenario's point; candidates are drawn only on that side.
A target no candidate reaches is reported as out of reach with what the best package does get:
the candidate with the highest predicted target value, confirmed by the same fresh ensemble,
its median value reached with a 90% interval, and the levers that move the value most (the
regression's change over each lever's allowed side, the others at the scenario's values).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from model.analysis.explore import design
from model.analysis.space import Space, apply, public_money
from model.analysis.targets import load_targets, percent, target_values, wilson_interval
from model.runner import run_replication

CANDIDATES = 20000
ATTEMPTS = 3


@dataclass
class Package:
    target: str
    bar: float
    levers: dict[str, float]
    public_money: float
    predicted: float
    confirmed: float
    low: float
    high: float
    replications: int
    reached: bool
    value: float = float("nan")           # the target's value at the package: median ...
    value_low: float = float("nan")       # ... and 90% interval over the confirming ensemble
    value_high: float = float("nan")
    movers: tuple[tuple[str, float], ...] = ()   # levers that move the value most, and by how much


def lever_model(table: pd.DataFrame, levers: list[str], target: str):
    """Logistic model of P(met) on the levers and their squares (standardised)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    y = table[f"met_{target}"].to_numpy() > 0.5
    if y.all() or not y.any():
        return float(y.mean())
    model = make_pipeline(StandardScaler(), PolynomialFeatures(2, include_bias=False),
                          LogisticRegression(C=1.0, max_iter=2000))
    return model.fit(table[levers].to_numpy(), y)


def predict(model: Any, packages: pd.DataFrame) -> np.ndarray:
    if isinstance(model, float):
        return np.full(len(packages), model)
    return model.predict_proba(packages.to_numpy())[:, 1]


def confirm(scenario, space: Space, package: dict[str, float], target: str, replications: int,
            seed: int, draws: list[dict[str, Any]] | None, workers: int) -> tuple[float, ...]:
    """P(met) at the package from a fresh ensemble (common random numbers with the scenario),
    its Wilson interval, and the target value's median and 5th-95th percentiles."""
    from model.parallel import completed

    changed = apply(scenario, space, package)
    spec = next(t for t in load_targets().targets if t.id == target)
    tasks = [(changed, seed, r, draws) for r in range(replications)]
    values = target_values(spec, np.stack(list(completed(_run, tasks, workers))))
    k = int(np.sum(np.nan_to_num(values, nan=-np.inf) >= spec.threshold - 1e-9))
    low, high = wilson_interval(k, replications)
    finite = values[np.isfinite(values)]
    spread = (np.percentile(finite, [50, 5, 95]) if finite.size else np.full(3, np.nan)).tolist()
    return (k / replications, low, high, *spread)


def _run(task) -> np.ndarray:
    scenario, seed, index, draws = task
    return run_replication(scenario, seed, index, draws).yearly


def baseline_levers(scenario, space: Space) -> dict[str, float]:
    """The scenario's own value of each lever (its key read from the scenario data)."""
    out = {}
    for dim in space.levers:
        node: Any = scenario.data
        try:
            for part in dim.key.split("."):
                node = node[int(part)] if isinstance(node, list) else node[part]
            out[dim.name] = float(node)
        except (KeyError, IndexError, TypeError, ValueError):
            out[dim.name] = dim.default if dim.default is not None else dim.range[0]
    return out


@dataclass
class LeverSearch:
    """Candidate packages of one target, scored once: their predicted P(met), predicted target
    value and cost; `movers` the levers that move the value most."""
    target: str
    candidates: pd.DataFrame
    probability: np.ndarray
    cost: np.ndarray
    value: np.ndarray
    movers: tuple[tuple[str, float], ...]


def value_model(table: pd.DataFrame, levers: list[str], target: str):
    """Regression of the target's value on the levers and their squares (None without the
    column); the design shares its random numbers across points, so the levers' effects are
    paired comparisons, not differences between noisy runs."""
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    column = f"value_{target}"
    if column not in table:
        return None
    rows = table[np.isfinite(table[column].astype(float))]
    if len(rows) < 2 * len(levers) + 2:
        return None
    model = make_pipeline(StandardScaler(), PolynomialFeatures(2, include_bias=False), Ridge(1e-3))
    return model.fit(rows[levers].to_numpy(), rows[column].astype(float).to_numpy())


def better_side(model, space: Space, base: dict[str, float]) -> dict[str, int]:
    """Per lever, its economically better direction where the space states one (more money,
    faster approval), else +1 if raising it raises the predicted value at the scenario's point,
    else -1."""
    names = [d.name for d in space.levers]
    point = np.array([[base[n] for n in names]])
    out = {}
    for k, dim in enumerate(space.levers):
        if dim.better is not None or model is None:
            out[dim.name] = -1 if dim.better == "down" else 1
            continue
        step = 0.05 * (dim.range[1] - dim.range[0])
        up, down = point.copy(), point.copy()
        up[0, k] = min(base[dim.name] + step, dim.range[1])
        down[0, k] = max(base[dim.name] - step, dim.range[0])
        out[dim.name] = 1 if model.predict(up)[0] >= model.predict(down)[0] else -1
    return out


def no_worse_space(space: Space, base: dict[str, float], side: dict[str, int]) -> Space:
    """The levers' ranges cut at the scenario's own values, keeping the better side."""
    levers = []
    for dim in space.levers:
        lo, hi = dim.range
        at = min(max(base[dim.name], lo), hi)
        cut = (at, hi) if side[dim.name] > 0 else (lo, at)
        if cut[1] - cut[0] <= 1e-12 * max(1.0, abs(hi - lo)):   # already at the best end:
            eps = 1e-9 * max(1.0, abs(hi - lo))                 # a sliver inside the range
            cut = (at - eps, at) if at >= hi else (at, at + eps)
        levers.append(dim.model_copy(update={"range": cut}))
    return Space(levers=levers)


def lever_search(table: pd.DataFrame, space: Space, target: str, seed: int,
                 base: dict[str, float] | None = None) -> LeverSearch:
    names = [d.name for d in space.levers]
    model = lever_model(table, names, target)
    values = value_model(table, names, target)
    base = base if base is not None else {d.name: d.range[0] for d in space.levers}
    side = better_side(values, space, base)
    allowed = no_worse_space(space, base, side)
    candidates = design(allowed, CANDIDATES, seed + 1)
    cost = np.array([public_money(space, row) for row in candidates.to_dict("records")])
    predicted = values.predict(candidates[names].to_numpy()) if values is not None else \
        np.full(len(candidates), np.nan)
    return LeverSearch(target, candidates, predict(model, candidates), cost, predicted,
                       movers(values, allowed, base))


def movers(model, allowed: Space, base: dict[str, float], top: int = 3
           ) -> tuple[tuple[str, float], ...]:
    """The levers whose move across their allowed side changes the predicted value most, the
    others held at the scenario's values: (name, change)."""
    if model is None:
        return ()
    names = [d.name for d in allowed.levers]
    point = np.array([[base[n] for n in names]])
    effects = []
    for k, dim in enumerate(allowed.levers):
        ends = point.repeat(2, axis=0)
        ends[:, k] = dim.range
        low, high = model.predict(ends)
        effects.append((dim.name, float(high - low) if base[dim.name] <= dim.range[0] + 1e-9
                        else float(low - high)))
    return tuple(sorted(effects, key=lambda e: -abs(e[1]))[:top])


def cheapest(search: LeverSearch, space: Space, bar: float, scenario, seed: int, draws,
             replications: int, workers: int) -> Package:
    levers = [d.name for d in space.levers]
    candidates, probability, cost = search.candidates, search.probability, search.cost
    base = baseline_levers(scenario, space)
    width = np.array([d.range[1] - d.range[0] for d in space.levers])
    change = np.sqrt((((candidates[levers].to_numpy() - np.array([base[n] for n in levers]))
                       / width) ** 2).sum(axis=1))
    order = np.lexsort((change, np.round(cost, 1)))
    eligible = [i for i in order if probability[i] >= bar]
    reached = bool(eligible)
    if reached:
        picks = eligible[:ATTEMPTS]
    else:   # the package that gets furthest: the highest predicted value (else probability)
        score = search.value if np.isfinite(search.value).any() else probability
        picks = [int(np.nanargmax(score))]
    result = None
    for i in picks:
        package = candidates.iloc[i].to_dict()
        p, low, high, value, value_low, value_high = confirm(
            scenario, space, package, search.target, replications, seed, draws, workers)
        result = Package(search.target, bar, package, float(cost[i]), float(probability[i]), p,
                         low, high, replications, reached and p >= bar, value, value_low,
                         value_high, search.movers)
        if result.reached:
            break
    return result


def frontier(search: LeverSearch) -> pd.DataFrame:
    """Highest predicted P(met) at each level of public money (the cost-probability frontier)."""
    order = np.argsort(search.cost)
    return pd.DataFrame({"public_money": search.cost[order],
                         "best_probability": np.maximum.accumulate(search.probability[order])})


def plot_frontier(frontiers: dict[str, pd.DataFrame], path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from model.reporting.figures import save_figure

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for target, f in frontiers.items():
        ax.step(f["public_money"], f["best_probability"], where="post", label=target)
    for bar in (0.5, 0.8):
        ax.axhline(bar, color="grey", lw=0.8, ls="--")
    ax.set(xlabel="2023—2026年财政资金（专项资金预算）public money over 2023-2026, 亿元",
           ylabel="最高预测达成概率 highest predicted P(target met)", ylim=(0, 1),
           title="成本—概率前沿 Cost-probability frontier (logistic model of the lever experiment)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    save_figure(fig, path)


def package_markdown(packages: list[Package], scenario, space: Space, out) -> None:
    from model.reporting.tables import csv_cell
    from model.yamlio import write_text_atomic

    base = baseline_levers(scenario, space)
    names = [d.name for d in space.levers]
    described = {t.id: f"{t.description_zh} · {t.description}" for t in load_targets().targets}
    md = [f"# 达成目标需要什么 What it would take: {scenario.name}", "",
          "在探索范围内、使预测达成概率越过各门槛的最省财政资金的政策组合，并以新的模拟集合确认。 "
          "The cheapest lever package (fund budgets over 2023-2026, 亿元) whose predicted "
          "probability clears each bar, within the explored ranges (scenarios/explore/space.yaml, "
          "inside the plan's stated maxima), confirmed by a fresh ensemble at those values on "
          "the scenario's seeds and posterior draws. Attraction volume, realisation and approval "
          "time have no budget line: the package moves them as little as the bar allows.", "",
          "| 目标 target | 门槛 bar | 可达 reached | 财政资金 public money, 亿元 | "
          "确认概率 confirmed P (95% interval) | 预测概率 predicted P | "
          "可达数值 value reached, median (90% interval) | 目标值 target | " + " | ".join(names) + " |",
          "| --- | ---: | --- | ---: | --- | ---: | --- | ---: |" + " ---: |" * len(names),
          "| (scenario's own levers) | | | | | | | | " + " | ".join(f"{base[n]:.3g}" for n in names)
          + " |"]
    thresholds = {t.id: t.threshold for t in load_targets().targets}
    rows = []
    for p in packages:
        md.append(f"| {described[p.target]} | {percent(p.bar)} | "
                  f"{'是 yes' if p.reached else '**否 no**'} | {p.public_money:.1f} | "
                  f"{percent(p.confirmed)} ({percent(p.low)}–{percent(p.high)}) | "
                  f"{percent(p.predicted)} | {p.value:.4g} ({p.value_low:.4g}–{p.value_high:.4g}) | "
                  f"{thresholds[p.target]:g} | "
                  + " | ".join(f"{p.levers[n]:.3g}" for n in names) + " |")
        rows.append({"target": p.target, "bar": p.bar, "reached": p.reached,
                     "public_money": p.public_money, "confirmed": p.confirmed, "low": p.low,
                     "high": p.high, "predicted": p.predicted, "replications": p.replications,
                     "value_reached": p.value, "value_p05": p.value_low,
                     "value_p95": p.value_high, **p.levers})
    out_of_reach = [p for p in packages if not p.reached]
    md += ["", "探索范围内不可达 Out of reach within the explored ranges: " + (", ".join(
        f"{p.target} at P ≥ {percent(p.bar)} (the best package gets to {p.value:.4g}, 90% interval "
        f"{p.value_low:.4g}–{p.value_high:.4g}, against {thresholds[p.target]:g}; confirmed "
        f"P = {percent(p.confirmed)})" for p in out_of_reach) or "none") + ".", "",
        "No package sets a lever worse than the scenario's own value: its better side is the "
        "economic one where the space states it (`better:` in scenarios/explore/space.yaml: "
        "more money, more projects, faster approval), else where the regression of the "
        "target's value on the levers rises.", ""]
    seen = set()
    for p in packages:
        if p.movers and p.target not in seen:
            seen.add(p.target)
            md.append(f"- 影响最大的政策 Levers that move {p.target} most (change over each lever's allowed "
                      "side, the others at the scenario's values): " + ", ".join(
                          f"{name} {delta:+.3g}" for name, delta in p.movers))
    md += ["", "![frontier](figures/frontier.png)", ""]
    columns = list(rows[0]) if rows else []
    csv = ",".join(columns) + "\n" + "".join(
        ",".join(csv_cell(r[c]) for c in columns) + "\n" for r in rows)
    write_text_atomic(out / "what_it_takes.csv", csv)
    write_text_atomic(out / "what_it_takes.md", "\n".join(md))
