"""What `yichun-abm attribute` writes: attribution.md and .csv (each group's Shapley value per
outcome with its standard error, beside its one-at-a-time effect), the cost-effectiveness of the
groups with a budget, waterfall figures, and attribution.json for the run's summary line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from model.analysis.attribution import Attribution, Group, mean_se
from model.analysis.targets import load_targets
from model.reporting.figures import save_figure
from model.yamlio import write_json_atomic, write_text_atomic

#: the outcomes of the main table, with their labels and units
HEADLINE = (("revenue_2026", "2026年规上工业营收 revenue 2026", "亿元"),
            ("revenue_cagr_2023_2026", "2023—2026年均增速 growth a year", "pp"),
            ("real_va_growth_2023", "2023年工业增加值实际增速 real VA growth 2023", "pp"),
            ("real_va_growth_2024", "2024年 real VA growth 2024", "pp"),
            ("real_va_growth_2025", "2025年 real VA growth 2025", "pp"),
            ("real_va_growth_2026", "2026年 real VA growth 2026", "pp"),
            ("public_money_2023_2026", "2023—2026年财政补贴 public money paid", "亿元"))
WATERFALLS = ("revenue_2026", "revenue_cagr_2023_2026", "real_va_growth_2024")


def _cell(mean: float, se: float, digits: int = 2) -> str:
    return f"{mean:+.{digits}f} ± {se:.{digits}f}" if np.isfinite(se) else f"{mean:+.{digits}f}"


def has_budget(group: Group) -> bool:
    """A group with a budget line: a fund or an award (the R&D super-deduction is tax forgone)."""
    return any(k.startswith("policy.instruments.") and not k.endswith("rd_super_deduction")
               for k in group.keys)


def cost_effectiveness(result: Attribution, groups: dict[str, Group], seed: int = 0,
                       draws: int = 2000) -> list[dict[str, Any]]:
    """Per group with a budget: Δ revenue 2026 and Δ value added 2026 per 亿 paid over
    2023-2026 (the ratio of the groups' Shapley values), with bootstrap 95% intervals over
    replications."""
    k_money = result.names.index("public_money_2023_2026")
    rows = []
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(43,)))
    n = result.per_replication.shape[0]
    picks = rng.integers(0, n, size=(draws, n))
    for g, group in enumerate(result.groups):
        money = result.per_replication[:, g, k_money]
        if not has_budget(groups[group]) or np.nanmean(money) <= 0:
            continue
        row: dict[str, Any] = {"group": group, "public_money": float(np.nanmean(money))}
        for outcome in ("revenue_2026", "value_added_2026"):
            effect = result.per_replication[:, g, result.names.index(outcome)]
            ratio = float(np.nanmean(effect) / np.nanmean(money))
            boot = np.nanmean(effect[picks], axis=1) / np.nanmean(money[picks], axis=1)
            low, high = np.nanpercentile(boot, [2.5, 97.5])
            row[f"{outcome}_per_yi"] = ratio
            row[f"{outcome}_per_yi_low"], row[f"{outcome}_per_yi_high"] = float(low), float(high)
        rows.append(row)
    return rows


def attribution_csv(result: Attribution) -> str:
    mean, se = mean_se(result.per_replication)
    alone, alone_se = mean_se(result.one_at_a_time)
    lines = ["group,outcome,shapley,shapley_se,alone,alone_se"]
    for g, group in enumerate(result.groups):
        for j, name in enumerate(result.names):
            lines.append(f"{group},{name},{mean[g, j]:.6g},{se[g, j]:.4g},{alone[g, j]:.6g},"
                         f"{alone_se[g, j]:.4g}")
    for group in result.idle:
        lines += [f"{group},{name},0,0,0,0" for name in result.names]
    total, total_se = mean_se(result.full - result.base)
    lines += [f"(total),{name},{total[j]:.6g},{total_se[j]:.4g},," for j, name in
              enumerate(result.names)]
    return "\n".join(lines) + "\n"


def attribution_markdown(result: Attribution, groups: dict[str, Group], scenario: str,
                         against: str, command: str, seconds: float,
                         costs: list[dict[str, Any]], charts: list[str]) -> str:
    mean, se = mean_se(result.per_replication)
    alone, _ = mean_se(result.one_at_a_time)
    total, total_se = mean_se(result.full - result.base)
    reps = result.per_replication.shape[0]
    method = ("exact over all 2^n coalitions" if result.exact
              else "by permutation sampling (antithetic orders)")
    md = [f"# 政策贡献分解 Policy attribution: {scenario} against {against}", "",
          f"Command: `{command}` ({result.coalitions} coalitions x {reps} replications = "
          f"{result.runs} runs on common random numbers and posterior draws; {result.ran_now} "
          f"of them made by this invocation, in {seconds:.0f} s). "
          f"Shapley values {method}, computed replication by replication; ± is the standard "
          "error over replications. They add up to the total difference exactly.", ""]
    cols = [j for j, _, _ in HEADLINE]
    md += ["| 政策组 group | " + " | ".join(f"{label} ({unit})" for _, label, unit in HEADLINE)
           + " |", "| --- |" + " ---: |" * len(HEADLINE)]
    for g, group in enumerate(result.groups):
        md.append(f"| {groups[group].zh} {group} | " + " | ".join(
            _cell(mean[g, result.names.index(c)], se[g, result.names.index(c)]) for c in cols)
            + " |")
    for group in result.idle:
        md.append(f"| {groups[group].zh} {group} | " + " | ".join("0 (same in both)" for _ in cols)
                  + " |")
    md.append("| **合计 total** | " + " | ".join(
        f"**{_cell(total[result.names.index(c)], total_se[result.names.index(c)])}**"
        for c in cols) + " |")
    md.append("| 单项之和 sum of one-at-a-time effects | " + " | ".join(
        f"{np.sum(alone[:, result.names.index(c)]):+.2f}" for c in cols) + " |")
    md.append("| 交互作用 interactions (total − sum) | " + " | ".join(
        f"{total[result.names.index(c)] - np.sum(alone[:, result.names.index(c)]):+.2f}"
        for c in cols) + " |")
    md += ["", "One-at-a-time: each group switched on alone over the counterfactual (the lever "
           "table's view); where they do not add up to the total, the groups interact and the "
           "Shapley values share the interaction between them.", ""]
    chains = [j for j, n in enumerate(result.names) if n.startswith("revenue_2026_")]
    md += ["## 各产业链 2026年营收 Chain revenue 2026 (亿元)", "",
           "| 政策组 group | " + " | ".join(result.names[j].removeprefix("revenue_2026_")
                                          for j in chains) + " |",
           "| --- |" + " ---: |" * len(chains)]
    for g, group in enumerate(result.groups):
        md.append(f"| {group} | " + " | ".join(f"{mean[g, j]:+.2f}" for j in chains) + " |")
    md.append("| total | " + " | ".join(f"{total[j]:+.2f}" for j in chains) + " |")
    md += ["", "## 目标达成概率 Target probabilities (points)", ""]
    zh = {t.id: t.description_zh for t in load_targets().targets}
    moved = [j for j, n in enumerate(result.names) if n.startswith("met_")
             and abs(total[j]) >= 0.005]
    if moved:
        md += ["| target | " + " | ".join(result.groups) + " | total |",
               "| --- |" + " ---: |" * (len(result.groups) + 1)]
        for j in moved:
            target = result.names[j].removeprefix("met_")
            md.append(f"| {zh.get(target, '')} · {target} | " + " | ".join(
                f"{100 * mean[g, j]:+.0f}" for g in range(len(result.groups)))
                + f" | {100 * total[j]:+.0f} ± {100 * total_se[j]:.0f} |")
    else:
        md.append("No target's probability moves by half a point or more.")
    md += ["", "## 成本效益 Cost-effectiveness (groups with a budget: funds and awards)", ""]
    if costs:
        md += ["| group | public money 2023–2026, 亿元 | Δ revenue 2026 per 亿 (95%) | "
               "Δ value added 2026 per 亿 (95%) |", "| --- | ---: | --- | --- |"]
        for c in costs:
            md.append(f"| {c['group']} | {c['public_money']:.2f} | "
                      f"{c['revenue_2026_per_yi']:+.2f} ({c['revenue_2026_per_yi_low']:+.2f} to "
                      f"{c['revenue_2026_per_yi_high']:+.2f}) | {c['value_added_2026_per_yi']:+.2f} "
                      f"({c['value_added_2026_per_yi_low']:+.2f} to "
                      f"{c['value_added_2026_per_yi_high']:+.2f}) |")
        md += ["", "Public money is the subsidies and awards paid (the R&D super-deduction is "
               "tax forgone and not counted). A group's cost is its Shapley value of the money "
               "paid, so what it triggers in other groups' payments is shared too."]
    else:
        md.append("No group that differs has a budget of its own.")
    md += [""] + [f"![{c}](figures/{c})" for c in charts] + [""]
    return "\n".join(md)


def waterfalls(result: Attribution, groups: dict[str, Group], figdir: Path) -> list[str]:
    import matplotlib.pyplot as plt

    figdir.mkdir(parents=True, exist_ok=True)
    mean, _ = mean_se(result.per_replication)
    names = []
    for outcome in WATERFALLS:
        j = result.names.index(outcome)
        start = float(np.nanmean(result.base[:, j]))
        steps = [(f"{groups[g].zh}\n{g}", float(mean[i, j])) for i, g in enumerate(result.groups)]
        fig, ax = plt.subplots(figsize=(8, 4.2))
        level = start
        ax.bar(0, start, color="#bdbdbd")
        for k, (_, step) in enumerate(steps, start=1):
            ax.bar(k, step, bottom=level, color="#2ca02c" if step >= 0 else "#d62728")
            level += step
        ax.bar(len(steps) + 1, level, color="#08519c")
        labels = ["反事实\ncounterfactual", *[s[0] for s in steps], "情景\nscenario"]
        ax.set_xticks(range(len(labels)), labels, fontsize=7)
        label = dict((c, f"{lab} ({unit})") for c, lab, unit in HEADLINE).get(outcome, outcome)
        ax.set_title(f"政策贡献 Policy contributions: {label}")
        low = min(start, level) - 0.1 * abs(level - start) - 1e-9
        if outcome == "revenue_2026":
            ax.set_ylim(bottom=low)
        ax.grid(alpha=0.3, axis="y")
        name = f"waterfall_{outcome}.png"
        save_figure(fig, figdir / name)
        names.append(name)
    return names


def attribution_record(result: Attribution, groups: dict[str, Group], scenario_hash: str,
                       against: str) -> dict[str, Any]:
    """What a run's summary line says: the total effect on 2026 revenue with its 95% interval
    and the group that gives most of it."""
    j = result.names.index("revenue_2026")
    total, total_se = mean_se(result.full - result.base)
    mean, _ = mean_se(result.per_replication)
    top = int(np.argmax(mean[:, j])) if result.groups else None
    return {"scenario_hash": scenario_hash, "against": against,
            "revenue_2026": float(total[j]), "low": float(total[j] - 1.96 * total_se[j]),
            "high": float(total[j] + 1.96 * total_se[j]),
            "top_group": result.groups[top] if top is not None else None,
            "top_group_zh": groups[result.groups[top]].zh if top is not None else None,
            "top_share": float(mean[top, j] / total[j]) if top is not None and total[j] else None}


def write_attribution(result: Attribution, groups: dict[str, Group], out: Path, scenario: str,
                      against: str, scenario_hash: str, command: str, seconds: float,
                      seed: int) -> dict[str, Any]:
    costs = cost_effectiveness(result, groups, seed)
    charts = waterfalls(result, groups, out / "figures")
    write_text_atomic(out / "attribution.csv", attribution_csv(result))
    write_text_atomic(out / "attribution.md", attribution_markdown(
        result, groups, scenario, against, command, seconds, costs, charts))
    record = attribution_record(result, groups, scenario_hash, against)
    write_json_atomic(out / "attribution.json", record)
    return record
