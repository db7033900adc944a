"""Per-firm state as one numpy array per attribute (struct of arrays).

Arrays are allocated with spare room so new firms (attracted projects, small entrants)
take the next free slot without copying; ``n`` is the number of slots in use. Exited
firms keep their slot with ``alive`` false, so indices stay stable.
"""

from __future__ import annotations

import operator
from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from model.structure import CHAINS

FLOAT_FIELDS = (
    "capacity",            # real output capacity, 亿元 a month at 2021 prices
    "pending_expansion",   # capacity under construction from own expansion decisions
    "ramping",             # capacity of a new plant still ramping up
    "ramp_step",           # capacity the ramp brings on line each month (linear ramp-up)
    "appeal",              # idiosyncratic demand level (customers won and lost), 1 at the start
    "lithium_exposure",    # share of material cost priced off lithium carbonate
    "share",               # market share inside the segment (persistent)
    "productivity",        # cost-side productivity (1 = 2021 segment average)
    "quality",             # R&D knowledge stock, enters competitiveness
    "competitiveness_base",  # competitiveness when the firm was created (its size reflects it)
    "digital",             # share of equipment digitised, 0..1
    "rd_intensity",        # R&D spending over revenue
    "rd_base",             # the firm's own R&D propensity before policy and trend
    "capital", "cash", "debt",
    "demand", "volume", "revenue", "material_cost", "total_cost", "profit",
    "value_added", "rd_spend", "subsidy_income",
    "value_added_ytd",
    "unit_va_2021",        # value added per unit of output in 2021 (the base year's nominal level)
    "margin_expected", "utilisation_expected",
    "revenue_ytd", "revenue_last_year", "revenue_two_years_ago",
    "margin_last_year", "margin_two_years_ago", "profit_ytd",
    "subsidies_total",
    "expansion_rate",      # monthly completion rate of pending expansions (1 / lag)
    "upgrades_month",      # technical-upgrade projects carried out this month (0 or 1)
    "digital_projects_month",  # digital-transformation projects carried out this month
    "extra_memberships",   # chains the firm counts in beyond its primary one (fixed)
)
INT_FIELDS = (
    "segment", "chain", "county",
    "born_month",          # month the firm began producing (negative: before 2022)
    "loss_months",
    "supplier_of",         # index of the large firm this firm supplies locally, -1 if none
    "anchor",              # index of the named anchor (model/anchors.yaml) this firm is, -1 if none
)
NEG_ONE = ("supplier_of", "anchor")
BOOL_FIELDS = (
    "alive", "above_scale", "chain_leader", "gazelle", "potential_gazelle",
    "awarded_50yi", "awarded_100yi", "leader_awarded",
    "integrated",          # upstream producer with its own ore
    "high_tech",           # certified high-tech enterprise (R&D at the certification threshold)
    "lithium_mid_down",    # lithium materials, cells or applications (the plan's 中下游; fixed)
    "emerging",            # in one of the four emerging chains (fixed)
)


@dataclass
class FirmState:
    """All firms' attributes; ``member[i, c]`` is true when firm i counts in chain c."""

    size: int
    n: int = 0
    member: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        for name in FLOAT_FIELDS:
            setattr(self, name, np.zeros(self.size))
        for name in INT_FIELDS:    # zeros untouched until used (np.full writes every page)
            setattr(self, name, np.full(self.size, -1, dtype=np.int64) if name in NEG_ONE
                    else np.zeros(self.size, dtype=np.int64))
        for name in BOOL_FIELDS:
            setattr(self, name, np.zeros(self.size, dtype=bool))
        self.member = np.zeros((self.size, len(CHAINS)), dtype=bool)

    def _grow(self, needed: int) -> None:
        """Larger arrays, one attribute at a time (each its own allocation: rows of one block
        would share huge pages with their neighbours' unused tails, ~6% more resident memory
        at 10^6 firms)."""
        new_size = max(needed, int(self.size * 1.5) + 16)
        for name in (*FLOAT_FIELDS, *INT_FIELDS, *BOOL_FIELDS):
            old = getattr(self, name)
            fill = -1 if name in NEG_ONE else 0
            new = np.full(new_size, fill, dtype=old.dtype)
            new[: self.size] = old
            setattr(self, name, new)
        member = np.zeros((new_size, len(CHAINS)), dtype=bool)
        member[: self.size] = self.member
        self.member = member
        self.size = new_size

    def add(self, count: int) -> np.ndarray:
        """Reserve `count` new slots (zeroed) and return their indices."""
        if self.n + count > self.size:
            self._grow(self.n + count)
        idx = np.arange(self.n, self.n + count)
        self.n += count
        return idx

    def view(self, name: str) -> np.ndarray:
        """The used part of an attribute array."""
        return getattr(self, name)[: self.n]


_VIEW_FIELDS = (*FLOAT_FIELDS, *INT_FIELDS, *BOOL_FIELDS, "member")
_ARRAYS = operator.attrgetter(*_VIEW_FIELDS)     # all of a FirmState's arrays, in one call


class FirmViews(namedtuple("FirmViews", (*_VIEW_FIELDS, "n"))):
    """The used part of every attribute array, as attributes (numpy views write through).

    A named tuple, so a compiled mechanism (``model.jit``) takes all firm arrays as one
    argument and reads them by name, ``f.capacity[i]``. Write into the arrays
    (``f.capacity[:] = ...``, ``f.capacity[i] += ...``), never rebind them.
    """

    __slots__ = ()

    @classmethod
    def of(cls, firms: FirmState) -> FirmViews:
        n = firms.n
        return cls._make([*map(operator.itemgetter(slice(0, n)), _ARRAYS(firms)), n])

    def __deepcopy__(self, memo: dict) -> None:
        """Views must alias the copied arrays, so a copy rebuilds them (see YichunModel.f)."""
        return None


def firm_arrays(typename: str, names: tuple[str, ...], module: str) -> type:
    """A named tuple type holding the named firm arrays (and ``n``), for a compiled loop that
    reads only those: numba checks the type of every array it is given (~0.15 µs each, 12 µs
    for all 68, every call). Bind it to `typename` at the top of `module`: numba caches a
    compiled loop by its argument types and finds a named tuple type again, in a new
    process, only by its module and name (a type it cannot find recompiles the loop, ~0.5 s).
    ``kind.of(views)`` takes the arrays from a ``FirmViews``."""
    kind = namedtuple(typename, (*names, "n"), module=module)
    getter = operator.attrgetter(*names, "n")
    kind.of = classmethod(lambda cls, views: cls._make(getter(views)))
    return kind


class Opening(NamedTuple):
    """Firms waiting to open this month (``demography.open_firms``): their segments and annual
    revenue, and what to do with their rows once they exist."""

    segment: np.ndarray
    revenue: np.ndarray
    opened: Callable[[np.ndarray], None] | None = None
