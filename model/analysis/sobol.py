"""Variance-based global sensitivity: Sobol indices (SALib) of P(9% a year) and 2026 revenue.

Saltelli's sampling scheme over the levers and uncertainties of the explored space; each point
runs with replications from the same seed and posterior-draw pool as `explore` (so parameter
uncertainty is in every point's outcome); first-order (S1) and total (ST) indices with
bootstrap 95% confidence intervals. P(9%) at a point is the share of its replications meeting
the target, so with few replications its indices carry Monte-Carlo noise the intervals show.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import sobol as sobol_sample

from model.analysis.explore import explore
from model.analysis.space import Space
from model.scenario import ResolvedScenario
from model.yamlio import write_text_atomic

OUTCOMES = {"p_9pct": "met_revenue_cagr_2023_2026", "revenue_2026": "revenue_2026"}


def problem(space: Space) -> dict[str, Any]:
    return {"num_vars": len(space.dimensions), "names": [d.name for d in space.dimensions],
            "bounds": [list(d.range) for d in space.dimensions]}


def sobol_indices(scenario: ResolvedScenario, space: Space, base_samples: int, replications: int,
                  folder: Path, seed: int, draws, workers: int = 1, progress: Any = None) -> pd.DataFrame:
    """Run the Saltelli design (base_samples × (dimensions + 2) points) and return one row
    per input and outcome: S1, S1_conf, ST, ST_conf."""
    prob = problem(space)
    points = pd.DataFrame(sobol_sample.sample(prob, base_samples, calc_second_order=False,
                                              seed=seed), columns=prob["names"])
    # Saltelli's estimators difference the outcome between a base row and the same row with
    # one input swapped: the rows of one base sample (A, AB_1..AB_D, B) share their random
    # numbers and parameter draws, or the model's noise would swamp the inputs' effects
    group_size = prob["num_vars"] + 2
    table = explore(scenario, space, len(points), replications, folder, seed, draws, workers,
                    progress=progress, points=points,
                    groups=[j // group_size for j in range(len(points))])
    means = table.groupby("sample")[list(OUTCOMES.values())].mean().sort_index()
    rows = []
    for outcome, column in OUTCOMES.items():
        result = sobol_analyze.analyze(prob, means[column].to_numpy(), calc_second_order=False,
                                       conf_level=0.95, seed=seed)
        for j, name in enumerate(prob["names"]):
            rows.append({"outcome": outcome, "input": name, "S1": result["S1"][j],
                         "S1_conf": result["S1_conf"][j], "ST": result["ST"][j],
                         "ST_conf": result["ST_conf"][j]})
    indices = pd.DataFrame(rows)
    write_text_atomic(folder / "sobol.csv", indices.to_csv(index=False))
    md = [f"# Sobol indices: {scenario.name}", "",
          f"Saltelli design of {base_samples} base samples × {prob['num_vars'] + 2} = {len(points)} "
          f"points, {replications} replications each (posterior draws). S1: share of the "
          "outcome's variance due to the input alone; ST: including its interactions; ± the "
          "bootstrap 95% interval.", ""]
    for outcome, column in OUTCOMES.items():
        part = indices[indices.outcome == outcome].sort_values("ST", ascending=False)
        varying = float((means[column] != means[column].median()).mean())
        md += [f"## {outcome}", ""]
        if varying < 0.1:
            md += [f"Only {varying:.0%} of the points differ from the median outcome: the "
                   "indices below are not informative.", ""]
        md += ["| input | S1 | ST |", "| --- | ---: | ---: |"]
        md += [f"| {r.input} | {r.S1:.3f} ± {r.S1_conf:.3f} | {r.ST:.3f} ± {r.ST_conf:.3f} |"
               for r in part.itertuples()]
        md.append("")
    write_text_atomic(folder / "sobol.md", "\n".join(md))
    return indices
