"""The ``vcm-sim`` command line: run a scenario, list presets, and the sub-commands that
other modules register (sweep, report, demo)."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

EXTENSIONS: tuple[str, ...] = ("vcm_sim.sweep.cli", "vcm_sim.app.cli")
"""Modules that add sub-commands through a ``register(subparsers)`` function."""


def parse_setting(text: str) -> tuple[str, Any]:
    """``path=value`` from ``--set``; the value is read as TOML (numbers, booleans, strings,
    lists), falling back to a bare string."""
    path, sep, raw = text.partition("=")
    if not sep or not path:
        raise argparse.ArgumentTypeError(f"--set expects path=value, got {text!r}")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return path.strip(), value


def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario, print its summary, write the per-step table and a figure."""
    from vcm_sim.metrics import summarise
    from vcm_sim.model import VCMModel
    from vcm_sim.plots import plot_run
    from vcm_sim.scenario import load_scenario, with_overrides

    scenario = with_overrides(load_scenario(args.scenario), dict(args.set))
    steps = args.steps or scenario.steps
    model = VCMModel(scenario, rng=args.seed)
    start = time.perf_counter()
    progress = _progress(steps, scenario.name)
    for _ in range(steps):
        model.step()
        progress.update()
    progress.close()
    elapsed = time.perf_counter() - start
    out = Path(args.out or Path("results") / scenario.name)
    out.mkdir(parents=True, exist_ok=True)
    results = model.results()
    results.to_parquet(out / "steps.parquet", index=False)
    figure = plot_run(results, f"{scenario.name} (seed {args.seed}): {scenario.description}")
    figure.savefig(out / "run.png", dpi=110)
    print(_summary_table(summarise(results)))
    print(f"\n{steps} steps in {elapsed:.2f} s; wrote {out / 'steps.parquet'} and {out / 'run.png'}")
    return 0


def _progress(steps: int, name: str):
    from tqdm import tqdm

    return tqdm(total=steps, desc=f"{name}", unit="month", disable=not sys.stderr.isatty())


def _summary_table(summary: dict[str, float]) -> str:
    width = max(map(len, summary))
    lines = []
    for key, value in summary.items():
        if isinstance(value, float):
            text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3f}"
        else:
            text = f"{value:,}"
        lines.append(f"{key:<{width}}  {text:>18}")
    return "\n".join(lines)


def cmd_scenarios(args: argparse.Namespace) -> int:
    """List the presets, one line each."""
    from vcm_sim.scenario import load_scenario, preset_names

    for name in preset_names():
        print(f"{name:<10} {load_scenario(name).description}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="vcm-sim", description="Agent-based simulation of the voluntary carbon market "
                                    "for nature-based credits.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run one scenario and write its results",
                         description=cmd_run.__doc__)
    run.add_argument("--scenario", default="baseline",
                     help="preset name (see 'vcm-sim scenarios') or path to a TOML file")
    run.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    run.add_argument("--steps", type=int, help="months to run (default: the scenario's)")
    run.add_argument("--set", action="append", type=parse_setting, default=[],
                     metavar="PATH=VALUE",
                     help="override a setting, e.g. rules.market.offset_cap=0.05 (repeatable)")
    run.add_argument("--out", help="output folder (default results/<scenario>)")
    run.set_defaults(handler=cmd_run)
    scenarios = sub.add_parser("scenarios", help="list the preset scenarios")
    scenarios.set_defaults(handler=cmd_scenarios)
    for name in EXTENSIONS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``vcm-sim`` console script; returns the exit code."""
    from vcm_sim.scenario import ScenarioError

    args = build_parser().parse_args(argv)
    try:
        return args.handler(args) or 0
    except ScenarioError as err:
        print(f"vcm-sim: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
