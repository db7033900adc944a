"""The product's copy of the facts: equal to shared/, valid, and what the model reads."""

import filecmp

import pytest

from model.errors import InputError
from model.facts import load_facts, parse_facts, revenue_2021_total
from model.paths import FACTS_FILE
from tests.conftest import SHARED, write


def test_copy_matches_shared_file():
    shared = SHARED / "data" / "yichun_facts.yaml"
    if not shared.exists():
        pytest.skip("../shared is not beside this checkout")
    assert filecmp.cmp(shared, FACTS_FILE, shallow=False), "calibration/data copy is stale"


def test_facts_load_and_anchor_figures():
    facts = load_facts()
    assert facts.observation("rev_2022").value == pytest.approx(5094.6)
    assert facts.observation("lithium_rev_2022").value == pytest.approx(1116.98)
    assert revenue_2021_total() == pytest.approx(5094.6 / 1.088)
    assert len(facts.lithium_carbonate_price.points) >= 10


def test_malformed_facts_name_the_key(tmp_path):
    text = FACTS_FILE.read_text(encoding="utf-8").replace("  lithium:        新能源（锂电）\n", "", 1)
    with pytest.raises(InputError) as err:
        parse_facts(write(tmp_path, "facts.yaml", text))
    assert "chains" in str(err.value)
