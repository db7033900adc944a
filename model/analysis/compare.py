"""Compare run folders: target probabilities and key 2026 values side by side, with fan charts.

Runs are compared on common random numbers: replication i of every run uses the same seed
(``SeedSequence(root, (i,))``) and the same posterior draw (i mod n), so the difference of
two scenarios is estimated replication by replication (a paired design), which removes the
shared noise. Runs must share the root seed and the posterior; with different replication
counts the comparison uses the first replications they have in common. A difference is
flagged when its paired 95% interval (mean difference ± 1.96 sd / sqrt n) excludes zero;
when every replication agrees, the difference is exact and flagged if it is not zero.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from model.analysis.targets import load_targets, percent, target_values  # noqa: E402
from model.errors import InputError  # noqa: E402
from model.outputs import claim  # noqa: E402
from model.reporting.figures import chain_panels, plan_path, save_figure  # noqa: E402
from model.reporting.summary import read_run  # noqa: E402
from model.reporting.tables import stack_yearly  # noqa: E402
from model.runner import YEARLY_STATS, load_replications  # noqa: E402
from model.statistics import YEARS  # noqa: E402
from model.structure import SCOPES  # noqa: E402
from model.yamlio import read_json, write_text_atomic  # noqa: E402

KEY_VALUES = (("total", "revenue"), ("total", "revenue_growth_pct"), ("total", "above_scale_firms"),
              ("total", "profit"), ("total", "value_added_real_growth_pct"),
              ("lithium", "revenue_all_firms"), ("total", "firms_over_10yi"),
              ("total", "rd_to_revenue_pct"), ("total", "digitalisation_rate_pct"))
COLOURS = ("#08519c", "#d94801", "#238b45", "#6a51a3", "#cb181d", "#525252", "#8c6d31")


@dataclass
class Run:
    folder: Path
    name: str
    seed: int
    posterior: str | None   # sha256 of the posterior draws used, or None for the defaults
    yearly: np.ndarray       # (replications, years, scopes, stats)
    targets: list[dict[str, str]]  # the run's own targets.csv (all its replications)


SCENARIO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")   # as the scenario schema


def load_run(folder: Path) -> Run:
    meta, targets = read_run(folder)        # a finished run's manifest and target table
    try:
        count = int(meta["seed"]["replications"])
        stamp = read_json(folder / "ensemble.json", "ensemble stamp")
        identity = f"{stamp['scenario_hash']}:{int(stamp['seed'])}"
        if not 0 < count <= 100_000 or not SCENARIO_NAME.fullmatch(str(meta["scenario"])):
            raise ValueError("implausible manifest")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(folder, None, f"damaged run folder: manifest.json or ensemble.json "
                         f"unreadable ({type(exc).__name__}); rerun `yichun-abm run`") from None
    reps = load_replications(folder / "replications", count, identity)
    posterior = (meta.get("posterior") or {}).get("draws_sha256")
    return Run(folder, meta["scenario"], int(meta["seed"]["root"]), posterior, stack_yearly(reps),
               targets)


def common_replications(runs: list[Run]) -> int:
    """How many replications the runs share; refuses runs on other seeds or posteriors."""
    base = runs[0]
    for run in runs[1:]:
        if run.seed != base.seed:
            raise InputError(run.folder, "seed", f"root seed {run.seed} differs from "
                             f"{base.folder.name}'s {base.seed}: the runs share no random numbers, "
                             "so they cannot be compared replication by replication")
        if run.posterior != base.posterior:
            raise InputError(run.folder, "posterior", f"parameter draws differ from "
                             f"{base.folder.name}'s: rerun both with the same --posterior")
    return min(run.yearly.shape[0] for run in runs)


def paired_difference(base: np.ndarray, other: np.ndarray) -> tuple[float, float, bool]:
    """(mean of other - base, its standard error, beyond Monte-Carlo error) over the
    replications where both are defined."""
    d = (other - base)[np.isfinite(other - base)]
    if d.size == 0:
        return float("nan"), float("nan"), False
    mean = float(d.mean())
    se = float(d.std(ddof=1) / np.sqrt(d.size)) if d.size > 1 else float("nan")
    if se == 0 or not np.isfinite(se):
        return mean, 0.0 if se == 0 else se, bool(se == 0 and mean != 0)
    return mean, se, bool(abs(mean) > 1.96 * se)


def target_outcomes(runs: list[Run], n: int) -> list[tuple[Any, list[np.ndarray]]]:
    """Per target, each run's per-replication outcome (1 met, 0 not) over the first n."""
    targets = load_targets()
    out = []
    for target in targets.targets:
        met = []
        for run in runs:
            values = target_values(target, run.yearly[:n])
            met.append((np.nan_to_num(values, nan=-np.inf) >= target.threshold - 1e-9).astype(float))
        out.append((target, met))
    return out


def comparison_tables(runs: list[Run]) -> tuple[str, str, int]:
    n = common_replications(runs)
    base = runs[0]
    names = [r.name for r in runs]
    out = io.StringIO()
    head = ["kind", "item", "scope", *names, *[f"{m}_minus_{base.name}" for m in names[1:]],
            *[f"{m}_minus_{base.name}_se" for m in names[1:]],
            *[f"{m}_beyond_mc_error" for m in names[1:]]]
    out.write(",".join(head) + "\n")
    zh = {t.id: t.description_zh for t in load_targets().targets}
    md = ["| 目标 target | " + " | ".join(names) + " | " + " | ".join(
        f"Δ {m}, 百分点 pts (95% interval)" for m in names[1:]) + " |",
          "| --- |" + " ---: |" * (2 * len(names) - 1)]
    for target, met in target_outcomes(runs, n):
        cells = [float(m.mean()) for m in met]
        pairs = [paired_difference(met[0], m) for m in met[1:]]
        out.write(",".join(["probability", target.id, target.scope, *[f"{c:.4g}" for c in cells],
                            *[f"{d:.4g}" for d, _, _ in pairs], *[f"{e:.4g}" for _, e, _ in pairs],
                            *[str(f).lower() for _, _, f in pairs]]) + "\n")
        md.append(f"| {zh.get(target.id, '')} · {target.description} | "
                  + " | ".join(percent(c) for c in cells) + " | "
                  + " | ".join(_interval(100 * d, 100 * e, f, "{:+.0f}") for d, e, f in pairs)
                  + " |")
    md += ["", "| 2026年数值 2026 value (median; Δ is the mean paired difference) | " + " | ".join(names)
           + " | " + " | ".join(f"Δ {m} (95% interval)" for m in names[1:]) + " |",
           "| --- |" + " ---: |" * (2 * len(names) - 1)]
    y = YEARS.index(2026)
    for scope, stat in KEY_VALUES:
        series = [r.yearly[:n, y, SCOPES.index(scope), YEARLY_STATS.index(stat)] for r in runs]
        meds = [float(np.nanmedian(v)) for v in series]
        pairs = [paired_difference(series[0], v) for v in series[1:]]
        out.write(",".join(["value_2026", stat, scope, *[f"{m:.6g}" for m in meds],
                            *[f"{d:.6g}" for d, _, _ in pairs], *[f"{e:.4g}" for _, e, _ in pairs],
                            *[str(f).lower() for _, _, f in pairs]]) + "\n")
        md.append(f"| {stat} ({scope}) | " + " | ".join(f"{m:.4g}" for m in meds) + " | "
                  + " | ".join(_interval(d, e, f, "{:+.4g}") for d, e, f in pairs) + " |")
    md += ["", f"Δ 为各情景减 {base.name}（相同随机种子与后验抽样配对）；* 表示区间不含零。 "
           f"Δ is each scenario minus {base.name}, paired over the {n} replications the runs "
           "share (same seeds, same posterior draws); probabilities in whole percent, their Δ in "
           "percentage points; * marks an interval that excludes zero."]
    return out.getvalue(), "\n".join(md) + "\n", n


def _interval(d: float, se: float, flag: bool, fmt: str) -> str:
    if not np.isfinite(d):
        return "n/a"
    spread = f" ({fmt.format(d - 1.96 * se)} to {fmt.format(d + 1.96 * se)})" if se > 0 else ""
    return fmt.format(d) + spread + (" *" if flag else "")


def _fan(ax: plt.Axes, x: np.ndarray, runs: np.ndarray, colour: str, label: str) -> None:
    q05, q25, q50, q75, q95 = np.nanquantile(runs, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    ax.fill_between(x, q05, q95, color=colour, alpha=0.12)
    ax.fill_between(x, q25, q75, color=colour, alpha=0.25)
    ax.plot(x, q50, color=colour, lw=1.8, label=label)


def fan_charts(runs: list[Run], figdir: Path) -> list[str]:
    years = np.array(YEARS)
    k_rev, k_all = YEARLY_STATS.index("revenue"), YEARLY_STATS.index("revenue_all_firms")
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for run, colour in zip(runs, COLOURS, strict=False):
        _fan(ax, years, run.yearly[:, :, 0, k_rev], colour, run.name)
    py, pv = plan_path()
    ax.plot(py, pv, "k--", lw=1.2, label="计划：年均增长9% plan: +9% a year from 2022")
    ax.set(title="各情景规上工业营收（中位数、50%与90%区间）\nAbove-scale revenue by scenario (median, "
                 "50% and 90% bands)", xlabel="年份 year",
           ylabel="营收 revenue, 亿元 (100 million CNY)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    save_figure(fig, figdir / "fan_total_revenue.png")

    def draw(ax: plt.Axes, chain: str) -> None:
        s = SCOPES.index(chain)
        for run, colour in zip(runs, COLOURS, strict=False):
            _fan(ax, years, run.yearly[:, :, s, k_all], colour, run.name)

    chain_panels(draw, "Chain revenue by scenario (median, 50% and 90% bands; chains overlap)",
                 figdir / "fan_chain_revenue.png", legend_columns=len(runs))
    return ["fan_total_revenue.png", "fan_chain_revenue.png"]


def compare(folders: list[Path], out: Path) -> Path:
    runs = [load_run(Path(f)) for f in folders]
    table_csv, table_md, n = comparison_tables(runs)
    runs = [Run(r.folder, r.name, r.seed, r.posterior, r.yearly[:n], r.targets) for r in runs]
    claim(out, "compare")                  # after the runs are read: a refusal writes nothing
    write_text_atomic(out / "comparison.csv", table_csv)
    figures = fan_charts(runs, out / "figures")
    md = [f"# 情景比较 Scenario comparison: {', '.join(r.name for r in runs)}", "",
          f"各2026年目标的达成概率与主要2026年数值（{n}次共同模拟）。 Probabilities that each "
          f"2026 target is met, and key 2026 values, over the {n} replications the runs share.",
          "", table_md,
          *[f"![{f}](figures/{f})" for f in figures], ""]
    write_text_atomic(out / "comparison.md", "\n".join(md))
    return out
