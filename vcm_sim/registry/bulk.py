"""Several operations at once, as the model issues and delivers credits each month.

Each does what the single operation does for every entry in turn, at a fraction of the cost per
entry, and is all or nothing: a refused entry raises RegistryError naming its position and the
offending value, and nothing changes. The journal lists a call's entries by kind (issues, then
buffer deposits; transfers, then retirements).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate, compress
from operator import not_
from typing import Callable, Sequence

from vcm_sim.registry.batch import Batch
from vcm_sim.registry.journal import NONE, Kind
from vcm_sim.registry.quantities import (RegistryError, buffer_credits, check_labels,
                                         check_quantities, check_shares, check_vintages)

_CLAIM_TYPES = {str, type(None)}


@dataclass
class Deliveries:
    """The legs of a delivery: leg ``k`` moved ``quantity[k]`` credits of batch ``batch[k]``
    for entry ``match[k]``; an entry's legs are consecutive, oldest batch first."""

    match: list[int]
    batch: list[int]
    quantity: list[int]


class BulkOperations:
    """:meth:`issue_many` and :meth:`deliver`, mixed into :class:`~vcm_sim.registry.Registry`
    (whose state and helpers they use)."""

    def issue_many(self, projects: Sequence[str], vintages: int | Sequence[int],
                   quantities: Sequence[int], to: Sequence[str], buffer_shares: Sequence[float],
                   labels: Sequence[str | None] | None = None,
                   project_types: Sequence[str] | None = None) -> range:
        """Issue one batch per entry, as :meth:`issue` would (``vintages``, one year for all
        entries or one per entry; ``labels``, one per entry, or none for unlabelled batches;
        ``project_types``, the projects' types, one per entry, read only with ``labels``: a
        labelled entry's type must be approved for its label); returns the new batch ids."""
        n = len(projects)
        vintage = check_vintages(vintages, n)
        quantity = check_quantities(quantities, n)
        share = check_shares(buffer_shares, n)
        label = check_labels(labels, n)
        if labels is not None:
            self._approvals.check_many(label, project_types, n)
        dst = self._accounts(to, n, "to")
        for k, project in enumerate(projects):
            if not isinstance(project, str) or not project:
                raise RegistryError(f"entry {k}: project must be a non-empty string, "
                                    f"got {project!r}")
        credits = quantity.tolist()
        self._check_room(sum(credits))
        to_buffer = list(map(buffer_credits, credits, share.tolist()))
        first = len(self.batches)
        serials = list(accumulate(credits, initial=self._next_serial))
        ids = range(first, first + n)
        self.batches += map(Batch, ids, projects, vintage, serials[:-1], serials[1:],
                            [None] * n, [None] * n, label)
        self._issued_total += serials[-1] - self._next_serial
        self._next_serial = serials[-1]
        self._retired += [0] * n
        self._cancelled += [0] * n
        to_holder = [q - b for q, b in zip(credits, to_buffer)]
        holdings, totals = self._holdings, self._account_totals
        for kind, account, moving in ((Kind.ISSUE, dst, to_holder),
                                      (Kind.BUFFER_DEPOSIT, [0] * n, to_buffer)):
            moved = [k for k in range(n) if moving[k]]
            batch = [first + k for k in moved]
            to_account = [account[k] for k in moved]
            credited = [moving[k] for k in moved]
            for b, a, q in zip(batch, to_account, credited):  # as _credit, inline
                holding = holdings[a]
                holding[b] = holding.get(b, 0) + q
                totals[a] += q
            self.journal.extend(self.step, kind, batch, NONE, to_account, credited)
        return ids

    def deliver_ids(self, sellers: Sequence[int], buyers: Sequence[int],
                    quantities: Sequence[int], eligible: Callable[[int], bool] | None = None,
                    retire: Sequence[bool] | None = None,
                    claims: Sequence[str | None] | None = None) -> Deliveries:
        """:meth:`deliver` between accounts given by id (their positions in
        :attr:`accounts`, integers or an integer array) instead of by name: the model's
        trades know their accounts by position, and skip the names both ways."""
        return self._deliver(sellers, buyers, quantities, eligible, retire, claims,
                             self._positions)

    def deliver(self, sellers: Sequence[str], buyers: Sequence[str],
                quantities: Sequence[int], eligible: Callable[[int], bool] | None = None,
                retire: Sequence[bool] | None = None,
                claims: Sequence[str | None] | None = None) -> Deliveries:
        """Each seller delivers ``quantities[m]`` credits to ``buyers[m]``, oldest-credited
        eligible batches first (see :meth:`plan_draw`), entry by entry, as :meth:`transfer`
        would batch by batch; returns the legs.

        Where ``retire[m]`` is true the buyer retires the credits at once, on its own behalf
        and behind ``claims[m]`` (None: no claim), as :meth:`retire` would after the
        transfer; its holdings are left as they were. The journal lists the call's transfers
        first, then its retirements. Sellers deliver from what they held before the call:
        credits received in the same call are not passed on.
        """
        return self._deliver(sellers, buyers, quantities, eligible, retire, claims,
                             self._accounts)

    def _deliver(self, sellers: Sequence, buyers: Sequence, quantities: Sequence[int],
                 eligible: Callable[[int], bool] | None, retire: Sequence[bool] | None,
                 claims: Sequence[str | None] | None,
                 accounts: Callable[[Sequence, int, str], list[int]]) -> Deliveries:
        """:meth:`deliver`, sellers and buyers turned into account ids by ``accounts``
        (:meth:`_accounts` for names, :meth:`_positions` for ids)."""
        n = len(quantities)
        retire = [False] * n if retire is None else list(map(bool, retire))
        claims = [None] * n if claims is None else list(claims)
        if not len(retire) == len(claims) == n:
            raise RegistryError(f"{len(retire)} retire flags and {len(claims)} claims for {n} "
                                "entries")
        _check_claims(claims, retire)
        legs, s, d = self._plan_deliveries(sellers, buyers, quantities, eligible, accounts)
        holdings, totals, retired = self._holdings, self._account_totals, self._retired
        seller = [s[m] for m in legs.match]
        buyer = [d[m] for m in legs.match]
        for m, a, c, b, q in zip(legs.match, seller, buyer, legs.batch, legs.quantity):
            holding = holdings[a]
            left = holding[b] - q
            if left:
                holding[b] = left
            else:
                del holding[b]
            totals[a] -= q
            if retire[m]:
                retired[b] += q
            else:
                holding = holdings[c]
                holding[b] = holding.get(b, 0) + q
                totals[c] += q
        if all(retire):  # firms buying: every leg retires, and the legs are the retirements
            retiring, retiring_buyer = legs, buyer
        else:
            kept = [k for k, m in enumerate(legs.match) if retire[m]]
            retiring = Deliveries(*([column[k] for k in kept]
                                    for column in (legs.match, legs.batch, legs.quantity)))
            retiring_buyer = [buyer[k] for k in kept]
        self._retired_total += sum(retiring.quantity)
        self.journal.extend(self.step, Kind.TRANSFER, legs.batch, seller, buyer, legs.quantity)
        self.journal.extend(
            self.step, Kind.RETIRE, retiring.batch, retiring_buyer, NONE, retiring.quantity,
            self._name_text_ids(retiring_buyer),
            self.journal.intern_many([claims[m] for m in retiring.match]))
        return legs

    def _plan_deliveries(self, sellers: Sequence, buyers: Sequence, quantities: Sequence[int],
                         eligible: Callable[[int], bool] | None,
                         accounts: Callable[[Sequence, int, str], list[int]]
                         ) -> tuple[Deliveries, list[int], list[int]]:
        """The legs of a delivery, and seller and buyer ids per entry (found by
        ``accounts``); RegistryError naming the first entry that cannot be delivered in full,
        before anything changes."""
        n = len(quantities)
        quantity = check_quantities(quantities, n).tolist()
        s = accounts(sellers, n, "sellers")
        d = accounts(buyers, n, "buyers")
        cursors: dict[int, list] = {}  # seller -> [its holdings, batch in hand, credits left]
        legs = Deliveries([], [], [])
        add_match, add_batch, add_take = legs.match.append, legs.batch.append, legs.quantity.append
        for m, (a, q) in enumerate(zip(s, quantity)):
            cursor = cursors.get(a)
            if cursor is None:
                cursor = cursors[a] = [self._oldest_first(a, eligible), -1, 0]
            batch, left = cursor[1], cursor[2]
            while q:
                if not left:
                    batch, left = next(cursor[0], (-1, 0))
                    if not left:
                        raise RegistryError(
                            f"entry {m}: {self._account_names[a]!r} holds too few eligible "
                            f"credits to deliver {quantity[m]}")
                take = q if q < left else left  # min(), without a builtin call a leg
                add_match(m)
                add_batch(batch)
                add_take(take)
                left -= take
                q -= take
            cursor[1], cursor[2] = batch, left
        return legs, s, d


def _check_claims(claims: list[str | None], retire: list[bool]) -> None:
    """RegistryError naming the first entry whose claim is neither None nor a non-empty
    string, or that names a claim but does not retire. The usual, valid case is passed by
    three scans in C (the types present, an empty string, a claim where nothing retires);
    only a failed scan looks for the offending entry one by one."""
    if (set(map(type, claims)) <= _CLAIM_TYPES and "" not in claims
            and not any(compress(claims, map(not_, retire)))):
        return
    for m, (claim, retiring) in enumerate(zip(claims, retire)):
        if claim is not None and (not retiring or not isinstance(claim, str) or not claim):
            raise RegistryError(f"entry {m}: claim must be None or a non-empty string for "
                                f"a retirement, got {claim!r}")
