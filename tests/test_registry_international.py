"""Unit tests of transfers between the registries of linked markets, and of check_linked."""

import pytest

from vcm_sim.registry import (BUFFER, MAX_QUANTITY, Batch, Registry, RegistryError,
                              check_linked, transfer_abroad)
from vcm_sim.registry.international import Arrival, _receive, _send


@pytest.fixture
def linked() -> tuple[Registry, Registry, Registry]:
    """Three registries; A has issued 100 credits of batch 0 (serials 0..99) to ``dev``."""
    a = Registry(["dev", "firm"], name="A")
    b = Registry(["fund", "firm"], name="B")
    c = Registry(["broker"], name="C")
    a.issue("redd-1", 2021, 100, "dev")
    return a, b, c


def snapshot(r: Registry) -> tuple:
    return (r.totals(), {n: r.holdings(n) for n in r.accounts}, r.journal_frame().to_dict("list"),
            list(r.batches), [r.serials(b) for b in range(len(r.batches))], r.step)


def journal_rows(r: Registry) -> list[tuple]:
    """(kind, batch, from, to, quantity, note) of every entry, None where there is none."""
    frame = r.journal_frame()
    frame = frame.astype(object).where(frame.notna(), None)
    return list(zip(frame["kind"], frame["batch"], frame["from"], frame["to"], frame["quantity"],
                    frame["note"]))


def test_a_transfer_abroad_moves_credits_and_journals_both_sides(linked):
    a, b, _ = linked
    assert transfer_abroad(a, 0, "dev", b, "fund", 30) == [0]
    assert a.balance("dev") == 70 and b.balance("fund", 0) == 30
    assert journal_rows(a)[-1] == ("export", 0, "dev", None, 30, "B")
    assert journal_rows(b) == [("import", 0, None, "fund", 30, "A")]
    check_linked([a, b])


def test_the_imported_batch_keeps_its_provenance_and_the_serials_that_moved(linked):
    a, b, _ = linked
    transfer_abroad(a, 0, "dev", b, "fund", 30)
    assert b.batches == [Batch(0, "redd-1", 2021, 0, 30, origin="A", origin_batch=0)]
    assert a.serials(0) == [(30, 100)] and b.serials(0) == [(0, 30)]
    transfer_abroad(a, 0, "dev", b, "fund", 5)
    assert b.batches[1] == Batch(1, "redd-1", 2021, 30, 35, origin="A", origin_batch=0)


def test_an_import_is_not_issuance_and_both_registries_count_the_move(linked):
    a, b, _ = linked
    transfer_abroad(a, 0, "dev", b, "fund", 30)
    assert a.totals() == {"issued": 100, "active": 70, "retired": 0, "cancelled": 0,
                          "buffer": 0, "imported": 0, "exported": 30}
    assert b.totals() == {"issued": 0, "active": 30, "retired": 0, "cancelled": 0,
                          "buffer": 0, "imported": 30, "exported": 0}
    assert a.exported(0) == 30 and b.exported(0) == 0


def test_imported_credits_are_transferred_retired_cancelled_and_delivered_like_native_ones(
        linked):
    a, b, _ = linked
    transfer_abroad(a, 0, "dev", b, "fund", 40)
    b.issue("arr-1", 2023, 10, "fund")
    b.transfer(0, "fund", "firm", 10)
    b.retire(0, "firm", 4, beneficiary="ACME", claim="acme-2024")
    b.cancel(0, "fund", 5, reason="invalidated")
    legs = b.deliver(["fund"], ["firm"], [30], retire=[True])
    assert (legs.batch, legs.quantity) == ([0, 1], [25, 5])
    assert b.retired(0) == 4 + 25 and b.cancelled(0) == 5 and b.balance("firm", 0) == 6
    assert b.totals()["retired"] == 34 and b.totals()["imported"] == 40
    b.check()
    check_linked([a, b])


def test_credits_that_come_home_rejoin_their_batch_and_create_nothing(linked):
    a, b, _ = linked
    transfer_abroad(a, 0, "dev", b, "fund", 30)
    b.transfer(0, "fund", "firm", 30)
    assert transfer_abroad(b, 0, "firm", a, "firm", 30) == [0]
    assert len(a.batches) == 1 and a.balance("firm", 0) == 30 and a.balance("dev", 0) == 70
    assert a.serials(0) == [(0, 100)] and a.exported(0) == 0
    assert a.totals() == {"issued": 100, "active": 100, "retired": 0, "cancelled": 0,
                          "buffer": 0, "imported": 0, "exported": 0}
    assert b.totals()["imported"] == 30 and b.totals()["exported"] == 30
    assert b.totals()["active"] == 0 and b.serials(0) == []
    assert journal_rows(a)[-1] == ("import", 0, None, "firm", 30, "B")
    check_linked([a, b])


def test_credits_go_on_to_a_third_registry_keeping_their_origin(linked):
    a, b, c = linked
    transfer_abroad(a, 0, "dev", b, "fund", 30)
    assert transfer_abroad(b, 0, "fund", c, "broker", 12) == [0]
    assert c.batches == [Batch(0, "redd-1", 2021, 0, 12, origin="A", origin_batch=0)]
    assert journal_rows(c) == [("import", 0, None, "broker", 12, "B")]
    transfer_abroad(c, 0, "broker", a, "firm", 12)
    assert a.serials(0) == [(0, 12), (30, 100)] and a.balance("firm", 0) == 12
    check_linked([a, b, c])


def test_credits_that_come_back_to_a_registry_they_passed_through_rejoin_its_imported_batch(
        linked):
    a, b, c = linked
    transfer_abroad(a, 0, "dev", b, "fund", 30)
    transfer_abroad(b, 0, "fund", c, "broker", 10)
    assert transfer_abroad(c, 0, "broker", b, "firm", 10) == [0]
    assert len(b.batches) == 1 and b.serials(0) == [(0, 30)] and b.balance("firm", 0) == 10
    assert b.totals()["imported"] == 30 and b.totals()["exported"] == 0
    check_linked([a, b, c])


def test_serials_in_several_ranges_arrive_as_one_imported_batch_per_range(linked):
    a, b, c = linked
    transfer_abroad(a, 0, "dev", b, "fund", 30)
    transfer_abroad(a, 0, "dev", b, "fund", 30)  # b's batch 1: serials 30..59
    transfer_abroad(b, 1, "fund", a, "dev", 10)  # 30..39 come home: A has 30..39 and 60..99
    assert transfer_abroad(a, 0, "dev", c, "broker", 20) == [0, 1]
    assert [(x.serial_start, x.serial_end) for x in c.batches] == [(30, 40), (60, 70)]
    assert journal_rows(a)[-1] == ("export", 0, "dev", None, 20, "C")
    assert [row[4] for row in journal_rows(c)] == [10, 10]
    check_linked([a, b, c])


def test_serials_partly_known_to_the_receiver_rejoin_its_batch_and_the_rest_form_a_new_one(
        linked):
    a, b, c = linked
    transfer_abroad(a, 0, "dev", c, "broker", 20)  # c's batch 0: serials 0..19
    transfer_abroad(a, 0, "dev", b, "fund", 10)  # b's batch 0: serials 20..29
    transfer_abroad(c, 0, "broker", a, "dev", 20)
    transfer_abroad(b, 0, "fund", a, "dev", 10)
    assert transfer_abroad(a, 0, "dev", c, "broker", 30) == [0, 1]  # serials 0..29
    assert c.batches[1] == Batch(1, "redd-1", 2021, 20, 30, origin="A", origin_batch=0)
    assert c.serials(0) == [(0, 20)] and c.totals()["imported"] == 30
    assert transfer_abroad(c, 1, "broker", b, "firm", 10) == [0]
    assert len(b.batches) == 1 and b.balance("firm", 0) == 10
    check_linked([a, b, c])


def test_a_buffer_pool_can_send_and_receive_like_any_account(linked):
    a, b, _ = linked
    a.issue("redd-1", 2021, 10, "dev", buffer_share=1.0)
    transfer_abroad(a, 1, BUFFER, b, BUFFER, 4)
    assert a.totals()["buffer"] == 6 and b.totals()["buffer"] == 4
    check_linked([a, b])


REFUSED = {
    "unknown holder": (lambda a, b: transfer_abroad(a, 0, "ghost", b, "fund", 5),
                       "'A': unknown account 'ghost'"),
    "unknown recipient": (lambda a, b: transfer_abroad(a, 0, "dev", b, "ghost", 5),
                          "'B': unknown account 'ghost'"),
    "more than held": (lambda a, b: transfer_abroad(a, 0, "firm", b, "fund", 1),
                       "holds 0 credits of batch 0"),
    "more than the holder has": (lambda a, b: transfer_abroad(a, 0, "dev", b, "fund", 101),
                                 "cannot move 101"),
    "unknown batch": (lambda a, b: transfer_abroad(a, 7, "dev", b, "fund", 5),
                      "'A': unknown batch 7"),
    "a batch id of the receiver only": (lambda a, b: transfer_abroad(a, 1, "dev", b, "fund", 1),
                                        "batch 1"),
    "zero quantity": (lambda a, b: transfer_abroad(a, 0, "dev", b, "fund", 0), "got 0"),
    "negative quantity": (lambda a, b: transfer_abroad(a, 0, "dev", b, "fund", -3), "-3"),
    "float quantity": (lambda a, b: transfer_abroad(a, 0, "dev", b, "fund", 2.0), "2.0"),
    "boolean quantity": (lambda a, b: transfer_abroad(a, 0, "dev", b, "fund", True), "True"),
    "the same registry": (lambda a, b: transfer_abroad(a, 0, "dev", a, "firm", 5), "'A' and 'A'"),
    "a registry of the same name": (
        lambda a, b: transfer_abroad(a, 0, "dev", Registry(["fund"], name="A"), "fund", 5),
        "different names"),
    "different steps": (lambda a, b: setattr(b, "step", 3) or
                        transfer_abroad(a, 0, "dev", b, "fund", 5), "at 0 and 'B' at 3"),
}


@pytest.mark.parametrize("refused", REFUSED.values(), ids=REFUSED.keys())
def test_a_refused_transfer_raises_naming_the_value_and_changes_neither_registry(refused):
    transfer, fragment = refused
    a = Registry(["dev", "firm"], name="A")
    b = Registry(["fund"], name="B")
    a.issue("redd-1", 2021, 100, "dev")
    b.issue("arr-1", 2023, 10, "fund")
    transfer_abroad(a, 0, "dev", b, "fund", 20)  # something on both sides to stay as it is
    before = snapshot(a), snapshot(b)
    with pytest.raises(RegistryError, match=fragment):
        transfer(a, b)
    b.step = 0
    assert (snapshot(a), snapshot(b)) == before
    check_linked([a, b])


def test_a_transfer_that_would_put_credits_in_a_registry_twice_is_refused():
    a = Registry(["dev"], name="A")
    b = Registry(["fund"], name="B")
    a.issue("redd-1", 2021, 100, "dev")
    transfer_abroad(a, 0, "dev", b, "fund", 30)
    stranger = Registry(["dev"], name="A")  # another registry under A's name, not linked
    stranger.issue("redd-1", 2021, 100, "dev")
    before = snapshot(b), snapshot(stranger)
    with pytest.raises(RegistryError, match="already in 'A'"):
        transfer_abroad(b, 0, "fund", stranger, "dev", 10)
    assert (snapshot(b), snapshot(stranger)) == before


def test_an_import_beyond_the_largest_total_is_refused_and_changes_nothing():
    a = Registry(["dev"], name="A")
    b = Registry(["fund"], name="B")
    a.issue("redd-1", 2021, 10, "dev")
    b.issue("arr-1", 2023, MAX_QUANTITY - 5, "fund")
    before = snapshot(a), snapshot(b)
    with pytest.raises(RegistryError, match="importing 10 credits"):
        transfer_abroad(a, 0, "dev", b, "fund", 10)
    assert (snapshot(a), snapshot(b)) == before
    transfer_abroad(a, 0, "dev", b, "fund", 5)
    with pytest.raises(RegistryError, match="total ever issued and imported"):
        b.issue("arr-1", 2023, 1, "fund")


def test_a_registry_name_must_be_a_non_empty_string():
    for bad in ("", None, 3):
        with pytest.raises(RegistryError, match="registry name"):
            Registry(name=bad)


def test_check_linked_passes_on_registries_that_never_traded(linked):
    check_linked(list(linked))


def test_check_linked_catches_a_credit_in_two_registries_at_once(linked):
    a, b, _ = linked
    transfer_abroad(a, 0, "dev", b, "fund", 30)
    _receive(a, ("A", 0), a.batches[0], "dev", [Arrival([(0, 10)], 0)], "B")  # one-sided
    a.check()
    b.check()
    with pytest.raises(RegistryError, match=r"serials 0..9 of batch 0 of 'A' are in two"):
        check_linked([a, b])


def test_check_linked_catches_credits_in_no_registry(linked):
    a, b, _ = linked
    _send(a, 0, "dev", [(0, 10)], "B")  # an export B never received
    a.check()
    with pytest.raises(RegistryError, match=r"serials 0..9 of batch 0 of 'A' are in no"):
        check_linked([a, b])


def test_check_linked_catches_a_tampered_holding(linked):
    a, b, _ = linked
    transfer_abroad(a, 0, "dev", b, "fund", 30)
    b._holdings[b._account_ids["fund"]][0] += 1
    with pytest.raises(RegistryError, match="batch 0"):
        check_linked([a, b])


def test_check_linked_needs_every_origin_and_distinct_names(linked):
    a, b, c = linked
    transfer_abroad(a, 0, "dev", b, "fund", 30)
    with pytest.raises(RegistryError, match="comes from 'A', not a linked registry"):
        check_linked([b, c])
    with pytest.raises(RegistryError, match="distinct names"):
        check_linked([a, b, Registry(name="B")])


def test_check_linked_catches_an_imported_batch_that_misstates_its_origin(linked):
    a, b, _ = linked
    transfer_abroad(a, 0, "dev", b, "fund", 30)
    b.batches[0] = Batch(0, "redd-1", 2022, 0, 30, origin="A", origin_batch=0)
    with pytest.raises(RegistryError, match="does not match its origin batch"):
        check_linked([a, b])


def test_a_label_travels_abroad_and_check_linked_catches_one_lost_on_the_way(linked):
    """Credits keep their integrity label in the registry they move to, which need not
    approve it (the issuing registry checked it); an imported batch whose label differs from
    its origin's fails the link check."""
    a, b, _ = linked
    a.approve_label("ccp", ["arr"])
    labelled = a.issue("arr-2", 2024, 10, "dev", label="ccp", project_type="arr")
    assert "ccp" not in b.label_approvals
    transfer_abroad(a, labelled, "dev", b, "fund", 4)
    imported = b.batches[-1]
    assert (imported.label, imported.origin_batch) == ("ccp", labelled)
    check_linked([a, b])
    b.batches[-1] = Batch(imported.batch_id, "arr-2", 2024, imported.serial_start,
                          imported.serial_end, origin="A", origin_batch=labelled)
    with pytest.raises(RegistryError, match="label None.*does not match its origin batch"):
        check_linked([a, b])
