"""Interrupting a sweep: Ctrl+C and SIGTERM leave a folder marked 'interrupted', exit 130 and say
what was saved and how to resume; killing only the main process leaves no worker behind. Each
test drives a real ``vcm-sim sweep`` process with two local workers."""

from __future__ import annotations

import os
import signal

import psutil
import pytest

from tests.sweep.sweep_helpers import RIGOUR_RANGE, SLOW, cli, manifest, start, wait_for_parts, \
    write_sweep


@pytest.fixture
def slow_sweep(tmp_path):
    """A 24-run sweep of the slow model on two workers, started, with 2 runs written."""
    path = write_sweep(tmp_path, RIGOUR_RANGE, model=SLOW)
    out = tmp_path / "o"
    proc = start(cli("sweep", path, "--workers", "2", "--out", out, "--no-progress"))
    try:
        wait_for_parts(proc, out, 2)
        yield path, out, proc, psutil.Process(proc.pid).children(recursive=True)
    finally:
        try:  # whatever is left of the sweep's process group, orphans included
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.communicate()


def _gone(processes: list[psutil.Process], timeout: float = 15) -> bool:
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    for process in alive:
        process.kill()
    return not alive


@pytest.mark.parametrize("how", ["ctrl_c", "sigterm"])
def test_ctrl_c_or_sigterm_marks_the_folder_interrupted_and_says_how_to_resume(slow_sweep, how):
    path, out, proc, workers = slow_sweep
    if how == "ctrl_c":  # a terminal sends SIGINT to the whole foreground process group
        os.killpg(proc.pid, signal.SIGINT)
    else:  # a batch system or `kill PID`: the main process only
        os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    saved = len(list((out / "parts").glob("run-*.parquet")))
    assert f"interrupted: {saved} of 24 runs are saved in {out}" in err
    assert f"continue with: vcm-sim sweep {path} --out {out} --resume" in err
    record = manifest(out)
    assert record["status"] == "interrupted" and record["runs_done"] == saved
    assert _gone(workers), "worker processes outlived the interrupted sweep"


def test_workers_exit_when_only_the_main_process_is_killed(slow_sweep):
    _, _, proc, workers = slow_sweep
    assert len(workers) >= 3  # the fork server and two workers (and the resource tracker)
    os.kill(proc.pid, signal.SIGKILL)  # the main process alone: its workers are not signalled
    proc.wait()
    assert _gone(workers), "worker processes were orphaned by the main process's death"
