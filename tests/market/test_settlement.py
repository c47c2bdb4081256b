"""Settlement: pairing fills, delivering credits and paying cash, all or nothing."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vcm_sim.market import MECHANISMS, Matches, Trade, match_fills, settle
from vcm_sim.registry import Registry, RegistryError

ACCOUNTS = ["dev-a", "dev-b", "firm-x", "firm-y", "trader"]


def market():
    """A registry with two batches held by the developers, and everyone's cash."""
    registry = Registry(accounts=ACCOUNTS)
    registry.issue("arr-1", 2023, 100, "dev-a")
    registry.issue("redd-1", 2022, 50, "dev-b")
    cash = {name: 1000.0 for name in ACCOUNTS}
    return registry, cash


def snapshot(registry, cash):
    return ({a: registry.holdings(a) for a in registry.accounts}, len(registry.journal),
            dict(cash))


# -- match_fills ------------------------------------------------------------------------------

def test_fills_are_paired_in_order_so_each_credit_bought_has_one_seller():
    m = match_fills(np.array([3, 0, 4]), np.array([5, 2]), price=12.5)
    assert list(zip(m.bid.tolist(), m.ask.tolist(), m.quantity.tolist())) == [
        (0, 0, 3), (2, 0, 2), (2, 1, 2)]
    assert m.price.tolist() == [12.5] * 3
    assert (m.volume, m.vwap) == (7, 12.5)


def test_no_fills_make_no_matches():
    m = match_fills(np.zeros(3, dtype=int), np.zeros(0, dtype=int), price=np.nan)
    assert len(m) == 0 and m.volume == 0 and np.isnan(m.vwap)


@pytest.mark.parametrize("bid_fill, ask_fill, message", [
    ([2, 1], [2], "bids bought 3 credits but asks sold 2"),
    ([2, -1], [1], r"bid_fill\[1\] must be >= 0"),
    ([1.5], [1], "bid_fill must hold integers"),
])
def test_inconsistent_fills_are_refused(bid_fill, ask_fill, message):
    with pytest.raises(ValueError, match=message):
        match_fills(np.array(bid_fill), np.array(ask_fill), price=1.0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 9), max_size=12), st.lists(st.integers(0, 9), max_size=12))
def test_matches_add_up_to_every_orders_fill(bids, asks):
    shortfall = sum(bids) - sum(asks)
    asks = asks + [shortfall] if shortfall > 0 else asks
    bids = bids + [-shortfall] if shortfall < 0 else bids
    m = match_fills(np.array(bids, dtype=int), np.array(asks, dtype=int), price=3.0)
    assert np.all(m.quantity > 0)
    assert np.bincount(m.bid, m.quantity, minlength=len(bids)).tolist() == bids
    assert np.bincount(m.ask, m.quantity, minlength=len(asks)).tolist() == asks
    assert len(m) <= max(1, np.count_nonzero(bids) + np.count_nonzero(asks) - 1)


def test_matches_name_accounts_and_batches_as_trades():
    m = match_fills(np.array([3, 2]), np.array([5]), price=8.0)
    trades = m.trades(buyers=["firm-x", "firm-y"], sellers=["dev-a"], batch_ids=[0])
    assert trades == [Trade("firm-x", "dev-a", 8.0, 3, 0, 0, 0),
                      Trade("firm-y", "dev-a", 8.0, 2, 1, 0, 0)]


# -- settle -----------------------------------------------------------------------------------

def test_settlement_delivers_credits_and_moves_cash_the_other_way():
    registry, cash = market()
    settle(registry, cash, [Trade("firm-x", "dev-a", 12.5, 40, 0, 0, 0),
                            Trade("firm-y", "dev-b", 9.0, 50, 1, 1, 1)])
    assert registry.holdings("firm-x") == {0: 40}
    assert registry.holdings("dev-a") == {0: 60}
    assert registry.holdings("dev-b") == {}
    assert cash["firm-x"] == 500.0 and cash["dev-a"] == 1500.0
    assert cash["firm-y"] == 550.0 and cash["dev-b"] == 1450.0
    registry.check()


def test_credits_bought_earlier_in_the_same_settlement_can_be_resold():
    registry, cash = market()
    settle(registry, cash, [Trade("trader", "dev-a", 10.0, 30, 0, 0, 0),
                            Trade("firm-x", "trader", 11.0, 30, 1, 1, 0)])
    assert registry.holdings("firm-x") == {0: 30} and registry.holdings("trader") == {}
    assert cash["trader"] == 1030.0


@pytest.mark.parametrize("trade, message", [
    (Trade("firm-x", "dev-a", 10.0, 101, 0, 0, 0), "'dev-a' holds 100 credits of batch 0, "
                                                  "cannot deliver 101"),
    (Trade("firm-x", "dev-b", 10.0, 1, 0, 0, 0), "'dev-b' holds 0 credits of batch 0"),
    (Trade("firm-x", "dev-a", 10.0, 1, 0, 0, 9), "unknown batch 9"),
    (Trade("firm-x", "dev-a", 10.0, 1, 0, 0, None), "names no batch"),
    (Trade("ghost", "dev-a", 10.0, 1, 0, 0, 0), "no cash balance for account 'ghost'"),
    (Trade("firm-x", "dev-a", float("nan"), 1, 0, 0, 0), "price .* got nan"),
    (Trade("firm-x", "dev-a", -1.0, 1, 0, 0, 0), "price .* got -1.0"),
    (Trade("firm-x", "dev-a", 10.0, 0, 0, 0, 0), "quantity .* got 0"),
    (Trade("firm-x", "dev-a", 10.0, 2.5, 0, 0, 0), "quantity .* got 2.5"),
])
def test_a_bad_trade_is_refused_with_its_reason_and_nothing_changes(trade, message):
    registry, cash = market()
    good = Trade("firm-y", "dev-b", 9.0, 5, 1, 1, 1)
    before = snapshot(registry, cash)
    with pytest.raises(RegistryError, match=message):
        settle(registry, cash, [good, trade])
    assert snapshot(registry, cash) == before


def test_an_account_with_cash_but_no_registry_account_is_refused():
    registry, cash = market()
    cash["stranger"] = 0.0
    before = snapshot(registry, cash)
    with pytest.raises(RegistryError, match="unknown account 'stranger'"):
        settle(registry, cash, [Trade("stranger", "dev-a", 1.0, 1, 0, 0, 0)])
    assert snapshot(registry, cash) == before


def test_the_sellers_total_across_trades_is_what_must_be_held():
    registry, cash = market()
    trades = [Trade("firm-x", "dev-a", 10.0, 60, 0, 0, 0),
              Trade("firm-y", "dev-a", 10.0, 60, 1, 1, 0)]
    with pytest.raises(RegistryError, match="trade 1: 'dev-a' holds 40 credits"):
        settle(registry, cash, trades)
    assert registry.holdings("dev-a") == {0: 100}


trade_strategy = st.builds(
    lambda buyer, seller, eighths, quantity, batch: Trade(buyer, seller, eighths / 8, quantity,
                                                          0, 0, batch),
    st.sampled_from(ACCOUNTS), st.sampled_from(ACCOUNTS), st.integers(0, 400),
    st.integers(1, 60), st.integers(0, 1))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(trade_strategy, max_size=6), max_size=5))
def test_random_settlements_conserve_credits_and_cash_or_change_nothing(rounds):
    registry, cash = market()
    total_cash = sum(cash.values())
    for trades in rounds:
        # What a simple sequential model says: every seller can deliver at its turn.
        held = {(a, b): registry.balance(a, b) for a in ACCOUNTS for b in (0, 1)}
        feasible = True
        for t in trades:
            if held[(t.seller, t.batch_id)] < t.quantity:
                feasible = False
                break
            held[(t.seller, t.batch_id)] -= t.quantity
            held[(t.buyer, t.batch_id)] += t.quantity
        before = snapshot(registry, cash)
        if feasible:
            settle(registry, cash, trades)
            assert all(registry.balance(a, b) == q for (a, b), q in held.items())
        else:
            with pytest.raises(RegistryError, match="cannot deliver"):
                settle(registry, cash, trades)
            assert snapshot(registry, cash) == before
        registry.check()
        assert sum(cash.values()) == total_cash  # exact: prices in eighths, integer balances


# -- mechanisms end to end --------------------------------------------------------------------

order_lists = st.lists(st.tuples(st.integers(1, 40).map(lambda p: p / 4), st.integers(1, 30)),
                       max_size=10)


@settings(max_examples=100, deadline=None)
@given(bids=order_lists, asks=order_lists, name=st.sampled_from(sorted(MECHANISMS)),
       seed=st.integers(0, 2**32 - 1))
def test_every_mechanism_respects_limits_and_settles_conserving_credits_and_cash(
        bids, asks, name, seed):
    registry = Registry(accounts=ACCOUNTS)
    sellers = [ACCOUNTS[j % 2] for j in range(len(asks))]  # dev-a and dev-b
    batch_of = {"dev-a": registry.issue("arr-1", 2023, 1000, "dev-a"),
                "dev-b": registry.issue("redd-1", 2022, 1000, "dev-b")}
    buyers = [ACCOUNTS[2 + i % 3] for i in range(len(bids))]
    cash = {name_: 10_000.0 for name_ in ACCOUNTS}
    bp = np.array([p for p, _ in bids]); bq = np.array([q for _, q in bids], dtype=int)
    ap = np.array([p for p, _ in asks]); aq = np.array([q for _, q in asks], dtype=int)

    m: Matches = MECHANISMS[name](bp, bq, ap, aq, np.random.default_rng(seed))

    assert np.all(m.price <= bp[m.bid])  # a bid never pays more than its limit
    assert np.all(m.price >= ap[m.ask])  # an ask never receives less than its limit
    bought = np.bincount(m.bid, m.quantity, minlength=len(bids))
    sold = np.bincount(m.ask, m.quantity, minlength=len(asks))
    assert bought.sum() == sold.sum() == m.volume  # total bought equals total sold
    assert np.all(bought <= bq) and np.all(sold <= aq)
    trades = m.trades(buyers, sellers, [batch_of[s] for s in sellers])
    paid = sum(t.price * t.quantity for t in trades)
    settle(registry, cash, trades)
    registry.check()
    assert sum(cash.values()) == 50_000.0  # cash paid equals cash received
    assert sum(10_000.0 - cash[b] for b in ACCOUNTS[2:]) == paid
    assert sum(registry.balance(b) for b in ACCOUNTS[2:]) == m.volume


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-5, 5)) | st.lists(st.sampled_from(["a", "b", "c"])))
def test_distinct_is_np_unique_for_the_clearings_arrays(values):
    from vcm_sim.market.settlement import distinct

    expected = np.unique(np.array(values))
    got = distinct(np.array(values))
    assert got.dtype == expected.dtype and np.array_equal(got, expected)
