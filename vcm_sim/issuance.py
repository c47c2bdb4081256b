"""MRV and issuance: verification of accrued claims and the hidden truth of every batch.

Once a year, in its verification month, each active project submits the tonnes accrued since
its last verification, inflated by its developer's chosen baseline inflation. The verifier
detects inflation with its detection probability (a detected claim is cut to the verifiable
tonnes) and, with the same probability, reviews the baseline conservatively, removing part of
the non-additional tonnes. The registry then issues the accepted credits, the type's buffer
share to the pool.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

GROWTH = 1024


def _grow(array: np.ndarray, size: int) -> np.ndarray:
    if size <= len(array):
        return array
    bigger = np.zeros(max(size, 2 * len(array), GROWTH), dtype=array.dtype)
    bigger[:len(array)] = array
    return bigger


@dataclass
class BatchTruth:
    """What the model knows about each registry batch and agents do not.

    Row ``b`` describes registry batch ``b``: its project and credits issued; the real tonnes
    per credit at issuance; the credits issued because inflation went undetected
    (``over_credited``, and ``inflated`` while any remain unsanctioned); the verifier that
    accepted it; the share of its credits still backed after uncovered reversals
    (``survival``); and the credits retired behind claims so far (mirrored from the registry's
    journal as firms retire, so that the integrity metrics are one dot product per step).
    """

    size: int = 0
    project: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    real_per_credit: np.ndarray = field(default_factory=lambda: np.zeros(0))
    inflated: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    verifier: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    quantity: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    over_credited: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    survival: np.ndarray = field(default_factory=lambda: np.zeros(0))
    retired: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    COLUMNS = ("project", "real_per_credit", "inflated", "verifier", "quantity",
               "over_credited", "survival", "retired")

    def extend(self, batch_ids: range, project: np.ndarray, quantity: np.ndarray,
               real_per_credit: np.ndarray, over_credited: np.ndarray,
               verifier: np.ndarray) -> None:
        """Record registry batches ``batch_ids`` (the next ones, in registry order); the other
        arguments are aligned with them."""
        if batch_ids.start != self.size or len(batch_ids) != len(project):
            raise ValueError(f"batches {batch_ids} recorded out of order or misaligned "
                             f"(expected {len(project)} from {self.size})")
        n = self.size + len(project)
        for name in self.COLUMNS:
            setattr(self, name, _grow(getattr(self, name), n))
        new = slice(self.size, n)
        self.project[new] = project
        self.quantity[new] = quantity
        self.real_per_credit[new] = real_per_credit
        self.over_credited[new] = over_credited
        self.inflated[new] = over_credited > 0
        self.verifier[new] = verifier
        self.survival[new] = 1.0
        self.size = n

    def view(self, name: str) -> np.ndarray:
        """The recorded part of column ``name``."""
        return getattr(self, name)[:self.size]

    def real_now(self, batches: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Real tonnes per credit of ``batches`` (default every batch) today: at issuance,
        times the share of its credits whose carbon no uncovered reversal has destroyed."""
        return self.view("real_per_credit")[batches] * self.view("survival")[batches]

    def write_off(self, project: int, tonnes: float) -> None:
        """Spread ``tonnes`` of uncovered reversal over the credits of ``project`` issued so
        far (in proportion to what still backs them)."""
        batches = (self.view("project") == project).nonzero()[0]
        backed = float(self.quantity[batches] @ self.survival[batches])
        if backed > 0:
            self.survival[batches] *= max(0.0, 1.0 - tonnes / backed)


@dataclass
class Verification:
    """Outcome of this step's verifications, aligned with the requesting projects.

    Tonnes are tCO2e: ``claimed`` by the developer, ``real`` (verifiable x additionality, what
    the atmosphere sees), ``accepted`` as whole credits. ``detected`` marks claims whose
    inflation the verifier caught; ``over_credited`` counts the credits accepted only because
    inflation went undetected.
    """

    project: np.ndarray
    verifier: np.ndarray
    claimed: np.ndarray
    real: np.ndarray
    accepted: np.ndarray
    detected: np.ndarray
    over_credited: np.ndarray

    @property
    def real_per_credit(self) -> np.ndarray:
        """Real tonnes behind each accepted credit (hidden truth; 0 where none accepted).

        At most one: when rounding down to whole credits leaves a fraction of a real tonne
        uncredited, that fraction stands behind no credit.
        """
        per_credit = np.divide(self.real, self.accepted, out=np.zeros(len(self.real)),
                               where=self.accepted > 0)
        return np.minimum(per_credit, 1.0)

    @property
    def over_claimed(self) -> np.ndarray:
        """Claimed minus real tonnes: what an honest, omniscient verifier would cut."""
        return self.claimed - self.real

    @property
    def cut(self) -> np.ndarray:
        """Tonnes the verifier removed from the claim."""
        return np.maximum(self.claimed - self.accepted, 0.0)


def verify(draw: np.ndarray, project: np.ndarray, verifier: np.ndarray,
           verifiable: np.ndarray, inflation: np.ndarray, additionality: np.ndarray,
           detection: np.ndarray) -> Verification:
    """Verify claims of ``verifiable * (1 + inflation)`` tonnes.

    Two checks, each passed with the verifier's detection probability: an inflated claim is
    caught and cut to the verifiable tonnes; and the baseline is reviewed, which removes a
    share ``detection`` of the non-additional tonnes (a conservative baseline). ``draw``
    holds two uniforms per claim (one row each): whether inflation is caught, whether the
    baseline is reviewed. Accepted credits are whole, and never fewer than the real tonnes.
    """
    claimed = verifiable * (1.0 + inflation)
    real = verifiable * additionality
    detected = (inflation > 0) & (draw[:, 0] < detection)
    reviewed = draw[:, 1] < detection
    conservative = np.where(reviewed, 1.0 - (1.0 - additionality) * detection, 1.0)
    honest = np.floor(np.maximum(verifiable * conservative, real)).astype(np.int64)
    accepted = np.where(detected, verifiable, claimed) * conservative
    accepted = np.floor(np.maximum(accepted, real)).astype(np.int64)
    return Verification(project, verifier, claimed, real, accepted, detected,
                        accepted - honest)
