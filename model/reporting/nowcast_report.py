"""What a nowcast writes: nowcast.md and nowcast.csv (every target's probability before and
after, and after each figure), the figures' percentiles, and a monitoring chart per scope."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from model.analysis.targets import percent
from model.calibration.nowcast import Nowcast
from model.reporting.figures import save_figure
from model.yamlio import write_text_atomic

GROWTH_KINDS = ("same_firm_growth_pct", "growth_pct")


def period_label(fig: Any) -> str:
    span = fig.period.month_span()
    if span is None:
        return f"{fig.period.year}"
    first, last = span
    start, end = (f"{2022 + m // 12}-{m % 12 + 1:02d}" for m in (first, last))
    return start if first == last else f"{start}..{end}"


def nowcast_csv(result: Nowcast) -> str:
    lines = ["stage,figure_added,target,probability,low,high,median_2026"]
    for k, stage in enumerate(result.stages):
        added = result.figures[k - 1].id if k else "(calibration data)"
        lines += [f"{k},{added},{r['target']},{r['probability']:.6g},{r['low']:.6g},"
                  f"{r['high']:.6g},{r['median_2026']:.6g}" for r in stage]
    lines += ["", "figure,period,scope,kind,value,sd,percentile_before,band_before_p05,"
              "band_before_p50,band_before_p95,band_after_p05,band_after_p50,band_after_p95"]
    for fig, pct, before, after in zip(result.figures, result.percentiles, result.bands_before,
                                       result.bands_after, strict=True):
        lines.append(f"{fig.id},{period_label(fig)},{fig.scope},{fig.kind},{fig.value:g},"
                     f"{fig.sd_absolute:g},{pct:.4g}," + ",".join(f"{x:.6g}" for x in (*before, *after)))
    return "\n".join(lines) + "\n"


def nowcast_markdown(result: Nowcast, command: str, seconds: float, charts: list[str],
                     confirm: list[dict[str, Any]] | None = None) -> str:
    first, last = result.stages[0], result.stages[-1]
    base = ("the calibration's data" if result.origin is None
            else f"the calibration's data published by {result.origin}")
    md = ["# 新数据更新 Nowcast: what the new figures change", "",
          f"Command: `{command}` ({seconds:.1f} s, no new simulation). 起点：校准数据。 Start: "
          f"{base}; then each figure in publication order, read in every reference-table row "
          "from its year-to-date panel (regression-adjusted ABC, as the calibration).", "",
          "## 新数据 The figures", "",
          "| figure | period | scope | value (sd) | 模型预测分位 percentile before | "
          "90% band before (what could be published) | 90% band after all (the quantity) |",
          "| --- | --- | --- | ---: | ---: | --- | --- |"]
    for fig, pct, before, after in zip(result.figures, result.percentiles, result.bands_before,
                                       result.bands_after, strict=True):
        md.append(f"| {fig.id} | {period_label(fig)} | {fig.scope} | {fig.value:g} "
                  f"({fig.sd_absolute:g}) | {pct:.0f} | {before[0]:.4g}–{before[2]:.4g} | "
                  f"{after[0]:.4g}–{after[2]:.4g} |")
    md += ["", "The percentile is where the published value fell in the model's posterior "
           "predictive just before it was added (a running out-of-sample score: over many "
           "figures, roughly uniform on 0–100 when the model is honest).", "",
           "## 达成概率 Target probabilities, before and after", "",
           "| target | before | after (95% interval) | Δ, points | "
           + " | ".join(f"after {f.id}" for f in result.figures) + " |",
           "| --- | ---: | --- | ---: |" + " ---: |" * len(result.figures)]
    for j, (b, a) in enumerate(zip(first, last, strict=True)):
        path = " | ".join(percent(stage[j]["probability"]) for stage in result.stages[1:])
        md.append(f"| {a['description_zh']} · {a['description']} | {percent(b['probability'])} | "
                  f"{percent(a['probability'])} ({percent(a['low'])}–{percent(a['high'])}) | "
                  f"{100 * (a['probability'] - b['probability']):+.0f} | {path} |")
    md += ["", f"Intervals are the Monte-Carlo error of the weighted rows (effective size "
           f"{last[0]['effective_rows']:.0f}).", ""]
    if confirm:
        md += ["## 复核 Confirmed by a fresh ensemble", "",
               "| target | fast | confirmed (95% interval) | agree |", "| --- | ---: | --- | --- |"]
        md += [f"| {c['target']} | {percent(c['fast'])} | {percent(c['confirmed'])} "
               f"({percent(c['low'])}–{percent(c['high'])}) | {'yes' if c['agree'] else '**no**'} |"
               for c in confirm]
        md.append("")
    md += [f"![{name}](figures/{name})" for name in charts] + [""]
    return "\n".join(md)


def monitoring_charts(result: Nowcast, figdir: Path) -> list[str]:
    """Per scope: the published points with their sd, the model's 90% band for each just
    before it was added and after all of them, and the plan's 9% for growth figures."""
    import matplotlib.pyplot as plt

    figdir.mkdir(parents=True, exist_ok=True)
    names = []
    for scope in dict.fromkeys(f.scope for f in result.figures):
        picks = [k for k, f in enumerate(result.figures) if f.scope == scope]
        fig, ax = plt.subplots(figsize=(7, 4))
        x = np.arange(len(picks))
        for offset, bands, colour, label in ((-0.12, result.bands_before, "grey",
                                              "模型（加入前）model before"),
                                             (0.12, result.bands_after, "#08519c",
                                              "模型（全部加入后）model after all")):
            lo = np.array([bands[k][0] for k in picks])
            mid = np.array([bands[k][1] for k in picks])
            hi = np.array([bands[k][2] for k in picks])
            ax.errorbar(x + offset, mid, yerr=[mid - lo, hi - mid], fmt="o", color=colour,
                        capsize=3, label=label)
        values = [result.figures[k].value for k in picks]
        sds = [result.figures[k].sd_absolute for k in picks]
        ax.errorbar(x, values, yerr=sds, fmt="s", color="black", capsize=3,
                    label="公布值 ± sd published")
        if any(result.figures[k].kind in GROWTH_KINDS for k in picks):
            ax.axhline(9.0, color="#d62728", ls="--", lw=1, label="计划 9% plan")
        ax.set_xticks(x, [f"{result.figures[k].id}\n{period_label(result.figures[k])}"
                          for k in picks], fontsize=7)
        ax.set_title(f"{scope}: 公布值与模型区间 published figures against the model's 90% band")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
        name = f"monitor_{scope}.png"
        save_figure(fig, figdir / name)
        names.append(name)
    return names


def nowcast_record(result: Nowcast, command: str, moves: int = 5) -> dict[str, Any]:
    """What a run's summary shows of the nowcast its posterior came from: the figures, their
    percentiles, and the probabilities moved most."""
    first, last = result.stages[0], result.stages[-1]
    moved = sorted(zip(first, last, strict=True),
                   key=lambda pair: -abs(pair[1]["probability"] - pair[0]["probability"]))
    return {"command": command, "origin": result.origin,
            "figures": [{"id": f.id, "period": period_label(f), "scope": f.scope,
                         "value": f.value, "sd": f.sd_absolute, "percentile": pct}
                        for f, pct in zip(result.figures, result.percentiles, strict=True)],
            "largest_moves": [{"target": a["target"], "description_zh": a["description_zh"],
                               "before": b["probability"], "after": a["probability"]}
                              for b, a in moved[:moves]
                              if abs(a["probability"] - b["probability"]) >= 0.005]}


def write_nowcast(result: Nowcast, out: Path, command: str, seconds: float,
                  confirm: list[dict[str, Any]] | None = None) -> None:
    from model.yamlio import write_json_atomic

    write_json_atomic(out / "nowcast.json", nowcast_record(result, command))
    charts = monitoring_charts(result, out / "figures")
    write_text_atomic(out / "nowcast.csv", nowcast_csv(result))
    write_text_atomic(out / "nowcast.md", nowcast_markdown(result, command, seconds, charts,
                                                           confirm))
