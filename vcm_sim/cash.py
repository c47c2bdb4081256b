"""The cash book: every account's USD balance, in one array aligned with the registry.

Account ``i`` of the cash book is account ``i`` of the registry, so a population's payments
(fees, running costs, trades) are a couple of vectorised calls on index arrays instead of a
loop over names. Payments between accounts conserve cash; :meth:`CashBook.spend` is money
leaving the market (project capex and opex paid to the outside world), :meth:`CashBook.receive`
money entering it (a linked market's buyer paying a seller here).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


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

    def open(self, account: str, opening_usd: float) -> int:
        """Open ``account`` (the registry's next account) with ``opening_usd`` from outside
        the market (a newcomer's equity); returns its position."""
        if account in self._ids:
            raise ValueError(f"cash account {account!r} is already open")
        self._ids[account] = len(self.balance)
        self.balance = np.append(self.balance, float(opening_usd))
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
            usd: np.ndarray | float) -> None:
        """Each ``payer`` pays its ``payee`` ``usd`` (positions; arrays aligned or scalars)."""
        payer, payee, usd = np.asarray(payer), np.asarray(payee), np.asarray(usd)
        if not payer.shape == payee.shape == usd.shape:
            payer, payee, usd = np.broadcast_arrays(payer, payee, usd)
        np.subtract.at(self.balance, payer, usd)
        np.add.at(self.balance, payee, usd)

    def spend(self, payer: np.ndarray | int, usd: np.ndarray | float) -> None:
        """Each ``payer`` pays ``usd`` out of the market."""
        payer, usd = np.asarray(payer), np.asarray(usd)
        if payer.shape != usd.shape:
            payer, usd = np.broadcast_arrays(payer, usd)
        np.subtract.at(self.balance, payer, usd)

    def receive(self, payee: np.ndarray | int, usd: np.ndarray | float) -> None:
        """Each ``payee`` receives ``usd`` from outside the market (a buyer abroad): the
        reverse of :meth:`spend`."""
        self.spend(payee, -np.asarray(usd))

    def total(self) -> float:
        """Cash held by all accounts together, in USD."""
        return float(self.balance.sum())
