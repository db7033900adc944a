"""The plan's 2026 targets: the targets file, and the probability that each is met.

The probability is the share of replications that meet a target; its 95% interval is the
Wilson score interval for a binomial share (well-behaved at 0 and 1, where the Wald interval
collapses). With calibrated parameter draws the replications also vary the parameters, so
the probability includes parameter uncertainty.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator
from scipy import stats

from model.errors import InputError
from model.facts import load_facts
from model.paths import SCENARIO_DIR
from model.reporting.tables import csv_cell
from model.runner import YEARLY_STATS
from model.statistics import YEARS
from model.structure import SCOPES
from model.yamlio import load_yaml_with_lines, validated

TARGETS_FILE = SCENARIO_DIR / "targets" / "plan_2026.yaml"
COLUMNS = ("target", "description", "scope", "statistic", "target_value", "probability",
           "probability_low", "probability_high", "median_2026", "p10_2026", "p90_2026",
           "median_gap_pct", "replications", "evidence")


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    id: str
    description: str
    description_zh: str = ""        # the plan's wording in Chinese, for the summary page
    facts_key: str
    kind: Literal["level", "cagr"]
    statistic: str
    scope: str
    threshold: float
    year: int = 2026
    from_year: int | None = None
    derived: str | None = None
    evidence: Literal["data", "prior"] = "data"  # prior: no published base level behind it

    @model_validator(mode="after")
    def _known(self) -> Target:
        if self.statistic not in YEARLY_STATS:
            raise ValueError(f"unknown statistic '{self.statistic}'")
        if self.scope not in SCOPES:
            raise ValueError(f"unknown scope '{self.scope}'; expected one of {list(SCOPES)}")
        if self.year not in YEARS or (self.kind == "cagr" and self.from_year not in YEARS):
            raise ValueError(f"years must lie in {YEARS[0]}-{YEARS[-1]}")
        return self


class NotRepresented(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    facts_key: str
    reason: str


class TargetsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    targets: list[Target]
    not_represented: list[NotRepresented] = []


def facts_value(key: str) -> Any:
    """The value at a dotted key of the facts file (``targets_2026.chain_revenue.lithium``)."""
    node: Any = load_facts().model_dump()
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(key)
        node = node[part]
    if isinstance(node, dict) and "value" in node:
        return node["value"]
    return node


def load_targets(path: Path = TARGETS_FILE) -> TargetsFile:
    data, lines = load_yaml_with_lines(path)
    parsed = validated(TargetsFile, data, path, lines)
    for i, item in enumerate([*parsed.targets, *parsed.not_represented]):
        try:
            facts_value(item.facts_key)
        except KeyError:
            raise InputError(path, f"facts_key[{i}]", f"'{item.facts_key}' is not in the facts "
                             "file's targets_2026") from None
    return parsed


def target_values(target: Target, yearly: np.ndarray) -> np.ndarray:
    """The target's statistic per replication; yearly is (replications, years, scopes, stats)."""
    s, k = SCOPES.index(target.scope), YEARLY_STATS.index(target.statistic)
    value = yearly[:, YEARS.index(target.year), s, k]
    if target.kind == "cagr":
        base = yearly[:, YEARS.index(target.from_year), s, k]
        span = target.year - target.from_year
        with np.errstate(divide="ignore", invalid="ignore"):
            value = 100.0 * ((value / base) ** (1.0 / span) - 1.0)
    return value


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion."""
    if n == 0:
        return (0.0, 1.0)
    z = stats.norm.ppf(0.5 + level / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


def evaluate(targets: TargetsFile, yearly: np.ndarray) -> list[dict[str, Any]]:
    rows = []
    for target in targets.targets:
        values = target_values(target, yearly)
        met = np.nan_to_num(values, nan=-np.inf) >= target.threshold - 1e-9
        n, k = values.size, int(met.sum())
        low, high = wilson_interval(k, n)
        median = float(np.nanmedian(values)) if np.isfinite(values).any() else np.nan
        p10, p90 = (np.nanquantile(values, [0.1, 0.9]) if np.isfinite(values).any()
                    else (np.nan, np.nan))
        gap = 100.0 * (target.threshold - median) / target.threshold if target.threshold else np.nan
        rows.append({
            "target": target.id, "description": target.description, "scope": target.scope,
            "statistic": target.statistic if target.kind == "level" else f"{target.statistic}_cagr_pct",
            "target_value": target.threshold, "probability": k / n,
            "probability_low": low, "probability_high": high, "median_2026": median,
            "p10_2026": float(p10), "p90_2026": float(p90), "median_gap_pct": gap,
            "replications": n, "evidence": target.evidence,
        })
    return rows


def targets_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    out.write(",".join(COLUMNS) + "\n")
    for row in rows:
        out.write(",".join(csv_cell(row[c]) for c in COLUMNS) + "\n")
    return out.getvalue()


def percent(probability: float) -> str:
    """The one rounding rule for probabilities shown to readers: whole percent (the summary,
    the report, the command line); the CSV tables keep full precision."""
    return f"{float(probability):.0%}"


def targets_markdown(rows: list[dict[str, Any]], targets: TargetsFile) -> str:
    zh = {t.id: t.description_zh for t in targets.targets}
    lines = ["| 目标 target | 2026年目标值 2026 target | 达成概率 P(met) | 95% 区间 interval | "
             "2026年中位数 median 2026 | 10–90% |",
             "| --- | ---: | ---: | --- | ---: | --- |"]
    for r in rows:
        mark = " †" if r.get("evidence") == "prior" else ""
        name = f"{zh[r['target']]} · {r['description']}" if zh.get(r["target"]) else r["description"]
        lines.append(f"| {name}{mark} | {r['target_value']:g} | "
                     f"{percent(r['probability'])} | "
                     f"{percent(r['probability_low'])}–{percent(r['probability_high'])} | "
                     f"{r['median_2026']:.4g} | {r['p10_2026']:.4g}–{r['p90_2026']:.4g} |")
    if any(r.get("evidence") == "prior" for r in rows):
        lines += ["", "† 由先验而非数据决定。 decided by the prior, not by data: no publication "
                  "gives this chain's base "
                  "level, so its 2021 revenue is a parameter with a wide prior that no observation "
                  "moves (model/defaults.yaml `revenue_2021`)."]
    lines += ["", "模型无法表示的目标 Targets the model cannot represent:", ""]
    lines += [f"- `{n.facts_key}`: {n.reason}" for n in targets.not_represented]
    return "\n".join(lines) + "\n"
