"""Small scenarios for model tests: a few dozen agents, a few years."""

import hypothesis.strategies as st
import pytest

from vcm_sim.scenario import load_scenario

SMALL = {"population": {"firms": 120, "developers": 30, "verifiers": 6}, "burn_in": 12}
"""A small world; a year of burn-in is enough for tests of mechanics (measurement tests and
experiments use the scenario's own)."""


def small(name: str = "baseline", steps: int = 36, **overrides):
    """A preset shrunk to a small population and horizon, with every-step checks on."""
    merged = {**SMALL, "steps": steps, "debug": True}
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return load_scenario(name, **merged)


@pytest.fixture
def small_scenario():
    return small()


def obliged_or_dropping(draw, unit) -> dict:
    """Firms' settings for a random scenario: under an obligation no pledge is dropped (the
    scenario refuses a drop rate); otherwise any drop rate."""
    if draw(st.booleans()):
        return {"obligation": True, "pledge_drop_yr": 0.0}
    return {"obligation": False, "pledge_drop_yr": draw(unit)}
