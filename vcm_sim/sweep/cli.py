"""The ``vcm-sim sweep`` and ``vcm-sim report`` sub-commands."""

from __future__ import annotations

import argparse
import sys

from vcm_sim.sweep.backends import BACKENDS
from vcm_sim.sweep.spec import SweepError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` and ``report`` sub-commands."""
    p = subparsers.add_parser(
        "sweep", help="run a parameter sweep file",
        description="Run every run of a sweep file (see docs/sweeps.md), writing one Parquet "
                    "row per finished run under --out.")
    p.add_argument("file", help="sweep file (TOML)")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes (default: the cores available)")
    p.add_argument("--backend", choices=BACKENDS, default="local",
                   help="where runs execute (default: local processes)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: start a "
                        "LocalCluster)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output folder (default: results/<name>/runs)")
    p.add_argument("--resume", action="store_true",
                   help="continue the sweep in --out, skipping the runs already written")
    p.add_argument("--retry-failed", action="store_true",
                   help="with --resume, run again the runs that recorded an error")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=_sweep)

    r = subparsers.add_parser(
        "report", help="tables, figures and Sobol indices of a sweep's output",
        description="Summarise a sweep output folder: mean and 95%% confidence interval per "
                    "parameter point, line plots with bands, heatmaps, Sobol indices.")
    r.add_argument("dir", help="the sweep's output folder")
    r.add_argument("--out", default=None, metavar="DIR",
                   help="where to write the report (default: DIR/report)")
    r.set_defaults(handler=_report)


def _sweep(args: argparse.Namespace) -> int:
    from vcm_sim.sweep.runner import sweep

    if args.retry_failed and not args.resume:
        print("vcm-sim sweep: --retry-failed needs --resume", file=sys.stderr)
        return 2
    try:
        outcome = sweep(args.file, workers=args.workers, backend=args.backend,
                        scheduler=args.scheduler, out=args.out, resume=args.resume,
                        retry_failed=args.retry_failed, progress=not args.no_progress)
    except SweepError as err:
        print(f"vcm-sim sweep: {err}", file=sys.stderr)
        return 2
    print(f"{outcome.ran} runs in {outcome.seconds:.1f} s ({outcome.runs_per_minute:.0f} "
          f"runs/min), {outcome.skipped} already done, {outcome.failed} failed; "
          f"output: {outcome.out}")
    return 1 if outcome.failed else 0


def _report(args: argparse.Namespace) -> int:
    from vcm_sim.sweep.report import report

    try:
        written = report(args.dir, args.out)
    except SweepError as err:
        print(f"vcm-sim report: {err}", file=sys.stderr)
        return 2
    print(f"report: {len(written)} files in {written[0].parent if written else args.out}")
    return 0
