"""Policy attribution: the difference between a scenario and its counterfactual split among
the plan's policy groups by Shapley values (Shapley 1953), on common random numbers.

Every coalition of groups is switched on over the counterfactual (its keys copied from the
scenario) and run on the same seeds and posterior draws, so each replication gives a whole
coalition game; its Shapley values are computed replication by replication and averaged, which
gives standard errors that keep the pairing. With n groups that differ there are 2^n
coalitions: exact up to ``EXACT_UP_TO`` groups, by permutation sampling (Castro et al. 2009)
beyond. Each coalition's outcomes are saved as it finishes, so an interrupted attribution
resumes where it stopped, and the numbers do not depend on the number of workers.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from model.analysis.targets import Target, load_targets, target_values
from model.errors import InputError
from model.paths import SCENARIO_DIR
from model.runner import YEARLY_STATS, run_replication
from model.scenario import ResolvedScenario
from model.statistics import YEARS
from model.structure import CHAINS, SCOPES
from model.yamlio import atomic_path, load_yaml_with_lines, plain_message

GROUPS_FILE = SCENARIO_DIR / "attribution" / "groups.yaml"
EXACT_UP_TO = 8                 # 2^8 = 256 coalitions; permutation sampling beyond
PLAN_YEARS = (2023, 2024, 2025, 2026)


class Group(BaseModel):
    model_config = ConfigDict(extra="forbid")
    zh: str = ""
    keys: list[str] = Field(min_length=1)


class GroupsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    groups: dict[str, Group] = Field(min_length=1)


# ---------------------------------------------------------------- groups and coalitions
def _lookup(data: dict[str, Any], key: str) -> tuple[bool, Any]:
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _known_key(key: str) -> bool:
    """A dotted path of the scenario schema (policy.instruments.sme_fund, policy.approval)."""
    from model.scenario import Scenario

    model: Any = Scenario
    for part in key.split("."):
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return False
        model = fields[part].annotation
    return True


def load_groups(path: Path = GROUPS_FILE) -> dict[str, Group]:
    """The policy groups; an unknown key, a key in two groups or an empty group is one line
    naming the file and the group."""
    data, lines = load_yaml_with_lines(path)
    try:
        parsed = GroupsFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(x) for x in err["loc"])
        raise InputError(path, key, plain_message(err, GroupsFile), lines.get(key)) from None
    owner: dict[str, str] = {}
    for name, group in parsed.groups.items():
        for key in group.keys:
            if not key.startswith("policy.") or not _known_key(key):
                raise InputError(path, f"groups.{name}.keys", f"'{key}' is not a policy key of "
                                 "the scenario format (policy.instruments.<fund>, "
                                 "policy.attraction, policy.approval, policy.chain_leaders)")
            for other, first in owner.items():
                if key == other or key.startswith(other + ".") or other.startswith(key + "."):
                    raise InputError(path, f"groups.{name}.keys", f"'{key}' overlaps '{other}' "
                                     f"of group '{first}': a key belongs to one group only")
            owner[key] = name
    return parsed.groups


def differing(scenario: ResolvedScenario, against: ResolvedScenario, keys: list[str]) -> bool:
    return any(_lookup(scenario.data, k) != _lookup(against.data, k) for k in keys)


def uncovered(scenario: ResolvedScenario, against: ResolvedScenario,
              groups: dict[str, Group]) -> list[str]:
    """Policy keys where the two scenarios differ that no group covers."""
    keys = [k for g in groups.values() for k in g.keys]
    out = []

    def walk(a: Any, b: Any, path: str) -> None:
        if any(path == k or path.startswith(k + ".") for k in keys):
            return
        if isinstance(a, dict) or isinstance(b, dict):
            a, b = a if isinstance(a, dict) else {}, b if isinstance(b, dict) else {}
            for key in sorted(set(a) | set(b), key=str):
                walk(a.get(key), b.get(key), f"{path}.{key}")
        elif a != b:
            out.append(path)

    walk(scenario.data.get("policy"), against.data.get("policy"), "policy")
    return out


def coalition(scenario: ResolvedScenario, against: ResolvedScenario, groups: dict[str, Group],
              members: Iterable[str]) -> ResolvedScenario:
    """The counterfactual with the members' keys as the scenario has them (a key the scenario
    leaves unset is unset, so its default applies)."""
    data = copy.deepcopy(against.data)
    for name in members:
        for key in groups[name].keys:
            *parents, last = key.split(".")
            present, value = _lookup(scenario.data, key)
            node = data
            for part in parents:
                node = node.setdefault(part, {})
            if present:
                node[last] = copy.deepcopy(value)
            else:
                node.pop(last, None)
    data["name"] = scenario.name
    return against.replaced(data)


# ---------------------------------------------------------------- outcomes of one run
def outcome_names() -> list[str]:
    targets = load_targets().targets
    return (["revenue_2026", "revenue_cagr_2023_2026", "value_added_2026"]
            + [f"real_va_growth_{y}" for y in PLAN_YEARS]
            + [f"revenue_2026_{c}" for c in CHAINS]
            + ["public_money_2023_2026"]
            + [f"met_{t.id}" for t in targets])


def outcomes(yearly: np.ndarray, targets: list[Target]) -> np.ndarray:
    """One replication's outcomes (yearly: years x scopes x stats), in outcome_names() order
    (`targets`: the targets file's, read once by the caller)."""
    def stat(name: str, year: int, scope: str = "total") -> float:
        return float(yearly[YEARS.index(year), SCOPES.index(scope), YEARLY_STATS.index(name)])

    revenue_2022, revenue_2026 = stat("revenue", 2022), stat("revenue", 2026)
    cagr = 100.0 * ((revenue_2026 / revenue_2022) ** 0.25 - 1.0) if revenue_2022 > 0 else np.nan
    values = [revenue_2026, cagr, stat("value_added", 2026)]
    values += [stat("value_added_real_growth_pct", y) for y in PLAN_YEARS]
    values += [stat("revenue_all_firms", 2026, c) for c in CHAINS]
    values.append(sum(stat("subsidy_income", y) for y in PLAN_YEARS))
    for target in targets:
        value = float(target_values(target, yearly[None])[0])
        values.append(float(value >= target.threshold))
    return np.array(values)


def _run(args: tuple[ResolvedScenario, int, int, list[dict[str, Any]] | None, list[Target]]
         ) -> np.ndarray:
    scenario, seed, index, draws, targets = args
    return outcomes(run_replication(scenario, seed, index, draws).yearly, targets)


# ---------------------------------------------------------------- Shapley values
def shapley_exact(n: int, value: Callable[[frozenset[int]], np.ndarray]) -> np.ndarray:
    """Exact Shapley values of n players (n x outcome shape): value(S) for every coalition S."""
    cache = {frozenset(s): value(frozenset(s)) for r in range(n + 1)
             for s in itertools.combinations(range(n), r)}
    out = np.zeros((n, *np.shape(cache[frozenset()])))
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for r in range(n):
            weight = math.factorial(r) * math.factorial(n - r - 1) / math.factorial(n)
            for s in itertools.combinations(others, r):
                s = frozenset(s)
                out[i] += weight * (cache[s | {i}] - cache[s])
    return out


def permutations(n: int, count: int, seed: int) -> list[tuple[int, ...]]:
    """`count` random orders of n players (antithetic pairs: each order and its reverse)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(41,)))
    out: list[tuple[int, ...]] = []
    while len(out) < count:
        order = tuple(int(x) for x in rng.permutation(n))
        out += [order, order[::-1]]
    return out[:count]


def shapley_sampled(n: int, value: Callable[[frozenset[int]], np.ndarray],
                    orders: list[tuple[int, ...]]) -> np.ndarray:
    """Shapley values estimated over the given orders (each player's mean marginal
    contribution when it joins those before it); every order's contributions sum to
    value(all) - value(none), so efficiency holds exactly."""
    total = None
    for order in orders:
        members: frozenset[int] = frozenset()
        before = value(members)
        contribution = np.zeros((n, *np.shape(before)))
        for player in order:
            members = members | {player}
            after = value(members)
            contribution[player] = after - before
            before = after
        total = contribution if total is None else total + contribution
    return total / len(orders)


# ---------------------------------------------------------------- the attribution
@dataclass
class Attribution:
    groups: list[str]                 # groups that differ between the two scenarios
    idle: list[str]                   # groups the same in both (Shapley value 0)
    names: list[str]                  # outcomes
    per_replication: np.ndarray       # replications x groups x outcomes
    base: np.ndarray                  # replications x outcomes: the counterfactual
    full: np.ndarray                  # replications x outcomes: the scenario
    one_at_a_time: np.ndarray         # replications x groups x outcomes: each group alone
    exact: bool
    coalitions: int
    runs: int
    ran_now: int                      # runs made in this call (the rest were saved before)


def coalition_key(members: frozenset[int]) -> str:
    return "".join("1" if i in members else "0" for i in range(max(members, default=-1) + 1)) or "0"


def check_pair(scenario: ResolvedScenario, against: ResolvedScenario,
               groups: dict[str, Group]) -> tuple[list[str], list[str]]:
    """The groups that differ between the two scenarios and those that do not; refused (one
    line) when they differ outside their policies, where no group covers a difference, or
    nowhere."""
    outside = [k for k in sorted(set(scenario.data) | set(against.data))
               if k not in ("policy", "name", "question", "question_zh", "calibration")
               and scenario.data.get(k) != against.data.get(k)]
    if outside or scenario.parameters.values != against.parameters.values:
        raise InputError("--against", None, f"{scenario.name} and {against.name} differ outside "
                         f"their policies ({outside or ['parameters']}): an attribution splits "
                         "a difference of policies only")
    missing = uncovered(scenario, against, groups)
    if missing:
        raise InputError("--groups", None, f"{scenario.name} and {against.name} differ at "
                         f"{missing}, which no group covers; add them to a group")
    active = [g for g, group in groups.items() if differing(scenario, against, group.keys)]
    idle = [g for g in groups if g not in active]
    if not active:
        raise InputError("--against", None, f"{scenario.name} and {against.name} have the same "
                         "policies: there is nothing to attribute")
    return active, idle


def attribute(scenario: ResolvedScenario, against: ResolvedScenario, groups: dict[str, Group],
              replications: int, seed: int, folder: Path, workers: int = 1,
              draws: list[dict[str, Any]] | None = None, permutation_count: int = 64,
              progress: Callable[[Any, int], Any] | None = None) -> Attribution:
    """Shapley values of the groups for every outcome, replication by replication; each
    coalition's runs are saved in `folder` (resumed when present)."""
    active, idle = check_pair(scenario, against, groups)
    n = len(active)
    exact = n <= EXACT_UP_TO
    orders = [] if exact else permutations(n, permutation_count, seed)
    needed: set[frozenset[int]] = set()
    if exact:
        needed = {frozenset(s) for r in range(n + 1) for s in itertools.combinations(range(n), r)}
    else:
        for order in orders:
            for r in range(n + 1):
                needed.add(frozenset(order[:r]))
    needed |= {frozenset({i}) for i in range(n)}          # each group alone: the lever view
    folder.mkdir(parents=True, exist_ok=True)
    stamp = _stamp(scenario, against, groups, replications, seed, draws)
    results, ran_now = _run_coalitions(sorted(needed, key=lambda s: (len(s), sorted(s))),
                                       scenario, against, groups, active, replications, seed,
                                       draws, folder, stamp, workers, progress)

    def value_for(rep: int) -> Callable[[frozenset[int]], np.ndarray]:
        return lambda members: results[members][rep]

    per_rep = np.stack([shapley_exact(n, value_for(r)) if exact
                        else shapley_sampled(n, value_for(r), orders)
                        for r in range(replications)])
    base, full = results[frozenset()], results[frozenset(range(n))]
    alone = np.stack([results[frozenset({i})] - base for i in range(n)], axis=1)
    return Attribution(active, idle, outcome_names(), per_rep, base, full, alone, exact,
                       len(needed), len(needed) * replications, ran_now)


def _stamp(scenario: ResolvedScenario, against: ResolvedScenario, groups: dict[str, Group],
           replications: int, seed: int, draws: list[dict[str, Any]] | None) -> str:
    blob = json.dumps({"scenario": scenario.digest(), "against": against.digest(),
                       "groups": {k: v.model_dump() for k, v in groups.items()},
                       "seed": seed, "draws": draws, "outcomes": outcome_names()},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _run_coalitions(needed: list[frozenset[int]], scenario: ResolvedScenario,
                    against: ResolvedScenario, groups: dict[str, Group], active: list[str],
                    replications: int, seed: int, draws: list[dict[str, Any]] | None,
                    folder: Path, stamp: str, workers: int,
                    progress: Callable[[Any, int], Any] | None,
                    ) -> tuple[dict[frozenset[int], np.ndarray], int]:
    """Each coalition's outcomes (replications x outcomes), from its saved file or run now,
    and how many runs were made now; a file made with other inputs, or fewer replications,
    is run again."""
    from model.parallel import process_executor

    results: dict[frozenset[int], np.ndarray] = {}
    todo = []
    for members in needed:
        path = folder / f"coalition_{coalition_key(members)}.npz"
        saved = _load(path, stamp)
        if saved is not None and saved.shape[0] >= replications:
            results[members] = saved[:replications]
        else:
            todo.append(members)
    tasks = [(members, i) for members in todo for i in range(replications)]
    scenarios = {m: coalition(scenario, against, groups, [active[i] for i in sorted(m)])
                 for m in todo}
    targets = load_targets().targets
    args = [(scenarios[m], seed, i, draws, targets) for m, i in tasks]
    rows: dict[frozenset[int], list[np.ndarray]] = {m: [] for m in todo}
    if workers > 1 and args:
        with process_executor(workers) as pool:
            done = pool.map(_run, args, chunksize=max(1, replications // 4))
            stream = progress(done, len(args)) if progress else done
            for (members, _), row in zip(tasks, stream, strict=True):
                _collect(rows, members, row, replications, folder, stamp, results)
    else:
        stream = progress(args, len(args)) if progress else args
        for (members, _), arg in zip(tasks, stream, strict=True):
            _collect(rows, members, _run(arg), replications, folder, stamp, results)
    return results, len(args)


def _collect(rows: dict[frozenset[int], list[np.ndarray]], members: frozenset[int],
             row: np.ndarray, replications: int, folder: Path, stamp: str,
             results: dict[frozenset[int], np.ndarray]) -> None:
    rows[members].append(row)
    if len(rows[members]) == replications:          # the coalition is done: save it at once
        table = np.stack(rows[members])
        with atomic_path(folder / f"coalition_{coalition_key(members)}.npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, outcomes=table, stamp=np.array(stamp))
        results[members] = table


def _load(path: Path, stamp: str) -> np.ndarray | None:
    if not path.is_file():
        return None
    try:
        with np.load(path) as data:
            if str(data["stamp"]) != stamp:
                return None
            return np.array(data["outcomes"])
    except (OSError, ValueError, KeyError, EOFError):
        return None                                   # damaged: run it again


# ---------------------------------------------------------------- summaries
def mean_se(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over replications (axis 0) and its standard error."""
    mean = np.nanmean(x, axis=0)
    count = np.sum(np.isfinite(x), axis=0)
    se = np.nanstd(x, axis=0, ddof=1) / np.sqrt(np.maximum(count, 1)) if x.shape[0] > 1 \
        else np.full_like(mean, np.nan)
    return mean, se
