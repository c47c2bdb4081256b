"""Common random numbers: each phase draws from its own stream, keyed by month.

An intervention must leave the draws of the phases it does not act on as they were, so that
a paired-seed comparison measures its effect and not unrelated noise.
"""

from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from vcm_sim import VCMModel
from vcm_sim.streams import STREAMS, Streams

from .conftest import small

NATURE_AND_MRV = ("fire_years", "reversals", "verifier_choice", "verification")


class Recorder:
    """A generator that logs what it returns, as (stream, month) -> outputs in call order."""

    def __init__(self, generator: np.random.Generator, log: list) -> None:
        self._generator, self._log = generator, log

    def __getattr__(self, method: str):
        def draw(*args, **kwargs):
            out = getattr(self._generator, method)(*args, **kwargs)
            self._log.append(np.array(out, copy=True))
            return out
        return draw


def recorded_run(monkeypatch, scenario, seed: int) -> tuple[VCMModel, dict]:
    """Run ``scenario`` and return the model and every draw, by (stream, simulated month)."""
    log: dict = defaultdict(list)
    plain = Streams.get

    def get(self, name, month):
        return Recorder(plain(self, name, month), log[name, month])
    with monkeypatch.context() as patch:
        patch.setattr(Streams, "get", get)
        model = VCMModel(scenario, rng=seed).run()
    return model, log


def test_a_scandal_leaves_the_nature_and_mrv_draws_of_the_same_seed_unchanged(monkeypatch):
    quiet = small(steps=48)
    scandal = small(steps=48, events=[{"step": 6, "kind": "scandal", "severity": 0.9}])
    without, calm_draws = recorded_run(monkeypatch, quiet, seed=3)
    with_scandal, shocked_draws = recorded_run(monkeypatch, scandal, seed=3)

    prices = [m.results()["price_index_usd"] for m in (without, with_scandal)]
    assert not prices[0].equals(prices[1]), "the scandal must change the market"
    sizes = [{key: [c.size for c in calls] for key, calls in draws.items()}
             for draws in (calm_draws, shocked_draws)]
    assert sizes[0] != sizes[1], "the test needs runs that draw different amounts"

    compared = 0
    for (stream, month), calls in calm_draws.items():
        if stream not in NATURE_AND_MRV:
            continue
        other = shocked_draws[stream, month]
        assert len(other) == len(calls), (stream, month)
        for a, b in zip(calls, other):
            rows = min(len(a), len(b))  # rows of projects both runs have
            np.testing.assert_array_equal(a[:rows], b[:rows], err_msg=f"{stream}, month {month}")
            compared += rows
    assert compared > 1000


def test_every_stream_draws_from_its_own_key(monkeypatch):
    model, draws = recorded_run(monkeypatch, small(steps=13), seed=0)
    first = {name: tuple(calls[0].ravel()[:4].tolist()) for (name, month), calls in draws.items()
             if calls and month == 12 and calls[0].size >= 4}
    assert len(first) >= 5
    values = list(first.values())
    assert len(set(values)) == len(values), "two streams gave the same numbers"
    assert set(name for name, _ in draws) <= set(STREAMS)


@pytest.mark.parametrize("rng", [7, np.random.SeedSequence(7), np.random.default_rng(7)])
def test_an_int_a_seed_sequence_and_a_generator_of_the_same_seed_give_the_same_run(rng):
    scenario = small(steps=12)
    reference = VCMModel(scenario, rng=7).run().results()
    pd.testing.assert_frame_equal(VCMModel(scenario, rng=rng).run().results(), reference)
