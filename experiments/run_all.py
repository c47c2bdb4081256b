"""Run the thirteen experiments in turn (each resumes its sweep if raw runs exist).

Run: ``python experiments/run_all.py [--workers N] [--fresh] [--report-only]``; the whole set
takes about 25 minutes on two cores (measured 2026-12-08 with ``--fresh``: sensitivity 5,
quality_signals 4.5, market_cycles 3.3, lemons 3.1, market_linking and ets_offset_cap 1.5
each, the rest under 1.5; buying_ahead, added later, about 5): every run simulates its
burn-in before the months it records.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

EXPERIMENTS = ["price_stability", "greenwashing_risk", "buffer_adequacy", "offset_cap",
               "sensitivity", "market_cycles", "market_linking", "ets_offset_cap", "article6",
               "quality_signals", "rated_premium", "lemons", "buying_ahead"]

if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    for name in EXPERIMENTS:
        print(f"== {name}", flush=True)
        sys.argv = [str(here / f"{name}.py"), *sys.argv[1:]]
        runpy.run_path(str(here / f"{name}.py"), run_name="__main__")
