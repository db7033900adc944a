"""How long a nowcast takes on the committed posterior: ``python -m benchmarks.nowcast_bench``.

Two measures: the whole command in a fresh process (imports, the table and its panel read
from disk, the update, the report) on the template's one figure, and the update alone
(``nowcast``) once the table and panel are in memory, the median of five. The panel must
exist (``yichun-abm calibrate calibration/default.yaml --panel``)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from model.paths import PROJECT_ROOT

TEMPLATE = PROJECT_ROOT / "calibration" / "figures" / "template_2026.yaml"


def bench_nowcast(repeats: int = 5) -> dict[str, float]:
    from model.calibration.abc import load_config, load_table
    from model.calibration.nowcast import load_figures, nowcast
    from model.calibration.panel import load_panel

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "model.cli", "nowcast", str(TEMPLATE), "--out",
                        str(Path(tmp) / "out")], check=True, capture_output=True)
        command = time.perf_counter() - start
    calib = load_config(PROJECT_ROOT / "calibration" / "default.yaml")
    folder = PROJECT_ROOT / "calibration" / "posterior" / "default"
    start = time.perf_counter()
    table = load_table(calib, folder)
    panel = load_panel(calib, folder, table.n)
    loading = time.perf_counter() - start
    figures = load_figures(TEMPLATE, calib)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        nowcast(calib, table, panel, figures)
        times.append(time.perf_counter() - start)
    return {"command_seconds": command, "load_seconds": loading,
            "update_seconds": statistics.median(times), "rows": float(table.n)}


def main() -> None:
    result = bench_nowcast()
    print(f"nowcast of one figure on the committed posterior ({result['rows']:.0f} rows): "
          f"{result['command_seconds']:.1f} s for the whole command in a fresh process, "
          f"{result['load_seconds']:.1f} s to read the table and panel, "
          f"{result['update_seconds']:.2f} s for the update (median of 5)")


if __name__ == "__main__":
    main()
