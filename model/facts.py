"""The published facts (a copy of shared/data/yichun_facts.yaml), loaded through a schema.

Everything numeric the model takes from publications is read here, so each figure
traces to an entry with its source and quote.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from model import paths
from model.structure import CHAINS
from model.yamlio import load_yaml_with_lines, validated


class Event(BaseModel):
    """One dated event of a list of events (supply halts and the like), with its own source."""

    model_config = ConfigDict(extra="allow")
    date: str
    what: str
    source: str


class Observation(BaseModel):
    """A published figure. ``year`` may be missing where the entry spans years (dated events,
    a context block); ``source`` where each of its ``events`` names its own."""

    model_config = ConfigDict(extra="allow")
    id: str
    year: int | None = None
    scope: str
    metric: str
    value: float | None = None
    source: str | None = None
    events: list[Event] | None = None
    period: str | None = None
    unit: str | None = None
    qualifier: str | None = None
    quote: str | None = None

    @model_validator(mode="after")
    def _sourced(self) -> Observation:
        if self.source is None and not self.events:
            raise ValueError("a figure needs a source (or events that each name one)")
        return self


class PricePoint(BaseModel):
    model_config = ConfigDict(extra="allow")
    date: dt.date
    value: float = Field(gt=0)
    note: str | None = None
    qualifier: str | None = None


class LithiumPrice(BaseModel):
    annual_average: dict[int, float]
    points: list[PricePoint]

    @field_validator("points")
    @classmethod
    def _sorted(cls, points: list[PricePoint]) -> list[PricePoint]:
        dates = [p.date for p in points]
        if dates != sorted(dates):
            raise ValueError("price points must be in date order")
        return points


class Instrument(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    name: str
    unit: str
    source: str


class NationalFigure(BaseModel):
    """One national figure: a positive value, with its growth where published."""

    model_config = ConfigDict(extra="allow")
    value: float = Field(gt=0, allow_inf_nan=False)
    growth_pct: float | None = Field(default=None, gt=-100, lt=1000, allow_inf_nan=False)
    qualifier: str | None = None
    note: str | None = None
    quote: str | None = None


class NationalContext(BaseModel):
    """China-wide series that drive the demand met by Yichun's lithium firms (exogenous)."""

    model_config = ConfigDict(extra="allow")
    lithium_battery_output_gwh: dict[int | str, NationalFigure]
    lithium_battery_materials_2022_growth_pct: NationalFigure
    lithium_battery_materials_2023_growth_pct: NationalFigure
    lithium_battery_materials_2024_growth_pct: NationalFigure
    lithium_carbonate_output_tonnes: dict[int | str, NationalFigure]

    @field_validator("lithium_battery_output_gwh", "lithium_carbonate_output_tonnes")
    @classmethod
    def _years(cls, series: dict[int | str, NationalFigure]) -> dict[int | str, NationalFigure]:
        for key in series:
            year = str(key)[:4]
            if not (year.isdigit() and 2015 <= int(year) <= 2026):
                raise ValueError(f"entry {key!r}: expected a year 2015-2026 (optionally _suffix)")
        return series

    def battery_growth(self, year: int) -> float:
        """China's battery output growth in `year` (a share), from consecutive levels."""
        series = {str(k): v for k, v in self.lithium_battery_output_gwh.items()}
        return series[str(year)].value / series[str(year - 1)].value - 1.0

    def materials_growth(self, year: int) -> float:
        return getattr(self, f"lithium_battery_materials_{year}_growth_pct").value / 100.0

    def carbonate_growth(self, year: int) -> float | None:
        series = {str(k): v for k, v in self.lithium_carbonate_output_tonnes.items()}
        entry = series.get(str(year))
        return None if entry is None or entry.growth_pct is None else entry.growth_pct / 100.0


class Facts(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    chains: dict[str, str]
    observed: list[Observation]
    lithium_carbonate_price: LithiumPrice
    instruments: list[Instrument]
    targets_2026: dict[str, Any]
    national_context: NationalContext

    @field_validator("chains")
    @classmethod
    def _eight_chains(cls, chains: dict[str, str]) -> dict[str, str]:
        if tuple(chains) != CHAINS:
            raise ValueError(f"expected the chains {CHAINS}, got {tuple(chains)}")
        return chains

    def observation(self, obs_id: str) -> Observation:
        for obs in self.observed:
            if obs.id == obs_id:
                return obs
        raise KeyError(obs_id)

    def instrument(self, inst_id: str) -> Instrument:
        for inst in self.instruments:
            if inst.id == inst_id:
                return inst
        raise KeyError(inst_id)


def parse_facts(path: str | Path) -> Facts:
    data, lines = load_yaml_with_lines(path)
    return validated(Facts, data, path, lines)


@lru_cache(maxsize=1)
def load_facts() -> Facts:
    """The project's copy of the facts, validated (cached: it never changes in a run)."""
    return parse_facts(paths.FACTS_FILE)


def revenue_2021_total() -> float:
    """City above-scale revenue in 2021, 亿元: 5094.6 / (1 + 8.8%) (fact ``rev_2022``)."""
    obs = load_facts().observation("rev_2022")
    return float(obs.value) / (1.0 + float(obs.growth_pct) / 100.0)  # type: ignore[attr-defined]
