"""Claims, their exposure as greenwashing, and the contagion of scandals to demand.

A firm's claim for the year is backed by the credits it retired; its integrity is the real
tonnes behind them over the credits (hidden truth). Watchdogs and the standard body can expose
a claim; the chance rises with watchdog activity and with what disclosure lets them see, and
with how far the claim falls short. An exposure hits the firm's reputation and lowers the
sentiment (a demand factor, 0-1) towards the credit type behind it and, in part, towards
nature-based credits as a whole; sentiment recovers slowly.
"""

from __future__ import annotations

import numpy as np

from vcm_sim.projects import STEPS_PER_YEAR
from vcm_sim.rules import DisclosureRules
from vcm_sim.scenario import Exposure


def visibility(rules: DisclosureRules, exposure: Exposure, rated: bool) -> float:
    """How much of a claim outsiders can check (0-1), given the disclosure rules and whether
    rating agencies publish (``rated``): a base share, plus what each adds."""
    seen = exposure.base_visibility
    seen += exposure.public_registry_visibility if rules.public_registry else 0.0
    seen += (exposure.retired_credit_disclosure_visibility if rules.retired_credit_disclosure
             else 0.0)
    seen += exposure.ratings_visibility if rated else 0.0
    return seen


def exposure_probability(shortfall: np.ndarray, rules: DisclosureRules,
                         audit_rate_yr: float, exposure: Exposure, rated: bool) -> np.ndarray:
    """Monthly probability that each claim is exposed as greenwashing (``rated``: whether
    rating agencies publish ratings of the projects behind claims).

    ``shortfall`` is the share (0-1) of the claimed tonnes that are not real. Exposure needs
    someone looking (watchdogs scaled by visibility, plus the standard body's claim audits)
    and something to find; the VCMI claims code makes low-integrity claims easier to call out
    (scrutiny times ``vcmi_scrutiny_factor``).
    """
    scrutiny_yr = rules.watchdog_intensity * visibility(rules, exposure, rated) + audit_rate_yr
    if rules.claim_standard == "vcmi":
        scrutiny_yr *= exposure.vcmi_scrutiny_factor
    return (scrutiny_yr / STEPS_PER_YEAR * shortfall).clip(0.0, 1.0)


class Sentiment:
    """Buyers' trust in credits (0-1): in each project type, and in nature-based credits as a
    whole (the sector); what a type's buyers act on is the product of the two."""

    def __init__(self, n_types: int) -> None:
        self.by_type = np.ones(n_types)
        self.sector = 1.0

    def shock(self, kind: int, severity: float, sector_share: float) -> None:
        """A scandal around type ``kind`` removes ``severity`` (0-1) of its trust, and
        ``severity * sector_share`` of trust in every type."""
        self.by_type[kind] *= 1.0 - severity
        self.sector *= 1.0 - severity * sector_share

    def shock_sector(self, severity: float) -> None:
        """A scandal about nature-based credits as a whole removes ``severity`` (0-1) of
        trust in every type."""
        self.sector *= 1.0 - severity

    def recover(self, rate: float) -> None:
        """One month of recovery towards full trust: a share ``rate`` of each gap closes."""
        self.by_type += (1.0 - self.by_type) * rate
        self.sector += (1.0 - self.sector) * rate

    @property
    def level(self) -> np.ndarray:
        """Trust in each type that buyers act on (0-1): own times the sector's."""
        return self.by_type * self.sector

    @property
    def confidence(self) -> float:
        """Market-wide trust: the mean of :attr:`level`."""
        level = self.level
        return float(level.sum() / len(level))  # the mean, without np.mean's overhead
