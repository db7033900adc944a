"""Rolling-origin forecasts scored against naive ones.

For each origin month the posterior is refitted (from the same reference table) on the
observations published by then, and every later observation is forecast by its posterior
predictive median. Naive forecasts use only what was published by the origin: the last
growth of the same kind carried forward, the plan's 9% a year, the last level carried
forward, and a linear trend where the series has two points. A Diebold–Mariano test (with
the Harvey–Leybourne–Newbold small-sample correction) compares absolute errors in sd units
where at least four forecasts share a naive competitor.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from model.calibration.abc import Calibration, Table, posterior
from model.calibration.observations import Observation
from model.facts import load_facts
from model.scenario import month_index

PLAN_GROWTH = 9.0  # the 869 plan's revenue growth a year (fact targets_2026.above_scale_revenue_cagr_pct)
MIN_DM_POINTS = 4
GROWTH_KINDS = ("growth_pct", "same_firm_growth_pct")


def published_by(obs: Observation) -> int:
    """Month index by which an observation was known: its period's end (the 2024 lithium
    share was written in late 2024 with figures to September)."""
    return obs.end_month()


def naive_forecasts(obs: Observation, known: list[Observation]) -> dict[str, float]:
    """Forecasts a user could make at the origin without the model."""
    facts = load_facts()
    if obs.kind in GROWTH_KINDS:
        va = obs.statistic.startswith("value_added")
        earlier = [o for o in known if o.kind in GROWTH_KINDS
                   and o.statistic.startswith("value_added") == va]
        if earlier:
            last = max(earlier, key=published_by).value
        elif va:
            last = float(facts.observation("va_growth_2022").value)
        else:
            last = float(facts.observation("rev_2022").growth_pct)
        return {"last_growth_carried": last, "plan_9pct": PLAN_GROWTH}
    series = sorted((published_by(o), o.value) for o in known
                    if (o.statistic, o.scope, o.kind, o.denominator, o.denominator_scope)
                    == (obs.statistic, obs.scope, obs.kind, obs.denominator,
                        obs.denominator_scope))
    if not series:
        return {}
    out = {"last_level_carried": series[-1][1]}
    if obs.kind == "level" and obs.statistic.startswith(("revenue", "value_added")):
        years = (published_by(obs) - series[-1][0]) / 12.0
        out["plan_9pct"] = series[-1][1] * (1 + PLAN_GROWTH / 100) ** years
    if len(series) >= 2:
        xs, ys = zip(*series, strict=True)
        slope, intercept = np.polyfit(xs, ys, 1)
        out["linear_trend"] = float(slope * published_by(obs) + intercept)
    return out


def error(obs: Observation, forecast: float) -> float:
    """Absolute error; zero inside a bound or an interval."""
    if obs.kind == "lower_bound":
        return max(obs.value - forecast, 0.0)
    if obs.kind == "interval":
        return max(obs.value - forecast, forecast - obs.upper, 0.0)
    return abs(forecast - obs.value)


def diebold_mariano(model_loss: np.ndarray, naive_loss: np.ndarray) -> dict[str, float] | None:
    """DM test of equal mean loss (one-step, HLN-corrected, t with n-1 df); negative = model
    better."""
    d = model_loss - naive_loss
    n = d.size
    if n < MIN_DM_POINTS or np.allclose(d, d[0]):
        return None
    stat = d.mean() / np.sqrt(d.var(ddof=1) / n) * np.sqrt((n - 1) / n)
    return {"n": n, "statistic": float(stat), "p_value": float(2 * stats.t.sf(abs(stat), n - 1))}


def rolling_origin(calib: Calibration, table: Table) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for origin in calib.config.origins:
        until = month_index(origin)
        known = [o for o in calib.all_observations if published_by(o) <= until]
        later = np.array([published_by(o) > until for o in calib.all_observations])
        if not later.any() or not any(o.include for o in known):
            continue
        _, pred = posterior(calib, table, until=until, forecast=later)
        median = pred.quantile(0.5)
        band = pred.quantile(np.array([0.05, 0.95]))
        for j, obs in enumerate(o for o, f in zip(calib.all_observations, later, strict=True) if f):
            row = {"origin": origin, "observation": obs.id, "kind": obs.kind,
                   "observed": obs.value, "sd": obs.sd_absolute, "forecast": float(median[j]),
                   "p05": float(band[0, j]), "p95": float(band[1, j]),
                   "model_error": error(obs, float(median[j]))}
            for name, value in naive_forecasts(obs, known).items():
                row[f"{name}_forecast"] = value
                row[f"{name}_error"] = error(obs, value)
            rows.append(row)
    return {"rows": rows, "tests": compare(rows)}


def compare(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per naive competitor: mean absolute error in sd units over the forecasts both made,
    the model's and the competitor's, and the DM test where there are enough points."""
    out = {}
    names = sorted({k.removesuffix("_error") for r in rows for k in r
                    if k.endswith("_error") and k != "model_error"})
    for name in names:
        both = [r for r in rows if f"{name}_error" in r]
        model = np.array([r["model_error"] / r["sd"] for r in both])
        naive = np.array([r[f"{name}_error"] / r["sd"] for r in both])
        out[name] = {"n": len(both), "model_mae_sd": float(model.mean()),
                     "naive_mae_sd": float(naive.mean()),
                     "model_better_in": int(np.sum(model < naive)),
                     "diebold_mariano": diebold_mariano(model, naive)}
    return out


def forecast_markdown(result: dict[str, Any], command: str) -> str:
    lines = ["## Rolling-origin forecasts against naive ones", "",
             f"Made by `{command}`: the posterior refitted on what was published by each origin "
             "(same reference table), forecasting every later observation (posterior-predictive "
             "median). Errors are absolute; a bound or interval that is met counts 0.", "",
             "| origin | observation | observed | model (90% band) | model error | last growth/level "
             "carried | plan 9% | linear trend |", "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: |"]
    for r in result["rows"]:
        carried = r.get("last_growth_carried_error", r.get("last_level_carried_error"))
        cells = [_cell(carried), _cell(r.get("plan_9pct_error")), _cell(r.get("linear_trend_error"))]
        lines.append(f"| {r['origin']} | {r['observation']} | {r['observed']:.4g} | "
                     f"{r['forecast']:.4g} ({r['p05']:.4g}–{r['p95']:.4g}) | {r['model_error']:.3g} | "
                     + " | ".join(cells) + " |")
    lines += ["", "| naive forecast | forecasts | model MAE (sd units) | naive MAE (sd units) | "
              "model closer in | Diebold–Mariano |", "| --- | ---: | ---: | ---: | ---: | --- |"]
    for name, t in result["tests"].items():
        dm = t["diebold_mariano"]
        dm_text = (f"t = {dm['statistic']:+.2f}, p = {dm['p_value']:.2f}" if dm else
                   f"too few points (< {MIN_DM_POINTS})")
        lines.append(f"| {name} | {t['n']} | {t['model_mae_sd']:.2f} | {t['naive_mae_sd']:.2f} | "
                     f"{t['model_better_in']} of {t['n']} | {dm_text} |")
    losses = [n for n, t in result["tests"].items() if t["model_mae_sd"] > t["naive_mae_sd"]]
    lines += ["", "The model loses to: " + ", ".join(losses) + "." if losses else
              "The model's mean error is below every naive forecast's.", ""]
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"
