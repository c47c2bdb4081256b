"""The continuous double auction: hand-worked cases, bad input, and a reference model.

The property test drives the heap-based book and a deliberately naive one (a list sorted on
every step) with the same random submissions and cancellations: trades and resting orders
must agree exactly, and every trade must respect both limits.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vcm_sim.market import MECHANISMS, Order, OrderBook


def fields(order: Order) -> tuple:
    return (order.order_id, order.side, order.price, order.quantity, order.trader, order.batch_id)


def book_state(book: OrderBook) -> tuple:
    """Everything observable about a book."""
    return ([fields(o) for o in book.orders("buy")], [fields(o) for o in book.orders("sell")],
            len(book), book.best_bid(), book.best_ask(), book.last_order_id)


# -- hand-worked cases ------------------------------------------------------------------------

def test_an_order_that_does_not_cross_rests_and_sets_the_best_quote():
    book = OrderBook()
    assert book.submit("buy", 9.0, 5, "b1") == []
    assert book.submit("sell", 11.0, 5, "s1", batch_id=3) == []
    assert (book.best_bid(), book.best_ask(), len(book)) == (9.0, 11.0, 2)


def test_a_crossing_order_trades_at_the_resting_orders_price():
    book = OrderBook()
    book.submit("sell", 10.0, 5, "s1", batch_id=7)
    [trade] = book.submit("buy", 12.0, 5, "b1")
    assert (trade.buyer, trade.seller, trade.price, trade.quantity) == ("b1", "s1", 10.0, 5)
    assert (trade.buy_order, trade.sell_order, trade.batch_id) == (1, 0, 7)
    book.submit("buy", 8.0, 2, "b2")
    [trade] = book.submit("sell", 1.0, 2, "s2", batch_id=4)
    assert (trade.price, trade.batch_id) == (8.0, 4)
    assert len(book) == 0


def test_better_prices_trade_first_and_equal_prices_trade_oldest_first():
    book = OrderBook()
    book.submit("sell", 10.0, 2, "late-at-10")
    book.submit("sell", 9.0, 2, "at-9")
    book.submit("sell", 10.0, 2, "later-at-10")
    trades = book.submit("buy", 10.0, 5, "b")
    assert [(t.seller, t.price, t.quantity) for t in trades] == [
        ("at-9", 9.0, 2), ("late-at-10", 10.0, 2), ("later-at-10", 10.0, 1)]
    [rest] = book.orders("sell")
    assert (rest.trader, rest.quantity) == ("later-at-10", 1)


def test_a_partly_filled_incoming_order_rests_with_its_remainder():
    book = OrderBook()
    book.submit("sell", 5.0, 3, "s")
    trades = book.submit("buy", 6.0, 10, "b")
    assert [t.quantity for t in trades] == [3]
    assert [(o.side, o.price, o.quantity) for o in book.orders("buy")] == [("buy", 6.0, 7)]
    assert book.best_ask() is None


def test_an_order_stops_at_the_first_resting_price_beyond_its_limit():
    book = OrderBook()
    book.submit("buy", 10.0, 1, "b1")
    book.submit("buy", 8.0, 1, "b2")
    trades = book.submit("sell", 9.0, 2, "s")
    assert [(t.buyer, t.price) for t in trades] == [("b1", 10.0)]
    assert (book.best_bid(), book.best_ask()) == (8.0, 9.0)


def test_cancelled_orders_never_trade_and_cancel_reports_whether_it_withdrew_anything():
    book = OrderBook()
    book.submit("sell", 9.0, 1, "s1")
    first = book.last_order_id
    book.submit("sell", 10.0, 1, "s2")
    assert book.cancel(first) is True
    assert book.cancel(first) is False
    assert book.best_ask() == 10.0
    [trade] = book.submit("buy", 11.0, 5, "b")
    assert trade.seller == "s2"
    assert book.cancel(1) is False  # traded already


def test_many_cancellations_keep_the_book_consistent():
    book = OrderBook()
    ids = []
    for k in range(500):
        book.submit("buy", float(k % 50), 1, k)
        ids.append(book.last_order_id)
    for order_id in ids[:450]:
        book.cancel(order_id)
    assert len(book) == 50
    assert book.best_bid() == 49.0
    assert sum(t.quantity for t in book.submit("sell", 0.0, 100, "s")) == 50


def test_clear_ends_the_period_and_ids_keep_counting():
    book = OrderBook()
    book.submit("buy", 9.0, 5, "b")
    book.submit("sell", 11.0, 5, "s")
    book.clear()
    assert (len(book), book.best_bid(), book.best_ask()) == (0, None, None)
    assert book.submit("sell", 1.0, 1, "s") == []
    assert book.last_order_id == 2


def test_an_empty_book_has_no_quotes_and_no_last_order():
    book = OrderBook()
    assert (book.best_bid(), book.best_ask(), book.last_order_id, len(book)) == (
        None, None, None, 0)


def test_numpy_scalars_are_accepted_as_prices_and_quantities():
    book = OrderBook()
    book.submit("sell", np.float64(4.5), np.int64(3), "s", batch_id=np.int64(2))
    [trade] = book.submit("buy", np.int32(5), np.int64(2), "b")
    assert (trade.price, trade.quantity, trade.batch_id) == (4.5, 2, 2)
    assert type(trade.quantity) is int


# -- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("side, price, quantity, batch, message", [
    ("hold", 10.0, 1, None, r"side must be 'buy' or 'sell', got 'hold'"),
    ("buy", math.nan, 1, None, r"price .* got nan"),
    ("sell", -0.5, 1, None, r"price .* got -0.5"),
    ("sell", math.inf, 1, None, r"price .* got inf"),
    ("buy", "10", 1, None, r"price must be a number.*'10'"),
    ("buy", 10.0, 0, None, r"quantity .* got 0"),
    ("sell", 10.0, -2, None, r"quantity .* got -2"),
    ("sell", 10.0, 1.5, None, r"quantity .* got 1.5"),
    ("sell", 10.0, True, None, r"quantity .* got True"),
    ("buy", 10.0, 1, 3, r"a buy order names no batch, got batch_id=3"),
    ("sell", 10.0, 1, -1, r"batch_id .* got -1"),
])
def test_bad_orders_raise_a_value_error_naming_the_value_and_change_nothing(
        side, price, quantity, batch, message):
    book = OrderBook()
    book.submit("buy", 9.0, 2, "b")
    book.submit("sell", 10.0, 2, "s")
    before = book_state(book)
    with pytest.raises(ValueError, match=message):
        book.submit(side, price, quantity, "x", batch_id=batch)
    assert book_state(book) == before


@pytest.mark.parametrize("order_id", [5, -1, "0", 1.0, True])
def test_cancelling_an_id_the_book_never_issued_raises(order_id):
    book = OrderBook()
    book.submit("buy", 9.0, 2, "b")
    book.submit("buy", 8.0, 2, "b")
    with pytest.raises(ValueError, match="unknown order id"):
        book.cancel(order_id)
    assert len(book) == 2


def test_orders_rejects_an_unknown_side():
    with pytest.raises(ValueError, match="got 'bid'"):
        OrderBook().orders("bid")


# -- the period mechanism ---------------------------------------------------------------------

def test_the_double_auction_mechanism_is_reproducible_from_the_seed():
    rng = np.random.default_rng(5)
    bp, ap = rng.uniform(5, 15, 40), rng.uniform(5, 15, 40)
    bq, aq = rng.integers(1, 10, 40), rng.integers(1, 10, 40)
    runs = [MECHANISMS["double_auction"](bp, bq, ap, aq, np.random.default_rng(9))
            for _ in range(2)]
    assert all(np.array_equal(getattr(runs[0], f), getattr(runs[1], f))
               for f in ("bid", "ask", "quantity", "price"))
    assert runs[0].volume > 0


def test_the_double_auction_mechanism_needs_a_generator():
    with pytest.raises(ValueError, match="needs rng"):
        MECHANISMS["double_auction"]([1.0], [1], [1.0], [1], None)


# -- reference model --------------------------------------------------------------------------

class NaiveBook:
    """Price-time priority done the slow, obvious way."""

    def __init__(self):
        self.resting = []  # [order_id, side, price, quantity, trader, batch]
        self.next_id = 0

    def submit(self, side, price, quantity, trader, batch):
        order_id, self.next_id = self.next_id, self.next_id + 1
        trades = []
        if side == "buy":
            others = sorted((o for o in self.resting if o[1] == "sell" and o[2] <= price),
                            key=lambda o: (o[2], o[0]))
        else:
            others = sorted((o for o in self.resting if o[1] == "buy" and o[2] >= price),
                            key=lambda o: (-o[2], o[0]))
        for other in others:
            if not quantity:
                break
            fill = min(quantity, other[3])
            quantity -= fill
            other[3] -= fill
            if side == "buy":
                trades.append((trader, other[4], other[2], fill, order_id, other[0], other[5]))
            else:
                trades.append((other[4], trader, other[2], fill, other[0], order_id, batch))
        self.resting = [o for o in self.resting if o[3]]
        if quantity:
            self.resting.append([order_id, side, price, quantity, trader, batch])
        return trades

    def cancel(self, order_id):
        kept = [o for o in self.resting if o[0] != order_id]
        withdrew = len(kept) < len(self.resting)
        self.resting = kept
        return withdrew

    def orders(self, side):
        mine = [o for o in self.resting if o[1] == side]
        mine.sort(key=(lambda o: (-o[2], o[0])) if side == "buy" else (lambda o: (o[2], o[0])))
        return [tuple(o) for o in mine]


submissions = st.tuples(st.just("submit"), st.sampled_from(["buy", "sell"]),
                        st.integers(1, 20).map(lambda p: p / 2), st.integers(1, 8),
                        st.integers(0, 4))
cancellations = st.tuples(st.just("cancel"), st.integers(0, 60))
operations = st.lists(submissions | cancellations, max_size=60)


@settings(max_examples=200, deadline=None)
@given(operations)
def test_the_book_agrees_with_a_naive_reference_and_respects_every_limit(ops):
    book, naive = OrderBook(), NaiveBook()
    limits, original, filled = {}, {}, {}
    for op in ops:
        if op[0] == "cancel":
            if op[1] >= naive.next_id:
                continue
            assert book.cancel(op[1]) == naive.cancel(op[1])
        else:
            _, side, price, quantity, trader = op
            batch = trader if side == "sell" else None
            trades = book.submit(side, price, quantity, trader, batch_id=batch)
            limits[book.last_order_id] = price
            original[book.last_order_id] = quantity
            assert [(t.buyer, t.seller, t.price, t.quantity, t.buy_order, t.sell_order,
                     t.batch_id) for t in trades] == naive.submit(side, price, quantity,
                                                                  trader, batch)
            for t in trades:
                assert t.price <= limits[t.buy_order]   # a bid never pays more than its limit
                assert t.price >= limits[t.sell_order]  # an ask never gets less than its limit
                # The price is the resting order's: the one submitted earlier.
                assert t.price == limits[min(t.buy_order, t.sell_order)]
                for order_id in (t.buy_order, t.sell_order):
                    filled[order_id] = filled.get(order_id, 0) + t.quantity
        for side in ("buy", "sell"):
            assert [fields(o) for o in book.orders(side)] == naive.orders(side)
        bid, ask = book.best_bid(), book.best_ask()
        assert bid is None or ask is None or bid < ask  # never left crossed
    # Credits are conserved order by order: what traded plus what rests is what was submitted.
    assert all(filled.get(i, 0) <= q for i, q in original.items())
    for order in book.orders("buy") + book.orders("sell"):
        assert filled.get(order.order_id, 0) + order.quantity == original[order.order_id]
