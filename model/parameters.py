"""Behavioural parameters: the defaults file, its schema, and validated overrides.

``Parameters`` gives attribute access; a mapping keyed by segment becomes a numpy
array in ``SEGMENT_IDS`` order so the step can index it by each firm's segment.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from model.errors import InputError
from model.paths import DEFAULTS_FILE
from model.structure import SEGMENT_IDS
from model.yamlio import load_yaml_with_lines

Number = float | int


class Prior(BaseModel):
    """A prior for calibration; centre defaults to the parameter's value."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    dist: Literal["normal", "lognormal", "uniform", "beta"]
    mean: float | None = None
    sd: float | None = None
    median: float | None = None
    sigma: float | None = None
    low: float | None = None
    high: float | None = None
    a: float | None = None
    b: float | None = None
    sd_by_key: dict[str, float] = {}   # a normal prior's sd for entries that differ from `sd`

    @model_validator(mode="after")
    def _complete(self) -> Prior:
        need = {"normal": ("sd",), "lognormal": ("sigma",), "uniform": ("low", "high"),
                "beta": ("a", "b")}[self.dist]
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            raise ValueError(f"a {self.dist} prior needs {', '.join(missing)}")
        return self


class ParameterSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    value: Number | dict[str, Number]
    unit: str
    range: tuple[float, float]
    meaning: str
    basis: str
    prior: Prior | None = None

    def check(self, value: Any) -> str | None:
        """Return a problem with `value` (type, keys or range), or None."""
        lo, hi = self.range
        if isinstance(self.value, dict):
            if not isinstance(value, dict):
                return f"expected a mapping of {sorted(self.value)} to numbers"
            unknown = set(value) - set(self.value)
            if unknown:
                return f"unknown entries {sorted(unknown)}; expected some of {sorted(self.value)}"
            items = value.items()
        else:
            items = [("", value)]
        for key, v in items:
            if isinstance(v, bool) or not isinstance(v, int | float):
                return f"expected a number{' for ' + key if key else ''}, got {v!r}"
            if not lo <= v <= hi:
                label = f"{key}=" if key else ""
                return f"value {label}{v} outside its documented range [{lo}, {hi}]"
        return None


@lru_cache(maxsize=1)
def load_specs(path: Path = DEFAULTS_FILE) -> dict[str, ParameterSpec]:
    data, lines = load_yaml_with_lines(path)
    specs: dict[str, ParameterSpec] = {}
    for name, entry in (data.get("parameters") or {}).items():
        key = f"parameters.{name}"
        try:
            spec = ParameterSpec.model_validate(entry)
        except ValidationError as exc:
            err = exc.errors()[0]
            sub = ".".join(str(p) for p in err["loc"])
            raise InputError(path, f"{key}.{sub}", err["msg"], lines.get(key)) from None
        problem = spec.check(spec.value)
        if problem:
            raise InputError(path, key, problem, lines.get(key))
        specs[name] = spec
    return specs


class Parameters:
    """Resolved parameter values (defaults with overrides), read as attributes."""

    def __init__(self, overrides: dict[str, Any] | None = None, *, source: str | Path | None = None,
                 lines: dict[str, int] | None = None) -> None:
        specs = load_specs()
        values = {name: copy.deepcopy(spec.value) for name, spec in specs.items()}
        for name, value in (overrides or {}).items():
            key = f"parameters.{name}"
            line = (lines or {}).get(key)
            if name not in specs:
                raise InputError(source, key, "unknown parameter (see model/defaults.yaml)", line)
            problem = specs[name].check(value)
            if problem:
                raise InputError(source, key, problem, line)
            if isinstance(values[name], dict):
                values[name] = {**values[name], **value}
            else:
                values[name] = value
        self.values: dict[str, Any] = values
        self._arrays: dict[str, np.ndarray] = {}

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("values")
        if values is None or name not in values:
            raise AttributeError(name)
        value = values[name]
        if isinstance(value, dict) and set(value) <= set(SEGMENT_IDS) and len(value) >= 12:
            value = np.array([float(value.get(s, np.nan)) for s in SEGMENT_IDS])
        # values do not change once resolved: keep the attribute, so the next read of it (the
        # step reads parameters tens of thousands of times a run) is a plain attribute lookup
        self.__dict__[name] = value
        return value

    def override(self, name: str, value: Any) -> None:
        """Change one value mid-run (tests and what-if probes); reads after it see the new value."""
        if name not in self.values:
            raise AttributeError(name)
        self.values[name] = value
        self.__dict__.pop(name, None)
        self._arrays.clear()          # quantities derived from the old value

    def derived(self, key: str, compute: Any) -> np.ndarray:
        """A quantity computed from these values once and kept (values do not change in a run)."""
        cache_key = f"derived:{key}"
        if cache_key not in self._arrays:
            self._arrays[cache_key] = compute()
        return self._arrays[cache_key]

    def as_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self.values)


@lru_cache(maxsize=1)
def load_geography(path: Path = DEFAULTS_FILE) -> np.ndarray:
    """County weights by segment (rows) over COUNTIES (columns), each row summing to 1."""
    from model.structure import COUNTIES

    data, lines = load_yaml_with_lines(path)
    geo = data.get("geography") or {}
    weights = np.zeros((len(SEGMENT_IDS), len(COUNTIES)))
    for i, seg in enumerate(SEGMENT_IDS):
        row = geo.get(seg)
        if not isinstance(row, dict) or not row:
            raise InputError(path, f"geography.{seg}", "expected county weights for this segment")
        for county, w in row.items():
            if county not in COUNTIES:
                raise InputError(path, f"geography.{seg}.{county}",
                                 f"unknown county; expected one of {list(COUNTIES)}",
                                 lines.get(f"geography.{seg}.{county}"))
            weights[i, COUNTIES.index(county)] = float(w)
    return weights / weights.sum(axis=1, keepdims=True)
