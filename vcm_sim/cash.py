"""The cash book: every account's USD balance, in one array aligned with the registry, and its
monthly cash-flow statement.

Account ``i`` of the cash book is account ``i`` of the registry, so a population's payments
(fees, running costs, trades) are a couple of vectorised calls on index arrays instead of a
loop over names. Every movement names its flow, and the flow says what kind it is:

- a **source** brings money into the market (:data:`SOURCES`: owners' equity, a buyer abroad
  paying a seller here), :meth:`CashBook.receive` and :meth:`CashBook.open`;
- a **use** is money leaving it for a real cost (:data:`USES`: project capex and opex paid to
  the outside world, a buyer here paying a seller abroad), :meth:`CashBook.spend`;
- a **transfer** moves money between accounts and conserves it (:data:`TRANSFERS`: credit
  trades, fees, fines), :meth:`CashBook.pay`.

A firm's own budget is its balance: firms open at zero and pay for credits out of budgets the
model does not bound, so a firm's negative balance is budget drawn, not debt. Each month's
:class:`Statement` (:meth:`CashBook.close_month`) adds the flows up; its :meth:`Statement.check`
(run every month with ``debug = true``) proves that cash changed by exactly its sources less its
uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

SOURCES = {
    "equity": "owners' money: opening balances and entrants' starting cash",
    "sales_abroad": "what buyers in a linked market paid sellers here, less the transfer cost",
}
"""Declared sources: the only ways money enters a market's cash book (USD)."""
USES = {
    "capex": "projects' up-front costs paid to the outside world",
    "opex": "projects' running costs paid to the outside world",
    "purchases_abroad": "what buyers here paid for credits from a linked market",
}
"""Declared uses: the only ways money leaves it, each a real cost (USD)."""
TRANSFERS = {
    "credit_trades": "buyers paying sellers for credits in this market",
    "verification_fees": "developers paying verifiers",
    "fines": "developers fined by the regulator",
    "allowance_trades": "an ETS's allowance auctions and trades",
    "ets_penalties": "an ETS's covered firms paying penalties for missing allowances",
}
"""Declared transfers: money moving between accounts of the book, conserved (USD)."""


@dataclass(frozen=True)
class Statement:
    """One month's cash-flow statement (USD): cash held by all accounts at the month's start
    and end, and the month's flows by name (only the flows that moved money)."""

    opening_usd: float
    closing_usd: float
    sources: Mapping[str, float]
    uses: Mapping[str, float]
    transfers: Mapping[str, float]
    gross_usd: float
    """The month's flows and the closing balances in absolute value, added up: the scale
    of the float sums behind the statement, which sets the rounding it is checked to."""

    @property
    def net_usd(self) -> float:
        """Sources less uses: what the month's flows say cash should have changed by."""
        return sum(self.sources.values()) - sum(self.uses.values())

    def check(self) -> None:
        """Raise AssertionError unless cash changed by exactly the sources less the uses, to
        the rounding of float sums of :attr:`gross_usd`."""
        change = self.closing_usd - self.opening_usd
        if abs(change - self.net_usd) > 1e-6 + 1e-9 * self.gross_usd:
            raise AssertionError(f"cash changed by {change:.6f} USD but its sources less its "
                                 f"uses come to {self.net_usd:.6f} USD: money moved outside "
                                 "a declared flow")


class CashBook:
    """USD balances of named accounts; cash may go negative (debt is the holder's business)."""

    def __init__(self, accounts: Sequence[str], opening_usd: Sequence[float]) -> None:
        if len(accounts) != len(opening_usd):
            raise ValueError(f"{len(accounts)} accounts but {len(opening_usd)} opening balances")
        self._ids = {name: i for i, name in enumerate(accounts)}
        if len(self._ids) != len(accounts):
            raise ValueError("account names must be unique")
        self.balance = np.array(opening_usd, dtype=np.float64)
        """USD per account, indexed like the registry's accounts."""
        self._opening = 0.0
        self._flows: dict[str, float] = {}
        self._gross = 0.0
        self._book("equity", float(self.balance.sum()))

    def open(self, account: str, opening_usd: float) -> int:
        """Open ``account`` (the registry's next account) with ``opening_usd`` of owners'
        equity from outside the market (a newcomer's starting cash); returns its position."""
        if account in self._ids:
            raise ValueError(f"cash account {account!r} is already open")
        self._ids[account] = len(self.balance)
        self.balance = np.append(self.balance, float(opening_usd))
        self._book("equity", float(opening_usd))
        return self._ids[account]

    def ids(self, accounts: Sequence[str]) -> np.ndarray:
        """Positions of ``accounts`` in :attr:`balance`; KeyError naming an unknown one."""
        try:
            return np.array([self._ids[name] for name in accounts], dtype=np.int64)
        except KeyError as err:
            raise KeyError(f"no cash account {err.args[0]!r}") from None

    def __getitem__(self, account: str) -> float:
        """Balance of ``account`` in USD."""
        return float(self.balance[self.ids([account])[0]])

    def pay(self, payer: np.ndarray | int, payee: np.ndarray | int,
            usd: np.ndarray | float, flow: str) -> None:
        """Each ``payer`` pays its ``payee`` ``usd`` (positions; arrays aligned or scalars),
        a transfer named ``flow`` (one of :data:`TRANSFERS`)."""
        _declared(flow, TRANSFERS, "transfer")
        payer, payee, usd = np.asarray(payer), np.asarray(payee), np.asarray(usd)
        if not payer.shape == payee.shape == usd.shape:
            payer, payee, usd = np.broadcast_arrays(payer, payee, usd)
        np.subtract.at(self.balance, payer, usd)
        np.add.at(self.balance, payee, usd)
        self._book(flow, float(usd.sum()))

    def spend(self, payer: np.ndarray | int, usd: np.ndarray | float, use: str) -> None:
        """Each ``payer`` pays ``usd`` out of the market for a real cost, ``use`` (one of
        :data:`USES`)."""
        _declared(use, USES, "use")
        self._move(payer, -np.asarray(usd, dtype=np.float64))
        self._book(use, float(np.sum(usd)))

    def receive(self, payee: np.ndarray | int, usd: np.ndarray | float, source: str) -> None:
        """Each ``payee`` receives ``usd`` from outside the market, from ``source`` (one of
        :data:`SOURCES`)."""
        _declared(source, SOURCES, "source")
        self._move(payee, np.asarray(usd, dtype=np.float64))
        self._book(source, float(np.sum(usd)))

    def total(self) -> float:
        """Cash held by all accounts together, in USD."""
        return float(self.balance.sum())

    def close_month(self) -> Statement:
        """The statement of the flows since the last call (or since the book opened), which
        starts the next month's."""
        closing = self.total()
        flows = self._flows

        def of(kind: Mapping[str, str]) -> dict[str, float]:
            return {name: usd for name, usd in flows.items() if name in kind}

        statement = Statement(self._opening, closing, of(SOURCES), of(USES), of(TRANSFERS),
                              self._gross + float(np.abs(self.balance).sum()))
        self._opening, self._flows, self._gross = closing, {}, 0.0
        return statement

    def _move(self, account: np.ndarray | int, usd: np.ndarray) -> None:
        account = np.asarray(account)
        if account.shape != usd.shape:
            account, usd = np.broadcast_arrays(account, usd)
        np.add.at(self.balance, account, usd)

    def _book(self, flow: str, usd: float) -> None:
        self._flows[flow] = self._flows.get(flow, 0.0) + usd
        self._gross += abs(usd)


def _declared(flow: str, kind: Mapping[str, str], what: str) -> None:
    if flow not in kind:
        raise ValueError(f"{flow!r} is not a declared cash {what}: one of "
                         f"{', '.join(sorted(kind))}")
