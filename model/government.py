"""The government: instrument budgets, ranking of applicants, payments, and their ledger.

Budgets are yearly; a fund releases one twelfth a month, and what is unspent carries over
to later months of the same year (not across years), so January's applicants cannot take a
whole year's money. Applicants are ranked by their benefit-cost score and paid in that order
while the month's release lasts; every payment is recorded (month, firm, instrument, amount).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from model.scenario import Policy, month_index

if TYPE_CHECKING:
    from model.economy import YichunModel

#: who a fund may pay (``eligibility`` in a scenario), in the order of the codes
#: ``investment._fund_projects`` reads
ELIGIBILITY = ("all", "above_scale", "sme", "etdz")
INSTRUMENTS: tuple[str, ...] = (
    "tech_upgrade_fund", "digital_transformation_fund", "etdz_digital_fund", "sme_fund",
    "chain_leader_award", "scale_milestone_award", "gazelle_award",
)


class Government:
    """Holds the instruments' rules and budgets and records every payment. Not a Mesa agent:
    ``model.agents`` holds the firms alone, so every agent has the firm attributes
    (``model.agents.select(lambda a: a.alive)``); the government is ``model.government``."""

    def __init__(self, model: YichunModel, policy: Policy) -> None:
        self.model = model
        self.policy = policy
        self.paid_by_year: dict[tuple[str, int], float] = defaultdict(float)
        self._ledger: list[tuple[int, np.ndarray, str, np.ndarray]] = []  # month, firms, fund, paid

    @property
    def policy(self) -> Policy:
        return self._policy

    @policy.setter
    def policy(self, policy: Policy) -> None:
        """Set the policy, and read once each instrument's (enabled, first month, last month)
        and each program's funds (asked for every month)."""
        self._policy = policy
        self._window = {name: (inst.enabled, month_index(inst.start), month_index(inst.end))
                        for name in INSTRUMENTS for inst in (self._instrument(name),)}
        self._funds = {program: [(name, inst) for name, inst in policy.instruments.funds().items()
                                 if inst.program == program] for program in ("upgrade", "digital")}
        self._budgets: dict[tuple[str, int], float] = {}     # (instrument, year): 亿元
        self._fund_rules = {program: np.array(
            [(inst.subsidy_rate, inst.per_project_cap, 0.0, ELIGIBILITY.index(inst.eligibility))
             for _, inst in funds]).reshape(-1, 4) for program, funds in self._funds.items()}

    # ------------------------------------------------------------------ budgets
    def _instrument(self, name: str):
        return getattr(self.policy.instruments, name)

    def active(self, name: str, t: int) -> bool:
        enabled, first, last = self._window[name]
        return enabled and first <= t <= last

    def fund_terms(self, program: str, t: int) -> tuple[list[str], np.ndarray]:
        """The funds of a program open in month t, in ranking order, and their terms as rows
        (subsidy rate, cap per project, money left this month, ``ELIGIBILITY`` code)."""
        funds = self._funds[program]
        open_now = [k for k, (name, _) in enumerate(funds) if self.active(name, t)]
        terms = self._fund_rules[program][open_now]
        for row, k in enumerate(open_now):
            terms[row, 2] = self.available(funds[k][0], t)
        return [funds[k][0] for k in open_now], terms

    def yearly_budget(self, name: str, year: int) -> float:
        budget = self._budgets.get((name, year))
        if budget is None:                   # read once per instrument and year
            inst = self._instrument(name)
            budget = float(inst.budget(year) if hasattr(inst, "budget") else inst.budget_per_year)
            self._budgets[(name, year)] = budget
        return budget

    def available(self, name: str, t: int) -> float:
        """Money this instrument may still pay in month t: released so far this year minus paid."""
        if not self.active(name, t):
            return 0.0
        year, month = 2022 + t // 12, t % 12
        first = max(self._window[name][1] - (year - 2022) * 12, 0)
        months_open = 12 - first
        released = self.yearly_budget(name, year) * (month - first + 1) / months_open
        return max(released - self.paid_by_year[(name, year)], 0.0)

    # ------------------------------------------------------------------ paying
    def allocate(self, name: str, t: int, firms: np.ndarray, requests: np.ndarray,
                 scores: np.ndarray) -> np.ndarray:
        """Pay the best-ranked requests that fit this month's money; return the amounts paid."""
        paid = np.zeros(firms.size)
        budget = self.available(name, t)
        if firms.size == 0 or budget <= 0:
            return paid
        order = np.argsort(-scores, kind="stable")
        fits = np.cumsum(requests[order]) <= budget + 1e-12
        chosen = order[fits]
        paid[chosen] = requests[chosen]
        self.record(name, t, firms[chosen], requests[chosen])
        return paid

    def record(self, name: str, t: int, firms: np.ndarray, amounts: np.ndarray) -> None:
        if firms.size == 0:
            return
        self.paid_by_year[(name, 2022 + t // 12)] += float(amounts.sum())
        self._ledger.append((t, firms.copy(), name, amounts.copy()))
        f = self.model.f
        f.subsidy_income[firms] += amounts
        f.subsidies_total[firms] += amounts

    def ledger(self) -> dict[str, np.ndarray]:
        """Every payment: month index, firm index, instrument, amount (亿元)."""
        if not self._ledger:
            return {"month": np.zeros(0, int), "firm": np.zeros(0, int),
                    "instrument": np.zeros(0, dtype="<U32"), "amount": np.zeros(0)}
        months, firms, names, amounts = zip(*self._ledger, strict=True)
        counts = [a.size for a in amounts]
        return {
            "month": np.repeat(np.array(months), counts),
            "firm": np.concatenate(firms),
            "instrument": np.repeat(np.array(names, dtype="<U32"), counts),
            "amount": np.concatenate(amounts),
        }
