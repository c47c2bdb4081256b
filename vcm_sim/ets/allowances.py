"""The allowance book: allowances held by each covered firm and by the regulator.

Allowances are fungible (one allowance covers one tCO2e of any year's emissions once it has
been allocated; banking is holding them), so the book is a vector of holdings, not batches.
It conserves allowances: every one issued is held, surrendered or cancelled, and no holder
ever holds a negative number.
"""

from __future__ import annotations

import numpy as np


class AllowanceError(ValueError):
    """A movement the book refuses (more than a holder has, a negative quantity); nothing
    changed."""


class AllowanceBook:
    """Allowances held by ``holders`` accounts (covered firms ``0..n-1``, the regulator
    ``n``), and the totals issued, surrendered and cancelled since the start."""

    def __init__(self, firms: int) -> None:
        self.held = np.zeros(firms + 1, dtype=np.int64)
        self.regulator = firms
        """Position of the regulator (who holds allowances it has yet to auction)."""
        self.issued = 0
        self.surrendered = 0
        self.cancelled = 0

    def issue(self, holder: np.ndarray, quantity: np.ndarray) -> None:
        """Create ``quantity`` allowances in each ``holder``'s account (allocation)."""
        quantity = self._quantities(quantity)
        np.add.at(self.held, np.asarray(holder, dtype=np.int64), quantity)
        self.issued += int(quantity.sum())

    def transfer(self, source: np.ndarray, destination: np.ndarray,
                 quantity: np.ndarray) -> None:
        """Move ``quantity[k]`` allowances from ``source[k]`` to ``destination[k]``; refuses
        (AllowanceError, nothing moved) when a source would go below zero."""
        quantity = self._quantities(quantity)
        source = np.asarray(source, dtype=np.int64)
        out = np.bincount(source, weights=quantity, minlength=len(self.held)).astype(np.int64)
        if (out > self.held).any():
            holder = int(np.argmax(out > self.held))
            raise AllowanceError(f"holder {holder} would deliver {out[holder]} allowances but "
                                 f"holds {self.held[holder]}")
        self.held -= out
        np.add.at(self.held, np.asarray(destination, dtype=np.int64), quantity)

    def surrender(self, holder: np.ndarray, quantity: np.ndarray) -> None:
        """Holders surrender ``quantity`` allowances for their emissions (they leave the
        book for good)."""
        self._take(holder, quantity)
        self.surrendered += int(np.sum(quantity))

    def cancel(self, holder: np.ndarray, quantity: np.ndarray) -> None:
        """Cancel ``quantity`` allowances of each holder (a shortfall made good)."""
        self._take(holder, quantity)
        self.cancelled += int(np.sum(quantity))

    def _take(self, holder: np.ndarray, quantity: np.ndarray) -> None:
        quantity = self._quantities(quantity)
        holder = np.asarray(holder, dtype=np.int64)
        out = np.bincount(holder, weights=quantity, minlength=len(self.held)).astype(np.int64)
        if (out > self.held).any():
            raise AllowanceError("a holder would give up more allowances than it holds")
        self.held -= out

    @staticmethod
    def _quantities(quantity: np.ndarray) -> np.ndarray:
        quantity = np.asarray(quantity)
        if quantity.dtype.kind not in "iu":
            raise AllowanceError(f"allowance quantities must be integers, got {quantity.dtype}")
        if (quantity < 0).any():
            raise AllowanceError("allowance quantities must not be negative")
        return quantity.astype(np.int64)

    def check(self) -> None:
        """AssertionError unless every allowance issued is held, surrendered or cancelled
        and no holding is negative."""
        if (self.held < 0).any():
            raise AssertionError("an allowance holding is negative")
        if self.issued != int(self.held.sum()) + self.surrendered + self.cancelled:
            raise AssertionError(f"allowances issued {self.issued} != held "
                                 f"{int(self.held.sum())} + surrendered {self.surrendered} + "
                                 f"cancelled {self.cancelled}")
