"""The command line as a user types it."""

import pandas as pd

from vcm_sim.cli import main


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
