"""The ``sweep`` and ``report`` commands: a user error is one line and exit 2 with nothing
written or overwritten; failed runs mean exit 1, also on a resume; a report says when a sweep
is incomplete or every run failed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from tests.sweep.sweep_helpers import FLAKY, GRID, ROOT, cli, manifest, write_sweep
from vcm_sim.cli import main
from vcm_sim.sweep import load_runs, sweep
from vcm_sim.sweep.runner import MAX_RUNS, SweepInterrupted, SweepOutcome


def _refused(capsys, args: list, *expected: str) -> str:
    """Run ``vcm-sim ARGS``: exit 2, one line on stderr holding each expected text."""
    assert main([str(a) for a in args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for text in expected:
        assert text in err, err
    return err


@pytest.mark.parametrize("workers", ["0", "-2"])
def test_fewer_than_one_worker_is_refused(grid_file, tmp_path, capsys, workers):
    out = tmp_path / "o"
    _refused(capsys, ["sweep", grid_file, "--workers", workers, "--out", out],
             f"--workers {workers}: need an integer >= 1")
    assert not out.exists()


def test_dask_with_minus_two_workers_is_refused_instead_of_waiting_forever(grid_file,
                                                                          tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "o"
    done = subprocess.run(cli("sweep", grid_file, "--backend", "dask", "--workers", "-2",
                              "--out", out, "--no-progress"), cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "--workers -2: need an integer >= 1" in done.stderr
    assert not out.exists()


def test_a_garbage_scheduler_address_is_refused_and_leaves_the_folder_as_it_was(
        grid_file, tmp_path, capsys):
    pytest.importorskip("distributed")
    out = tmp_path / "o"
    args = ["sweep", grid_file, "--backend", "dask", "--scheduler", "garbage", "--out", out]
    _refused(capsys, args, "--scheduler 'garbage' is not a Dask scheduler address")
    assert not out.exists()
    sweep(grid_file, workers=1, out=out, progress=False)
    before = (out / "manifest.json").read_bytes()
    _refused(capsys, args + ["--resume"], "not a Dask scheduler address")
    assert (out / "manifest.json").read_bytes() == before


def test_an_output_path_that_is_a_file_is_refused(grid_file, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    _refused(capsys, ["sweep", grid_file, "--out", afile], "is a file, not a folder")
    assert afile.read_text() == "keep me"


@pytest.mark.parametrize("content", [b"\xff\xfe\x00name = 'x'", None])
def test_a_sweep_file_that_cannot_be_read_is_refused(tmp_path, capsys, content):
    path = tmp_path / "sweep.toml"
    if content is None:  # a file no one can read, root included: reading it fails (EINVAL)
        unreadable = Path("/proc/self/clear_refs")
        if not unreadable.exists():
            pytest.skip("needs Linux's /proc")
        path.symlink_to(unreadable)
    else:
        path.write_bytes(content)
    _refused(capsys, ["sweep", path, "--out", tmp_path / "o"], str(path))
    assert not (tmp_path / "o").exists()


def test_a_folder_named_like_a_sweep_file_is_said_to_be_a_folder(tmp_path, capsys):
    folder = tmp_path / "x.toml"
    folder.mkdir()
    _refused(capsys, ["sweep", folder, "--out", tmp_path / "o"], "is a directory")


def test_a_report_that_cannot_be_written_is_refused(tmp_path, capsys):
    path = write_sweep(tmp_path, GRID, keys='metrics = ["mean_price_usd"]\n')
    out = tmp_path / "o"
    sweep(path, workers=1, out=out, progress=False)
    _refused(capsys, ["report", out, "--out", "/proc/x"], "cannot write the report to '/proc/x'")


def test_the_report_of_a_sweep_whose_runs_all_failed_lists_the_errors(tmp_path, capsys):
    path = write_sweep(tmp_path, '[parameters."rules.market.offset_cap"]\nvalues = [0.05]\n',
                       model=FLAKY, replications=3)
    out = tmp_path / "o"
    assert main(["sweep", str(path), "--workers", "1", "--out", str(out), "--no-progress"]) == 1
    assert main(["report", str(out)]) == 0
    text = (out / "report" / "report.md").read_text()
    assert "All 3 finished runs failed" in text
    assert "| 3 | RuntimeError: simulated failure at offset_cap = 0.05 |" in text


def test_a_resume_of_a_folder_with_failed_runs_exits_1_and_says_how_many(tmp_path, capsys):
    path = write_sweep(tmp_path, GRID, model=FLAKY)
    out = tmp_path / "o"
    args = ["sweep", str(path), "--workers", "1", "--out", str(out), "--no-progress"]
    assert main(args) == 1
    capsys.readouterr()
    assert main(args + ["--resume"]) == 1
    captured = capsys.readouterr()
    assert "0 runs in" in captured.out and "8 already done" in captured.out
    assert f"4 of 8 runs in {out} failed" in captured.err and "--retry-failed" in captured.err


def test_a_report_of_an_unfinished_sweep_says_it_is_incomplete(tmp_path):
    path = write_sweep(tmp_path, GRID, keys='metrics = ["mean_price_usd"]\n')
    out = tmp_path / "o"
    sweep(path, workers=1, out=out, progress=False)
    for part in sorted((out / "parts").iterdir())[6:]:
        part.unlink()
    record = manifest(out)
    (out / "manifest.json").write_text(json.dumps({**record, "status": "interrupted"}))
    assert main(["report", str(out)]) == 0
    text = (out / "report" / "report.md").read_text()
    assert "Incomplete sweep: 6 of 8 runs have finished (status 'interrupted')" in text


def test_integer_metrics_stay_integers_when_some_runs_failed(tmp_path):
    path = write_sweep(tmp_path, GRID, model=FLAKY)
    runs = load_runs(sweep(path, workers=1, out=tmp_path / "o", progress=False).out)
    for column in ("volume_total", "issued_total", "steps"):
        assert pd.api.types.is_integer_dtype(runs[column]), runs[column].dtype
    assert runs.loc[runs["status"] == "error", "volume_total"].isna().all()
    assert runs.loc[runs["status"] == "ok", "volume_total"].gt(0).all()


@pytest.mark.parametrize("total,hint", [(40, "--resume"), (MAX_RUNS + 1,
                                                           f"--resume --max-runs {MAX_RUNS + 1}")])
def test_the_resume_hint_of_an_interrupted_sweep_repeats_a_raised_run_bound(total, hint):
    outcome = SweepOutcome(Path("o"), total, 0, 3, 0, 1.0, 3, 0)
    message = str(SweepInterrupted(outcome, "s.toml"))
    assert message.endswith(f"vcm-sim sweep s.toml --out o {hint}")
