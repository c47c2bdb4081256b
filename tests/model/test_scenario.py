"""Scenario loading: presets, files that extend them, overrides, and clear refusals."""

import pytest

from vcm_sim.scenario import (ScenarioError, load_scenario, preset_names, with_overrides)

PRESETS = {"baseline", "lax", "ccer", "icvcm", "scandal", "wildfire"}


def write(tmp_path, text: str):
    path = tmp_path / "my.toml"
    path.write_text(text)
    return path


def test_the_six_presets_ship_and_validate():
    assert PRESETS <= set(preset_names())
    for name in PRESETS:
        assert load_scenario(name).name == name


def test_ccer_caps_offsets_at_five_percent_and_suspends_then_relaunches():
    ccer = load_scenario("ccer")
    assert ccer.rules.market.offset_cap == 0.05
    kinds = [e.kind for e in sorted(ccer.events, key=lambda e: e.step)]
    assert kinds == ["suspend_issuance", "resume_issuance"]


def test_a_file_may_extend_a_preset_and_change_one_thing(tmp_path):
    path = write(tmp_path, 'extends = "baseline"\nname = "mine"\n'
                           '[rules.market]\noffset_cap = 0.1\n')
    scenario = load_scenario(path)
    assert scenario.rules.market.offset_cap == 0.1
    assert scenario.population.firms == load_scenario("baseline").population.firms


def test_keyword_and_dotted_overrides():
    a = load_scenario("baseline", steps=12, rules={"integrity": {"verification_rigour": 0.9}})
    assert a.steps == 12 and a.rules.integrity.verification_rigour == 0.9
    b = with_overrides(a, {"rules.market.offset_cap": 0.05})
    assert b.rules.market.offset_cap == 0.05 and a.rules.market.offset_cap == 1.0


@pytest.mark.parametrize("text,fragments", [
    ('extends = "baseline"\n[rules.integrity]\nverification_rigour = 1.5\n',
     ["rules.integrity.verification_rigour", "1.5", ">= 0.0, <= 1.0"]),
    ('extends = "baseline"\n[rules.integrity]\nverification_rigor = 0.5\n',
     ["rules.integrity.verification_rigor", "unknown key"]),
    ('extends = "baseline"\n[population]\nfirms = "many"\n',
     ["population.firms", "'many'"]),
    ('extends = "baseline"\n[rules.market]\nmechanism = "barter"\n',
     ["rules.market.mechanism", "'barter'", "call_auction"]),
    ('extends = "baseline"\n[project_types.arr]\nmix = 0.9\n',
     ["mix must sum to 1"]),
    ('extends = "baseline"\n[[events]]\nstep = 3\nkind = "set"\npath = "rules.nope"\nvalue = 1\n',
     ["unknown setting", "rules.nope"]),
    ('extends = "baseline"\n[[events]]\nstep = 3\nkind = "meteor"\n',
     ["events.0.kind", "'meteor'"]),
    ('extends = "nowhere"\n', ["unknown scenario 'nowhere'", "baseline"]),
    ('this is not toml', ["not valid TOML"]),
])
def test_invalid_files_fail_with_messages_naming_field_value_and_range(tmp_path, text, fragments):
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, text))
    for fragment in fragments:
        assert fragment in str(err.value)


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ScenarioError, match="presets: .*baseline"):
        load_scenario("basline")


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ScenarioError, match="does not exist"):
        load_scenario(tmp_path / "absent.toml")


def test_dotted_override_of_unknown_path_is_refused():
    with pytest.raises(ScenarioError, match="unknown setting 'rules.market.cap'"):
        with_overrides(load_scenario("baseline"), {"rules.market.cap": 0.1})
