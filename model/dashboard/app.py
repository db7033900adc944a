"""The planners' dashboard (Solara, Mesa's own choice for its visualisation): choose a scenario,
set levers and uncertainties with sliders or typed values (a path by year where the scenario
sets one), run a small ensemble live, and read P(target) with traffic lights, intervals, units
and the change against the previous run, the settings that produced the result (marked stale
when a control moves), fan charts against the 9% path and the chain targets, and the largest
firms as Mesa agents; download the settings as a scenario file and the tables as CSV.
Start it with `yichun-abm dashboard`."""

from __future__ import annotations

import html

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import solara  # noqa: E402
import solara.lab  # noqa: E402

from model.dashboard import logic  # noqa: E402
from model.reporting.figures import chains_vs_targets, revenue_vs_plan, use_chinese_font  # noqa: E402

use_chinese_font()
DIMENSIONS = logic.dimensions()
BY_NAME = {d.name: d for d in DIMENSIONS}

scenario = solara.reactive("baseline")
values = solara.reactive({d.name: logic.current_value(logic.load_offered("baseline"), d)
                          for d in DIMENSIONS})
replications = solara.reactive(logic.default_replications())
problem = solara.reactive("")
progress = solara.reactive(0.0)
result: solara.Reactive[logic.Ensemble | None] = solara.reactive(None)
previous: solara.Reactive[logic.Ensemble | None] = solara.reactive(None)
#: each lever's field text, bound to its field: set back to the value in force when an entry
#: is refused (a field's own text would otherwise keep the refused entry)
texts = {d.name: solara.reactive(logic.format_value(values.value[d.name])) for d in DIMENSIONS}


def show_values() -> None:
    for name, value in values.value.items():
        texts[name].value = logic.format_value(value)


def choose_scenario(name: str) -> None:
    scenario.value = name
    loaded = logic.load_offered(name)
    values.value = {d.name: logic.current_value(loaded, d) for d in DIMENSIONS}
    problem.value = ""
    show_values()                        # every field shows the new scenario's value


def set_value(name: str, typed: object) -> None:
    """A typed or slid value: refused with a message (the field reverts to the value in force),
    or set; a path typed over a path changes only the years typed."""
    if isinstance(typed, str) and typed.strip() == logic.format_value(values.value[name]):
        return                           # the field shown again, not a new entry
    dim = BY_NAME[name]
    value, message = logic.read_value(dim, typed)
    if message is None:
        value, message = logic.settle_value(scenario.value, dim, values.value[name], value)
    if message:
        problem.value = message
        texts[name].value = logic.format_value(values.value[name])
        return
    problem.value = ""
    values.value = {**values.value, name: value}
    texts[name].value = logic.format_value(value)


@solara.lab.task(prefer_threaded=True)
def run() -> None:
    """The ensemble, in a thread: the page stays live, shows its progress and a first table
    after a few replications."""
    progress.value = 0.0
    last = result.value if result.value is not None and result.value.complete else previous.value
    try:
        done = logic.run_ensemble_live(
            scenario.value, dict(values.value), replications.value, logic.default_scale(),
            progress=lambda share: setattr(progress, "value", share),
            partial=lambda first: setattr(result, "value", first))
    except Exception as exc:  # noqa: BLE001 - a bad combination is shown, not raised at the user
        problem.value = f"The run failed 运行失败: {exc}"
        return
    previous.value = last
    result.value = done


@solara.component
def Lever(dim, value) -> None:  # noqa: ANN001
    """A slider over the explored range and a field to type any value inside the allowed limit
    (or a path by year, '2023: 400, 2024: 450')."""
    lo, hi = dim.range
    step = (hi - lo) / 100
    position = logic.slider_position(value)

    def slid(v: float) -> None:
        # the slider reports its position snapped to its steps (also when it first shows): only a
        # real move, of most of a step, changes the lever
        if abs(v - position) > 0.75 * step:
            set_value(dim.name, v)

    with solara.Column(gap="0px"):
        solara.Text(logic.label(dim), style={"font-size": "0.82rem", "color": "#444"})
        with solara.Row(style={"align-items": "center"}):
            solara.SliderFloat("", value=min(max(position, lo), hi), min=lo, max=hi,
                               step=step, on_value=slid)
            solara.InputText(dim.name, value=texts[dim.name],
                             on_value=lambda v: set_value(dim.name, v), continuous_update=False,
                             style={"max-width": "16rem" if isinstance(value, dict) else "8rem"},
                             classes=[f"lever-{dim.name}"])


@solara.component
def Problem() -> None:
    """The message about the last bad input, if any (its own component: only it re-renders)."""
    with solara.Div():
        if problem.value:
            solara.Error(problem.value, classes=["input-problem"])


@solara.component
def Progress() -> None:
    """Where the results appear: the share of replications done while a run is going."""
    if run.pending:
        with solara.Div(classes=["run-progress"]):
            solara.ProgressLinear(progress.value * 100)
            solara.Text(f"正在运行 running: {round(progress.value * replications.value)} / "
                        f"{replications.value} 次模拟 replications ({progress.value:.0%})")


def html_table(rows: list[dict], css: str) -> None:
    """A table; every cell escaped, a traffic light painted in its colour."""
    def cell(value: object) -> str:
        text = html.escape(str(value))
        colour = logic.LIGHTS.get(str(value))
        return f'<span style="color:{colour}">●</span> {text}' if colour else text

    frame = pd.DataFrame(rows).map(cell) if rows else pd.DataFrame()
    solara.HTML(tag="div", unsafe_innerHTML=frame.to_html(index=False, border=0, escape=False),
                classes=[css])


@solara.component
def Results(ens: logic.Ensemble) -> None:
    stale = logic.stale_reasons(ens, scenario.value, values.value, replications.value)
    if stale:
        solara.Warning("结果已过期：以下设置在运行后改动，请重新运行。 Stale: these settings moved "
                       "after this run; press Run again. " + "; ".join(stale),
                       classes=["stale-marker"])
    state = ("" if ens.complete else
             f" · 初步结果 preliminary, {ens.done} of {ens.replications}, the rest running")
    with solara.Div(classes=["result-header"]):
        solara.Markdown(f"**{ens.scenario}**, {ens.done} 次模拟 replications, "
                        f"{ens.seconds:.1f} s{state}")
    solara.Markdown("## 达成概率 Probability each target is met")
    before = previous.value if ens.complete else None
    table = solara.use_memo(lambda: logic.probability_table(ens, before),
                            dependencies=[id(ens), id(before)])
    html_table(table, "probability-table")
    solara.Markdown(f"_{logic.interval_note(ens.done)}_ 信号 lights: 绿 green ≥ 80%, "
                    "黄 amber 50–80%, 红 red < 50%"
                    + (f"; Δ 较上次运行 against the previous run ({previous.value.scenario}, "
                       f"{previous.value.done} replications)" if previous.value and ens.complete
                       else ""))
    with solara.Row():
        solara.FileDownload(logic.table_csv(table), filename=f"{ens.scenario}_targets.csv",
                            label="下载概率表 targets CSV", mime_type="text/csv")
        solara.FileDownload(logic.scenario_yaml(ens), filename=f"{ens.scenario}_dashboard.yaml",
                            label="下载情景 settings as scenario YAML", mime_type="text/yaml")
        if ens.firms:
            solara.FileDownload(logic.table_csv(ens.firms), filename=f"{ens.scenario}_firms.csv",
                                label="下载企业表 firms CSV", mime_type="text/csv")
    with solara.Details("本次结果的设置 Settings of these results", expand=True):
        html_table(solara.use_memo(lambda: logic.settings_table(ens, DIMENSIONS),
                                   dependencies=[id(ens)]), "settings-table")
    if not ens.complete:
        return                         # the figures come with the whole ensemble
    Figures(ens)
    solara.Markdown("## 最大企业（Mesa 智能体）Largest firms, read as Mesa agents")
    html_table(ens.firms, "firms-table")


def png(fig) -> bytes:  # noqa: ANN001
    """A figure as PNG bytes, the figure closed (a page that re-renders must not redraw it)."""
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


@solara.component
def Figures(ens: logic.Ensemble) -> None:
    """The fan charts of one ensemble, drawn once (moving a lever re-renders the page, not them)."""
    images = solara.use_memo(lambda: (png(revenue_vs_plan(ens.reps)), png(chains_vs_targets(ens.reps))),
                             dependencies=[id(ens)])
    solara.Markdown("## 营收与9%路径 Revenue against the 9% path")
    with solara.Div(classes=["figures"]):
        for image in images:
            solara.Image(image)


figure_kind = solara.reactive("value_added")
figure_scope = solara.reactive("total")
figure_months = solara.reactive(2)
figure_value = solara.reactive("")
figure_sd = solara.reactive("1.5")
nowcast_answer: solara.Reactive[dict | None] = solara.reactive(None)
nowcast_problem = solara.reactive("")


def add_figure() -> None:
    answer, message = logic.nowcast_figure(figure_kind.value, figure_scope.value, 2026,
                                           figure_months.value, figure_value.value,
                                           figure_sd.value)
    nowcast_problem.value = message or ""
    nowcast_answer.value = answer


@solara.component
def Nowcast() -> None:
    """A newly published 2026 year-to-date figure, typed in: where it falls in the model's band
    and what it changes (`yichun-abm nowcast` on the baseline's calibration, no new runs)."""
    from model.structure import SCOPES

    with solara.Details("新公布数据 A newly published figure (nowcast, baseline calibration)"):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Select("指标 figure", values=list(logic.FIGURE_KINDS), value=figure_kind)
            solara.Select("范围 scope", values=list(SCOPES), value=figure_scope)
            solara.SliderInt("2026年1—N月 months", value=figure_months, min=1, max=12)
            solara.Text(f"2026年1—{figure_months.value}月 (January–month {figure_months.value})")
            solara.InputText("公布值 value, %", value=figure_value, classes=["figure-value"])
            solara.InputText("标准差 sd, points", value=figure_sd, classes=["figure-sd"])
            solara.Button("更新 Update", on_click=add_figure, classes=["figure-button"])
        if nowcast_problem.value:
            solara.Error(nowcast_problem.value, classes=["figure-problem"])
        answer = nowcast_answer.value
        if answer:
            low, mid, high = answer["band"]
            solara.Markdown(f"**{answer['figure']}**: 模型此前的90%区间 the model's 90% band "
                            f"before it {low:.3g} to {high:.3g} (median {mid:.3g}); the figure "
                            f"sits at its percentile {answer['percentile']:.0f}.")
            html_table(answer["rows"], "nowcast-table")


@solara.component
def Page() -> None:
    solara.Title("宜春869计划仪表盘 · Yichun 869 plan dashboard")
    with solara.Sidebar():
        solara.Markdown("## 情景与政策 Scenario and levers")
        solara.Select("情景 scenario", values=logic.scenario_names(), value=scenario.value,
                      on_value=choose_scenario)
        solara.SliderInt("模拟次数 replications", value=replications, min=2, max=100)
        solara.Text(f"模拟次数 replications: {replications.value}", classes=["replications"])
        solara.Button("运行 Run", on_click=run, disabled=run.pending, color="primary",
                      classes=["run-button"])
        Problem()
        for dim in DIMENSIONS:
            Lever(dim, values.value[dim.name]).key(dim.name)
    solara.Markdown("# 宜春“869”计划 2026 年目标 · Yichun 869 plan: 2026 targets")
    Progress()
    Nowcast()
    if result.value is None:
        solara.Markdown("设置政策后点击运行。Set the levers and press **运行 Run**. Each run draws "
                        "its parameters from the calibrated posterior; the same seeds are used for "
                        "every setting, so two settings differ only through the levers.")
        return
    Results(result.value)
