"""Every behavioural parameter is documented, validated, and used by some mechanism."""

import re

import pytest

from model.errors import InputError
from model.parameters import Parameters, load_specs
from model.paths import PROJECT_ROOT


def test_defaults_are_complete_and_in_range():
    specs = load_specs()
    assert len(specs) > 50
    for name, spec in specs.items():
        assert spec.meaning and spec.unit and spec.basis, name
        assert spec.check(spec.value) is None, name


def test_every_parameter_is_read_by_the_model():
    code = "\n".join(p.read_text() for p in (PROJECT_ROOT / "model").rglob("*.py"))
    unused = [name for name in load_specs()
              if not re.search(rf"\b{name}\b", code)]
    assert unused == [], f"documented but never used: {unused}"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"no_such_parameter": 1}, "unknown parameter"),
    ({"share_persistence": 1.5}, "outside its documented range"),
    ({"share_persistence": "high"}, "expected a number"),
    ({"real_demand_growth": {"marsbars": 0.1}}, "unknown entries"),
])
def test_bad_overrides_name_the_key(overrides, message):
    with pytest.raises(InputError) as err:
        Parameters(overrides, source="x.yaml")
    assert message in str(err.value)
    assert f"parameters.{next(iter(overrides))}" in str(err.value)


def test_mapping_override_merges_entries():
    p = Parameters({"real_demand_growth": {"textile": 0.2}})
    defaults = Parameters()
    assert p.values["real_demand_growth"]["textile"] == 0.2
    assert p.values["real_demand_growth"]["food"] == defaults.values["real_demand_growth"]["food"]


def test_an_override_refreshes_what_was_derived_from_the_old_value():
    p = Parameters()
    first = p.derived("twice_mu", lambda: 2 * p.project_size_mu)
    p.override("project_size_mu", p.project_size_mu + 1.0)
    assert p.derived("twice_mu", lambda: 2 * p.project_size_mu) == first + 2.0
