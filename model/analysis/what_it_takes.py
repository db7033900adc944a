"""What it would take: the cheapest lever package that reaches a target with P >= 0.5 or 0.8.

From an experiment over the levers alone (uncertainty as in the scenario: posterior draws,
price paths, shocks), a logistic model of P(met | levers) is fitted per target (scikit-learn,
lever values and their squares). Candidate packages are scored by it; the cheapest (public
money over 2023-2026, from the funds' budgets) whose predicted probability clears the bar is
chosen, ties broken by the smallest change from the scenario's own lever values (attraction
and approval have no budget line, so the smallest departure is preferred). Every reported
package is confirmed by a fresh ensemble of replications at those lever values, with its
Wilson interval; if the confirmation falls short, the next candidate is tried. A target no
candidate reaches is reported as out of reach, with the best package's confirmed probability.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from model.analysis.explore import design
from model.analysis.space import Space, apply, public_money
from model.analysis.targets import load_targets, target_values, wilson_interval
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
            seed: int, draws: list[dict[str, Any]] | None, workers: int) -> tuple[float, float, float]:
    """P(met) at the package from a fresh ensemble (common random numbers with the scenario)."""
    from model.parallel import completed

    changed = apply(scenario, space, package)
    spec = next(t for t in load_targets().targets if t.id == target)
    tasks = [(changed, seed, r, draws) for r in range(replications)]
    values = target_values(spec, np.stack(list(completed(_run, tasks, workers))))
    k = int(np.sum(np.nan_to_num(values, nan=-np.inf) >= spec.threshold - 1e-9))
    low, high = wilson_interval(k, replications)
    return k / replications, low, high


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
    """Candidate packages of one target, scored once: their predicted P(met) and cost."""
    target: str
    candidates: pd.DataFrame
    probability: np.ndarray
    cost: np.ndarray


def lever_search(table: pd.DataFrame, space: Space, target: str, seed: int) -> LeverSearch:
    model = lever_model(table, [d.name for d in space.levers], target)
    candidates = design(Space(levers=space.levers), CANDIDATES, seed + 1)
    cost = np.array([public_money(space, row) for row in candidates.to_dict("records")])
    return LeverSearch(target, candidates, predict(model, candidates), cost)


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
    picks = eligible[:ATTEMPTS] if reached else [int(np.argmax(probability))]
    result = None
    for i in picks:
        package = candidates.iloc[i].to_dict()
        p, low, high = confirm(scenario, space, package, search.target, replications, seed, draws,
                               workers)
        result = Package(search.target, bar, package, float(cost[i]), float(probability[i]), p,
                         low, high, replications, reached and p >= bar)
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
    ax.set(xlabel="public money over 2023-2026 (fund budgets), 亿元",
           ylabel="highest predicted P(target met)", ylim=(0, 1),
           title="Cost-probability frontier (logistic model of the lever experiment)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    save_figure(fig, path)


def package_markdown(packages: list[Package], scenario, space: Space, out) -> None:
    from model.reporting.tables import csv_cell
    from model.yamlio import write_text_atomic

    base = baseline_levers(scenario, space)
    names = [d.name for d in space.levers]
    described = {t.id: t.description for t in load_targets().targets}
    md = [f"# What it would take: {scenario.name}", "",
          "The cheapest lever package (fund budgets over 2023-2026, 亿元) whose predicted "
          "probability clears each bar, within the explored ranges (scenarios/explore/space.yaml, "
          "inside the plan's stated maxima), confirmed by a fresh ensemble at those values on "
          "the scenario's seeds and posterior draws. Attraction volume, realisation and approval "
          "time have no budget line: the package moves them as little as the bar allows.", "",
          "| target | bar | reached | public money | confirmed P (95% interval) | predicted P | "
          + " | ".join(names) + " |",
          "| --- | ---: | --- | ---: | --- | ---: |" + " ---: |" * len(names),
          "| (scenario's own levers) | | | | | | " + " | ".join(f"{base[n]:.3g}" for n in names)
          + " |"]
    rows = []
    for p in packages:
        md.append(f"| {described[p.target]} | {p.bar} | {'yes' if p.reached else '**no**'} | "
                  f"{p.public_money:.1f} | {p.confirmed:.2f} ({p.low:.2f}–{p.high:.2f}) | "
                  f"{p.predicted:.2f} | " + " | ".join(f"{p.levers[n]:.3g}" for n in names) + " |")
        rows.append({"target": p.target, "bar": p.bar, "reached": p.reached,
                     "public_money": p.public_money, "confirmed": p.confirmed, "low": p.low,
                     "high": p.high, "predicted": p.predicted, "replications": p.replications,
                     **p.levers})
    out_of_reach = [p for p in packages if not p.reached]
    md += ["", "Out of reach within the explored ranges: " + (", ".join(
        f"{p.target} at P ≥ {p.bar} (best confirmed P = {p.confirmed:.2f})" for p in out_of_reach)
        or "none") + ".", "", "![frontier](figures/frontier.png)", ""]
    columns = list(rows[0]) if rows else []
    csv = ",".join(columns) + "\n" + "".join(
        ",".join(csv_cell(r[c]) for c in columns) + "\n" for r in rows)
    write_text_atomic(out / "what_it_takes.csv", csv)
    write_text_atomic(out / "what_it_takes.md", "\n".join(md))
