"""What each verdict rests on: the posterior parameters and outside uncertainties that move a
target's 2026 outcome most across an ensemble's replications (issue 25).

Each replication runs on one posterior draw and its own carbonate price path after the data,
so the replications are a sample of the joint uncertainty. For each target the outcome (its
2026 value, or the growth rate for the 9% target) is related to every input that varies by
partial rank correlation (PRCC: Marino et al. 2008, J. Theor. Biol. 254): the correlation of
the input's and the outcome's ranks once the other inputs' ranks are regressed out. Inputs are
the estimated parameters and the carbonate price averaged over 2025-2026 (an uncertainty of
the scenario, not a parameter). The top three by |PRCC| are what the verdict rests on: a
planner reading P(met) should know that a different value of these would move it most.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from scipy import stats

from model.analysis.targets import TargetsFile, target_values

PRICE_INPUT = "carbonate_price_2025_2026"
TOP = 3


def inputs_of(reps: list[Any], draws: list[dict[str, Any]] | None) -> tuple[list[str], np.ndarray]:
    """(names, replications x inputs): each replication's posterior parameter values (scalars
    and mapping entries, dotted) and its carbonate price averaged over 2025-2026."""
    names: list[str] = []
    columns: list[np.ndarray] = []
    if draws:
        flat = [_flatten(draws[r.draw]) if r.draw >= 0 else {} for r in reps]
        for name in sorted(set().union(*flat)):
            column = np.array([row.get(name, np.nan) for row in flat], dtype=float)
            names.append(name)
            columns.append(column)
    names.append(PRICE_INPUT)
    columns.append(np.array([float(np.mean(r.lithium_price[36:60])) for r in reps]))
    return names, np.stack(columns, axis=1)


def _flatten(draw: dict[str, Any], prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in draw.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[f"{prefix}{key}"] = float(value)
    return out


def prcc(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Partial rank correlation of each column of `x` with `y` (NaN where undefined)."""
    keep = np.isfinite(y) & np.isfinite(x).all(axis=1)
    x, y = x[keep], y[keep]
    n, k = x.shape
    out = np.full(k, np.nan)
    if n < k + 3:
        return out
    rx = np.column_stack([stats.rankdata(x[:, j]) for j in range(k)])
    ry = stats.rankdata(y)
    for j in range(k):
        others = np.column_stack([np.ones(n), np.delete(rx, j, axis=1)])
        res_x = rx[:, j] - others @ np.linalg.lstsq(others, rx[:, j], rcond=None)[0]
        res_y = ry - others @ np.linalg.lstsq(others, ry, rcond=None)[0]
        if res_x.std() > 1e-12 and res_y.std() > 1e-12:
            out[j] = float(np.corrcoef(res_x, res_y)[0, 1])
    return out


def driver_rows(targets: TargetsFile, yearly: np.ndarray, reps: list[Any],
                draws: list[dict[str, Any]] | None, ids: list[str] | None = None) -> list[dict]:
    """The top inputs of each target (all, or `ids`), by |PRCC| of its 2026 outcome."""
    names, x = inputs_of(reps, draws)
    varies = np.nanstd(x, axis=0) > 0
    names = [n for n, v in zip(names, varies, strict=True) if v]
    x = x[:, varies]
    rows = []
    for target in targets.targets:
        if ids is not None and target.id not in ids:
            continue
        y = target_values(target, yearly)
        if not np.isfinite(y).any() or np.nanstd(y) == 0:
            continue
        r = prcc(x, y)
        order = [j for j in np.argsort(-np.nan_to_num(np.abs(r), nan=-1.0)) if np.isfinite(r[j])]
        for rank, j in enumerate(order[:TOP], start=1):
            rows.append({"target": target.id, "description": target.description, "rank": rank,
                         "input": names[j], "prcc": float(r[j]), "replications": int(y.size)})
    return rows


def drivers_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    out.write("target,rank,input,prcc,replications\n")
    for r in rows:
        out.write(f"{r['target']},{r['rank']},{r['input']},{r['prcc']:.4f},{r['replications']}\n")
    return out.getvalue()


def drivers_markdown(rows: list[dict]) -> str:
    """One line per target: its three strongest inputs with the sign and size of their PRCC."""
    if not rows:
        return "No input varies across the replications (a run without a posterior).\n"
    lines = ["| 目标 target | 结论取决于 what the verdict rests on (partial rank correlation with the "
             "2026 outcome) |",
             "| --- | --- |"]
    for target in dict.fromkeys(r["target"] for r in rows):
        mine = [r for r in rows if r["target"] == target]
        lines.append(f"| {mine[0]['description']} | " + "; ".join(
            f"`{r['input']}` ({r['prcc']:+.2f})" for r in mine) + " |")
    return "\n".join(lines) + "\n"
