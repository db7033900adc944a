"""Figures of a run folder, for readers without the code: units, titles, legends, sources.

Labels are bilingual, Chinese first; the CJK glyphs come from the Noto Sans
CJK SC font that the ``mplfonts`` package ships, used as a fallback after DejaVu Sans.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from model.exogenous import month_label  # noqa: E402
from model.facts import load_facts  # noqa: E402
from model.runner import YEARLY_STATS, Replication  # noqa: E402
from model.statistics import MONTHLY, YEARS  # noqa: E402
from model.structure import CHAIN_NAMES_EN, CHAIN_NAMES_ZH, CHAINS, SCOPES  # noqa: E402
from model.yamlio import atomic_path  # noqa: E402


def use_chinese_font() -> None:
    """Register Noto Sans CJK SC (from mplfonts) as the fallback for CJK glyphs."""
    from importlib import resources

    from matplotlib import font_manager

    path = resources.files("mplfonts") / "fonts" / "NotoSansCJKsc-Regular.otf"
    font_manager.fontManager.addfont(str(path))
    matplotlib.rcParams["font.family"] = ["DejaVu Sans", "Noto Sans CJK SC"]


use_chinese_font()


def chain_label(chain: str) -> str:
    return f"{CHAIN_NAMES_EN[chain]} {CHAIN_NAMES_ZH[chain]}"


BAND = "#9ecae1"
LINE = "#08519c"
TARGET = "#d62728"


def save_figure(fig: plt.Figure, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)


def _band(ax: plt.Axes, x: np.ndarray, runs: np.ndarray, label: str) -> None:
    """Median line, with the 5-95% band over replications when there are several."""
    med = np.nanmedian(runs, axis=0)
    if runs.shape[0] > 1:
        lo, hi = np.nanquantile(runs, [0.05, 0.95], axis=0)
        ax.fill_between(x, lo, hi, color=BAND, alpha=0.6, label="90% 的模拟 of replications")
    ax.plot(x, med, color=LINE, lw=2, marker="o", ms=3, label=label)


def plan_path() -> tuple[np.ndarray, np.ndarray]:
    """Above-scale revenue growing 9% a year from the 2022 figure (targets_2026, rev_2022)."""
    facts = load_facts()
    base = float(facts.observation("rev_2022").value)
    rate = facts.targets_2026["above_scale_revenue_cagr_pct"]["value"] / 100.0
    years = np.arange(2022, 2027)
    return years, base * (1 + rate) ** (years - 2022)


def revenue_vs_plan(reps: list[Replication], path: Path | None = None) -> plt.Figure:
    """City above-scale revenue against the 9% path (saved to `path`, or returned open)."""
    k = YEARLY_STATS.index("revenue")
    runs = np.stack([r.yearly[:, 0, k] for r in reps])
    years = np.array(YEARS)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    _band(ax, years, runs, "模型：规上工业营收（中位数）model: above-scale revenue (median)")
    py, pv = plan_path()
    ax.plot(py, pv, "--", color=TARGET, lw=1.5, label="计划：自2022年年均增长9% plan: +9% a year from 2022")
    obs = float(load_facts().observation("rev_2022").value)
    ax.plot([2022], [obs], "s", color="black", label="2022年实际 observed 2022: 5094.6")
    ax.set(title="宜春规上工业营收与“869”计划9%路径\nYichun above-scale industrial revenue against "
                 "the 869 plan's 9% path",
           xlabel="年份 year", ylabel="营收 revenue, 亿元 (100 million CNY)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def _finish(fig: plt.Figure, path: Path | None) -> plt.Figure:
    if path is not None:
        save_figure(fig, path)
    return fig


def chain_targets() -> dict[str, dict]:
    return load_facts().targets_2026["chain_revenue"]


def chain_panels(draw, title: str, path: Path | None, legend_columns: int = 5) -> plt.Figure:
    """Eight panels, one a chain (英文 + 中文 names), revenue in 亿元 from zero, one legend."""
    fig, axes = plt.subplots(2, 4, figsize=(14, 6.5), sharex=True)
    for ax, chain in zip(axes.flat, CHAINS, strict=True):
        draw(ax, chain)
        ax.set_title(chain_label(chain), fontsize=9)
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
    for ax in axes[:, 0]:
        ax.set_ylabel("营收 revenue, 亿元")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=legend_columns, fontsize=8)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.06, 1, 0.96))
    return _finish(fig, path)


def chains_vs_targets(reps: list[Replication], path: Path | None = None) -> plt.Figure:
    k = YEARLY_STATS.index("revenue_all_firms")
    years = np.array(YEARS)
    targets = chain_targets()
    facts = load_facts()
    observed = [facts.observation(i) for i in ("lithium_rev_2021", "lithium_rev_2022")]

    def draw(ax: plt.Axes, chain: str) -> None:
        s = SCOPES.index(chain)
        _band(ax, years, np.stack([r.yearly[:, s, k] for r in reps]), "模型 model")
        tgt = targets[chain]
        ax.plot([2026], [tgt["value"]], "*", ms=12, color=TARGET, label="2026年目标 2026 target")
        if "core" in tgt:
            ax.plot([2026], [tgt["core"]], "*", ms=10, mfc="none", color=TARGET,
                    label="核心制造业目标 core manufacturing target")
        if chain == "lithium":
            ax.plot([o.year for o in observed], [o.value for o in observed], "s", color="black",
                    ms=4, label="实际 observed")

    return chain_panels(draw, "各产业链营收与2026年目标（含链上全部企业，链间有重叠） Chain revenue (all "
                        "member firms; chains overlap) against the 2026 targets", path)


def lithium_price_and_revenue(reps: list[Replication], path: Path) -> None:
    k = MONTHLY.index("revenue_all_firms")
    s = SCOPES.index("lithium")
    months = np.arange(reps[0].monthly.shape[0])
    runs = np.stack([r.monthly[:, s, k] for r in reps])
    fig, ax = plt.subplots(figsize=(8, 4.2))
    _band(ax, months, runs, "锂电产业链营收（模型中位数） lithium chain revenue (model, median)")
    ax.set_ylabel("月营收 monthly revenue, 亿元 (100 million CNY)", color=LINE)
    ax2 = ax.twinx()
    prices = np.stack([r.lithium_price for r in reps])
    ax2.plot(months, np.median(prices, axis=0) / 1e4, color="darkorange", lw=1.8,
             label="碳酸锂价格（数据，其后为情景） lithium carbonate price (data, then scenario)")
    ax2.set_ylabel("价格 price, 万元/吨 (10,000 CNY per tonne)", color="darkorange")
    ticks = months[::6]
    ax.set_xticks(ticks, [month_label(t) for t in ticks], rotation=45, fontsize=8)
    ax.set_title("碳酸锂价格与锂电产业链名义营收\n"
                 "Lithium carbonate price and the lithium chain's nominal revenue")
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=8, loc="upper right")
    ax.grid(alpha=0.3)
    save_figure(fig, path)


def write_figures(folder: Path, reps: list[Replication]) -> list[str]:
    figdir = folder / "figures"
    figdir.mkdir(parents=True, exist_ok=True)
    made = {
        "revenue_vs_9pct_path.png": revenue_vs_plan,
        "chain_revenue_vs_targets.png": chains_vs_targets,
        "lithium_price_vs_revenue.png": lithium_price_and_revenue,
    }
    for name, draw in made.items():
        draw(reps, figdir / name)
    return sorted(made)
