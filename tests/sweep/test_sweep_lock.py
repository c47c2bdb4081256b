"""One session at a time per output folder: two sweeps, or two resumes, started at the same
instant into one folder, and exactly one of them runs; the other is refused, naming the pid of
the one that holds the folder."""

from __future__ import annotations

import subprocess
import sys
import time

import pandas as pd

from tests.sweep.sweep_helpers import ROOT, SLOW, manifest, write_sweep
from vcm_sim.sweep import load_runs, sweep

SYNCHRONISED = """
import sys, time
from vcm_sim.cli import main
start = float(sys.argv[1])
time.sleep(max(0.0, start - time.time()))
sys.exit(main(sys.argv[2:]))
"""
"""Runs ``vcm-sim ARGS`` at the instant given as first argument (imports done beforehand)."""


def _together(*commands: list[str]) -> list[subprocess.CompletedProcess]:
    """Run ``vcm-sim`` with each argument list, all starting at the same instant; each result
    has the process's ``pid``."""
    at = str(time.time() + 3.0)
    procs = [subprocess.Popen([sys.executable, "-c", SYNCHRONISED, at, *map(str, args)],
                              cwd=ROOT, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for args in commands]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
        done[-1].pid = proc.pid
    return done


def test_two_sweeps_started_together_into_one_folder_run_one_and_refuse_the_other(tmp_path):
    values = {"a": "[0.2, 0.4]", "b": "[0.6, 0.8]"}
    files = {k: write_sweep(tmp_path, f'[parameters."rules.integrity.verification_rigour"]\n'
                                      f"values = {v}\n", model=SLOW, replications=4,
                            file=f"{k}.toml") for k, v in values.items()}
    out = tmp_path / "o"
    results = _together(*[["sweep", files[k], "--workers", "1", "--out", out, "--no-progress"]
                          for k in ("a", "b")])
    codes = [r.returncode for r in results]
    assert sorted(codes) == [0, 2], [r.stderr for r in results]
    winner = "ab"[codes.index(0)]
    refused = results[codes.index(2)].stderr
    assert f"{out} is in use by another sweep session (pid {results[codes.index(0)].pid})" \
        in refused
    assert refused.count("\n") == 1 and "Traceback" not in refused
    record = manifest(out)
    assert record["sweep_file"] == str(files[winner]) and record["status"] == "finished"
    rigour = load_runs(out)["rules.integrity.verification_rigour"]
    assert sorted(set(rigour)) == {"a": [0.2, 0.4], "b": [0.6, 0.8]}[winner]
    assert len(rigour) == 8


def test_two_resumes_started_together_run_the_rest_once(tmp_path):
    path = write_sweep(tmp_path, '[parameters."rules.integrity.verification_rigour"]\n'
                                 "values = [0.2, 0.4, 0.6, 0.8]\n", model=SLOW, replications=2)
    out = tmp_path / "o"
    sweep(path, workers=1, out=out, progress=False)
    fresh = load_runs(out).drop(columns="duration_s")
    for part in sorted((out / "parts").iterdir())[2:]:
        part.unlink()
    results = _together(*[["sweep", path, "--workers", "1", "--out", out, "--resume",
                           "--no-progress"]] * 2)
    codes = [r.returncode for r in results]
    assert sorted(codes) == [0, 2], [r.stderr for r in results]
    assert f"is in use by another sweep session (pid {results[codes.index(0)].pid})" in \
        results[codes.index(2)].stderr
    record = manifest(out)
    assert len(record["sessions"]) == 2 and record["sessions"][1]["ran"] == 6
    pd.testing.assert_frame_equal(load_runs(out).drop(columns="duration_s"), fresh)
