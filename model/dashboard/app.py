"""The planners' dashboard (Solara, Mesa's own choice for its visualisation): choose a scenario,
set levers and uncertainties with sliders or typed values, run a small ensemble live, and read
P(target) with intervals, fan charts against the 9% path and the chain targets, and the
largest firms as Mesa agents. Start it with `yichun-abm dashboard`."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import solara  # noqa: E402
import solara.lab  # noqa: E402

from model.dashboard import logic  # noqa: E402
from model.reporting.figures import chains_vs_targets, revenue_vs_plan, use_chinese_font  # noqa: E402

use_chinese_font()
DIMENSIONS = logic.dimensions()

scenario = solara.reactive("baseline")
values = solara.reactive({d.name: logic.current_value(logic.load_offered("baseline"), d)
                          for d in DIMENSIONS})
replications = solara.reactive(logic.default_replications())
problem = solara.reactive("")
progress = solara.reactive(0.0)
result: solara.Reactive[logic.Ensemble | None] = solara.reactive(None)


def choose_scenario(name: str) -> None:
    scenario.value = name
    loaded = logic.load_offered(name)
    values.value = {d.name: logic.current_value(loaded, d) for d in DIMENSIONS}
    problem.value = ""


def set_value(name: str, typed: object) -> None:
    dim = next(d for d in DIMENSIONS if d.name == name)
    message = logic.check_value(dim, typed)
    if message:
        problem.value = message          # shown above the controls; the lever keeps its value
        return
    problem.value = ""
    values.value = {**values.value, name: float(typed)}


@solara.lab.task(prefer_threaded=True)
def run() -> None:
    """The ensemble, in a thread: the page stays live and shows its progress."""
    progress.value = 0.0
    try:
        result.value = logic.run_ensemble_live(
            scenario.value, values.value, replications.value, logic.default_scale(),
            progress=lambda share: setattr(progress, "value", share))
    except Exception as exc:  # noqa: BLE001 - a bad combination is shown, not raised at the user
        problem.value = f"The run failed 运行失败: {exc}"


@solara.component
def Lever(dim) -> None:
    """A slider over the explored range and a field to type any value inside the allowed limit."""
    lo, hi = dim.range
    step = (hi - lo) / 100

    def slid(v: float) -> None:
        # the slider reports its position snapped to its steps (also when it first shows): only a
        # real move, of most of a step, changes the lever
        if abs(v - values.value[dim.name]) > 0.75 * step:
            set_value(dim.name, v)

    with solara.Column(gap="0px"):
        solara.Text(logic.label(dim), style={"font-size": "0.82rem", "color": "#444"})
        with solara.Row(style={"align-items": "center"}):
            solara.SliderFloat("", value=min(max(values.value[dim.name], lo), hi), min=lo, max=hi,
                               step=step, on_value=slid)
            solara.InputText(dim.name, value=f"{values.value[dim.name]:g}",
                             on_value=lambda v: set_value(dim.name, v), continuous_update=False,
                             style={"max-width": "8rem"}, classes=[f"lever-{dim.name}"])


@solara.component
def Problem() -> None:
    """The message about the last bad input, if any (its own component: only it re-renders)."""
    with solara.Div():
        if problem.value:
            solara.Error(problem.value, classes=["input-problem"])


@solara.component
def Page() -> None:
    solara.Title("宜春869计划仪表盘 · Yichun 869 plan dashboard")
    with solara.Sidebar():
        solara.Markdown("## 情景与政策 Scenario and levers")
        solara.Select("情景 scenario", values=logic.scenario_names(), value=scenario.value,
                      on_value=choose_scenario)
        solara.SliderInt("模拟次数 replications", value=replications, min=2, max=100)
        Problem()
        for dim in DIMENSIONS:
            Lever(dim).key(dim.name)
        solara.Button("运行 Run", on_click=run, disabled=run.pending, color="primary",
                      classes=["run-button"])
        if run.pending:
            solara.ProgressLinear(progress.value * 100)
            solara.Text(f"{progress.value:.0%}")
    solara.Markdown("# 宜春“869”计划 2026 年目标 · Yichun 869 plan: 2026 targets")
    if result.value is None:
        solara.Markdown("Set the levers and press **运行 Run** 设置政策后点击运行. Each run draws its "
                        "parameters from the calibrated posterior; the same seeds are used for "
                        "every setting, so two settings differ only through the levers.")
        return
    ens = result.value
    solara.Markdown(f"**{ens.scenario}**, {len(ens.reps)} 次模拟 replications")
    solara.Markdown("## 达成概率 Probability each target is met (95% interval)")
    solara.HTML(tag="div", unsafe_innerHTML=pd.DataFrame(logic.probability_table(ens)).to_html(
        index=False, border=0), classes=["probability-table"])
    solara.Markdown("## 营收与9%路径 Revenue against the 9% path")
    solara.FigureMatplotlib(revenue_vs_plan(ens.reps), format="png")
    solara.FigureMatplotlib(chains_vs_targets(ens.reps), format="png")
    solara.Markdown("## 最大企业（Mesa 智能体）Largest firms, read as Mesa agents")
    solara.HTML(tag="div", unsafe_innerHTML=pd.DataFrame(ens.firms).to_html(index=False, border=0))
