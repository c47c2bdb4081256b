"""Verifier assignment: who verifies whom, within capacity and accreditation."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from vcm_sim.agents.verifier import VerifierPool
from vcm_sim.scenario import Verifiers


def pool(rigour, capacity, accredited, used) -> VerifierPool:
    n = len(rigour)
    return VerifierPool(rigour=np.array(rigour), fee_usd=np.linspace(1e4, 2e4, n),
                        capacity_yr=np.array(capacity), used_this_year=np.array(used),
                        accredited=np.array(accredited), strikes=np.zeros(n, dtype=np.int64),
                        reputation=np.ones(n), suspended_years=np.zeros(n, dtype=np.int64))


def one_at_a_time(verifiers: VerifierPool, score: np.ndarray) -> np.ndarray:
    """The definition: each request in turn takes the open verifier it scores lowest."""
    chosen = np.full(len(score), -1)
    for k, row in enumerate(score):
        open_ = verifiers.accredited & (verifiers.used_this_year < verifiers.capacity_yr)
        if not open_.any():
            break
        chosen[k] = int(np.argmin(np.where(open_, row, np.inf)))
        verifiers.used_this_year[chosen[k]] += 1
    return chosen


verifier_setups = st.integers(1, 6).flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, 4), min_size=n, max_size=n),   # capacity per year
    st.lists(st.booleans(), min_size=n, max_size=n),        # accredited
    st.lists(st.integers(0, 3), min_size=n, max_size=n)))   # already used this year


@settings(max_examples=200, deadline=None)
@given(setup=verifier_setups, requests=st.integers(0, 25), seed=st.integers(0, 2**32 - 1),
       ties=st.booleans())
def test_vectorised_assignment_equals_one_request_at_a_time(setup, requests, seed, ties):
    capacity, accredited, used = setup
    rng = np.random.default_rng(seed)
    score = rng.random((requests, len(capacity)))
    if ties:
        score = np.round(score * 2) / 2  # many equal scores: the lowest index must win
    fast = pool([0.5] * len(capacity), capacity, accredited, used)
    slow = pool([0.5] * len(capacity), capacity, accredited, used)
    assert fast._first_choices(score).tolist() == one_at_a_time(slow, score).tolist()
    assert fast.used_this_year.tolist() == slow.used_this_year.tolist()


def test_inflating_developers_hire_the_laxest_verifier_with_capacity():
    verifiers = pool([0.9, 0.1, 0.5], [10, 2, 10], [True, True, True], [0, 0, 0])
    params = Verifiers()
    detect = verifiers.detection(slice(None), 0.0, 0.0, params.satellite_boost)
    chosen = verifiers.assign(np.random.default_rng(0).random((4, 3)), np.ones(4, dtype=bool),
                              "developer", detect, params)
    assert chosen.tolist() == [1, 1, 2, 2]
    assert verifiers.used_this_year.tolist() == [0, 2, 2]


def test_no_verifier_is_assigned_once_all_are_full_or_suspended():
    verifiers = pool([0.2, 0.3], [1, 5], [True, False], [0, 0])
    chosen = verifiers.assign(np.random.default_rng(0).random((3, 2)), np.zeros(3, dtype=bool),
                              "regulator", verifiers.rigour, Verifiers())
    assert chosen.tolist() == [0, -1, -1]


def test_a_fractional_capacity_stays_open_while_use_is_below_it():
    fast = pool([0.1, 0.9], [2.5, 9.0], [True, True], [0, 0])
    slow = pool([0.1, 0.9], [2.5, 9.0], [True, True], [0, 0])
    score = np.tile([0.0, 1.0], (4, 1))
    expected = one_at_a_time(slow, score).tolist()
    assert fast._first_choices(score).tolist() == expected == [0, 0, 0, 1]
