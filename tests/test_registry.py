"""Unit tests of the registry: each operation, each refusal, and the journal."""

import numpy as np
import pytest

from vcm_sim.registry import BUFFER, MAX_QUANTITY, STEPS, Registry, RegistryError


@pytest.fixture
def reg() -> Registry:
    return Registry(accounts=["dev", "firm", "trader"])


def snapshot(r: Registry) -> tuple:
    frame = r.journal_frame()
    holdings = {a: r.holdings(a) for a in r.accounts}
    return r.totals(), holdings, frame.to_dict("list"), len(r.batches)


def same_state(a: Registry, b: Registry) -> bool:
    """Same holdings, totals and batches, and the same journal entries in each step (a bulk
    call journals its kinds in blocks, the single calls entry by entry)."""
    def entries(r: Registry) -> list:
        return sorted(map(repr, r.journal_frame().itertuples(index=False)))
    return (a.totals(), a.batches, {n: a.holdings(n) for n in a.accounts}, entries(a)) == \
           (b.totals(), b.batches, {n: b.holdings(n) for n in b.accounts}, entries(b))


def named(column) -> list:
    return [None if missing else value for value, missing in zip(column, column.isna())]


def test_issue_credits_the_recipient_and_the_buffer_pool(reg):
    b = reg.issue("arr-1", 2024, 1000, "dev", buffer_share=0.125)
    assert reg.balance("dev", b) == 875
    assert reg.balance(BUFFER, b) == 125
    assert reg.totals() == {"issued": 1000, "active": 875, "retired": 0, "cancelled": 0,
                            "buffer": 125, "imported": 0, "exported": 0}


def test_buffer_share_rounds_down_to_whole_credits(reg):
    b = reg.issue("arr-1", 2024, 7, "dev", buffer_share=0.2)
    assert reg.balance(BUFFER, b) == 1
    assert reg.balance("dev", b) == 6


def test_full_buffer_share_sends_everything_to_the_pool(reg):
    b = reg.issue("arr-1", 2024, 10, "dev", buffer_share=1.0)
    assert reg.balance(BUFFER, b) == 10 and reg.balance("dev", b) == 0


def test_batches_have_consecutive_non_overlapping_serial_ranges(reg):
    a = reg.issue("p1", 2020, 10, "dev")
    b = reg.issue("p2", 2021, 5, "dev")
    ba, bb = reg.batches[a], reg.batches[b]
    assert (ba.serial_start, ba.serial_end) == (0, 10)
    assert (bb.serial_start, bb.serial_end) == (10, 15)
    assert ba.quantity == 10 and bb.project == "p2" and bb.vintage == 2021


def test_transfer_moves_credits_between_accounts(reg):
    b = reg.issue("p1", 2020, 10, "dev")
    reg.transfer(b, "dev", "firm", 4)
    assert reg.balance("dev", b) == 6 and reg.balance("firm", b) == 4
    assert reg.balance("firm") == 4


def test_retire_takes_credits_out_of_circulation_for_a_beneficiary(reg):
    b = reg.issue("p1", 2020, 10, "firm")
    reg.retire(b, "firm", 3, beneficiary="ACME", claim="acme-2020-neutral")
    assert reg.balance("firm", b) == 7 and reg.retired(b) == 3
    row = reg.journal_frame().iloc[-1]
    assert (row["kind"], row["note"], row["claim"]) == ("retire", "ACME", "acme-2020-neutral")
    assert reg.totals()["retired"] == 3 and reg.totals()["active"] == 7


def test_cancel_from_the_buffer_pool_draws_it_down(reg):
    b = reg.issue("redd-1", 2020, 100, "dev", buffer_share=0.2)
    reg.cancel(b, BUFFER, 15, reason="reversal: fire")
    assert reg.balance(BUFFER) == 5 and reg.cancelled(b) == 15
    assert reg.totals() == {"issued": 100, "active": 80, "retired": 0, "cancelled": 15,
                            "buffer": 5, "imported": 0, "exported": 0}


def test_draw_down_cancels_oldest_first_as_cancel_would_batch_by_batch():
    one, many = Registry(accounts=["dev"]), Registry(accounts=["dev"])
    for r in (one, many):
        for k, q in enumerate((100, 40, 60)):
            r.issue(f"p{k}", 2020 + k, q, "dev", buffer_share=0.5)
    for b, take in one.plan_draw(BUFFER, 75):
        one.cancel(b, BUFFER, take, reason="fire at p1")
    assert many.draw_down(BUFFER, 75, "fire at p1") == 75
    assert many.holdings(BUFFER) == {2: 25} and same_state(one, many)
    assert many.draw_down(BUFFER, 1000, "fire at p2") == 25  # all the pool holds
    assert many.draw_down(BUFFER, 10, "fire at p2") == 0 and many.balance(BUFFER) == 0
    many.check()
    with pytest.raises(RegistryError, match="reason"):
        many.draw_down(BUFFER, 1, "")
    for bad in (-1, 2.5, True):
        with pytest.raises(RegistryError, match="quantity"):
            many.draw_down(BUFFER, bad, "fire")


def test_held_reads_balances_by_account_id():
    r = Registry(accounts=["dev", "firm"])
    b = r.issue("p", 2020, 10, "dev", buffer_share=0.3)
    r.issue("q", 2024, 5, "firm")
    ids = r.ids(["firm", "dev", BUFFER])
    assert r.held(ids).tolist() == r.balances(["firm", "dev", BUFFER]).tolist() == [5, 7, 3]
    assert r.held(ids, lambda batch: batch == b).tolist() == [0, 7, 3]
    assert r.held([]).tolist() == []
    with pytest.raises(RegistryError, match="unknown account"):
        r.ids(["nobody"])
    for bad in ([-1], [3]):
        with pytest.raises(RegistryError, match="account ids"):
            r.held(bad)


def test_two_deliveries_between_one_pair_in_a_row_move_what_their_sum_moves():
    """What the market relies on when it merges a firm's consecutive matches with one
    seller into one entry."""
    split, merged = Registry(accounts=["dev", "f1", "f2"]), Registry(accounts=["dev", "f1", "f2"])
    for r in (split, merged):
        for k, q in enumerate((40, 60, 30)):
            r.issue(f"p{k}", 2020 + k, q, "dev")
    split.deliver(["dev"] * 3, ["f1", "f1", "f2"], [30, 50, 20], retire=[True, True, False],
                  claims=["f1/2024", "f1/2024", None])
    merged.deliver(["dev"] * 2, ["f1", "f2"], [80, 20], retire=[True, False],
                   claims=["f1/2024", None])
    assert [split.retired(b) for b in range(3)] == [merged.retired(b) for b in range(3)]
    assert {a: split.holdings(a) for a in split.accounts} == \
           {a: merged.holdings(a) for a in merged.accounts}
    assert split.totals() == merged.totals()


def test_numpy_integers_are_accepted_as_quantities(reg):
    b = reg.issue("p1", np.int64(2020), np.int64(10), "dev")
    reg.transfer(np.int32(b), "dev", "firm", np.int64(3))
    assert reg.balance("firm") == 3
    reg.check()


def test_holdings_lists_non_zero_batches(reg):
    a = reg.issue("p1", 2020, 10, "dev")
    b = reg.issue("p2", 2020, 10, "dev")
    reg.transfer(a, "dev", "firm", 10)
    assert reg.holdings("dev") == {b: 10}
    assert reg.holdings("firm") == {a: 10}


def test_journal_records_every_operation_with_its_step(reg):
    b = reg.issue("p1", 2020, 10, "dev", buffer_share=0.1)
    reg.step = 3
    reg.transfer(b, "dev", "firm", 5)
    reg.retire(b, "firm", 2, beneficiary="ACME")
    reg.cancel(b, "dev", 1, reason="audit: over-crediting")
    frame = reg.journal_frame()
    assert list(frame["kind"]) == ["issue", "buffer_deposit", "transfer", "retire", "cancel"]
    assert list(frame["step"]) == [0, 0, 3, 3, 3]
    assert named(frame["from"]) == [None, None, "dev", "firm", "dev"]
    assert named(frame["to"]) == ["dev", BUFFER, "firm", None, None]
    assert list(frame["quantity"]) == [9, 1, 5, 2, 1]
    assert named(frame["note"]) == [None, None, None, "ACME", "audit: over-crediting"]
    assert len(reg.journal) == 5


def test_check_passes_on_a_consistent_registry(reg):
    b = reg.issue("p1", 2020, 10, "dev", buffer_share=0.3)
    reg.transfer(b, "dev", "firm", 5)
    reg.retire(b, "firm", 5, beneficiary="x")
    reg.check()


def test_check_detects_a_tampered_holding(reg):
    b = reg.issue("p1", 2020, 10, "dev")
    reg._holdings[reg._account_ids["dev"]][b] += 1
    with pytest.raises(RegistryError, match="batch 0"):
        reg.check()


def test_check_detects_a_holding_the_journal_cannot_explain(reg):
    b = reg.issue("p1", 2020, 10, "dev")
    dev, firm = reg._account_ids["dev"], reg._account_ids["firm"]
    reg._holdings[dev][b] -= 2
    reg._holdings[firm][b] = 2
    reg._account_totals[dev] -= 2
    reg._account_totals[firm] += 2
    with pytest.raises(RegistryError, match="journal"):
        reg.check()


BAD_OPERATIONS = {
    "zero quantity": (lambda r, b: r.transfer(b, "dev", "firm", 0), "0"),
    "negative quantity": (lambda r, b: r.transfer(b, "dev", "firm", -3), "-3"),
    "float quantity": (lambda r, b: r.transfer(b, "dev", "firm", 2.0), "2.0"),
    "bool quantity": (lambda r, b: r.transfer(b, "dev", "firm", True), "True"),
    "string quantity": (lambda r, b: r.retire(b, "dev", "2", beneficiary="x"), "'2'"),
    "overdraw": (lambda r, b: r.transfer(b, "dev", "firm", 11), "holds 10"),
    "unknown batch": (lambda r, b: r.transfer(99, "dev", "firm", 1), "unknown batch 99"),
    "negative batch": (lambda r, b: r.transfer(-1, "dev", "firm", 1), "unknown batch -1"),
    "unknown source": (lambda r, b: r.transfer(b, "nobody", "firm", 1), "'nobody'"),
    "unknown destination": (lambda r, b: r.transfer(b, "dev", "nobdy", 1), "'nobdy'"),
    "retire what one does not hold": (
        lambda r, b: r.retire(b, "firm", 1, beneficiary="x"), "'firm' holds 0"),
    "retire without beneficiary": (lambda r, b: r.retire(b, "dev", 1, beneficiary=""), "''"),
    "cancel without reason": (lambda r, b: r.cancel(b, "dev", 1, reason=""), "reason"),
    "cancel overdraw": (lambda r, b: r.cancel(b, BUFFER, 1, reason="fire"), "'buffer' holds 0"),
    "buffer share above one": (
        lambda r, b: r.issue("p", 2020, 10, "dev", buffer_share=1.5), "1.5"),
    "negative buffer share": (
        lambda r, b: r.issue("p", 2020, 10, "dev", buffer_share=-0.1), "-0.1"),
    "NaN buffer share": (
        lambda r, b: r.issue("p", 2020, 10, "dev", buffer_share=float("nan")), "nan"),
    "issue to unknown account": (lambda r, b: r.issue("p", 2020, 10, "ghost"), "'ghost'"),
    "issue zero": (lambda r, b: r.issue("p", 2020, 0, "dev"), "0"),
    "non-integer vintage": (lambda r, b: r.issue("p", 2020.5, 10, "dev"), "2020.5"),
    "empty project": (lambda r, b: r.issue("", 2020, 10, "dev"), "project"),
    "balance of unknown account": (lambda r, b: r.balance("ghost"), "'ghost'"),
    "bulk issue with a bad share": (
        lambda r, b: r.issue_many(["p", "q"], 2020, [5, 5], ["dev", "dev"], [0.1, 2.0]),
        "entry 1: buffer_share must be in [0, 1], got 2.0"),
    "bulk issue to unknown account": (
        lambda r, b: r.issue_many(["p"], 2020, [5], ["ghost"], [0.1]), "entry 0: unknown"),
    "bulk issue with an empty project": (
        lambda r, b: r.issue_many(["p", ""], 2020, [5, 5], ["dev", "dev"], [0, 0]),
        "entry 1: project"),
    "delivery beyond what the seller holds": (
        lambda r, b: r.deliver(["dev", "dev"], ["firm", "trader"], [6, 5]),
        "entry 1: 'dev' holds too few eligible credits to deliver 5"),
    "delivery of zero": (
        lambda r, b: r.deliver(["dev", "dev"], ["firm", "firm"], [1, 0]), "entry 1: quantity"),
    "delivery with misaligned columns": (
        lambda r, b: r.deliver(["dev"], ["firm", "firm"], [1, 1]), "1 sellers for 2 entries"),
    "delivery of ineligible credits": (
        lambda r, b: r.deliver(["dev"], ["firm"], [1], eligible=lambda b: False),
        "too few eligible"),
    "retirement on delivery beyond what the seller holds": (
        lambda r, b: r.deliver(["dev", "dev"], ["firm", "firm"], [9, 2], retire=[True, True],
                               claims=["c", "c"]),
        "entry 1: 'dev' holds too few"),
    "retirement on delivery with an empty claim": (
        lambda r, b: r.deliver(["dev"], ["firm"], [1], retire=[True], claims=[""]),
        "entry 0: claim"),
    "retirement on delivery to an unknown buyer": (
        lambda r, b: r.deliver(["dev"], ["frm"], [1], retire=[True]), "'frm'"),
    "balances of an unknown account": (lambda r, b: r.balances(["dev", "gost"]), "'gost'"),
    "a claim on credits the buyer keeps": (
        lambda r, b: r.deliver(["dev"], ["firm"], [1], retire=[False], claims=["c"]),
        "entry 0: claim must be None"),
    "bulk quantity beyond 64 bits": (
        lambda r, b: r.deliver(["dev"], ["firm"], np.array([2**63], dtype=np.uint64)),
        "at most 9223372036854775807"),
    "huge Python quantity": (lambda r, b: r.transfer(b, "dev", "firm", 2**70), "at most"),
    "boolean bulk quantity": (
        lambda r, b: r.issue_many(["p", "q"], 2020, [True, 2], ["dev", "dev"], [0, 0]),
        "positive integers"),
    "bulk issue with a fractional vintage": (
        lambda r, b: r.issue_many(["p", "q"], [2020, 2020.5], [5, 5], ["dev", "dev"], [0, 0]),
        "entry 1: vintage must be an integer year, got 2020.5"),
    "bulk issue with too few vintages": (
        lambda r, b: r.issue_many(["p", "q"], [2020], [5, 5], ["dev", "dev"], [0, 0]),
        "vintages has 1 entries, expected 2"),
    "bulk issue with a vintage as text": (
        lambda r, b: r.issue_many(["p"], "2020", [5], ["dev"], [0]), "integer year or one per"),
    "text buffer share in bulk": (
        lambda r, b: r.issue_many(["p"], 2020, [5], ["dev"], ["0.5"]), "numbers in [0, 1]"),
}


@pytest.mark.parametrize("operation,fragment", BAD_OPERATIONS.values(), ids=BAD_OPERATIONS.keys())
def test_bad_operation_raises_naming_the_value_and_changes_nothing(reg, operation, fragment):
    b = reg.issue("p1", 2020, 10, "dev")
    before = snapshot(reg)
    with pytest.raises(RegistryError) as err:
        operation(reg, b)
    assert fragment in str(err.value)
    assert snapshot(reg) == before
    reg.check()


def test_registry_error_is_a_value_error():
    assert issubclass(RegistryError, ValueError)


def test_account_names_must_be_non_empty_strings(reg):
    with pytest.raises(RegistryError, match="non-empty string"):
        reg.open_account("")
    reg.open_account("dev")
    assert reg.accounts.count("dev") == 1


def test_bulk_operations_equal_the_single_operations_in_turn():
    """State and journal after each bulk call are those of the single calls it stands for."""
    bulk, single = (Registry(accounts=["dev", "firm", "trader"]) for _ in range(2))
    batches = bulk.issue_many(["p1", "p2", "p3"], np.array([2021, 2019, 2021]), [10, 7, 40],
                              ["dev", "trader", "dev"], [0.25, 0.0, 1.0])
    assert batches == range(0, 3)
    for project, vintage, q, to, share in (("p1", 2021, 10, "dev", 0.25),
                                           ("p2", 2019, 7, "trader", 0.0),
                                           ("p3", 2021, 40, "dev", 1.0)):
        single.issue(project, vintage, q, to, buffer_share=share)
    legs = bulk.deliver(["dev", "trader", "dev"], ["firm", "dev", "trader"], [5, 7, 3])
    assert (legs.match, legs.batch, legs.quantity) == ([0, 1, 2], [0, 1, 0], [5, 7, 3])
    for b, src, dst, q in ((0, "dev", "firm", 5), (1, "trader", "dev", 7),
                           (0, "dev", "trader", 3)):
        single.transfer(b, src, dst, q)
    legs = bulk.deliver(["dev", "trader"], ["firm", "firm"], [4, 3], retire=[True, True],
                        claims=["firm/2021", None])
    assert (legs.match, legs.batch, legs.quantity) == ([0, 1], [1, 0], [4, 3])
    for b, seller, q in ((1, "dev", 4), (0, "trader", 3)):
        single.transfer(b, seller, "firm", q)
    for b, q, claim in ((1, 4, "firm/2021"), (0, 3, None)):
        single.retire(b, "firm", q, beneficiary="firm", claim=claim)
    assert same_state(bulk, single)
    assert bulk.balances(["dev", "firm", "trader"]).tolist() == [3, 5, 0]
    assert bulk.balances(["dev", "trader"], eligible=lambda b: b == 1).tolist() == [3, 0]
    bulk.check()


def test_a_delivery_draws_oldest_eligible_batches_first_across_a_sellers_entries():
    reg = Registry(accounts=["dev", "a", "b"])
    for vintage in (2018, 2019, 2020):
        reg.issue("p", vintage, 4, "dev")
    recent = lambda batch: reg.batches[batch].vintage >= 2019  # noqa: E731
    legs = reg.deliver(["dev", "dev"], ["a", "b"], [3, 3], eligible=recent)
    assert list(zip(legs.match, legs.batch, legs.quantity)) == [(0, 1, 3), (1, 1, 1), (1, 2, 2)]
    assert reg.holdings("dev") == {0: 4, 2: 2}


def test_credits_received_in_a_delivery_are_not_redelivered_in_the_same_call(reg):
    reg.issue("p", 2020, 8, "dev")
    reg.issue("q", 2020, 7, "trader")
    before = snapshot(reg)
    with pytest.raises(RegistryError, match="entry 1: 'dev' holds too few"):
        reg.deliver(["trader", "dev"], ["dev", "firm"], [7, 10])
    assert snapshot(reg) == before


def test_retirement_on_delivery_leaves_the_buyer_holding_what_it_held():
    reg = Registry(accounts=["dev", "firm"])
    b = reg.issue("p", 2020, 10, "dev")
    reg.transfer(b, "dev", "firm", 3)
    reg.deliver(["dev"], ["firm"], [5], retire=[True], claims=["firm/2020"])
    assert reg.holdings("firm") == {b: 3} and reg.balance("dev") == 2
    assert reg.retired(b) == 5
    frame = reg.journal_frame()
    assert frame["kind"].tolist()[-2:] == ["transfer", "retire"]
    assert frame["note"].tolist()[-1] == "firm" and frame["claim"].tolist()[-1] == "firm/2020"
    reg.check()


def test_a_delivery_mixing_kept_and_retired_credits_serves_entries_in_order():
    reg = Registry(accounts=["dev", "firm", "trader"])
    old, new = reg.issue("p", 2019, 5, "dev"), reg.issue("p", 2020, 5, "dev")
    legs = reg.deliver(["dev", "dev"], ["trader", "firm"], [3, 4], retire=[False, True],
                       claims=[None, "firm/2020"])
    assert list(zip(legs.match, legs.batch, legs.quantity)) == [(0, old, 3), (1, old, 2),
                                                                 (1, new, 2)]
    assert reg.holdings("trader") == {old: 3} and reg.holdings("firm") == {}
    assert reg.retired(old) == 2 and reg.retired(new) == 2
    reg.check()


def test_a_delivery_by_account_ids_is_the_delivery_by_names():
    by_name, by_id = Registry(accounts=["dev", "firm", "trader"]), Registry(
        accounts=["dev", "firm", "trader"])
    for reg in (by_name, by_id):
        reg.issue("p", 2019, 5, "dev")
        reg.issue("p", 2020, 5, "dev")
    by_name.deliver(["dev", "dev"], ["trader", "firm"], [3, 4], retire=[False, True],
                    claims=[None, "firm/2020"])
    ids = np.array([by_id.accounts.index(a) for a in ("dev", "trader", "firm")])
    by_id.deliver_ids(ids[[0, 0]], ids[[1, 2]], [3, 4], retire=[False, True],
                      claims=[None, "firm/2020"])
    assert same_state(by_name, by_id)
    assert snapshot(by_name) == snapshot(by_id)


@pytest.mark.parametrize("sellers", [[7], [-1], ["dev"], [True], np.array([1.0])])
def test_a_delivery_by_ids_refuses_what_is_no_account_id_and_changes_nothing(reg, sellers):
    reg.issue("p", 2020, 5, "dev")
    before = snapshot(reg)
    with pytest.raises(RegistryError, match="entry 0: no account has id"):
        reg.deliver_ids(sellers, [2], [1])
    assert snapshot(reg) == before


def test_huge_batches_keep_exact_serials_and_never_overfill_the_buffer():
    bulk, single = Registry(accounts=["dev"]), Registry(accounts=["dev"])
    bulk.issue_many(["x", "y"], 2022, [2**62, 2**62 - 1], ["dev", "dev"], [0.0, 1.0])
    single.issue("x", 2022, 2**62, "dev")
    single.issue("y", 2022, 2**62 - 1, "dev", buffer_share=1.0)
    assert bulk.batches == single.batches and bulk.batches[1].serial_end == MAX_QUANTITY
    bulk.check()
    reg = Registry(accounts=["a"])
    reg.issue("p", 2020, 2**54 - 1, "a", buffer_share=1.0)  # q * 1.0 rounds up in floats
    assert reg.balance(BUFFER) == 2**54 - 1 and reg.holdings("a") == {}
    reg.check()


def test_a_numpy_step_stamps_every_journal_column_alike():
    reg = Registry(accounts=["dev", "firm"])
    reg.step = np.int64(7)
    reg.issue_many(["p", "q"], 2020, [5, 5], ["dev", "dev"], [0.2, 0.2])
    reg.deliver(["dev", "dev"], ["firm", "firm"], [4, 4], retire=[True, False])
    frame = reg.journal_frame()
    # two issues, two buffer deposits, two transfers and one retirement
    assert (frame["step"] == 7).all() and len(frame) == 7
    reg.check()


def test_bulk_issuance_of_the_largest_quantity_puts_it_all_in_the_buffer():
    reg = Registry(accounts=["a"])
    reg.issue_many(["p"], 2020, [MAX_QUANTITY], ["a"], [1.0])
    assert reg.balance(BUFFER) == MAX_QUANTITY and reg.balance("a") == 0
    assert reg.totals()["active"] == 0
    reg.check()


@pytest.mark.parametrize("quantity,share,to_buffer", [
    (10, 0.3, 3), (100, 0.29, 29), (1000, 0.165, 165), (7, 0.5, 3), (MAX_QUANTITY, 0.5, 2**62 - 1),
    (MAX_QUANTITY, 1.0, MAX_QUANTITY), (2**60 + 1, 0.1, (2**60 + 1) // 10), (5, 0, 0)])
def test_the_buffer_gets_the_exact_floor_of_quantity_times_the_decimal_share(
        quantity, share, to_buffer):
    single, bulk = Registry(accounts=["a"]), Registry(accounts=["a"])
    single.issue("p", 2020, quantity, "a", buffer_share=share)
    bulk.issue_many(["p"], 2020, [quantity], ["a"], [share])
    for reg in (single, bulk):
        assert reg.balance(BUFFER) == to_buffer
        assert reg.balance("a") == quantity - to_buffer
        reg.check()


@pytest.mark.parametrize("issue", [
    lambda r: r.issue("p", 2020, 1, "a"),
    lambda r: r.issue_many(["p", "q"], 2020, [1, 1], ["a", "a"], [0.0, 0.0]),
])
def test_issuance_beyond_the_largest_total_is_refused_and_changes_nothing(issue):
    reg = Registry(accounts=["a"])
    reg.issue("p", 2020, MAX_QUANTITY - 1, "a")
    reg.issue("p", 2020, 1, "a")  # the total now stands at the largest it may reach
    before = snapshot(reg)
    with pytest.raises(RegistryError, match="total ever issued"):
        issue(reg)
    assert snapshot(reg) == before


@pytest.mark.parametrize("step", [2**31, -2**31 - 1, 1.5, 3.0, None, "3", True, np.float64(2)])
def test_an_invalid_step_is_refused_before_any_operation_can_use_it(reg, step):
    reg.issue("p", 2020, 10, "dev")
    reg.step = 4
    with pytest.raises(RegistryError, match="step must be an integer"):
        reg.step = step
    assert reg.step == 4
    reg.transfer(0, "dev", "firm", 3)
    reg.issue_many(["p"], 2020, [5], ["dev"], [0.2])
    reg.deliver(["dev"], ["firm"], [2], retire=[True])
    assert (reg.journal_frame()["step"].iloc[1:] == 4).all()
    reg.check()


def test_steps_accept_every_32_bit_integer_including_numpy_ones(reg):
    for step in (STEPS.start, STEPS.stop - 1, np.int32(-5), np.uint8(9)):
        reg.step = step
        reg.issue("p", 2020, 1, "dev")
    assert reg.journal_frame()["step"].tolist() == [STEPS.start, STEPS.stop - 1, -5, 9]


def test_check_is_exact_for_retirements_and_cancellations_beyond_float_precision():
    reg = Registry(accounts=["a"])
    b = reg.issue("p", 2020, 2**60 + 5, "a")
    reg.retire(b, "a", 2**53 + 1, beneficiary="a")
    reg.cancel(b, "a", 2**55 + 3, reason="reversal")
    reg.check()
    assert reg.retired(b) == 2**53 + 1 and reg.cancelled(b) == 2**55 + 3


@pytest.mark.parametrize("quantities", [[2**63, 1], [2**64], [2**63, -1], [-2**70], [1, 2**100]])
def test_bulk_quantities_that_do_not_fit_64_bits_are_refused(reg, quantities):
    n = len(quantities)
    before = snapshot(reg)
    with pytest.raises(RegistryError, match="quantit"):
        reg.issue_many(["p"] * n, 2020, quantities, ["dev"] * n, [0.0] * n)
    assert snapshot(reg) == before


def test_a_boolean_buffer_share_is_refused_by_single_and_bulk_issuance(reg):
    before = snapshot(reg)
    with pytest.raises(RegistryError, match="buffer_share"):
        reg.issue("p", 2020, 10, "dev", buffer_share=True)
    with pytest.raises(RegistryError, match="buffer shares"):
        reg.issue_many(["p"], 2020, [10], ["dev"], [True])
    assert snapshot(reg) == before
