"""Observations: published figures mapped to model statistics, with stated uncertainties.

An observation names a statistic, a scope, a period (full year, year to date, a month or a
span of months) and a kind (level, growth over the same period a year before, a ratio, a
one-sided lower bound, an interval, or same-firm growth: Chinese real value-added growth,
the ratio of this period's output at last year's prices to the same firms' value added a
year before). ``simulated`` reads the same quantity from a replication's monthly
and yearly arrays, so partial and mixed data are all usable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from model.errors import InputError
from model.facts import load_facts
from model.paths import PROJECT_ROOT
from model.runner import YEARLY_STATS, Replication
from model.scenario import N_MONTHS, month_index
from model.statistics import FLOWS, MONTHLY, YEARS
from model.structure import SCOPES
from model.yamlio import load_yaml_with_lines, plain_message

OBSERVATIONS_FILE = PROJECT_ROOT / "calibration" / "observations.yaml"
SD_FLOOR = 1e-6   # an sd (absolute or relative) below this would make one figure dominate the fit


class Period(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    year: int | None = None
    months: int | None = Field(None, ge=1, le=12)
    month: str | None = None
    start: str | None = Field(None, alias="from")
    end: str | None = Field(None, alias="to")

    @model_validator(mode="after")
    def _one_form(self) -> Period:
        forms = [self.year is not None and self.months is None, self.months is not None,
                 self.month is not None, self.start is not None or self.end is not None]
        if sum(forms) != 1 or (self.months is not None and self.year is None):
            raise ValueError("give {year}, {year, months}, {month} or {from, to}")
        if (self.start is None) != (self.end is None):
            raise ValueError("a span needs both from and to")
        return self

    def month_span(self) -> tuple[int, int] | None:
        """(first, last) month index for monthly periods; None for a full year."""
        if self.months is not None:
            first = month_index(f"{self.year}-01")
            return first, first + self.months - 1
        if self.month is not None:
            return month_index(self.month), month_index(self.month)
        if self.start is not None:
            return month_index(self.start), month_index(self.end)
        return None


class Observation(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
    fact: str
    statistic: str
    scope: str
    period: Period
    kind: Literal["level", "growth_pct", "ratio_pct", "lower_bound", "interval", "same_firm_growth_pct"]
    denominator: str | None = None
    denominator_scope: str | None = None  # a ratio's denominator read in another scope
    field: str | None = None    # read this field of the fact instead of its value (dotted: inside a mapping)
    upper: float | None = None  # an interval's upper end (its lower end is the fact's value)
    sd: float | None = None
    sd_relative: float | None = None
    include: bool = True
    reason: str
    misfit: str | None = None   # why the model misses it, where it does (printed in fit.md)
    value: float | None = None  # filled from the facts

    @model_validator(mode="after")
    def _consistent(self) -> Observation:
        if (self.sd is None) == (self.sd_relative is None):
            raise ValueError("give exactly one of sd and sd_relative")
        spread = self.sd if self.sd is not None else self.sd_relative
        if not np.isfinite(spread):
            raise ValueError(f"uncertainty must be a finite number, got {spread}")
        if (self.sd or 0) < 0 or (self.sd_relative or 0) < 0:
            raise ValueError("uncertainty cannot be negative")
        if spread < SD_FLOOR:
            raise ValueError(f"uncertainty must be at least {SD_FLOOR:g} (no published figure "
                             "is exact)")
        for scope in (self.scope, self.denominator_scope):
            if scope is not None and scope not in SCOPES:
                raise ValueError(f"unknown scope '{scope}'; expected one of {list(SCOPES)}")
        if self.denominator_scope is not None and self.kind != "ratio_pct":
            raise ValueError("only a ratio_pct takes a denominator_scope")
        span = self.period.month_span()
        names = MONTHLY if span is not None else YEARLY_STATS
        for stat in (self.statistic, self.denominator):
            if stat is not None and stat not in names:
                what = "monthly" if span is not None else "yearly"
                raise ValueError(f"unknown {what} statistic '{stat}'; expected one of {list(names)}")
        two = ("ratio_pct", "same_firm_growth_pct")
        if (self.kind in two) != (self.denominator is not None):
            raise ValueError("ratio_pct and same_firm_growth_pct need a denominator, and only they take one")
        if (self.kind == "interval") != (self.upper is not None):
            raise ValueError("an interval needs 'upper', and only an interval takes one")
        if span is None:
            first = YEARS[1] if self.kind == "growth_pct" else YEARS[0]
            if self.period.year not in YEARS[YEARS.index(first):]:
                raise ValueError(f"the model produces years {first}-{YEARS[-1]} for this kind, "
                                 f"not {self.period.year}")
        else:
            lo, hi = span
            earliest = 12 if self.kind == "growth_pct" else 0
            if lo < earliest or hi >= N_MONTHS or hi < lo:
                raise ValueError("the period lies outside the months the model produces "
                                 f"({'2023' if earliest else '2022'}-01 to 2026-12)")
        return self

    def end_month(self) -> int:
        """Index of the last month the observation covers (a full year ends in December)."""
        span = self.period.month_span()
        return span[1] if span is not None else month_index(f"{self.period.year}-12")

    @property
    def sd_absolute(self) -> float:
        return self.sd if self.sd is not None else abs(self.value) * self.sd_relative


class Unusable(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    fact: str
    reason: str


class ObservationsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    observations: list[Observation]
    unusable: list[Unusable] = []


def load_observations(path: Path = OBSERVATIONS_FILE, include: list[str] | None = None,
                      exclude: list[str] | None = None) -> ObservationsFile:
    """Read and check the observations; `include`/`exclude` override each one's default."""
    data, lines = load_yaml_with_lines(path)
    try:
        parsed = ObservationsFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = err["loc"]
        where = None
        if len(loc) > 1 and loc[0] == "observations":
            item = data["observations"][loc[1]]
            where = item.get("id") if isinstance(item, dict) else None
        key = f"observations[{where or loc[1]}]" if where or len(loc) > 1 else ".".join(map(str, loc))
        line = lines.get(f"{loc[0]}[{loc[1]}]") if len(loc) > 1 else None
        raise InputError(path, key, plain_message(err, ObservationsFile), line) from None
    facts = load_facts()
    known = {o.id for o in facts.observed}
    ids: set[str] = set()
    for obs in parsed.observations:
        if obs.id in ids:
            raise InputError(path, f"observations[{obs.id}].id", "duplicate id; ids must be unique")
        ids.add(obs.id)
    if not ids:
        raise InputError(path, "observations", "expected at least one observation")
    for name in (include or []) + (exclude or []):
        if name not in ids:
            raise InputError(path, name, f"no observation with this id; known: {sorted(ids)}")
    for obs in parsed.observations:
        if obs.fact not in known:
            raise InputError(path, f"observations[{obs.id}].fact", f"'{obs.fact}' is not in the facts")
        fact = facts.observation(obs.fact)
        raw = _field(fact, obs.field) if obs.field else fact.value
        if not isinstance(raw, int | float) or isinstance(raw, bool) or not np.isfinite(raw):
            raise InputError(path, f"observations[{obs.id}].field",
                             f"fact '{obs.fact}' has no number in '{obs.field or 'value'}'")
        obs.value = float(raw)
        if obs.upper is not None and obs.upper <= obs.value:
            raise InputError(path, f"observations[{obs.id}].upper",
                             f"must exceed the lower end {obs.value}")
        if include and obs.id in include:
            obs.include = True
        if exclude and obs.id in exclude:
            obs.include = False
    for item in parsed.unusable:
        if item.fact not in known:
            raise InputError(path, f"unusable.{item.fact}", "not in the facts")
    return parsed


def _field(fact: object, field: str) -> object:
    """A fact's field, dotted for one inside a mapping (``values.gdp_growth_2024``)."""
    value = fact
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
    return value


def _over(monthly: np.ndarray, span: tuple[int, int], scope: int, stat: str) -> float:
    k = MONTHLY.index(stat)
    values = monthly[span[0] : span[1] + 1, scope, k]
    return float(values.sum()) if stat in FLOWS else float(values.mean())


def simulated(obs: Observation, yearly: np.ndarray, monthly: np.ndarray) -> float:
    """The observation's quantity in one replication (yearly: years x scopes x stats)."""
    s = SCOPES.index(obs.scope)
    d = SCOPES.index(obs.denominator_scope or obs.scope)
    span = obs.period.month_span()
    if span is None:
        y = YEARS.index(obs.period.year)
        value = yearly[y, s, YEARLY_STATS.index(obs.statistic)]
        if obs.kind == "growth_pct":
            prev = yearly[y - 1, s, YEARLY_STATS.index(obs.statistic)]
            return float(100.0 * (value / prev - 1.0)) if prev > 0 else np.nan
        if obs.kind in ("ratio_pct", "same_firm_growth_pct"):
            den = yearly[y, d, YEARLY_STATS.index(obs.denominator)]
            offset = 100.0 if obs.kind == "same_firm_growth_pct" else 0.0
            return float(100.0 * value / den - offset) if den > 0 else np.nan
        return float(value)
    value = _over(monthly, span, s, obs.statistic)
    if obs.kind == "growth_pct":
        prev = _over(monthly, (span[0] - 12, span[1] - 12), s, obs.statistic)
        return 100.0 * (value / prev - 1.0) if prev > 0 else np.nan
    if obs.kind in ("ratio_pct", "same_firm_growth_pct"):
        den = _over(monthly, span, d, obs.denominator)
        offset = 100.0 if obs.kind == "same_firm_growth_pct" else 0.0
        return 100.0 * value / den - offset if den > 0 else np.nan
    return value


#: the standardised gap charged when a simulation leaves a statistic undefined (a share of a
#: growth that did not happen, a growth over a zero base): a bad fit, not an impossible one
UNDEFINED_GAP = 10.0


def standardised_gap(obs: Observation, x: float) -> float:
    """(simulated - observed) / sd; zero inside a bound or an interval."""
    sd = obs.sd_absolute
    if obs.kind == "lower_bound":
        return min((x - obs.value) / sd, 0.0)
    if obs.kind == "interval":
        if x < obs.value:
            return (x - obs.value) / sd
        return max((x - obs.upper) / sd, 0.0)
    return (x - obs.value) / sd


def standardised_gaps(observations: list[Observation], values: np.ndarray) -> np.ndarray:
    """standardised_gap over a table (rows x observations); an undefined value counts as
    UNDEFINED_GAP, a bad fit rather than an impossible one."""
    sd = np.array([o.sd_absolute for o in observations])
    low = np.array([o.value for o in observations])
    high = np.array([o.upper if o.kind == "interval" else
                     (np.inf if o.kind == "lower_bound" else o.value) for o in observations])
    below = np.minimum(values - low, 0.0)
    above = np.maximum(values - high, 0.0)
    gaps = (below + above) / sd
    return np.where(np.isfinite(values), gaps, UNDEFINED_GAP)


def simulate_all(observations: list[Observation], rep: Replication) -> dict[str, float]:
    return {o.id: simulated(o, rep.yearly, rep.monthly) for o in observations}
