"""Scenario files: schema, ``extends`` with deep merge, and errors that name file, line and key.

A scenario states levers (instruments, investment attraction, approval time, chain-leader
priority), uncertainties (lithium price path, demand shifts, dated shocks) and behavioural
parameter overrides. ``extends: other.yaml`` (relative to the file; a bare name such as
``baseline`` is the shipped scenario of that name) merges the parent first:
mappings merge key by key, anything else (numbers, lists) is replaced whole.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import hashlib
import json
import re
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from model.errors import InputError, ParameterConflict
from model.parameters import Parameters, load_specs
from model.paths import SCENARIO_DIR
from model.structure import CHAINS, SEGMENT_IDS, SEGMENTS
from model.yamlio import load_yaml_with_lines, validation_errors

START_YEAR = 2022
N_MONTHS = 60  # January 2022 to December 2026
_MONTH_RE = re.compile(r"([0-9]{4})-([0-9]{2})")   # ASCII digits only, matched in full
EARLIEST_YEAR, LATEST_YEAR = 2015, 2030             # dates outside are typos, not scenarios


@functools.lru_cache(maxsize=1024)
def month_index(text: str) -> int:
    """'2023-01' -> months since January 2022 (0). Cached: instruments ask every month."""
    m = _MONTH_RE.fullmatch(str(text))
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"expected a month as YYYY-MM, got {text!r}")
    if not EARLIEST_YEAR <= int(m.group(1)) <= LATEST_YEAR:
        raise ValueError(f"month {text} outside {EARLIEST_YEAR}-{LATEST_YEAR}")
    return (int(m.group(1)) - START_YEAR) * 12 + int(m.group(2)) - 1


MAX_BUDGET = 100.0      # 亿元 a year for one fund
MAX_PROJECTS = 5000.0   # signed projects a year


def per_year_values(v: float | dict[int, float], lo: float, hi: float, unit: str,
                    ) -> float | dict[int, float]:
    """A number, or a mapping year -> number for 2022-2026, each inside [lo, hi]."""
    items = v.items() if isinstance(v, dict) else [(None, v)]
    for year, x in items:
        if year is not None and not START_YEAR <= year <= START_YEAR + N_MONTHS // 12 - 1:
            raise ValueError(f"year {year} outside 2022-2026")
        if not lo <= x <= hi:
            raise ValueError(f"{x:g} outside [{lo:g}, {hi:g}] {unit}")
    return v


class Strict(BaseModel):
    """Unknown keys are errors, and so are NaN and infinities: every number must mean something.
    A boolean where a number is expected is an error too (pydantic would read ``true`` as 1)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_as_numbers(cls, v: Any, info: ValidationInfo) -> Any:
        if _takes_bool(cls.model_fields[info.field_name].annotation):
            return v
        values = v.values() if isinstance(v, dict) else [v]
        if any(isinstance(x, bool) for x in values):
            raise ValueError("expected a number, got true/false")
        return v


def _takes_bool(annotation: Any) -> bool:
    """Whether a field may hold a boolean (bool itself, Any, or a union or container of them)."""
    if annotation is bool or annotation is Any:
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True              # a nested model checks its own fields
    return any(_takes_bool(arg) for arg in typing.get_args(annotation))


Month = str


_DAY_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def _check_month(v: Any) -> str:
    """A month as YYYY-MM; a full date (YYYY-MM-DD, as price points are written) is accepted
    and normalised to its month."""
    if isinstance(v, dt.date):
        v = f"{v.year:04d}-{v.month:02d}"
    text = str(v)
    if _DAY_RE.fullmatch(text):
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text} is not a calendar date") from None
        text = text[:7]
    month_index(text)
    return text


def _check_day(v: Any) -> Any:
    """A date as YYYY-MM-DD; a month (YYYY-MM, as windows are written) means its first day."""
    if isinstance(v, str) and _MONTH_RE.fullmatch(v):
        return f"{v}-01"
    if isinstance(v, str) and not _DAY_RE.fullmatch(v):
        raise ValueError(f"expected a date as YYYY-MM-DD (or YYYY-MM), got {v!r}")
    return v


class Window(Strict):
    start: Month = "2022-01"
    end: Month = "2026-12"

    _v_start = field_validator("start", "end", mode="before")(classmethod(lambda cls, v: _check_month(v)))

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        first, last = month_index(self.start), month_index(self.end)
        if first > last:
            raise ValueError(f"the window ends ({self.end}) before it starts ({self.start})")
        if last < 0 or first >= N_MONTHS:
            raise ValueError(f"the window {self.start}..{self.end} lies wholly outside the "
                             "simulation (2022-01 to 2026-12)")
        return self

    def months(self) -> tuple[int, int]:
        return month_index(self.start), month_index(self.end)


class FundInstrument(Window):
    """A fund that co-finances upgrade or digital projects, ranked and paid within budget."""

    enabled: bool = True
    program: Literal["upgrade", "digital"]
    budget_per_year: float | dict[int, float] = Field(description="亿元 a year")
    subsidy_rate: float = Field(ge=0, le=1)
    per_project_cap: float = Field(gt=0, le=10, description="亿元")
    eligibility: Literal["above_scale", "sme", "etdz", "all"] = "above_scale"

    @field_validator("budget_per_year")
    @classmethod
    def _nonnegative(cls, v: float | dict[int, float]) -> float | dict[int, float]:
        return per_year_values(v, 0.0, MAX_BUDGET, "亿元 a year (the city's whole industrial "
                               f"budget is far below {MAX_BUDGET:g})")

    def budget(self, year: int) -> float:
        if isinstance(self.budget_per_year, dict):
            return float(self.budget_per_year.get(year, 0.0))
        return float(self.budget_per_year)


class ChainLeaderAward(Window):
    enabled: bool = True
    city_award: float = Field(0.001, ge=0, le=1)
    provincial_award: float = Field(0.004, ge=0, le=1)
    provincial_min_revenue: float = Field(100.0, gt=0, le=10000)
    budget_per_year: float = Field(0.1, ge=0, le=MAX_BUDGET)


class MilestoneAward(Window):
    enabled: bool = True
    award_100yi: float = Field(0.005, ge=0, le=1)
    award_50yi: float = Field(0.002, ge=0, le=1)
    budget_per_year: float = Field(0.1, ge=0, le=MAX_BUDGET)


class GazelleAward(Window):
    enabled: bool = True
    gazelle: float = Field(0.003, ge=0, le=1)
    potential_gazelle: float = Field(0.002, ge=0, le=1)
    budget_per_year: float = Field(0.2, ge=0, le=MAX_BUDGET)


class RdSuperDeduction(Strict):
    extra_deduction_rate: float = Field(1.0, ge=0, le=3)


class Instruments(Strict):
    tech_upgrade_fund: FundInstrument
    digital_transformation_fund: FundInstrument
    etdz_digital_fund: FundInstrument
    sme_fund: FundInstrument
    chain_leader_award: ChainLeaderAward = ChainLeaderAward()
    scale_milestone_award: MilestoneAward = MilestoneAward()
    gazelle_award: GazelleAward = GazelleAward()
    rd_super_deduction: RdSuperDeduction = RdSuperDeduction()

    def funds(self) -> dict[str, FundInstrument]:
        return {name: getattr(self, name) for name in
                ("tech_upgrade_fund", "digital_transformation_fund", "etdz_digital_fund", "sme_fund")}


class Attraction(Strict):
    """Investment attraction: how many projects are signed, where, how large, how built."""

    projects_per_year: float | dict[int, float] = Field(description="signed projects a year")
    chain_weights: dict[str, float]
    lithium_segment_weights: dict[str, float]
    realisation_rate: float | None = Field(None, ge=0, le=1, description="overrides the parameter")
    construction_lag_months: float | None = Field(None, gt=0, le=60,
                                                  description="overrides the parameter")
    size_multiplier: float = Field(1.0, gt=0, le=10, description="scales every signed amount")
    large_projects_per_year: float = Field(0.0, ge=0, le=50,
                                           description="extra projects of 50 亿 or more a year")
    large_project_tail: float = Field(2.0, gt=1, le=10,
                                      description="Pareto index of large projects' amounts")

    @field_validator("chain_weights")
    @classmethod
    def _chains(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = set(v) - set(CHAINS) - {"other"}
        if unknown:
            raise ValueError(f"unknown chains {sorted(unknown)}; expected {list(CHAINS)} or other")
        if any(not 0 <= w <= 1000 for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError("weights must lie in [0, 1000] and not all be zero")
        return v

    @field_validator("lithium_segment_weights")
    @classmethod
    def _segments(cls, v: dict[str, float]) -> dict[str, float]:
        allowed = {s for s in SEGMENT_IDS if s.startswith("li_")}
        unknown = set(v) - allowed
        if unknown:
            raise ValueError(f"unknown segments {sorted(unknown)}; expected {sorted(allowed)}")
        if any(not 0 <= w <= 1000 for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError("weights must lie in [0, 1000] and not all be zero")
        return v

    @field_validator("projects_per_year")
    @classmethod
    def _projects(cls, v: float | dict[int, float]) -> float | dict[int, float]:
        return per_year_values(v, 0.0, MAX_PROJECTS, "signed projects a year (338 in 2022)")

    def per_year(self, year: int) -> float:
        if isinstance(self.projects_per_year, dict):
            return float(self.projects_per_year.get(year, 0.0))
        return float(self.projects_per_year)


class Approval(Strict):
    days_before: float = Field(80, gt=0, le=1000)
    days_after: float = Field(25, gt=0, le=1000)
    reform_start: Month = "2023-01"
    _v = field_validator("reform_start")(classmethod(lambda cls, v: _check_month(v)))


class LeaderPolicy(Strict):
    recognition_start: Month = "2023-01"
    max_per_chain: int = Field(5, ge=0, le=50)
    land_energy_priority: bool = True
    expansion_lag_cut: float = Field(0.3, ge=0, le=0.9)
    _v = field_validator("recognition_start")(classmethod(lambda cls, v: _check_month(v)))


class Policy(Strict):
    instruments: Instruments
    attraction: Attraction
    approval: Approval = Approval()
    chain_leaders: LeaderPolicy = LeaderPolicy()


class PricePointIn(Strict):
    date: dt.date = Field(ge=dt.date(2015, 1, 1), le=dt.date(2030, 12, 31))
    value: float = Field(gt=0, le=5_000_000, description="元/吨 (the 2022 peak was about 580,000)")
    note: str | None = None

    _v_date = field_validator("date", mode="before")(classmethod(lambda cls, v: _check_day(v)))


class LithiumPricePath(Strict):
    """Carbonate price, 元/吨: the facts' dated points, then the scenario's assumption."""

    use_facts: bool = True
    points: list[PricePointIn] = []
    monthly_volatility: float = Field(0.0, ge=0, le=1, description="log-sd a month after the data")
    volatility_after: dt.date = dt.date(2025, 10, 27)

    _v_after = field_validator("volatility_after", mode="before")(classmethod(lambda cls, v: _check_day(v)))

    @field_validator("points")
    @classmethod
    def _ordered(cls, v: list[PricePointIn]) -> list[PricePointIn]:
        if [p.date for p in v] != sorted(p.date for p in v):
            raise ValueError("price points must be in date order")
        return v

    @model_validator(mode="after")
    def _usable(self) -> LithiumPricePath:
        if not self.use_facts and len({p.date for p in self.points}) < 2:
            raise ValueError("without the facts' prices (use_facts: false) the path needs at least "
                             "two dated points")
        return self


class Shock(Window):
    segments: list[str] = Field(min_length=1)
    capacity_factor: float = Field(1.0, ge=0, le=2)
    demand_factor: float = Field(1.0, ge=0, le=5)
    note: str | None = None

    @field_validator("segments")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        unknown = set(v) - set(SEGMENT_IDS)
        if unknown:
            raise ValueError(f"unknown segments {sorted(unknown)}; expected {list(SEGMENT_IDS)}")
        return v


class DemandShift(Window):
    """Added to real demand growth (per year) inside the window, by segment or by chain
    (a chain id shifts all the segments whose primary chain it is)."""

    segments: dict[str, float] = Field(min_length=1)

    @field_validator("segments")
    @classmethod
    def _known(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = set(v) - set(SEGMENT_IDS) - set(CHAINS)
        if unknown:
            raise ValueError(f"unknown segments or chains {sorted(unknown)}; expected "
                             f"{list(SEGMENT_IDS)} or {list(CHAINS)}")
        for key, value in v.items():
            if not -1.0 <= value <= 2.0:
                raise ValueError(f"shift {key}={value} outside [-1, 2] (growth per year)")
        return v

    def by_segment(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for key, value in self.segments.items():
            targets = [s.id for s in SEGMENTS if s.chain == key] if key in CHAINS else [key]
            for seg in targets:
                out[seg] = out.get(seg, 0.0) + value
        return out


class Exogenous(Strict):
    lithium_price: LithiumPricePath = LithiumPricePath()
    demand_shifts: list[DemandShift] = []
    shocks: list[Shock] = []

    @model_validator(mode="after")
    def _bounded_shifts(self) -> Exogenous:
        """However the shifts overlap, no segment's demand growth may be shifted below -100%
        or above +200% a year (a chain and its segments, or two windows, add up)."""
        total: dict[str, float] = {}
        for shift in self.demand_shifts:
            for seg, value in shift.by_segment().items():
                total[seg] = total.get(seg, 0.0) + value
        for seg, value in total.items():
            if not -1.0 <= value <= 2.0:
                raise ValueError(f"demand shifts of {seg} add up to {value:+.2f} a year, outside "
                                 "[-1, 2]")
        return self


class Run(Strict):
    seed: int = Field(20230101, ge=0, le=2**32 - 1)
    replications: int = Field(1, ge=1, le=100000)
    population_scale: float = Field(1.0, ge=0.01, le=200,
                                    description="below 0.01 a segment has too few firms to build")


class Scenario(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
                      description="letters, digits, _ . - (it names the run folder)")
    question: str = ""
    question_zh: str = Field("", description="the question in Chinese, for the summary and report")
    run: Run = Run()
    policy: Policy
    exogenous: Exogenous = Exogenous()
    parameters: dict[str, Any] = {}
    calibration: str | None = Field(
        None, description="posterior (a name under calibration/posterior/ or a folder) whose "
        "parameter draws the replications use; None or 'none' for the defaults alone")

    @model_validator(mode="after")
    def _windows(self) -> Scenario:
        for name, inst in self.policy.instruments.funds().items():
            if month_index(inst.end) < month_index(inst.start):
                raise ValueError(f"instrument {name}: end before start")
        return self


class ResolvedScenario:
    """A validated scenario with its source files, merged data and parameters."""

    def __init__(self, spec: Scenario, data: dict[str, Any], files: list[Path],
                 parameters: Parameters) -> None:
        self.spec = spec
        self.data = data
        self.files = files
        self.parameters = parameters

    @property
    def name(self) -> str:
        return self.spec.name

    def digest(self) -> str:
        """A hash of what the numbers depend on (the question's wording is left out)."""
        data = {k: v for k, v in self.data.items() if k not in ("question", "question_zh")}
        blob = json.dumps({"scenario": data, "parameters": self.parameters.values},
                          sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def updated(self, changes: dict[str, Any]) -> ResolvedScenario:
        """The scenario with `changes` deep-merged in (as an ``extends`` child would) and
        validated again; raises InputError naming the key."""
        data = deep_merge(self.data, changes)
        try:
            spec = Scenario.model_validate(data)
        except ValidationError as exc:
            raise validation_errors(exc, Scenario, lambda loc: ("<changes>", None)) from None
        params = Parameters(deep_merge(self.parameters.values, changes.get("parameters", {})))
        return ResolvedScenario(spec, data, self.files, params)

    def replaced(self, data: dict[str, Any]) -> ResolvedScenario:
        """Another scenario's data, validated, with this one's parameters (the policy
        coalitions of an attribution: parts of two scenarios that share their parameters)."""
        try:
            spec = Scenario.model_validate(data)
        except ValidationError as exc:
            raise validation_errors(exc, Scenario, lambda loc: ("<coalition>", None)) from None
        return ResolvedScenario(spec, data, self.files, self.parameters)

    def with_parameters(self, overrides: dict[str, Any]) -> ResolvedScenario:
        """Same scenario with parameter values replaced, e.g. by a posterior draw.

        The scenario's own ``parameters:`` still win over the draw: a scenario that states a
        value means it. Values are clipped to their documented ranges (priors may reach past).
        """
        specs = load_specs()
        clipped = {}
        for name, value in overrides.items():
            lo, hi = specs[name].range
            clipped[name] = ({k: min(max(v, lo), hi) for k, v in value.items()}
                             if isinstance(value, dict) else min(max(value, lo), hi))
        merged = deep_merge(deep_merge(self.parameters.values, clipped), self.spec.parameters)
        return ResolvedScenario(self.spec, self.data, self.files, Parameters(merged))


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; every other value in `override` replaces the base's."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


Origins = dict[str, tuple[Path, int]]  # dotted key -> (file, line) where it was last set
MAX_EXTENDS = 20  # files in one extends chain (the shipped ones use two)


def _read_chain(path: Path, seen: tuple[Path, ...]) -> tuple[dict[str, Any], Origins, list[Path]]:
    path = path.resolve()
    if path in seen:
        cycle = " -> ".join(p.name for p in (*seen, path))
        raise InputError(path, "extends", f"cycle of extends: {cycle}")
    if len(seen) >= MAX_EXTENDS:
        raise InputError(path, "extends", f"a chain of more than {MAX_EXTENDS} extends files: "
                         "merge some of them")
    data, lines = load_yaml_with_lines(path)
    if not isinstance(data, dict):
        raise InputError(path, None, "expected a mapping at the top of a scenario file")
    origin = {key: (path, line) for key, line in lines.items()}
    parent = data.pop("extends", None)
    if parent is None:
        return data, origin, [path]
    if not isinstance(parent, str):
        raise InputError(path, "extends", "expected a file name", lines.get("extends"))
    parent_path = path.parent / parent
    if not parent_path.is_file() and (SCENARIO_DIR / f"{parent}.yaml").is_file():
        parent_path = SCENARIO_DIR / f"{parent}.yaml"   # a shipped scenario by name
    if not parent_path.is_file():
        raise InputError(path, "extends", f"parent file not found: {parent}", lines.get("extends"))
    base, base_origin, files = _read_chain(parent_path, (*seen, path))
    if "question" in data and "question_zh" not in data:
        base = {k: v for k, v in base.items() if k != "question_zh"}  # a new question: no stale 中文
    return deep_merge(base, data), {**base_origin, **origin}, [*files, path]


def _locate(origin: Origins, loc: tuple[Any, ...], fallback: Path) -> tuple[Path, int | None, str]:
    parts = [str(p) for p in loc]
    key = ".".join(parts)
    for n in range(len(parts), 0, -1):
        probe = ".".join(parts[:n])
        if probe in origin:
            file, line = origin[probe]
            return file, line, key
    return fallback, None, key


def scenario_json_schema() -> dict[str, Any]:
    """The scenario format as JSON Schema, for editors (scenarios/scenario.schema.json)."""
    schema = Scenario.model_json_schema()
    schema["title"] = "yichun-abm scenario"
    schema["properties"]["extends"] = {
        "type": "string", "description": "a parent scenario file (relative) or a shipped name"}
    return schema


def scenario_names() -> list[str]:
    """The shipped scenarios, by name (``baseline``, ``plan_max``, ...)."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def scenario_path(name_or_path: str | Path) -> Path:
    """A scenario file: the path itself, or the shipped scenario of that name."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = SCENARIO_DIR / f"{name_or_path}.yaml"
    if path.suffix == "" and shipped.is_file():
        return shipped
    close = difflib.get_close_matches(path.stem, scenario_names(), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise InputError(path, None, f"scenario file not found (shipped scenarios: "
                                 f"{', '.join(scenario_names())}){hint}")


def dotted(changes: dict[str, Any]) -> dict[str, Any]:
    """{"policy.attraction.projects_per_year": 450} as the nested mapping a scenario file has."""
    nested: dict[str, Any] = {}
    for key, value in changes.items():
        *parents, leaf = key.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def load_scenario(path: str | Path) -> ResolvedScenario:
    """Read, merge (``extends``) and validate a scenario (a file, or a shipped scenario's name);
    raise InputError naming file, line, key."""
    path = scenario_path(path)
    data, origin, files = _read_chain(path, ())
    try:
        spec = Scenario.model_validate(data)
    except ValidationError as exc:
        raise validation_errors(exc, Scenario, lambda loc: _locate(origin, loc, path)[:2]) from None
    param_file, _, _ = _locate(origin, ("parameters",), path)
    param_lines = {k: line for k, (f, line) in origin.items() if k.startswith("parameters.")}
    parameters = Parameters(spec.parameters, source=param_file, lines=param_lines)
    from model.population import check_coherence  # the population module needs the schema

    try:
        check_coherence(parameters)
    except ParameterConflict as exc:
        raise ParameterConflict(param_file, exc.key, exc.message,
                                param_lines.get(exc.key or "")) from None
    return ResolvedScenario(spec, data, files, parameters)
