"""Property-based test: random sequences of valid and invalid operations conserve credits.

A hypothesis state machine drives the registry and an independent, deliberately simple model
of what it should hold (plain dictionaries, no shared code). After every step the registry's
balances and totals must equal the model's and ``Registry.check()`` must pass. The model also
keeps the label approvals: a labelled batch is issued only if its project type is approved for
its label at the time.
"""

from collections import Counter
from fractions import Fraction

import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from vcm_sim.registry import BUFFER, MAX_QUANTITY, STEPS, Registry, RegistryError

ACCOUNTS = [BUFFER, *(f"acct-{i}" for i in range(7))]
OUTSIDERS = ["ghost", "acct-99"]
BAD_QUANTITIES = [0, -1, -50, 1.5, 2.0, "3", None, True, MAX_QUANTITY + 1, 2**64, -2**63]
BAD_STEPS = [STEPS.stop, STEPS.start - 1, 2**63, 1.5, 2.0, None, "3", True, [1]]

accounts = st.sampled_from(ACCOUNTS)
quantities = st.integers(min_value=1, max_value=60)
LABELS = ["ccp", "other-label"]
TYPES = ["arr", "redd_plus", "ifm"]
REFUSED = object()

labels = st.sampled_from([None, *LABELS])
kinds = st.sampled_from(TYPES) | st.none()


class RegistryMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.registry = Registry(accounts=ACCOUNTS[1:])
        self.held: Counter = Counter()  # (account, batch) -> credits
        self.issued: list[int] = []
        self.labels: list[str | None] = []
        self.kinds: list[str | None] = []
        self.vintages: list[int] = []
        self.registry.approve_label("ccp", ["arr"])
        self.approved: dict[str, set[str]] = {"ccp": {"arr"}}  # label -> types approved now
        self.approved_at_issue: list[set[str]] = []  # per batch, its label's types at issue
        self.retired: Counter = Counter()
        self.cancelled: Counter = Counter()
        self.claims: list[tuple[str, int]] = []

    # -- helpers ----------------------------------------------------------------------------

    def state(self) -> tuple:
        return (self.registry.totals(), len(self.registry.journal), self.registry.step,
                [self.registry.holdings(a) for a in ACCOUNTS], len(self.registry.batches),
                dict(self.registry.label_approvals))

    def attempt(self, operation):
        """The operation's result, or REFUSED if it raised RegistryError, which must leave
        everything as it was."""
        before = self.state()
        try:
            return operation()
        except RegistryError:
            assert self.state() == before
            return REFUSED

    def refused(self, operation) -> None:
        """The operation must raise RegistryError and leave everything as it was."""
        assert self.attempt(operation) is REFUSED, "a bad operation was accepted"

    def may_carry(self, label: str | None, kind: str | None) -> bool:
        """May a batch of project type ``kind`` carry ``label`` now?"""
        return label is None or kind in self.approved.get(label, set())

    def record(self, to, quantity, share, label, kind, vintage) -> None:
        """Note a batch the registry issued."""
        b = len(self.issued)
        self.issued.append(quantity)
        self.labels.append(label)
        self.kinds.append(kind)
        self.vintages.append(vintage)
        self.approved_at_issue.append(set(self.approved.get(label, set())))
        to_buffer = int(quantity * Fraction(str(share)))  # floor of the decimal product
        self.held[(BUFFER, b)] += to_buffer
        self.held[(to, b)] += quantity - to_buffer

    # -- valid operations -------------------------------------------------------------------

    @rule(to=accounts, vintage=st.integers(2000, 2040),
          quantity=st.integers(1, 500) | st.integers(2**53 - 2, MAX_QUANTITY),
          share=st.sampled_from([0.0, 0.1, 0.125, 0.2, 0.3, 0.29, 0.5, 1.0]), label=labels,
          kind=kinds)
    def issue(self, to, quantity, vintage, share, label, kind):
        """Small and huge batches; refused once the total ever issued would pass MAX_QUANTITY,
        and when labelled unless the type is approved for the label (the invariant below
        checks what was accepted)."""
        b = self.attempt(lambda: self.registry.issue(
            f"proj-{len(self.issued) % 4}", vintage, quantity, to, buffer_share=share,
            label=label, project_type=kind))
        if b is REFUSED:
            assert sum(self.issued) + quantity > MAX_QUANTITY or not self.may_carry(label, kind)
            return
        assert b == len(self.issued)
        self.record(to, quantity, share, label, kind, vintage)

    @rule(entries=st.lists(st.tuples(accounts, st.integers(1, 500) | st.integers(2**53 - 2,
                                                                           MAX_QUANTITY),
                                     st.sampled_from([0.0, 0.165, 0.3, 1.0]), labels,
                                     st.integers(2000, 2040), kinds),
                           min_size=1, max_size=4),
          one_vintage=st.booleans())
    def issue_in_bulk(self, entries, one_vintage):
        """Several batches in one call: all issued as one by one, or (past the total, or one
        labelled entry of a type not approved for its label) none; with one vintage for all
        or one each."""
        to, quantities, shares, tags, years, types = (list(c) for c in zip(*entries))
        n = len(entries)
        if one_vintage:
            years = [years[0]] * n
        vintages = years[0] if one_vintage else years
        batches = self.attempt(lambda: self.registry.issue_many(
            [f"proj-{k}" for k in range(n)], vintages, quantities, to, shares, tags, types))
        if batches is REFUSED:
            assert (sum(self.issued) + sum(quantities) > MAX_QUANTITY
                    or not all(map(self.may_carry, tags, types)))
            return
        assert list(batches) == list(range(len(self.issued), len(self.issued) + n))
        for entry in zip(to, quantities, shares, tags, types, years):
            self.record(*entry)

    @rule(name=st.sampled_from(LABELS), types=st.sets(st.sampled_from(TYPES), max_size=2))
    def approve(self, name, types):
        """Approvals replace the label's; none withdraw it."""
        self.registry.approve_label(name, types)
        if types:
            self.approved[name] = set(types)
        else:
            self.approved.pop(name, None)

    @rule(name=st.sampled_from(["", None, 3]), types=st.sampled_from([["arr"], "arr", [""],
                                                                     ["arr", None], 5]))
    def bad_approval(self, name, types):
        """A bad label name, or types that are not a collection of non-empty names."""
        self.refused(lambda: self.registry.approve_label(name, types))
        if not isinstance(types, list) or not all(types):
            self.refused(lambda: self.registry.approve_label("ccp", types))

    @rule(step=st.integers(STEPS.start, STEPS.stop - 1))
    def advance(self, step):
        self.registry.step = step

    @rule(bad=st.sampled_from(BAD_STEPS))
    def bad_step(self, bad):
        """An invalid step is refused on assignment, so no operation can record it."""
        def assign():
            self.registry.step = bad
        self.refused(assign)

    @precondition(lambda self: self.positions())
    @rule(data=st.data(), dst=accounts)
    def transfer(self, data, dst):
        src, b, held = data.draw(st.sampled_from(self.positions()))
        q = data.draw(st.integers(1, held))
        self.registry.transfer(b, src, dst, q)
        self.held[(src, b)] -= q
        self.held[(dst, b)] += q

    @precondition(lambda self: self.positions())
    @rule(data=st.data(), claimed=st.booleans())
    def retire(self, data, claimed):
        holder, b, held = data.draw(st.sampled_from(self.positions()))
        q = data.draw(st.integers(1, held))
        claim = f"claim-{len(self.claims)}" if claimed else None
        self.registry.retire(b, holder, q, beneficiary=f"beneficiary-of-{holder}", claim=claim)
        self.held[(holder, b)] -= q
        self.retired[b] += q
        self.claims.append((claim, q))

    @precondition(lambda self: self.positions())
    @rule(data=st.data())
    def cancel(self, data):
        holder, b, held = data.draw(st.sampled_from(self.positions()))
        q = data.draw(st.integers(1, held))
        self.registry.cancel(b, holder, q, reason="reversal")
        self.held[(holder, b)] -= q
        self.cancelled[b] += q

    @precondition(lambda self: self.positions())
    @rule(data=st.data(), entries=st.integers(1, 5))
    def deliver(self, data, entries):
        """Entries drawn one after another from what the sellers held before the call."""
        columns, taken = [], Counter()
        for _ in range(entries):
            sellers = [a for a in ACCOUNTS if self.registry.balance(a) > taken[a]]
            if not sellers:
                break
            seller = data.draw(st.sampled_from(sellers))
            buyer = data.draw(accounts)
            q = data.draw(st.integers(1, self.registry.balance(seller) - taken[seller]))
            taken[seller] += q
            columns.append((seller, buyer, q, data.draw(st.booleans())))
        sellers, buyers, quantities, retire = (list(c) for c in zip(*columns))
        oldest = {a: self.oldest_first(a) for a in set(sellers)}
        claims = [f"claim-{len(self.claims)}-{k}" if r and k % 2 else None
                  for k, r in enumerate(retire)]
        legs = self.registry.deliver(sellers, buyers, quantities, retire=retire, claims=claims)
        for seller, positions in oldest.items():
            drawn = Counter()  # batch -> credits drawn, in the order first drawn
            for m, b, q in zip(legs.match, legs.batch, legs.quantity):
                if sellers[m] == seller:
                    drawn[b] += q
            assert list(drawn.items()) == self.drain(positions, sum(drawn.values()))
        assert [sum(q for m, q in zip(legs.match, legs.quantity) if m == k)
                for k in range(len(columns))] == quantities
        for m, b, q in zip(legs.match, legs.batch, legs.quantity):
            self.held[(sellers[m], b)] -= q
            if retire[m]:
                self.retired[b] += q
                self.claims.append((claims[m], q))
            else:
                self.held[(buyers[m], b)] += q

    @precondition(lambda self: self.positions())
    @rule(data=st.data(), extra=quantities, retire=st.booleans())
    def overdraw_in_bulk(self, data, extra, retire):
        """A call whose last entry asks for more than the seller has left is refused whole."""
        seller, _, _ = data.draw(st.sampled_from(self.positions()))
        total = self.registry.balance(seller)
        first = data.draw(st.integers(1, total))
        buyer = "acct-1" if seller != "acct-1" else "acct-2"
        legs = ([seller, seller], [buyer, buyer], [first, total - first + extra])
        if retire:
            self.refused(lambda: self.registry.deliver(*legs, retire=[True, True]))
        else:
            self.refused(lambda: self.registry.deliver(*legs))

    def oldest_first(self, account: str) -> list[tuple[int, int]]:
        """The account's holdings in the order they were first credited."""
        return list(self.registry._holdings[self.registry._account(account)].items())

    @staticmethod
    def drain(positions: list[tuple[int, int]], credits: int) -> list[tuple[int, int]]:
        """(batch, credits) legs taking ``credits`` from ``positions`` in order."""
        legs = []
        for b, held in positions:
            if credits <= 0:
                break
            legs.append((b, min(held, credits)))
            credits -= min(held, credits)
        return legs

    def positions(self) -> list[tuple[str, int, int]]:
        return [(a, b, q) for (a, b), q in sorted(self.held.items()) if q > 0]

    # -- invalid operations -----------------------------------------------------------------

    @precondition(lambda self: self.issued)
    @rule(data=st.data(), src=accounts, dst=accounts, extra=quantities)
    def overdraw(self, data, src, dst, extra):
        b = data.draw(st.integers(0, len(self.issued) - 1))
        too_many = self.held[(src, b)] + extra
        self.refused(lambda: self.registry.transfer(b, src, dst, too_many))
        self.refused(lambda: self.registry.retire(b, src, too_many, beneficiary="x"))
        self.refused(lambda: self.registry.cancel(b, src, too_many, reason="r"))

    @rule(src=accounts, dst=accounts, bad=st.sampled_from(BAD_QUANTITIES))
    def bad_quantity(self, src, dst, bad):
        self.refused(lambda: self.registry.transfer(0, src, dst, bad))
        self.refused(lambda: self.registry.issue("p", 2020, bad, dst))

    @rule(outsider=st.sampled_from(OUTSIDERS), other=accounts, q=quantities)
    def unknown_account(self, outsider, other, q):
        self.refused(lambda: self.registry.transfer(0, outsider, other, q))
        self.refused(lambda: self.registry.transfer(0, other, outsider, q))
        self.refused(lambda: self.registry.issue("p", 2020, q, outsider))

    @rule(offset=st.integers(0, 5), src=accounts, q=quantities)
    def unknown_batch(self, offset, src, q):
        b = len(self.issued) + offset
        self.refused(lambda: self.registry.transfer(b, src, ACCOUNTS[1], q))
        self.refused(lambda: self.registry.retire(b, src, q, beneficiary="x"))

    @rule(share=st.sampled_from([-0.01, 1.01, 2.0, float("nan"), float("inf")]))
    def bad_buffer_share(self, share):
        self.refused(lambda: self.registry.issue("p", 2020, 10, ACCOUNTS[1], buffer_share=share))

    @rule(bad=st.sampled_from(["", 0, b"ccp", ["ccp"]]), n=st.integers(1, 3))
    def bad_label(self, bad, n):
        """A label that is not None or a non-empty string, or labels of the wrong length."""
        self.refused(lambda: self.registry.issue("p", 2020, 10, ACCOUNTS[1], label=bad))
        self.refused(lambda: self.registry.issue_many(["p"] * n, 2020, [10] * n, [ACCOUNTS[1]] * n,
                                                      [0.0] * n, [None] * (n - 1) + [bad]))
        self.refused(lambda: self.registry.issue_many(["p"] * n, 2020, [10] * n, [ACCOUNTS[1]] * n,
                                                      [0.0] * n, [None] * (n + 1)))

    @rule(bad=st.sampled_from([2020.5, "2020", True, None, [2020, "x"]]), n=st.integers(1, 3))
    def bad_vintage(self, bad, n):
        """A vintage that is not an integer year, or vintages of the wrong length."""
        self.refused(lambda: self.registry.issue("p", bad, 10, ACCOUNTS[1]))
        self.refused(lambda: self.registry.issue_many(["p"] * n, [2020] * (n - 1) + [bad],
                                                      [10] * n, [ACCOUNTS[1]] * n, [0.0] * n))
        self.refused(lambda: self.registry.issue_many(["p"] * n, [2020] * (n + 1), [10] * n,
                                                      [ACCOUNTS[1]] * n, [0.0] * n))

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def balances_match_the_model(self):
        for account in ACCOUNTS:
            expected = {b: q for (a, b), q in self.held.items() if a == account and q > 0}
            assert self.registry.holdings(account) == expected
            assert self.registry.balance(account) == sum(expected.values())

    @invariant()
    def totals_match_the_model(self):
        buffer = sum(q for (a, _), q in self.held.items() if a == BUFFER)
        retired, cancelled = sum(self.retired.values()), sum(self.cancelled.values())
        issued = sum(self.issued)
        assert self.registry.totals() == {
            "issued": issued, "active": issued - buffer - retired - cancelled,
            "retired": retired, "cancelled": cancelled, "buffer": buffer, "imported": 0,
            "exported": 0}

    @invariant()
    def every_batch_keeps_the_label_and_vintage_it_was_issued_with(self):
        """Credits move and retire by batch, so each carries its batch's label and vintage."""
        assert [batch.label for batch in self.registry.batches] == self.labels
        assert [batch.vintage for batch in self.registry.batches] == self.vintages

    @invariant()
    def approvals_match_the_model(self):
        assert self.registry.label_approvals == {k: frozenset(v) for k, v in self.approved.items()}

    @invariant()
    def every_labelled_batch_was_of_a_type_approved_for_its_label_at_its_issue(self):
        for label, kind, approved in zip(self.labels, self.kinds, self.approved_at_issue):
            assert label is None or kind in approved

    @invariant()
    def every_batch_is_conserved(self):
        for b, quantity in enumerate(self.issued):
            held = sum(q for (_, batch), q in self.held.items() if batch == b)
            assert held + self.retired[b] + self.cancelled[b] == quantity
            assert self.registry.retired(b) == self.retired[b]
            assert self.registry.cancelled(b) == self.cancelled[b]
        self.registry.check()

    @invariant()
    def each_retirement_counts_in_exactly_one_claim(self):
        frame = self.registry.journal_frame()
        retirements = frame[frame["kind"] == "retire"]
        assert len(retirements) == len(self.claims)
        assert retirements["note"].notna().all()
        for (claim, q), (_, row) in zip(self.claims, retirements.iterrows()):
            assert row["quantity"] == q
            assert (row["claim"] if isinstance(row["claim"], str) else None) == claim


RegistryMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=40,
                                             deadline=None)
TestRegistryConservation = RegistryMachine.TestCase
