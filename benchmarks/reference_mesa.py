"""A plain object-per-agent Mesa implementation of the firm rules: the speed reference.

Every firm is a ``mesa.Agent`` holding its own Python floats, with one method per mechanism;
the model calls them with ``model.agents.do(...)`` in the economic order of
``model/step.py``. Segment totals (market shares, prices) are summed over the agents between
phases. It starts from the vectorised engine's end-2021 state (same population, conditions
and random generator), and draws its random numbers from the same per-month, per-mechanism
streams in the same order, one array per mechanism with each agent reading its element, so
with the same seed the two produce the same numbers up to floating-point summation order.

Scope: the firm rules — demand allocation, production and costs, R&D, expectations, capacity
and expansion, technical-upgrade and digital projects without funds, accounts, loss-driven and
background exits, the above-scale line. City-level processes (attracted projects, small-firm
entry, statuses and awards, government funds, local supplier links) are switched off in the
equivalence test and the benchmark, for both implementations.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from model.economy import YichunModel
from model.mechanisms.demography import chance_of_either
from model.mechanisms.innovation import BASE_RD_SUBSIDY
from model.mechanisms.investment import CAPACITY_GAIN, PROGRAMS
from model.mechanisms.market import capacity_pulls, share_adjustment, share_persistence
from model.sampling import bernoulli_rows
from model.scenario import N_MONTHS, ResolvedScenario
from model.state import BOOL_FIELDS, FLOAT_FIELDS, INT_FIELDS
from model.structure import ABOVE_SCALE_LINE, SEGMENT_INDEX, SEGMENTS

UPSTREAM = SEGMENT_INDEX["li_upstream"]

#: the scenario changes that switch the city-level processes off
FIRM_RULES_ONLY = {
    "policy": {
        "instruments": {name: {"enabled": False} for name in (
            "tech_upgrade_fund", "digital_transformation_fund", "etdz_digital_fund", "sme_fund",
            "chain_leader_award", "scale_milestone_award", "gazelle_award")},
        "attraction": {"projects_per_year": 0},
        "chain_leaders": {"recognition_start": "2030-01"},
    },
    "parameters": {"projects_per_year_before_2022": 0, "small_firm_pool_growth": -0.2,
                   "supplier_links_per_large_firm": 0},
}


class Firm(mesa.Agent):
    """One enterprise with its own state; each method is one mechanism for this firm."""

    def __init__(self, model: ReferenceModel, index: int, state: dict[str, float]) -> None:
        super().__init__(model)
        self.index = index
        self.__dict__.update(state)

    # ------------------------------------------------------------ 2. demand allocation
    def competitiveness(self) -> float:
        p = self.model.params
        return self.productivity * self.quality ** p.quality_weight * (
            1.0 + p.digital_weight * self.digital)

    def drift_appeal(self, z: float) -> None:
        m, p = self.model, self.model.params
        size = max(12.0 * self.capacity * 0.8, 0.01)
        sigma = p.appeal_volatility * size ** p.volatility_size_elasticity
        young = (m.t - self.born_month < 60) and size < 5.0
        drift = young * p.young_firm_growth / 12.0
        self.appeal = math.exp(p.appeal_persistence * math.log(self.appeal) + drift + sigma * z)

    def pull(self) -> float:
        m = self.model
        usable = self.capacity * m.conditions.capacity_factor[m.t, self.segment] * self.alive
        gain = self.competitiveness() / self.competitiveness_base
        return usable * gain ** m.params.competitiveness_elasticity * self.appeal

    def update_share(self) -> None:
        m, p = self.model, self.model.params
        total = m.pull_total[self.segment]
        target = self.my_pull / (total if total > 0 else 1.0)
        keep = share_persistence(p)[self.segment]    # none for carbonate and captive cell lines
        self.share = (keep * self.share + (1.0 - keep) * target) * self.alive

    def set_demand(self) -> None:
        m = self.model
        total = m.share_total[self.segment]
        self.share = self.share / (total if total > 0 else 1.0)
        self.demand = self.share * m.segment_demand[self.segment]
        self.ceiling = (self.capacity * m.conditions.capacity_factor[m.t, self.segment] * self.alive
                        * m.params.max_utilisation)
        if self.segment == UPSTREAM:     # a refiner takes the price and sells what it makes
            self.demand = self.ceiling

    def spill_over(self) -> None:
        """Part of the orders beyond capacity go to the segment's firms with spare capacity."""
        m, s = self.model, self.segment
        excess = m.params.spillover_share * max(self.demand - self.ceiling, 0.0)
        spare = max(self.ceiling - self.demand, 0.0)
        moved = min(m.excess[s], m.spare[s])
        take = moved / m.spare[s] if m.spare[s] > 0 else 0.0
        give = moved / m.excess[s] if m.excess[s] > 0 else 0.0
        self.demand = self.demand - give * excess + take * spare

    # ------------------------------------------------------------ 3. production
    def produce(self) -> None:
        m, p, c, t = self.model, self.model.params, self.model.conditions, self.model.t
        s = self.segment
        price = m.price[s]
        linked = c.lithium_index[t]
        if s == UPSTREAM and not self.integrated:
            linked = max(linked, p.concentrate_floor)
        inputs = (1.0 - self.lithium_exposure) * c.other_price[t] + self.lithium_exposure * linked
        materials = p.material_cost_share[s] * inputs
        cash_cost = (materials + m.labour_cost_share[s] * c.other_price[t]) / self.productivity
        shortfall = min(max((cash_cost - price) / (p.shutdown_band * cash_cost), 0.0), 1.0)
        ceiling = self.capacity * c.capacity_factor[t, s] * p.max_utilisation
        self.volume = min(self.demand, ceiling) * (1.0 - shortfall) * self.alive
        self.revenue = price * self.volume
        self.material_cost = self.volume * materials / self.productivity
        labour = self.volume * m.labour_cost_share[s] * c.other_price[t] / self.productivity
        overheads = p.fixed_cost_rate * self.capacity * c.other_price[t]
        depreciation = p.depreciation_rate / 12.0 * self.capital
        interest = p.interest_rate / 12.0 * self.debt
        self.rd_spend = self.rd_intensity * self.revenue
        self.total_cost = (self.material_cost + labour + overheads + depreciation + interest
                           + self.rd_spend)
        self.value_added = self.revenue - self.material_cost - overheads
        self.value_added_prevprice = (self.revenue * m.deflator_last_year[s] / m.official_price[s]
                                      * m.segment_va_ratio[s])
        self.value_added_ytd += self.value_added

    # ------------------------------------------------------------ 5. R&D
    def research(self, u: float) -> bool:
        m, p = self.model, self.model.params
        deduction = m.policy.instruments.rd_super_deduction.extra_deduction_rate
        factor = (1 + p.rd_response * deduction * p.tax_rate) / (1 + p.rd_response * BASE_RD_SUBSIDY)
        target = self.rd_base * (1 + p.rd_trend) ** ((m.t + 6) / 12) * factor
        self.rd_intensity += p.rd_adjustment * (target - self.rd_intensity)
        hazard = p.rd_success_rate * self.rd_intensity * 100.0 / 12.0
        return bool(self.alive and u < -math.expm1(-hazard))

    def innovate(self, gain: float) -> None:
        self.productivity *= 1.0 + gain
        self.capacity *= (1.0 + gain) ** self.model.params.tfp_output_elasticity
        self.quality *= 1.0 + gain

    # ------------------------------------------------------------ 4. investment
    def update_expectations(self) -> None:
        w = self.model.params.expectation_weight
        utilisation = self.volume / self.capacity if self.capacity > 0 else 0.0
        margin = (self.revenue - self.total_cost) / self.revenue if self.revenue > 0 else 0.0
        self.utilisation_expected = (1 - w) * self.utilisation_expected + w * utilisation
        self.margin_expected = (1 - w) * self.margin_expected + w * margin

    def mature_capacity(self) -> None:
        p = self.model.params
        done = self.pending_expansion * self.expansion_rate
        self.pending_expansion -= done
        ramped = min(self.ramp_step, self.ramping) if self.ramping != 0.0 else 0.0
        self.ramping -= ramped
        self.ramp_step = self.ramp_step if self.ramping > 0.0 else 0.0
        self.capacity += done + ramped
        self.capacity *= 1.0 - (self.loss_months >= 6) * p.loss_shrink_rate

    def finance(self) -> float:
        return max(self.cash + self.model.params.credit_to_capital * self.capital - self.debt, 0.0)

    def expand(self) -> None:
        m, p = self.model, self.model.params
        thr = p.expansion_utilisation_threshold
        pressure = min(max((self.utilisation_expected - thr) / (1 - thr), 0.0), 1.0)
        profitability = min(max(self.margin_expected / 0.1, 0.0), 1.0)
        go = self.margin_expected > p.expansion_margin_threshold and self.alive
        added = p.expansion_speed * self.capacity * pressure * profitability * go
        cost = added * 12.0 * p.capital_output_ratio * m.conditions.other_price[m.t]
        scale = min(1.0, self.finance() / cost) if cost > 0 else 1.0
        self.pending_expansion += added * scale
        self.capital += cost * scale
        self.cash -= cost * scale

    def consider_project(self, program: str, noise: float) -> None:
        """A technical-upgrade or digital project, weighed at full cost (no fund is open)."""
        m, p = self.model, self.model.params
        review, cost_share, gain, digital_gain = (p.values[k] for k in m.programs[program])
        capacity_gain = p.values[CAPACITY_GAIN[program]] if CAPACITY_GAIN[program] else 0.0
        cost = cost_share * self.capital * m.conditions.other_price[m.t]
        variable_cost = 12.0 * (self.total_cost - self.rd_spend)
        bound = min(max(self.utilisation_expected / p.max_utilisation, 0.0), 1.0) ** 4
        factor = (1.0 + capacity_gain) * (1.0 + gain) ** p.tfp_output_elasticity
        extra_margin = (factor - 1.0) * bound * 12.0 * max(self.revenue - self.total_cost, 0.0)
        benefit = (gain * variable_cost + extra_margin) * p.project_horizon_years
        affordable = cost <= self.finance()
        if affordable and benefit * noise >= p.upgrade_hurdle * cost:
            self.productivity *= 1.0 + gain
            self.capacity *= factor
            self.digital += digital_gain * (1.0 - self.digital)
            self.capital += cost
            self.cash -= cost

    # ------------------------------------------------------------ accounts, entry and exit
    def close_accounts(self) -> None:
        m, p = self.model, self.model.params
        self.profit = (self.revenue - self.total_cost + self.subsidy_income) * self.alive
        deduction = m.policy.instruments.rd_super_deduction.extra_deduction_rate
        tax = p.tax_rate * max(self.profit - deduction * self.rd_spend, 0.0)
        depreciation = p.depreciation_rate / 12.0 * self.capital
        self.capital -= depreciation
        self.cash += self.profit - tax + depreciation
        borrow = max(-self.cash, 0.0)
        self.debt += borrow
        self.cash += borrow
        repay = min(self.debt, max(self.cash - 0.05 * self.revenue_last_year, 0.0))
        self.debt -= repay
        self.cash -= repay
        settled = m.t - self.born_month >= p.ramp_up_months
        self.loss_months = self.loss_months + 1 if (self.profit < 0 and settled) else 0
        self.revenue_ytd += self.revenue
        self.profit_ytd += self.profit

    def maybe_close(self, u: float) -> None:
        """Close with this firm's chance of exit (u: uniform below the highest such chance)."""
        p = self.model.params
        on_its_own = self.anchor < 0                 # a named group's plant does not close on losses
        losing = p.exit_probability if self.loss_months >= p.exit_loss_months and on_its_own else 0.0
        small = not (self.above_scale or self.ramping > 0)
        background = p.below_scale_exit_rate / 12.0 if small else 0.0
        if self.alive and u < chance_of_either(losing, background):
            self.alive = self.above_scale = self.chain_leader = False
            self.capacity = self.pending_expansion = self.ramping = self.ramp_step = 0.0
            self.share = 0.0

    def roll_year(self) -> None:
        self.revenue_two_years_ago = self.revenue_last_year
        self.revenue_last_year = self.revenue_ytd
        margin = self.profit_ytd / self.revenue_ytd if self.revenue_ytd > 0 else 0.0
        self.margin_two_years_ago = self.margin_last_year
        self.margin_last_year = margin
        self.revenue_ytd = self.profit_ytd = 0.0
        self.above_scale = bool(self.alive and self.revenue_last_year >= ABOVE_SCALE_LINE)

    def reset_volume(self) -> None:
        self.value_added_ytd = 0.0


class ReferenceModel(mesa.Model):
    """The same economy, one Python object per firm."""

    def __init__(self, scenario: ResolvedScenario, seed: int | np.random.SeedSequence) -> None:
        engine = YichunModel(scenario, seed=seed)      # the shared end-2021 state
        super().__init__(seed=0)  # Mesa's own streams are unused (agents run with do, in order)
        self.engine = engine      # lends its per-month, per-mechanism random streams
        self.params, self.policy, self.conditions = engine.params, engine.policy, engine.conditions
        self.labour_cost_share = engine.labour_cost_share
        self.base_demand, self.base_productivity = engine.base_demand, engine.base_productivity
        self.base_capacity, self.segment_va_ratio = engine.base_capacity, engine.segment_va_ratio.copy()
        self.deflator_last_year = engine.deflator_last_year.copy()
        self.deflators = np.ones((12, engine.n_segments))
        self.regional_share = np.ones(engine.n_segments)
        self.lithium = np.array([seg.lithium_stage is not None for seg in SEGMENTS])
        self.n_segments, self.scope_weights = engine.n_segments, engine.scope_weights
        self.programs = PROGRAMS
        self.t = 0
        f = engine.f
        names = (*FLOAT_FIELDS, *INT_FIELDS, *BOOL_FIELDS)
        self.firms = [Firm(self, i, {k: getattr(f, k)[i].item() for k in names})
                      for i in range(f.n)]
        self.yearly: dict[int, dict[str, float]] = {}
        self.flows = {"revenue": 0.0, "profit": 0.0, "value_added": 0.0, "value_added_prevprice": 0.0}

    def segment_sum(self, values) -> np.ndarray:
        out = np.zeros(self.n_segments)
        for firm, v in zip(self.firms, values, strict=True):
            out[firm.segment] += v
        return out

    def stream(self, mechanism: str) -> np.random.Generator:
        self.engine.t = self.t
        return self.engine.stream(mechanism)

    def step(self) -> None:
        firms, t, p, c = self.agents, self.t, self.params, self.conditions
        for firm in self.firms:
            firm.subsidy_income = 0.0
        if t % 12 == 0 and t > 0:
            firms.do("roll_year")
            revenue = self.segment_sum(f.revenue_last_year for f in self.firms)
            value_added = self.segment_sum(f.value_added_ytd for f in self.firms)
            for s in range(self.n_segments):
                if revenue[s] > 0:
                    self.segment_va_ratio[s] = max(value_added[s] / revenue[s], 0.0)
            firms.do("reset_volume")
        # 2. demand allocation
        z = self.stream("market").standard_normal(len(self.firms))
        for firm in self.firms:
            firm.drift_appeal(z[firm.index])
        for firm in self.firms:
            firm.my_pull = firm.pull()
        self.pull_total = self.segment_sum(f.my_pull for f in self.firms)
        firms.do("update_share")
        self.share_total = self.segment_sum(f.share for f in self.firms)
        capacity = self.segment_sum(f.capacity * f.alive for f in self.firms)
        relative = np.divide(capacity, self.base_capacity, out=np.ones_like(capacity),
                             where=self.base_capacity > 0)
        theta = capacity_pulls(p)
        weight = [f.capacity * f.alive for f in self.firms]
        total = self.segment_sum(weight)
        mean = self.segment_sum(w * f.productivity for w, f in zip(weight, self.firms, strict=True))
        rivals = (1.0 + p.rival_productivity_growth) ** ((t + 1) / 12.0)
        gain = np.divide(mean, total, out=np.ones(self.n_segments), where=total > 0) / (
            self.base_productivity * rivals)
        speed = share_adjustment(p)                # Yichun's share moves toward its capacity's
        self.regional_share = (self.regional_share ** (1.0 - speed)
                               * ((relative / c.market[t]) ** theta) ** speed)
        self.segment_demand = (self.base_demand * c.real_demand[t] * self.regional_share
                               * gain ** (p.productivity_price_pass_through * p.price_elasticity))
        up = SEGMENT_INDEX["li_upstream"]    # the refiners sell what they can make
        self.segment_demand[up] = capacity[up] * c.capacity_factor[t, up] * p.max_utilisation
        firms.do("set_demand")
        self.excess = self.segment_sum(p.spillover_share * max(f.demand - f.ceiling, 0.0)
                                       for f in self.firms)
        self.spare = self.segment_sum(max(f.ceiling - f.demand, 0.0) for f in self.firms)
        firms.do("spill_over")
        # 3. production, at prices lowered by the segment's productivity gains
        weight = [f.capacity * f.alive for f in self.firms]
        total = self.segment_sum(weight)
        mean = self.segment_sum(w * f.productivity for w, f in zip(weight, self.firms, strict=True))
        mean = np.divide(mean, total, out=np.ones(self.n_segments), where=total > 0)
        self.price = self.conditions.price[t] * (mean / self.base_productivity) ** (
            -self.params.productivity_price_pass_through)
        self.official_price = self.price * self.conditions.official_adjust[t]
        self.deflators[t % 12] = self.official_price
        firms.do("produce")
        # 5. R&D
        rng = self.stream("innovation")
        u = rng.random(len(self.firms))
        winners = [f for f in self.firms if f.research(u[f.index])]
        for firm, gain in zip(winners, rng.exponential(self.params.rd_gain_mean, len(winners)),
                              strict=True):
            firm.innovate(gain)
        # 4. investment
        firms.do("update_expectations")
        firms.do("mature_capacity")
        firms.do("expand")
        for program in ("upgrade", "digital"):
            review = self.params.values[self.programs[program][0]]
            rng = self.stream(program)
            reviewing = bernoulli_rows(rng, len(self.firms), review)
            candidates = [f for f in (self.firms[i] for i in reviewing) if f.alive and f.capital > 0]
            noise = np.exp(rng.normal(0.0, self.params.decision_noise, len(candidates)))
            for firm, eps in zip(candidates, noise, strict=True):
                firm.consider_project(program, eps)
        firms.do("close_accounts")
        # 6. exits (no projects are signed and no firms enter here)
        rng = self.stream("exit")
        p = self.params
        highest = chance_of_either(p.exit_probability, p.below_scale_exit_rate / 12.0)
        picked = bernoulli_rows(rng, len(self.firms), highest)
        for i, u in zip(picked, rng.random(picked.size) * highest, strict=True):
            self.firms[i].maybe_close(u)
        # 8. statistics: flows of above-scale firms, stocks at December
        above = [f for f in self.firms if f.alive and f.above_scale]
        for name in self.flows:
            self.flows[name] += sum(getattr(f, name) for f in above)
        if t % 12 == 11:
            self.deflator_last_year = self.deflators.mean(axis=0)
            self.yearly[2022 + t // 12] = {**self.flows, "above_scale_firms": float(len(above)),
                                           "firms_alive": float(sum(f.alive for f in self.firms))}
            self.flows = dict.fromkeys(self.flows, 0.0)
        self.t += 1

    def run(self) -> ReferenceModel:
        while self.t < N_MONTHS:
            self.step()
        return self
