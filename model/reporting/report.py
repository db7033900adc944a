"""The run folder's target tables and its Markdown summary (report.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from model.analysis.consistency import consistency_table
from model.analysis.drivers import driver_rows, drivers_csv, drivers_markdown
from model.analysis.measurement import measurement_csv, measurement_markdown, measurement_rows
from model.analysis.targets import evaluate, load_targets, targets_csv, targets_markdown
from model.errors import InputError
from model.outputs import claim
from model.paths import NOTEBOOK_DIR
from model.reporting.tables import CHAIN_OVERLAP_NOTE, stack_yearly
from model.runner import Replication
from model.scenario import ResolvedScenario
from model.yamlio import write_text_atomic


def write_target_tables(folder: Path, scenario: ResolvedScenario, reps: list[Replication],
                        figures: list[str], draws: list[dict[str, Any]] | None = None,
                        ) -> list[dict]:
    """targets.csv, target_consistency.csv, drivers.csv, measurement.csv and report.md; `draws`
    are the posterior draws the replications ran on (for what the verdicts rest on)."""
    yearly = stack_yearly(reps)
    targets = load_targets()
    rows = evaluate(targets, yearly)
    write_text_atomic(folder / "targets.csv", targets_csv(rows))
    csv, md = consistency_table(yearly)
    write_text_atomic(folder / "target_consistency.csv", csv)
    drivers = driver_rows(targets, yearly, reps, draws)
    write_text_atomic(folder / "drivers.csv", drivers_csv(drivers))
    measured = measurement_rows(yearly)
    write_text_atomic(folder / "measurement.csv", measurement_csv(measured))
    report = [
        f"# {scenario.name}：“869”计划2026年目标 · the 869 plan's 2026 targets", "",
        f"> {scenario.spec.question_zh.strip()}" if scenario.spec.question_zh else "", "",
        f"> {scenario.spec.question.strip()}" if scenario.spec.question else "", "",
        f"{len(reps)} 次模拟；概率为达成目标的模拟所占比例，区间为蒙特卡洛误差的95% Wilson区间。 "
        f"{len(reps)} replications; probabilities are shares of replications meeting each target, "
        "with 95% Wilson intervals for the Monte-Carlo error.", "",
        "## 目标达成概率 Target probabilities", "", targets_markdown(rows, targets),
        "## 结论取决于什么 What each verdict rests on", "",
        "对各目标2026年结果影响最大的三个输入（偏秩相关，正号表示该输入越高结果越好）。 "
        "The three inputs that move each target's 2026 outcome most over the replications "
        "(each on its own posterior draw and carbonate price path): partial rank correlations, "
        "so a positive sign means a higher value of the input raises the outcome. "
        "`carbonate_price_2025_2026` is the scenario's price uncertainty.", "",
        drivers_markdown(drivers),
        "## 增长如何计量：实物量与计量增速 How growth is measured: volumes beside measured growth", "",
        measurement_markdown(measured),
        "## 各目标之间是否一致？ Are the plan's targets consistent with each other?", "", md,
        "## 图 Figures", "", *[f"![{name}](figures/{name})" for name in figures], "",
        "## 说明 Notes", "", CHAIN_OVERLAP_NOTE, "",
    ]
    write_text_atomic(folder / "report.md", "\n".join(report))
    return rows



def execute_notebook(name: str, parameters: dict, out: Path, html: bool = True,
                     title: str | None = None, progress: bool = False) -> Path:
    """Run notebooks/<name>.py (jupytext py:percent) with papermill; write the executed .ipynb
    and, with `html`, an HTML export beside it. Figures a notebook writes land in `out`."""
    import jupytext
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    out.mkdir(parents=True, exist_ok=True)
    notebook = jupytext.read(NOTEBOOK_DIR / f"{name}.py")
    source = out / f".{name}.source.ipynb"
    nbformat.write(notebook, source)
    executed = out / f"{name}.ipynb"
    try:
        papermill.execute_notebook(str(source), str(executed), parameters=parameters,
                                   kernel_name="python3", cwd=str(out), progress_bar=progress)
    finally:
        source.unlink(missing_ok=True)
    if html:
        # planners read the results: the HTML leaves the code out (the .ipynb keeps it)
        exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                                exclude_output_prompt=True)
        node = nbformat.read(executed, as_version=4)
        node.metadata["title"] = title or name.replace("_", " ")   # the page's <title>
        body, _ = exporter.from_notebook_node(node)
        write_text_atomic(out / f"{name}.html", body)
    return executed


def _inside(root: Path, name: str) -> str:
    """root/name, refused unless it stays inside root (a crafted scenario name such as
    '../x' would reach elsewhere)."""
    path = (root / name).resolve()
    if not path.is_relative_to(root.resolve()):
        raise InputError(name, None, "a run's scenario name must not leave the results folder")
    return str(path)


def notebook_report(run_dirs: list[Path], out: Path, progress: bool = False) -> Path:
    """The scenario report of run folders as an executed notebook and HTML."""
    from model.analysis.compare import load_run
    from model.paths import results_dir

    # fails early, with a clear message, on a folder that is not a run
    name = [load_run(folder) for folder in run_dirs][0].name
    # the first scenario's exploration and what-it-takes answer, where they were made (inside
    # results/ only: the name comes from a folder's manifest)
    pages = {key: _inside(results_dir(), f"{prefix}_{name}")
             for key, prefix in (("explore_dir", "explore"), ("what_it_takes_dir", "what_it_takes"),
                                 ("attribution_dir", "attribution"))}
    claim(out, "report")                   # after the runs are read: a refusal writes nothing
    execute_notebook("scenario_report", {
        "run_dirs": [str(Path(d).resolve()) for d in run_dirs], "figure_dir": "figures",
        **pages}, out,
        title=f"宜春869计划 2026 目标 · Yichun 869 plan 2026 targets — {name}", progress=progress)
    return out / "scenario_report.html"
