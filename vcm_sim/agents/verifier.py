"""Verifiers: the bodies that check a developer's claimed tonnes before issuance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vcm_sim.agents.base import Member
from vcm_sim.scenario import Verifiers as VerifierParams


def with_satellites(rigour: np.ndarray | float, satellite: float,
                    boost: float) -> np.ndarray | float:
    """Detection probability (0-1) of a check with own ``rigour`` when a share ``satellite``
    of checks is backed by satellite monitoring, which closes a share ``boost`` of the
    remaining gap."""
    return rigour + (1.0 - rigour) * satellite * boost


class Verifier(Member):
    """A verification body: rigour, fee, capacity, reputation and accreditation."""

    prefix = "verifier"

    @property
    def rigour(self) -> float:
        """Own probability (0-1) of detecting an inflated claim, before satellites."""
        return float(self.market.verifiers.rigour[self.index])

    @property
    def accredited(self) -> bool:
        """Whether the standard body still accepts its verifications."""
        return bool(self.market.verifiers.accredited[self.index])


@dataclass
class VerifierPool:
    """All verifiers as arrays."""

    rigour: np.ndarray
    fee_usd: np.ndarray
    capacity_yr: np.ndarray
    used_this_year: np.ndarray
    accredited: np.ndarray
    strikes: np.ndarray
    reputation: np.ndarray
    suspended_years: np.ndarray

    @classmethod
    def create(cls, rng: np.random.Generator, n: int, params: VerifierParams) -> VerifierPool:
        """``n`` verifiers with Beta-distributed rigour around ``params.rigour_mean``."""
        k = params.rigour_concentration
        mean = min(max(params.rigour_mean, 1e-3), 1 - 1e-3)
        return cls(rigour=rng.beta(mean * k, (1 - mean) * k, n),
                   fee_usd=params.fee_usd * rng.lognormal(0.0, params.fee_spread, n),
                   capacity_yr=np.full(n, params.capacity_yr),
                   used_this_year=np.zeros(n, dtype=np.int64),
                   accredited=np.ones(n, dtype=bool),
                   strikes=np.zeros(n, dtype=np.int64),
                   reputation=np.ones(n),
                   suspended_years=np.zeros(n, dtype=np.int64))

    def detection(self, ids: np.ndarray | slice, min_rigour: float, satellite: float,
                  boost: float) -> np.ndarray:
        """Probability (0-1) that verifiers ``ids`` detect an inflated claim.

        Effective rigour is the verifier's own, floored by the rules' minimum; satellite
        monitoring (share ``satellite`` of verifications) closes a share ``boost`` of the
        remaining gap.
        """
        return with_satellites(np.maximum(self.rigour[ids], min_rigour), satellite, boost)

    def expected_detection(self, assignment: str, min_rigour: float, satellite: float,
                           boost: float) -> float:
        """The detection probability a developer plans with: the laxest accredited
        verifier's when it picks its own, the average verifier's when the regulator assigns."""
        accredited = self.accredited.nonzero()[0]
        if not len(accredited):
            return 1.0
        detect = self.detection(accredited, min_rigour, satellite, boost)
        return float(detect.min() if assignment == "developer" else detect.mean())

    def assign(self, noise: np.ndarray, inflating: np.ndarray, assignment: str,
               detect: np.ndarray, params: VerifierParams) -> np.ndarray:
        """A verifier for each request (-1 when no accredited verifier has capacity left);
        ``noise`` holds a uniform draw per request (rows) and verifier (columns), ``detect``
        each verifier's detection probability (see :meth:`detection`).

        Developer-paid (``assignment == "developer"``): inflating developers hire the laxest
        verifier with capacity, honest ones the cheapest, each ranking with some noise
        (``lax_choice_noise``, ``cheap_choice_noise``). Regulator-assigned: uniform at random
        among those with capacity.
        """
        if assignment == "regulator":
            score = noise
        else:
            score = np.where(inflating[:, None], detect + params.lax_choice_noise * noise,
                             self.fee_usd / (self.fee_usd.sum() / len(self.fee_usd))
                             + params.cheap_choice_noise * noise)
        return self._first_choices(score)

    def _first_choices(self, score: np.ndarray) -> np.ndarray:
        """Requests in turn take the open verifier they score lowest (-1 once none is open).

        Vectorised: every remaining request picks among the verifiers open now; the picks
        stand up to the first request that would exceed its pick's capacity, and from there
        the rest pick again without the verifiers just filled. Same result as one request
        at a time.
        """
        chosen = np.empty(len(score), dtype=np.int64)
        k = 0
        while k < len(score):
            # Requests a verifier may still take: it is open while used < capacity.
            room = np.where(self.accredited,
                            np.ceil(self.capacity_yr - self.used_this_year), 0).astype(np.int64)
            is_open = room > 0
            if not is_open.any():
                chosen[k:] = -1
                break
            pick = np.where(is_open, score[k:], np.inf).argmin(axis=1)
            picked = np.bincount(pick, minlength=len(room))
            if (picked <= room).all():  # the common case: every pick stands
                chosen[k:] = pick
                self.used_this_year += picked
                break
            taken = np.cumsum(pick[:, None] == np.arange(len(room)), axis=0)
            within = taken[np.arange(len(pick)), pick] <= room[pick]
            stand = len(pick) if within.all() else int(np.argmin(within))
            chosen[k:k + stand] = pick[:stand]
            np.add.at(self.used_this_year, pick[:stand], 1)
            k += stand
        return chosen

    def reset_capacity(self) -> None:
        """Every verifier can take ``capacity_yr`` verifications again."""
        self.used_this_year[:] = 0

    def new_year(self, assignment: str, min_rigour: float, params: VerifierParams) -> None:
        """Reset capacity; under developer pay, verifiers that lost clients grow laxer by
        ``leniency_drift``.

        Suspended verifiers sit out ``suspension_years``, then return with their strikes
        cleared and their rigour raised by ``corrective_rigour`` (the corrective plan the
        standard body demands).
        """
        if assignment == "developer" and self.used_this_year.sum():
            losing = self.used_this_year < np.median(self.used_this_year)
            self.rigour = np.where(losing, np.maximum(self.rigour - params.leniency_drift,
                                                      min_rigour),
                                   self.rigour)
        self.reset_capacity()
        self.suspended_years[~self.accredited] += 1
        back = ~self.accredited & (self.suspended_years >= params.suspension_years)
        self.accredited[back] = True
        self.strikes[back] = 0
        self.suspended_years[back] = 0
        self.rigour[back] = np.minimum(self.rigour[back] + params.corrective_rigour, 1.0)

    def strike(self, ids: np.ndarray, params: VerifierParams) -> np.ndarray:
        """Record failed audits; returns the verifiers suspended by them (after
        ``strikes_to_suspend``)."""
        np.add.at(self.strikes, ids, 1)
        self.reputation[ids] *= params.strike_reputation_factor
        suspended = (self.accredited & (self.strikes >= params.strikes_to_suspend)).nonzero()[0]
        self.accredited[suspended] = False
        return suspended
