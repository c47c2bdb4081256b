"""Label approvals in the registry: the project types approved for each integrity label, and a
labelled issuance refused, changing nothing, unless its project type is approved for the label.
(That a credit keeps its label through transfers, retirements, cancellations and deliveries is
an invariant of tests/test_registry_properties.py; abroad, of tests/test_registry_international.py.)
"""

import pytest

from vcm_sim.registry import BUFFER, Registry, RegistryError


@pytest.fixture
def reg() -> Registry:
    """A registry whose 'ccp' label is approved for ARR and IFM, with one unlabelled batch."""
    r = Registry(accounts=["dev", "firm"])
    r.approve_label("ccp", ["arr", "ifm"])
    r.issue("p0", 2020, 10, "dev")
    return r


def snapshot(r: Registry) -> tuple:
    return (r.totals(), len(r.batches), r.journal_frame().to_dict("list"),
            {a: r.holdings(a) for a in r.accounts}, dict(r.label_approvals))


def test_approvals_are_set_replaced_and_withdrawn(reg):
    assert reg.label_approvals == {"ccp": frozenset({"arr", "ifm"})}
    reg.approve_label("ccp", ("redd_plus",))
    reg.approve_label("other", iter(["arr"]))
    assert reg.label_approvals == {"ccp": frozenset({"redd_plus"}), "other": frozenset({"arr"})}
    reg.approve_label("ccp", [])
    assert reg.label_approvals == {"other": frozenset({"arr"})}
    with pytest.raises(RegistryError, match="unknown label 'ccp'"):
        reg.issue("p", 2021, 10, "dev", label="ccp", project_type="redd_plus")
    with pytest.raises(TypeError):
        reg.label_approvals["ccp"] = frozenset({"arr"})  # a read-only view


@pytest.mark.parametrize("name, types, fragment", [
    ("", ["arr"], "label name must be a non-empty string, got ''"),
    (None, ["arr"], "label name must be a non-empty string, got None"),
    ("ccp", "arr", "got the string 'arr'"),
    ("ccp", 5, "must be a collection of names, got 5"),
    ("ccp", ["arr", ""], "must be non-empty strings, got ''"),
    ("ccp", ["arr", 3], "must be non-empty strings, got 3"),
])
def test_a_bad_approval_is_refused_and_changes_nothing(reg, name, types, fragment):
    before = snapshot(reg)
    with pytest.raises(RegistryError, match=fragment):
        reg.approve_label(name, types)
    assert snapshot(reg) == before


def test_a_labelled_batch_of_an_approved_type_is_issued_singly_and_in_bulk(reg):
    single = reg.issue("p1", 2021, 10, "dev", buffer_share=0.2, label="ccp", project_type="arr")
    bulk = reg.issue_many(["p2", "p3", "p4"], [2022, 2023, 2024], [5, 6, 7], ["dev"] * 3,
                          [0.0] * 3, ["ccp", None, "ccp"], ["ifm", "redd_plus", "arr"])
    assert [(b.label, b.vintage) for b in reg.batches[single:]] == [
        ("ccp", 2021), ("ccp", 2022), (None, 2023), ("ccp", 2024)]
    assert list(bulk) == [2, 3, 4]
    reg.check()


def test_a_labelled_credit_keeps_its_label_and_vintage_through_a_buffer_draw_down(reg):
    b = reg.issue("p1", 2021, 10, "dev", buffer_share=0.5, label="ccp", project_type="arr")
    reg.approve_label("ccp", [])  # a withdrawal does not reach credits already issued
    assert reg.draw_down(BUFFER, 5, "reversal") == 5
    frame = reg.journal_frame()
    cancelled = frame.loc[frame["kind"] == "cancel", "batch"].tolist()
    assert cancelled == [b]
    assert (reg.batches[b].label, reg.batches[b].vintage) == ("ccp", 2021)


def test_unlabelled_batches_need_no_project_type_nor_any_approval():
    r = Registry(accounts=["dev"])
    r.issue("p", 2020, 10, "dev")
    r.issue_many(["p", "q"], 2020, [5, 5], ["dev", "dev"], [0.0, 0.0])
    r.issue_many(["p"], 2020, [5], ["dev"], [0.0], [None])
    assert [b.label for b in r.batches] == [None] * 4


REFUSED_ISSUES = {
    "unknown label": (
        lambda r: r.issue("p", 2021, 10, "dev", label="gold", project_type="arr"),
        "unknown label 'gold': no project type is approved for it"),
    "unapproved type": (
        lambda r: r.issue("p", 2021, 10, "dev", label="ccp", project_type="redd_plus"),
        "label 'ccp' is not approved for project type 'redd_plus' (approved: arr, ifm)"),
    "missing type": (
        lambda r: r.issue("p", 2021, 10, "dev", label="ccp"),
        "a batch labelled 'ccp' must name its project type (project_type), got None"),
    "bulk, one unapproved type among approved ones": (
        lambda r: r.issue_many(["p", "q", "s"], 2021, [5, 5, 5], ["dev"] * 3, [0.1] * 3,
                               ["ccp", "ccp", "ccp"], ["arr", "redd_plus", "ifm"]),
        "entry 1: label 'ccp' is not approved for project type 'redd_plus'"),
    "bulk, the first of two bad entries named": (
        lambda r: r.issue_many(["p", "q", "s"], 2021, [5, 5, 5], ["dev"] * 3, [0.1] * 3,
                               [None, "gold", "ccp"], ["arr", "arr", "soil_carbon"]),
        "entry 1: unknown label 'gold'"),
    "bulk, labels without types": (
        lambda r: r.issue_many(["p", "q"], 2021, [5, 5], ["dev"] * 2, [0.0] * 2, [None, "ccp"]),
        "entry 1: a batch labelled 'ccp' must name its project type"),
    "bulk, too few types": (
        lambda r: r.issue_many(["p", "q"], 2021, [5, 5], ["dev"] * 2, [0.0] * 2, ["ccp"] * 2,
                               ["arr"]),
        "project_types has 1 entries, expected 2"),
    "bulk, types as one string": (
        lambda r: r.issue_many(["p"], 2021, [5], ["dev"], [0.0], ["ccp"], "arr"),
        "project_types must be one name per entry, got 'arr'"),
    "bulk, an unhashable type": (
        lambda r: r.issue_many(["p", "q"], 2021, [5, 5], ["dev"] * 2, [0.0] * 2, ["ccp"] * 2,
                               ["arr", ["ifm"]]),
        "entry 1: label 'ccp' is not approved for project type ['ifm']"),
}


@pytest.mark.parametrize("issue, message", REFUSED_ISSUES.values(), ids=REFUSED_ISSUES.keys())
def test_an_unapproved_label_is_refused_and_changes_nothing(reg, issue, message):
    before = snapshot(reg)
    with pytest.raises(RegistryError) as err:
        issue(reg)
    assert message in str(err.value)
    assert snapshot(reg) == before
    reg.check()
    after = reg.issue("next", 2021, 1, "dev")  # no serial was used up by the refused call
    assert reg.batches[after].serial_start == reg.batches[after - 1].serial_end
