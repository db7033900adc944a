"""The Mesa model: builds the population, owns the arrays, runs months, exposes results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesa
import numpy as np

from model.agents import Enterprise
from model.anchors import load_anchors
from model.exogenous import build_conditions
from model.government import Government
from model.jit import jit, next_group, runs_of
from model.mechanisms.demography import set_entry_rate
from model.mechanisms.market import CompetitiveGains
from model.mechanisms.projects import ProjectBook, seed_anchor_projects, seed_pipeline
from model.population import (
    below_scale_sizes,
    initialise_firms,
    labour_cost_shares,
    link_suppliers,
    synthesise,
)
from model.sampling import cumulative
from model.scenario import N_MONTHS, ResolvedScenario, dotted, load_scenario
from model.state import FirmViews, Opening
from model.statistics import MONTHLY, Recorder, ScopeGroups
from model.step import one_step
from model.structure import SEGMENTS


def _city(statistic: str) -> Any:
    """A Mesa model reporter: the city's value of a monthly statistic in the month just run."""
    column = MONTHLY.index(statistic)
    return lambda model: float(model.recorder.monthly[model.t - 1, 0, column])


#: The city figures ``datacollector`` holds for each month (the full statistics per scope are
#: in ``model.recorder``); as reporters they read the month just run.
MONTHLY_REPORTERS = {name: _city(name) for name in (
    "revenue", "value_added", "profit", "above_scale_firms", "firms_alive", "chain_leaders",
    "carbonate_tonnes")}
#: Per-firm columns for ``YichunModel(agent_reporters=True)``: each firm's month as an agent.
AGENT_REPORTERS = {"segment": "segment_id", "county": "county_id", "anchor": "anchor",
                   "alive": "alive", "above_scale": "above_scale", "revenue": "revenue",
                   "volume": "volume", "capacity": "capacity", "profit": "profit"}


def _resolve(scenario: ResolvedScenario | str | Path, population_scale: float | None,
             changes: dict[str, Any]) -> ResolvedScenario:
    if not isinstance(scenario, ResolvedScenario):
        scenario = load_scenario(scenario)
    if population_scale is not None:
        changes = {**changes, "run.population_scale": population_scale}
    return scenario.updated(dotted(changes)) if changes else scenario


#: The mechanisms that draw random numbers during a run, each with its own stream per month.
STREAMS = ("market", "innovation", "upgrade", "digital", "sign", "open", "exit", "entry", "links")


@jit
def _capacity_weighted(segment, alive, capacity, productivity, quality, base_capacity,  # noqa: ANN001, ANN202
                       base_productivity):
    """Per segment: live capacity relative to 2021's (1 where a segment had none), and the
    capacity-weighted means of productivity, relative to 2021's, and of quality (1 where a
    segment has no capacity); sums in row order, each segment's running sums in registers,
    as ``sum_by``."""
    n_seg = base_capacity.size
    total, productivity_sum, quality_sum = np.zeros(n_seg), np.zeros(n_seg), np.zeros(n_seg)
    current, a, b, c = 0, 0.0, 0.0, 0.0
    for i in range(segment.size):
        if segment[i] != current:
            a = next_group(total, current, a, segment[i])
            b = next_group(productivity_sum, current, b, segment[i])
            c = next_group(quality_sum, current, c, segment[i])
            current = segment[i]
        weight = capacity[i] * (1.0 if alive[i] else 0.0)
        a += weight
        b += weight * productivity[i]
        c += weight * quality[i]
    total[current], productivity_sum[current], quality_sum[current] = a, b, c
    for s in range(n_seg):
        if total[s] > 0:
            productivity_sum[s] /= total[s]
            quality_sum[s] /= total[s]
        else:
            productivity_sum[s] = quality_sum[s] = 1.0
        productivity_sum[s] /= base_productivity[s]
        total[s] = total[s] / base_capacity[s] if base_capacity[s] > 0 else 1.0
    return total, productivity_sum, quality_sum


class YichunModel(mesa.Model):
    """Yichun's manufacturing firms, January 2022 to December 2026, one step a month.

    Built the Mesa way, every argument has a default: ``scenario`` is a resolved scenario, a
    scenario file or a shipped scenario's name; ``seed`` (or Mesa's ``rng``) an int or a
    ``numpy.random.SeedSequence`` (ensembles spawn one per replication) fixes every random
    number of the run, and None means fresh entropy, as in Mesa (so ``mesa.batch_run``'s
    iterations differ; ``yichun-abm run`` always passes its seeds); ``population_scale``
    scales the firm population; ``agent_reporters`` adds per-firm columns to the
    ``datacollector`` (``AGENT_REPORTERS``: slower, for inspecting firms); any other keyword
    is a scenario key as a dotted path, e.g. ``**{"policy.attraction.projects_per_year":
    450}`` or ``**{"parameters.spillover_share": 0.3}`` (so ``mesa.batch_run`` can sweep
    levers and Mesa's SolaraViz can pass them). The scenario's parameter values are used as
    they stand: ensembles (``model.runner``) replace the estimated ones with posterior draws
    before building each model.
    """

    def __init__(self, scenario: ResolvedScenario | str | Path = "baseline",
                 seed: int | np.random.SeedSequence | None = None, *,
                 rng: int | np.random.SeedSequence | None = None,
                 population_scale: float | None = None, agent_reporters: bool = False,
                 **kwargs: Any) -> None:
        scenario = _resolve(scenario, population_scale, kwargs)
        seed = seed if seed is not None else rng
        seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        super().__init__(rng=np.random.default_rng(seq))
        children = [np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, 0, k))
                    for k in range(len(STREAMS))]
        bits = [np.random.PCG64(child) for child in children]
        self._streams = {name: (b, np.random.Generator(b)) for name, b in zip(STREAMS, bits, strict=True)}
        self._stream_start = {name: b.state for name, b in zip(STREAMS, bits, strict=True)}
        self._streams_month = -1
        self._technology: tuple[int, tuple[np.ndarray, np.ndarray]] = (-1, (np.ones(0), np.ones(0)))
        # live capacity by segment as this month opened, relative to 2021's (``technology``)
        self.relative_capacity = np.ones(len(SEGMENTS))
        # Yichun's share of each segment's market relative to 2021's (market.update_regional_share)
        self.regional_share = np.ones(len(SEGMENTS))
        self.scenario = scenario
        self.policy = scenario.spec.policy
        self.params = scenario.parameters
        self.population_scale = scenario.spec.run.population_scale
        self.n_segments = len(SEGMENTS)
        self.t = 0

        self.conditions = build_conditions(scenario, self.params, self.rng)
        self.firms = synthesise(self.params, self.rng, self.population_scale)
        self.first_entrant = self.firms.n          # rows from here on opened during the run
        self.labour_cost_share = labour_cost_shares(self.params)
        self._views: FirmViews | None = None
        self.waiting_firms: list[Opening] = []     # to open at the month's end, together
        self._subsets: dict[type | str, Any] = {}   # compiled loops' arrays, segment runs
        self.base_demand = np.bincount(self.f.segment, self.f.volume, minlength=self.n_segments)
        self.base_capacity = np.bincount(self.f.segment, self.f.capacity, minlength=self.n_segments)
        self.f.share[:] = self.f.volume / self.base_demand[self.f.segment]
        # real value added as the bureau measures it: last year's value-added ratio by industry
        # and last year's average official deflator (2021: the index base, 1)
        self.segment_va_ratio = np.divide(
            np.bincount(self.f.segment, self.f.unit_va_2021 * self.f.volume, minlength=self.n_segments),
            self.base_demand, out=np.zeros(self.n_segments), where=self.base_demand > 0)
        self.deflator_last_year = np.ones(self.n_segments)
        self.official_price = np.ones(self.n_segments)
        self.segment_price = np.ones(self.n_segments)     # this month's true price index
        weight = self.f.capacity
        self.base_productivity = np.bincount(self.f.segment, weight * self.f.productivity,
                                             minlength=self.n_segments) / np.bincount(
            self.f.segment, weight, minlength=self.n_segments)
        self.entry_segment_cdf = cumulative(self.params.above_scale_firms_2021 / np.sum(
            self.params.above_scale_firms_2021))      # small entrants' segments
        self.entrants_per_month = 0.0
        set_entry_rate(self)
        self.government = Government(self, self.policy)
        self._enterprises: list[Enterprise] = []
        self.scope_groups = ScopeGroups()
        self.scope_groups.assign(self.f, np.arange(self.firms.n))
        self.projects = ProjectBook()
        seed_pipeline(self)
        seed_anchor_projects(self)
        self.recorder = Recorder(self)
        self.competitive_gains = CompetitiveGains()
        # Mesa's DataCollector, collected each month; replace it with your own reporters
        self.datacollector = mesa.DataCollector(
            model_reporters=MONTHLY_REPORTERS,
            agent_reporters=AGENT_REPORTERS if agent_reporters else None)
        self.running = True

    # ------------------------------------------------------------------ firms
    @property
    def f(self) -> FirmViews:
        """Views of the used part of every firm array; rebuilt after firms are added."""
        if self._views is None:
            self._views = FirmViews.of(self.firms)
            self._subsets.clear()
        return self._views

    def segment_runs(self) -> np.ndarray:
        """The first row of each run of one segment's firms, then n (firms are stored by
        segment, each month's entrants after them); made once until firms are added."""
        f = self.f
        runs = self._subsets.get("segment_runs")
        if runs is None:
            runs = self._subsets["segment_runs"] = runs_of(f.segment)
        return runs

    def arrays(self, kind: type) -> tuple:
        """The firm arrays a compiled loop reads, as a named tuple of type `kind` (made with
        ``state.firm_arrays``); made once until firms are added."""
        f = self.f
        subset = self._subsets.get(kind)
        if subset is None:
            subset = self._subsets[kind] = kind.of(f)
        return subset

    def add_firms(self, segment: np.ndarray, revenue: np.ndarray) -> np.ndarray:
        """Open new firms (a Mesa agent each) in the given segments; return their indices."""
        idx = self.firms.add(segment.size)
        self._views = None
        f = self.f
        # a new firm comes with today's technology: its segment's productivity and quality
        initialise_firms(f, idx, segment, revenue, self.params, self.stream("entry"),
                         technology=self.technology(), opening_month=self.t)
        self.scope_groups.assign(f, idx)
        return idx

    # ------------------------------------------------------------------ random streams
    def stream(self, mechanism: str) -> np.random.Generator:
        """This month's random numbers for one mechanism, from its own SeedSequence child.

        Each (month, mechanism) pair has its own block of the mechanism's stream, and draws over
        firms are made in row order, so two scenarios run with the same seed see the same shocks
        for the same firms (common random numbers): a policy change moves results only through
        its own channel.
        """
        if self._streams_month != self.t:
            # month t's numbers start 2^40 x (t + 1) draws into each mechanism's own stream: the
            # same position whatever other months or mechanisms drew (PCG64 jumps ahead
            # cheaply). All streams are set at the month's first draw, one after another: set
            # one at a time between the mechanisms' loops, a reset found its code out of cache
            # (~10 us each in a run, 1.6 us alone; ~5 us together)
            self._streams_month, ahead = self.t, (self.t + 1) << 40
            for name, (bits, _) in self._streams.items():
                bits.state = self._stream_start[name]
                bits.advance(ahead)
        bits, rng = self._streams[mechanism]
        return rng

    # ------------------------------------------------------------------ Mesa agents
    @property
    def enterprises(self) -> list[Enterprise]:
        """Every firm as a Mesa agent, in row order. Agents are made when first asked for (a run
        needs only the arrays), so inspecting firms costs nothing until someone does."""
        for i in range(len(self._enterprises), self.firms.n):
            self._enterprises.append(Enterprise(self, i))
        return self._enterprises

    @property
    def agents(self) -> mesa.agent.AgentSet:
        self.enterprises  # noqa: B018 - make the firms' agents before Mesa lists them
        return super().agents

    @property
    def agents_by_type(self) -> dict[type[mesa.Agent], mesa.agent.AgentSet]:
        self.enterprises  # noqa: B018
        return super().agents_by_type

    def technology(self) -> tuple[np.ndarray, np.ndarray]:
        """This month's capacity-weighted productivity (relative to 2021) and quality, by segment
        (as the month opens: first asked for by demand allocation); ``relative_capacity`` is
        set with them."""
        if self._technology[0] != self.t:
            f = self.f
            self.relative_capacity, productivity, quality = _capacity_weighted(
                f.segment, f.alive, f.capacity, f.productivity, f.quality, self.base_capacity,
                self.base_productivity)
            self._technology = (self.t, (productivity, quality))
        return self._technology[1]

    def productivity_against_rivals(self) -> np.ndarray:
        """Each segment's productivity gain since 2021 over its rivals' elsewhere in China, who
        improve at ``rival_productivity_growth`` a year and pass it on in their prices too:
        only the part of Yichun's gains that outpaces theirs lowers its relative price and wins
        it customers."""
        gain, _ = self.technology()
        return gain / (1.0 + self.params.rival_productivity_growth) ** ((self.t + 1) / 12.0)

    def refresh_scopes(self, idx: np.ndarray) -> None:
        """Recompute the scope rows of firms whose county or memberships changed."""
        self.scope_groups.assign(self.f, idx)

    def anchor_firm(self, anchor_id: str) -> int | None:
        """Row of the live firm that is the named anchor, or None (not open, closed or absent)."""
        numbers = [k for k, a in enumerate(load_anchors()) if a.id == anchor_id]
        rows = np.flatnonzero((self.f.anchor == numbers[0]) & self.f.alive) if numbers else []
        return int(rows[0]) if len(rows) else None

    def link_suppliers_of(self, buyers: np.ndarray, size: np.ndarray,
                          links_per_firm: float | None = None) -> None:
        """Give large firms local suppliers among the chain's small firms (本地配套): new large
        firms ``supplier_links_per_large_firm``, new chain leaders their matched suppliers."""
        pool = np.flatnonzero(self.f.alive & (self.f.supplier_of < 0))
        links = self.params.supplier_links_per_large_firm if links_per_firm is None else links_per_firm
        link_suppliers(self.firms, buyers, pool, links, self.stream("links"), size)

    @property
    def scope_weights(self) -> np.ndarray:
        """(firms x scopes) 0/1 weights: city, chain memberships, development zone."""
        return self.scope_groups.weights(self.firms.n)

    def small_firm_sizes(self, count: int) -> np.ndarray:
        p = self.params
        return below_scale_sizes(count, p.below_scale_median_revenue, p.below_scale_sigma,
                                 self.stream("entry"))

    # ------------------------------------------------------------------ running
    def step(self) -> None:
        one_step(self)
        self.t += 1
        self.running = self.t < N_MONTHS
        if self.datacollector is not None:
            self.datacollector.collect(self)

    def release(self) -> None:
        """Free the model now; call when the run's results are collected and the model is
        discarded (it is unusable afterwards).

        Mesa 3.3.1 keeps every model that ever made an agent in ``Agent._ids`` (fixed upstream
        after 3.3.1, the last release for Python 3.11): that reference goes. The model is also
        in reference cycles (its agents, its recorder and Mesa's wrapped ``step`` refer back
        to it), which Python frees only at its occasional full collection: a worker running
        replications back to back held tens of finished models (290 -> 430 MB over 120
        full-size replications). Emptying the model's attributes breaks the cycles, so its
        arrays are freed at once.
        """
        mesa.Agent._ids.pop(self, None)
        self.__dict__.clear()

    def run(self, months: int = N_MONTHS) -> YichunModel:
        """Step until `months` months have run (all 60 by default: January 2022 to 2026)."""
        while self.t < min(months, N_MONTHS):
            self.step()
        return self
