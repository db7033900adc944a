"""The explored space (scenarios/explore/space.yaml): levers and uncertainties, each one scenario key
with an explored range inside a documented limit."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from model.errors import InputError
from model.paths import PROJECT_ROOT
from model.scenario import ResolvedScenario
from model.yamlio import load_yaml_with_lines, validated

SPACE_FILE = PROJECT_ROOT / "scenarios" / "explore" / "space.yaml"
PLAN_YEARS = 4  # 2023-2026


class Dimension(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    name: str
    key: str
    range: tuple[float, float]
    limit: tuple[float, float]
    unit: str
    basis: str
    public_money: Literal["per_year", "none"] = "none"
    default: float | None = None   # the value when the scenario does not set the key
    better: Literal["up", "down"] | None = None   # a lever's economically better direction

    @model_validator(mode="after")
    def _inside(self) -> Dimension:
        lo, hi = self.range
        if not lo < hi:
            raise ValueError(f"range {list(self.range)} must rise")
        if lo < self.limit[0] or hi > self.limit[1]:
            raise ValueError(f"range {list(self.range)} leaves the documented limit {list(self.limit)}")
        return self


class Space(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    levers: list[Dimension]
    uncertainties: list[Dimension] = []

    @property
    def dimensions(self) -> list[Dimension]:
        return [*self.levers, *self.uncertainties]

    def dimension(self, name: str, source: Path = SPACE_FILE) -> Dimension:
        for d in self.dimensions:
            if d.name == name:
                return d
        raise InputError(source, name, f"no such lever or uncertainty; known: "
                         f"{[d.name for d in self.dimensions]}")


def load_space(path: Path = SPACE_FILE) -> Space:
    data, lines = load_yaml_with_lines(path)
    space = validated(Space, data, path, lines)
    names = [d.name for d in space.dimensions]
    if len(set(names)) != len(names):
        raise InputError(path, "levers", "a name is used twice")
    return space


def set_path(data: dict[str, Any], key: str, value: Any) -> None:
    """Set a dotted key ('a.b.0.c'); every step but the last must exist (lists by number)."""
    parts = key.split(".")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            node = node[int(part)]
        else:
            if part not in node:
                if parts[0] == "parameters" or i == len(parts) - 2:
                    node[part] = {}
                else:
                    raise KeyError(".".join(parts[: i + 1]))
            node = node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def apply(scenario: ResolvedScenario, space: Space,
          values: dict[str, float | dict[int, float]]) -> ResolvedScenario:
    """The scenario with each dimension's value set (a lever absent from `values` keeps the
    scenario's); a value may be a path by year ({2023: 400, 2024: 450}) where the scenario's
    key takes one."""
    data = copy.deepcopy(scenario.data)
    for name, value in values.items():
        dim = space.dimension(name)
        try:
            number = ({int(y): float(v) for y, v in value.items()} if isinstance(value, dict)
                      else float(value))
            set_path(data, dim.key, number)
        except (KeyError, IndexError, ValueError, TypeError):
            raise InputError(SPACE_FILE, f"{name}.key", f"'{dim.key}' is not a key of scenario "
                             f"{scenario.name}") from None
    changes = {k: v for k, v in data.items() if k != "extends"}
    return scenario.updated(changes)


def public_money(space: Space, values: dict[str, float]) -> float:
    """Budgeted public money over 2023-2026 of a lever package, 亿元."""
    return sum(PLAN_YEARS * values[d.name] for d in space.levers
               if d.public_money == "per_year" and d.name in values)
