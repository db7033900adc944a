"""Stylised facts of firm dynamics, measured on a finished run (the explorer notebook prints them).

- Growth-rate dispersion: the interquartile range of log revenue growth, 2025 → 2026, of
  above-scale firms alive both years (manufacturing firms: about 0.25-0.35; Bottazzi and
  Secchi 2006 report tent-shaped densities of that width).
- Volatility against size: the slope of log sd(growth) on log size over size deciles (about
  −0.15 to −0.2: Stanley et al. 1996).
- Zipf tail: the Pareto index of 2026 revenue above 1 亿, from the rank-size regression
  (about 1: Axtell 2001).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from model.economy import YichunModel


def growth_sample(model: YichunModel) -> tuple[np.ndarray, np.ndarray]:
    """(log growth 2025→2026, 2025 size) of above-scale firms alive in both years; the run must
    have reached December 2026 (revenue_ytd is then the 2026 total)."""
    f = model.f
    last, now = f.revenue_last_year, f.revenue_ytd
    ok = f.alive & f.above_scale & (last > 0.2) & (now > 0)
    return np.log(now[ok] / last[ok]), last[ok]


def growth_iqr(model: YichunModel) -> float:
    growth, _ = growth_sample(model)
    q25, q75 = np.quantile(growth, [0.25, 0.75])
    return float(q75 - q25)


def volatility_size_slope(model: YichunModel, bins: int = 10) -> float:
    growth, size = growth_sample(model)
    edges = np.quantile(size, np.linspace(0, 1, bins + 1))
    which = np.clip(np.digitize(size, edges) - 1, 0, bins - 1)
    mid = np.array([np.median(size[which == b]) for b in range(bins)])
    vol = np.array([growth[which == b].std() for b in range(bins)])
    slope, _ = np.polyfit(np.log(mid), np.log(vol), 1)
    return float(slope)


def zipf_index(model: YichunModel, floor: float = 1.0) -> float:
    """Pareto index of 2026 revenue over `floor` 亿 (minus the rank-size slope)."""
    f = model.f
    revenue = np.sort(f.revenue_ytd[f.alive & f.above_scale])[::-1]
    top = revenue[revenue >= floor]
    rank = np.arange(1, top.size + 1)
    slope, _ = np.polyfit(np.log(top), np.log(rank), 1)
    return float(-slope)


def stylised_facts(model: YichunModel) -> dict[str, float]:
    return {"growth_iqr": growth_iqr(model), "volatility_size_slope": volatility_size_slope(model),
            "zipf_index": zipf_index(model)}
