"""The registry's invariants, checked against its own state and a replay of its journal."""

from __future__ import annotations

import numpy as np

from vcm_sim.registry.journal import Kind
from vcm_sim.registry.quantities import RegistryError


class Invariants:
    """:meth:`check`, mixed into :class:`~vcm_sim.registry.Registry` (whose state it reads)."""

    def check(self) -> None:
        """Raise :class:`RegistryError` if any invariant is broken.

        Besides the per-batch identity and non-negative holdings, the journal is replayed
        (vectorised) and must reproduce every holding, retirement and cancellation.
        """
        held = [0] * len(self.batches)
        for a, holding in enumerate(self._holdings):
            for b, q in holding.items():
                if q <= 0:
                    raise RegistryError(
                        f"{self._account_names[a]!r} has a non-positive holding {q} of batch {b}")
                held[b] += q
        for b, batch in enumerate(self.batches):
            accounted = held[b] + self._retired[b] + self._cancelled[b]
            if accounted != batch.quantity:
                raise RegistryError(
                    f"batch {b}: issued {batch.quantity} != held + retired + cancelled {accounted}")
        self._check_account_totals()
        lengths = {name: len(column) for name, column in self.journal._columns().items()}
        if len(set(lengths.values())) > 1:
            raise RegistryError(f"journal columns differ in length: {lengths}")
        self._check_against_journal()

    def _check_account_totals(self) -> None:
        totals = [sum(holding.values()) for holding in self._holdings]
        if totals != self._account_totals:
            raise RegistryError("account totals disagree with per-batch holdings")

    def _check_against_journal(self) -> None:
        cols = self.journal.arrays()
        n_batches, n_accounts = len(self.batches), len(self._account_names)
        qty, batch = cols["quantity"], cols["batch"].astype(np.int64)
        if len(qty) and (qty <= 0).any():
            raise RegistryError("journal holds a non-positive quantity")
        net = np.zeros(n_batches * n_accounts, dtype=np.int64)
        into, out_of = cols["dst"] >= 0, cols["src"] >= 0
        np.add.at(net, batch[into] * n_accounts + cols["dst"][into], qty[into])
        np.subtract.at(net, batch[out_of] * n_accounts + cols["src"][out_of], qty[out_of])
        expected = np.zeros_like(net)
        for account, holding in enumerate(self._holdings):
            for b, q in holding.items():
                expected[b * n_accounts + account] = q
        if not np.array_equal(net, expected):
            raise RegistryError("holdings disagree with the journal's replay")
        kinds = cols["kind"]
        for kind, per_batch in ((Kind.RETIRE, self._retired), (Kind.CANCEL, self._cancelled)):
            mask = kinds == kind
            replay = np.zeros(n_batches, dtype=np.int64)
            np.add.at(replay, batch[mask], qty[mask])
            if not np.array_equal(replay, np.asarray(per_batch, dtype=np.int64)):
                raise RegistryError(f"{kind.name.lower()} totals disagree with the journal")
