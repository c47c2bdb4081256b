"""Reports: confidence intervals across replications, Sobol indices that find the parameter that
matters, and the files that ``vcm-sim report`` writes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tests.sweep.sweep_helpers import GRID, write_sweep
from vcm_sim.cli import main
from vcm_sim.sweep import load_runs, parse_sweep
from vcm_sim.sweep.report import mean_ci, point_summary, sobol_indices
from vcm_sim.sweep.samplers import design


def test_the_interval_is_the_student_t_interval_of_the_mean():
    x = np.array([1.0, 2.0, 4.0, np.nan])
    n, mean, sd, low, high = mean_ci(x)
    expected = stats.t.interval(0.95, 2, loc=7 / 3, scale=stats.sem([1, 2, 4]))
    assert n == 3 and mean == pytest.approx(7 / 3)
    assert (low, high) == pytest.approx(expected)
    assert np.isnan(mean_ci([5.0])[3]) and mean_ci([])[0] == 0


def test_a_point_summary_counts_failed_runs_and_ignores_them():
    runs = pd.DataFrame({"run_id": range(4), "point": [0, 0, 1, 1], "a.x": [1, 1, 2, 2],
                         "status": ["ok", "ok", "ok", "error"], "m": [1.0, 3.0, 5.0, np.nan]})
    table = point_summary(runs, ["a.x"], ["m"]).set_index("point")
    assert table.loc[0, "mean"] == 2.0 and table.loc[0, "n"] == 2 and table.loc[0, "failed"] == 0
    assert table.loc[1, "mean"] == 5.0 and table.loc[1, "failed"] == 1
    assert np.isnan(table.loc[1, "ci_low"])


def test_sobol_indices_single_out_the_parameter_that_drives_the_metric():
    spec = parse_sweep({"name": "s", "seed": 5, "replications": 2,
                        "sampler": {"method": "sobol", "samples": 256},
                        "parameters": {"a.x": {"low": 0.0, "high": 1.0},
                                       "b.y": {"low": 0.0, "high": 1.0}}})
    points = design(spec).points
    runs = pd.DataFrame([{"run_id": 2 * i + r, "point": i, "status": "ok",
                          "m": 4 * p["a.x"] + 0.01 * p["b.y"] + 0.001 * r}
                         for i, p in enumerate(points) for r in range(2)])
    table = sobol_indices(runs, spec, ["m"]).set_index("parameter")
    assert table.loc["a.x", "S1"] == pytest.approx(1.0, abs=0.05)
    assert table.loc["a.x", "ST"] == pytest.approx(1.0, abs=0.05)
    assert table.loc["b.y", "ST"] < 0.01


def test_sobol_indices_are_not_computed_when_points_are_missing():
    spec = parse_sweep({"name": "s", "seed": 5, "sampler": {"method": "sobol", "samples": 4},
                        "parameters": {"a.x": {"low": 0.0, "high": 1.0}}})
    runs = pd.DataFrame({"run_id": range(12), "point": range(12), "status": ["error"] + ["ok"] * 11,
                         "m": [np.nan] + [1.0 * i for i in range(11)]})
    table = sobol_indices(runs, spec, ["m"])
    assert table["S1"].isna().all() and table["note"].iloc[0] == "1 of 12 points have no value"


def test_the_report_command_writes_tables_figures_and_the_manifest(tmp_path, capsys):
    path = write_sweep(tmp_path, GRID, keys='metrics = ["greenwashing_index", "mean_price_usd"]\n')
    out = tmp_path / "o"
    assert main(["sweep", str(path), "--workers", "1", "--out", str(out), "--no-progress"]) == 0
    assert main(["report", str(out)]) == 0
    report = out / "report"
    names = {p.name for p in report.iterdir()}
    assert {"summary.csv", "report.md", "manifest.json", "effects_greenwashing_index.png",
            "heatmap_mean_price_usd__verification_rigour__offset_cap.png"} <= names
    table = pd.read_csv(report / "summary.csv")
    assert len(table) == 4 * 2 and set(table["n"]) == {2}
    runs = load_runs(out)
    first = runs[runs["point"] == 0]["greenwashing_index"].mean()
    assert table.query("point == 0 and metric == 'greenwashing_index'")["mean"].item() == \
        pytest.approx(first, rel=1e-5, nan_ok=True)
    assert "4 parameter points x 2 replications" in (report / "report.md").read_text()


def test_the_report_of_a_folder_without_a_sweep_fails_clearly(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert f"{tmp_path} holds no sweep output" in capsys.readouterr().err


def test_a_few_missing_sobol_points_are_filled_when_the_file_allows_it():
    spec = parse_sweep({"name": "s", "seed": 5, "sampler": {"method": "sobol", "samples": 64},
                        "parameters": {"a.x": {"low": 0.0, "high": 1.0},
                                       "b.y": {"low": 0.0, "high": 1.0}},
                        "report": {"sobol_fill_missing": 0.01}})
    points = design(spec).points
    y = [3 * p["a.x"] for p in points]
    y[7] = np.nan
    runs = pd.DataFrame({"run_id": range(len(y)), "point": range(len(y)), "status": "ok", "m": y})
    table = sobol_indices(runs, spec, ["m"]).set_index("parameter")
    assert table.loc["a.x", "S1"] > 0.8
    assert table.loc["a.x", "note"] == "1 of 256 points had no value: filled with the mean"
