"""Statistics per month and year, for the city total, each chain and the development zone.

Scopes: ``total`` (all firms), each chain by membership (a firm may count in several chains,
so chain figures overlap and do not add to the total), and ``etdz``. Firms with the same
scopes form a group (``ScopeGroups``, a few dozen): each month one compiled pass adds every
firm's statistics into its group's row, and a small product with the groups' 0/1 scope rows
gives every scope's sums.

City statistics count above-scale firms only; ``revenue_all_firms`` adds the below-scale
pool (chain figures in the press count chain firms of all sizes); ``revenue_chain_published``
is the chain figure as the city publishes it (lithium grossed up for revenue booked outside
its industrial firms, ``lithium_chain_outside_share``; other chains as revenue_all_firms). Revenue and
``value_added`` are nominal.

Real value-added growth is computed as Chinese statistics do (同口径, comparable prices): over
the firms in the statistics this period, their output valued at last year's average price of
their industry, times the industry's value-added ratio of last year (``value_added_prevprice``),
against the same firms' output in the same months of last year valued at the same prices and
ratio (``value_added_base``; zero for a firm that was not producing). Both sides are deflated
month by month by the official price index of the industry (``comparable_price_factors``),
which is the industry's producer price (``official_deflator_lithium_elasticity`` = 1: the
bureau deflates at a fine product level, so a carbonate price boom is not counted as volume).
``revenue_base`` is the same firms' nominal revenue a year before (同口径 revenue growth). The ``_new``
versions cover firms that opened this year or last (新建投产企业), whose share of the growth
is their contribution (贡献率). ``value_added_real`` is the chained level at 2021 prices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import numpy as np

from model.government import INSTRUMENTS
from model.jit import jit, sum_by
from model.mechanisms.projects import BUILDING, DROPPED, PRODUCING
from model.scenario import N_MONTHS, START_YEAR
from model.structure import (
    CHAINS,
    COUNTIES,
    IS_LITHIUM,
    SCOPES,
    SEGMENT_INDEX,
    SIZE_THRESHOLDS,
    SUB_CHAINS,
)

if TYPE_CHECKING:
    from model.economy import YichunModel
    from model.state import FirmViews

FIRM_FLOWS = ("revenue", "revenue_all_firms", "revenue_chain_published", "value_added",
              "value_added_prevprice",
              "value_added_base", "value_added_prevprice_new", "value_added_base_new",
              "value_added_emerging", "profit", "profit_all_firms",
              "rd_spend", "subsidy_income", "revenue_new_plants", "lithium_mid_down_revenue",
              "upgrade_projects", "digital_projects", "revenue_double_counted",
              "carbonate_tonnes", "materials_tonnes", "battery_gwh", "revenue_base",
              "volume_same_firms", "volume_base_same_firms")
PROJECT_FLOWS = ("projects_signed", "projects_signed_over_1yi", "projects_signed_over_20yi",
                 "projects_signed_over_50yi", "projects_signed_amount")
FIRM_STOCKS = ("above_scale_firms", "firms_alive", "chain_leaders", "high_tech_firms",
               "digital_capital", "capital_above_scale", "capacity_above_scale")
PROJECT_STOCKS = ("projects_building", "projects_producing", "projects_dropped")
FLOWS = FIRM_FLOWS + PROJECT_FLOWS
STOCKS = FIRM_STOCKS + PROJECT_STOCKS
MONTHLY = FLOWS + STOCKS
PLAN_START = 12  # January 2023: firms opened since then are the plan's "new" firms
PLAN_NEW_THRESHOLDS = (5, 10)  # 亿元: the plan's new firms over these lines are counted
COUNTS = (*(f"firms_over_{k}yi" for k in SIZE_THRESHOLDS),
          *(f"plan_new_firms_over_{k}yi" for k in PLAN_NEW_THRESHOLDS))
YEARLY = MONTHLY + COUNTS
YEARS = tuple(range(START_YEAR - 1, START_YEAR + N_MONTHS // 12))  # 2021 (base) .. 2026
_ETDZ = COUNTIES.index("etdz")
_M = {name: i for i, name in enumerate(MONTHLY)}
_Y = {name: i for i, name in enumerate(YEARLY)}
_SUB = [SEGMENT_INDEX[seg] for seg in SUB_CHAINS.values()]
_SUB_SEGMENTS = np.array(_SUB, dtype=np.int64)
_IS_LITHIUM = np.array(IS_LITHIUM)
_LITHIUM_CHAIN = CHAINS.index("lithium")
#: the monthly columns summed over firms, in the order ``_firm_group_sums`` returns them
_FIRM_COLUMNS = np.array([_M[name] for name in FIRM_FLOWS + FIRM_STOCKS])
_N_FIRM_COLUMNS = 31
_MONTHLY_FLOWS, _YEARLY_FLOWS = (np.array([index[name] for name in FLOWS]) for index in (_M, _Y))
_MONTHLY_STOCKS, _YEARLY_STOCKS = (np.array([index[name] for name in STOCKS]) for index in (_M, _Y))
_SIZE_LINES = np.array(SIZE_THRESHOLDS, dtype=float)
_PLAN_NEW_LINES = np.array(PLAN_NEW_THRESHOLDS, dtype=float)
_PROJECT_COLUMNS = np.array([_M[name] for name in PROJECT_FLOWS + PROJECT_STOCKS])
assert len(_PROJECT_COLUMNS) == 8, "_project_sums writes 8 columns"
assert len(_FIRM_COLUMNS) == _N_FIRM_COLUMNS, "_firm_group_sums writes 31 columns"


class ScopeGroups:
    """Firms with the same scopes (city, chains, sub-chain, zone) form a group, a few dozen
    in all. A sum over firms per scope is then one pass over the firms into their groups and
    a small product with the groups' 0/1 scope rows, instead of a product with a (firms x
    scopes) matrix. A group is keyed by its scope row read as bits (bit k: scope k)."""

    def __init__(self) -> None:
        self.group = np.zeros(0, dtype=np.int64)        # per firm row
        self.rows = np.zeros((0, len(SCOPES)))          # per group: its scope row
        self._group_of_key = np.full(2 ** len(SCOPES), -1, dtype=np.int64)

    def assign(self, f: FirmViews, idx: np.ndarray) -> None:
        """Put firms `idx` into the groups of their current scopes (after a change of county)."""
        if self.group.size < f.n:
            grown = np.zeros(max(f.n, 2 * self.group.size), dtype=np.int64)
            grown[: self.group.size] = self.group
            self.group = grown
        keys = _scope_keys(f.member, f.segment, f.county, idx, _SUB_SEGMENTS, _ETDZ,
                           _LITHIUM_CHAIN)
        groups = self._group_of_key[keys]
        if groups.size and groups.min() < 0:            # a combination of scopes not seen yet
            for key in np.unique(keys[groups < 0]).tolist():
                self._group_of_key[key] = self.rows.shape[0]
                row = (key >> np.arange(len(SCOPES))) & 1
                self.rows = np.vstack([self.rows, row.astype(float)])
            groups = self._group_of_key[keys]
        self.group[idx] = groups

    def scope_sums(self, by_group: np.ndarray) -> np.ndarray:
        """(statistics x scopes) sums from (groups x statistics) sums over each group's firms."""
        return by_group.T @ self.rows

    def weights(self, n: int) -> np.ndarray:
        """The (firms x scopes) 0/1 matrix of the first `n` firm rows."""
        return self.rows[self.group[:n]]


@jit
def _scope_keys(member, segment, county, idx, sub_segments, etdz, lithium_chain):  # noqa: ANN001, ANN202, PLR0913
    """Each firm's scope row as bits: the city, its chains, its sub-chain, the zone, and the
    zone's lithium chain."""
    n_chains = member.shape[1]
    keys = np.empty(idx.size, dtype=np.int64)
    for k in range(idx.size):
        i = idx[k]
        key = 1
        for c in range(n_chains):
            if member[i, c]:
                key |= 1 << (1 + c)
        for j in range(sub_segments.size):
            if segment[i] == sub_segments[j]:
                key |= 1 << (1 + n_chains + j)
        if county[i] == etdz:
            key |= 1 << (1 + n_chains + sub_segments.size)
            if member[i, lithium_chain]:
                key |= 1 << (2 + n_chains + sub_segments.size)
        keys[k] = key
    return keys


def comparable_price_factors(va_ratio: np.ndarray, deflator_last_year: np.ndarray,
                             official_price: np.ndarray, official_price_base_month: np.ndarray,
                             ) -> tuple[np.ndarray, np.ndarray]:
    """Per industry: what turns a month's nominal revenue into value added at comparable
    prices (可比价), for this month and for the same month a year before.

    The bureau values both sides of same-firm growth at the same prices, last year's average
    (P̄): this month's output at P̄ is revenue x P̄ / P_this_month, last year's same month at P̄
    is its revenue x P̄ / P_that_month, each times the industry's value-added ratio of last year.
    So flat volumes give zero growth whatever prices do within or across years, and a trend in
    prices inside the base year does not leak into year-to-date growth."""
    this_month = va_ratio * deflator_last_year / official_price
    base_month = va_ratio * deflator_last_year / official_price_base_month
    return this_month, base_month


def season_factors(spring_festival: float) -> np.ndarray:
    """Each month's demand over the year's average (the Spring Festival dip, made up later)."""
    season = np.ones(12)
    season[:2] -= spring_festival
    season[2:] += 2 * spring_festival / 10
    return season


def physical_units(model: YichunModel) -> dict[str, np.ndarray]:
    """Per segment: physical output per 亿元 of real output (2021 prices): carbonate tonnes (LCE),
    materials tonnes, battery GWh. Carbonate's 2021 price is VAT-inclusive as quoted; revenue excludes VAT."""
    p = model.params
    units = {name: np.zeros(model.n_segments)
             for name in ("carbonate_tonnes", "materials_tonnes", "battery_gwh")}
    units["carbonate_tonnes"][SEGMENT_INDEX["li_upstream"]] = (
        1e8 * p.upstream_carbonate_share / (p.lithium_price_2021_average / 1.13))
    units["materials_tonnes"][SEGMENT_INDEX["li_materials"]] = 1e8 / p.materials_price_2021
    units["battery_gwh"][SEGMENT_INDEX["li_cells"]] = 1e8 / (p.cell_price_2021 * 1e9)
    return units


class Recorder:
    """Collects monthly sums per scope and closes each year."""

    def __init__(self, model: YichunModel) -> None:
        self.model = model
        self.monthly = np.zeros((N_MONTHS, len(SCOPES), len(MONTHLY)))
        self.yearly = np.zeros((len(YEARS), len(SCOPES), len(YEARLY)))
        self.units = physical_units(model)
        f = model.f
        season = season_factors(model.params.seasonality_spring_festival)
        # each firm's revenue month by month, last year's (the base) and this year's, and the
        # official deflator of each industry this year: real value added compares this year's
        # deflated output with last year's at last year's value-added ratios
        self.revenue_last_year = np.zeros((12, model.firms.size))
        # filled in place (at 10^6 firms a 12 x firms temporary is 90 MB)
        base = self.revenue_last_year[:, : f.n]
        np.multiply(season[:, None], f.revenue_last_year * f.alive, out=base)
        base /= 12.0
        self.revenue_this_year = np.zeros((12, model.firms.size))
        self.deflator_this_year = np.ones((12, model.n_segments))
        # last year's official price of each industry month by month (2021: the index base),
        # and its true price (what turns last year's revenue back into volume)
        self.official_last_year = np.ones((12, model.n_segments))
        self.price_this_year = np.ones((12, model.n_segments))
        self.price_last_year = np.ones((12, model.n_segments))
        self.record_base_year()

    @property
    def published(self) -> np.ndarray:
        """Per firm: 1, or 1 / (1 - lithium_chain_outside_share) for lithium-chain members: the
        city's lithium chain figures include revenue booked outside its industrial firms."""
        f = self.model.f
        gross = 1.0 / (1.0 - self.model.params.lithium_chain_outside_share)
        return np.where(f.member[:, CHAINS.index("lithium")], gross, 1.0)

    def _sum(self, columns: Iterable[np.ndarray | Callable[[], np.ndarray] | None]) -> np.ndarray:
        """Per-scope sums over all firms of each column, (scopes x columns): summed into the
        firms' scope groups, then over each scope's groups. A column may be a function making
        it (so only one column at a time exists: at 10^6 firms each is 8 MB) or None (zeros)."""
        groups = self.model.scope_groups
        group, rows = groups.group[: self.model.firms.n], groups.rows
        sums = []
        for column in columns:
            values = column() if callable(column) else column
            if values is None:
                sums.append(np.zeros(rows.shape[1]))
                continue
            sums.append(sum_by(group, np.asarray(values, dtype=float), rows.shape[0]) @ rows)
        return np.stack(sums, axis=1)

    def record_base_year(self) -> None:
        """2021 from the synthetic population (annual revenue at 2021 prices)."""
        f, p = self.model.f, self.model.params
        above = f.above_scale & f.alive
        rev = f.revenue_last_year
        margin = p.margin_2021[f.segment]
        va = rev * f.unit_va_2021
        cols = dict(
            revenue=lambda: rev * above, revenue_all_firms=lambda: rev * f.alive,
            revenue_chain_published=lambda: rev * f.alive * self.published,
            high_tech_firms=lambda: f.alive & f.high_tech,
            value_added=lambda: va * above, value_added_emerging=lambda: va * above * f.emerging,
            profit=lambda: rev * margin * above, profit_all_firms=lambda: rev * margin * f.alive,
            rd_spend=lambda: rev * f.rd_intensity * above,
            lithium_mid_down_revenue=lambda: rev * f.lithium_mid_down * f.alive,
            revenue_double_counted=lambda: rev * f.alive * f.extra_memberships,
            above_scale_firms=lambda: above, firms_alive=lambda: f.alive,
            digital_capital=lambda: f.capital * f.digital * above,
            capital_above_scale=lambda: f.capital * above,
            capacity_above_scale=lambda: 12.0 * f.capacity * above,
            **{name: (lambda per=per: rev * per[f.segment] * f.alive)
               for name, per in self.units.items()},
            **{f"firms_over_{k}yi": (lambda k=k: above & (rev >= k)) for k in SIZE_THRESHOLDS},
        )
        self.yearly[0] = self._sum([cols.get(name) for name in YEARLY])

    def _month_arrays(self) -> None:
        """Keep the per-firm monthly value-added arrays as long as the firm arrays."""
        size = self.model.firms.size
        if self.revenue_this_year.shape[1] < size:
            pad = ((0, 0), (0, size - self.revenue_this_year.shape[1]))
            self.revenue_this_year = np.pad(self.revenue_this_year, pad)
            self.revenue_last_year = np.pad(self.revenue_last_year, pad)

    def firm_sums(self) -> dict[str, np.ndarray]:
        """This month's firm statistics, {name: per-scope sums}. Most count above-scale firms
        only; the physical units count the lithium segments' firms."""
        return dict(zip(FIRM_FLOWS + FIRM_STOCKS, self._firm_matrix(), strict=True))

    def _firm_matrix(self) -> np.ndarray:
        """``firm_sums`` as a (statistics x scopes) matrix, in FIRM_FLOWS + FIRM_STOCKS order."""
        model, f, t = self.model, self.model.f, self.model.t
        self._month_arrays()
        self.revenue_this_year[t % 12, : f.n] = f.revenue
        self.deflator_this_year[t % 12] = model.official_price
        self.price_this_year[t % 12] = model.segment_price
        groups = model.scope_groups
        by_group = _firm_group_sums(
            groups.group[: f.n], groups.rows.shape[0], t,
            f.alive, f.above_scale, f.segment, f.born_month,
            f.revenue, f.value_added, f.profit, f.rd_spend,
            f.subsidy_income, f.upgrades_month, f.digital_projects_month, f.capital, f.digital,
            f.capacity, f.volume, f.extra_memberships, f.emerging, f.high_tech, f.chain_leader,
            f.lithium_mid_down, f.member[:, _LITHIUM_CHAIN],
            1.0 / (1.0 - model.params.lithium_chain_outside_share),
            self.revenue_last_year[t % 12, : f.n],
            *comparable_price_factors(model.segment_va_ratio, model.deflator_last_year,
                                      model.official_price, self.official_last_year[t % 12]),
            self.price_last_year[t % 12], _IS_LITHIUM,
            self.units["carbonate_tonnes"], self.units["materials_tonnes"],
            self.units["battery_gwh"])
        return groups.scope_sums(by_group)

    def record_month(self) -> None:
        t, book = self.model.t, self.model.projects
        self.monthly[t, :, _FIRM_COLUMNS] = self._firm_matrix()
        self.monthly[t, :, _PROJECT_COLUMNS] = _project_sums(
            t, book.sign_month, book.start_month, book.done_month, book.amount, book.stage,
            book.chain, book.segment, book.firm, self.model.firms.county, _SUB_SEGMENTS, _ETDZ,
            len(CHAINS), _LITHIUM_CHAIN, len(SCOPES))
        if t % 12 == 11:
            self.close_year()

    def close_year(self) -> None:
        f, t = self.model.f, self.model.t
        y = t // 12 + 1
        # last year's buffer is reused for the new year (fresh memory would be faulted in), as
        # it is: each month overwrites its row for every firm then open, and a firm's row has
        # zeros for the months before it opened (its column was never written)
        self.revenue_last_year, self.revenue_this_year = (self.revenue_this_year,
                                                          self.revenue_last_year)
        self.model.deflator_last_year = self.deflator_this_year.mean(axis=0)
        self.official_last_year = self.deflator_this_year.copy()
        self.price_last_year = self.price_this_year.copy()
        months = self.monthly[t - 11 : t + 1]
        self.yearly[y][:, _YEARLY_FLOWS] = months[:, :, _MONTHLY_FLOWS].sum(axis=0)
        self.yearly[y][:, _YEARLY_STOCKS] = months[-1][:, _MONTHLY_STOCKS]
        groups = self.model.scope_groups
        by_group = _size_counts(groups.group[: f.n], groups.rows.shape[0], f.alive, f.above_scale,
                                f.born_month >= PLAN_START, f.revenue_ytd, _SIZE_LINES,
                                _PLAN_NEW_LINES)
        self.yearly[y, :, len(MONTHLY):] = groups.scope_sums(by_group).T

    def last_city_revenue_growth(self) -> float:
        """Growth of city above-scale revenue in the last closed year (for milestone awards)."""
        y = self.model.t // 12
        prev, last = self.yearly[y - 1, 0, _Y["revenue"]], self.yearly[y, 0, _Y["revenue"]]
        return last / prev - 1.0 if prev > 0 else 0.0

    def subsidies_by_year(self, ledger: dict[str, np.ndarray] | None = None,
                          ) -> dict[str, np.ndarray]:
        """Paid per instrument: {instrument: array (years, scopes)} from the ledger (the
        government's, unless given)."""
        ledger = self.model.government.ledger() if ledger is None else ledger
        groups = self.model.scope_groups
        weights = groups.rows[groups.group[ledger["firm"]]]       # the paid firms' scope rows
        out = {}
        for name in INSTRUMENTS:
            table = np.zeros((len(YEARS), len(SCOPES)))
            pick = ledger["instrument"] == name
            years = ledger["month"][pick] // 12 + 1
            for y in np.unique(years):
                sel = years == y
                table[y] = ledger["amount"][pick][sel] @ weights[pick][sel]
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

    real_growth = ratio(g["value_added_prevprice"], g["value_added_base"]) - 1.0
    real_growth[0] = 0.0
    increase = g["value_added_prevprice"] - g["value_added_base"]
    increase_new = g["value_added_prevprice_new"] - g["value_added_base_new"]
    contribution = 100.0 * ratio(increase_new, np.where(increase > 0, increase, 0.0))
    contribution[0] = np.nan
    real_level = g["value_added"][0] * np.cumprod(1.0 + np.nan_to_num(real_growth), axis=0)
    real_growth_pct = 100.0 * real_growth
    real_growth_pct[0] = np.nan
    return {
        "value_added_real": real_level,
        "revenue_growth_pct": growth(g["revenue"]),
        "revenue_all_firms_growth_pct": growth(g["revenue_all_firms"]),
        "value_added_real_growth_pct": real_growth_pct,
        "emerging_va_share_pct": 100.0 * ratio(g["value_added_emerging"], g["value_added"]),
        "profit_margin_pct": 100.0 * ratio(g["profit"], g["revenue"]),
        "rd_to_revenue_pct": 100.0 * ratio(g["rd_spend"], g["revenue"]),
        "digitalisation_rate_pct": 100.0 * ratio(g["digital_capital"], g["capital_above_scale"]),
        "lithium_mid_down_share_pct": 100.0 * ratio(g["lithium_mid_down_revenue"],
                                                    g["revenue_all_firms"]),
        "new_plants_contribution_pct": contribution,
    }


@jit
def _firm_group_sums(group, n_groups, t, alive, above_scale, segment, born_month,  # noqa: ANN001, ANN202, PLR0913
                     revenue, value_added, profit, rd_spend, subsidy_income,
                     upgrades, digital_projects, capital, digital, capacity, volume,
                     extra_memberships, emerging, high_tech, chain_leader, mid_down,
                     lithium_member, lithium_gross_up, revenue_base_month, this_month_factor,
                     base_month_factor, price_base_month, is_lithium,
                     carbonate_per_unit, materials_per_unit, gwh_per_unit):
    """One pass over firms: each firm's statistics (FIRM_FLOWS + FIRM_STOCKS, in that order)
    added to its scope group's row."""
    out = np.zeros((n_groups, _N_FIRM_COLUMNS))
    year_start = t - t % 12
    for i in range(group.size):
        row = out[group[i]]
        if alive[i]:
            # every firm: all sizes (chain figures in the press count chain firms of all sizes)
            row[1] += revenue[i]                                          # revenue_all_firms
            row[2] += revenue[i] * (lithium_gross_up if lithium_member[i] else 1.0)
            row[10] += profit[i]                                          # profit_all_firms
            row[17] += revenue[i] * extra_memberships[i]                  # revenue_double_counted
            row[25] += 1.0                                                # firms_alive
            if high_tech[i]:
                row[27] += 1.0                                            # high_tech_firms
            if is_lithium[segment[i]]:                  # physical units: the lithium segments
                if mid_down[i]:
                    row[14] += revenue[i]                                 # lithium_mid_down_revenue
                row[18] += volume[i] * carbonate_per_unit[segment[i]]
                row[19] += volume[i] * materials_per_unit[segment[i]]
                row[20] += volume[i] * gwh_per_unit[segment[i]]
        row[12] += subsidy_income[i]
        row[15] += upgrades[i]
        row[16] += digital_projects[i]
        if chain_leader[i]:
            row[26] += 1.0                                                # chain_leaders
        if not (above_scale[i] and alive[i]):
            continue
        # above-scale firms: the city's statistics; real value added at last year's average
        # prices on both sides (``comparable_price_factors``)
        prevprice = revenue[i] * this_month_factor[segment[i]]
        base = revenue_base_month[i] * base_month_factor[segment[i]]
        new = 1.0 if born_month[i] >= year_start - 12 else 0.0
        row[0] += revenue[i]
        row[3] += value_added[i]
        row[4] += prevprice
        row[5] += base                                                    # value_added_base
        row[6] += prevprice * new                                         # ..._prevprice_new
        row[7] += base * new                                              # value_added_base_new
        if emerging[i]:
            row[8] += value_added[i]                                      # value_added_emerging
        row[9] += profit[i]
        row[11] += rd_spend[i]
        if born_month[i] >= year_start:
            row[13] += revenue[i]                                         # revenue_new_plants
        row[21] += revenue_base_month[i]                                  # revenue_base
        # the same firms' real volume (2021 prices), this month and the same month last year
        row[22] += volume[i]                                              # volume_same_firms
        row[23] += revenue_base_month[i] / price_base_month[segment[i]]   # volume_base_same_firms
        row[24] += 1.0                                                    # above_scale_firms
        row[28] += capital[i] * digital[i]                                # digital_capital
        row[29] += capital[i]                                             # capital_above_scale
        row[30] += 12.0 * capacity[i]                                     # capacity_above_scale
    return out


@jit
def _project_sums(t, sign_month, start_month, done_month, amount, stage, chain, segment,  # noqa: ANN001, ANN202, PLR0913
                  firm, firm_county, sub_segments, etdz, n_chains, lithium_chain, n_scopes):
    """This month's project statistics (PROJECT_FLOWS + PROJECT_STOCKS, in that order) per
    scope: by the project's chain and segment, and by the county of the firm it opened (zone
    statistics count only opened projects)."""
    out = np.zeros((8, n_scopes))
    scopes = np.empty(5, dtype=np.int64)
    etdz_scope = 1 + n_chains + sub_segments.size
    for k in range(amount.size):
        signed = sign_month[k] == t
        if stage[k] == BUILDING:
            stock = 5                                                     # projects_building
        elif stage[k] == PRODUCING and done_month[k] >= 0:
            stock = 6                                                     # projects_producing
        elif stage[k] == DROPPED and start_month[k] >= 0:
            stock = 7                                                     # projects_dropped
        else:
            stock = -1
        if not signed and stock < 0:
            continue
        scopes[0] = 0
        count = 1
        if chain[k] >= 0:
            scopes[count] = 1 + chain[k]
            count += 1
        for j in range(sub_segments.size):
            if segment[k] == sub_segments[j]:
                scopes[count] = 1 + n_chains + j
                count += 1
        if firm[k] >= 0 and firm_county[firm[k]] == etdz:
            scopes[count] = etdz_scope
            count += 1
            if chain[k] == lithium_chain:
                scopes[count] = etdz_scope + 1
                count += 1
        for c in range(count):
            scope = scopes[c]
            if signed:
                out[0, scope] += 1.0                                      # projects_signed
                out[1, scope] += 1.0 if amount[k] >= 1.0 else 0.0
                out[2, scope] += 1.0 if amount[k] >= 20.0 else 0.0        # the "5020" projects
                out[3, scope] += 1.0 if amount[k] >= 50.0 else 0.0
                out[4, scope] += amount[k]                                # projects_signed_amount
            if stock >= 0:
                out[stock, scope] += 1.0
    return out


@jit
def _size_counts(group, n_groups, alive, above_scale, plan_new, revenue_ytd, lines,  # noqa: ANN001, ANN202, PLR0913
                 plan_new_lines):
    """Per scope group, the live above-scale firms with revenue so far this year at or over
    each of `lines`, then the plan's new firms (opened since 2023) over each `plan_new_lines`
    (COUNTS, in order)."""
    out = np.zeros((n_groups, lines.size + plan_new_lines.size))
    for i in range(group.size):
        if not (above_scale[i] and alive[i]):
            continue
        for k in range(lines.size):
            if revenue_ytd[i] >= lines[k]:
                out[group[i], k] += 1.0
        if plan_new[i]:
            for k in range(plan_new_lines.size):
                if revenue_ytd[i] >= plan_new_lines[k]:
                    out[group[i], lines.size + k] += 1.0
    return out
