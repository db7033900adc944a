"""The compiled loops (model/jit.py) against what they replaced: segment sums equal
np.bincount to the bit, and statistics summed through scope groups equal the sums over
firms of every scope."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from model.economy import YichunModel
from model.jit import sum_by
from model.statistics import FIRM_FLOWS, FIRM_STOCKS
from model.structure import CHAINS, COUNTIES, SCOPES, SEGMENT_INDEX, SUB_CHAINS


@settings(max_examples=300, deadline=None)
@given(groups=arrays(np.int64, st.integers(0, 300), elements=st.integers(0, 14)),
       data=st.data(), runs=st.booleans())
def test_sum_by_equals_bincount_to_the_bit(groups, data, runs):
    if runs:                                    # firms are stored by segment: long runs
        groups = np.sort(groups)
    values = data.draw(arrays(float, groups.size, elements=st.floats(-1e6, 1e6)))
    assert np.array_equal(sum_by(groups, values, 15), np.bincount(groups, values, minlength=15))


def explicit_scopes(f) -> np.ndarray:
    """(firms x scopes) 0/1: the city, chain memberships, sub-chain segments, the zone, the
    zone's lithium-chain firms."""
    m = np.zeros((f.n, len(SCOPES)))
    m[:, 0] = 1.0
    m[:, 1 : 1 + len(CHAINS)] = f.member
    for j, seg in enumerate(SUB_CHAINS.values()):
        m[:, 1 + len(CHAINS) + j] = f.segment == SEGMENT_INDEX[seg]
    zone = f.county == COUNTIES.index("etdz")
    m[:, SCOPES.index("etdz")] = zone
    m[:, SCOPES.index("etdz_lithium")] = zone & f.member[:, CHAINS.index("lithium")]
    return m


def test_scope_groups_follow_entry_and_county_changes(small_model):
    model = small_model
    for _ in range(14):                         # entrants and opened plants join groups
        model.step()
    moved = np.flatnonzero(model.f.county != COUNTIES.index("etdz"))[:5]
    model.f.county[moved] = COUNTIES.index("etdz")
    model.refresh_scopes(moved)
    assert np.array_equal(model.scope_weights, explicit_scopes(model.f))


def test_every_scope_sum_is_the_sum_over_its_firms(small_baseline):
    model = YichunModel(small_baseline, seed=5)
    for _ in range(17):
        model.step()
    f, weights = model.f, explicit_scopes(model.f)
    sums = model.recorder.firm_sums()
    above = f.above_scale & f.alive
    expected = {"revenue": f.revenue * above, "firms_alive": f.alive * 1.0,
                "profit_all_firms": f.profit * f.alive, "chain_leaders": f.chain_leader * 1.0,
                "capacity_above_scale": 12.0 * f.capacity * above}
    for name, column in expected.items():
        assert np.allclose(sums[name], column @ weights, rtol=1e-12, atol=1e-9), name
    assert set(sums) == set(FIRM_FLOWS + FIRM_STOCKS)


_CACHE_MISSES = """
import json, sys
from numba.core.registry import CPUDispatcher
from model.economy import YichunModel
YichunModel("baseline", seed=1, population_scale=0.1).run()
misses = {f"{name}.{attr}": sum(obj.stats.cache_misses.values())
          for name, module in list(sys.modules.items()) if name.startswith("model")
          for attr, obj in vars(module).items() if isinstance(obj, CPUDispatcher)}
print(json.dumps(misses))
"""


def test_a_new_process_loads_every_compiled_loop_from_the_cache():
    """numba caches a loop by its argument types; a type it cannot find again in a new process
    (a named tuple class made at run time) recompiled the loops on every start (~8 s)."""
    import json
    import subprocess
    import sys

    def misses() -> dict[str, int]:
        out = subprocess.run([sys.executable, "-c", _CACHE_MISSES], capture_output=True,
                             text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    misses()                                    # compiles what is not cached yet
    again = misses()
    assert len(again) > 20
    assert {name: n for name, n in again.items() if n} == {}


@settings(max_examples=200, deadline=None)
@given(values=arrays(np.int64, st.integers(0, 200), elements=st.integers(0, 4)))
def test_runs_of_marks_every_run_of_equal_values(values):
    from model.jit import runs_of

    starts = runs_of(values)
    assert starts[-1] == values.size
    for a, b in zip(starts[:-1], starts[1:], strict=True):
        assert a < b and (values[a:b] == values[a]).all()          # one value a run
    assert all(values[a - 1] != values[a] for a in starts[1:-1])    # runs as long as they go


def test_plain_python_gives_the_compiled_numbers():
    """NUMBA_DISABLE_JIT=1 (debugging) runs every loop as Python: the same numbers, bit for
    bit, as the compiled loops (no fastmath, numpy's error model)."""
    import os
    import subprocess
    import sys

    code = ("from model.economy import YichunModel; "
            "m = YichunModel('baseline', seed=1, population_scale=0.02); m.run(3); "
            "print(repr(float(m.recorder.monthly[:3].sum())), repr(float(m.f.capital.sum())))")
    plain = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={**os.environ, "NUMBA_DISABLE_JIT": "1"})
    compiled = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True)
    assert plain.stdout.split() == compiled.stdout.split()


def test_the_compile_step_knows_whether_the_cache_is_warm(tmp_path, monkeypatch):
    """`yichun-abm run` compiles the loops once, with a message, when the cache is cold."""
    import numba

    from model.jit import cache_is_warm

    assert cache_is_warm()                     # the suite has run models already
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path))
    assert not cache_is_warm()
