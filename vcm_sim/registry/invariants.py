"""The registry's invariants, checked against its own state and a replay of its journal."""

from __future__ import annotations

import numpy as np

from vcm_sim.registry.journal import Kind
from vcm_sim.registry.quantities import RegistryError
from vcm_sim.registry.serials import count, well_formed


class Invariants:
    """:meth:`check`, mixed into :class:`~vcm_sim.registry.Registry` (whose state it reads)."""

    def check(self) -> None:
        """Raise :class:`RegistryError` if any invariant is broken.

        Besides the per-batch identity (issued or imported = held + retired + cancelled +
        exported) and non-negative holdings, the serials away from each batch must lie in it,
        imported batches of one origin batch must not share a serial, and the journal is
        replayed (vectorised) and must reproduce every holding, retirement, cancellation and
        export.
        """
        held = [0] * len(self.batches)
        for a, holding in enumerate(self._holdings):
            for b, q in holding.items():
                if q <= 0:
                    raise RegistryError(
                        f"{self._account_names[a]!r} has a non-positive holding {q} of batch {b}")
                held[b] += q
        for b, batch in enumerate(self.batches):
            away = self._away.get(b, [])
            if b in self._away and not (away and well_formed(away, batch.serial_start,
                                                             batch.serial_end)):
                raise RegistryError(f"batch {b}: serials away {away} are not ranges within "
                                    f"{batch.serial_start}..{batch.serial_end - 1}")
            accounted = held[b] + self._retired[b] + self._cancelled[b] + count(away)
            if accounted != batch.quantity:
                raise RegistryError(f"batch {b}: issued {batch.quantity} != held + retired + "
                                    f"cancelled + exported {accounted}")
        self._check_stocks()
        self._check_imports()
        self._check_account_totals()
        lengths = {name: len(column) for name, column in self.journal._columns().items()}
        if len(set(lengths.values())) > 1:
            raise RegistryError(f"journal columns differ in length: {lengths}")
        self._check_against_journal()

    def _check_stocks(self) -> None:
        """The running totals of issued, imported and exported credits add up."""
        native = sum(b.quantity for b in self.batches if b.origin is None)
        imported = sum(b.quantity for b in self.batches if b.origin is not None)
        exported = sum(map(count, self._away.values()))
        if (native, imported, exported) != (self._issued_total, self._imported_total,
                                            self._exported_total):
            raise RegistryError(
                f"issued, imported, exported {native}, {imported}, {exported} per batch but "
                f"{self._issued_total}, {self._imported_total}, {self._exported_total} in total")

    def _check_imports(self) -> None:
        """Every imported batch is indexed under its origin batch, and the imported batches of
        one origin batch hold disjoint serials (so a credit is in at most one batch here)."""
        indexed = {b for ids in self._imported.values() for b in ids}
        imported = {b.batch_id for b in self.batches if b.origin is not None}
        if indexed != imported:
            raise RegistryError(f"imported batches {sorted(imported)} but indexed "
                                f"{sorted(indexed)}")
        for (origin, origin_batch), ids in self._imported.items():
            if origin == self.name:
                raise RegistryError(f"batches {ids} are imported from this registry itself")
            ranges = sorted((self.batches[b].serial_start, self.batches[b].serial_end, b)
                            for b in ids)
            for (_, end, b), (start, _, later) in zip(ranges, ranges[1:]):
                if start < end:
                    raise RegistryError(f"imported batches {b} and {later} share serials of "
                                        f"batch {origin_batch} of {origin!r}")
            if any((self.batches[b].origin, self.batches[b].origin_batch)
                   != (origin, origin_batch) for b in ids):
                raise RegistryError(f"batches {ids} are indexed under batch {origin_batch} of "
                                    f"{origin!r} but do not come from it")

    def _check_account_totals(self) -> None:
        totals = [sum(holding.values()) for holding in self._holdings]
        if totals != self._account_totals.tolist():
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
        replay = {}
        for kind in (Kind.RETIRE, Kind.CANCEL, Kind.EXPORT, Kind.IMPORT):
            mask = kinds == kind
            replay[kind] = np.zeros(n_batches, dtype=np.int64)
            np.add.at(replay[kind], batch[mask], qty[mask])
        for kind, per_batch in ((Kind.RETIRE, self._retired), (Kind.CANCEL, self._cancelled)):
            if not np.array_equal(replay[kind], np.asarray(per_batch, dtype=np.int64)):
                raise RegistryError(f"{kind.name.lower()} totals disagree with the journal")
        # An imported batch's first import brings its credits; every other import brings
        # back credits it had exported (int64 sums may wrap; their difference is exact).
        arrived = np.array([b.quantity if b.origin is not None else 0 for b in self.batches],
                           dtype=np.int64)
        exported = np.array([count(self._away.get(b, [])) for b in range(n_batches)],
                            dtype=np.int64)
        if not np.array_equal(replay[Kind.EXPORT] - (replay[Kind.IMPORT] - arrived), exported):
            raise RegistryError("exports disagree with the journal")
