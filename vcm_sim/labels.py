"""Integrity labels: an assessment body approves project types (the ICVCM's Core Carbon
Principles approve methodology categories, ``rules.label``), the credits of approved types
issued while approved carry the label in the registry, and a claims rule may accept only
labelled credits.

A label is a batch attribute (:attr:`vcm_sim.registry.Batch.label`): a credit keeps it through
every transfer, retirement and move abroad. The registry holds the approvals too
(:func:`approve_in`) and refuses a label on a batch of an unapproved type. Credits issued
before their type's approval stay unlabelled (registries also tag credits issued before an
approval; the model does not). :class:`LabelBook` mirrors, per market, which of its batches
are labelled, so that labelled credits issued and retired are counted without walking the
registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from vcm_sim.issuance import grow_array
from vcm_sim.registry import Registry
from vcm_sim.rules import PROJECT_TYPES, LabelRules


def approved(rules: LabelRules) -> np.ndarray:
    """Per project type (in :data:`PROJECT_TYPES` order), whether the label is approved."""
    return np.isin(PROJECT_TYPES, rules.approved_types)


def batch_labels(rules: LabelRules, kind: np.ndarray) -> list[str | None] | None:
    """The label of each new batch of project types ``kind``: the rule's name for approved
    types, ``None`` for the others; ``None`` instead of the list when no type is approved."""
    if not rules.approved_types:
        return None
    return [rules.name if ok else None for ok in approved(rules)[kind].tolist()]


def approve_in(registry: Registry, rules: LabelRules, before: LabelRules | None = None
               ) -> None:
    """Give ``registry`` the label approvals of ``rules``, withdrawing those of the label's
    former name when ``before``, the rules they replace, named it otherwise."""
    if before is not None and before.name != rules.name:
        registry.approve_label(before.name, ())
    registry.approve_label(rules.name, rules.approved_types)


def label_filter(rules: LabelRules, registry: Registry,
                 also: Callable[[int], bool] | None = None) -> Callable[[int], bool] | None:
    """Predicate on batch ids of ``registry``: may the batch back a claim under ``rules``
    (carries the label, when claims require it) and pass ``also`` (another filter, or none)?
    ``None`` when every batch may."""
    if not rules.required_for_claims:
        return also
    batches, name = registry.batches, rules.name
    if also is None:
        return lambda b: batches[b].label == name
    return lambda b: batches[b].label == name and also(b)


@dataclass
class LabelBook:
    """A market's labelled credits: which of the batches it issued carry a label, and the
    labelled credits issued and retired in its registry behind claims so far (tCO2e,
    balances that include credits from before recording started, like ``issued`` and
    ``retired``; an ETS's surrenders are not claims)."""

    labelled: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    issued: int = 0
    retired: int = 0

    def record_issue(self, batches: range, labels: list[str | None] | None,
                     quantity: np.ndarray) -> None:
        """Note new batches ``batches`` (the market's next ones) with their ``labels`` (as
        :func:`batch_labels` gives them) and credits ``quantity``."""
        self.labelled = grow_array(self.labelled, batches.stop)
        if labels is None:
            return
        mask = np.array([label is not None for label in labels])
        self.labelled[batches.start:batches.stop] = mask
        self.issued += int(quantity[mask].sum())

    def record_retirements(self, batch: np.ndarray, credits: np.ndarray) -> None:
        """Note ``credits`` of registry batches ``batch`` retired behind claims (those this
        market did not issue count as unlabelled here)."""
        if self.issued:
            own = batch < len(self.labelled)
            self.retired += int(credits[own][self.labelled[batch[own]]].sum())
