"""Enterprise agents: Mesa agents whose attributes read and write the firm arrays.

The arrays are the truth (the step is vectorised over them); an ``Enterprise`` is a
window onto row ``index``, so ``model.agents`` can be browsed, filtered and edited like
any Mesa model: ``agent.revenue``, ``agent.productivity = 1.2``, ``agent.chains``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa

from model.anchors import load_anchors
from model.state import BOOL_FIELDS, FLOAT_FIELDS, INT_FIELDS
from model.structure import CHAINS, COUNTIES, SEGMENT_IDS

if TYPE_CHECKING:
    from model.economy import YichunModel


def _array_attribute(name: str) -> property:
    def get(self: Enterprise) -> Any:
        return getattr(self.model.firms, name)[self.index].item()

    def set_(self: Enterprise, value: Any) -> None:
        getattr(self.model.firms, name)[self.index] = value

    return property(get, set_, doc=f"firm array '{name}' at this firm's row")


class Enterprise(mesa.Agent):
    """One firm. Attributes are live views of ``model.firms`` at row ``index``."""

    def __init__(self, model: YichunModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def segment_id(self) -> str:
        return SEGMENT_IDS[self.segment]

    @property
    def chains(self) -> list[str]:
        """Primary chain first, then the other chains the firm counts in."""
        member = self.model.firms.member[self.index]
        primary = [CHAINS[self.chain]] if self.chain >= 0 else []
        return primary + [c for i, c in enumerate(CHAINS) if member[i] and c not in primary]

    @property
    def county_id(self) -> str:
        return COUNTIES[self.county]

    @property
    def annual_revenue(self) -> float:
        """Revenue over the last closed year, 亿元."""
        return self.revenue_last_year

    def __repr__(self) -> str:
        named = f"{self.anchor}, " if self.anchor else ""
        return (f"Enterprise(#{self.index}, {named}{self.segment_id}, {self.county_id}, "
                f"revenue_last_year={self.revenue_last_year:.2f} 亿, alive={self.alive})")


for _name in (*FLOAT_FIELDS, *INT_FIELDS, *BOOL_FIELDS):
    setattr(Enterprise, _name, _array_attribute(_name))


def _anchor_name(self: Enterprise) -> str | None:
    number = int(self.model.firms.anchor[self.index])
    return load_anchors()[number].name if number >= 0 else None


# the named firm's name (宜春时代 ...) or None, not the array's index (-1 would be truthy)
Enterprise.anchor = property(_anchor_name, doc="the named anchor firm this is, or None")
Enterprise.anchor_index = _array_attribute("anchor")
