"""Instructions executed by the baseline's recorded months, counted by valgrind's callgrind:
a figure that does not move with machine load, for comparing two versions of the code.

Wall-clock figures on a shared 2-core machine swing by 2x within minutes, which hides a 10%
change. Callgrind counts the instructions the CPU executes instead: the same code, inputs and
seed give the same count to within a few hundred thousandths. Collection is switched on only
around ``model.run`` (by a client request from a small C library built here with gcc), so the
count excludes imports and set-up (populations, seeded past, burn-in).

Run by hand: ``python benchmarks/instructions.py [--steps 240] [--seed 0] [--tree PATH ...]``
(each ``--tree`` a checkout whose ``vcm_sim`` is measured instead of this one, e.g. a
``git worktree`` of ``main``). Needs ``valgrind`` with its headers and ``gcc``; takes about
70 s per tree (the run is about 50x slower under valgrind).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TOGGLE_C = """
#include <valgrind/callgrind.h>
void cg_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION;
                      CALLGRIND_TOGGLE_COLLECT; }
void cg_stop(void) { CALLGRIND_TOGGLE_COLLECT; CALLGRIND_DUMP_STATS;
                     CALLGRIND_STOP_INSTRUMENTATION; }
"""

RUN = """
import ctypes, sys
from vcm_sim import VCMModel
toggle = ctypes.CDLL(sys.argv[1])
model = VCMModel("baseline", rng=int(sys.argv[3]))
toggle.cg_start()
model.run(int(sys.argv[2]))
toggle.cg_stop()
"""


def build_toggle(workdir: Path) -> Path:
    """The shared library whose two functions start and stop callgrind's collection."""
    source, library = workdir / "toggle.c", workdir / "toggle.so"
    source.write_text(TOGGLE_C)
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", str(library), str(source)],
                   check=True)
    return library


def instructions(tree: Path | None, library: Path, steps: int, seed: int,
                 workdir: Path) -> int:
    """Instructions executed by ``steps`` recorded months of the baseline with ``seed``,
    with ``tree``'s vcm_sim (this checkout's when None)."""
    # String hashes are salted per process, and the salt moves set and dict layouts enough
    # to swing the count by about 1%: one fixed salt makes runs comparable.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no",
         f"--callgrind-out-file={workdir / 'callgrind.out'}", sys.executable, "-c", RUN,
         str(library), str(steps), str(seed)],
        env=env, cwd=workdir, capture_output=True, text=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode or not found:
        raise RuntimeError(f"valgrind failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=240)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tree", type=Path, action="append", default=[],
                        help="measure this checkout's vcm_sim too (repeatable)")
    args = parser.parse_args()
    missing = [tool for tool in ("valgrind", "gcc") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"needs {' and '.join(missing)} (Debian: apt-get install valgrind gcc)")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        library = build_toggle(workdir)
        counts = {}
        for tree in [None, *args.tree]:
            label = "this checkout" if tree is None else str(tree)
            counts[label] = instructions(tree, library, args.steps, args.seed, workdir)
            print(f"{label:40} {counts[label] / 1e9:8.4f} G instructions  "
                  f"{counts[label] / args.steps / 1e6:6.2f} M per recorded month", flush=True)
        if len(counts) > 1:
            mine = counts["this checkout"]
            for label, count in list(counts.items())[1:]:
                print(f"this checkout / {label}: {mine / count:.3f}")


if __name__ == "__main__":
    main()
