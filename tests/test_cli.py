"""The command line as a user types it."""

import argparse
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest

from tests.sweep.sweep_helpers import GRID, write_sweep
from vcm_sim.cli import build_parser, main, parse_setting
from vcm_sim.scenario import load_scenario, with_overrides


def test_run_prints_a_summary_and_writes_parquet_and_figure(tmp_path, capsys):
    code = main(["run", "--scenario", "baseline", "--seed", "3", "--steps", "6",
                 "--set", "population.firms=40", "--set", "population.developers=10",
                 "--set", "rules.market.offset_cap=0.5", "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "mean_price_usd" in out and "greenwashing_index" in out
    steps = pd.read_parquet(tmp_path / "steps.parquet")
    assert len(steps) == 6
    assert (tmp_path / "run.png").stat().st_size > 10_000


def test_run_of_several_markets_names_each_markets_figures(tmp_path, capsys):
    code = main(["run", "--scenario", "linked", "--steps", "6", "--set", "burn_in=6",
                 "--set", "population.firms=40", "--set", "population.developers=10",
                 "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "mean_price_usd_strict" in out and "mean_price_usd_lax" in out
    assert "price_gap" in out and "bought_abroad_lax" in out
    steps = pd.read_parquet(tmp_path / "steps.parquet")
    assert {"price_usd_strict", "sold_abroad_lax"} <= set(steps.columns)
    assert (tmp_path / "run.png").stat().st_size > 10_000


def test_run_with_an_invalid_setting_fails_clearly(tmp_path, capsys):
    code = main(["run", "--steps", "1", "--set", "rules.market.offset_cap=2",
                 "--out", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "rules.market.offset_cap = 2" in err and "<= 1.0" in err


def test_scenarios_lists_every_preset_on_one_line(capsys):
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    names = [line.split()[0] for line in lines]
    assert {"baseline", "lax", "ccer", "icvcm", "scandal", "wildfire"} <= set(names)


TINY = ["--set", "population.firms=20", "--set", "population.developers=5",
        "--set", "population.verifiers=2", "--steps", "2"]


def one_line_error(capsys) -> str:
    """The single line a user error prints on stderr (no traceback, nothing on stdout)."""
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert len(captured.err.strip().splitlines()) == 1, captured.err
    return captured.err


@pytest.mark.parametrize("argument,fragment", [
    (["--seed", "-1"], "--seed: must be >= 0, got -1"),
    (["--seed", "x"], "--seed: must be an integer >= 0, got 'x'"),
    (["--steps", "-3"], "--steps: must be >= 1, got -3"),
    (["--steps", "0"], "--steps: must be >= 1, got 0"),
    (["--steps", "2.5"], "--steps: must be an integer >= 1, got '2.5'"),
])
def test_bad_seed_or_steps_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, argument,
                                                                fragment):
    out = tmp_path / "out"
    assert main(["run", *TINY, *argument, "--out", str(out)]) == 2
    assert fragment in one_line_error(capsys)
    assert not out.exists()


def test_steps_beyond_the_scenario_range_are_refused(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", *TINY, "--steps", "100001", "--out", str(out)]) == 2
    assert "steps = 100001" in capsys.readouterr().err
    assert not out.exists()


def test_steps_given_on_the_command_line_are_the_runs_horizon(tmp_path, capsys):
    assert main(["run", *TINY, "--steps", "3", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines()[0].split() == ["steps", "3"]
    assert len(pd.read_parquet(tmp_path / "steps.parquet")) == 3


@pytest.mark.parametrize("where", ["file", "proc"])
def test_an_output_folder_that_cannot_be_made_is_refused_before_the_run(tmp_path, capsys,
                                                                        monkeypatch, where):
    from vcm_sim.model import VCMModel

    if where == "proc" and not Path("/proc/self").is_dir():
        pytest.skip("no /proc on this system")
    (tmp_path / "afile").write_text("")
    out = tmp_path / "afile" / "sub" if where == "file" else Path("/proc/x")

    def must_not_run(self):
        raise AssertionError("the simulation ran before the output folder was checked")

    monkeypatch.setattr(VCMModel, "step", must_not_run)
    assert main(["run", *TINY, "--out", str(out)]) == 2
    err = one_line_error(capsys)
    assert repr(str(out)) in err and "cannot" in err


def test_an_output_path_that_is_a_file_is_refused(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("keep")
    assert main(["run", *TINY, "--out", str(afile)]) == 2
    assert "not a folder" in one_line_error(capsys)
    assert afile.read_text() == "keep"


def test_a_scenario_name_cannot_write_outside_results(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evil.toml").write_text('extends = "baseline"\nname = "../../x"\n')
    assert main(["run", "--scenario", "evil.toml", *TINY]) == 2
    assert "name" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [tmp_path / "evil.toml"]


@pytest.mark.parametrize("content,fragment", [
    (b'extends = "baseline"\ndescription = "d\xe9bat"\n', "not UTF-8"),
    (None, "is a directory"),
])
def test_a_scenario_file_that_cannot_be_read_is_one_line_exit_2(tmp_path, capsys, content,
                                                                fragment):
    path = tmp_path / "x.toml"
    path.mkdir() if content is None else path.write_bytes(content)
    assert main(["run", "--scenario", str(path), *TINY, "--out", str(tmp_path / "o")]) == 2
    err = one_line_error(capsys)
    assert err.startswith("vcm-sim run: ") and fragment in err
    assert not (tmp_path / "o").exists()


def test_set_true_for_a_count_is_refused_not_read_as_one(tmp_path, capsys):
    assert main(["run", *TINY, "--set", "population.firms=true", "--out", str(tmp_path)]) == 2
    assert "population.firms = True: Input should be a valid integer" in capsys.readouterr().err


def test_set_falls_back_to_a_string_for_string_settings_and_refuses_it_elsewhere(tmp_path,
                                                                                 capsys):
    assert main(["run", *TINY, "--set", "rules.integrity.verifier_assignment=regulator",
                 "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["run", *TINY, "--set", "rules.market.offset_cap=half",
                 "--out", str(tmp_path)]) == 2
    assert "rules.market.offset_cap = 'half': Input should be a valid number" in (
        capsys.readouterr().err)


def test_set_with_a_table_merges_it_and_with_a_list_replaces_it():
    _, table = parse_setting("rules.market={offset_cap=0.5}")
    _, items = parse_setting('rules.integrity.eligible_types=["arr"]')
    icvcm = load_scenario("icvcm")
    scenario = with_overrides(icvcm, {"rules.market": table,
                                      "rules.integrity.eligible_types": items})
    assert scenario.rules.market.quality_books and scenario.rules.market.offset_cap == 0.5
    assert scenario.rules.integrity.eligible_types == ["arr"]


def test_run_help_says_tables_merge_and_lists_replace(capsys):
    assert main(["run", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "a table merges into the setting's table" in text and "a list replaces" in text


@pytest.fixture
def experiment(tmp_path, monkeypatch) -> Path:
    """A working folder where ``vcm-sim sweep sweep.toml`` has run a tiny sweep named 'tiny'
    into its default output folder, results/tiny/runs, as the README's commands do."""
    monkeypatch.chdir(tmp_path)
    write_sweep(tmp_path, GRID, keys='metrics = ["mean_price_usd"]\n')
    assert main(["sweep", "sweep.toml", "--workers", "1", "--no-progress"]) == 0
    return tmp_path


@pytest.mark.parametrize("folder", ["results/tiny", "results/tiny/runs"])
def test_report_takes_the_experiment_folder_or_its_runs_folder(experiment, capsys, folder):
    capsys.readouterr()
    assert main(["report", folder]) == 0
    assert capsys.readouterr().out.strip().endswith("files in results/tiny/runs/report")
    assert len(pd.read_csv(experiment / "results/tiny/runs/report/summary.csv")) == 4


def test_report_of_a_missing_folder_says_it_does_not_exist(tmp_path, capsys):
    missing = tmp_path / "results" / "greenwashing_risk"
    assert main(["report", str(missing)]) == 2
    err = one_line_error(capsys)
    assert f"{missing} does not exist" in err and "manifest" not in err


def test_report_of_a_file_says_it_is_not_a_folder(tmp_path, capsys):
    afile = tmp_path / "sweep.toml"
    afile.write_text("")
    assert main(["report", str(afile)]) == 2
    assert f"{afile} is a file, not a folder" in one_line_error(capsys)


def test_report_of_an_experiment_folder_without_runs_says_where_the_runs_belong(tmp_path,
                                                                               capsys):
    folder = tmp_path / "greenwashing_risk"  # as a fresh clone has it: results, no raw runs
    folder.mkdir()
    (folder / "manifest.json").write_text("{}")
    assert main(["report", str(folder)]) == 2
    err = one_line_error(capsys)
    assert f"no {folder / 'runs'} folder" in err and "run the sweep first" in err


def sub_commands() -> list[str]:
    """The names of every ``vcm-sim`` sub-command, the registered extensions' included."""
    parser = build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return list(commands.choices)


def test_vcm_sim_alone_prints_the_help_and_exits_0(capsys):
    assert main([]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("usage: vcm-sim") and captured.err == ""
    assert all(name in captured.out for name in sub_commands())


def test_version_prints_the_installed_package_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"vcm-sim {metadata.version('vcm_sim')}\n"


@pytest.mark.parametrize("command", [[], *([name] for name in sub_commands())],
                         ids=lambda command: " ".join(["vcm-sim", *command]))
def test_no_help_shows_a_doubled_percent_sign(capsys, command):
    assert main([*command, "--help"]) == 0
    assert "%%" not in capsys.readouterr().out


def test_report_help_says_95_percent(capsys):
    assert main(["report", "--help"]) == 0
    assert "95% confidence interval" in " ".join(capsys.readouterr().out.split())
