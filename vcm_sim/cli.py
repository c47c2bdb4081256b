"""The ``vcm-sim`` command line: run a scenario, list presets, and the sub-commands that
other modules register (sweep, report, demo, calibrate).

Every sub-command exits with the codes of :mod:`vcm_sim.errors`: a bad argument or a
:class:`~vcm_sim.errors.UserError` prints one line and exits 2, Ctrl+C prints one line and
exits 130, neither with a traceback. ``vcm-sim`` alone prints the help and ``vcm-sim --version``
the installed version, both exiting 0.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from vcm_sim.errors import (EXIT_INTERRUPTED, EXIT_OK, EXIT_USER_ERROR, UserError,
                            sigterm_interrupts)

if TYPE_CHECKING:
    from vcm_sim.model import VCMModel
    from vcm_sim.scenario import Scenario

EXTENSIONS: tuple[str, ...] = ("vcm_sim.sweep.cli", "vcm_sim.app.cli", "vcm_sim.calibrate.cli",
                                "vcm_sim.validate.cli")
"""Modules that add sub-commands through a ``register(subparsers)`` function."""

SET_HELP = ("override a setting (repeatable), e.g. rules.market.offset_cap=0.05; VALUE is read "
            "as TOML (text that is not TOML is taken as a string) and must have the setting's "
            "type; a table merges into the setting's table (rules.market={offset_cap=0.5} "
            "keeps the other market rules); a list replaces the list")


class Parser(argparse.ArgumentParser):
    """The argument parser of ``vcm-sim`` and its sub-commands: a bad argument is reported in
    one line, without the usage block, and exits with :data:`EXIT_USER_ERROR`."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USER_ERROR, f"{self.prog}: {message} (see {self.prog} --help)\n")


def count(minimum: int) -> Callable[[str], int]:
    """An argument type: an integer of at least ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be an integer >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value
    return parse


def parse_setting(text: str) -> tuple[str, Any]:
    """``path=value`` from ``--set``; the value is read as TOML (numbers, booleans, strings,
    lists, inline tables), falling back to a bare string."""
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
    from vcm_sim.model import VCMModel
    from vcm_sim.plots import plot_run

    scenario = run_scenario(args)
    out = writable_folder(Path(args.out or Path("results") / scenario.name))
    model = VCMModel(scenario, rng=args.seed)
    elapsed = _simulate(model, scenario)
    results = model.results()
    results.to_parquet(out / "steps.parquet", index=False)
    figure = plot_run(results, f"{scenario.name} (seed {args.seed}): {scenario.description}",
                      model.market_names)
    figure.savefig(out / "run.png", dpi=110)
    print(_summary_table(model.summary()))
    print(f"\n{scenario.steps} steps in {elapsed:.2f} s; wrote {out / 'steps.parquet'} and "
          f"{out / 'run.png'}")
    return EXIT_OK


def run_scenario(args: argparse.Namespace) -> Scenario:
    """The scenario ``run`` runs: the preset or file, the ``--set`` overrides in order, then
    ``--steps`` if given, validated together."""
    from vcm_sim.scenario import load_scenario, with_overrides

    steps = [] if args.steps is None else [("steps", args.steps)]
    return with_overrides(load_scenario(args.scenario), [*args.set, *steps])


def writable_folder(out: Path) -> Path:
    """``out``, made if missing, once a file can be written in it: checked before a run so
    that a bad output folder is not found only after the simulation."""
    if out.exists() and not out.is_dir():
        raise UserError(f"output folder {str(out)!r} is a file, not a folder "
                        "(choose another with --out)")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as err:
        raise UserError(f"cannot write in output folder {str(out)!r}: {err.strerror} "
                        "(choose another with --out)") from None
    return out


def _simulate(model: VCMModel, scenario: Scenario) -> float:
    """Step ``model`` over the scenario's horizon, with a progress bar on a terminal; returns
    the seconds it took."""
    from tqdm import tqdm

    start = time.perf_counter()
    with tqdm(total=scenario.steps, desc=scenario.name, unit="month",
              disable=not sys.stderr.isatty()) as progress:
        for _ in range(scenario.steps):
            model.step()
            progress.update()
    return time.perf_counter() - start


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
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    from vcm_sim.sweep.manifest import package_version

    parser = Parser(
        prog="vcm-sim", description="Agent-based simulation of the voluntary carbon market "
                                    "for nature-based credits.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run one scenario and write its results",
                         description=cmd_run.__doc__)
    run.add_argument("--scenario", default="baseline",
                     help="preset name (see 'vcm-sim scenarios') or path to a TOML file")
    run.add_argument("--seed", type=count(0), default=0, help="root seed, >= 0 (default 0)")
    run.add_argument("--steps", type=count(1),
                     help="months to run, >= 1 (default: the scenario's)")
    run.add_argument("--set", action="append", type=parse_setting, default=[],
                     metavar="PATH=VALUE", help=SET_HELP)
    run.add_argument("--out", help="output folder (default results/<scenario>)")
    run.set_defaults(handler=cmd_run)
    scenarios = sub.add_parser("scenarios", help="list the preset scenarios")
    scenarios.set_defaults(handler=cmd_scenarios)
    for name in EXTENSIONS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``vcm-sim`` console script; returns the exit code (see
    :mod:`vcm_sim.errors`)."""
    command = "vcm-sim"
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as stop:  # --help (0), or a bad argument reported in one line (2)
            return int(stop.code or EXIT_OK)
        if args.command is None:  # bare `vcm-sim` asks what it can do, as `vcm-sim --help`
            parser.print_help()
            return EXIT_OK
        command = f"vcm-sim {args.command}"
        with sigterm_interrupts():
            return args.handler(args) or EXIT_OK
    except UserError as err:
        print(f"{command}: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
