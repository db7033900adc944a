"""With the documented defaults the baseline lands near the published 2022 anchors."""

import pytest

from model.facts import load_facts
from model.runner import YEARLY_STATS
from model.structure import SCOPES

Y2022 = 1


def value(run, scope, stat):
    return run.yearly[Y2022, SCOPES.index(scope), YEARLY_STATS.index(stat)]


def test_2022_anchors_within_ten_percent(baseline_run):
    facts = load_facts()
    assert value(baseline_run, "total", "revenue") == pytest.approx(
        facts.observation("rev_2022").value, rel=0.10)
    assert value(baseline_run, "lithium", "revenue_all_firms") == pytest.approx(
        facts.observation("lithium_rev_2022").value, rel=0.10)
    assert value(baseline_run, "total", "above_scale_firms") == pytest.approx(
        facts.observation("above_scale_firms_2022").value, rel=0.10)
    assert value(baseline_run, "total", "firms_over_100yi") >= 1   # 百亿元企业 “零”的突破
