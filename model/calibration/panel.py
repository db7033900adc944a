"""The reference table's panel: for every row, the simulated year-to-date quantities a newly
published figure could be compared with, and the row's 2026 outcome for every target.

A nowcast (``model/calibration/nowcast.py``) reads a new figure's simulated value in every row
from the panel and its 2026 outcomes from the same rows, so a figure updates the probabilities
with no new simulation. The panel is made by re-running each row of the table on its own
parameter draw and seed (``SeedSequence(seed, (1, i))``) through December 2026: the same run as
the table's up to its stop month, which is checked row by row against the table's own values.
"""

from __future__ import annotations

import hashlib
import time
import zipfile
from pathlib import Path

import numpy as np

from model.analysis.targets import TARGETS_FILE, Target, load_targets, target_values
from model.calibration.abc import _STATE, Calibration, Table, load_table, pool_and_bar
from model.calibration.observations import simulate_all
from model.economy import YichunModel
from model.errors import InputError
from model.runner import YEARLY_STATS, collect
from model.statistics import MONTHLY, YEARS
from model.yamlio import atomic_path, check_archive, read_json, write_json_atomic

#: the statistics a published figure is read on (levels, same-firm growth, counts, tonnes)
PANEL_STATS: tuple[str, ...] = (
    "revenue", "revenue_all_firms", "revenue_chain_published", "revenue_base", "value_added",
    "value_added_prevprice", "value_added_base", "profit", "above_scale_firms",
    "carbonate_tonnes", "battery_gwh",
)
PANEL_FILE = "panel.npz"
_MONTHLY = np.array([MONTHLY.index(s) for s in PANEL_STATS])
_YEARLY = np.array([YEARLY_STATS.index(s) for s in PANEL_STATS])


class Panel:
    """Per table row: monthly (rows x months x scopes x stats) and yearly (rows x years x
    scopes x stats) panel statistics as float32, and 2026 target outcomes (rows x targets)."""

    def __init__(self, monthly: np.ndarray, yearly: np.ndarray, outcomes: np.ndarray,
                 targets: list[str]) -> None:
        self.monthly, self.yearly, self.outcomes, self.targets = monthly, yearly, outcomes, targets

    @property
    def n(self) -> int:
        return self.monthly.shape[0]

    def full_arrays(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Row i's yearly and monthly arrays in the model's layout (NaN outside the panel), for
        ``observations.simulated``."""
        yearly = np.full((len(YEARS), self.yearly.shape[2], len(YEARLY_STATS)), np.nan)
        yearly[:, :, _YEARLY] = self.yearly[i]
        monthly = np.full((self.monthly.shape[1], self.monthly.shape[2], len(MONTHLY)), np.nan)
        monthly[:, :, _MONTHLY] = self.monthly[i]
        return yearly, monthly


def targets_digest() -> str:
    return hashlib.sha256(TARGETS_FILE.read_bytes()).hexdigest()[:16]


def panel_row(calib: Calibration, theta: np.ndarray, i: int, targets: list[Target]
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Row i re-run through 2026 on its parameter draw and seed: its panel, its 2026 target
    outcomes and its clean observations (to check against the table's)."""
    scenario = calib.scenario.with_parameters(calib.overrides(dict(zip(calib.names, theta,
                                                                           strict=True))))
    try:
        model = YichunModel(scenario, seed=np.random.SeedSequence(calib.config.seed,
                                                                  spawn_key=(1, i))).run()
    except ValueError:               # an infeasible draw: its row is NaN, as in the table
        return (np.full((1,), np.nan), np.full((1,), np.nan),
                np.full(len(targets), np.nan), np.full(len(calib.all_observations), np.nan))
    rep = collect(model)
    model.release()
    clean = simulate_all(calib.all_observations, rep)
    outcomes = np.array([float(target_values(t, rep.yearly[None])[0]) for t in targets])
    return (rep.monthly[:, :, _MONTHLY].astype(np.float32),
            rep.yearly[:, :, _YEARLY].astype(np.float32), outcomes,
            np.array([clean[o.id] for o in calib.all_observations]))


def _row_in_worker(i: int):
    return panel_row(_STATE["calib"], _STATE["theta"][i], i, _STATE["targets"])


def build_panel(calib: Calibration, folder: Path, progress: bool = True) -> Panel:
    """Re-run every row of the folder's table through 2026 and write its panel; every row's
    observations must come out as the table holds them (the same run)."""
    table = load_table(calib, folder)
    start = time.perf_counter()
    indices = list(range(table.n))
    targets = load_targets().targets              # read once, not once a row
    _STATE["theta"], _STATE["targets"] = table.theta, targets
    rows: list[tuple] = []
    chunk = 96
    with pool_and_bar(calib, calib.config.workers > 1, progress, table.n, 0, "panel") as (pool,
                                                                                         bar):
        for first in range(0, len(indices), chunk):
            part = indices[first:first + chunk]
            rows += (pool.map(_row_in_worker, part) if pool is not None
                     else [panel_row(calib, table.theta[i], i, targets) for i in part])
            if bar:
                bar.update(len(part))
    panel = _assemble(rows, calib, table, [t.id for t in targets])
    save_panel(panel, folder, calib)
    record = {"rows": table.n, "seconds": round(time.perf_counter() - start, 1)}
    write_json_atomic(folder / "panel_time.json", record)
    return panel


def _assemble(rows: list[tuple], calib: Calibration, table: Table, targets: list[str]) -> Panel:
    shapes = next((r[0].shape, r[1].shape) for r in rows if r[0].ndim > 1)
    monthly = np.full((len(rows), *shapes[0]), np.nan, dtype=np.float32)
    yearly = np.full((len(rows), *shapes[1]), np.nan, dtype=np.float32)
    outcomes = np.array([r[2] for r in rows])
    clean = np.array([r[3] for r in rows])
    for i, r in enumerate(rows):
        if r[0].ndim > 1:
            monthly[i], yearly[i] = r[0], r[1]
    same = np.isclose(clean, table.clean, rtol=1e-9, atol=1e-9, equal_nan=True)
    if not same.all():
        bad = np.argwhere(~same)[0]
        raise RuntimeError(f"panel row {bad[0]} does not reproduce the table's observation "
                           f"{calib.all_observations[bad[1]].id}: {clean[tuple(bad)]} against "
                           f"{table.clean[tuple(bad)]} (the run is not the table's)")
    return Panel(monthly, yearly, outcomes, targets)


def save_panel(panel: Panel, folder: Path, calib: Calibration) -> None:
    from model.calibration.abc import stamp_digest

    with atomic_path(folder / PANEL_FILE) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, monthly=panel.monthly, yearly=panel.yearly, outcomes=panel.outcomes,
                     stats=np.array(PANEL_STATS), targets=np.array(panel.targets),
                     stamp=np.array(stamp_digest(calib.stamp())),
                     targets_digest=np.array(targets_digest()))


def load_panel(calib: Calibration, folder: Path, rows: int) -> Panel:
    """The folder's panel; missing, made for another table or other targets: one line saying
    how to extend the table."""
    from model.calibration.abc import stamp_digest

    path = folder / PANEL_FILE
    extend = (f"extend it with `yichun-abm calibrate {calib.source} --panel` (re-runs the "
              f"table's {rows} rows through 2026, about 2 minutes on 2 cores)")
    if not path.is_file():
        raise InputError(folder, None, f"the reference table has no year-to-date panel; {extend}")
    check_archive(path, "panel", 4_000_000_000)
    try:
        with np.load(path) as data:
            panel = Panel(data["monthly"], data["yearly"], data["outcomes"],
                          [str(t) for t in data["targets"]])
            stats = tuple(str(s) for s in data["stats"])
            stamp, digest = str(data["stamp"]), str(data["targets_digest"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(path, None, f"unreadable panel ({type(exc).__name__}); {extend}") from None
    if stamp != stamp_digest(calib.stamp()) or panel.n != rows or stats != PANEL_STATS:
        raise InputError(path, None, f"the panel belongs to another reference table; {extend}")
    if digest != targets_digest():
        raise InputError(path, None, f"the panel holds the outcomes of other targets "
                         f"({TARGETS_FILE.name} changed); {extend}")
    return panel


def panel_time(folder: Path) -> float | None:
    path = folder / "panel_time.json"
    return float(read_json(path, "panel time")["seconds"]) if path.is_file() else None


__all__ = ["PANEL_STATS", "Panel", "build_panel", "load_panel", "panel_time"]
