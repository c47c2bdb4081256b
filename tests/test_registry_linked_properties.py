"""Property-based test: linked registries conserve every credit, by serial number.

A hypothesis state machine drives three registries (issue, transfer, retire, cancel and deliver
within each, and transfers abroad between them, valid and refused) beside an independent,
deliberately simple model: every batch as a Python set of the serials it has here, holdings
as counters, no range arithmetic and no shared code. After every step each registry's balances,
totals, batches and serials must equal the model's, every credit issued anywhere must be in
exactly one registry, each ``Registry.check()`` must pass, and so must ``check_linked``.
"""

from collections import Counter
from dataclasses import dataclass, field

import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from vcm_sim.registry import (BUFFER, Registry, RegistryError, check_linked,
                              transfer_abroad)

NAMES = ["A", "B", "C"]
ACCOUNTS = [BUFFER, "acct-0", "acct-1"]
BAD_QUANTITIES = [0, -1, 1.5, "3", None, True]

names = st.sampled_from(NAMES)
accounts = st.sampled_from(ACCOUNTS)


@dataclass
class ModelBatch:
    """A batch as the model sees it: where its credits come from and which serials are here."""

    origin: tuple[str, int]  # (registry that issued the credits, batch id there)
    project: str
    vintage: int
    label: str | None  # the integrity label its credits carry
    serials: set[int]  # every serial the batch was issued or imported with
    here: set[int]  # those in this registry now (held, retired or cancelled)


@dataclass
class Model:
    """One registry as the model sees it."""

    batches: list[ModelBatch] = field(default_factory=list)
    held: Counter = field(default_factory=Counter)  # (account, batch) -> credits
    retired: Counter = field(default_factory=Counter)  # batch -> credits
    cancelled: Counter = field(default_factory=Counter)
    issued: int = 0
    imported: int = 0


def runs(serials: list[int]) -> list[list[int]]:
    """Sorted ``serials`` split into runs of consecutive numbers."""
    out: list[list[int]] = []
    for s in sorted(serials):
        if out and out[-1][-1] == s - 1:
            out[-1].append(s)
        else:
            out.append([s])
    return out


class LinkedRegistriesMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.registries = {n: Registry(ACCOUNTS[1:], name=n) for n in NAMES}
        self.registries["A"].approve_label("ccp", ["arr"])  # B and C import it unapproved
        self.models = {n: Model() for n in NAMES}

    # -- helpers ----------------------------------------------------------------------------

    def snapshot(self) -> list:
        return [(r.totals(), [r.holdings(a) for a in ACCOUNTS], len(r.journal), list(r.batches),
                 [r.serials(b) for b in range(len(r.batches))], r.step)
                for r in self.registries.values()]

    def refused(self, operation) -> None:
        """The operation must raise RegistryError and leave every registry as it was."""
        before = self.snapshot()
        try:
            operation()
        except RegistryError:
            pass
        else:
            raise AssertionError("a bad operation was accepted")
        assert self.snapshot() == before

    def positions(self, name: str | None = None) -> list[tuple[str, str, int, int]]:
        """(registry, account, batch, credits) of every non-zero holding."""
        return [(n, a, b, q) for n in NAMES if name in (None, n)
                for (a, b), q in sorted(self.models[n].held.items()) if q > 0]

    def draw_position(self, data, name: str | None = None) -> tuple[str, str, int, int]:
        """A holding and a quantity of it."""
        n, account, b, held = data.draw(st.sampled_from(self.positions(name)))
        return n, account, b, data.draw(st.integers(1, held))

    # -- within one registry ----------------------------------------------------------------

    @rule(name=names, to=accounts, quantity=st.integers(1, 30), vintage=st.integers(2018, 2025),
          share=st.sampled_from([0.0, 0.25, 0.5]), label=st.sampled_from([None, "ccp"]))
    def issue(self, name, to, quantity, vintage, share, label):
        """Labelled credits only where the label is approved (A); they travel to B and C."""
        registry, model = self.registries[name], self.models[name]
        project = f"{name}-proj-{len(model.batches) % 3}"
        issue = lambda: registry.issue(project, vintage, quantity, to, buffer_share=share,
                                       label=label, project_type="arr")
        if label is not None and name != "A":
            self.refused(issue)
            return
        b = issue()
        assert b == len(model.batches)
        first = model.issued
        serials = set(range(first, first + quantity))
        model.batches.append(ModelBatch((name, b), project, vintage, label, serials,
                                        set(serials)))
        model.issued += quantity
        to_buffer = int(quantity * share)
        model.held[(BUFFER, b)] += to_buffer
        model.held[(to, b)] += quantity - to_buffer

    @precondition(lambda self: self.positions())
    @rule(data=st.data(), dst=accounts)
    def transfer(self, data, dst):
        name, src, b, q = self.draw_position(data)
        self.registries[name].transfer(b, src, dst, q)
        self.models[name].held[(src, b)] -= q
        self.models[name].held[(dst, b)] += q

    @precondition(lambda self: self.positions())
    @rule(data=st.data())
    def retire(self, data):
        name, holder, b, q = self.draw_position(data)
        self.registries[name].retire(b, holder, q, beneficiary=holder, claim=f"claim-{b}")
        self.models[name].held[(holder, b)] -= q
        self.models[name].retired[b] += q

    @precondition(lambda self: self.positions())
    @rule(data=st.data())
    def cancel(self, data):
        name, holder, b, q = self.draw_position(data)
        self.registries[name].cancel(b, holder, q, reason="reversal")
        self.models[name].held[(holder, b)] -= q
        self.models[name].cancelled[b] += q

    @precondition(lambda self: self.positions())
    @rule(data=st.data(), buyer=accounts, retire=st.booleans())
    def deliver(self, data, buyer, retire):
        """One delivery of part of what a seller holds, retired on delivery or kept."""
        name, seller, _, _ = data.draw(st.sampled_from(self.positions()))
        model = self.models[name]
        total = sum(q for (a, _), q in model.held.items() if a == seller)
        q = data.draw(st.integers(1, total))
        legs = self.registries[name].deliver([seller], [buyer], [q], retire=[retire])
        assert sum(legs.quantity) == q
        for b, moved in zip(legs.batch, legs.quantity):
            assert model.held[(seller, b)] >= moved
            model.held[(seller, b)] -= moved
            if retire:
                model.retired[b] += moved
            else:
                model.held[(buyer, b)] += moved

    @rule(step=st.integers(0, 500))
    def advance(self, step):
        """The linked markets move to the next month together."""
        for registry in self.registries.values():
            registry.step = step

    # -- between registries -----------------------------------------------------------------

    @precondition(lambda self: self.positions())
    @rule(data=st.data(), to=accounts)
    def transfer_between_registries(self, data, to):
        name, holder, b, q = self.draw_position(data)
        dest = data.draw(st.sampled_from([n for n in NAMES if n != name]))
        self.move(name, holder, b, q, dest, to)

    @precondition(lambda self: self.imported_positions())
    @rule(data=st.data(), to=accounts)
    def send_home(self, data, to):
        """Imported credits go back to the registry that issued them (whose serials then
        come back in pieces, the case that splits later exports into several ranges)."""
        name, holder, b, held = data.draw(st.sampled_from(self.imported_positions()))
        q = data.draw(st.integers(1, held))
        self.move(name, holder, b, q, self.models[name].batches[b].origin[0], to)

    def imported_positions(self) -> list[tuple[str, str, int, int]]:
        return [(n, a, b, q) for n, a, b, q in self.positions()
                if self.models[n].batches[b].origin[0] != n]

    def move(self, name: str, holder: str, b: int, q: int, dest: str, to: str) -> None:
        """Transfer abroad, in the registries and in the model."""
        sender, receiver = self.models[name], self.models[dest]
        source = sender.batches[b]
        moving = sorted(source.here)[:q]
        expected = self.arrive(receiver, source, moving)
        credited = transfer_abroad(self.registries[name], b, holder, self.registries[dest], to, q)
        assert credited == [local for local, _ in expected]
        source.here -= set(moving)
        sender.held[(holder, b)] -= q
        for local, serials in expected:
            receiver.batches[local].here |= set(serials)
            receiver.held[(to, local)] += len(serials)

    def arrive(self, receiver: Model, source: ModelBatch,
               moving: list[int]) -> list[tuple[int, list[int]]]:
        """(receiving batch, serials) in serial order: each serial goes back to the batch here
        that has it, the rest into new imported batches of consecutive serials (created now)."""
        back: dict[int, list[int]] = {}
        new: list[int] = []
        for s in moving:
            mine = [k for k, batch in enumerate(receiver.batches)
                    if batch.origin == source.origin and s in batch.serials]
            assert len(mine) <= 1 and not (mine and s in receiver.batches[mine[0]].here)
            if mine:
                back.setdefault(mine[0], []).append(s)
            else:
                new.append(s)
        arrivals = list(back.items())
        for run in runs(new):
            local = len(receiver.batches)
            receiver.batches.append(ModelBatch(source.origin, source.project, source.vintage,
                                               source.label, set(run), set()))
            receiver.imported += len(run)
            arrivals.append((local, run))
        return sorted(arrivals, key=lambda arrival: min(arrival[1]))

    @precondition(lambda self: self.positions())
    @rule(data=st.data(), extra=st.integers(1, 10))
    def overdraw_abroad(self, data, extra):
        name, holder, b, held = data.draw(st.sampled_from(self.positions()))
        dest = data.draw(st.sampled_from([n for n in NAMES if n != name]))
        self.refused(lambda: transfer_abroad(self.registries[name], b, holder,
                                             self.registries[dest], ACCOUNTS[1], held + extra))

    @precondition(lambda self: self.positions())
    @rule(data=st.data(), bad=st.sampled_from(BAD_QUANTITIES))
    def refused_abroad(self, data, bad):
        """Bad quantity, unknown batch or account on either side, same registry, other step."""
        name, holder, b, _ = data.draw(st.sampled_from(self.positions()))
        dest = data.draw(st.sampled_from([n for n in NAMES if n != name]))
        sender, receiver = self.registries[name], self.registries[dest]
        unknown_batch = len(sender.batches) + data.draw(st.integers(0, 3))
        self.refused(lambda: transfer_abroad(sender, b, holder, receiver, "acct-1", bad))
        self.refused(lambda: transfer_abroad(sender, unknown_batch, holder, receiver, "acct-1", 1))
        self.refused(lambda: transfer_abroad(sender, b, "ghost", receiver, "acct-1", 1))
        self.refused(lambda: transfer_abroad(sender, b, holder, receiver, "ghost", 1))
        self.refused(lambda: transfer_abroad(sender, b, holder, sender, "acct-1", 1))
        step = receiver.step
        receiver.step = step + 1
        self.refused(lambda: transfer_abroad(sender, b, holder, receiver, "acct-1", 1))
        receiver.step = step

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def balances_match_the_model(self):
        for name, registry in self.registries.items():
            held = self.models[name].held
            for account in ACCOUNTS:
                expected = {b: q for (a, b), q in held.items() if a == account and q > 0}
                assert registry.holdings(account) == expected

    @invariant()
    def batches_and_serials_match_the_model(self):
        for name, registry in self.registries.items():
            model = self.models[name]
            assert len(registry.batches) == len(model.batches)
            for b, (batch, expected) in enumerate(zip(registry.batches, model.batches)):
                origin = (batch.origin or name,
                          b if batch.origin is None else batch.origin_batch)
                assert origin == expected.origin
                assert (batch.project, batch.vintage, batch.label) == (
                    expected.project, expected.vintage, expected.label)
                assert (batch.serial_start, batch.serial_end) == (min(expected.serials),
                                                                   max(expected.serials) + 1)
                assert len(expected.serials) == batch.quantity
                here = {s for start, end in registry.serials(b) for s in range(start, end)}
                assert here == expected.here
                assert registry.exported(b) == len(expected.serials - expected.here)
                assert registry.retired(b) == model.retired[b]
                assert registry.cancelled(b) == model.cancelled[b]

    @invariant()
    def totals_match_the_model(self):
        for name, registry in self.registries.items():
            model = self.models[name]
            buffer = sum(q for (a, _), q in model.held.items() if a == BUFFER)
            assert registry.totals() == {
                "issued": model.issued,
                "active": sum(q for (a, _), q in model.held.items() if a != BUFFER),
                "retired": sum(model.retired.values()),
                "cancelled": sum(model.cancelled.values()),
                "buffer": buffer,
                "imported": model.imported,
                "exported": sum(len(b.serials - b.here) for b in model.batches)}

    @invariant()
    def every_credit_is_in_exactly_one_registry(self):
        """Per origin batch: the serials here, across registries, are the issued ones, once
        each; and the credits accounted for there (held, retired, cancelled) are as many."""
        for origin_name, origin in self.models.items():
            for b, issued in enumerate(origin.batches):
                if issued.origin != (origin_name, b):
                    continue
                places = [(m, k) for m in self.models.values()
                          for k, batch in enumerate(m.batches) if batch.origin == issued.origin]
                here = [s for m, k in places for s in m.batches[k].here]
                assert sorted(here) == sorted(issued.serials)
                accounted = sum(sum(q for (_, batch), q in m.held.items() if batch == k)
                                + m.retired[k] + m.cancelled[k] for m, k in places)
                assert accounted == len(issued.serials)

    @invariant()
    def every_registry_and_the_link_check(self):
        for registry in self.registries.values():
            registry.check()
        check_linked(list(self.registries.values()))


LinkedRegistriesMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40,
                                                     deadline=None)
TestLinkedRegistriesConservation = LinkedRegistriesMachine.TestCase
