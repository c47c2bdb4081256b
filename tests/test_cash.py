"""The cash book: USD balances aligned with the registry's accounts."""

import numpy as np
import pytest

from vcm_sim.cash import CashBook


@pytest.fixture
def book() -> CashBook:
    return CashBook(["buffer", "dev-0", "dev-1", "firm-0"], [0.0, 100.0, 50.0, 0.0])


def test_payments_move_cash_between_accounts_and_conserve_the_total(book):
    ids = book.ids(["firm-0", "dev-0", "dev-1"])
    book.pay(ids[[0, 0]], ids[[1, 2]], np.array([30.0, 12.5]))
    assert book["firm-0"] == -42.5 and book["dev-0"] == 130.0 and book["dev-1"] == 62.5
    assert book.total() == 150.0


def test_repeated_payers_and_payees_each_count(book):
    dev0, firm = book.ids(["dev-0", "firm-0"])
    book.pay(np.array([dev0, dev0, dev0]), firm, 10.0)
    assert book["dev-0"] == 70.0 and book["firm-0"] == 30.0


def test_spending_takes_cash_out_of_the_market(book):
    book.spend(book.ids(["dev-0", "dev-1"]), np.array([40.0, 60.0]))
    assert book["dev-0"] == 60.0 and book["dev-1"] == -10.0
    assert book.total() == 50.0


def test_unknown_accounts_and_bad_books_are_named(book):
    with pytest.raises(KeyError, match="no cash account 'dev-9'"):
        book.ids(["dev-0", "dev-9"])
    with pytest.raises(ValueError, match="2 accounts but 1 opening balances"):
        CashBook(["a", "b"], [1.0])
    with pytest.raises(ValueError, match="unique"):
        CashBook(["a", "a"], [1.0, 2.0])
