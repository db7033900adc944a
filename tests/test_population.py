"""Population synthesis: published anchors hold, sizes are heavy-tailed, seeds reproduce."""

import numpy as np
import pytest

from model.parameters import Parameters
from model.population import LARGEST_2021, pareto_sizes, segment_revenue_2021, synthesise
from model.structure import ABOVE_SCALE_LINE, CHAINS, SEGMENT_INDEX


@pytest.fixture(scope="module")
def firms():
    return synthesise(Parameters(), np.random.default_rng(3))


def test_segment_totals_add_to_city_revenue(firms):
    p = Parameters()
    above = firms.above_scale[: firms.n]
    rev = firms.revenue_last_year[: firms.n]
    assert rev[above].sum() == pytest.approx(segment_revenue_2021(p).sum(), rel=1e-9)
    seg_rev = np.bincount(firms.segment[: firms.n][above], rev[above])
    assert seg_rev == pytest.approx(segment_revenue_2021(p), rel=1e-9)


def test_above_scale_line_and_no_100yi_firm_before_2022(firms):
    rev = firms.revenue_last_year[: firms.n]
    above = firms.above_scale[: firms.n]
    assert rev[above].min() >= ABOVE_SCALE_LINE
    assert rev[~above].max() < ABOVE_SCALE_LINE
    assert rev.max() <= LARGEST_2021
    assert above.sum() == pytest.approx(1950, abs=5)


def test_heavy_tail_follows_zipf():
    sizes = pareto_sizes(5000, 5000 * 2.0, 1.05, np.random.default_rng(1), cap=1e9)
    # Hill estimator of the tail index over the largest 10%
    top = np.sort(sizes)[-500:]
    hill = 1.0 / np.mean(np.log(top / top[0]))
    assert 0.8 < hill < 1.35


def test_lithium_segments_and_memberships(firms):
    seg = firms.segment[: firms.n]
    member = firms.member[: firms.n]
    cells = seg == SEGMENT_INDEX["li_cells"]
    electronics = CHAINS.index("electronics")
    assert member[cells, CHAINS.index("lithium")].all()
    assert 0.6 < member[cells, electronics].mean() <= 1.0   # batteries count in electronics too
    assert not member[seg == SEGMENT_INDEX["other"]].any()


def test_same_seed_same_population_other_seed_differs():
    a = synthesise(Parameters(), np.random.default_rng(5))
    b = synthesise(Parameters(), np.random.default_rng(5))
    c = synthesise(Parameters(), np.random.default_rng(6))
    assert np.array_equal(a.revenue_last_year[: a.n], b.revenue_last_year[: b.n])
    assert not np.array_equal(a.revenue_last_year[: a.n], c.revenue_last_year[: c.n])


def test_firm_arrays_grow_keeping_their_values():
    """Adding firms beyond the reserved rows moves every attribute to larger arrays: values
    kept, new rows at their defaults (-1 for a missing supplier or anchor)."""
    from model.state import FirmState

    firms = FirmState(size=4)
    idx = firms.add(3)
    firms.capacity[idx] = [1.0, 2.0, 3.0]
    firms.supplier_of[idx] = 5
    firms.member[1, 2] = True
    more = firms.add(10)
    assert firms.size >= 13 and more.tolist() == list(range(3, 13))
    assert firms.capacity[:4].tolist() == [1.0, 2.0, 3.0, 0.0]
    assert firms.supplier_of[:4].tolist() == [5, 5, 5, -1] and (firms.anchor[:13] == -1).all()
    assert firms.member[1, 2] and firms.member.sum() == 1
