"""Variants of the real model for runner tests: one that fails on one parameter point, one that
takes a little longer per run.

Worker processes import them as ``tests.sweep.flaky_model`` (the repository root is on
``sys.path`` under pytest, and workers inherit it).
"""

from __future__ import annotations

import time

from vcm_sim.model import VCMModel


class FlakyModel(VCMModel):
    """Raises in ``run`` when the offset cap is exactly 0.05 (any other point runs normally)."""

    def __init__(self, scenario, rng):
        self.failing = scenario.rules.market.offset_cap == 0.05
        super().__init__(scenario, rng=rng)

    def run(self, *args, **kwargs):
        if self.failing:
            raise RuntimeError("simulated failure at offset_cap = 0.05")
        return super().run(*args, **kwargs)


class SlowModel(VCMModel):
    """The real model, plus 0.1 s per run, so that a test can kill a sweep midway."""

    def run(self, *args, **kwargs):
        time.sleep(0.1)
        return super().run(*args, **kwargs)
