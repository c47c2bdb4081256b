"""The README's commands work as written (issue 17): every ``vcm-sim`` line of its code
blocks is accepted by the command line, every file it names exists, and those that finish in
seconds run and succeed, from a folder that is not the checkout."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from tests.sweep.sweep_helpers import GRID, write_sweep
from vcm_sim.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDERS = {"FILE": "experiments/greenwashing_risk.toml", "HOST": "127.0.0.1"}
"""The README's placeholders, and what a reader would put there."""
USER_FILES = {"my_rules.toml": "vcm_sim/scenarios/baseline.toml"}
"""Files the README asks readers to write themselves, and a stand-in for each."""
SLOW = {"demo", "calibrate", "validate", "sweep"}
"""Commands that serve or run for minutes: accepted here, run by their own tests."""


def readme_commands() -> list[list[str]]:
    """The arguments of every ``.venv/bin/vcm-sim`` line in the README's ``bash`` blocks
    (continuation lines joined, comments dropped, placeholders filled in)."""
    text = (ROOT / "README.md").read_text()
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == ".venv/bin/vcm-sim":
                commands.append([PLACEHOLDERS.get(word, word) for word in words[1:]])
    return commands


COMMANDS = readme_commands()


def test_the_readme_shows_each_sub_command():
    shown = {args[0] for args in COMMANDS if args and not args[0].startswith("-")}
    assert shown >= {"scenarios", "run", "demo", "calibrate", "validate", "sweep", "report"}


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_readme_command_is_accepted_and_names_files_that_exist(args):
    if args == ["--version"]:
        return  # argparse prints and exits: run below
    parser = build_parser()
    parser.parse_args(args)  # a refused argument exits (SystemExit), failing the test
    for word in args:
        if re.fullmatch(r"[\w./-]+\.toml|(results|experiments|calibration)/[\w./-]+", word):
            assert (ROOT / USER_FILES.get(word, word)).exists(), word


@pytest.mark.parametrize("args", [a for a in COMMANDS if not SLOW & set(a[:1])],
                         ids=" ".join)
def test_a_quick_readme_command_runs(args, tmp_path, monkeypatch, capsys):
    """Run where a reader might: a folder with the README's own files in it (a results
    folder comes from a tiny sweep of the same name: sweep output is not in the checkout)."""
    for name, stand_in in USER_FILES.items():
        shutil.copy(ROOT / stand_in, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    for word in args:
        if word.startswith("results/"):  # what the README's sweep writes, as a tiny sweep
            write_sweep(tmp_path, GRID, keys='metrics = ["mean_price_usd"]\n',
                        name=Path(word).parts[1])
            assert main(["sweep", "sweep.toml", "--workers", "1", "--no-progress"]) == 0
    try:
        code = main(args)
    except SystemExit as stop:  # --version
        code = stop.code
    out = capsys.readouterr()
    assert code == 0, out.err
    assert out.out.strip()
