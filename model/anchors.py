"""Named anchor firms and plants (宜春时代, 国轩, 比亚迪, 赣锋, 永兴 …) from ``anchors.yaml``.

Existing anchors are firms of the end-2021 population with a given size; plants open as new
firms in a given month and ramp up; expansions add capacity to an anchor. Their unknown sizes
are multiplied by ``anchor_size_factor.<id>`` (a parameter with a prior) so calibration can
move them. Every entry names its source.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from model import paths
from model.errors import InputError
from model.structure import COUNTIES, SEGMENT_IDS
from model.yamlio import load_yaml_with_lines, validated

FIRST_YEAR, LAST_YEAR = 2015, 2026


class Anchor(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    segment: str
    county: str | None = None
    kind: Literal["existing", "plant", "expansion"]
    start: str | None = None
    of: str | None = None
    capacity: float = Field(gt=0, allow_inf_nan=False)
    integrated: bool = False
    high_tech: bool = False
    source: str = Field(min_length=1)
    quote: str | None = None
    basis: str = Field(min_length=1)

    @field_validator("segment")
    @classmethod
    def _segment(cls, value: str) -> str:
        if value not in SEGMENT_IDS:
            raise ValueError(f"unknown segment {value!r}; expected one of {list(SEGMENT_IDS)}")
        return value

    @field_validator("county")
    @classmethod
    def _county(cls, value: str | None) -> str | None:
        if value is not None and value not in COUNTIES:
            raise ValueError(f"unknown county {value!r}; expected one of {list(COUNTIES)}")
        return value

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, value: object) -> str | None:
        if value is None:
            return None
        text = value.strftime("%Y-%m") if isinstance(value, dt.date) else str(value)
        try:
            year, month = (int(x) for x in text.split("-"))
        except ValueError:
            raise ValueError(f"expected a month YYYY-MM, got {value!r}") from None
        if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
            raise ValueError(f"start {text} outside {FIRST_YEAR}-01 .. {LAST_YEAR}-12")
        return f"{year}-{month:02d}"

    @model_validator(mode="after")
    def _kind_fields(self) -> Anchor:
        if self.kind != "existing" and self.start is None:
            raise ValueError(f"a {self.kind} needs a start month")
        if self.kind == "expansion" and self.of is None:
            raise ValueError("an expansion needs 'of': the anchor it expands")
        if self.kind != "expansion" and self.county is None:
            raise ValueError(f"a {self.kind} needs a county")
        return self

    @property
    def month(self) -> int:
        """Start as a month index (0 = January 2022; negative before)."""
        year, month = (int(x) for x in (self.start or "2021-12").split("-"))
        return (year - 2022) * 12 + month - 1


class AnchorFile(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    anchors: list[Anchor]

    @model_validator(mode="after")
    def _references(self) -> AnchorFile:
        ids = [a.id for a in self.anchors]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate anchor ids {dupes}")
        for a in self.anchors:
            if a.of is not None and a.of not in ids:
                raise ValueError(f"anchor {a.id}: 'of' names unknown anchor {a.of!r}")
        return self


def parse_anchors(path: str | Path) -> list[Anchor]:
    """Read and check the anchors; an error names the file, the entry (by id) and the key."""
    data, lines = load_yaml_with_lines(path)
    entries = data.get("anchors") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise InputError(path, "anchors", "expected a list of anchor entries")
    for i, entry in enumerate(entries):
        name = entry.get("id") if isinstance(entry, dict) else None
        try:
            Anchor.model_validate(entry)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(x) for x in err["loc"]) or "entry"
            message = "unknown key" if err["type"] == "extra_forbidden" else (
                "missing (every entry needs it)" if err["type"] == "missing" else
                err["msg"].removeprefix("Value error, "))
            raise InputError(path, f"anchors[{name or i}].{field}", message,
                             lines.get(f"anchors[{i}].{field}", lines.get(f"anchors[{i}]"))) from None
    anchors = validated(AnchorFile, data, path, lines).anchors
    for i, a in enumerate(anchors):
        if a.kind == "existing" and a.start is not None:
            raise InputError(path, f"anchors[{a.id}].start", "an existing firm has no start month",
                             lines.get(f"anchors[{i}].start"))
    return anchors


@lru_cache(maxsize=1)
def load_anchors() -> tuple[Anchor, ...]:
    return tuple(parse_anchors(paths.ANCHORS_FILE))


def anchor_capacity(anchor: Anchor, size_factor: dict[str, float]) -> float:
    """Full capacity, 亿元 a year at 2021 prices, after the calibrated size factor."""
    return anchor.capacity * float(size_factor.get(anchor.id, 1.0))
