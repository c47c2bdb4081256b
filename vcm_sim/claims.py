"""Claims, their exposure as greenwashing, and the contagion of scandals to demand.

A firm's claim for the year is backed by the credits it retired; its integrity is the real
tonnes behind them over the credits (hidden truth). Watchdogs and the standard body can expose
a claim; the chance rises with watchdog activity and with what disclosure lets them see, and
with how far the claim falls short. An exposure hits the firm's reputation and lowers the
sentiment (a demand factor, 0-1) towards the credit type behind it; sentiment recovers slowly.
"""

from __future__ import annotations

import numpy as np

from vcm_sim.projects import STEPS_PER_YEAR
from vcm_sim.rules import DisclosureRules

RECOVERY_PER_STEP = 0.02
"""Share of the gap to full sentiment that closes each month."""
CONTAGION_PER_EXPOSURE = 0.05
"""Sentiment lost by a type each time a claim backed by it is exposed."""
REPUTATION_HIT = 0.5
"""Factor on an exposed firm's reputation."""


def visibility(rules: DisclosureRules) -> float:
    """How much of a claim outsiders can check (0-1), given the disclosure rules."""
    seen = 0.2
    seen += 0.2 if rules.public_registry else 0.0
    seen += 0.4 if rules.retired_credit_disclosure else 0.0
    seen += 0.2 if rules.ratings else 0.0
    return seen


def exposure_probability(shortfall: np.ndarray, rules: DisclosureRules,
                         audit_rate_yr: float) -> np.ndarray:
    """Monthly probability that each claim is exposed as greenwashing.

    ``shortfall`` is the share (0-1) of the claimed tonnes that are not real. Exposure needs
    someone looking (watchdogs scaled by visibility, plus the standard body's claim audits)
    and something to find; the VCMI claims code makes low-integrity claims easier to call out.
    """
    scrutiny_yr = rules.watchdog_intensity * visibility(rules) + audit_rate_yr
    if rules.claim_standard == "vcmi":
        scrutiny_yr *= 1.5
    return (scrutiny_yr / STEPS_PER_YEAR * shortfall).clip(0.0, 1.0)


class Sentiment:
    """Buyers' trust in each project type (0-1), a factor on their demand and price."""

    def __init__(self, n_types: int) -> None:
        self.level = np.ones(n_types)

    def shock(self, kind: int, severity: float) -> None:
        """A scandal around type ``kind`` removes ``severity`` (0-1) of its sentiment."""
        self.level[kind] *= 1.0 - severity

    def recover(self) -> None:
        """One month of recovery towards full trust."""
        self.level += (1.0 - self.level) * RECOVERY_PER_STEP

    @property
    def confidence(self) -> float:
        """Market-wide trust: the mean sentiment."""
        return float(self.level.mean())
