"""The ledger: accounts, the single operations (issue, transfer, retire, cancel) and queries."""

from __future__ import annotations

from array import array
from numbers import Integral
from typing import Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from vcm_sim.registry.approvals import LabelApprovals
from vcm_sim.registry.batch import Batch
from vcm_sim.registry.bulk import BulkOperations
from vcm_sim.registry.invariants import Invariants
from vcm_sim.registry.journal import NONE, Journal, Kind
from vcm_sim.registry.quantities import (STEPS, MAX_QUANTITY, RegistryError, buffer_credits,
                                         check_label, check_quantity)
from vcm_sim.registry.serials import Ranges, count, minus

BUFFER = "buffer"
"""Name of the buffer-pool account that holds the non-permanence reserve."""


class Registry(BulkOperations, Invariants):
    """The ledger every credit movement goes through.

    ``step`` is the simulation step stamped on journal entries; the model advances it.
    ``name`` names the registry to the others it is linked with (see
    :mod:`vcm_sim.registry.international`).
    """

    def __init__(self, accounts: Iterable[str] = (), *, name: str = "registry") -> None:
        if not isinstance(name, str) or not name:
            raise RegistryError(f"registry name must be a non-empty string, got {name!r}")
        self.name = name
        self._step = 0
        self.journal = Journal()
        self.batches: list[Batch] = []
        self._account_ids: dict[str, int] = {}
        self._account_names: list[str] = []
        self._holdings: list[dict[int, int]] = []  # per account: {batch_id: credits}
        self._name_texts: list[int] = []  # per account: its name's journal text id, -1 until used
        self._account_totals = array("q")  # per account: credits held; a buffer numpy reads
        self._retired: list[int] = []
        self._cancelled: list[int] = []
        self._next_serial = 0
        self._issued_total = 0
        self._retired_total = 0
        self._cancelled_total = 0
        self._away: dict[int, Ranges] = {}  # batch -> serials now in other registries
        self._imported: dict[tuple[str, int], list[int]] = {}  # origin batch -> imported batches
        self._imported_total = 0
        self._exported_total = 0
        self._approvals = LabelApprovals()
        self.open_account(BUFFER)
        for account in accounts:
            self.open_account(account)

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
            self._name_texts.append(-1)
            self._account_totals.append(0)

    @property
    def accounts(self) -> list[str]:
        """Names of all open accounts, in the order they were opened."""
        return list(self._account_names)

    # -- label approvals ------------------------------------------------------------------

    def approve_label(self, name: str, project_types: Iterable[str]) -> None:
        """Approve exactly ``project_types`` (names, such as ``"arr"``) for the integrity
        label ``name``, replacing its approvals; an empty collection withdraws them all (the
        label is then unknown). Batches issued from now on may carry the label only if their
        project type is approved; batches already issued keep it. RegistryError, changing
        nothing, unless ``name`` is a non-empty string and each type one too."""
        self._approvals.approve(name, project_types)

    @property
    def label_approvals(self) -> Mapping[str, frozenset[str]]:
        """Read-only: per label with approvals, the project types approved for it."""
        return self._approvals.view

    # -- operations -----------------------------------------------------------------------

    def issue(self, project: str, vintage: int, quantity: int, to: str,
              buffer_share: float = 0.0, label: str | None = None,
              project_type: str | None = None) -> int:
        """Issue ``quantity`` new credits of ``project``'s ``vintage`` and return the batch id.
        They carry the integrity ``label`` if one is given (a non-empty string): only if
        ``project_type``, the project's type, is approved for it (see :meth:`approve_label`),
        else RegistryError, changing nothing; an unlabelled batch needs no type.

        ``floor(quantity * buffer_share)`` credits go to the buffer pool, the rest to ``to``;
        the product is exact, with ``buffer_share`` read as the decimal it is written as
        (10 credits at 0.3 put 3 in the pool, not the 2 of 0.3's binary value).
        """
        quantity = check_quantity(quantity)
        if not isinstance(project, str) or not project:
            raise RegistryError(f"project must be a non-empty string, got {project!r}")
        if not isinstance(vintage, Integral) or isinstance(vintage, bool):
            raise RegistryError(f"vintage must be an integer year, got {vintage!r}")
        check_label(label)
        self._approvals.check(label, project_type)
        try:
            share_ok = not isinstance(buffer_share, bool) and 0.0 <= buffer_share <= 1.0
        except TypeError:
            share_ok = False
        if not share_ok:
            raise RegistryError(f"buffer_share must be in [0, 1], got {buffer_share!r}")
        dst = self._account(to)
        self._check_room(quantity)
        to_buffer = buffer_credits(quantity, buffer_share)
        batch_id = len(self.batches)
        self.batches.append(Batch(batch_id, project, int(vintage), self._next_serial,
                                  self._next_serial + quantity, label=label))
        self._next_serial += quantity
        self._issued_total += quantity
        self._retired.append(0)
        self._cancelled.append(0)
        if quantity - to_buffer:
            self._credit(batch_id, dst, quantity - to_buffer)
            self.journal.append(self.step, Kind.ISSUE, batch_id, NONE, dst, quantity - to_buffer)
        if to_buffer:
            self._credit(batch_id, 0, to_buffer)
            self.journal.append(self.step, Kind.BUFFER_DEPOSIT, batch_id, NONE, 0, to_buffer)
        return batch_id

    def transfer(self, batch_id: int, src: str, dst: str, quantity: int) -> None:
        """Move ``quantity`` credits of ``batch_id`` from account ``src`` to account ``dst``."""
        self._check_batch(batch_id)
        quantity = check_quantity(quantity)
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
        quantity = check_quantity(quantity)
        s = self._account(holder)
        if not isinstance(beneficiary, str) or not beneficiary:
            raise RegistryError(f"beneficiary must be a non-empty string, got {beneficiary!r}")
        if claim is not None and (not isinstance(claim, str) or not claim):
            raise RegistryError(f"claim must be None or a non-empty string, got {claim!r}")
        self._debit(batch_id, s, holder, quantity)
        self._retired[batch_id] += quantity
        self._retired_total += quantity
        self.journal.append(self.step, Kind.RETIRE, batch_id, s, NONE, quantity,
                            self.journal.intern(beneficiary), self.journal.intern(claim))

    def cancel(self, batch_id: int, holder: str, quantity: int, reason: str) -> None:
        """Cancel ``quantity`` credits held by ``holder`` (buffer draw-down or invalidation)."""
        self._check_batch(batch_id)
        quantity = check_quantity(quantity)
        s = self._account(holder)
        if not isinstance(reason, str) or not reason:
            raise RegistryError(f"reason must be a non-empty string, got {reason!r}")
        self._debit(batch_id, s, holder, quantity)
        self._cancelled[batch_id] += quantity
        self._cancelled_total += quantity
        self.journal.append(self.step, Kind.CANCEL, batch_id, s, NONE, quantity,
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
        plan = self.plan_draw(holder, check_quantity(credits))
        if not plan:
            return 0
        a = self._account(holder)
        batch, quantity = map(list, zip(*plan))
        self._debit_many(batch, a, holder, quantity)
        cancelled = self._cancelled
        for b, q in plan:
            cancelled[b] += q
        total = sum(quantity)
        self._cancelled_total += total
        self.journal.extend(self.step, Kind.CANCEL, batch, a, NONE, quantity,
                            self.journal.intern(reason))
        return total

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
        ids = self._check_ids(ids)
        if eligible is None:  # indexing copies: no view is left to stop the totals growing
            return np.frombuffer(self._account_totals, dtype=np.int64)[ids]
        holdings = self._holdings
        return np.array([sum([q for b, q in holdings[a].items() if eligible(b)])
                         for a in ids.tolist()], dtype=np.int64)

    def held_and_weighed_by(self, ids: np.ndarray, key: np.ndarray, n_keys: int,
                            weight: np.ndarray, eligible: Callable[[int], bool] | None = None
                            ) -> tuple[np.ndarray, np.ndarray]:
        """Credits each account of ``ids`` (see :meth:`ids`) holds per key, an int64 array
        of accounts x ``n_keys``, and the same credits times their batch's ``weight`` (a
        number per batch: a vintage's age, say) summed alike (floats): ``key[b]`` (0 to
        ``n_keys - 1``) is batch ``b``'s, and only batches ``eligible`` admits count (all when
        None). RegistryError for an id that is no account's or a key array shorter than the
        batches."""
        ids = self._check_ids(ids)
        if len(key) < len(self.batches):
            raise RegistryError(f"{len(key)} keys for {len(self.batches)} batches")
        keys = np.asarray(key, dtype=np.int64).tolist()
        weights = np.asarray(weight, dtype=float).tolist()
        counts = [[0] * n_keys for _ in range(len(ids))]
        sums = [[0.0] * n_keys for _ in range(len(ids))]
        holdings = self._holdings
        for row, a in enumerate(ids.tolist()):
            line, total = counts[row], sums[row]
            for b, q in holdings[a].items():
                if eligible is None or eligible(b):
                    line[keys[b]] += q
                    total[keys[b]] += q * weights[b]
        return (np.array(counts, dtype=np.int64).reshape(len(ids), n_keys),
                np.array(sums, dtype=float).reshape(len(ids), n_keys))

    def _check_ids(self, ids: np.ndarray) -> np.ndarray:
        """``ids`` as an int64 array; RegistryError unless each is an account's."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) and not 0 <= ids.min() <= ids.max() < len(self._account_names):
            raise RegistryError(f"account ids must be in [0, {len(self._account_names)}), "
                                f"got {ids.min()}..{ids.max()}")
        return ids

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
            take = held if held < remaining else remaining  # min(), without a builtin call
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

    def exported(self, batch_id: int) -> int:
        """Credits of ``batch_id`` now in other registries."""
        self._check_batch(batch_id)
        return count(self._away.get(batch_id, []))

    def serials(self, batch_id: int) -> Ranges:
        """Serial ranges ``[(start, end), ...]`` (``end`` exclusive) of ``batch_id``'s credits
        in this registry: held, retired or cancelled here, not exported."""
        self._check_batch(batch_id)
        batch = self.batches[batch_id]
        return minus([(batch.serial_start, batch.serial_end)], self._away.get(batch_id, []))

    def per_batch(self, kind: str) -> np.ndarray:
        """Credits ``"retired"`` or ``"cancelled"`` so far, per batch (int64 array)."""
        counts = {"retired": self._retired, "cancelled": self._cancelled}
        if kind not in counts:
            raise RegistryError(f"per_batch kind must be 'retired' or 'cancelled', got {kind!r}")
        return np.fromiter(counts[kind], dtype=np.int64, count=len(self.batches))

    def totals(self) -> dict[str, int]:
        """Registry-wide stocks in credits.

        ``issued`` (ever, here), ``retired`` and ``cancelled`` (ever), ``buffer`` (held now by
        the buffer pool), ``active`` (held now by every other account), ``imported`` (credits
        that came from other registries into imported batches, ever) and ``exported`` (credits
        of this registry's batches now in other registries: those that came back count no
        more); issued + imported = active + buffer + retired + cancelled + exported.
        """
        buffer = self._account_totals[0]
        return {
            "issued": self._issued_total,
            "active": self._issued_total + self._imported_total - self._exported_total
                      - self._retired_total - self._cancelled_total - buffer,
            "retired": self._retired_total,
            "cancelled": self._cancelled_total,
            "buffer": buffer,
            "imported": self._imported_total,
            "exported": self._exported_total,
        }

    def journal_frame(self) -> pd.DataFrame:
        """The journal as a pandas DataFrame (see :meth:`Journal.to_frame`)."""
        return self.journal.to_frame(self._account_names)

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

    def _positions(self, ids: Sequence[int], n: int, what: str) -> list[int]:
        """``ids`` (``n`` account ids, integers or an integer array) as a list, or
        RegistryError naming the first that is no open account's."""
        if isinstance(ids, np.ndarray) and ids.ndim == 1 and ids.dtype.kind in "iu":
            found, whole = ids.tolist(), True
        else:
            found = list(ids)
            whole = all(type(i) is int for i in found)  # not bool, as the single operations
        opened = len(self._account_names)
        if found and not (whole and 0 <= min(found) and max(found) < opened):
            k, i = next((k, i) for k, i in enumerate(found)
                        if type(i) is not int or not 0 <= i < opened)
            raise RegistryError(f"entry {k}: no account has id {i!r}")
        if len(found) != n:
            raise RegistryError(f"{len(found)} {what} for {n} entries")
        return found

    def account_names(self, ids: Iterable[int]) -> list[str]:
        """Names of the accounts of ids ``ids`` (positions in :attr:`accounts`)."""
        names = self._account_names
        return [names[i] for i in ids]

    def _name_text_ids(self, ids: list[int]) -> list[int]:
        """Journal text ids of the names of accounts ``ids``, each interned at its first use
        and then kept per account: a list lookup instead of a search of the journal's table
        of every text ever interned, which grows with every claim."""
        texts = self._name_texts
        for a in ids:
            if texts[a] < 0:
                texts[a] = self.journal.intern(self._account_names[a])
        return [texts[a] for a in ids]

    def _oldest_first(self, account: int, eligible: Callable[[int], bool] | None
                      ) -> Iterator[tuple[int, int]]:
        """``(batch_id, credits)`` of account id ``account``'s holdings, oldest-credited
        first, only batches for which ``eligible(batch_id)`` is true (all when None)."""
        holding = self._holdings[account].items()
        if eligible is None:
            return iter(holding)
        return ((b, held) for b, held in holding if eligible(b))

    def _check_room(self, quantity: int, doing: str = "issuing") -> None:
        """RegistryError unless ``quantity`` more credits keep the total ever issued and
        imported within :data:`MAX_QUANTITY` (so no holding or sum outgrows 64 bits)."""
        total = self._issued_total + self._imported_total + quantity
        if total > MAX_QUANTITY:
            raise RegistryError(f"{doing} {quantity} credits would take the total ever issued "
                                f"and imported to {total}, above {MAX_QUANTITY}")

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

    def _debit_many(self, batches: list[int], account: int, name: str,
                    quantities: list[int]) -> None:
        """:meth:`_debit` of ``quantities[k]`` credits of ``batches[k]`` in turn (distinct
        batches), in one loop; RegistryError before anything changes if one is not held."""
        holding = self._holdings[account]
        for b, q in zip(batches, quantities):
            if q > holding.get(b, 0):
                raise RegistryError(f"{name!r} holds {holding.get(b, 0)} credits of batch {b}, "
                                    f"cannot move {q}")
        for b, q in zip(batches, quantities):
            left = holding[b] - q
            if left:
                holding[b] = left
            else:
                del holding[b]
        self._account_totals[account] -= sum(quantities)
