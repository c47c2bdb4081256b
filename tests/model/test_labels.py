"""Integrity labels (rules.label): the credits of approved project types issued while approved
carry the label in the registry; a claims rule that requires it leaves unlabelled credits
without claimants; the labelled stocks are counted as the registry holds them."""

import numpy as np
import pytest

from tests.model.conftest import small
from vcm_sim.model import VCMModel
from vcm_sim.rules import PROJECT_TYPES
from vcm_sim.scenario import ScenarioError

APPROVAL_STEP = 12


def approved_later(**label) -> dict:
    """Settings approving ARR for the label at recorded month APPROVAL_STEP."""
    return {"rules": {"label": label},
            "events": [{"step": APPROVAL_STEP, "kind": "set", "path": "rules.label.approved_types",
                        "value": ["arr"]}]}


def issued_step(market, batch: int) -> int:
    """The step the registry journaled batch ``batch``'s issue at."""
    frame = market.registry.journal_frame()
    return int(frame.loc[(frame["batch"] == batch) & frame["kind"].isin(
        ["issue", "buffer_deposit"]), "step"].min())


def test_credits_of_an_approved_type_issued_after_approval_carry_the_label():
    """Before the approval no batch is labelled; from it, exactly the ARR batches are, and
    the labelled stocks are the registry's sums over them."""
    model = VCMModel(small(**approved_later()), rng=3)
    model.run()
    market = model.markets[0]
    approved_at = APPROVAL_STEP  # registry steps count recorded months from 0, as events do
    kinds = market.projects.kind[market.truth.view("project")]
    labels = [batch.label for batch in market.registry.batches]
    steps = [issued_step(market, b) for b in range(len(labels))]
    for kind, label, step in zip(kinds, labels, steps):
        expected = "ccp" if step >= approved_at and PROJECT_TYPES[kind] == "arr" else None
        assert label == expected
    labelled = np.array([label is not None for label in labels])
    assert labelled.any() and not labelled.all()
    results = model.results()
    quantity = np.array([batch.quantity for batch in market.registry.batches])
    retired = market.registry.per_batch("retired")
    assert results["labelled_issued"].iloc[-1] == quantity[labelled].sum()
    assert results["labelled_retired"].iloc[-1] == retired[labelled].sum() > 0
    assert (results["labelled_issued"].iloc[:APPROVAL_STEP] == 0).all()
    assert results["greenwashing_index_labelled"].iloc[:APPROVAL_STEP].isna().all()
    claimed, real = market.claims_by_label()
    last = results.iloc[-1]
    assert claimed.sum() == pytest.approx(market.retired_real()[0])
    assert (last["greenwashing_index_labelled"], last["greenwashing_index_unlabelled"]) == (
        pytest.approx(1 - real[0] / claimed[0]), pytest.approx(1 - real[1] / claimed[1]))
    blended = (claimed * (1 - real / claimed)).sum() / claimed.sum()
    assert blended == pytest.approx(last["greenwashing_index"])


def test_claims_that_require_the_label_retire_only_labelled_credits():
    """Once ARR is approved under a label claims require, every credit retired behind a
    claim is labelled ARR, and no other type is retired."""
    model = VCMModel(small(**approved_later(required_for_claims=True)), rng=3)
    model.run()
    market = model.markets[0]
    approved_at = APPROVAL_STEP  # registry steps count recorded months from 0, as events do
    frame = market.registry.journal_frame()
    retired = frame[(frame["kind"] == "retire") & (frame["step"] >= approved_at)]
    assert len(retired) > 0
    assert all(market.registry.batches[b].label == "ccp" for b in retired["batch"])
    results = model.results()
    others = [f"retired_{name}" for name in PROJECT_TYPES if name != "arr"]
    after = results.iloc[APPROVAL_STEP:]
    assert (after[others].diff().fillna(0) == 0).all().all()
    assert after["retired_arr"].iloc[-1] > after["retired_arr"].iloc[0]


def test_without_an_approved_type_nothing_is_labelled():
    results = VCMModel(small(), rng=3).run().results()
    assert (results[["labelled_issued", "labelled_retired"]] == 0).all().all()


@pytest.mark.parametrize("label, message", [
    ({"approved_types": ["mangrove"]}, "rules.label.approved_types.0"),
    ({"name": ""}, "rules.label.name"),
    ({"required_for_claims": "yes"}, "rules.label.required_for_claims"),
])
def test_a_bad_label_rule_names_the_field(label, message):
    with pytest.raises(ScenarioError, match=message):
        small(rules={"label": label})


def test_an_approval_event_with_an_unknown_type_fails_when_the_scenario_loads():
    bad = approved_later()
    bad["events"][0]["value"] = ["arr", "seagrass"]
    with pytest.raises(ScenarioError, match="seagrass"):
        small(**bad)


def test_the_registry_labels_a_type_approved_by_an_event_only_from_the_event_on():
    """ARR is approved from the start and REDD+ from APPROVAL_STEP: the registry's approvals
    follow the rules, ARR batches are labelled throughout and REDD+ ones only from then."""
    settings = approved_later(approved_types=["arr"])
    settings["events"][0]["value"] = ["arr", "redd_plus"]
    model = VCMModel(small(**settings), rng=3)
    market = model.markets[0]
    assert market.registry.label_approvals == {"ccp": frozenset({"arr"})}
    model.run()
    assert market.registry.label_approvals == {"ccp": frozenset({"arr", "redd_plus"})}
    kinds = market.projects.kind[market.truth.view("project")]
    redd_labels = set()
    for b, (kind, batch) in enumerate(zip(kinds, market.registry.batches)):
        after = issued_step(market, b) >= APPROVAL_STEP
        labelled = PROJECT_TYPES[kind] == "arr" or PROJECT_TYPES[kind] == "redd_plus" and after
        assert batch.label == ("ccp" if labelled else None)
        if PROJECT_TYPES[kind] == "redd_plus":
            redd_labels.add(batch.label)
    assert redd_labels == {None, "ccp"}


def test_a_renamed_label_takes_its_approvals_along_in_the_registry():
    model = VCMModel(small(rules={"label": {"approved_types": ["arr"]}}, steps=1), rng=3)
    model.set_rule("rules.label.name", "ccp-2")
    assert model.markets[0].registry.label_approvals == {"ccp-2": frozenset({"arr"})}
