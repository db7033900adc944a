"""Scenario discovery: under which conditions is a target met or missed?

PRIM (Friedman & Fisher 1999, as implemented for scenario discovery in the EMA workbench,
Kwakkel 2017) peels the experiment's input space down to boxes where the share of runs
meeting (or missing) a target is high. Each box is reported at the point of its peeling
trajectory with the most coverage among those of density at least `threshold`; a CART tree
(scikit-learn) on the same data is the check.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from model.reporting.figures import save_figure


@dataclass
class Box:
    target: str
    outcome: str                      # "met" or "missed"
    limits: dict[str, tuple[float, float]]  # restricted dimensions only
    coverage: float                   # share of all cases of interest inside the box
    density: float                    # share of runs in the box that are cases of interest
    mass: float                       # share of all runs inside the box
    base_rate: float                  # share of cases of interest overall
    threshold: float                  # the density PRIM was asked for


def prim_box(x: pd.DataFrame, y: np.ndarray, threshold: float = 0.8,
             peel_alpha: float = 0.05) -> tuple[dict[str, tuple[float, float]], float, float, float]:
    """The PRIM box of highest coverage with density >= threshold (or the densest point)."""
    import logging
    import warnings

    with warnings.catch_warnings():  # the workbench warns about optional parallel back ends
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

    logging.getLogger("EMA").setLevel(logging.ERROR)
    finder = prim.Prim(x, y.astype(bool), threshold=threshold, peel_alpha=peel_alpha)
    box = finder.find_box()
    trajectory = box.peeling_trajectory
    ok = trajectory[trajectory["density"] >= threshold]
    i = int(ok["coverage"].idxmax()) if len(ok) else int(trajectory["density"].idxmax())
    lims = box.box_lims[i]
    full = finder.box_init
    limits = {c: (float(lims.loc[0, c]), float(lims.loc[1, c])) for c in x.columns
              if lims.loc[0, c] != full.loc[0, c] or lims.loc[1, c] != full.loc[1, c]}
    row = trajectory.loc[i]
    return limits, float(row["coverage"]), float(row["density"]), float(row["mass"])


def discover(table: pd.DataFrame, inputs: list[str], target: str, outcome: str = "met",
             threshold: float = 0.8) -> Box | None:
    """The box where runs meet (or miss) `target`; None when no run or every run does."""
    met = table[f"met_{target}"].to_numpy() > 0.5
    y = met if outcome == "met" else ~met
    if y.all() or not y.any():
        return None
    # a rare outcome cannot reach a high density: lower the bar step by step (PRIM returns the
    # whole space, a "dump box", when its peeled box misses the threshold)
    rate = float(y.mean())
    for bar in (threshold, 0.6, 0.4, 0.2, min(2 * rate, 0.9)):
        if bar <= rate:
            continue
        limits, coverage, density, mass = prim_box(table[inputs], y, bar)
        if limits:
            return Box(target, outcome, limits, coverage, density, mass, rate, bar)
    return Box(target, outcome, {}, 1.0, rate, 1.0, rate, rate)


def cart_rules(table: pd.DataFrame, inputs: list[str], target: str, depth: int = 3) -> str:
    """A shallow classification tree of met/missed as text: the check on PRIM."""
    from sklearn.tree import DecisionTreeClassifier, export_text

    y = table[f"met_{target}"].to_numpy() > 0.5
    tree = DecisionTreeClassifier(max_depth=depth, min_samples_leaf=max(10, len(y) // 50),
                                  random_state=0).fit(table[inputs], y)
    return export_text(tree, feature_names=inputs, class_names=["missed", "met"])


def box_markdown(box: Box | None, target: str, description: str) -> list[str]:
    if box is None:
        return [f"### {description}", "", "Every run agrees (all met or all missed): no box.", ""]
    if not box.limits:
        return [f"### {description}", "", f"Base rate {box.base_rate:.2f}: PRIM finds no box where "
                f"it is {box.outcome} noticeably more often than overall.", ""]
    lines = [f"### {description}: conditions under which it is {box.outcome}", "",
             f"Base rate {box.base_rate:.2f}; the box holds {box.mass:.0%} of runs, covers "
             f"{box.coverage:.0%} of the runs where it is {box.outcome} (coverage), and "
             f"{box.density:.0%} of the runs in it have it {box.outcome} (density; PRIM asked for "
             f"{box.threshold:.0%}): {box.density / box.base_rate:.1f} times the base rate. "
             + ("A rare outcome over four replications a point: read the box as a tendency."
                if box.density < 0.5 else ""), "",
             "| condition | from | to |", "| --- | ---: | ---: |"]
    lines += [f"| {name} | {lo:.4g} | {hi:.4g} |" for name, (lo, hi) in box.limits.items()]
    return [*lines, ""]


def plot_box(table: pd.DataFrame, box: Box, inputs: list[str], path: Path) -> None:
    """The first two restricted dimensions (or one and another input), runs coloured by the
    outcome, the box drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = (list(box.limits) + [n for n in inputs if n not in box.limits])[:2]
    met = table[f"met_{box.target}"].to_numpy() > 0.5
    fig, ax = plt.subplots(figsize=(6, 4.5))
    if len(names) == 1:                   # one input explored: the runs along it, met above
        name = names[0]
        spread = np.linspace(-0.2, 0.2, len(table))
        ax.scatter(table[name], met + spread, s=6, c=np.where(met, "#08519c", "#d94801"), alpha=0.5)
        lo, hi = box.limits.get(name, (table[name].min(), table[name].max()))
        ax.axvspan(lo, hi, fill=False, lw=2)
        ax.set(xlabel=name, yticks=[0, 1], yticklabels=["未达成 missed", "达成 met"],
               title=f"{box.target}: PRIM 情景发现框 box ({box.outcome}); "
                     f"覆盖率 coverage {box.coverage:.0%}, 密度 density {box.density:.0%}")
        save_figure(fig, path)
        return
    ax.scatter(table[names[0]][~met], table[names[1]][~met], s=6, c="#d94801", alpha=0.5,
               label="未达成 missed")
    ax.scatter(table[names[0]][met], table[names[1]][met], s=6, c="#08519c", alpha=0.5, label="达成 met")
    lo = [box.limits.get(n, (table[n].min(), table[n].max()))[0] for n in names]
    hi = [box.limits.get(n, (table[n].min(), table[n].max()))[1] for n in names]
    ax.add_patch(plt.Rectangle((lo[0], lo[1]), hi[0] - lo[0], hi[1] - lo[1], fill=False, lw=2))
    ax.set(xlabel=names[0], ylabel=names[1],
           title=f"{box.target}: PRIM 情景发现框 box ({box.outcome}); 覆盖率 coverage {box.coverage:.0%}, "
                 f"密度 density {box.density:.0%}")
    ax.legend(fontsize=8)
    save_figure(fig, path)
