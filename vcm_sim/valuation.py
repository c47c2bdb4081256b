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

A label stands for an assessment body's approval of the credit's type: buyers expect
``firms.labelled_real_tonnes`` behind a labelled credit no agency rates (as their prior for
a rated one), and a claims rule may require it (unlabelled credits then find no claimant).
A lenient body that approves weak types so misleads buyers.

Buyers also discount older vintages: a credit's worth falls by ``firms.vintage_discount_yr``
per year its segment's credits on offer are older, on average, than those of its type's
youngest segment on offer (:func:`vintage_factors`).

Developers see it coming: with quality books and agencies, a developer choosing how far to
inflate a new project's baseline weighs the extra credits against the lower rating they
earn, at the relative prices of the books they would trade in (:func:`method_prices`).

Each firm bids, for its type, in one segment, drawn in proportion to the credits on offer in
each times a power of its worth per dollar at the price expected there
(:func:`choose_segments`): buyers go where the credits are, and the more so the better value
they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from vcm_sim.agents.rater import GRADES
from vcm_sim.claims import exposure_probability
from vcm_sim.labels import approved
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
    :mod:`vcm_sim.segments`): their prior for an unrated credit, ``firms.labelled_real_tonnes``
    if it carries the label and ``firms.unrated_real_tonnes`` if not; for a rated one, its
    grade's middle weighted by the agencies' mean reputation, the rest that prior."""
    firms = market.config.firms
    segments = market.segments
    segment = np.arange(segments.n)
    grade = segments.grade(segment)
    rated = grade < UNRATED_SEGMENT
    prior = np.where(segments.labelled(segment), firms.labelled_real_tonnes,
                     firms.unrated_real_tonnes)
    tonnes = prior.copy()
    if len(market.rater_agents):
        trust = float(market.raters.reputation.mean())
        mid = grade_midpoints(market.config.rating_agencies.notch_width)
        tonnes[rated] = trust * mid[grade[rated]] + (1.0 - trust) * prior[rated]
    return tonnes


def method_prices(market: Jurisdiction, kind: np.ndarray, additionality: np.ndarray
                  ) -> np.ndarray | None:
    """What a credit of each new project (type ``kind``, ``additionality``) would fetch,
    relative to its type's price, under each of the developers' baseline methods (projects
    x methods): the relative price of the recent book of the grade its real tonnes per credit
    (additionality over one plus the inflation) would earn if rated (agencies taken to see
    the truth), weighted by the chance that at least one agency rates it, and of the
    unrated book otherwise; labelled as its type is now. None without quality books or
    agencies: every method's credits then fetch the type's price."""
    if not market.segments.on or not len(market.rater_agents):
        return None
    s = market.config
    x = np.asarray(s.developers.baseline_methods, dtype=float)
    tonnes = additionality[:, None] / (1.0 + x[None, :])
    grade = market.raters.grade(tonnes)
    labelled = approved(s.rules.label)[kind][:, None].astype(np.int64)
    relative = market.relative_price.reshape(-1, market.segments.n)[kind]
    rated = np.take_along_axis(relative, market.segments.code(grade, labelled), axis=1)
    unrated = np.take_along_axis(relative, market.segments.code(UNRATED_SEGMENT, labelled),
                                 axis=1)
    covered = 1.0 - (1.0 - s.rating_agencies.coverage) ** len(market.rater_agents)
    return covered * rated + (1.0 - covered) * unrated


def exposure_risk(market: Jurisdiction, tonnes: np.ndarray) -> np.ndarray:
    """Yearly chance that a claim of credits with ``tonnes`` real tonnes per credit is
    exposed, under the market's rules (its monthly chance compounded over a year)."""
    s = market.config
    monthly = exposure_probability(1.0 - tonnes, s.rules.disclosure,
                                   s.rules.integrity.claim_audit_rate, s.exposure,
                                   market.ratings_published)
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


def vintage_factors(market: Jurisdiction, offered: np.ndarray, age: np.ndarray) -> np.ndarray:
    """Per type and segment, the factor (at most 1) on a credit's worth for the age a buyer
    expects of the segment (``age``: the mean vintage age of its credits on offer,
    ``offered``): ``1 - firms.vintage_discount_yr`` to the power of its years beyond the
    youngest segment of the type on offer."""
    youngest = np.where(offered > 0, age, np.inf).min(axis=1, keepdims=True)
    beyond = np.where(np.isfinite(youngest), age - youngest, 0.0).clip(0.0, None)
    return (1.0 - market.config.firms.vintage_discount_yr) ** beyond


def choose_segments(market: Jurisdiction, demand: Demand, offered: np.ndarray,
                    age: np.ndarray, rng: np.random.Generator) -> None:
    """Each row of ``demand`` bids in one segment of its type, drawn from ``rng`` with
    probability in proportion to the credits on offer there (``offered``, types x segments:
    a buyer meets offers as they are) times its worth per dollar to the power
    ``firms.choice_intensity``: its :func:`segment_worth`, times the
    :func:`vintage_factors` of the mean vintage age on offer there (``age``, types x
    segments), over the price expected there (the type's forecast times the segment's
    :attr:`~vcm_sim.jurisdiction.Jurisdiction.relative_price`). With none of its type on
    offer, it bids in the segment of unrated, unlabelled, recent credits. Its limits are
    scaled by the segment's worth. Changes ``demand`` in place."""
    segments = market.segments
    if not segments.on or not len(demand.firm):
        return
    worth = segment_worth(market)[market.firms.quality_seeking[demand.firm].astype(np.int64)]
    worth = worth * vintage_factors(market, offered, age)[demand.kind]
    relative = market.relative_price.reshape(-1, segments.n)[demand.kind]
    value = worth / np.maximum(market.forecast_price[demand.kind][:, None] * relative, 1e-9)
    top = value.max(axis=1, keepdims=True)
    value = np.divide(value, top, out=np.zeros_like(value), where=top > 0)  # 1 at the best
    weight = offered[demand.kind] * value ** market.config.firms.choice_intensity
    total = weight.sum(axis=1)
    cdf = weight.cumsum(axis=1)
    draw = rng.random(len(total)) * total
    segment = np.minimum((cdf <= draw[:, None]).sum(axis=1), segments.n - 1)
    segment[total <= 0] = segments.plain
    factor = worth[np.arange(len(segment)), segment]
    demand.segment = segment
    demand.limit_usd = demand.limit_usd * factor
    demand.step_price = demand.step_price * factor[:, None]
