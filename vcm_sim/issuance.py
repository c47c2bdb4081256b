"""MRV and issuance: verification of accrued claims and the hidden truth of every batch.

Once a year, in its verification month, each active project submits the tonnes accrued since
its last verification (unless the credits would not pay the fee: then it waits), inflated by
the baseline method its developer chose. The verifier may catch the inflation (a caught claim
is cut to the verifiable tonnes; aggressive methods are caught more often) and may review the
baseline conservatively against its own, error-prone estimate of the counterfactual. The
registry then issues the accepted credits, the type's buffer share to the pool.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special

GROWTH = 1024


def grow_array(array: np.ndarray, size: int) -> np.ndarray:
    """``array`` with room for ``size`` rows: itself if it has it, else a copy at least
    twice as long (new rows zero), so that appending batch by batch costs amortised
    constant time."""
    if size <= len(array):
        return array
    bigger = np.zeros((max(size, 2 * len(array), GROWTH), *array.shape[1:]), dtype=array.dtype)
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
    vintage: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """The registry's vintage of each batch (a year), mirrored for vectorised reads."""

    COLUMNS = ("project", "real_per_credit", "inflated", "verifier", "quantity",
               "over_credited", "survival", "retired", "vintage")

    def extend(self, batch_ids: range, project: np.ndarray, quantity: np.ndarray,
               real_per_credit: np.ndarray, over_credited: np.ndarray,
               verifier: np.ndarray, vintage: np.ndarray) -> None:
        """Record registry batches ``batch_ids`` (the next ones, in registry order); the other
        arguments are aligned with them."""
        if batch_ids.start != self.size or len(batch_ids) != len(project):
            raise ValueError(f"batches {batch_ids} recorded out of order or misaligned "
                             f"(expected {len(project)} from {self.size})")
        n = self.size + len(project)
        for name in self.COLUMNS:
            setattr(self, name, grow_array(getattr(self, name), n))
        new = slice(self.size, n)
        self.project[new] = project
        self.quantity[new] = quantity
        self.real_per_credit[new] = real_per_credit
        self.over_credited[new] = over_credited
        self.inflated[new] = over_credited > 0
        self.verifier[new] = verifier
        self.vintage[new] = vintage
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
           detection: np.ndarray, method_scrutiny: float,
           baseline_error_sd: float) -> Verification:
    """Verify claims of ``verifiable * (1 + inflation)`` tonnes.

    ``draw`` holds three uniforms per claim (one row each). Two checks:

    * inflation: an inflated claim is caught, and cut to the verifiable tonnes, with
      probability ``1 - (1 - d) ** (1 + method_scrutiny * inflation)`` (``d`` the verifier's
      ``detection``): an aggressive baseline method stands out more than a mild one;
    * the baseline: with probability ``d`` the verifier reviews the counterfactual, which it
      estimates with error (additionality plus a normal error of sd ``baseline_error_sd``,
      clipped to 0-1), and removes a share ``d`` of the tonnes it believes non-additional.

    The verifier never sees the truth: a low estimate cuts real tonnes too (a credit is then
    backed by more than a tonne, which :attr:`Verification.real_per_credit` caps at one), a
    high one lets non-additional tonnes through. Accepted credits are whole.
    """
    claimed = verifiable * (1.0 + inflation)
    real = verifiable * additionality
    caught = 1.0 - (1.0 - detection) ** (1.0 + method_scrutiny * inflation)
    detected = (inflation > 0) & (draw[:, 0] < caught)
    reviewed = draw[:, 1] < detection
    error = baseline_error_sd * special.ndtri(draw[:, 2])
    estimate = np.minimum(np.maximum(additionality + error, 0.0), 1.0)
    conservative = np.where(reviewed, 1.0 - (1.0 - estimate) * detection, 1.0)
    honest = np.floor(verifiable * conservative).astype(np.int64)
    accepted = np.floor(np.where(detected, verifiable, claimed) * conservative).astype(np.int64)
    return Verification(project, verifier, claimed, real, accepted, detected,
                        accepted - honest)
