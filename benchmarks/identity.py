"""Same numbers, bit for bit? The check behind every speed-up that must not move results.

    python -m benchmarks.identity save before.npz       # on the code before the change
    python -m benchmarks.identity compare before.npz    # on the code after it

Runs the baseline and plan_max (seeds 1-3, full 2022-2026) and keeps every monthly and yearly
statistic and the final firm arrays that carry the state (capacity, productivity, cash, debt,
appeal, shares, demand, volume, supplier links, R&D, digital level). ``compare`` names every
array that differs and exits 1 if any does. Statistics are compared to 1e-12 relative (a
sum over scope groups may be reassociated by BLAS); firm arrays must be equal.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from model.economy import YichunModel
from model.paths import PROJECT_ROOT
from model.scenario import load_scenario

SCENARIOS = ("baseline", "plan_max")
SEEDS = (1, 2, 3)
FIRM_STATE = ("capacity", "productivity", "cash", "debt", "appeal", "share", "demand", "volume",
              "supplier_of", "rd_intensity", "digital")


def snapshot() -> dict[str, np.ndarray]:
    out = {}
    for name in SCENARIOS:
        scenario = load_scenario(PROJECT_ROOT / "scenarios" / f"{name}.yaml")
        for seed in SEEDS:
            model = YichunModel(scenario, seed=seed).run()
            key = f"{name}-{seed}"
            out[f"{key}-monthly"] = model.recorder.monthly.copy()
            out[f"{key}-yearly"] = model.recorder.yearly.copy()
            for field in FIRM_STATE:
                out[f"{key}-{field}"] = getattr(model.f, field).copy()
            model.release()
    return out


def differences(before: dict[str, np.ndarray], after: dict[str, np.ndarray]) -> list[str]:
    bad = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        if a is None or b is None or a.shape != b.shape:
            bad.append(f"{key}: missing or reshaped")
        elif key.endswith(("monthly", "yearly")):
            if not np.allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True):
                bad.append(f"{key}: statistics differ")
        elif not np.array_equal(a, b, equal_nan=True):
            bad.append(f"{key}: {np.count_nonzero(a != b)} of {a.size} values differ")
    return bad


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("save", "compare"):
        print(__doc__)
        return 2
    path = Path(argv[1])
    if argv[0] == "save":
        np.savez(path, **snapshot())
        print(f"saved {path}")
        return 0
    with np.load(path) as stored:
        before = {k: stored[k] for k in stored.files}
    bad = differences(before, snapshot())
    print("\n".join(bad) if bad else f"identical to {path} ({len(before)} arrays)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
