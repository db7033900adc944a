"""The run folder: manifest, tables (CSV, long format) and figures, each written atomically."""

from __future__ import annotations

import datetime as dt
import io
import platform
import subprocess
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from model.exogenous import month_label
from model.paths import IS_CLONE, PROJECT_ROOT
from model.runner import YEARLY_STATS, Replication
from model.scenario import ResolvedScenario
from model.statistics import FLOWS, MONTHLY, YEARS
from model.structure import SCOPES
from model.yamlio import write_json_atomic, write_text_atomic

QUANTILES = (0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95)
CHAIN_OVERLAP_NOTE = (
    "Chain figures count every firm that belongs to a chain (membership-based): a battery "
    "maker counts in lithium and electronics, so chain revenues overlap and do not add up to "
    "the city total. 'revenue' counts above-scale firms only; 'revenue_all_firms' adds the "
    "below-scale pool. Revenue is nominal (亿元); value_added_real is at 2021 prices."
)


def code_version() -> str:
    from model import __version__

    if not IS_CLONE:               # an installed package: no repository to ask
        return __version__
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT,
                                capture_output=True, text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "model", "scenarios"],
                               cwd=PROJECT_ROOT, capture_output=True, text=True,
                               timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "", ""
    return f"{__version__}+{commit or 'unknown'}{'.dirty' if dirty else ''}"


def csv_cell(x: Any) -> str:
    """One CSV cell: numbers to 6 significant digits (empty when not finite), booleans as
    true/false, text quoted when it holds a comma."""
    if isinstance(x, bool | np.bool_):
        return "true" if x else "false"
    if isinstance(x, float | np.floating):
        return "" if not np.isfinite(x) else f"{x:.6g}"
    text = str(x)
    return f'"{text}"' if "," in text else text





def yearly_csv(reps: list[Replication]) -> str:
    out = io.StringIO()
    out.write("replication,year,scope,statistic,value\n")
    for rep in reps:
        for y, year in enumerate(YEARS):
            for s, scope in enumerate(SCOPES):
                row = rep.yearly[y, s]
                prefix = f"{rep.index},{year},{scope},"
                out.write("".join(f"{prefix}{stat},{csv_cell(v)}\n"
                                  for stat, v in zip(YEARLY_STATS, row, strict=True)))
    return out.getvalue()


def stack_yearly(reps: list[Replication]) -> np.ndarray:
    """(replications, years, scopes, statistics)."""
    return np.stack([r.yearly for r in reps])


def summary_csv(data: np.ndarray, labels: list[str], label_name: str, stats: tuple[str, ...]) -> str:
    """Quantiles over replications of data (replications, periods, scopes, stats)."""
    with warnings.catch_warnings():  # all-NaN cells (e.g. growth in the base year) stay empty
        warnings.simplefilter("ignore", RuntimeWarning)
        q = np.nanquantile(data, QUANTILES, axis=0)
        mean = np.nanmean(data, axis=0)
    out = io.StringIO()
    out.write(f"{label_name},scope,statistic,mean,"
              + ",".join(f"p{int(round(x * 100)):02d}" for x in QUANTILES) + "\n")
    for p, label in enumerate(labels):
        for s, scope in enumerate(SCOPES):
            for k, stat in enumerate(stats):
                values = ",".join(csv_cell(v) for v in q[:, p, s, k])
                out.write(f"{label},{scope},{stat},{csv_cell(mean[p, s, k])},{values}\n")
    return out.getvalue()


def year_to_date(monthly: np.ndarray) -> np.ndarray:
    """Flows cumulated from each January (1–N月); stocks as they are. monthly: (T, S, K)."""
    ytd = monthly.copy()
    flows = [MONTHLY.index(f) for f in FLOWS]
    months, scopes = monthly.shape[:2]
    by_year = monthly[:, :, flows].reshape(months // 12, 12, scopes, len(flows))
    ytd[:, :, flows] = np.cumsum(by_year, axis=1).reshape(months, scopes, len(flows))
    return ytd


def monthly_csv(reps: list[Replication]) -> str:
    """Median over replications of each month's value and year-to-date, with a 90% band."""
    values = np.stack([r.monthly for r in reps])
    ytd = np.stack([year_to_date(r.monthly) for r in reps])
    med, lo, hi = np.quantile(values, [0.5, 0.05, 0.95], axis=0)
    ytd_med = np.median(ytd, axis=0)
    out = io.StringIO()
    out.write("month,scope,statistic,value,ytd,p05,p95\n")
    for t in range(values.shape[1]):
        label = month_label(t)
        for s, scope in enumerate(SCOPES):
            for k, stat in enumerate(MONTHLY):
                out.write(f"{label},{scope},{stat},{csv_cell(med[t, s, k])},{csv_cell(ytd_med[t, s, k])},"
                          f"{csv_cell(lo[t, s, k])},{csv_cell(hi[t, s, k])}\n")
    return out.getvalue()


def payments_csv(reps: list[Replication]) -> str:
    out = io.StringIO()
    out.write("replication,month,firm_id,instrument,amount_yi\n")
    for rep in reps:
        pay = rep.payments
        for m, fid, inst, amount in zip(pay["month"], pay["firm_id"], pay["instrument"],
                                        pay["amount"], strict=True):
            out.write(f"{rep.index},{month_label(int(m))},{int(fid)},{inst},{amount:.6g}\n")
    return out.getvalue()


PRICE_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def lithium_price_csv(reps: list[Replication]) -> str:
    """The carbonate price (元/吨) month by month over the replications: each replication has
    its own path after the last published quote (the scenario's monthly volatility), so the
    file gives quantiles across them; before that quote they coincide."""
    paths = np.stack([r.lithium_price for r in reps])
    qs = np.quantile(paths, PRICE_QUANTILES, axis=0)
    head = "month," + ",".join(f"p{round(100 * q):02d}_yuan_per_tonne" for q in PRICE_QUANTILES)
    head += ",replications"
    rows = [f"{month_label(t)}," + ",".join(f"{v:.0f}" for v in qs[:, t]) + f",{len(reps)}"
            for t in range(paths.shape[1])]
    return head + "\n" + "\n".join(rows) + "\n"


def manifest(scenario: ResolvedScenario, seed: int, reps: list[Replication], workers: int,
             wall_seconds: float, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    import mesa
    import scipy

    seconds = [r.seconds for r in reps]
    return {
        "scenario": scenario.name,
        "scenario_files": [str(p.relative_to(PROJECT_ROOT)) if p.is_relative_to(PROJECT_ROOT)
                           else str(p) for p in scenario.files],
        "scenario_hash": scenario.digest(),
        "scenario_resolved": scenario.spec.model_dump(mode="json"),
        "parameters": scenario.parameters.as_dict(),
        "code_version": code_version(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seed": {"root": seed, "replications": len(reps),
                 "rule": "replication i uses numpy SeedSequence(root, spawn_key=(i,))"},
        "parameter_draws": sorted({r.draw for r in reps}),
        "workers": workers,
        "timings": {"wall_seconds": round(wall_seconds, 3),
                    "replication_seconds_mean": round(float(np.mean(seconds)), 4),
                    "replication_seconds_max": round(float(np.max(seconds)), 4)},
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "scipy": scipy.__version__, "mesa": mesa.__version__},
        "notes": CHAIN_OVERLAP_NOTE,
        **(extra or {}),
    }


def write_tables(folder: Path, reps: list[Replication]) -> None:
    write_text_atomic(folder / "yearly.csv", yearly_csv(reps))
    write_text_atomic(folder / "yearly_summary.csv",
                      summary_csv(stack_yearly(reps), [str(y) for y in YEARS], "year", YEARLY_STATS))
    write_text_atomic(folder / "monthly.csv", monthly_csv(reps))
    write_text_atomic(folder / "payments.csv", payments_csv(reps))
    write_text_atomic(folder / "lithium_price.csv", lithium_price_csv(reps))


def write_manifest(folder: Path, data: dict[str, Any]) -> None:
    write_json_atomic(folder / "manifest.json", data)
