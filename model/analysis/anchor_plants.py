"""The named anchor plants' capacity and output in physical units, year by year, beside their
published sizes (issue 25): 宜春时代 (CATL), Gotion and BYD cells in GWh, the carbonate plants in
tonnes. Runs a few replications of a scenario on its posterior draws, reading each plant's row
month by month (the plants are Mesa agents: ``model.anchor_firm``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from model.analysis.measurement import rows_csv
from model.anchors import load_anchors
from model.economy import YichunModel
from model.runner import replication_seed
from model.scenario import ResolvedScenario
from model.statistics import physical_units
from model.structure import SEGMENT_INDEX

#: (anchor id, what it is, published size and unit)
PLANTS = (
    ("catl_cells", "宜春时代 cells (CATL)", "50 GWh phase one (fact catl_yichun_phase1)"),
    ("gotion_cells", "宜春国轩 cells (Gotion, with phase 2)",
     "10 GWh, 30 GWh from 2025 (facts gotion_yichun_cells, gotion_phase2_2025)"),
    ("byd_cells", "比亚迪 cells (BYD)", "30 GWh planned (fact byd_yichun_plan)"),
    ("sunwoda_yichun", "欣旺达 cells (Sunwoda)", "not published"),
    ("gotion_carbonate", "国轩 carbonate (Gotion)",
     "8 kt in 2022, 30 kt planned for 2023 (fact gotion_carbonate_2022_2023)"),
    ("byd_carbonate", "比亚迪 carbonate (BYD)", "100 kt planned (fact byd_yichun_plan)"),
    ("catl_carbonate", "宁德时代 carbonate (CATL, 枧下窝)", "not published"),
)


def anchor_rows(scenario: ResolvedScenario, seed: int, replications: int,
                draws: list[dict[str, Any]] | None = None,
                progress: Callable[[Any, int], Any] | None = None) -> list[dict]:
    """Per plant and year: median and range over replications of year-end capacity and the
    year's output, in GWh or tonnes a year; `progress` wraps the replications (a live line)."""
    ids = [a.id for a in load_anchors()]
    results: dict[tuple[str, int, str], list[float]] = {}
    indices = range(replications)
    for index in progress(indices, replications) if progress else indices:
        run = scenario.with_parameters(draws[index % len(draws)]) if draws else scenario
        model = YichunModel(run, seed=replication_seed(seed, index))
        units = physical_units(model)
        output = {plant: np.zeros(5) for plant, _, _ in PLANTS}
        capacity = {plant: np.zeros(5) for plant, _, _ in PLANTS}
        while model.running:
            model.step()
            year = (model.t - 1) // 12
            for plant, _, _ in PLANTS:
                row = _row(model, ids.index(plant))
                if row is None:
                    continue
                per = _unit(units, model.f.segment[row])
                output[plant][year] += model.f.volume[row] * per
                if model.t % 12 == 0:
                    capacity[plant][year] = 12.0 * (model.f.capacity[row]
                                                    + model.f.ramping[row]) * per
        for plant, _, _ in PLANTS:
            for y in range(5):
                results.setdefault((plant, 2022 + y, "output"), []).append(output[plant][y])
                results.setdefault((plant, 2022 + y, "capacity"), []).append(capacity[plant][y])
        model.release()
    rows = []
    for (plant, year, quantity), values in results.items():
        v = np.array(values)
        rows.append({"anchor": plant, "year": year, "quantity": quantity,
                     "median": float(np.median(v)), "min": float(v.min()), "max": float(v.max())})
    return rows


def _row(model: YichunModel, number: int) -> int | None:
    """The plant's row, closed or not (``model.anchor_firm`` gives live rows only, which would
    drop the output of the month a plant closes in)."""
    rows = np.flatnonzero(model.f.anchor == number)
    return int(rows[0]) if rows.size else None


def _unit(units: dict[str, np.ndarray], segment: int) -> float:
    """Physical units per 亿 of real output: GWh for cells, tonnes for carbonate."""
    if segment == SEGMENT_INDEX["li_cells"]:
        return float(units["battery_gwh"][segment])
    return float(units["carbonate_tonnes"][segment])


def anchors_csv(rows: list[dict]) -> str:
    return rows_csv(rows, ("anchor", "year", "quantity", "median", "min", "max"))


def anchors_markdown(rows: list[dict], replications: int) -> str:
    lines = [f"Year-end capacity (ramping capacity included) / the year's output, median over "
             f"{replications} replications; cells in GWh a year, carbonate plants in tonnes a year.",
             "", "| plant | published | " + " | ".join(str(y) for y in range(2022, 2027)) + " |",
             "|---|---|" + "---:|" * 5]
    for plant, name, published in PLANTS:
        cells = []
        for year in range(2022, 2027):
            cap, out = (next(r for r in rows if (r["anchor"], r["year"], r["quantity"])
                             == (plant, year, quantity)) for quantity in ("capacity", "output"))
            digits = 1 if "cells" in plant or plant == "sunwoda_yichun" else -3
            cells.append(f"{round(cap['median'], digits):g} / {round(out['median'], digits):g}")
        lines.append(f"| {name} | {published} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
