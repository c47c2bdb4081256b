"""Helpers of the sweep tests: tiny sweep files over a tiny world (20 firms, 5 developers,
3 verifiers, 24 steps)."""

from __future__ import annotations

import textwrap
from pathlib import Path

MODEL = "vcm_sim.model:VCMModel"

TINY_WORLD = """
[overrides]
"population.firms" = 20
"population.developers" = 5
"population.verifiers" = 3
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

