"""The ``vcm-sim calibrate`` sub-command. Exit codes (see ``vcm_sim.errors``): 0 success, 2 a
bad argument, calibration file or folder (one line, nothing written), 130 interrupted (the line
says what is saved and how to resume)."""

from __future__ import annotations

import argparse
import sys

from vcm_sim.errors import EXIT_INTERRUPTED, EXIT_OK
from vcm_sim.sweep.backends import BACKENDS


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``calibrate`` sub-command."""
    p = subparsers.add_parser(
        "calibrate", help="fit the history scenario to the data with ABC-SMC (pyabc)",
        description="Calibrate the settings named in a calibration file (TOML) against the "
                    "hindcast's in-sample statistics with pyabc's ABC-SMC, writing the "
                    "posterior, the epsilon schedule, the best particle, figures and a README "
                    "under --out. Exit codes: 0 success, 2 a bad argument, file or folder, "
                    "130 interrupted (resume with --resume).")
    p.add_argument("spec", metavar="SPEC.toml", help="calibration file (TOML)")
    p.add_argument("--backend", choices=BACKENDS, default="local",
                   help="where simulations run (default: local processes)")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes, at least 1 (default: the cores available); with "
                        "--backend local, 1 runs in this process and is exactly reproducible")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: start a "
                        "LocalCluster of --workers processes)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output folder (default: results/calibration/<SPEC stem>)")
    p.add_argument("--resume", action="store_true",
                   help="continue the calibration in --out from its last finished generation")
    p.add_argument("--fresh", action="store_true",
                   help="clear the calibration in --out and start over")
    p.add_argument("--no-progress", action="store_true",
                   help="no line per generation, no progress bar")
    p.set_defaults(handler=_calibrate)


def _calibrate(args: argparse.Namespace) -> int:
    from vcm_sim.calibrate.run import CalibrationInterrupted, calibrate

    try:
        outcome = calibrate(args.spec, backend=args.backend, workers=args.workers,
                            scheduler=args.scheduler, out=args.out, resume=args.resume,
                            fresh=args.fresh, progress=not args.no_progress)
    except CalibrationInterrupted as stop:
        print(f"vcm-sim calibrate: {stop}", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"{outcome.ran} generations in {outcome.seconds:.1f} s ({outcome.generations} in "
          f"all, {outcome.simulations:,} simulations); stopped because "
          f"{outcome.stopped_because}; output: {outcome.out}")
    return EXIT_OK
