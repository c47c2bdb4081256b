"""Sweep files are validated like scenarios: every mistake is named, with its value and range."""

from __future__ import annotations

import re
import time

import pytest

from tests.sweep.sweep_helpers import write_sweep
from vcm_sim.cli import main
from vcm_sim.sweep import SweepError, load_sweep, parse_sweep, sweep


def test_a_valid_sweep_file_loads_with_its_base_scenario(grid_file):
    spec, scenario = load_sweep(grid_file)
    assert spec.name == "tiny" and spec.replications == 2 and spec.sampler.method == "grid"
    assert list(spec.parameters) == ["rules.integrity.verification_rigour",
                                     "rules.market.offset_cap"]
    assert scenario.population.firms == 20 and scenario.steps == 24


def test_unquoted_dotted_parameter_tables_mean_the_same_path(tmp_path):
    path = write_sweep(tmp_path, """
        [parameters.rules.market.offset_cap]
        values = [0.05, 1.0]
        [overrides.nature]
        hazard_multiplier = 2.0
        """)
    spec, scenario = load_sweep(path)
    assert list(spec.parameters) == ["rules.market.offset_cap"]
    assert scenario.nature.hazard_multiplier == 2.0


def test_an_unknown_key_is_named(tmp_path):
    path = write_sweep(tmp_path, keys="replicates = 3\n")
    with pytest.raises(SweepError, match="replicates: unknown key"):
        load_sweep(path)


def test_an_out_of_range_field_names_value_and_range():
    with pytest.raises(SweepError, match=r"replications = 0: .*valid: >= 1, <= 100000"):
        parse_sweep({"name": "x", "seed": 1, "replications": 0})


def test_a_parameter_value_outside_the_scenario_range_fails_before_any_run(tmp_path):
    path = write_sweep(tmp_path, """
        [parameters."rules.integrity.verification_rigour"]
        values = [0.5, 1.5]
        """)
    with pytest.raises(SweepError, match=r"verification_rigour.*values\[1\] = 1.5.*<= 1"):
        load_sweep(path)


def test_an_unknown_parameter_path_is_named(tmp_path):
    path = write_sweep(tmp_path, """
        [parameters."rules.market.offset_capp"]
        values = [0.5]
        """)
    with pytest.raises(SweepError, match="unknown setting 'rules.market.offset_capp'"):
        load_sweep(path)


def test_an_unknown_override_path_is_named(tmp_path):
    path = write_sweep(tmp_path, keys="", tables='[overrides.nature]\nhazard = 2.0\n')
    with pytest.raises(SweepError, match="unknown setting 'nature.hazard'"):
        load_sweep(path)


@pytest.mark.parametrize("sampler, parameter, message", [
    ('method = "sobol"\nsamples = 12', "low = 0.0\nhigh = 1.0", "power of two"),
    ('method = "lhs"', "low = 0.0\nhigh = 1.0", "needs sampler.samples"),
    ('method = "grid"', "low = 0.0\nhigh = 1.0", "needs num"),
    ('method = "grid"', "values = [0.1]\nlow = 0.0\nhigh = 1.0", "exactly one of"),
    ('method = "grid"', "low = 0.5\nhigh = 0.1\nnum = 3", "must be below high"),
    ('method = "lhs"\nsamples = 4', "low = 0.0\nhigh = 1.0\nnum = 3", "only applies to a grid"),
    ('method = "annealing"', "values = [0.1]", "method = 'annealing'.*'grid', 'lhs' or 'sobol'"),
])
def test_sampler_and_parameter_mistakes_are_explained(tmp_path, sampler, parameter, message):
    path = write_sweep(tmp_path, f'[sampler]\n{sampler}\n'
                                 f'[parameters."rules.market.offset_cap"]\n{parameter}\n')
    with pytest.raises(SweepError, match=message):
        load_sweep(path)


def test_a_missing_file_and_bad_toml_fail_clearly(tmp_path):
    with pytest.raises(SweepError, match="does not exist"):
        load_sweep(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(SweepError, match="not valid TOML"):
        load_sweep(bad)


def test_an_unknown_scenario_preset_is_named(tmp_path):
    path = write_sweep(tmp_path, keys='scenario = "nowhere"\n')
    with pytest.raises(SweepError, match="unknown scenario 'nowhere'"):
        load_sweep(path)


def test_a_level_that_sets_an_invalid_value_is_named(tmp_path):
    path = write_sweep(tmp_path, """
        [parameters.regime.levels]
        calm = { "nature.hazard_multiplier" = 1.0 }
        inferno = { "nature.hazard_multiplier" = -3.0 }
        """)
    with pytest.raises(SweepError, match=r"regime.*levels.inferno.*hazard_multiplier"):
        load_sweep(path)


@pytest.mark.parametrize("values, kinds", [('[0.5, "0.7"]', "number, string"),
                                           ("[true, 0.8]", "boolean, number")])
def test_values_of_mixed_types_are_refused_before_anything_is_written(tmp_path, capsys, values,
                                                                      kinds):
    path = write_sweep(tmp_path, f'[parameters."rules.integrity.verification_rigour"]\n'
                                 f"values = {values}\n")
    out = tmp_path / "o"
    assert main(["sweep", str(path), "--workers", "1", "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"mix types ({kinds})" in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("key, message", [
    ("steps = true", "steps = True: Input should be a valid integer"),
    ('seed = "12345"', "seed = '12345': Input should be a valid integer"),
    ("replications = 2.0", "replications = 2.0: Input should be a valid integer"),
    ('series = "yes"', "series"),
])
def test_a_value_of_the_wrong_type_is_refused_not_converted(tmp_path, key, message):
    name = key.split(" ")[0]
    text = write_sweep(tmp_path).read_text()
    lines = [line for line in text.splitlines() if not line.startswith(f"{name} =")]
    path = tmp_path / "typed.toml"
    path.write_text(f"{key}\n" + "\n".join(lines) + "\n")
    with pytest.raises(SweepError, match=re.escape(message)):
        load_sweep(path)


def test_a_sweep_of_too_many_runs_is_refused_before_it_is_built(tmp_path, capsys):
    path = write_sweep(tmp_path, """
        [parameters."rules.integrity.verification_rigour"]
        low = 0.1
        high = 0.9
        num = 10000
        [parameters."rules.market.offset_cap"]
        low = 0.1
        high = 0.9
        num = 10000
        """, replications=100000)
    out = tmp_path / "o"
    started = time.perf_counter()
    assert main(["sweep", str(path), "--out", str(out), "--no-progress"]) == 2
    assert time.perf_counter() - started < 10
    err = capsys.readouterr().err
    assert ("10,000,000,000,000 runs (100,000,000 points x 100,000 replications) exceed the "
            "bound of 1,000,000 runs") in err and "--max-runs" in err
    assert not out.exists()


def test_max_runs_sets_the_bound(grid_file, tmp_path):
    with pytest.raises(SweepError, match="8 runs .* exceed the bound of 7 runs"):
        sweep(grid_file, workers=1, out=tmp_path / "o", max_runs=7, progress=False)
    assert sweep(grid_file, workers=1, out=tmp_path / "o", max_runs=8, progress=False).ran == 8


def test_a_model_that_cannot_be_imported_is_refused_before_anything_is_written(tmp_path):
    path = write_sweep(tmp_path, model="vcm_sim.model:NoSuchModel")
    with pytest.raises(SweepError, match="model 'vcm_sim.model:NoSuchModel' cannot be imported"):
        sweep(path, workers=1, out=tmp_path / "o", progress=False)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("name", ["..", ".", "a/b", "-x", ".hidden"])
def test_a_sweep_name_that_could_leave_results_is_refused(tmp_path, name):
    path = write_sweep(tmp_path, name=name)
    with pytest.raises(SweepError, match="name"):
        load_sweep(path)
