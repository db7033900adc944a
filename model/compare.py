"""Compare run folders: target probabilities and key 2026 values side by side, with fan charts.

A difference from the first run is flagged when it exceeds its Monte-Carlo error: for
probabilities, 1.96 standard errors of a difference of two binomial shares (with the
Agresti–Caffo adjustment, so that shares of 0 or 1 still carry error); for medians, 1.96
times the combined asymptotic standard error of two sample medians (1.2533 sd / sqrt n).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from model.errors import InputError  # noqa: E402
from model.figures import chain_panels, plan_path, save_figure  # noqa: E402
from model.output import stack_yearly  # noqa: E402
from model.runner import YEARLY_STATS, load_replications  # noqa: E402
from model.statistics import YEARS  # noqa: E402
from model.structure import SCOPES  # noqa: E402
from model.yamlio import write_text_atomic  # noqa: E402

KEY_VALUES = (("total", "revenue"), ("total", "revenue_growth_pct"), ("total", "above_scale_firms"),
              ("total", "profit"), ("total", "value_added_real_growth_pct"),
              ("lithium", "revenue_all_firms"), ("total", "firms_over_10yi"),
              ("total", "rd_to_revenue_pct"), ("total", "digitalisation_rate_pct"))
COLOURS = ("#08519c", "#d94801", "#238b45", "#6a51a3", "#cb181d", "#525252", "#8c6d31")


@dataclass
class Run:
    folder: Path
    name: str
    targets: list[dict[str, str]]
    yearly: np.ndarray  # (replications, years, scopes, stats)


def load_run(folder: Path) -> Run:
    manifest = folder / "manifest.json"
    targets = folder / "targets.csv"
    if not manifest.is_file() or not targets.is_file():
        raise InputError(folder, None, "not a finished run folder (manifest.json and targets.csv "
                         "expected; run `yichun-abm run` first)")
    meta = json.loads(manifest.read_text())
    with open(targets, newline="") as fh:
        rows = list(csv.DictReader(fh))
    reps = load_replications(folder / "replications", meta["seed"]["replications"])
    return Run(folder, meta["scenario"], rows, stack_yearly(reps))


def probability_difference(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """(difference p2 - p1, its Agresti–Caffo standard error)."""
    p1, p2 = k1 / n1, k2 / n2
    a1, a2 = (k1 + 1) / (n1 + 2), (k2 + 1) / (n2 + 2)
    se = np.sqrt(a1 * (1 - a1) / (n1 + 2) + a2 * (1 - a2) / (n2 + 2))
    return p2 - p1, float(se)


def median_se(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    if values.size < 2:
        return float("nan")
    return float(1.2533 * values.std(ddof=1) / np.sqrt(values.size))


def comparison_tables(runs: list[Run]) -> tuple[str, str]:
    base = runs[0]
    names = [r.name for r in runs]
    out = io.StringIO()
    head = ["kind", "item", "scope", *[f"{n}" for n in names],
            *[f"{n}_minus_{base.name}" for n in names[1:]],
            *[f"{n}_beyond_mc_error" for n in names[1:]]]
    out.write(",".join(head) + "\n")
    md = ["| target | " + " | ".join(names) + " | " + " | ".join(
        f"Δ {n}" for n in names[1:]) + " |",
          "| --- |" + " ---: |" * (len(names) + len(names) - 1)]
    by_id = [{row["target"]: row for row in r.targets} for r in runs]
    for row in base.targets:
        tid = row["target"]
        cells, diffs, flags = [], [], []
        for i, run_rows in enumerate(by_id):
            r = run_rows[tid]
            cells.append(float(r["probability"]))
            if i:
                n0, n1 = int(row["replications"]), int(r["replications"])
                k0 = round(float(row["probability"]) * n0)
                k1 = round(float(r["probability"]) * n1)
                d, se = probability_difference(k0, n0, k1, n1)
                diffs.append(d)
                flags.append(abs(d) > 1.96 * se)
        out.write(",".join(["probability", tid, row["scope"], *[f"{c:.4g}" for c in cells],
                            *[f"{d:.4g}" for d in diffs], *[str(f).lower() for f in flags]]) + "\n")
        md.append(f"| {row['description']} | " + " | ".join(f"{c:.2f}" for c in cells) + " | "
                  + " | ".join(f"{d:+.2f}{' *' if f else ''}" for d, f in zip(diffs, flags,
                                                                               strict=True)) + " |")
    md += ["", "| 2026 median | " + " | ".join(names) + " | " + " | ".join(
        f"Δ {n}" for n in names[1:]) + " |", "| --- |" + " ---: |" * (2 * len(names) - 1)]
    y = YEARS.index(2026)
    for scope, stat in KEY_VALUES:
        series = [r.yearly[:, y, SCOPES.index(scope), YEARLY_STATS.index(stat)] for r in runs]
        meds = [float(np.nanmedian(v)) for v in series]
        diffs = [m - meds[0] for m in meds[1:]]
        errs = [np.sqrt(median_se(series[0]) ** 2 + median_se(v) ** 2) for v in series[1:]]
        flags = [bool(abs(d) > 1.96 * e) for d, e in zip(diffs, errs, strict=True)]
        out.write(",".join(["median_2026", stat, scope, *[f"{m:.6g}" for m in meds],
                            *[f"{d:.6g}" for d in diffs], *[str(f).lower() for f in flags]]) + "\n")
        md.append(f"| {stat} ({scope}) | " + " | ".join(f"{m:.4g}" for m in meds) + " | "
                  + " | ".join(f"{d:+.4g}{' *' if f else ''}" for d, f in zip(diffs, flags,
                                                                              strict=True)) + " |")
    md += ["", f"Δ is each scenario minus {base.name}; * marks a difference larger than 1.96 "
           "Monte-Carlo standard errors."]
    return out.getvalue(), "\n".join(md) + "\n"


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
    ax.plot(py, pv, "k--", lw=1.2, label="plan: +9% a year from 2022")
    ax.set(title="Above-scale revenue by scenario (median, 50% and 90% bands)", xlabel="year",
           ylabel="revenue, 亿元 (100 million CNY)")
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
    table_csv, table_md = comparison_tables(runs)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "comparison.csv", table_csv)
    figures = fan_charts(runs, out / "figures")
    md = [f"# Scenario comparison: {', '.join(r.name for r in runs)}", "",
          "Probabilities that each 2026 target is met, and key 2026 medians.", "", table_md,
          *[f"![{f}](figures/{f})" for f in figures], ""]
    write_text_atomic(out / "comparison.md", "\n".join(md))
    return out
