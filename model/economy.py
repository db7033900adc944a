"""The Mesa model: builds the population, owns the arrays, runs months, exposes results."""

from __future__ import annotations

import mesa
import numpy as np

from model.agents import Enterprise
from model.exogenous import build_conditions
from model.government import Government
from model.mechanisms.projects import ProjectBook, seed_pipeline
from model.population import (
    below_scale_sizes,
    initialise_firms,
    labour_cost_shares,
    synthesise,
)
from model.scenario import N_MONTHS, ResolvedScenario
from model.state import FirmViews
from model.statistics import Recorder, scope_matrix
from model.step import one_step
from model.structure import SCOPES, SEGMENTS


class YichunModel(mesa.Model):
    """Yichun's manufacturing firms, January 2022 to December 2026, one step a month.

    ``seed`` may be an int or a ``numpy.random.SeedSequence`` (ensembles spawn one per
    replication); it fixes every random number of the run.
    """

    def __init__(self, scenario: ResolvedScenario, seed: int | np.random.SeedSequence | None = None,
                 ) -> None:
        seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(
            scenario.spec.run.seed if seed is None else seed)
        super().__init__(rng=np.random.default_rng(seq))
        self.scenario = scenario
        self.policy = scenario.spec.policy
        self.params = scenario.parameters
        self.population_scale = scenario.spec.run.population_scale
        self.n_segments = len(SEGMENTS)
        self.t = 0

        self.conditions = build_conditions(scenario, self.params, self.rng)
        self.firms = synthesise(self.params, self.rng, self.population_scale)
        self.labour_cost_share = labour_cost_shares(self.params)
        self._views: FirmViews | None = None
        self.base_demand = np.bincount(self.f.segment, self.f.volume, minlength=self.n_segments)
        self.f.share[:] = self.f.volume / self.base_demand[self.f.segment]
        weight = self.f.capacity
        self.base_productivity = np.bincount(self.f.segment, weight * self.f.productivity,
                                             minlength=self.n_segments) / np.bincount(
            self.f.segment, weight, minlength=self.n_segments)
        self.entry_segment_weights = self.params.above_scale_firms_2021 / np.sum(
            self.params.above_scale_firms_2021)
        self.government = Government(self, self.policy)
        self.enterprises: list[Enterprise] = [Enterprise(self, i) for i in range(self.firms.n)]
        self._scope = np.zeros((self.firms.size, len(SCOPES)))
        self._scope[: self.firms.n] = scope_matrix(self.f)
        self.projects = ProjectBook()
        seed_pipeline(self)
        self.recorder = Recorder(self)

    # ------------------------------------------------------------------ firms
    @property
    def f(self) -> FirmViews:
        """Views of the used part of every firm array; rebuilt after firms are added."""
        if self._views is None:
            self._views = FirmViews(self.firms)
        return self._views

    def add_firms(self, segment: np.ndarray, revenue: np.ndarray) -> np.ndarray:
        """Open new firms (a Mesa agent each) in the given segments; return their indices."""
        idx = self.firms.add(segment.size)
        initialise_firms(self.firms, idx, segment, revenue, self.params, self.rng)
        self.firms.born_month[idx] = self.t
        self.firms.revenue_last_year[idx] = 0.0
        self._views = None
        self.enterprises += [Enterprise(self, int(i)) for i in idx]
        if self._scope.shape[0] < self.firms.size:
            grown = np.zeros((self.firms.size, len(SCOPES)))
            grown[: self._scope.shape[0]] = self._scope
            self._scope = grown
        self._scope[idx] = scope_matrix(self.f, idx)
        return idx

    @property
    def scope_weights(self) -> np.ndarray:
        """(firms x scopes) 0/1 weights: city, chain memberships, development zone."""
        return self._scope[: self.firms.n]

    def small_firm_sizes(self, count: int) -> np.ndarray:
        p = self.params
        return below_scale_sizes(count, p.below_scale_median_revenue, p.below_scale_sigma, self.rng)

    # ------------------------------------------------------------------ running
    def step(self) -> None:
        one_step(self)
        self.t += 1

    def run(self, months: int = N_MONTHS) -> YichunModel:
        """Step until `months` months have run (all 60 by default: January 2022 to 2026)."""
        while self.t < min(months, N_MONTHS):
            self.step()
        return self
