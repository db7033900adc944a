"""Exploratory experiments: a Latin-hypercube design over levers and uncertainties, each design
point run with posterior draws on common random numbers.

Replications are drawn from a fixed pool of SEED_POOL replication indices (seed
``SeedSequence(root, (i,))`` and posterior draw i mod n, as in `run`): design point j,
replication r uses index (j mod B) · R + r with B = SEED_POOL // R blocks. Points in the same
block share their random numbers and parameter draws (common random numbers), and across
blocks the experiment covers the posterior (200 indices: every draw of a 150-draw posterior),
which a design with the same R seeds at every point would not. The design is SALib's Latin
hypercube (seeded), because SALib takes the seed as an argument; PRIM and CART come from the
EMA workbench and scikit-learn (model/analysis/discovery.py). Each finished design point is
saved on its own, so a killed run resumes; the table is assembled in design order, identical
for any number of workers.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from SALib.sample import latin

from model.analysis.space import Space, apply, public_money
from model.analysis.targets import load_targets, target_values
from model.errors import InputError
from model.parallel import completed
from model.runner import YEARLY_STATS, run_replication
from model.scenario import ResolvedScenario
from model.statistics import YEARS
from model.yamlio import read_json, write_json_atomic

PLAN = slice(YEARS.index(2023), YEARS.index(2026) + 1)
SEED_POOL = 200


def replication_index(point: int, replication: int, replications: int) -> int:
    blocks = max(SEED_POOL // replications, 1)
    return (point % blocks) * replications + replication


def design(space: Space, samples: int, seed: int) -> pd.DataFrame:
    """A Latin hypercube over every dimension's explored range."""
    problem = {"num_vars": len(space.dimensions), "names": [d.name for d in space.dimensions],
               "bounds": [list(d.range) for d in space.dimensions]}
    return pd.DataFrame(latin.sample(problem, samples, seed=seed), columns=problem["names"])


def outcomes(yearly: np.ndarray) -> dict[str, float]:
    """Per run: every 2026 target met (1/0), 2026 revenue, 2023-2026 revenue growth a year,
    public money paid to firms over 2023-2026 (funds and awards, 亿元)."""
    out: dict[str, float] = {}
    for target in load_targets().targets:
        value = target_values(target, yearly[None])[0]
        out[f"met_{target.id}"] = float(np.isfinite(value) and value >= target.threshold - 1e-9)
        out[f"value_{target.id}"] = float(value) if np.isfinite(value) else None
    k_rev = YEARLY_STATS.index("revenue")
    out["revenue_2026"] = float(yearly[YEARS.index(2026), 0, k_rev])
    out["revenue_cagr_2023_2026"] = float(
        100 * ((yearly[YEARS.index(2026), 0, k_rev] / yearly[YEARS.index(2022), 0, k_rev]) ** 0.25 - 1))
    out["public_money_paid"] = float(yearly[PLAN, 0, YEARLY_STATS.index("subsidy_income")].sum())
    return out


def run_point(args: tuple[ResolvedScenario, Space, int, int, dict[str, float], int, int,
                          list[dict[str, Any]] | None]) -> list[dict[str, Any]]:
    scenario, space, j, group, values, replications, seed, draws = args
    changed = apply(scenario, space, values)
    rows = []
    for r in range(replications):
        rep = run_replication(changed, seed, replication_index(group, r, replications), draws)
        rows.append({"sample": j, "replication": rep.index, "draw": rep.draw, **values,
                     "public_money_budgeted": public_money(space, values), **outcomes(rep.yearly)})
    return rows


def check_folder(folder: Path, stamp: dict[str, Any]) -> None:
    path = folder / "explore.json"
    if path.exists():
        old = read_json(path, "exploration stamp")
        if old != stamp:
            differ = [k for k in stamp if old.get(k) != stamp[k]]
            raise InputError(folder, None, f"folder holds an exploration with other {differ}; "
                             "choose another --out or delete it")


def _point_rows(path: Path) -> list[dict[str, Any]]:
    """A saved design point's rows (read defensively: a damaged file is one line)."""
    rows = read_json(path, "design point", expect=list)
    if not rows or not all(isinstance(row, dict) for row in rows):
        raise InputError(path, None, "damaged design point: delete it and rerun to recompute it")
    return rows


def explore(scenario: ResolvedScenario, space: Space, samples: int, replications: int,
            folder: Path, seed: int, draws: list[dict[str, Any]] | None, workers: int = 1,
            executor: str = "processes", scheduler: str | None = None,
            progress: Any = None, points: pd.DataFrame | None = None,
            groups: list[int] | None = None) -> pd.DataFrame:
    """Run (or resume) the experiment into `folder`; returns the table (one row per run).
    `points` replaces the Latin hypercube with a given design (one column per dimension);
    `groups` gives each point's seed group (points of a group share their random numbers and
    parameter draws; by default every point is its own group)."""
    points = design(space, samples, seed) if points is None else points
    samples = len(points)
    groups = list(range(samples)) if groups is None else groups
    stamp = {"scenario_hash": scenario.digest(), "samples": samples, "replications": replications,
             "seed": seed, "space": space.model_dump(mode="json"), "draws": len(draws) if draws else 0,
             "design": hashlib.sha256(json.dumps([points.round(12).to_numpy().tolist(), groups])
                                      .encode()).hexdigest()[:16]}
    check_folder(folder, stamp)
    parts = folder / "points"
    parts.mkdir(parents=True, exist_ok=True)
    write_json_atomic(folder / "explore.json", stamp)
    todo = [j for j in range(samples) if not (parts / f"point_{j:05d}.json").exists()]
    tasks = [(scenario, space, j, groups[j], points.iloc[j].to_dict(), replications, seed, draws)
             for j in todo]
    wrap = progress or (lambda it, total: it)
    for rows in wrap(completed(run_point, tasks, workers, executor, scheduler), len(tasks)):
        write_json_atomic(parts / f"point_{rows[0]['sample']:05d}.json", rows)
    rows = [row for j in range(samples)
            for row in _point_rows(parts / f"point_{j:05d}.json")]
    table = pd.DataFrame(rows)
    write_table(table, folder / "experiments.parquet")
    return table


def write_table(table: pd.DataFrame, path: Path) -> None:
    from model.yamlio import atomic_path

    with atomic_path(path) as tmp:
        table.to_parquet(tmp, index=False)
