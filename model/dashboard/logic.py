"""What the dashboard computes, kept apart from its widgets so it can be tested without a browser:
the levers and uncertainties it offers (the exploration space, scenarios/explore/space.yaml),
the check of a typed value, a small live ensemble and what is shown of it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import yaml

from model.analysis.space import Dimension, apply, load_space
from model.analysis.targets import Target, evaluate, load_targets, percent
from model.calibration.abc import load_draws
from model.economy import YichunModel
from model.errors import InputError
from model.paths import POSTERIOR_DIR
from model.runner import Replication, collect, replication_seed
from model.scenario import ResolvedScenario, load_scenario, scenario_names
from model.structure import CHAIN_NAMES_EN, CHAIN_NAMES_ZH, COUNTY_NAMES_ZH, SEGMENT_NAMES_ZH

#: Labels of the space's dimensions in Chinese (English is the space file's name and unit).
LABELS_ZH = {
    "upgrade_fund": "技改资金（亿元/年）", "upgrade_subsidy_rate": "技改补贴比例",
    "sme_fund": "中小企业资金（亿元/年）", "digital_fund": "数字化转型资金（亿元/年）",
    "projects_per_year": "每年签约项目数", "realisation_rate": "签约项目落地率",
    "large_projects_per_year": "每年50亿元以上项目数", "approval_days": "审批天数",
    "rd_extra_deduction": "研发费用加计扣除比例",
    "carbonate_price_2026": "2026年末碳酸锂价格（元/吨）", "price_volatility": "碳酸锂价格月波动",
    "national_battery_growth": "全国电池产量增速（2025—2026）", "mine_halt_capacity": "停矿期间上游产能比例",
}
#: Defaults the command line may set for the dashboard process (solara runs it as a module).
ENV_REPLICATIONS, ENV_SCALE = "YICHUN_DASHBOARD_REPLICATIONS", "YICHUN_DASHBOARD_SCALE"


def default_replications() -> int:
    return int(os.environ.get(ENV_REPLICATIONS, "12"))


def default_scale() -> float:
    return float(os.environ.get(ENV_SCALE, "1.0"))


def dimensions() -> list[Dimension]:
    space = load_space()
    return space.dimensions


def label(dim: Dimension) -> str:
    return f"{LABELS_ZH.get(dim.name, dim.name)} · {dim.name} ({dim.unit})"


#: A lever's value: one number, or a path by year where the scenario sets one ({2023: 450, ...}).
LeverValue = float | dict[int, float]


def current_value(scenario: ResolvedScenario, dim: Dimension) -> LeverValue:
    """The scenario's value of a dimension: as set (a path by year stays a path), else the
    schema's or the parameter's default (else the space's stated default, for a key left to
    the posterior)."""
    parts = dim.key.split(".")
    node: Any = (scenario.parameters.values if parts[0] == "parameters"
                 else scenario.spec.model_dump(mode="python"))
    for part in parts[1:] if parts[0] == "parameters" else parts:
        if isinstance(node, list):
            node = node[int(part)] if part.isdigit() and int(part) < len(node) else None
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            node = None
    if isinstance(node, int | float) and not isinstance(node, bool):
        return float(node)
    if isinstance(node, dict) and node and all(isinstance(v, int | float) for v in node.values()):
        return {int(year): float(v) for year, v in sorted(node.items())}
    return float(dim.default if dim.default is not None else dim.range[0])


def format_value(value: LeverValue) -> str:
    """A value as the lever's field shows it: '450', or '2022: 338, 2023: 450' for a path."""
    if isinstance(value, dict):
        return ", ".join(f"{year}: {v:g}" for year, v in sorted(value.items()))
    return f"{value:g}"


def slider_position(value: LeverValue) -> float:
    """Where the slider stands for a value: a path by year stands at its last year's value."""
    return value[max(value)] if isinstance(value, dict) else value


def read_value(dim: Dimension, typed: Any) -> tuple[LeverValue | None, str | None]:
    """A typed value and None, or None and the message to show (never an exception): a
    number, or a path by year written '2023: 400, 2024: 450', each inside the lever's limit."""
    if isinstance(typed, int | float) and not isinstance(typed, bool):
        text = f"{typed!r}"
    elif isinstance(typed, str):
        text = typed.strip()
    else:
        return None, f"{label(dim)}: enter a number 请输入数字"
    if not text:
        return None, f"{label(dim)}: enter a number 请输入数字"
    if ":" in text:
        return _read_path(dim, text)
    try:
        number = float(text)
    except ValueError:
        return None, f"{label(dim)}: '{text}' is not a number 不是数字"
    problem = _outside(dim, number, text)
    return (None, problem) if problem else (number, None)


def _read_path(dim: Dimension, text: str) -> tuple[dict[int, float] | None, str | None]:
    path: dict[int, float] = {}
    for item in text.replace(";", ",").split(","):
        if not item.strip():
            continue
        year, _, number = item.partition(":")
        try:
            y, v = int(year.strip()), float(number.strip())
        except ValueError:
            return None, (f"{label(dim)}: '{item.strip()}' is not 'year: number' "
                          f"不是“年份: 数值”")
        if not 2022 <= y <= 2026:
            return None, f"{label(dim)}: year {y} is outside the run's 2022–2026 超出模拟年份"
        problem = _outside(dim, v, number.strip())
        if problem:
            return None, problem
        path[y] = v
    if not path:
        return None, f"{label(dim)}: enter a number 请输入数字"
    return path, None


def _outside(dim: Dimension, number: float, text: str) -> str | None:
    if not np.isfinite(number):
        return f"{label(dim)}: '{text}' is not a finite number 不是有限数字"
    lo, hi = dim.limit
    if not lo <= number <= hi:
        return (f"{label(dim)}: {number:g} is outside the allowed range {lo:g}–{hi:g} "
                f"超出允许范围 ({dim.basis})")
    return None


def check_value(dim: Dimension, value: Any) -> str | None:
    """None when a typed value is usable; otherwise the message to show (never an exception)."""
    return read_value(dim, value)[1]


def settle_value(scenario_name: str, dim: Dimension, current: LeverValue,
                 typed: LeverValue) -> tuple[LeverValue | None, str | None]:
    """The value in force after `typed` is entered: a path typed over a path changes only the
    years typed; the scenario must accept it (a path only where its key takes one)."""
    value = {**current, **typed} if isinstance(typed, dict) and isinstance(current, dict) else typed
    try:
        apply(load_offered(scenario_name), load_space(), {dim.name: value})
    except InputError as exc:
        return None, f"{label(dim)}: {exc.message} 情景不接受该值"
    return value, None


@dataclass
class Ensemble:
    """A live ensemble and the settings that produced it: target rows, the replications, the
    last run's largest firms; `done` < `replications` while it is still running."""

    scenario: str
    values: dict[str, LeverValue]
    rows: list[dict[str, Any]]
    reps: list[Replication]
    replications: int = 0
    seconds: float = 0.0
    firms: list[dict[str, Any]] = field(default_factory=list)

    @property
    def done(self) -> int:
        return len(self.reps)

    @property
    def complete(self) -> bool:
        return self.done >= self.replications


def load_offered(name: str) -> ResolvedScenario:
    """A shipped scenario the dashboard offers, by name; the name comes from the browser, so
    anything else (a path, another file) is refused."""
    if name not in scenario_names():
        raise InputError("scenario", None, f"{name!r} is not one of the dashboard's scenarios "
                         f"{scenario_names()}")
    return load_scenario(name)


def moved_values(base: ResolvedScenario, values: dict[str, LeverValue]) -> dict[str, LeverValue]:
    """The levers set away from the scenario's own value (only those are applied: a key the
    scenario leaves to the posterior stays with the posterior)."""
    space = load_space()
    return {name: v for name, v in values.items()
            if v != current_value(base, space.dimension(name))}


#: Replications after which a first table is shown, while the rest run.
FIRST_TABLE_AFTER = 4


def run_ensemble_live(scenario_name: str, values: dict[str, LeverValue], replications: int,
                      population_scale: float = 1.0, seed: int = 20230101,
                      progress: Callable[[float], None] | None = None,
                      partial: Callable[[Ensemble], None] | None = None) -> Ensemble:
    """`replications` runs of the scenario with the dimensions set to `values`, each drawing its
    parameters from the scenario's posterior (as `yichun-abm run` does), on the same seeds for
    any setting, so two settings differ only through the levers (common random numbers).
    `partial` receives a first table after ``FIRST_TABLE_AFTER`` replications."""
    started = time.perf_counter()
    base = load_offered(scenario_name)
    scenario = apply(base, load_space(), moved_values(base, values))
    if population_scale != 1.0:
        scenario = scenario.updated({"run": {"population_scale": population_scale}})
    posterior = POSTERIOR_DIR / base.spec.calibration if base.spec.calibration else None
    draws = load_draws(posterior) if posterior and (posterior / "draws.json").is_file() else None
    reps: list[Replication] = []
    firms: list[dict[str, Any]] = []

    def ensemble() -> Ensemble:
        rows = evaluate(load_targets(), np.stack([r.yearly for r in reps]))
        return Ensemble(scenario_name, dict(values), rows, list(reps), replications,
                        time.perf_counter() - started, firms)

    for i in range(replications):
        run_scenario = scenario.with_parameters(draws[i % len(draws)]) if draws else scenario
        model = YichunModel(run_scenario, seed=replication_seed(seed, i)).run()
        reps.append(collect(model, i))
        if i == replications - 1:
            firms = largest_firms(model)
        model.release()
        if progress:
            progress((i + 1) / replications)
        if partial and i + 1 == FIRST_TABLE_AFTER and replications > FIRST_TABLE_AFTER:
            partial(ensemble())
    return ensemble()


def largest_firms(model: YichunModel, count: int = 12) -> list[dict[str, Any]]:
    """The largest firms of a finished run, read through their Mesa agents (columns in Chinese
    and English)."""
    from model.agents import Enterprise

    agents = model.agents_by_type[Enterprise].select(lambda a: a.alive)
    top = sorted(agents, key=lambda a: a.revenue_ytd, reverse=True)[:count]
    return [{"编号 id": a.unique_id, "名称 name": a.anchor or "",
             "环节 segment": f"{SEGMENT_NAMES_ZH[a.segment_id]} {a.segment_id}",
             "产业链 chains": ", ".join(f"{CHAIN_NAMES_ZH[c]} {CHAIN_NAMES_EN[c]}" for c in a.chains),
             "县区 county": COUNTY_NAMES_ZH[a.county_id],
             "2026年营收 revenue 2026 (亿元)": round(float(a.revenue_ytd), 1),
             "链主 chain leader": "是 yes" if a.chain_leader else ""} for a in top]


def target_unit(target: Target) -> str:
    """The unit of a target's value: growth in % a year, revenue in 亿元, firms in 家."""
    if target.kind == "cagr":
        return "%/年 a year"
    if target.statistic.startswith("revenue") or target.statistic in ("value_added", "profit"):
        return "亿元"
    if target.statistic.endswith("_pct"):
        return "%"
    return "家 firms"


#: Traffic lights for P(met), with the colour the dashboard paints them.
LIGHTS = {"绿 green": "#2ca02c", "黄 amber": "#e6a100", "红 red": "#d62728"}


def light(probability: float) -> str:
    """A traffic light for P(met): green from 80%, amber from 50%, red below."""
    if probability >= 0.8:
        return "绿 green"
    return "黄 amber" if probability >= 0.5 else "红 red"


def probability_table(ensemble: Ensemble, previous: Ensemble | None = None) -> list[dict[str, Any]]:
    """One row a target: a traffic light, P(met) with its 95% interval, the change against the
    previous run (points), the median 2026 value and the target, with units."""
    targets = {t.id: t for t in load_targets().targets}
    before = {r["target"]: r["probability"] for r in previous.rows} if previous else {}
    table = []
    for r in ensemble.rows:
        unit = target_unit(targets[r["target"]])
        row = {"信号 light": light(r["probability"]),
               "目标 target": f"{targets[r['target']].description_zh} · {r['description']}",
               "P(达成 met)": percent(r["probability"]),
               "95% 区间 interval": f"{percent(r['probability_low'])}–{percent(r['probability_high'])}"}
        if previous is not None:
            change = 100 * (r["probability"] - before.get(r["target"], np.nan))
            row["Δ 较上次 vs previous"] = f"{round(change):+d} 点 pts" if np.isfinite(change) else ""
        row["中位数 median 2026"] = f"{r['median_2026']:,.4g} {unit}"
        row["目标值 target value"] = f"{r['target_value']:,.6g} {unit}"
        table.append(row)
    return table


def interval_note(replications: int) -> str:
    """What the interval means and how more replications narrow it."""
    half = 100 * 1.96 * np.sqrt(0.25 / max(replications, 1))
    return (f"区间为达成概率的95%置信区间（{replications}次模拟）；模拟次数越多区间越窄，"
            f"100次约±10个百分点。 The interval is the 95% interval of the probability from "
            f"{replications} replications (up to ±{half:.0f} points at 50%); it narrows with "
            f"the square root of the replications: 100 give about ±10.")


def settings_table(ensemble: Ensemble, space_dims: list[Dimension] | None = None) -> list[dict[str, str]]:
    """The settings that produced a result: every lever's value and unit, marking those moved
    away from the scenario's own."""
    base = load_offered(ensemble.scenario)
    table = []
    for dim in space_dims or dimensions():
        value = ensemble.values.get(dim.name, current_value(base, dim))
        moved = value != current_value(base, dim)
        table.append({"政策与条件 lever": label(dim), "取值 value": format_value(value),
                      "": "已调整 moved" if moved else ""})
    return table


def stale_reasons(ensemble: Ensemble, scenario_name: str, values: dict[str, LeverValue],
                  replications: int) -> list[str]:
    """Why a result no longer matches the controls: the scenario, levers or replications moved."""
    reasons = []
    if scenario_name != ensemble.scenario:
        reasons.append(f"情景 scenario {ensemble.scenario} → {scenario_name}")
    reasons += [f"{name} {format_value(ensemble.values[name])} → {format_value(v)}"
                for name, v in values.items() if ensemble.values.get(name) != v]
    if replications != ensemble.replications:
        reasons.append(f"模拟次数 replications {ensemble.replications} → {replications}")
    return reasons


def scenario_yaml(ensemble: Ensemble) -> str:
    """The result's settings as a scenario file extending the one chosen (levers moved only)."""
    base = load_offered(ensemble.scenario)
    space = load_space()
    changes: dict[str, Any] = {}
    for name, value in moved_values(base, ensemble.values).items():
        *parents, last = space.dimension(name).key.split(".")
        node = changes
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    lines = [f"# saved from the dashboard: the settings of a {ensemble.done}-replication run of "
             f"{ensemble.scenario} (the levers moved from it)", f"extends: {ensemble.scenario}",
             f"name: {ensemble.scenario}_dashboard"]
    body = yaml.safe_dump(changes, allow_unicode=True, sort_keys=False) if changes else ""
    return "\n".join(lines) + "\n" + body


def table_csv(rows: list[dict[str, Any]]) -> str:
    """A table as CSV text (UTF-8 with BOM when saved, so spreadsheets read the Chinese)."""
    import csv
    import io

    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out.getvalue()


#: The year-to-date figures a planner can type in: same-firm growth of value added at last
#: year's prices or of revenue (统计局 1—N月 同比增长).
FIGURE_KINDS = {
    "value_added": ("value_added_prevprice", "value_added_base", "规上工业增加值同比增长 value-added growth"),
    "revenue": ("revenue", "revenue_base", "营业收入同比增长 revenue growth"),
}


def nowcast_calibration() -> Any:
    from model.calibration.abc import load_config
    from model.paths import PROJECT_ROOT

    return load_config(PROJECT_ROOT / "calibration" / "default.yaml")


def nowcast_inputs(calib: Any) -> tuple[Any, Any]:
    """The committed calibration's table and panel (read once per process); an InputError
    saying how to make the panel when it is missing."""
    if "table" not in _NOWCAST:
        from model.calibration.abc import load_table
        from model.calibration.panel import load_panel

        folder = POSTERIOR_DIR / calib.config.name
        table = load_table(calib, folder)
        from model.calibration.emulator import MetEmulator

        _NOWCAST["panel"] = load_panel(calib, folder, table.n)
        _NOWCAST["emulator"] = MetEmulator(calib, table, _NOWCAST["panel"])
        _NOWCAST["table"] = table
    return _NOWCAST["table"], _NOWCAST["panel"]


_NOWCAST: dict[str, Any] = {}


def nowcast_figure(kind: str, scope: str, year: int, months: int, value: Any, sd: Any,
                   ) -> tuple[dict[str, Any] | None, str | None]:
    """A typed year-to-date figure added to the calibration (``yichun-abm nowcast``): its
    percentile in the model's band before it and every target's probability before and
    after; or None and the message to show."""
    from pydantic import ValidationError

    from model.calibration.nowcast import Figure, check_figure, nowcast

    try:
        calib = nowcast_calibration()
        statistic, denominator, _ = FIGURE_KINDS[kind]
        fig = Figure(id=f"dashboard_{kind}_{scope}_{year}_01_{int(months):02d}",
                     statistic=statistic, denominator=denominator, scope=scope,
                     period={"year": int(year), "months": int(months)},
                     kind="same_firm_growth_pct", value=float(value), sd=float(sd),
                     reason="typed into the dashboard")
        check_figure(fig, calib, calib.observations)
        table, panel = nowcast_inputs(calib)
    except InputError as exc:
        return None, exc.message
    except (ValidationError, ValueError, TypeError, KeyError) as exc:
        return None, f"the figure is not usable 数据不可用: {_plain(exc)}"
    result = nowcast(calib, table, panel, [fig], emulator=_NOWCAST["emulator"])
    rows = [{"目标 target": f"{a['description_zh']} · {a['description']}",
             "此前 before": percent(b["probability"]),
             "此后 after": f"{percent(a['probability'])} ({percent(a['low'])}–{percent(a['high'])})",
             "Δ 点 pts": f"{round(100 * (a['probability'] - b['probability'])):+d}"}
            for b, a in zip(result.stages[0], result.stages[1], strict=True)]
    low, mid, high = result.bands_before[0]
    return {"figure": fig.id, "percentile": result.percentiles[0], "band": (low, mid, high),
            "rows": rows}, None


def _plain(exc: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return "; ".join(e["msg"] for e in exc.errors())
    return str(exc)


__all__ = ["FIGURE_KINDS", "Ensemble", "LeverValue", "check_value", "current_value", "dimensions",
           "format_value", "nowcast_figure",
           "interval_note", "label", "largest_firms", "light", "moved_values", "probability_table",
           "read_value", "run_ensemble_live", "scenario_names", "scenario_yaml", "settings_table",
           "settle_value", "slider_position", "stale_reasons", "table_csv", "target_unit"]
