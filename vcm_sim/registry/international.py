"""International transfers: credits moving between the registries of linked markets.

Each market keeps its own :class:`~vcm_sim.registry.Registry`, named. A transfer abroad takes
credits of one batch out of an account in the sender (an ``export`` entry in its journal) and
puts them into an account in the receiver (an ``import`` entry), in one step of both and all or
nothing. Serial numbers follow the credits: the sender gives up the lowest serials of the batch
it still has, and the receiver takes them

* back into the batch of its own that had exported them, if it has one: credits coming home,
  to the registry that issued them or to one they passed through, are the same credits again,
  so the batch's exported count falls and nothing is issued or imported anew;
* otherwise into a new imported batch, which keeps the provenance: the registry that issued
  the credits, their batch there, the project, the vintage, the label and the serials of
  exactly the credits that came (several batches when those serials are not one range). The
  receiver does not check the label against its own approvals
  (:meth:`~vcm_sim.registry.Registry.approve_label`): the registry that issued the credits
  checked it at issuance, and a credit's label does not lapse when it moves.

Within a registry, the credits of a batch stay interchangeable, as before: which serials a
retirement takes is not recorded, only which registry each serial is in.
:func:`check_linked` verifies that every credit issued in any of the linked registries is in
exactly one of them (held, retired or cancelled there; a transfer is atomic, so none is ever in
transit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from vcm_sim.registry.batch import Batch
from vcm_sim.registry.journal import NONE, Kind
from vcm_sim.registry.ledger import Registry
from vcm_sim.registry.quantities import RegistryError, check_quantity
from vcm_sim.registry.serials import (Ranges, count, intersection, lowest, minus, union,
                                      well_formed)


@dataclass(frozen=True)
class Arrival:
    """Serials ``ranges`` arriving in the receiver's batch ``batch``, or in a new imported
    batch when ``batch`` is None (then ``ranges`` is one range)."""

    ranges: Ranges
    batch: int | None


def transfer_abroad(sender: Registry, batch_id: int, holder: str, receiver: Registry, to: str,
                    quantity: int) -> list[int]:
    """Move ``quantity`` credits of the sender's batch ``batch_id`` from its account ``holder``
    to the receiver's account ``to``; returns the receiver's batches credited, in serial order.

    Refused with :class:`RegistryError`, changing nothing in either registry, when the two are
    the same registry or share a name, stand at different steps, or the batch, an account or
    the quantity is bad or more than ``holder`` holds.
    """
    serials, arrivals = _plan(sender, batch_id, holder, receiver, to, quantity)
    _send(sender, batch_id, holder, serials, receiver.name)
    return _receive(receiver, _origin(sender, batch_id), sender.batches[batch_id], to, arrivals,
                    sender.name)


def check_linked(registries: Sequence[Registry]) -> None:
    """Raise :class:`RegistryError` unless the linked ``registries`` account for every credit
    exactly once.

    Their names must differ and each must pass its own :meth:`~Registry.check`. Every imported
    batch must come from one of them, from a batch of the same project, vintage and label whose
    serials include its own. Then, per batch issued anywhere, the serials in each registry (held,
    retired or cancelled there) must tile the batch's serial range: none in two registries at
    once, none in none.
    """
    by_name = {r.name: r for r in registries}
    if len(by_name) != len(registries):
        raise RegistryError(f"linked registries need distinct names, got "
                            f"{[r.name for r in registries]}")
    present: dict[tuple[str, int], list[tuple[int, int, str]]] = {}
    for registry in registries:
        registry.check()
        for batch in registry.batches:
            if batch.origin is not None:
                _check_provenance(registry, batch, by_name)
            key = _origin(registry, batch.batch_id)
            ranges = registry.serials(batch.batch_id)
            present.setdefault(key, []).extend((s, e, registry.name) for s, e in ranges)
    for (origin, b), ranges in present.items():
        _check_tiling(by_name[origin].batches[b], origin, sorted(ranges))


def _plan(sender: Registry, batch_id: int, holder: str, receiver: Registry, to: str,
          quantity: int) -> tuple[Ranges, list[Arrival]]:
    """The serials leaving the sender and where they arrive in the receiver; RegistryError
    if the transfer is refused, before anything changes."""
    if sender is receiver or sender.name == receiver.name:
        raise RegistryError(f"a transfer abroad needs two registries with different names, "
                            f"got {sender.name!r} and {receiver.name!r}")
    if sender.step != receiver.step:
        raise RegistryError(f"a transfer abroad happens at one step in both registries, but "
                            f"{sender.name!r} is at {sender.step} and {receiver.name!r} at "
                            f"{receiver.step}")
    quantity = check_quantity(quantity)
    try:
        sender._check_batch(batch_id)
        held = sender._holdings[sender._account(holder)].get(batch_id, 0)
    except RegistryError as refused:
        raise RegistryError(f"{sender.name!r}: {refused}") from None
    try:
        receiver._account(to)
    except RegistryError as refused:
        raise RegistryError(f"{receiver.name!r}: {refused}") from None
    if quantity > held:
        raise RegistryError(f"{holder!r} holds {held} credits of batch {batch_id} in "
                            f"{sender.name!r}, cannot move {quantity}")
    batch = sender.batches[batch_id]
    serials = lowest(batch.serial_start, batch.serial_end, sender._away.get(batch_id, []),
                     quantity)
    arrivals = _arrivals(receiver, _origin(sender, batch_id), serials)
    new = sum(count(a.ranges) for a in arrivals if a.batch is None)
    receiver._check_room(new, "importing")
    return serials, arrivals


def _arrivals(receiver: Registry, origin: tuple[str, int], serials: Ranges) -> list[Arrival]:
    """Where ``serials`` of batch ``origin`` (registry name, batch id there) arrive in the
    receiver: back in each batch of its own that has them away, the rest in new batches."""
    name, origin_batch = origin
    if name == receiver.name:
        if not 0 <= origin_batch < len(receiver.batches):
            raise RegistryError(f"{name!r} has no batch {origin_batch} to take credits back into")
        own = [origin_batch]
    else:
        own = receiver._imported.get(origin, [])
    arrivals = []
    for b in own:
        batch = receiver.batches[b]
        back = intersection(serials, [(batch.serial_start, batch.serial_end)])
        if minus(back, receiver._away.get(b, [])):
            raise RegistryError(f"serials {back} of batch {origin_batch} of {name!r} are already "
                                f"in {receiver.name!r} (batch {b})")
        if back:
            arrivals.append(Arrival(back, b))
        serials = minus(serials, back)
    if serials and name == receiver.name:
        raise RegistryError(f"serials {serials} are not in batch {origin_batch} of {name!r}")
    arrivals += [Arrival([block], None) for block in serials]
    return sorted(arrivals, key=lambda a: a.ranges[0])


def _send(sender: Registry, batch_id: int, holder: str, serials: Ranges, to: str) -> None:
    """Take ``serials`` of ``batch_id`` out of ``holder``'s account, journaled as an export to
    registry ``to``."""
    account, quantity = sender._account(holder), count(serials)
    sender._debit(batch_id, account, holder, quantity)
    sender._away[batch_id] = union(sender._away.get(batch_id, []), serials)
    sender._exported_total += quantity
    sender.journal.append(sender.step, Kind.EXPORT, batch_id, account, NONE, quantity,
                          sender.journal.intern(to))


def _receive(receiver: Registry, origin: tuple[str, int], source: Batch, to: str,
             arrivals: list[Arrival], sender: str) -> list[int]:
    """Credit ``to`` with the arrivals, each journaled as an import from registry ``sender``;
    new imported batches take their project, vintage and label from ``source``."""
    account, batches = receiver._account(to), []
    for arrival in arrivals:
        quantity = count(arrival.ranges)
        b = arrival.batch
        if b is None:
            b = len(receiver.batches)
            (start, end), = arrival.ranges
            receiver.batches.append(Batch(b, source.project, source.vintage, start, end, *origin,
                                          label=source.label))
            receiver._retired.append(0)
            receiver._cancelled.append(0)
            receiver._imported.setdefault(origin, []).append(b)
            receiver._imported_total += quantity
        else:
            away = minus(receiver._away[b], arrival.ranges)
            if away:
                receiver._away[b] = away
            else:
                del receiver._away[b]
            receiver._exported_total -= quantity
        receiver._credit(b, account, quantity)
        receiver.journal.append(receiver.step, Kind.IMPORT, b, NONE, account, quantity,
                                receiver.journal.intern(sender))
        batches.append(b)
    return batches


def _origin(registry: Registry, batch_id: int) -> tuple[str, int]:
    """The registry that issued the credits of ``registry``'s batch ``batch_id``, and their
    batch id there."""
    batch = registry.batches[batch_id]
    if batch.origin is None:
        return registry.name, batch_id
    return batch.origin, batch.origin_batch


def _check_provenance(registry: Registry, batch: Batch, by_name: dict[str, Registry]) -> None:
    """RegistryError unless the imported ``batch`` comes from a batch of a linked registry of
    the same project, vintage and label whose serials include its own."""
    where = f"batch {batch.batch_id} of {registry.name!r}"
    origin = by_name.get(batch.origin)
    if origin is None:
        raise RegistryError(f"{where} comes from {batch.origin!r}, not a linked registry")
    if not 0 <= batch.origin_batch < len(origin.batches):
        raise RegistryError(f"{where} comes from batch {batch.origin_batch}, which "
                            f"{batch.origin!r} has not issued")
    source = origin.batches[batch.origin_batch]
    if source.origin is not None or (source.project, source.vintage, source.label) != (
            batch.project, batch.vintage, batch.label):
        raise RegistryError(f"{where} ({batch.project}, {batch.vintage}, label {batch.label!r}) "
                            f"does not match its origin batch {source}")
    if not well_formed([(batch.serial_start, batch.serial_end)], source.serial_start,
                       source.serial_end):
        raise RegistryError(f"{where} has serials {batch.serial_start}..{batch.serial_end - 1} "
                            f"outside its origin batch {source}")


def _check_tiling(batch: Batch, origin: str, ranges: list[tuple[int, int, str]]) -> None:
    """RegistryError unless ``ranges`` (start, end, registry), sorted, cover the serials of
    ``batch`` of ``origin`` exactly once."""
    cursor = batch.serial_start
    for start, end, where in ranges:
        if start < cursor:
            raise RegistryError(f"serials {start}..{min(end, cursor) - 1} of batch "
                                f"{batch.batch_id} of {origin!r} are in two registries at once "
                                f"(one of them {where!r})")
        if start > cursor:
            raise RegistryError(f"serials {cursor}..{start - 1} of batch {batch.batch_id} of "
                                f"{origin!r} are in no registry")
        cursor = end
    if cursor != batch.serial_end:
        raise RegistryError(f"serials {cursor}..{batch.serial_end - 1} of batch "
                            f"{batch.batch_id} of {origin!r} are in no registry")
