"""Scenario loading: presets, files that extend them, overrides, and clear refusals."""

import errno
import io
import os

import pytest

from vcm_sim.scenario import (ScenarioError, load_scenario, preset_names, with_overrides)

PRESETS = {"baseline", "lax", "ccer", "icvcm", "scandal", "wildfire"}


@pytest.fixture
def unreadable(monkeypatch):
    """Make a file unreadable: mode 000, and for root (who reads it anyway) opening it fails
    as it would for anyone else."""
    def make(path):
        path.chmod(0)
        if os.geteuid() == 0:
            real_open = io.open

            def refusing_open(file, *args, **kwargs):
                if os.fspath(file) == os.fspath(path):
                    raise PermissionError(errno.EACCES, "Permission denied", os.fspath(file))
                return real_open(file, *args, **kwargs)

            monkeypatch.setattr(io, "open", refusing_open)
        return path

    return make


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


def test_an_extends_cycle_is_refused_naming_the_chain(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\nname = "a"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\nname = "b"\n')
    with pytest.raises(ScenarioError, match=r"extends cycle: .*a\.toml -> .*b\.toml -> .*a\.toml"):
        load_scenario(tmp_path / "a.toml")


def test_a_file_that_extends_itself_is_a_cycle(tmp_path):
    path = write(tmp_path, 'extends = "my.toml"\n')
    with pytest.raises(ScenarioError, match="extends cycle"):
        load_scenario(path)


def test_extends_that_is_not_a_string_is_refused(tmp_path):
    with pytest.raises(ScenarioError, match=r"extends = 5: .*preset name or .*\.toml"):
        load_scenario(write(tmp_path, "extends = 5\n"))


def test_a_relative_parent_is_found_next_to_the_file_that_names_it(tmp_path, monkeypatch):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "parent.toml").write_text('extends = "baseline"\n[rules.market]\noffset_cap = 0.2\n')
    (rules / "child.toml").write_text('extends = "parent.toml"\nname = "child"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "parent.toml").write_text('extends = "baseline"\n[rules.market]\n'
                                           'offset_cap = 0.9\n')
    monkeypatch.chdir(elsewhere)
    assert load_scenario(rules / "child.toml").rules.market.offset_cap == 0.2


def test_extends_without_toml_suffix_is_a_preset_even_beside_a_file_of_that_name(tmp_path):
    (tmp_path / "baseline.toml").write_text('extends = "lax"\n')
    scenario = load_scenario(write(tmp_path, 'extends = "baseline"\nname = "mine"\n'))
    assert scenario.rules == load_scenario("baseline").rules


@pytest.mark.parametrize("name", ["../../x", "a/b", "..", ".", "", "/abs", "a\\b", ".hidden",
                                  "x" * 101])
def test_a_name_that_is_not_a_safe_folder_name_is_refused(tmp_path, name):
    with pytest.raises(ScenarioError, match="name"):
        load_scenario(write(tmp_path, f'extends = "baseline"\nname = {name!r}\n'))


def test_names_of_letters_digits_dots_dashes_and_underscores_are_accepted(tmp_path):
    path = write(tmp_path, 'extends = "baseline"\nname = "Cap_0.5-v2"\n')
    assert load_scenario(path).name == "Cap_0.5-v2"


@pytest.mark.parametrize("path,value", [
    ("population.firms", True), ("population.firms", "20"), ("population.firms", 20.0),
    ("rules.market.offset_cap", "0.5"), ("rules.market.offset_cap", True),
    ("rules.market.quality_books", 1), ("rules.market.quality_books", "true"),
    ("steps", True), ("name", 5),
])
def test_values_of_the_wrong_type_are_refused_not_coerced(path, value):
    with pytest.raises(ScenarioError, match=rf"{path} = {value!r}"):
        with_overrides(load_scenario("baseline"), {path: value})


def test_a_wrong_type_in_a_file_is_refused(tmp_path):
    with pytest.raises(ScenarioError, match="population.firms = True"):
        load_scenario(write(tmp_path, 'extends = "baseline"\n[population]\nfirms = true\n'))


def test_an_integer_is_a_valid_value_for_a_float_setting():
    scenario = with_overrides(load_scenario("baseline"), {"rules.market.offset_cap": 1,
                                                          "rules.market.price_ceiling_usd": 50})
    assert scenario.rules.market.offset_cap == 1.0
    assert scenario.rules.market.price_ceiling_usd == 50.0


def test_a_table_override_merges_into_the_table():
    icvcm = load_scenario("icvcm")
    assert icvcm.rules.market.quality_books
    merged = with_overrides(icvcm, {"rules.market": {"offset_cap": 0.5}})
    assert merged.rules.market.offset_cap == 0.5
    assert merged.rules.market == icvcm.rules.market.model_copy(update={"offset_cap": 0.5})


def test_a_nested_table_override_merges_at_every_level():
    icvcm = load_scenario("icvcm")
    merged = with_overrides(icvcm, {"rules": {"market": {"offset_cap": 0.5}}})
    assert merged.rules.integrity == icvcm.rules.integrity
    assert merged.rules.market.quality_books and merged.rules.market.offset_cap == 0.5


def test_a_list_override_replaces_the_list():
    scenario = with_overrides(load_scenario("baseline"),
                              {"rules.integrity.eligible_types": ["arr"]})
    assert scenario.rules.integrity.eligible_types == ["arr"]


def test_a_table_override_with_an_unknown_key_is_refused():
    with pytest.raises(ScenarioError, match="rules.market.cap: unknown key"):
        with_overrides(load_scenario("baseline"), {"rules.market": {"cap": 0.5}})


def test_a_set_event_with_a_table_merges_it(tmp_path):
    from vcm_sim.model import VCMModel

    path = write(tmp_path, 'extends = "icvcm"\nsteps = 2\n[population]\nfirms = 20\n'
                           'developers = 5\nverifiers = 2\n'
                           '[[events]]\nstep = 1\nkind = "set"\npath = "rules.market"\n'
                           'value = {offset_cap = 0.5}\n')
    model = VCMModel(load_scenario(path), rng=0).run()
    assert model.market.config.rules.market.offset_cap == 0.5
    assert model.market.config.rules.market.quality_books


def test_a_file_that_is_not_utf8_is_refused_naming_the_encoding(tmp_path):
    path = tmp_path / "latin.toml"
    path.write_bytes('extends = "baseline"\ndescription = "d\xe9bat"\n'.encode("latin-1"))
    with pytest.raises(ScenarioError, match=r"latin\.toml.*not UTF-8"):
        load_scenario(path)


def test_a_folder_named_like_a_scenario_file_is_called_a_folder(tmp_path):
    (tmp_path / "x.toml").mkdir()
    with pytest.raises(ScenarioError, match="is a directory"):
        load_scenario(tmp_path / "x.toml")


def test_an_unreadable_file_is_refused_naming_the_reason(tmp_path, unreadable):
    path = unreadable(write(tmp_path, 'extends = "baseline"\n'))
    with pytest.raises(ScenarioError, match=r"my\.toml.*cannot be read.*[Pp]ermission denied"):
        load_scenario(path)


def test_overrides_given_as_pairs_apply_in_order_and_repeated_tables_both_merge():
    scenario = with_overrides(load_scenario("icvcm"), [
        ("rules.market", {"offset_cap": 0.5}), ("rules.market", {"price_floor_usd": 2}),
        ("steps", 10), ("steps", 12)])
    market = scenario.rules.market
    assert (market.offset_cap, market.price_floor_usd, market.quality_books) == (0.5, 2.0, True)
    assert scenario.steps == 12


def test_an_obligation_is_not_dropped():
    with pytest.raises(ScenarioError, match="firms.obligation with firms.pledge_drop_yr = 0.05"):
        load_scenario("baseline", firms={"obligation": True})
