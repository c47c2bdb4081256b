"""Helpers of the sweep tests: tiny sweep files over a tiny world (20 firms, 5 developers,
3 verifiers, 24 steps after 6 months of burn-in: the sweep machinery, not the market, is
under test)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

MODEL = "vcm_sim.model:VCMModel"

TINY_WORLD = """
[overrides]
"population.firms" = 20
"population.developers" = 5
"population.verifiers" = 3
burn_in = 6
"""


def write_sweep(folder: Path, tables: str = "", *, keys: str = "", name: str = "tiny",
                steps: int = 24, replications: int = 2, seed: int = 7, model: str = MODEL,
                file: str = "sweep.toml") -> Path:
    """A sweep file over the tiny world (20 firms, 5 developers, 3 verifiers, 24 steps);
    ``keys`` adds top-level keys, ``tables`` parameter and other tables."""
    text = (f'name = "{name}"\nmodel = "{model}"\nseed = {seed}\n'
            f"replications = {replications}\nsteps = {steps}\n"
            + textwrap.dedent(keys) + TINY_WORLD + textwrap.dedent(tables))
    path = folder / file
    path.write_text(text)
    return path


GRID = """
[parameters."rules.integrity.verification_rigour"]
values = [0.2, 0.8]
[parameters."rules.market.offset_cap"]
values = [0.05, 1.0]
"""


ROOT = Path(__file__).resolve().parents[2]
"""The repository root: the working directory of sweep subprocesses, so that their workers
import ``tests.sweep.flaky_model``."""

SLOW = "tests.sweep.flaky_model:SlowModel"
FLAKY = "tests.sweep.flaky_model:FlakyModel"

RIGOUR_RANGE = """
[parameters."rules.integrity.verification_rigour"]
low = 0.1
high = 0.9
num = 12
"""
"""One parameter at 12 levels: with two replications, 24 runs."""


def cli(*args: str | Path) -> list[str]:
    """The command line of ``vcm-sim`` with these arguments, run by this interpreter."""
    return [sys.executable, "-m", "vcm_sim.cli", *map(str, args)]


def start(command: list[str], **kwargs) -> subprocess.Popen:
    """Start ``command`` in its own session (so a test can signal its whole process group),
    from the repository root, with stdout and stderr captured as text."""
    return subprocess.Popen(command, start_new_session=True, cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def wait_for_parts(proc: subprocess.Popen, out: Path, n: int, timeout: float = 120) -> None:
    """Wait until ``out`` holds at least ``n`` run files while ``proc`` still runs."""
    parts = out / "parts"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if parts.is_dir() and len(list(parts.glob("run-*.parquet"))) >= n:
            return
        time.sleep(0.02)
    raise AssertionError(f"the sweep ended or stalled before writing {n} runs: "
                         f"{proc.communicate()[1] if proc.poll() is not None else 'still running'}")


def manifest(out: Path) -> dict:
    """The manifest of a sweep output folder."""
    return json.loads((out / "manifest.json").read_text())
