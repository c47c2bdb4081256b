"""Metric definitions on hand-worked series."""

import math

import numpy as np
import pytest

import pandas as pd

from vcm_sim.metrics import (ACF_LAGS, annualised_volatility, autocorrelation, boom_count,
                             bust_count, crash_count, episodes, log_returns, max_drawdown,
                             price_gap, stylized_facts, type_price_gap)


def test_log_returns_skip_months_without_trades():
    r = log_returns([10.0, np.nan, 10.0, 20.0])
    assert r == pytest.approx([math.log(2.0)])


def test_volatility_of_a_constant_price_is_zero_and_annualised_otherwise():
    assert annualised_volatility([5.0] * 12) == 0.0
    prices = [10.0, 11.0, 10.0, 11.0, 10.0]
    r = np.diff(np.log(prices))
    assert annualised_volatility(prices) == pytest.approx(np.std(r, ddof=1) * math.sqrt(12))
    assert math.isnan(annualised_volatility([1.0, 2.0]))


def test_max_drawdown_is_the_largest_fall_from_a_running_peak():
    assert max_drawdown([10.0, 12.0, 6.0, 11.0, 3.0, 20.0]) == pytest.approx(0.75)
    assert max_drawdown([1.0, 2.0, 3.0]) == 0.0
    assert math.isnan(max_drawdown([np.nan, np.nan]))


def test_a_crash_is_a_monthly_fall_of_a_quarter_or_more():
    assert crash_count([10.0, 7.5, 7.0, 5.0, 5.0]) == 2
    assert crash_count([10.0, 8.0, 6.5]) == 0


def test_a_boom_and_a_bust_run_from_the_turning_point_of_the_smoothed_price():
    """Flat at 2, up to 4 over ten months, flat, down to 1.5 over six, flat: one boom from
    the trough, one bust from the peak, each ending when the 3-month mean has moved
    1.5x or halved."""
    up = np.r_[np.full(10, 2.0), np.linspace(2.0, 4.0, 10), np.full(10, 4.0)]
    path = np.r_[up, np.linspace(4.0, 1.5, 6), np.full(10, 1.5)]
    smooth = np.convolve(path, np.ones(3) / 3, mode="full")[:len(path)]
    (b0, b1), = episodes(path, 1.5)
    (c0, c1), = episodes(path, 0.5)
    assert b1 == np.argmax(smooth[2:] >= 1.5 * 2.0) + 2 and smooth[b0] == pytest.approx(2.0)
    assert smooth[c0] == pytest.approx(4.0) and smooth[c1] <= 2.0 < smooth[c1 - 1]
    assert (boom_count(path), bust_count(path)) == (1, 1)


def test_slow_or_small_moves_are_neither_booms_nor_busts():
    assert boom_count(np.full(60, 3.0)) == bust_count(np.full(60, 3.0)) == 0
    slow = np.exp(np.linspace(0.0, math.log(1.6), 40))  # +60% over 40 months: 1.34x in 24
    assert boom_count(slow) == 0 and bust_count(slow[::-1]) == 0
    assert boom_count([2.0, 2.0, 2.0, 3.2, 3.2, 3.2, 2.0, 2.0, 2.0, 3.2, 3.2, 3.2]) == 2


def test_chain_linked_index_starts_at_the_weighted_geometric_mean():
    from vcm_sim.metrics import chain_link

    w = np.array([0.5, 0.5, 0.0])
    start = chain_link(math.nan, np.full(3, np.nan), np.array([4.0, 9.0, np.nan]), w)
    assert start == pytest.approx(6.0)


def test_chain_linked_index_ignores_a_type_joining_and_follows_common_changes():
    from vcm_sim.metrics import chain_link

    w = np.array([0.5, 0.5])
    joined = chain_link(6.0, np.array([6.0, np.nan]), np.array([6.0, 50.0]), w)
    assert joined == pytest.approx(6.0)
    moved = chain_link(6.0, np.array([6.0, 50.0]), np.array([3.0, 25.0]), w)
    assert moved == pytest.approx(3.0)
    assert math.isnan(chain_link(math.nan, np.full(2, np.nan), np.full(2, np.nan), w))


def test_autocorrelation_is_the_standard_sample_estimator():
    x = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    d = x - x.mean()
    assert autocorrelation(x, 1) == pytest.approx(np.sum(d[:-1] * d[1:]) / np.sum(d * d))
    assert autocorrelation(np.array([1.0, -1.0] * 50), 1) == pytest.approx(-0.99)
    assert math.isnan(autocorrelation(np.ones(10), 1))
    assert math.isnan(autocorrelation(x, 5))


def test_stylized_facts_see_fat_tails_and_volatility_clustering():
    rng = np.random.default_rng(7)
    calm, wild = rng.normal(0, 0.01, 300), rng.normal(0, 0.2, 300)
    clustered = np.concatenate([calm, wild, calm, wild])  # volatility regimes
    facts = stylized_facts(np.exp(np.cumsum(np.r_[0.0, clustered])))
    assert facts["returns_kurtosis"] > 1.5  # a mixture of two scales: 3 in theory
    assert abs(facts["returns_acf_1"]) < 0.1
    assert all(facts[f"abs_returns_acf_{lag}"] > 0.3 for lag in range(1, ACF_LAGS + 1))
    iid = stylized_facts(np.exp(np.cumsum(np.r_[0.0, rng.normal(0, 0.05, 1200)])))
    assert abs(iid["returns_kurtosis"]) < 0.5
    assert all(abs(iid[f"abs_returns_acf_{lag}"]) < 0.1 for lag in range(1, ACF_LAGS + 1))


def test_stylized_facts_are_nan_with_too_few_returns():
    facts = stylized_facts([10.0, 11.0, 10.5])
    assert math.isnan(facts["returns_kurtosis"]) and math.isnan(facts["abs_returns_acf_12"])
    assert len(facts) == 2 + ACF_LAGS


def test_price_gaps_compare_markets_month_by_month_and_type_by_type():
    """Two markets price each type alike but trade different mixes: their price indices
    differ, their prices of the same type do not; months in which one market did not trade
    a type are left out."""
    a = pd.DataFrame({"price_index_usd": [2.0, 2.0, 2.0], "price_arr_usd": [4.0, 4.0, np.nan],
                      "price_ifm_usd": [1.0, 1.0, 1.0]})
    b = pd.DataFrame({"price_index_usd": [1.0, 1.0, 1.0], "price_arr_usd": [4.0, 8.0, 4.0],
                      "price_ifm_usd": [1.0, 1.0, np.nan]})
    assert price_gap([a["price_index_usd"], b["price_index_usd"]]) == pytest.approx(math.log(2))
    assert type_price_gap([a, b], ["arr", "ifm"]) == pytest.approx(math.log(2) / 4)
    assert math.isnan(type_price_gap([a, b.assign(price_arr_usd=np.nan, price_ifm_usd=np.nan)],
                                     ["arr", "ifm"]))
