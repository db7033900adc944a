"""Statistics per month and year, for the city total, each chain and the development zone.

Scopes: ``total`` (all firms), each chain by membership (a firm may count in several chains,
so chain figures overlap and do not add to the total), and ``etdz``. Sums over firms are
one matrix product per month: (firms x scopes)ᵀ @ (firms x statistics).

City statistics count above-scale firms only; ``revenue_all_firms`` adds the below-scale
pool (chain figures in the press count chain firms of all sizes). Revenue is nominal;
``value_added_real`` is at 2021 prices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.government import INSTRUMENTS
from model.mechanisms.projects import BUILDING, DROPPED, PRODUCING
from model.scenario import N_MONTHS, START_YEAR
from model.structure import (
    CHAINS,
    COUNTIES,
    SCOPES,
    SEGMENT_INDEX,
    SIZE_THRESHOLDS,
    SUB_CHAINS,
)

if TYPE_CHECKING:
    from model.economy import YichunModel
    from model.state import FirmViews

FIRM_FLOWS = ("revenue", "revenue_all_firms", "value_added_real", "value_added", "profit",
              "rd_spend", "subsidy_income", "revenue_new_plants", "lithium_mid_down_revenue",
              "upgrade_projects", "digital_projects", "revenue_double_counted")
PROJECT_FLOWS = ("projects_signed", "projects_signed_over_50yi")
FIRM_STOCKS = ("above_scale_firms", "firms_alive", "chain_leaders", "digital_capital",
               "capital_above_scale")
PROJECT_STOCKS = ("projects_building", "projects_producing", "projects_dropped")
FLOWS = FIRM_FLOWS + PROJECT_FLOWS
STOCKS = FIRM_STOCKS + PROJECT_STOCKS
MONTHLY = FLOWS + STOCKS
PLAN_START = 12  # January 2023: firms opened since then are the plan's "new" firms
COUNTS = (*(f"firms_over_{k}yi" for k in SIZE_THRESHOLDS),
          "plan_new_firms_over_5yi", "plan_new_firms_over_10yi")
YEARLY = MONTHLY + COUNTS
YEARS = tuple(range(START_YEAR - 1, START_YEAR + N_MONTHS // 12))  # 2021 (base) .. 2026
_ETDZ = COUNTIES.index("etdz")
_M = {name: i for i, name in enumerate(MONTHLY)}
_Y = {name: i for i, name in enumerate(YEARLY)}
_SUB = [SEGMENT_INDEX[seg] for seg in SUB_CHAINS.values()]


def scope_matrix(f: FirmViews, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
    """Rows of the (firms x scopes) 0/1 weights: city, chains, sub-chains, zone."""
    member = f.member[rows]
    segment = f.segment[rows]
    m = np.zeros((member.shape[0], len(SCOPES)))
    m[:, 0] = 1.0
    m[:, 1 : 1 + len(CHAINS)] = member
    for j, seg in enumerate(_SUB):
        m[:, 1 + len(CHAINS) + j] = segment == seg
    m[:, -1] = f.county[rows] == _ETDZ
    return m


def project_scope_matrix(model: YichunModel) -> np.ndarray:
    """(projects x scopes) weights: by the project's chain and segment, and by the county of
    the firm it opened (zone statistics count only opened projects)."""
    book = model.projects
    m = np.zeros((len(book), len(SCOPES)))
    m[:, 0] = 1.0
    has_chain = book.chain >= 0
    m[np.flatnonzero(has_chain), 1 + book.chain[has_chain]] = 1.0
    for j, seg in enumerate(_SUB):
        m[:, 1 + len(CHAINS) + j] = book.segment == seg
    opened = book.firm >= 0
    m[opened, -1] = model.firms.county[book.firm[opened]] == _ETDZ
    return m


class Recorder:
    """Collects monthly sums per scope and closes each year."""

    def __init__(self, model: YichunModel) -> None:
        self.model = model
        self.monthly = np.zeros((N_MONTHS, len(SCOPES), len(MONTHLY)))
        self.yearly = np.zeros((len(YEARS), len(SCOPES), len(YEARLY)))
        self.record_base_year()

    def _sum(self, columns: list[np.ndarray]) -> np.ndarray:
        """Per-scope sums of each column over firms: (scopes x columns), one matrix product."""
        return (np.stack(columns) @ self.model.scope_weights).T

    def record_base_year(self) -> None:
        """2021 from the synthetic population (annual revenue at 2021 prices)."""
        f, p = self.model.f, self.model.params
        above = f.above_scale & f.alive
        rev = f.revenue_last_year
        va_real = rev * (1 - p.material_cost_share[f.segment])
        cols = {name: np.zeros(f.n) for name in YEARLY}
        cols.update(
            revenue=rev * above, revenue_all_firms=rev * f.alive, value_added_real=va_real * above,
            value_added=rev * (1 - p.material_cost_share[f.segment]) * above,
            profit=rev * p.margin_2021[f.segment] * above, rd_spend=rev * f.rd_intensity * above,
            lithium_mid_down_revenue=rev * f.lithium_mid_down * f.alive,
            revenue_double_counted=rev * f.alive * f.extra_memberships,
            above_scale_firms=above.astype(float), firms_alive=f.alive.astype(float),
            digital_capital=f.capital * f.digital * above, capital_above_scale=f.capital * above,
        )
        for k in SIZE_THRESHOLDS:
            cols[f"firms_over_{k}yi"] = (above & (rev >= k)).astype(float)
        self.yearly[0] = self._sum([cols[name] for name in YEARLY])

    def firm_columns(self) -> dict[str, np.ndarray]:
        f, t = self.model.f, self.model.t
        above = f.above_scale & f.alive
        return {
            "revenue": f.revenue * above, "revenue_all_firms": f.revenue * f.alive,
            "value_added_real": f.value_added_real * above,
            "value_added": (f.revenue - f.material_cost) * above, "profit": f.profit * above,
            "rd_spend": f.rd_spend * above, "subsidy_income": f.subsidy_income,
            "revenue_new_plants": f.revenue * above * (f.born_month >= t - t % 12),
            "lithium_mid_down_revenue": f.revenue * f.lithium_mid_down * f.alive,
            "upgrade_projects": f.upgrades_month, "digital_projects": f.digital_projects_month,
            "revenue_double_counted": f.revenue * f.alive * f.extra_memberships,
            "above_scale_firms": above.astype(float), "firms_alive": f.alive.astype(float),
            "chain_leaders": f.chain_leader.astype(float),
            "digital_capital": f.capital * f.digital * above, "capital_above_scale": f.capital * above,
        }

    def project_columns(self) -> dict[str, np.ndarray]:
        book, t = self.model.projects, self.model.t
        signed = book.sign_month == t
        return {
            "projects_signed": signed, "projects_signed_over_50yi": signed & (book.amount >= 50.0),
            "projects_building": book.stage == BUILDING,
            "projects_producing": (book.stage == PRODUCING) & (book.done_month >= 0),
            "projects_dropped": (book.stage == DROPPED) & (book.start_month >= 0),
        }

    def record_month(self) -> None:
        t = self.model.t
        firms = self.firm_columns()
        self.monthly[t, :, [_M[k] for k in firms]] = self._sum(list(firms.values())).T
        projects = self.project_columns()
        weights = project_scope_matrix(self.model)
        sums = np.stack(list(projects.values())).astype(float) @ weights
        self.monthly[t, :, [_M[k] for k in projects]] = sums
        if t % 12 == 11:
            self.close_year()

    def close_year(self) -> None:
        f, t = self.model.f, self.model.t
        y = t // 12 + 1
        months = self.monthly[t - 11 : t + 1]
        for name in FLOWS:
            self.yearly[y, :, _Y[name]] = months[:, :, _M[name]].sum(axis=0)
        for name in STOCKS:
            self.yearly[y, :, _Y[name]] = months[-1, :, _M[name]]
        above = f.above_scale & f.alive
        new = f.born_month >= PLAN_START
        counts = [above & (f.revenue_ytd >= k) for k in SIZE_THRESHOLDS]
        counts += [above & new & (f.revenue_ytd >= k) for k in (5, 10)]
        self.yearly[y, :, len(MONTHLY):] = self._sum([c.astype(float) for c in counts])

    def last_city_revenue_growth(self) -> float:
        """Growth of city above-scale revenue in the last closed year (for milestone awards)."""
        y = self.model.t // 12
        prev, last = self.yearly[y - 1, 0, _Y["revenue"]], self.yearly[y, 0, _Y["revenue"]]
        return last / prev - 1.0 if prev > 0 else 0.0

    def subsidies_by_year(self) -> dict[str, np.ndarray]:
        """Paid per instrument: {instrument: array (years, scopes)} from the ledger."""
        ledger = self.model.government.ledger()
        weights = self.model.scope_weights
        out = {}
        for name in INSTRUMENTS:
            table = np.zeros((len(YEARS), len(SCOPES)))
            pick = ledger["instrument"] == name
            years = ledger["month"][pick] // 12 + 1
            for y in np.unique(years):
                sel = years == y
                table[y] = ledger["amount"][pick][sel] @ weights[ledger["firm"][pick][sel]]
            out[name] = table
        return out


def derived_yearly(yearly: np.ndarray) -> dict[str, np.ndarray]:
    """Rates and shares from the yearly sums: {statistic: array (years, scopes)}."""
    g = {name: yearly[:, :, i] for name, i in _Y.items()}

    def ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.divide(a, b, out=np.full(a.shape, np.nan), where=b > 0)

    def growth(x: np.ndarray) -> np.ndarray:
        out = np.full(x.shape, np.nan)
        out[1:] = 100.0 * (ratio(x[1:], x[:-1]) - 1.0)
        return out

    increase = np.full(g["revenue"].shape, np.nan)
    increase[1:] = g["revenue"][1:] - g["revenue"][:-1]
    return {
        "revenue_growth_pct": growth(g["revenue"]),
        "revenue_all_firms_growth_pct": growth(g["revenue_all_firms"]),
        "value_added_real_growth_pct": growth(g["value_added_real"]),
        "profit_margin_pct": 100.0 * ratio(g["profit"], g["revenue"]),
        "rd_to_revenue_pct": 100.0 * ratio(g["rd_spend"], g["revenue"]),
        "digitalisation_rate_pct": 100.0 * ratio(g["digital_capital"], g["capital_above_scale"]),
        "lithium_mid_down_share_pct": 100.0 * ratio(g["lithium_mid_down_revenue"],
                                                    g["revenue_all_firms"]),
        "new_plants_contribution_pct": 100.0 * ratio(g["revenue_new_plants"], increase),
    }
