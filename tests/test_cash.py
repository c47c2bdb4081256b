"""The cash book: USD balances aligned with the registry's accounts, and its monthly
cash-flow statement (money enters only from declared sources, leaves only through declared
uses, and otherwise moves between accounts)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vcm_sim.cash import SOURCES, TRANSFERS, USES, CashBook


@pytest.fixture
def book() -> CashBook:
    return CashBook(["buffer", "dev-0", "dev-1", "firm-0"], [0.0, 100.0, 50.0, 0.0])


def test_payments_move_cash_between_accounts_and_conserve_the_total(book):
    ids = book.ids(["firm-0", "dev-0", "dev-1"])
    book.pay(ids[[0, 0]], ids[[1, 2]], np.array([30.0, 12.5]), "credit_trades")
    assert book["firm-0"] == -42.5 and book["dev-0"] == 130.0 and book["dev-1"] == 62.5
    assert book.total() == 150.0


def test_repeated_payers_and_payees_each_count(book):
    dev0, firm = book.ids(["dev-0", "firm-0"])
    book.pay(np.array([dev0, dev0, dev0]), firm, 10.0, "credit_trades")
    assert book["dev-0"] == 70.0 and book["firm-0"] == 30.0


def test_spending_takes_cash_out_of_the_market(book):
    book.spend(book.ids(["dev-0", "dev-1"]), np.array([40.0, 60.0]), "capex")
    assert book["dev-0"] == 60.0 and book["dev-1"] == -10.0
    assert book.total() == 50.0


def test_unknown_accounts_and_bad_books_are_named(book):
    with pytest.raises(KeyError, match="no cash account 'dev-9'"):
        book.ids(["dev-0", "dev-9"])
    with pytest.raises(ValueError, match="2 accounts but 1 opening balances"):
        CashBook(["a", "b"], [1.0])
    with pytest.raises(ValueError, match="unique"):
        CashBook(["a", "a"], [1.0, 2.0])


def test_a_flow_nobody_declared_is_refused_before_any_money_moves(book):
    before = book.balance.copy()
    with pytest.raises(ValueError, match="'gift' is not a declared cash use: one of capex"):
        book.spend(book.ids(["dev-0"]), np.array([5.0]), "gift")
    with pytest.raises(ValueError, match="not a declared cash source"):
        book.receive(book.ids(["dev-0"]), np.array([5.0]), "capex")
    with pytest.raises(ValueError, match="not a declared cash transfer"):
        book.pay(1, 2, 5.0, "equity")
    assert (book.balance == before).all()


def test_the_statement_adds_up_a_months_flows_and_the_next_starts_afresh(book):
    first = book.close_month()
    assert first.opening_usd == 0.0 and first.closing_usd == 150.0
    assert first.sources == {"equity": 150.0} and not first.uses
    dev0, dev1, firm = book.ids(["dev-0", "dev-1", "firm-0"])
    book.pay(firm, dev0, 20.0, "credit_trades")
    book.spend(np.array([dev0, dev1]), np.array([10.0, 5.0]), "opex")
    book.receive(dev1, 7.0, "sales_abroad")
    book.open("dev-2", 30.0)
    month = book.close_month()
    assert month.opening_usd == 150.0 and month.closing_usd == 172.0
    assert month.sources == {"sales_abroad": 7.0, "equity": 30.0}
    assert month.uses == {"opex": 15.0} and month.transfers == {"credit_trades": 20.0}
    assert month.net_usd == 22.0
    month.check()
    assert book.close_month().net_usd == 0.0


def test_money_moved_outside_a_declared_flow_fails_the_check(book):
    book.close_month()
    book.balance[1] += 1.0  # cash from nowhere
    with pytest.raises(AssertionError, match="money moved outside a declared flow"):
        book.close_month().check()


operation = st.one_of(
    st.tuples(st.just("pay"), st.sampled_from(sorted(TRANSFERS)),
              st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4),
                                 st.floats(-1e6, 1e6)), min_size=1, max_size=5)),
    st.tuples(st.just("spend"), st.sampled_from(sorted(USES)),
              st.lists(st.tuples(st.integers(0, 4), st.floats(0, 1e6)), min_size=1,
                       max_size=5)),
    st.tuples(st.just("receive"), st.sampled_from(sorted(SOURCES)),
              st.lists(st.tuples(st.integers(0, 4), st.floats(0, 1e6)), min_size=1,
                       max_size=5)),
    st.tuples(st.just("open"), st.just("equity"), st.floats(0, 1e6)),
    st.tuples(st.just("close"), st.just(""), st.none()))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=5, max_size=5),
       st.lists(operation, max_size=30))
def test_every_statement_balances_and_together_they_explain_all_the_cash(opening, operations):
    """Property: whatever the order of payments, costs, receipts and new accounts, each
    month's cash changes by its sources less its uses, transfers conserve cash, and the
    statements together explain every dollar the book holds."""
    book = CashBook([f"a{i}" for i in range(5)], opening)
    statements, opened = [], 0
    for kind, flow, args in operations:
        if kind == "pay":
            payer, payee, usd = (np.array(x) for x in zip(*args))
            before = book.total()
            book.pay(payer, payee, usd, flow)
            assert book.total() == pytest.approx(before, abs=1e-6 + 1e-9 * np.abs(usd).sum())
        elif kind == "spend":
            account, usd = (np.array(x) for x in zip(*args))
            book.spend(account, usd, flow)
        elif kind == "receive":
            account, usd = (np.array(x) for x in zip(*args))
            book.receive(account, usd, flow)
        elif kind == "open":
            book.open(f"new{opened}", args)
            opened += 1
        else:
            statements.append(book.close_month())
    statements.append(book.close_month())
    for statement in statements:
        statement.check()
    for earlier, later in zip(statements, statements[1:]):
        assert later.opening_usd == earlier.closing_usd
    gross = sum(s.gross_usd for s in statements)
    assert book.total() == pytest.approx(sum(s.net_usd for s in statements),
                                         abs=1e-6 + 1e-9 * gross)
