"""Lever effects: each policy lever changed alone, paired with the baseline on the same seeds.

Every lever in the scenario schema is moved one way (a deep-merged patch), and each
replication is run with and without the change on the same root seed and the same
posterior draw. The model draws its random numbers per month and per mechanism, over firms
in row order, so the paired runs see the same shocks (common random numbers) and a
difference is the lever's effect through its own channel. For each lever the table gives the
mean paired difference and its standard error for 2026 above-scale revenue, the mean real
value-added growth over 2023-2026 and the outcome the lever aims at, with the sign
economics expects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model.parallel import process_executor
from model.runner import YEARLY_STATS
from model.scenario import ResolvedScenario
from model.statistics import YEARS
from model.structure import SCOPES
from model.yamlio import write_text_atomic

_FUNDS = ("tech_upgrade_fund", "digital_transformation_fund", "etdz_digital_fund", "sme_fund")


@dataclass(frozen=True)
class LeverChange:
    name: str
    change: str                       # what is changed, in words
    patch: dict[str, Any]
    outcome: tuple[str, str, str]     # (statistic, scope, how: "2026" | "sum" | "mean_growth")
    expected: int                     # expected sign of the effect on the lever's own outcome
    expected_revenue: int             # ... and on 2026 revenue (0: no clear expectation)


def _instrument(name: str, **values: Any) -> dict[str, Any]:
    return {"policy": {"instruments": {name: values}}}


LEVERS: tuple[LeverChange, ...] = (
    LeverChange("tech_upgrade_fund", "technical-upgrade fund 2 → 10 亿 a year, rate 0.15 → 0.3",
                _instrument("tech_upgrade_fund", budget_per_year=10.0, subsidy_rate=0.3),
                ("upgrade_projects", "total", "sum"), +1, +1),
    LeverChange("funds_off", "all four funds switched off",
                {"policy": {"instruments": {f: {"enabled": False} for f in _FUNDS}}},
                ("upgrade_projects", "total", "sum"), -1, -1),
    LeverChange("digital_funds", "both digital funds ×5 (budget)",
                {"policy": {"instruments": {
                    "digital_transformation_fund": {"budget_per_year": 3.25},
                    "etdz_digital_fund": {"budget_per_year": 2.5}}}},
                ("digitalisation_rate_pct", "total", "2026"), +1, +1),
    LeverChange("sme_fund", "SME fund 0.1 → 2 亿 a year, cap 50万 → 200万",
                _instrument("sme_fund", budget_per_year=2.0, per_project_cap=0.02),
                ("above_scale_firms", "total", "2026"), +1, +1),
    LeverChange("rd_super_deduction", "R&D extra deduction 100% → 200%",
                _instrument("rd_super_deduction", extra_deduction_rate=2.0),
                # R&D raises TFP: the same plants make more (capacity) at a lower unit cost,
                # part passed on in prices; real output and revenue rise
                ("rd_to_revenue_pct", "total", "2026"), +1, +1),
    LeverChange("no_chain_leaders", "no chain-leader recognition (cap 0 per chain)",
                {"policy": {"chain_leaders": {"max_per_chain": 0}}},
                ("chain_leaders", "total", "2026"), -1, -1),
    LeverChange("no_leader_priority", "chain leaders without land and energy priority",
                {"policy": {"chain_leaders": {"land_energy_priority": False}}},
                ("capacity_above_scale", "total", "2026"), -1, -1),
    LeverChange("awards_off", "milestone, gazelle and chain-leader awards switched off",
                {"policy": {"instruments": {
                    "chain_leader_award": {"enabled": False},
                    "scale_milestone_award": {"enabled": False},
                    "gazelle_award": {"enabled": False}}}},
                ("subsidy_income", "total", "sum"), -1, -1),
    LeverChange("more_projects", "signed projects 338 → 450 a year",
                {"policy": {"attraction": {"projects_per_year": 450}}},
                ("projects_signed", "total", "sum"), +1, +1),
    LeverChange("realisation", "share of signed projects built 0.55 → 0.75",
                {"policy": {"attraction": {"realisation_rate": 0.75}}},
                ("projects_producing", "total", "2026"), +1, +1),
    LeverChange("large_projects", "five extra projects of 50 亿+ a year (annex 9)",
                {"policy": {"attraction": {"large_projects_per_year": 5}}},
                ("revenue_new_plants", "total", "sum"), +1, +1),
    LeverChange("no_approval_reform", "approval stays at 80 working days (no 25-day reform)",
                {"policy": {"approval": {"days_after": 80}}},
                ("projects_producing", "total", "2026"), -1, -1),
)


def outcome(yearly: np.ndarray, stat: str, scope: str, how: str) -> float:
    """One replication's outcome from its yearly table (years x scopes x statistics)."""
    k, s = YEARLY_STATS.index(stat), SCOPES.index(scope)
    plan = slice(YEARS.index(2023), YEARS.index(2026) + 1)
    if how == "sum":
        return float(yearly[plan, s, k].sum())
    if how == "mean_growth":
        return float(np.nanmean(yearly[plan, s, k]))
    return float(yearly[YEARS.index(2026), s, k])


def _outcomes(yearly: np.ndarray, lever: LeverChange | None) -> tuple[float, float, float]:
    own = outcome(yearly, *lever.outcome) if lever else np.nan
    return (outcome(yearly, "revenue", "total", "2026"),
            outcome(yearly, "value_added_real_growth_pct", "total", "mean_growth"), own)


def _pair(args: tuple[ResolvedScenario, int, int, list[dict[str, Any]] | None]) -> np.ndarray:
    """(levers + 1) x 3 outcomes of replication `index`: the baseline row first, then each
    lever's own outcomes (the baseline's own outcome per lever in column 2 of row 0 is not used)."""
    from model.runner import run_replication

    scenario, seed, index, draws = args
    base = run_replication(scenario, seed, index, draws).yearly
    rows = [[*_outcomes(base, None)]]
    for lever in LEVERS:
        changed = run_replication(scenario.updated(lever.patch), seed, index, draws).yearly
        rev, growth, own = _outcomes(changed, lever)
        rows.append([rev, growth, own, outcome(base, *lever.outcome)])
    rows[0].append(np.nan)
    return np.array(rows)


def lever_effects(scenario: ResolvedScenario, replications: int, seed: int, workers: int = 1,
                  draws: list[dict[str, Any]] | None = None,
                  progress: Callable[[Any, int], Any] | None = None) -> list[dict[str, Any]]:
    """Paired differences per lever: mean, standard error and whether the sign is as expected."""
    tasks = [(scenario, seed, i, draws) for i in range(replications)]
    if workers > 1:
        with process_executor(workers) as pool:
            done = pool.map(_pair, tasks)          # in order, as they finish: a live progress line
            results = list(progress(done, len(tasks)) if progress else done)
    else:
        results = [_pair(t) for t in (progress(tasks, len(tasks)) if progress else tasks)]
    table = np.stack(results)          # replications x (levers + 1) x 4
    rows = []
    for j, lever in enumerate(LEVERS, start=1):
        d_rev = table[:, j, 0] - table[:, 0, 0]
        d_growth = table[:, j, 1] - table[:, 0, 1]
        d_own = table[:, j, 2] - table[:, j, 3]
        row: dict[str, Any] = {"lever": lever.name, "change": lever.change,
                               "own_outcome": "{}·{} ({})".format(*lever.outcome)}
        for key, d in (("revenue_2026", d_rev), ("va_growth_pp", d_growth), ("own", d_own)):
            row[f"d_{key}"] = float(np.mean(d))
            row[f"se_{key}"] = float(np.std(d, ddof=1) / np.sqrt(d.size)) if d.size > 1 else np.nan
        row["expected_own"] = lever.expected
        row["expected_revenue"] = lever.expected_revenue
        row["own_as_expected"] = bool(np.sign(row["d_own"]) == lever.expected
                                      and abs(row["d_own"]) > 2 * row["se_own"])
        row["revenue_as_expected"] = bool(lever.expected_revenue == 0 or np.sign(
            row["d_revenue_2026"]) == lever.expected_revenue)
        row["inert"] = bool(all(abs(row[f"d_{k}"]) <= 2 * row[f"se_{k}"] or row[f"d_{k}"] == 0
                                for k in ("revenue_2026", "va_growth_pp", "own")))
        rows.append(row)
    return rows


#: The levers' names in Chinese, for the table planners read.
LEVER_NAMES_ZH = {
    "tech_upgrade_fund": "技改资金加码", "funds_off": "取消四项专项资金", "digital_funds": "数字化资金×5",
    "sme_fund": "中小企业资金加码", "rd_super_deduction": "研发费用加计扣除提高",
    "no_chain_leaders": "不认定链主企业", "no_leader_priority": "链主无用地用能优先",
    "awards_off": "取消奖励", "more_projects": "多签约项目", "realisation": "提高项目落地率",
    "large_projects": "每年多引进5个50亿元以上项目", "no_approval_reform": "审批不提速",
}


def _sign(x: int) -> str:
    return {1: "+", -1: "−", 0: "±"}[x]


def write_lever_table(rows: list[dict[str, Any]], folder: Path, replications: int, seed: int,
                      command: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    keys = list(rows[0])
    csv = [",".join(keys)] + [",".join(f'"{r[k]}"' if isinstance(r[k], str) else
                                      (str(r[k]).lower() if isinstance(r[k], bool) else f"{r[k]:.6g}")
                                      for k in keys) for r in rows]
    write_text_atomic(folder / "levers.csv", "\n".join(csv) + "\n")
    lines = [
        "# 政策工具效果（配对比较，共同随机数） Lever effects (paired, common random numbers)", "",
        "每项政策单独改变，与基准在相同的随机数与后验抽样上配对比较；Δ = 政策 − 基准，均值 ± 标准误。",
        "",
        f"Each lever changed alone against the baseline on the same {replications} replications "
        f"(root seed {seed}, the same posterior draw in both runs). Δ = lever − baseline, mean ± "
        "standard error over replications. 'as expected' needs the expected sign and |Δ| > 2 se "
        "for the lever's own outcome; 'revenue sign' compares the sign of Δ revenue with the "
        "expected one (± where economics gives none); 'inert' means no outcome moved beyond 2 se.",
        "",
        f"Command: `{command}`", "",
        "| 政策 lever | 改变 change | Δ 2026年营收 revenue, 亿 (expected) | "
        "Δ 2023—26年工业增加值实际增速 real VA growth, pp | 直接结果 own outcome | Δ own (expected) | "
        "符合预期 own as expected | 营收方向 revenue sign | 无效 inert |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {LEVER_NAMES_ZH.get(r['lever'], '')} {r['lever']} | {r['change']} | "
            f"{r['d_revenue_2026']:+.2f} ± {r['se_revenue_2026']:.2f} "
            f"({_sign(r['expected_revenue'])}) | {r['d_va_growth_pp']:+.3f} ± {r['se_va_growth_pp']:.3f} | "
            f"{r['own_outcome']} | {r['d_own']:+.4g} ± {r['se_own']:.2g} ({_sign(r['expected_own'])}) | "
            f"{'yes' if r['own_as_expected'] else 'NO'} | "
            f"{'±' if r['expected_revenue'] == 0 else ('yes' if r['revenue_as_expected'] else 'NO')} | "
            f"{'YES' if r['inert'] else 'no'} |")
    write_text_atomic(folder / "levers.md", "\n".join(lines) + "\n")
