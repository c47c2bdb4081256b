"""What a credit in each market segment is worth to a buyer, and where each buyer bids.

With quality books on (:mod:`vcm_sim.segments`), a firm sees a credit's rating grade and label
and values it through what they mean to it, relative to an unrated credit of the same type
(whose worth is the firm's willingness to pay, as in a market without quality books):

* the real tonnes it expects behind the credit: for a rated credit, the middle of its grade's
  range of real tonnes per credit, as far as buyers trust the agencies (their mean
  reputation, :class:`~vcm_sim.agents.rater.RaterPanel`), else the unrated prior
  ``firms.unrated_real_tonnes``. Quality-seeking firms scale their worth by these tonnes
  against the prior's; the others value every credit of a type alike;
* the risk that a claim built on the credit is exposed: the yearly chance of exposure of a
  claim whose shortfall is the expected one (the market's exposure rules,
  :func:`vcm_sim.claims.exposure_probability`), times what an exposure costs the firm
  (``firms.exposure_cost``, in units of the credit's worth), taken off its worth.

A label carries no belief about tonnes of its own: it counts where a claims rule requires it
(unlabelled credits then find no claimant) and as a segment buyers can price.

Each firm bids, for its type, in the segment on offer with the most worth per dollar at the
segment's last price (a segment that never traded is taken to trade at its worth: no better
or worse than the type's price).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from vcm_sim.agents.rater import GRADES
from vcm_sim.claims import exposure_probability
from vcm_sim.projects import STEPS_PER_YEAR
from vcm_sim.segments import UNRATED_SEGMENT

if TYPE_CHECKING:
    from vcm_sim.agents.firm import Demand
    from vcm_sim.jurisdiction import Jurisdiction


def grade_midpoints(notch_width: float) -> np.ndarray:
    """Real tonnes per credit in the middle of each grade's range (AAA first): AAA spans 1 -
    width to 1, each notch one width lower, D from 0 to 1 - 7 widths."""
    top = 1.0 - notch_width * np.arange(len(GRADES) - 1)
    mid = np.append(top - notch_width / 2, (1.0 - (len(GRADES) - 1) * notch_width) / 2)
    return mid.clip(0.0, 1.0)


def expected_tonnes(market: Jurisdiction) -> np.ndarray:
    """Real tonnes per credit buyers expect behind a credit of each segment (see
    :mod:`vcm_sim.segments`): a rated grade's middle weighted by the agencies' mean
    reputation, the rest the unrated prior; the prior for unrated credits."""
    prior = market.config.firms.unrated_real_tonnes
    segments = market.segments
    grade = segments.grade(np.arange(segments.n))
    rated = grade < UNRATED_SEGMENT
    tonnes = np.full(segments.n, prior)
    if len(market.rater_agents):
        trust = float(market.raters.reputation.mean())
        mid = grade_midpoints(market.config.rating_agencies.notch_width)
        tonnes[rated] = trust * mid[grade[rated]] + (1.0 - trust) * prior
    return tonnes


def exposure_risk(market: Jurisdiction, tonnes: np.ndarray) -> np.ndarray:
    """Yearly chance that a claim of credits with ``tonnes`` real tonnes per credit is
    exposed, under the market's rules (its monthly chance compounded over a year)."""
    s = market.config
    monthly = exposure_probability(1.0 - tonnes, s.rules.disclosure,
                                   s.rules.integrity.claim_audit_rate, s.exposure,
                                   len(market.rater_agents) > 0)
    return 1.0 - (1.0 - monthly) ** STEPS_PER_YEAR


def segment_worth(market: Jurisdiction) -> np.ndarray:
    """Worth of a credit of each segment relative to an unrated one (x, 2 x segments): row
    0 for firms that value every credit of a type alike, row 1 for quality-seeking firms."""
    firms = market.config.firms
    tonnes = expected_tonnes(market)
    prior = np.array([firms.unrated_real_tonnes])
    kept = 1.0 - firms.exposure_cost * exposure_risk(market, np.append(tonnes, prior))
    kept = kept.clip(0.0, None)
    risk = kept[:-1] / max(kept[-1], 1e-9)
    return np.vstack([risk, risk * tonnes / firms.unrated_real_tonnes])


def choose_segments(market: Jurisdiction, demand: Demand, offered: np.ndarray) -> None:
    """Each row of ``demand`` bids in the segment of its type with the most worth per
    dollar among those on offer (``offered``, credits per type x segment; the plain segment
    of unrated, unlabelled credits when none is), its limits scaled by the segment's worth
    (:func:`segment_worth`). Changes ``demand`` in place."""
    segments = market.segments
    if not segments.on or not len(demand.firm):
        return
    worth = segment_worth(market)[market.firms.quality_seeking[demand.firm].astype(np.int64)]
    last = market.latest_price_by_book.reshape(-1, segments.n)[demand.kind]
    price = np.where(np.isnan(last), market.forecast_price[demand.kind][:, None] * worth, last)
    value = np.where(offered[demand.kind] > 0, worth / np.maximum(price, 1e-9), -np.inf)
    segment = value.argmax(axis=1)
    segment[~np.isfinite(value.max(axis=1))] = segments.plain
    factor = worth[np.arange(len(segment)), segment]
    demand.segment = segment
    demand.limit_usd = demand.limit_usd * factor
    demand.step_price = demand.step_price * factor[:, None]
