"""Run the twelve experiments in turn (each resumes its sweep if raw runs exist).

Run: ``python experiments/run_all.py [--workers N] [--fresh] [--report-only]``; the whole set
takes about 50 minutes on two cores (33 measured with ``--fresh`` after issue 12's speed-ups,
sensitivity 13 and market_cycles 9 of them; market_linking adds 4, ets_offset_cap 2,
article6 2, quality_signals 5, rated_premium 2): every run simulates its burn-in before the
months it records.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

EXPERIMENTS = ["price_stability", "greenwashing_risk", "buffer_adequacy", "offset_cap",
               "sensitivity", "market_cycles", "market_linking", "ets_offset_cap", "article6",
               "quality_signals", "rated_premium", "lemons"]

if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    for name in EXPERIMENTS:
        print(f"== {name}", flush=True)
        sys.argv = [str(here / f"{name}.py"), *sys.argv[1:]]
        runpy.run_path(str(here / f"{name}.py"), run_name="__main__")
