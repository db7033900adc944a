"""The run folder's target tables and its Markdown summary (report.md)."""

from __future__ import annotations

from pathlib import Path

from model.consistency import consistency_table
from model.output import CHAIN_OVERLAP_NOTE, stack_yearly
from model.runner import Replication
from model.scenario import ResolvedScenario
from model.targets import evaluate, load_targets, targets_csv, targets_markdown
from model.yamlio import write_text_atomic


def write_target_tables(folder: Path, scenario: ResolvedScenario, reps: list[Replication],
                        figures: list[str]) -> list[dict]:
    yearly = stack_yearly(reps)
    targets = load_targets()
    rows = evaluate(targets, yearly)
    write_text_atomic(folder / "targets.csv", targets_csv(rows))
    csv, md = consistency_table(yearly)
    write_text_atomic(folder / "target_consistency.csv", csv)
    report = [
        f"# {scenario.name}: the 869 plan's 2026 targets", "",
        f"> {scenario.spec.question.strip()}" if scenario.spec.question else "", "",
        f"{len(reps)} replications; probabilities are shares of replications meeting each target, "
        "with 95% Wilson intervals for the Monte-Carlo error.", "",
        "## Target probabilities", "", targets_markdown(rows, targets),
        "## Are the plan's targets consistent with each other?", "", md,
        "## Figures", "", *[f"![{name}](figures/{name})" for name in figures], "",
        "## Notes", "", CHAIN_OVERLAP_NOTE, "",
    ]
    write_text_atomic(folder / "report.md", "\n".join(report))
    return rows
