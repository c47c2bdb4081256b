"""The ``vcm-sim sweep`` and ``vcm-sim report`` sub-commands, and their exit codes (see
``vcm_sim.errors``): 0 success, 1 some runs failed, 2 a user error (one line, nothing written),
130 interrupted (the line says what was saved and how to resume)."""

from __future__ import annotations

import argparse
import sys

from vcm_sim.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_RUNS_FAILED, EXIT_USER_ERROR
from vcm_sim.sweep.backends import BACKENDS, WORKER_TIMEOUT_S
from vcm_sim.sweep.spec import SweepError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` and ``report`` sub-commands."""
    from vcm_sim.sweep.runner import MAX_RUNS

    p = subparsers.add_parser(
        "sweep", help="run a parameter sweep file",
        description="Run every run of a sweep file (see docs/sweeps.md), writing one Parquet "
                    "row per finished run under --out. Exit codes: 0 success, 1 some runs "
                    "failed, 2 a bad argument, file or folder, 130 interrupted.")
    p.add_argument("file", help="sweep file (TOML)")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes, at least 1 (default: the cores available)")
    p.add_argument("--backend", choices=BACKENDS, default="local",
                   help="where runs execute (default: local processes)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: start a "
                        "LocalCluster)")
    p.add_argument("--worker-timeout", type=float, default=WORKER_TIMEOUT_S, metavar="SECONDS",
                   help=f"Dask: stop when the cluster has had no worker for this long "
                        f"(default {WORKER_TIMEOUT_S:g})")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output folder (default: results/<name>/runs)")
    p.add_argument("--resume", action="store_true",
                   help="continue the sweep in --out, skipping the runs already written")
    p.add_argument("--retry-failed", action="store_true",
                   help="with --resume, run again the runs that recorded an error")
    p.add_argument("--rebuild-manifest", action="store_true",
                   help="with --resume, replace a missing or damaged manifest.json by one "
                        "rebuilt from the run files")
    p.add_argument("--max-runs", type=int, default=MAX_RUNS, metavar="N",
                   help=f"refuse a sweep of more than N runs (default {MAX_RUNS:,})")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=_sweep)

    r = subparsers.add_parser(
        "report", help="tables, figures and Sobol indices of a sweep's output",
        description="Summarise a sweep output folder: mean and 95% confidence interval per "
                    "parameter point, line plots with bands, heatmaps, Sobol indices.")
    r.add_argument("dir", metavar="DIR",
                   help="the sweep's output folder, or an experiment's results/<name> folder "
                        "whose runs/ folder holds it")
    r.add_argument("--out", default=None, metavar="OUT",
                   help="where to write the report (default: the sweep's output folder's "
                        "report/, e.g. results/<name>/runs/report)")
    r.set_defaults(handler=_report)


def _sweep(args: argparse.Namespace) -> int:
    from vcm_sim.sweep.runner import SweepInterrupted, sweep

    try:
        outcome = sweep(args.file, workers=args.workers, backend=args.backend,
                        scheduler=args.scheduler, out=args.out, resume=args.resume,
                        retry_failed=args.retry_failed, rebuild_manifest=args.rebuild_manifest,
                        max_runs=args.max_runs, worker_timeout=args.worker_timeout,
                        progress=not args.no_progress)
    except SweepError as err:
        print(f"vcm-sim sweep: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except SweepInterrupted as stop:
        print(f"vcm-sim sweep: {stop}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("vcm-sim sweep: interrupted before the session began; nothing was written",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"{outcome.ran} runs in {outcome.seconds:.1f} s ({outcome.runs_per_minute:.0f} "
          f"runs/min), {outcome.skipped} already done, {outcome.failed} failed; "
          f"output: {outcome.out}")
    if outcome.failed_total:
        print(f"{outcome.failed_total} of {outcome.done} runs in {outcome.out} failed (their "
              f"errors are in the run table's 'error' column); run them again with --resume "
              f"--retry-failed", file=sys.stderr)
        return EXIT_RUNS_FAILED
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from vcm_sim.sweep.report import report

    try:
        written = report(args.dir, args.out)
    except SweepError as err:
        print(f"vcm-sim report: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(f"report: {len(written)} files in {written[0].parent}")
    return EXIT_OK
