"""Fuzzing the inputs: mutated copies of the shipped scenario and of the observations file.

Each case is a mutation of a real file — a wrong type, a non-finite or out-of-range number, an
unknown or duplicated key, a bad date or a window that ends before it starts, an alias bomb,
deep nesting, garbage bytes — checked through the command line (`validate`) or the loader. A
case must end in one of two ways: refused with exit 2, every stderr line an `error:` line
naming the file, no traceback and nothing written; or accepted, and then the scenario runs
(whatever `validate` accepts, `run` runs) with finite results. The default run tries a fast
subset; `pytest -m slow` tries 1,200 scenario and 300 observation cases.
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from model.calibration.observations import OBSERVATIONS_FILE, load_observations
from model.cli import main
from model.errors import InputError
from model.paths import SCENARIO_DIR

BASELINE_TEXT = (SCENARIO_DIR / "baseline.yaml").read_text(encoding="utf-8")
OBSERVATIONS_TEXT = OBSERVATIONS_FILE.read_text(encoding="utf-8")
BAD_VALUES = ["abc", [], {}, True, None, float("nan"), float("inf"), -float("inf"), -5, 1e12,
              "2026-13-01", "", [1, 2], {"x": 1}, 0]


def leaves(node: Any, path: tuple = ()) -> list[tuple]:
    """Paths of every scalar in a YAML document."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in leaves(v, (*path, k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in leaves(v, (*path, i))]
    return [path]


def mappings(node: Any, path: tuple = ()) -> list[tuple]:
    out = [path] if isinstance(node, dict) else []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for k, v in children:
        out += mappings(v, (*path, k))
    return out


def set_at(data: Any, path: tuple, value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def scenario_case(rng: np.random.Generator, base: dict) -> tuple[str, str]:
    """(kind, text) of one mutated scenario."""
    data = copy.deepcopy(base)
    kind = str(rng.choice(["value", "value", "value", "unknown_key", "duplicate_key", "window",
                       "alias_bomb", "deep", "garbage", "price_point"]))
    if kind == "value":
        paths = leaves(data)
        set_at(data, paths[rng.integers(len(paths))], BAD_VALUES[rng.integers(len(BAD_VALUES))])
    elif kind == "unknown_key":
        places = mappings(data)
        node = data
        for part in places[rng.integers(len(places))]:
            node = node[part]
        node[f"unknwon_{rng.integers(1000)}"] = 1
    elif kind == "duplicate_key":
        lines = dump(data).splitlines()
        top = [i for i, line in enumerate(lines) if line and not line.startswith((" ", "-", "#"))]
        i = top[rng.integers(len(top))]
        return kind, "\n".join([*lines, lines[i] if ":" in lines[i] else "name: again"]) + "\n"
    elif kind == "window":
        data.setdefault("exogenous", {}).setdefault("shocks", []).append(
            {"start": "2025-06", "end": "2024-01", "segments": ["li_upstream"]})
    elif kind == "price_point":
        value = [float("inf"), float("nan"), -1.0, 1e15, "cheap"][rng.integers(5)]
        date = ["2026-02-30", "1990-01-01", "2026-06", "soon"][rng.integers(4)]
        data["exogenous"]["lithium_price"]["points"] = [{"date": date, "value": value}]
    elif kind == "alias_bomb":
        lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
        lines += [f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]"
                  for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
        return kind, "extends: baseline\n" + "\n".join(lines) + "\n"
    elif kind == "deep":
        depth = int(rng.integers(60, 3000))
        return kind, "extends: baseline\nname: deep\nparameters: " + "[" * depth + "]" * depth + "\n"
    elif kind == "garbage":
        raw = bytes(rng.integers(0, 256, int(rng.integers(1, 200)), dtype=np.uint8))
        return kind, raw.decode("latin-1")
    return kind, dump(data)


def check_cli_case(tmp_path: Path, text: str, capsys) -> str:
    """Validate one case through the command line; return 'refused' or 'accepted'."""
    folder = tmp_path / "case"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    path = folder / "case.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err + out
    assert sorted(p.name for p in folder.iterdir()) == ["case.yaml"]     # nothing written
    if code == 2:
        lines = err.strip().splitlines()
        assert lines and all(line.startswith("error: ") for line in lines), err
        assert all(str(path) in line or "case.yaml" in line or "baseline" in line
                   for line in lines), err
        return "refused"
    assert code == 0, (code, err)
    return "accepted"


def runs_cleanly(text: str, tmp_path: Path) -> None:
    """What validate accepts, run runs: a small model for a year, finite statistics."""
    from model.economy import YichunModel
    from model.scenario import load_scenario

    path = tmp_path / "accepted.yaml"
    path.write_text(text, encoding="utf-8")
    scenario = load_scenario(path).updated({"run": {"population_scale": 0.03}})
    model = YichunModel(scenario, seed=1).run(12)
    assert np.isfinite(model.recorder.yearly[:2]).all()
    model.release()


def fuzz_scenarios(cases: int, tmp_path: Path, capsys, seed: int = 0) -> Counter:
    rng = np.random.default_rng(seed)
    base = yaml.safe_load(BASELINE_TEXT)
    tally: Counter = Counter()
    for _ in range(cases):
        kind, text = scenario_case(rng, base)
        outcome = check_cli_case(tmp_path, text, capsys)
        if outcome == "accepted":
            runs_cleanly(text, tmp_path)
        tally[(kind, outcome)] += 1
    return tally


def observation_case(rng: np.random.Generator, base: dict) -> str:
    data = copy.deepcopy(base)
    paths = leaves(data)
    for _ in range(int(rng.integers(1, 3))):
        set_at(data, paths[rng.integers(len(paths))], BAD_VALUES[rng.integers(len(BAD_VALUES))])
    return dump(data)


def fuzz_observations(cases: int, tmp_path: Path, seed: int = 1) -> Counter:
    rng = np.random.default_rng(seed)
    base = yaml.safe_load(OBSERVATIONS_TEXT)
    tally: Counter = Counter()
    for i in range(cases):
        path = tmp_path / f"obs_{i}.yaml"
        path.write_text(observation_case(rng, base), encoding="utf-8")
        try:
            observations = load_observations(path).observations
        except InputError as exc:
            assert "\n" not in exc.one_line() or all(
                line.startswith(str(path)) for line in exc.one_line().splitlines())
            assert str(path) in exc.one_line()
            tally["refused"] += 1
            continue
        assert all(math.isfinite(o.sd_absolute) and o.sd_absolute > 0 for o in observations)
        assert all(math.isfinite(o.value) for o in observations)
        tally["accepted"] += 1
    return tally


def test_fuzz_scenarios_fast_subset(tmp_path, capsys):
    tally = fuzz_scenarios(60, tmp_path, capsys)
    assert sum(tally.values()) == 60
    assert sum(n for (_, outcome), n in tally.items() if outcome == "refused") >= 40


def test_fuzz_observations_fast_subset(tmp_path):
    tally = fuzz_observations(30, tmp_path)
    assert tally["refused"] >= 20


@pytest.mark.slow
def test_fuzz_scenarios_thousand_cases(tmp_path, capsys):
    tally = fuzz_scenarios(1200, tmp_path, capsys, seed=7)
    with capsys.disabled():
        print("\nscenario fuzz:", dict(sorted(tally.items())))
    assert sum(tally.values()) == 1200


@pytest.mark.slow
def test_fuzz_observations_many_cases(tmp_path, capsys):
    tally = fuzz_observations(300, tmp_path, seed=8)
    with capsys.disabled():
        print("\nobservation fuzz:", dict(tally))
    assert sum(tally.values()) == 300


@pytest.mark.parametrize("kind", ["alias_bomb", "deep"])
def test_bombs_fail_fast_with_one_line(tmp_path, capsys, kind):
    import time

    rng = np.random.default_rng(3)
    while True:
        got, text = scenario_case(rng, yaml.safe_load(BASELINE_TEXT))
        if got == kind:
            break
    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    start = time.perf_counter()
    assert main(["validate", str(path)]) == 2
    assert time.perf_counter() - start < 1.0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {path}:")
