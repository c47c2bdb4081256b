"""The ``vcm-sim validate`` sub-command: exit 0 when ``results/validation/`` was rebuilt, 2 on a
user error (one line), 130 interrupted (nothing is left half-written: the folder is replaced
only once every run is done)."""

from __future__ import annotations

import argparse
from pathlib import Path

from vcm_sim.cli import count

DEFAULT_CALIBRATION = Path("results") / "calibration" / "history"
"""Where ``vcm-sim calibrate calibration/history.toml`` leaves the committed posterior."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``validate`` sub-command."""
    from vcm_sim.sweep.backends import default_workers

    p = subparsers.add_parser(
        "validate", help="rebuild results/validation/: the 2010-2025 hindcast against data",
        description="Run posterior draws of the calibrated history preset, with and without "
                    "its driver series, and rebuild the output folder from scratch: the "
                    "targets table, the acceptance criteria, fit and integrity figures, "
                    "stylized facts, Gode and Sunder efficiency, and a README. See "
                    "docs/validation.md.")
    p.add_argument("--calibration", default=str(DEFAULT_CALIBRATION), metavar="DIR",
                   help=f"calibration output folder holding posterior.csv (default "
                        f"{DEFAULT_CALIBRATION})")
    p.add_argument("--out", default=str(Path("results") / "validation"), metavar="DIR",
                   help="output folder, replaced (default results/validation)")
    p.add_argument("--draws", type=count(1), default=20,
                   help="posterior draws, each run with and without drivers (default 20)")
    p.add_argument("--seed", type=count(0), default=2025,
                   help="root seed of the draws and their model seeds (default 2025)")
    p.add_argument("--workers", type=count(1), default=default_workers(),
                   help="worker processes (default: the cores available)")
    p.add_argument("--zi-periods", type=count(1), default=20,
                   help="trading periods per market in the Gode and Sunder check (default 20)")
    p.add_argument("--no-progress", action="store_true", help="print nothing while running")
    p.set_defaults(handler=_validate)


def _validate(args: argparse.Namespace) -> int:
    from vcm_sim.validate.report import Options, validate

    options = Options(Path(args.calibration), Path(args.out), args.draws, args.seed,
                      args.workers, args.zi_periods)
    validate(options, progress=not args.no_progress)
    return 0
