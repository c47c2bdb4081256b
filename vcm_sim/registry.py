"""The credit registry: the single source of truth for every credit.

Credits are integers (1 credit = 1 tCO2e claimed). They are issued in batches, each with a
project id, a vintage (year) and a serial range that never overlaps another batch's. Every
movement (issue, buffer deposit, transfer, retire, cancel) is appended to a columnar journal.

Guarantees (checked by :meth:`Registry.check`, by the property-based tests and, in the model's
debug mode, after every step):

* for every batch: issued = sum of holdings (buffer pool included) + retired + cancelled;
* no holding is ever negative;
* retired and cancelled credits leave every account and never move again;
* every retirement names exactly one beneficiary and at most one claim;
* a bad operation raises :class:`RegistryError` naming the offending value and changes
  nothing: balances, totals and journal are exactly as before;
* arithmetic is exact at any size: quantities, buffer splits and totals are Python or 64-bit
  integers, never floats, and anything that would not fit is refused (see :data:`MAX_QUANTITY`).

Accounts are plain string names and must be opened before they hold credits, so a misspelt
name is an error rather than a silent new account. The buffer pool is the account ``"buffer"``,
open from the start.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from enum import IntEnum
from fractions import Fraction
from functools import lru_cache
from itertools import accumulate
from numbers import Integral
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

BUFFER = "buffer"
"""Name of the buffer-pool account that holds the non-permanence reserve."""

_NONE = -1
MAX_QUANTITY = 2**63 - 1
"""Most credits one operation may move, and most the registry may ever issue in all: the journal
stores quantities as 64-bit integers, and with every total bounded so, every sum the registry
forms (per account, per batch, in :meth:`Registry.check`'s replay) is exact in 64 bits."""
STEPS = range(-2**31, 2**31)
"""Valid values of :attr:`Registry.step`: the journal stores steps as 32-bit integers."""
_DTYPES = {"b": np.int8, "i": np.int32, "q": np.int64}
"""numpy dtype of each journal column's array typecode."""


class RegistryError(ValueError):
    """A registry operation was refused; the registry is unchanged."""


class Kind(IntEnum):
    """Kinds of journal entry."""

    ISSUE = 0
    BUFFER_DEPOSIT = 1
    TRANSFER = 2
    RETIRE = 3
    CANCEL = 4


@dataclass(frozen=True, slots=True)
class Batch:
    """An issuance batch: credits ``serial_start`` to ``serial_end - 1`` of one project vintage."""

    batch_id: int
    project: str
    vintage: int
    serial_start: int
    serial_end: int

    @property
    def quantity(self) -> int:
        """Credits issued in this batch (tCO2e claimed)."""
        return self.serial_end - self.serial_start


class Journal:
    """Append-only, columnar record of every registry operation.

    Columns are typed arrays (about 33 bytes per entry), so a million entries fit in tens of
    megabytes. Account names and free text (reasons, beneficiaries, claim ids) are interned.
    """

    def __init__(self) -> None:
        self.step = array("i")
        self.kind = array("b")
        self.batch = array("i")
        self.src = array("i")
        self.dst = array("i")
        self.quantity = array("q")
        self.note = array("i")
        self.claim = array("i")
        self._texts: list[str] = []
        self._text_ids: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.kind)

    def intern(self, text: str | None) -> int:
        """Index of ``text`` in the journal's string table (-1 for None)."""
        if text is None:
            return _NONE
        idx = self._text_ids.get(text)
        if idx is None:
            idx = self._text_ids[text] = len(self._texts)
            self._texts.append(text)
        return idx

    def append(self, step: int, kind: Kind, batch: int, src: int, dst: int, quantity: int,
               note: int = _NONE, claim: int = _NONE) -> None:
        """Record one entry; ids are account ids or text ids, -1 meaning none."""
        self.step.append(step)
        self.kind.append(kind)
        self.batch.append(batch)
        self.src.append(src)
        self.dst.append(dst)
        self.quantity.append(quantity)
        self.note.append(note)
        self.claim.append(claim)

    def intern_many(self, texts: Sequence[str | None]) -> list[int]:
        """Indices of ``texts`` in the string table (see :meth:`intern`)."""
        known = self._text_ids.get
        return [i if (i := known(t)) is not None else self.intern(t) for t in texts]

    def extend(self, step: int, kind: Kind | Sequence[int], batch: Sequence[int],
               src: Sequence[int], dst: Sequence[int], quantity: Sequence[int],
               note: Sequence[int] | None = None, claim: Sequence[int] | None = None) -> None:
        """Record several entries at once: columns of equal length (``kind`` may be one kind
        for all); ``note`` and ``claim`` default to none."""
        n = len(batch)
        columns = self._columns()
        typed = [_typed_column(name, column.typecode, values, n)
                 for (name, column), values in zip(columns.items(), (
                     step, kind, batch, src, dst, quantity, _NONE if note is None else note,
                     _NONE if claim is None else claim))]
        for column, values in zip(columns.values(), typed):
            column.extend(values)

    def _columns(self) -> dict[str, array]:
        return {"step": self.step, "kind": self.kind, "batch": self.batch, "src": self.src,
                "dst": self.dst, "quantity": self.quantity, "note": self.note,
                "claim": self.claim}

    def nbytes(self) -> int:
        """Memory held by the journal's columns, in bytes."""
        return sum(c.itemsize * len(c) for c in self._columns().values())

    def arrays(self) -> dict[str, np.ndarray]:
        """The raw columns as numpy arrays (account and text ids, -1 for none)."""
        return {name: np.frombuffer(column, dtype=_DTYPES[column.typecode]).copy()
                for name, column in self._columns().items()}

    def to_frame(self, accounts: list[str]) -> pd.DataFrame:
        """The journal as a DataFrame with readable names.

        Columns: ``step``, ``kind`` (issue, buffer_deposit, transfer, retire, cancel),
        ``batch``, ``from``, ``to`` (account names or None), ``quantity`` (credits),
        ``note`` (reason of a cancellation, beneficiary of a retirement), ``claim``.
        """
        cols = self.arrays()
        names = np.array([*accounts, None], dtype=object)
        texts = np.array([*self._texts, None], dtype=object)
        kinds = np.array([k.name.lower() for k in Kind], dtype=object)
        return pd.DataFrame({
            "step": cols["step"],
            "kind": pd.Categorical(kinds[cols["kind"]], categories=list(kinds)),
            "batch": cols["batch"],
            "from": names[cols["src"]],
            "to": names[cols["dst"]],
            "quantity": cols["quantity"],
            "note": texts[cols["note"]],
            "claim": texts[cols["claim"]],
        })


@dataclass
class Deliveries:
    """The legs of a delivery: leg ``k`` moved ``quantity[k]`` credits of batch ``batch[k]``
    for entry ``match[k]``; an entry's legs are consecutive, oldest batch first."""

    match: list[int]
    batch: list[int]
    quantity: list[int]


class Registry:
    """The ledger every credit movement goes through.

    ``step`` is the simulation step stamped on journal entries; the model advances it.
    """

    def __init__(self, accounts: Iterable[str] = ()) -> None:
        self._step = 0
        self.journal = Journal()
        self.batches: list[Batch] = []
        self._account_ids: dict[str, int] = {}
        self._account_names: list[str] = []
        self._holdings: list[dict[int, int]] = []  # per account: {batch_id: credits}
        self._account_totals: list[int] = []
        self._retired: list[int] = []
        self._cancelled: list[int] = []
        self._next_serial = 0
        self._issued_total = 0
        self._retired_total = 0
        self._cancelled_total = 0
        self.open_account(BUFFER)
        for name in accounts:
            self.open_account(name)

    @property
    def step(self) -> int:
        """The simulation step (month) stamped on every journal entry from now on.

        An integer in :data:`STEPS`; setting anything else raises :class:`RegistryError` and
        changes nothing, so no operation can fail half-way on an unrecordable step.
        """
        return self._step

    @step.setter
    def step(self, value: int) -> None:
        if not isinstance(value, Integral) or isinstance(value, bool) or int(value) not in STEPS:
            raise RegistryError(f"step must be an integer in [{STEPS.start}, {STEPS.stop - 1}], "
                                f"got {value!r}")
        self._step = int(value)

    # -- accounts -------------------------------------------------------------------------

    def open_account(self, name: str) -> None:
        """Open an account named ``name`` (idempotent)."""
        if not isinstance(name, str) or not name:
            raise RegistryError(f"account name must be a non-empty string, got {name!r}")
        if name not in self._account_ids:
            self._account_ids[name] = len(self._account_names)
            self._account_names.append(name)
            self._holdings.append({})
            self._account_totals.append(0)

    @property
    def accounts(self) -> list[str]:
        """Names of all open accounts, in the order they were opened."""
        return list(self._account_names)

    # -- operations -----------------------------------------------------------------------

    def issue(self, project: str, vintage: int, quantity: int, to: str,
              buffer_share: float = 0.0) -> int:
        """Issue ``quantity`` new credits of ``project``'s ``vintage`` and return the batch id.

        ``floor(quantity * buffer_share)`` credits go to the buffer pool, the rest to ``to``;
        the product is exact, with ``buffer_share`` read as the decimal it is written as
        (10 credits at 0.3 put 3 in the pool, not the 2 of 0.3's binary value).
        """
        quantity = _check_quantity(quantity)
        if not isinstance(project, str) or not project:
            raise RegistryError(f"project must be a non-empty string, got {project!r}")
        if not isinstance(vintage, Integral) or isinstance(vintage, bool):
            raise RegistryError(f"vintage must be an integer year, got {vintage!r}")
        try:
            share_ok = not isinstance(buffer_share, bool) and 0.0 <= buffer_share <= 1.0
        except TypeError:
            share_ok = False
        if not share_ok:
            raise RegistryError(f"buffer_share must be in [0, 1], got {buffer_share!r}")
        dst = self._account(to)
        self._check_room(quantity)
        to_buffer = _buffer_credits(quantity, buffer_share)
        batch_id = len(self.batches)
        self.batches.append(Batch(batch_id, project, int(vintage), self._next_serial,
                                  self._next_serial + quantity))
        self._next_serial += quantity
        self._issued_total += quantity
        self._retired.append(0)
        self._cancelled.append(0)
        if quantity - to_buffer:
            self._credit(batch_id, dst, quantity - to_buffer)
            self.journal.append(self.step, Kind.ISSUE, batch_id, _NONE, dst, quantity - to_buffer)
        if to_buffer:
            self._credit(batch_id, 0, to_buffer)
            self.journal.append(self.step, Kind.BUFFER_DEPOSIT, batch_id, _NONE, 0, to_buffer)
        return batch_id

    def transfer(self, batch_id: int, src: str, dst: str, quantity: int) -> None:
        """Move ``quantity`` credits of ``batch_id`` from account ``src`` to account ``dst``."""
        self._check_batch(batch_id)
        quantity = _check_quantity(quantity)
        s = self._account(src)
        d = self._account(dst)
        self._debit(batch_id, s, src, quantity)
        self._credit(batch_id, d, quantity)
        self.journal.append(self.step, Kind.TRANSFER, batch_id, s, d, quantity)

    def retire(self, batch_id: int, holder: str, quantity: int, beneficiary: str,
               claim: str | None = None) -> None:
        """Retire ``quantity`` credits held by ``holder`` on behalf of ``beneficiary``.

        ``claim`` names the public claim the retirement backs (at most one per retirement).
        Retired credits leave circulation for good.
        """
        self._check_batch(batch_id)
        quantity = _check_quantity(quantity)
        s = self._account(holder)
        if not isinstance(beneficiary, str) or not beneficiary:
            raise RegistryError(f"beneficiary must be a non-empty string, got {beneficiary!r}")
        if claim is not None and (not isinstance(claim, str) or not claim):
            raise RegistryError(f"claim must be None or a non-empty string, got {claim!r}")
        self._debit(batch_id, s, holder, quantity)
        self._retired[batch_id] += quantity
        self._retired_total += quantity
        self.journal.append(self.step, Kind.RETIRE, batch_id, s, _NONE, quantity,
                            self.journal.intern(beneficiary), self.journal.intern(claim))

    def cancel(self, batch_id: int, holder: str, quantity: int, reason: str) -> None:
        """Cancel ``quantity`` credits held by ``holder`` (buffer draw-down or invalidation)."""
        self._check_batch(batch_id)
        quantity = _check_quantity(quantity)
        s = self._account(holder)
        if not isinstance(reason, str) or not reason:
            raise RegistryError(f"reason must be a non-empty string, got {reason!r}")
        self._debit(batch_id, s, holder, quantity)
        self._cancelled[batch_id] += quantity
        self._cancelled_total += quantity
        self.journal.append(self.step, Kind.CANCEL, batch_id, s, _NONE, quantity,
                            self.journal.intern(reason))

    def draw_down(self, holder: str, credits: int, reason: str) -> int:
        """Cancel up to ``credits`` (a non-negative integer) held by ``holder``,
        oldest-credited batches first, as :meth:`plan_draw` plans and :meth:`cancel` cancels
        batch by batch (one journal entry each, behind ``reason``); returns the credits
        cancelled (fewer than ``credits`` when the holder has fewer)."""
        if not isinstance(reason, str) or not reason:
            raise RegistryError(f"reason must be a non-empty string, got {reason!r}")
        if credits == 0 and isinstance(credits, Integral) and not isinstance(credits, bool):
            return 0
        plan = self.plan_draw(holder, _check_quantity(credits))
        if not plan:
            return 0
        a = self._account(holder)
        for b, q in plan:
            self._debit(b, a, holder, q)
            self._cancelled[b] += q
        batch, quantity = map(list, zip(*plan))
        total = sum(quantity)
        self._cancelled_total += total
        self.journal.extend(self.step, Kind.CANCEL, batch, a, _NONE, quantity,
                            self.journal.intern(reason))
        return total

    # -- several operations at once -----------------------------------------------------------
    #
    # Each does what the single operation does for every entry in turn, at a fraction of the
    # cost per entry, and is all or nothing: a refused entry raises RegistryError naming its
    # position and the offending value, and nothing changes. The journal lists a call's
    # entries by kind (issues, then buffer deposits; transfers, then retirements).

    def issue_many(self, projects: Sequence[str], vintage: int, quantities: Sequence[int],
                   to: Sequence[str], buffer_shares: Sequence[float]) -> range:
        """Issue one batch per entry, as :meth:`issue` would; returns the new batch ids."""
        n = len(projects)
        quantity = _check_quantities(quantities, n)
        share = _check_shares(buffer_shares, n)
        dst = self._accounts(to, n, "to")
        for k, project in enumerate(projects):
            if not isinstance(project, str) or not project:
                raise RegistryError(f"entry {k}: project must be a non-empty string, "
                                    f"got {project!r}")
        if not isinstance(vintage, Integral) or isinstance(vintage, bool):
            raise RegistryError(f"vintage must be an integer year, got {vintage!r}")
        credits = quantity.tolist()
        self._check_room(sum(credits))
        to_buffer = list(map(_buffer_credits, credits, share.tolist()))
        first = len(self.batches)
        serials = list(accumulate(credits, initial=self._next_serial))
        ids = range(first, first + n)
        self.batches += map(Batch, ids, projects, [int(vintage)] * n, serials[:-1], serials[1:])
        self._issued_total += serials[-1] - self._next_serial
        self._next_serial = serials[-1]
        self._retired += [0] * n
        self._cancelled += [0] * n
        to_holder = [q - b for q, b in zip(credits, to_buffer)]
        for kind, account, moving in ((Kind.ISSUE, dst, to_holder),
                                      (Kind.BUFFER_DEPOSIT, [0] * n, to_buffer)):
            moved = [k for k in range(n) if moving[k]]
            for k in moved:
                self._credit(first + k, account[k], moving[k])
            self.journal.extend(self.step, kind, [first + k for k in moved], _NONE,
                                [account[k] for k in moved], [moving[k] for k in moved])
        return ids

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
        n = len(quantities)
        retire = [False] * n if retire is None else [bool(r) for r in retire]
        claims = [None] * n if claims is None else list(claims)
        if not len(retire) == len(claims) == n:
            raise RegistryError(f"{len(retire)} retire flags and {len(claims)} claims for {n} "
                                "entries")
        for m, claim in enumerate(claims):
            if claim is not None and (not retire[m] or not isinstance(claim, str) or not claim):
                raise RegistryError(f"entry {m}: claim must be None or a non-empty string for "
                                    f"a retirement, got {claim!r}")
        legs, s, d = self._plan_deliveries(sellers, buyers, quantities, eligible)
        holdings, totals, retired = self._holdings, self._account_totals, self._retired
        seller = [s[m] for m in legs.match]
        buyer = [d[m] for m in legs.match]
        retiring = []
        for k, (m, b, q) in enumerate(zip(legs.match, legs.batch, legs.quantity)):
            a = seller[k]
            holding = holdings[a]
            left = holding[b] - q
            if left:
                holding[b] = left
            else:
                del holding[b]
            totals[a] -= q
            if retire[m]:
                retired[b] += q
                retiring.append(k)
            else:
                holding = holdings[buyer[k]]
                holding[b] = holding.get(b, 0) + q
                totals[buyer[k]] += q
        self._retired_total += sum(legs.quantity[k] for k in retiring)
        self.journal.extend(self.step, Kind.TRANSFER, legs.batch, seller, buyer, legs.quantity)
        self.journal.extend(
            self.step, Kind.RETIRE, [legs.batch[k] for k in retiring], [buyer[k] for k in retiring],
            _NONE, [legs.quantity[k] for k in retiring],
            self.journal.intern_many([self._account_names[buyer[k]] for k in retiring]),
            self.journal.intern_many([claims[legs.match[k]] for k in retiring]))
        return legs

    # -- queries --------------------------------------------------------------------------

    def balance(self, account: str, batch_id: int | None = None) -> int:
        """Credits held by ``account``: in one batch, or across all batches when None."""
        a = self._account(account)
        if batch_id is None:
            return self._account_totals[a]
        self._check_batch(batch_id)
        return self._holdings[a].get(batch_id, 0)

    def balances(self, accounts: Sequence[str],
                 eligible: Callable[[int], bool] | None = None) -> np.ndarray:
        """Credits held by each of ``accounts`` (int64 array): across all batches, or only in
        batches for which ``eligible(batch_id)`` is true."""
        return self.held(self.ids(accounts), eligible)

    def ids(self, accounts: Sequence[str]) -> np.ndarray:
        """Ids of ``accounts`` (their positions in :attr:`accounts`), for :meth:`held`;
        RegistryError naming the first unknown one."""
        return np.array(self._accounts(accounts, len(accounts), "accounts"), dtype=np.int64)

    def held(self, ids: np.ndarray, eligible: Callable[[int], bool] | None = None
             ) -> np.ndarray:
        """:meth:`balances` of the accounts with ids ``ids`` (an integer array, see
        :meth:`ids`): a caller that asks about the same accounts every step looks their names
        up once. RegistryError for an id that is no account's."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) and not 0 <= ids.min() <= ids.max() < len(self._account_names):
            raise RegistryError(f"account ids must be in [0, {len(self._account_names)}), "
                                f"got {ids.min()}..{ids.max()}")
        ids = ids.tolist()
        if eligible is None:
            return np.fromiter(map(self._account_totals.__getitem__, ids), dtype=np.int64,
                               count=len(ids))
        holdings = self._holdings
        return np.array([sum([q for b, q in holdings[a].items() if eligible(b)]) for a in ids],
                        dtype=np.int64)

    def holdings(self, account: str) -> dict[int, int]:
        """Non-zero holdings of ``account`` as ``{batch_id: credits}``, in batch order."""
        return dict(sorted(self._holdings[self._account(account)].items()))

    def plan_draw(self, account: str, credits: int,
                  eligible: Callable[[int], bool] | None = None) -> list[tuple[int, int]]:
        """Which holdings would supply ``credits`` from ``account``, oldest-credited first.

        Returns ``[(batch_id, credits), ...]`` summing to at most ``credits`` (less when the
        account holds fewer eligible credits); ``eligible(batch_id)`` filters batches. It only
        reads: the caller then transfers, retires or cancels along the plan. Costs O(batches
        visited), not O(batches held), so draining a large pool a little at a time is cheap.
        """
        plan, remaining = [], credits
        for b, held in self._oldest_first(self._account(account), eligible):
            if remaining <= 0:
                break
            take = min(held, remaining)
            plan.append((b, take))
            remaining -= take
        return plan

    def retired(self, batch_id: int) -> int:
        """Credits of ``batch_id`` retired so far."""
        self._check_batch(batch_id)
        return self._retired[batch_id]

    def cancelled(self, batch_id: int) -> int:
        """Credits of ``batch_id`` cancelled so far."""
        self._check_batch(batch_id)
        return self._cancelled[batch_id]

    def per_batch(self, kind: str) -> np.ndarray:
        """Credits ``"retired"`` or ``"cancelled"`` so far, per batch (int64 array)."""
        counts = {"retired": self._retired, "cancelled": self._cancelled}
        if kind not in counts:
            raise RegistryError(f"per_batch kind must be 'retired' or 'cancelled', got {kind!r}")
        return np.fromiter(counts[kind], dtype=np.int64, count=len(self.batches))

    def totals(self) -> dict[str, int]:
        """Registry-wide stocks in credits.

        ``issued`` (ever), ``retired`` and ``cancelled`` (ever), ``buffer`` (held now by the
        buffer pool) and ``active`` (held now by every other account); issued = active +
        buffer + retired + cancelled.
        """
        buffer = self._account_totals[0]
        return {
            "issued": self._issued_total,
            "active": self._issued_total - self._retired_total - self._cancelled_total - buffer,
            "retired": self._retired_total,
            "cancelled": self._cancelled_total,
            "buffer": buffer,
        }

    def journal_frame(self) -> pd.DataFrame:
        """The journal as a pandas DataFrame (see :meth:`Journal.to_frame`)."""
        return self.journal.to_frame(self._account_names)

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

    # -- internals ------------------------------------------------------------------------

    def _account(self, name: str) -> int:
        try:
            return self._account_ids[name]
        except (KeyError, TypeError):
            raise RegistryError(f"unknown account {name!r}; open it with open_account()") from None

    def _accounts(self, names: Sequence[str], n: int, what: str) -> list[int]:
        """Account ids of ``names`` (``n`` of them), or RegistryError naming the first unknown."""
        ids = self._account_ids
        try:
            found = [ids[name] for name in names]
        except (KeyError, TypeError):
            k, name = next((k, name) for k, name in enumerate(names)
                           if not isinstance(name, str) or name not in ids)
            raise RegistryError(f"entry {k}: unknown account {name!r}; open it with "
                                "open_account()") from None
        if len(found) != n:
            raise RegistryError(f"{len(found)} {what} for {n} entries")
        return found

    def _plan_deliveries(self, sellers: Sequence[str], buyers: Sequence[str],
                         quantities: Sequence[int], eligible: Callable[[int], bool] | None
                         ) -> tuple[Deliveries, list[int], list[int]]:
        """The legs of a delivery, and seller and buyer ids per entry; RegistryError naming
        the first entry that cannot be delivered in full, before anything changes."""
        n = len(quantities)
        quantity = _check_quantities(quantities, n).tolist()
        s = self._accounts(sellers, n, "sellers")
        d = self._accounts(buyers, n, "buyers")
        cursors: dict[int, list] = {}  # seller -> [its holdings, batch in hand, credits left]
        legs = Deliveries([], [], [])
        for m, (a, q) in enumerate(zip(s, quantity)):
            cursor = cursors.get(a)
            if cursor is None:
                cursor = cursors[a] = [self._oldest_first(a, eligible), -1, 0]
            while q:
                if not cursor[2]:
                    cursor[1], cursor[2] = next(cursor[0], (-1, 0))
                    if not cursor[2]:
                        raise RegistryError(
                            f"entry {m}: {self._account_names[a]!r} holds too few eligible "
                            f"credits to deliver {quantity[m]}")
                take = min(q, cursor[2])
                legs.match.append(m)
                legs.batch.append(cursor[1])
                legs.quantity.append(take)
                cursor[2] -= take
                q -= take
        return legs, s, d

    def _oldest_first(self, account: int, eligible: Callable[[int], bool] | None
                      ) -> Iterator[tuple[int, int]]:
        """``(batch_id, credits)`` of account id ``account``'s holdings, oldest-credited
        first, only batches for which ``eligible(batch_id)`` is true (all when None)."""
        holding = self._holdings[account].items()
        if eligible is None:
            return iter(holding)
        return ((b, held) for b, held in holding if eligible(b))

    def _check_room(self, quantity: int) -> None:
        """RegistryError unless ``quantity`` more credits keep the total ever issued within
        :data:`MAX_QUANTITY`."""
        if self._issued_total + quantity > MAX_QUANTITY:
            raise RegistryError(f"issuing {quantity} credits would take the total ever issued "
                                f"to {self._issued_total + quantity}, above {MAX_QUANTITY}")

    def _check_batch(self, batch_id: int) -> None:
        if type(batch_id) is not int and not (isinstance(batch_id, Integral)
                                               and not isinstance(batch_id, bool)):
            raise RegistryError(f"unknown batch {batch_id!r}")
        if not 0 <= batch_id < len(self.batches):
            raise RegistryError(f"unknown batch {batch_id!r}")

    def _credit(self, batch_id: int, account: int, quantity: int) -> None:
        holding = self._holdings[account]
        holding[batch_id] = holding.get(batch_id, 0) + quantity
        self._account_totals[account] += quantity

    def _debit(self, batch_id: int, account: int, name: str, quantity: int) -> None:
        holding = self._holdings[account]
        held = holding.get(batch_id, 0)
        if quantity > held:
            raise RegistryError(
                f"{name!r} holds {held} credits of batch {batch_id}, cannot move {quantity}")
        if held == quantity:
            del holding[batch_id]
        else:
            holding[batch_id] = held - quantity
        self._account_totals[account] -= quantity

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


def _typed_column(name: str, code: str, values: Sequence[int] | int, n: int) -> array:
    """``n`` journal entries of column ``name`` as an array of typecode ``code``: from a
    list, a 1-d numpy array or one integer for every entry; ValueError if they are not ``n``
    (OverflowError if one does not fit the column)."""
    if isinstance(values, list):
        typed = array(code, values)
    elif isinstance(values, int):
        typed = array(code, (values,)) * n
    elif isinstance(values, np.ndarray) and values.ndim:
        if values.shape != (n,):
            raise ValueError(f"journal column {name} has shape {values.shape}, not ({n},)")
        typed = array(code, values.astype(_DTYPES[code], copy=False).tobytes())
    elif isinstance(values, (Integral, np.ndarray)):
        typed = array(code, (int(values),)) * n
    else:
        typed = array(code, values)
    if len(typed) != n:
        raise ValueError(f"journal column {name} has {len(typed)} entries, not {n}")
    return typed


def _buffer_credits(quantity: int, share: float) -> int:
    """Credits of an issuance of ``quantity`` that go to the buffer pool:
    ``floor(quantity * share)`` in exact integer arithmetic, ``share`` read as the shortest
    decimal that is its float (so never more than ``quantity`` for a share of at most 1)."""
    num, den = _decimal_ratio(share)
    return quantity * num // den


@lru_cache(maxsize=1024)
def _decimal_ratio(share: float) -> tuple[int, int]:
    """``share`` as an exact fraction of its shortest decimal form (0.3 -> (3, 10))."""
    return Fraction(repr(float(share))).as_integer_ratio()


def _check_quantities(quantities: Sequence[int], n: int) -> np.ndarray:
    """``quantities`` as an int64 array of ``n`` positive entries of at most
    :data:`MAX_QUANTITY`, or RegistryError naming the first bad one (booleans are refused,
    as by the single operations)."""
    try:
        quantity = np.asarray(quantities)
    except (OverflowError, ValueError, TypeError):
        quantity = np.asarray(quantities, dtype=object)
    if quantity.shape != (n,):
        raise RegistryError(f"{quantity.size} quantities for {n} entries")
    bools = (quantity.dtype.kind == "b" or not isinstance(quantities, np.ndarray)
             and any(type(q) is bool for q in quantities))
    if n and (quantity.dtype.kind not in "iu" or bools):
        raise RegistryError(f"quantities must be positive integers (credits), got "
                            f"{quantities!r:.80}")
    bad = (quantity <= 0) | (quantity > MAX_QUANTITY)
    if bad.any():
        k = int(bad.nonzero()[0][0])
        raise RegistryError(f"entry {k}: quantity must be a positive integer (credits) of at "
                            f"most {MAX_QUANTITY}, got {quantity[k].item()!r}")
    return quantity.astype(np.int64, copy=False)


def _check_shares(shares: Sequence[float], n: int) -> np.ndarray:
    """Buffer shares as a float array of ``n`` entries in [0, 1], or RegistryError."""
    raw = np.asarray(shares)
    if raw.shape != (n,):
        raise RegistryError(f"{raw.size} buffer shares for {n} entries")
    if n and raw.dtype.kind not in "iuf":
        raise RegistryError(f"buffer shares must be numbers in [0, 1], got {shares!r:.80}")
    share = raw.astype(np.float64)
    bad = ~((share >= 0.0) & (share <= 1.0))
    if bad.any():
        k = int(bad.nonzero()[0][0])
        raise RegistryError(f"entry {k}: buffer_share must be in [0, 1], got {share[k].item()!r}")
    return share


def _check_quantity(quantity: object) -> int:
    """``quantity`` as a Python int, or RegistryError if it is not a positive integer of at
    most :data:`MAX_QUANTITY`."""
    if type(quantity) is int:
        if 0 < quantity <= MAX_QUANTITY:
            return quantity
    elif (isinstance(quantity, Integral) and not isinstance(quantity, bool)
          and 0 < quantity <= MAX_QUANTITY):
        return int(quantity)
    raise RegistryError(f"quantity must be a positive integer (credits) of at most "
                        f"{MAX_QUANTITY}, got {quantity!r}")
