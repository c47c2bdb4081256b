"""Definitions of every reported quantity.

Per-step quantities are declared in :data:`REPORTERS` (name -> function of the market), run-level
ones are computed from the per-step table by :func:`summarise`. Integrity metrics use the
market's hidden truth (real tonnes per credit), never what agents believe.

Units: credits and tonnes in tCO2e, money in USD, prices in USD per tCO2e (a market with its
own currency reports in USD too: :meth:`~vcm_sim.jurisdiction.Jurisdiction.frame`). Only recorded
months (after the scenario's ``burn_in``) are reported. "Cumulative" means since recording
started: flows and ratios count from the first recorded month, while registry stocks
(``issued``, ``retired``, ...) are balances that include everything before it, the seeded
history of the market included (see :mod:`vcm_sim.start`).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd
from scipy import stats

from vcm_sim.agents.rater import A_OR_ABOVE, UNRATED
from vcm_sim.ets.reporters import ets_summary
from vcm_sim.projects import STEPS_PER_YEAR
from vcm_sim.rules import PROJECT_TYPES
from vcm_sim.segments import BANDS, UNRATED_SEGMENT

if TYPE_CHECKING:
    from vcm_sim.jurisdiction import Jurisdiction

USD_COLUMN = re.compile(r"(^|_)usd(_|$)")
"""Columns in USD (``price_usd``, ``developer_profit_usd``): a market whose currency is not
USD converts them from its own at the scenario's exchange rate."""
CRASH_THRESHOLD = 0.25
"""A crash is a month-on-month fall of the market price by this share or more."""
BOOM_FACTOR, BUST_FACTOR = 1.5, 0.5
"""A boom: the smoothed price rises to 1.5x or more; a bust: it falls to half or less."""
CYCLE_WINDOW, CYCLE_SMOOTHING = 24, 3
"""Booms and busts complete within 24 months, on the 3-month trailing mean price."""
MSER_BATCH = 5
"""Months per batch of the MSER-5 truncation rule (:func:`transient_months`)."""
ACF_LAGS = 12
"""Lags (months) of the autocorrelation of absolute returns in the summary: a year, enough to
see volatility clustering decay and any seasonal peak from annual buying."""


def step(market: Jurisdiction) -> int:
    """Zero-based index of the step (month)."""
    return market.month_index


def year(market: Jurisdiction) -> int:
    """Calendar year of the step."""
    return market.year


def price_usd(market: Jurisdiction) -> float:
    """Volume-weighted average price of all trades this step, USD/tCO2e; NaN when none."""
    volume = market.volume_by_type.sum()
    if not volume:
        return math.nan
    value = market.price_by_type * market.volume_by_type
    value[np.isnan(value)] = 0.0  # a type that did not trade: NaN price, no volume
    return float(value.sum() / volume)


def price_index_usd(market: Jurisdiction) -> float:
    """Chain-linked price index, USD/tCO2e (see :func:`chain_link`); NaN before any trade.

    Unlike the VWAP it does not jump when the month's mix of types changes, so volatility,
    drawdown and crashes are measured on it. With quality books it chains each type's
    average price over its books, not each book's (see
    :meth:`~vcm_sim.jurisdiction.Jurisdiction._update_prices`)."""
    return float(market.price_index)


def chain_link(index: float, before: np.ndarray, after: np.ndarray,
               weights: np.ndarray) -> float:
    """Next value of a chain-linked geometric price index.

    ``before`` and ``after`` are each book's latest price (USD/tCO2e, NaN if never traded)
    before and after this month's trades; ``weights`` each book's weight this month (see
    :meth:`~vcm_sim.jurisdiction.Jurisdiction.book_weights`). The index starts at the weighted
    geometric mean of the first prices and then moves by the weighted mean log change of the
    books priced in both months, so a book trading for the first time joins without making
    the index jump.
    """
    priced = np.isfinite(after) & (weights > 0)
    if math.isnan(index):
        if not priced.any():
            return math.nan
        w = weights[priced]
        return float(np.exp((w * np.log(after[priced])).sum() / w.sum()))
    both = priced & np.isfinite(before)
    if not both.any():
        return index
    w = weights[both]
    change = (w * (np.log(after[both]) - np.log(before[both]))).sum() / w.sum()
    return float(index * math.exp(change))


def _band_price(band: int) -> Callable[[Jurisdiction], float]:
    def reporter(market: Jurisdiction) -> float:
        return float(market.price_by_band[band])
    reporter.__doc__ = (f"Average price of credits rated {BAND_WORDS[band]} traded this step "
                        "(the agencies' consensus grade of their project), USD/tCO2e; NaN "
                        "when none traded or quality books are off.")
    return reporter


BAND_WORDS = ("A or above", "below A", "by no agency")


def price_labelled_usd(market: Jurisdiction) -> float:
    """Average price of labelled credits traded this step, USD/tCO2e; NaN when none traded
    or quality books are off."""
    return float(market.price_labelled)


MIN_PREMIUM_OBSERVATIONS = 6
"""Book-months with rated trades below which :func:`rating_premium` is missing."""


def rating_premium(market: Jurisdiction) -> float:
    """Price premium per rating notch, a fraction (0.25: a credit one notch better trades
    25% dearer): exp(b) - 1, b the slope of a volume-weighted least-squares regression of
    log trade prices on the grade (AAA = 7 ... D = 0) with fixed effects per month, project
    type, label and vintage band, over the trades in rated books in the last 12 months (a
    call auction fills a book-month at one price, so each book-month is one observation
    weighing its credits): the premium among credits of one type, label and vintage band
    traded in the same month. NaN without quality books, with fewer than
    :data:`MIN_PREMIUM_OBSERVATIONS` book-months, or when no such group traded at two
    grades."""
    return _rated_slope(market, lambda grade: (UNRATED_SEGMENT - 1 - grade).astype(float))


def band_premium(market: Jurisdiction) -> float:
    """Price premium of credits rated A or above over those rated below A, a fraction (0.8:
    80% dearer), as :func:`rating_premium` measures it with an A-or-above indicator in place
    of the grade: within a type, label, vintage band and month, so that the mix of project
    types in each band does not enter it. NaN as :func:`rating_premium`."""
    return _rated_slope(market, lambda grade: (grade <= A_OR_ABOVE).astype(float))


def _rated_slope(market: Jurisdiction, regressor: Callable[[np.ndarray], np.ndarray]) -> float:
    """exp(b) - 1 for b the within-group slope of log book-month prices on ``regressor`` of
    the grade (see :func:`rating_premium`), or NaN."""
    if not market.segments.on or not market.book_months:
        return math.nan
    segments = market.segments
    value = np.concatenate([v for v, _ in market.book_months])
    volume = np.concatenate([q for _, q in market.book_months]).astype(float)
    n_books = len(market.latest_price_by_book)
    book, month = np.arange(len(value)) % n_books, np.arange(len(value)) // n_books
    segment = book % segments.n
    grade = segments.grade(segment)
    keep = (volume > 0) & (grade < UNRATED_SEGMENT)
    if keep.sum() < MIN_PREMIUM_OBSERVATIONS:
        return math.nan
    w, x = volume[keep], regressor(grade[keep])
    log_price = np.log(value[keep] / volume[keep])
    group = np.unique(np.stack([month[keep], segments.kind(book[keep]),
                                segments.labelled(segment[keep]), segments.older(segment[keep])]),
                      axis=1, return_inverse=True)[1].ravel()
    x, y = _within(x, group, w), _within(log_price, group, w)
    spread = float((w * x * x).sum())
    if spread <= 1e-12:
        return math.nan
    return math.expm1(float((w * x * y).sum()) / spread)


def _within(values: np.ndarray, group: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``values`` less their ``weight``-weighted mean within each ``group``."""
    total = np.bincount(group, weights=weight)
    mean = np.bincount(group, weights=weight * values) / np.where(total > 0, total, 1.0)
    return values - mean[group]


def volume(market: Jurisdiction) -> int:
    """Credits traded this step."""
    return int(market.volume_by_type.sum())


def demand(market: Jurisdiction) -> int:
    """Credits firms bid for this step."""
    return int(market.last_demand)


STOCKS = ("issued", "retired", "cancelled", "buffer", "active")
"""The registry's stocks, reported per step under these names (see ``Registry.totals``)."""

RATING_BANDS = ("a_or_above", "below_a", "unrated")
"""Bands of the rating agencies' consensus, in the order of
:meth:`~vcm_sim.jurisdiction.Jurisdiction.claims_by_rating`."""


FLOWS = {"issuance": "issued", "retirements": "retired", "cancellations": "cancelled"}
"""Monthly registry flows, reported per step under these names, and the stock each moves."""


def _stock(name: str) -> Callable[[Jurisdiction], int]:
    def reporter(market: Jurisdiction) -> int:
        return market.registry.totals()[name]
    reporter.__doc__ = (f"Registry stock '{name}' at the end of the step, credits (a balance: "
                        "it includes credits from before recording started).")
    return reporter


def _flow(name: str, stock: str) -> Callable[[Jurisdiction], int]:
    def reporter(market: Jurisdiction) -> int:
        return market.registry.totals()[stock] - market.totals_before[stock]
    reporter.__doc__ = f"Credits {stock} this step (the month's {name}), credits."
    return reporter


def integrity_ratio(market: Jurisdiction) -> float:
    """Real tonnes per retired credit (0-1), cumulative; NaN before any retirement.

    Real tonnes are additional, net of leakage, not inflated, and not lost to reversals that
    the buffer pool failed to compensate.
    """
    retired, real = market.retired_real()
    return real / retired if retired else math.nan


def retired_vintage_age_yr(market: Jurisdiction) -> float:
    """Mean age (years) of the credits retired in the market's registry behind claims in
    the last 12 months, at their retirement: the retirement year minus the vintage (the year
    the tonnes were captured); NaN when none were."""
    months = market.claimed_months[-STEPS_PER_YEAR:]
    ages, credits = (sum(column) for column in zip(*months)) if months else (0, 0)
    return ages / credits if credits else math.nan


def high_integrity_share(market: Jurisdiction) -> float:
    """Type-adjusted share of the credits retired in the market's registry behind claims
    this step that carry the real tonnes of a credit rated A or above (hidden truth at
    retirement, at least 0.7 real tonnes per credit with the default notch): per project
    type, the share of its credits retired that do, averaged over the types retired with
    their fixed shares of credits (``TypeTable.credit_mix``), so that a shift between
    types does not move it. The market for lemons shows as it falling. NaN when none were
    retired."""
    if not market.claimed_quality:
        return math.nan
    return _type_adjusted_share(market, *market.claimed_quality[-1])


def issued_high_integrity_share(market: Jurisdiction) -> float:
    """Type-adjusted share of the credits issued this month that carry the real tonnes of a
    credit rated A or above (hidden truth at issuance), weighted as
    :func:`high_integrity_share` weighs types: the quality of new supply, beside the quality
    of claims. NaN when none were issued."""
    return _type_adjusted_share(market, *market.issued_quality)


def _type_adjusted_share(market: Jurisdiction, high: np.ndarray, credits: np.ndarray
                         ) -> float:
    """Per project type the share ``high / credits``, averaged over the types with credits
    with their fixed shares of credits (``TypeTable.credit_mix``); NaN with none."""
    some = credits > 0
    if not some.any():
        return math.nan
    weight = market.types.credit_mix[some]
    return float(np.dot(weight, high[some] / credits[some]) / weight.sum())


def price_dispersion(market: Jurisdiction) -> float:
    """Dispersion of this step's trade prices within project types: the volume-weighted
    standard deviation of log prices across the books of each type, pooled over types (0
    when each type clears in one book, as without quality books: buyers who see no quality
    cannot pay different prices for credits of one type); NaN when nothing traded."""
    if not market.segments.on or not market.book_months:
        return 0.0 if market.traded_month[1] else math.nan
    value, volume = market.book_months[-1]
    traded = volume > 0
    if not traded.any():
        return math.nan
    kind = market.segments.kind(np.arange(len(value)))[traded]
    log_price, w = np.log(value[traded] / volume[traded]), volume[traded].astype(float)
    deviation = _within(log_price, kind, w)
    return math.sqrt(float((w * deviation ** 2).sum() / w.sum()))


def greenwashing_gap_tco2(market: Jurisdiction) -> float:
    """Claimed minus real tonnes behind all claims so far, tCO2e (every firm retirement
    backs a claim)."""
    retired, real = market.retired_real()
    return retired - real


def greenwashing_index(market: Jurisdiction) -> float:
    """Greenwashing gap over claimed tonnes (0-1), cumulative; NaN before any claim."""
    return _gap_share(*market.retired_real())


def _gap_share(claimed: float, real: float) -> float:
    """Claimed minus real tonnes over claimed tonnes; NaN when nothing was claimed."""
    return float((claimed - real) / claimed) if claimed else math.nan


def _rating_band_index(band: int) -> Callable[[Jurisdiction], float]:
    name = RATING_BANDS[band]

    def reporter(market: Jurisdiction) -> float:
        if not len(market.rater_agents):
            return math.nan
        claimed, real = market.claims_by_rating()
        return _gap_share(claimed[band], real[band])
    reporter.__doc__ = (f"Greenwashing index (0-1, cumulative) of claims resting on credits of "
                        f"projects rated {name.replace('_', ' ')} by the rating agencies' "
                        "consensus when the credits were retired (credits this market issued); "
                        "NaN without agencies or such claims.")
    return reporter


def gap_flagged_share(market: Jurisdiction) -> float:
    """Share (0-1) of the greenwashing gap (claimed minus real tonnes behind claims so far) in
    credits of projects the rating agencies' consensus rates below A: how much of the
    over-claimed tonnage the ratings flagged; NaN without agencies or a gap."""
    if not len(market.rater_agents):
        return math.nan
    claimed, real = market.claims_by_rating()
    gap = claimed - real
    return float(gap[1] / gap.sum()) if gap.sum() > 0 else math.nan


def rated_share(market: Jurisdiction) -> float:
    """Share (0-1) of active projects at least one rating agency covers; NaN without
    agencies."""
    raters = market.raters
    if not len(market.rater_agents):
        return math.nan
    active = market.projects.active(market.month_index)[:raters.seen]
    return float(raters.covers.any(axis=0)[active].mean()) if active.any() else math.nan


def rating_disagreement(market: Jurisdiction) -> float:
    """Mean distance in notches between two agencies' ratings of a project both cover, over
    pairs of agencies and the active projects they share; NaN with fewer than two agencies
    or no shared project."""
    raters = market.raters
    if len(market.rater_agents) < 2:
        return math.nan
    active = market.projects.active(market.month_index)[:raters.seen]
    grades = raters.grades(market.projects)[:, active]
    gaps = [np.abs(grades[i] - grades[j])[(grades[i] != UNRATED) & (grades[j] != UNRATED)]
            for i in range(len(grades)) for j in range(i + 1, len(grades))]
    shared = np.concatenate(gaps)
    return float(shared.mean()) if len(shared) else math.nan


def detection_rate(market: Jurisdiction) -> float:
    """Share (0-1) of over-claimed tonnes (claimed minus real) that verifiers cut or audits
    found (found credits are cancelled as far as the developer still holds them),
    cumulative; both count claims verified since recording started (an audit that finds
    credits issued before it does not count); NaN while nothing was over-claimed."""
    over = market.tally.over_claimed_tco2
    return min(market.tally.detected_over_tco2 / over, 1.0) if over else math.nan


def real_mitigation_tco2(market: Jurisdiction) -> float:
    """Firms' abatement plus the real tonnes behind retired credits, tCO2e, cumulative."""
    return market.tally.abatement_tco2 + market.retired_real()[1]


def developer_profit_usd(market: Jurisdiction) -> float:
    """Developers' sales revenue less capex, opex, verification fees and fines, USD,
    cumulative on a cash basis: sales of credits issued before recording started count, the
    costs of producing them do not."""
    t = market.tally
    return t.developer_revenue_usd - t.developer_cost_usd - t.fines_usd


def firm_cost_usd(market: Jurisdiction) -> float:
    """Firms' spending on credits plus their abatement cost, USD, cumulative."""
    return market.tally.firm_credit_spend_usd + market.tally.firm_abatement_cost_usd


def buffer_shortfall_tco2(market: Jurisdiction) -> float:
    """Reversed credited tonnes the buffer pool could not cover, tCO2e, cumulative."""
    return market.tally.buffer_shortfall_tco2


def reversed_tco2(market: Jurisdiction) -> float:
    """Credited tonnes lost to reversals (fire, pests), tCO2e, cumulative; the carbon of
    abandoned projects is not counted here."""
    return market.tally.reversed_tco2


def abandoned_tco2(market: Jurisdiction) -> float:
    """Credited tonnes of abandoned projects, which count as reversed (the buffer pool covers
    them as far as it holds), tCO2e, cumulative."""
    return market.tally.abandoned_tco2


def exposures(market: Jurisdiction) -> int:
    """Claims exposed as greenwashing so far."""
    return market.tally.exposures


def scandals(market: Jurisdiction) -> int:
    """Scandal events fired so far (scheduled or triggered)."""
    return market.tally.scandals


def sentiment(market: Jurisdiction) -> float:
    """Buyers' mean trust in credits across types (0-1); scandals lower it."""
    return market.sentiment.confidence


def active_projects(market: Jurisdiction) -> int:
    """Projects inside their crediting period."""
    return int(np.count_nonzero(market.projects.active(market.month_index)))


def mean_inflation(market: Jurisdiction) -> float:
    """Mean baseline inflation (claimed/verifiable - 1) of active projects."""
    active = market.projects.active(market.month_index)
    inflation = market.projects.inflation[active]
    return float(inflation.sum() / len(inflation)) if len(inflation) else math.nan


def accredited_verifiers(market: Jurisdiction) -> int:
    """Verifiers still accredited."""
    return int(np.count_nonzero(market.verifiers.accredited))


def developers_active(market: Jurisdiction) -> int:
    """Developers in business (neither bankrupt nor closed down) at the end of the step."""
    return int(np.count_nonzero(market.developers.active))


def developer_entries(market: Jurisdiction) -> int:
    """Developers that entered the market since recording started, cumulative."""
    return market.tally.developer_entries


def developer_exits(market: Jurisdiction) -> int:
    """Developers that left the market since recording started, cumulative: bankrupt
    (cash below minus the credit line) or closed with nothing left to run or sell."""
    return market.tally.developer_exits


def projects_started(market: Jurisdiction) -> int:
    """Projects registered (new investment, an entrant's first project included) since
    recording started, cumulative."""
    return market.tally.projects_started


def bought_ahead(market: Jurisdiction) -> int:
    """Credits firms bought for their next claim year since recording started, cumulative
    (see ``firms.buy_ahead_response``)."""
    return market.tally.bought_ahead_tco2


def held_by_firms(market: Jurisdiction) -> int:
    """Credits firms hold at the month's end: bought ahead for a claim year not yet open
    (or stranded, when the claim rules no longer admit them)."""
    return int(market.registry.held(market.firm_ids).sum())


def projects_abandoned(market: Jurisdiction) -> int:
    """Projects abandoned (by their developer or for want of an heir to a bankrupt) since
    recording started, cumulative."""
    return market.tally.projects_abandoned


def pledged_firms(market: Jurisdiction) -> int:
    """Firms holding a carbon-neutral or net-zero pledge at the end of the step."""
    return int(np.count_nonzero(market.firms.pledge))


def claimed_target_tco2(market: Jurisdiction) -> float:
    """Tonnes per year pledged firms would claim if they planned now, at the prices they
    plan with, in their favourite type, tCO2e per year (see
    :meth:`~vcm_sim.agents.firm.FirmPopulation.plan`)."""
    firms = market.firms
    target, _ = firms.plan(market.config.firms, slice(None), firms.favourite_kind,
                           market.forecast_price, market.sentiment.level,
                           market.config.rules.market.offset_cap)
    return float(target.sum())


def inventory_months(market: Jurisdiction) -> float:
    """Credits developers hold unsold over their mean monthly sales in the last 12 months,
    months; NaN while nothing sold."""
    sales = market.sales_history[-STEPS_PER_YEAR:]
    mean = sum(sales) / len(sales) if sales else 0.0
    stock = market.registry.held(market.developer_ids).sum()
    return float(stock / mean) if mean > 0 else math.nan


def developer_profits_usd(market: Jurisdiction, charge_capital: bool = False) -> np.ndarray:
    """Each developer's profit since recording started (USD): its cash now less its cash
    when recording started, or less its starting equity for one that entered since; capex
    of projects registered since, running costs, fees and fines are paid in cash. With
    ``charge_capital``, also less the cost of the capital it runs that was built before
    recording (:func:`capital_charge_usd`), which no recorded cash flow shows. Credits still
    held count for nothing. One value per developer that operated while recording."""
    cash = market.cash.balance[market.developer_ids]
    start = market.developer_cash_before
    entered = len(cash) - len(start)
    opening = np.concatenate([start, np.full(entered, market.config.developers.initial_cash_usd)])
    operated = np.concatenate([market.developers_active_before,
                               np.ones(entered, dtype=bool)])
    charge = capital_charge_usd(market) if charge_capital else 0.0
    return (cash - opening - charge)[operated]


def capital_charge_usd(market: Jurisdiction) -> np.ndarray:
    """Per developer, the cost over the recorded months of the projects it holds that were
    registered before recording started (the seeded past and burn-in, whose capex no
    recorded cash flow shows): each project's up-front cost as an annuity over its crediting
    period at the discount rate, for the recorded months it ran (USD)."""
    projects, types = market.projects, market.types
    r = market.config.developers.discount_rate
    old = projects.registered_step < 0
    years = types.crediting_years[projects.kind]
    recovery = r / (1 - (1 + r) ** -years) if r > 0 else 1.0 / years
    capex = types.capex_per_ha[projects.kind] * projects.area_ha * projects.cost_factor
    ran = (np.minimum(projects.end_step, market.month_index + 1)
           - np.maximum(projects.start_step, 0)).clip(0, None)
    charge = np.where(old, capex * recovery * ran / STEPS_PER_YEAR, 0.0)
    return np.bincount(projects.developer, weights=charge,
                       minlength=len(market.developers))


def _type_price(k: int) -> Callable[[Jurisdiction], float]:
    def reporter(market: Jurisdiction) -> float:
        return float(market.price_by_type[k])
    reporter.__doc__ = (f"Average price of {PROJECT_TYPES[k]} credits this step, USD/tCO2e; "
                        "NaN when none traded.")
    return reporter


def _type_stock(k: int, name: str) -> Callable[[Jurisdiction], int]:
    tally = f"{name}_by_type"

    def reporter(market: Jurisdiction) -> int:
        return int(getattr(market, tally)[k])
    reporter.__doc__ = (f"Credits of {PROJECT_TYPES[k]} {name} so far, like '{name}' (a "
                        "balance: it includes credits from before recording started).")
    return reporter


def labelled_issued(market: Jurisdiction) -> int:
    """Credits issued carrying the integrity label so far (``rules.label``), like 'issued' a
    balance that includes credits from before recording started."""
    return market.labels.issued


def labelled_retired(market: Jurisdiction) -> int:
    """Labelled credits this market issued and buyers retired in its registry behind claims
    so far, like 'retired' (an ETS's surrenders are not claims; credits moved abroad count
    in neither market)."""
    return market.labels.retired


def _label_index(labelled: bool) -> Callable[[Jurisdiction], float]:
    column = 0 if labelled else 1

    def reporter(market: Jurisdiction) -> float:
        if not market.labels.issued:
            return math.nan
        claimed, real = market.claims_by_label()
        return _gap_share(claimed[column], real[column])
    reporter.__doc__ = (f"Greenwashing index (0-1, cumulative) of claims resting on "
                        f"{'labelled' if labelled else 'unlabelled'} credits this market "
                        "issued; NaN before any labelled credit is issued or without such claims.")
    return reporter


def _type_demand(k: int) -> Callable[[Jurisdiction], int]:
    def reporter(market: Jurisdiction) -> int:
        return int(market.demand_by_type[k])
    reporter.__doc__ = f"Credits of {PROJECT_TYPES[k]} firms bid for this step."
    return reporter


REPORTERS: dict[str, Callable[[Jurisdiction], float]] = {
    "step": step,
    "year": year,
    "price_usd": price_usd,
    "price_index_usd": price_index_usd,
    **{f"price_rating_{name}_usd": _band_price(k) for k, name in enumerate(BANDS)},
    "price_labelled_usd": price_labelled_usd,
    "rating_premium": rating_premium,
    "band_premium": band_premium,
    **{f"price_{name}_usd": _type_price(k) for k, name in enumerate(PROJECT_TYPES)},
    "volume": volume,
    "demand": demand,
    **{f"demand_{name}": _type_demand(k) for k, name in enumerate(PROJECT_TYPES)},
    **{name: _stock(name) for name in STOCKS},
    **{f"{name}_{kind}": _type_stock(k, name) for name in ("issued", "retired")
       for k, kind in enumerate(PROJECT_TYPES)},
    **{name: _flow(name, stock) for name, stock in FLOWS.items()},
    "labelled_issued": labelled_issued,
    "labelled_retired": labelled_retired,
    "greenwashing_index_labelled": _label_index(True),
    "greenwashing_index_unlabelled": _label_index(False),
    "integrity_ratio": integrity_ratio,
    "retired_vintage_age_yr": retired_vintage_age_yr,
    "high_integrity_share": high_integrity_share,
    "issued_high_integrity_share": issued_high_integrity_share,
    "price_dispersion": price_dispersion,
    "greenwashing_gap_tco2": greenwashing_gap_tco2,
    "greenwashing_index": greenwashing_index,
    "detection_rate": detection_rate,
    **{f"greenwashing_index_{name}": _rating_band_index(k)
       for k, name in enumerate(RATING_BANDS)},
    "gap_flagged_share": gap_flagged_share,
    "rated_share": rated_share,
    "rating_disagreement": rating_disagreement,
    "real_mitigation_tco2": real_mitigation_tco2,
    "developer_profit_usd": developer_profit_usd,
    "firm_cost_usd": firm_cost_usd,
    "buffer_shortfall_tco2": buffer_shortfall_tco2,
    "reversed_tco2": reversed_tco2,
    "abandoned_tco2": abandoned_tco2,
    "exposures": exposures,
    "scandals": scandals,
    "sentiment": sentiment,
    "active_projects": active_projects,
    "mean_inflation": mean_inflation,
    "accredited_verifiers": accredited_verifiers,
    "developers_active": developers_active,
    "developer_entries": developer_entries,
    "developer_exits": developer_exits,
    "projects_started": projects_started,
    "projects_abandoned": projects_abandoned,
    "bought_ahead": bought_ahead,
    "held_by_firms": held_by_firms,
    "pledged_firms": pledged_firms,
    "claimed_target_tco2": claimed_target_tco2,
    "inventory_months": inventory_months,
}
"""Per-step reporters, recorded after every step in this column order."""


def sold_abroad(market: Jurisdiction) -> int:
    """Credits this market's developers and arbitrageurs have sold to buyers in linked
    markets so far."""
    return market.tally.sold_abroad_tco2


def arbitraged_tco2(market: Jurisdiction) -> int:
    """Credits this market's arbitrageurs have sold to buyers in linked markets so far
    (bought at home; a part of :func:`sold_abroad`)."""
    return market.tally.arbitraged_tco2


def bought_abroad(market: Jurisdiction) -> int:
    """Credits this market's buyers have bought in linked markets (and retired there) so
    far."""
    return market.tally.bought_abroad_tco2


def bought_abroad_integrity(market: Jurisdiction) -> float:
    """Real tonnes per credit this market's buyers bought abroad (0-1, at retirement); NaN
    before any."""
    bought = market.tally.bought_abroad_tco2
    return market.tally.bought_abroad_real_tco2 / bought if bought else math.nan


def claims_integrity(market: Jurisdiction) -> float:
    """Real tonnes per credit behind this market's buyers' claims (0-1, at retirement,
    cumulative), wherever the credits were issued; NaN before any claim."""
    claimed = market.tally.claimed_tco2
    return market.tally.claimed_real_tco2 / claimed if claimed else math.nan


def transfer_cost_usd(market: Jurisdiction) -> float:
    """Transfer costs of the credits this market's buyers bought abroad so far, USD."""
    return market.tally.transfer_cost_usd


def adjusted_tco2(market: Jurisdiction) -> int:
    """Corresponding adjustments so far: authorised credits this market's registry
    transferred abroad, tCO2e its inventory no longer counts (Article 6)."""
    return market.tally.adjusted_tco2


def double_claimed_tco2(market: Jurisdiction) -> int:
    """Credits this market's buyers have bought abroad without a corresponding adjustment
    and retired behind offsetting claims so far: tCO2e counted both by the host's inventory
    and by the buyers (contribution claims excluded)."""
    return market.tally.double_claimed_tco2


def bought_adjusted_tco2(market: Jurisdiction) -> int:
    """Authorised, correspondingly adjusted credits this market's buyers have bought (and
    retired in this market's registry) so far."""
    return int(market.adjusted_by_type[1].sum())


def price_adjusted_usd(market: Jurisdiction) -> float:
    """This month's mean price of the adjusted credits this market's buyers bought, USD per
    credit; NaN without any."""
    value, volume = market.adjusted_month
    return value / volume if volume else math.nan


def price_unadjusted_usd(market: Jurisdiction) -> float:
    """This month's mean price of the other credits traded in this market (without a
    corresponding adjustment), USD per credit; NaN without any."""
    value, volume = market.traded_month
    adjusted_value, adjusted_volume = market.adjusted_month
    volume -= adjusted_volume
    return (value - adjusted_value) / volume if volume else math.nan


LINK_REPORTERS: dict[str, Callable[[Jurisdiction], float]] = {
    "sold_abroad": sold_abroad,
    "arbitraged_tco2": arbitraged_tco2,
    "bought_abroad": bought_abroad,
    "bought_abroad_integrity": bought_abroad_integrity,
    "claims_integrity": claims_integrity,
    "transfer_cost_usd": transfer_cost_usd,
    "adjusted_tco2": adjusted_tco2,
    "double_claimed_tco2": double_claimed_tco2,
    "bought_adjusted_tco2": bought_adjusted_tco2,
    "price_adjusted_usd": price_adjusted_usd,
    "price_unadjusted_usd": price_unadjusted_usd,
}
"""Per-step reporters of the markets of a scenario that declares them (``[[markets]]``),
linked or not, recorded after :data:`REPORTERS`."""


def log_returns(prices: pd.Series | np.ndarray) -> np.ndarray:
    """Month-on-month log returns between consecutive steps that both traded."""
    p = np.asarray(prices, dtype=float)
    r = np.diff(np.log(p))
    return r[np.isfinite(r)]


def annualised_volatility(prices: pd.Series | np.ndarray) -> float:
    """Standard deviation of monthly log returns times sqrt(12); NaN with < 2 returns."""
    r = log_returns(prices)
    return float(np.std(r, ddof=1) * math.sqrt(STEPS_PER_YEAR)) if len(r) > 1 else math.nan


def max_drawdown(prices: pd.Series | np.ndarray) -> float:
    """Largest fall from a running peak, as a share of the peak (0-1); NaN without prices."""
    p = pd.Series(np.asarray(prices, dtype=float)).ffill().dropna().to_numpy()
    if not len(p):
        return math.nan
    peak = np.maximum.accumulate(p)
    return float(np.max((peak - p) / peak))


def crash_count(prices: pd.Series | np.ndarray) -> int:
    """Months in which the price fell by ``CRASH_THRESHOLD`` or more from the month before."""
    return int((log_returns(prices) <= math.log(1.0 - CRASH_THRESHOLD)).sum())


def episodes(prices: pd.Series | np.ndarray, factor: float, window: int = CYCLE_WINDOW,
             smoothing: int = CYCLE_SMOOTHING) -> list[tuple[int, int]]:
    """Booms (``factor`` above 1) or busts (below 1) in a price path, on its ``smoothing``
    month trailing mean ``m``. From the first month ``s`` such that ``m`` reaches ``factor *
    m[s]`` within ``window`` months (first at ``e``), an episode starts at the lowest (boom)
    or highest (bust) ``m`` in ``s``-``e`` and ends when ``m`` first reaches ``factor`` times
    that; the next is sought from its end on. Returns (start, end) pairs in months from the
    path's first."""
    m = pd.Series(np.asarray(prices, dtype=float)).ffill().rolling(smoothing).mean().to_numpy()
    rising = factor > 1
    found, s = [], 0
    while s < len(m):
        e = _first_reach(m, s, factor, window)
        if e is None:
            s += 1
            continue
        start = s + int((np.argmin if rising else np.argmax)(m[s:e]))
        end = _first_reach(m, start, factor, window)
        found.append((start, end))
        s = end
    return found


def _first_reach(m: np.ndarray, s: int, factor: float, window: int) -> int | None:
    """First month within ``window`` after ``s`` where ``m`` reaches ``factor * m[s]``."""
    ahead = m[s + 1:s + 1 + window]
    hit = ahead >= factor * m[s] if factor > 1 else ahead <= factor * m[s]
    return s + 1 + int(np.argmax(hit)) if np.isfinite(m[s]) and hit.any() else None


def boom_count(prices: pd.Series | np.ndarray) -> int:
    """Booms: the 3-month mean price rising ``BOOM_FACTOR`` (1.5x) or more within 24 months
    (:func:`episodes`)."""
    return len(episodes(prices, BOOM_FACTOR))


def bust_count(prices: pd.Series | np.ndarray) -> int:
    """Busts: the 3-month mean price falling to ``BUST_FACTOR`` (half) or less within 24
    months (:func:`episodes`)."""
    return len(episodes(prices, BUST_FACTOR))


def autocorrelation(series: np.ndarray, lag: int) -> float:
    """Sample autocorrelation of ``series`` at ``lag`` (the standard estimator: lagged
    products of deviations from the full-sample mean over the full-sample sum of squares);
    NaN when the series has no variance or no pair ``lag`` apart."""
    x = np.asarray(series, dtype=float)
    if lag < 1 or len(x) <= lag:
        return math.nan
    d = x - x.mean()
    total = float(d @ d)
    return float(d[:-lag] @ d[lag:] / total) if total > 0 else math.nan


def transient_months(prices: pd.Series | np.ndarray, batch: int = MSER_BATCH) -> float:
    """Months of start-up transient in a price path by MSER-5 (White 1997; Franklin and
    White 2008): over batch means of ``batch`` months, the truncation point ``d`` (at most
    half the batches) that minimises the squared standard error of the mean of what is left,
    ``sum((y[d:] - mean(y[d:]))**2) / (n - d)**2``; returned in months (``batch * d``). 0 when
    nothing needs dropping; NaN with fewer than two batches of prices."""
    p = pd.Series(np.asarray(prices, dtype=float)).ffill().dropna().to_numpy()
    n = len(p) // batch
    if n < 2:
        return math.nan
    y = np.log(p[:n * batch]).reshape(n, batch).mean(axis=1)
    d = np.arange(n // 2 + 1)
    tail_sum = np.cumsum(y[::-1])[::-1][d]
    tail_sq = np.cumsum((y ** 2)[::-1])[::-1][d]
    left = n - d
    mser = (tail_sq - tail_sum ** 2 / left) / left ** 2
    return float(batch * d[int(np.argmin(mser))])


def stylized_facts(prices: pd.Series | np.ndarray) -> dict[str, float]:
    """Stylized facts of the monthly log returns of ``prices`` (the price index):

    ``returns_kurtosis``, the excess kurtosis (bias-corrected; 0 for normal returns, fat
    tails above; NaN with fewer than 4 returns); ``returns_acf_1``, the lag-1 autocorrelation
    of returns (near 0 in an efficient market, negative under mean reversion); and
    ``abs_returns_acf_1`` to ``abs_returns_acf_12``, the autocorrelation of absolute returns
    at lags of 1 to 12 months (slowly decaying positive values are volatility clustering).
    """
    r = log_returns(prices)
    kurtosis = float(stats.kurtosis(r, fisher=True, bias=False)) if len(r) > 3 else math.nan
    facts = {"returns_kurtosis": kurtosis, "returns_acf_1": autocorrelation(r, 1)}
    magnitude = np.abs(r)
    facts.update({f"abs_returns_acf_{lag}": autocorrelation(magnitude, lag)
                  for lag in range(1, ACF_LAGS + 1)})
    return facts


def summarise(results: pd.DataFrame) -> dict[str, float]:
    """Run-level metrics from the per-step table.

    Prices: mean and final VWAP (USD/tCO2e); annualised volatility, max drawdown, crash
    count, boom and bust counts (:func:`episodes`), the months of start-up transient left
    (MSER-5, :func:`transient_months`) and the stylized facts of :func:`stylized_facts` of
    the price index.
    Registry: credits issued, retired and cancelled over the recorded months (sums of the
    monthly flows) and the ratio of issued to retired; final buffer and active stocks
    (credits). Integrity: final integrity ratio, greenwashing gap (tCO2e) and index,
    detection rate. Outcomes: real mitigation (tCO2e), developer profit and firm cost (USD),
    buffer shortfall (tCO2e), the first step at which the buffer pool was empty after having
    held credits (NaN if never), exposures, total volume and demand (credits). Supply and
    demand: developers in business at the end, entries, exits and abandoned projects over
    the run, pledged firms at the end, the mean claimed target (tCO2e per year) and the
    median unsold stock in months of sales. Quality: :func:`quality_summary`. Linked markets: the final value of each of
    :data:`LINK_REPORTERS`. A market with an ETS: :func:`~vcm_sim.ets.reporters.ets_summary`.
    """
    if results.empty:
        raise ValueError("no steps recorded: run the model before summarising it")
    last = results.iloc[-1]
    price = results["price_usd"]
    index = results["price_index_usd"]
    held = results["buffer"] > 0
    emptied = results.index[(results["buffer"] == 0) & held.cummax()]
    issued, retired = int(results["issuance"].sum()), int(results["retirements"].sum())
    return {
        "steps": int(len(results)),
        "mean_price_usd": float(price.mean()),
        "final_price_usd": float(price.ffill().iloc[-1]) if price.notna().any() else math.nan,
        "price_volatility": annualised_volatility(index),
        "max_drawdown": max_drawdown(index),
        "crash_count": crash_count(index),
        "boom_count": boom_count(index),
        "bust_count": bust_count(index),
        "transient_months": transient_months(index),
        **stylized_facts(index),
        "volume_total": int(results["volume"].sum()),
        "demand_total": int(results["demand"].sum()),
        "issued_total": issued,
        "retired_total": retired,
        "cancelled_total": int(results["cancellations"].sum()),
        "buffer_final": int(last["buffer"]),
        "active_final": int(last["active"]),
        "issued_to_retired": issued / retired if retired else math.nan,
        "integrity_ratio": float(last["integrity_ratio"]),
        "greenwashing_gap_tco2": float(last["greenwashing_gap_tco2"]),
        "greenwashing_index": float(last["greenwashing_index"]),
        "detection_rate": float(last["detection_rate"]),
        "real_mitigation_tco2": float(last["real_mitigation_tco2"]),
        "developer_profit_usd": float(last["developer_profit_usd"]),
        "firm_cost_usd": float(last["firm_cost_usd"]),
        "buffer_shortfall_tco2": float(last["buffer_shortfall_tco2"]),
        "reversed_tco2": float(last["reversed_tco2"]),
        "abandoned_tco2": float(last["abandoned_tco2"]),
        "buffer_empty_step": float(results.loc[emptied[0], "step"]) if len(emptied) else math.nan,
        "exposures": int(last["exposures"]),
        "developers_active_final": int(last["developers_active"]),
        "developer_entries": int(last["developer_entries"]),
        "developer_exits": int(last["developer_exits"]),
        "projects_started": int(last["projects_started"]),
        "projects_abandoned": int(last["projects_abandoned"]),
        "pledged_firms_final": int(last["pledged_firms"]),
        "claimed_target_tco2": float(results["claimed_target_tco2"].mean()),
        "inventory_months": float(results["inventory_months"].median()),
        **quality_summary(results),
        **(link_summary(results) if "sold_abroad" in results else {}),
        **ets_summary(results),
    }


QUALITY_WINDOW_MONTHS = 60
"""Months at each end of a run that :func:`quality_summary` compares."""


def quality_summary(results: pd.DataFrame) -> dict[str, float]:
    """What the market makes of quality over a run: the median premium per rating notch, the
    median premium of A-or-above credits over those below A within type, label, vintage and
    month (:func:`band_premium`) and the median ratio of the month's price of credits rated
    A or above to that of those rated below A across types (all NaN without quality books),
    the mean price dispersion within types, the mean monthly type-adjusted share of
    high-integrity credits among those retired behind claims and its change from the first
    :data:`QUALITY_WINDOW_MONTHS` months to the last (the market for lemons makes it
    negative)."""
    share = results["high_integrity_share"]

    def mean_share(rows: slice) -> float:
        return float(share.iloc[rows].mean())

    window = min(QUALITY_WINDOW_MONTHS, len(results) // 2)
    bands = results["price_rating_a_or_above_usd"] / results["price_rating_below_a_usd"]
    return {
        "rating_premium": float(results["rating_premium"].median()),
        "rating_band_ratio": float(bands.median()),
        "band_premium": float(results["band_premium"].median()),
        "price_dispersion": float(results["price_dispersion"].mean()),
        "high_integrity_share": mean_share(slice(None)),
        "high_integrity_change": (mean_share(slice(len(results) - window, None))
                                  - mean_share(slice(0, window))) if window else math.nan,
    }


def link_summary(results: pd.DataFrame) -> dict[str, float]:
    """A market's :data:`LINK_REPORTERS` over a run: the cumulative ones at the end, the
    monthly prices as their mean over the run weighted by each month's volume (NaN without
    any trade)."""
    last = results.iloc[-1]
    out = {name: float(last[name]) for name in LINK_REPORTERS}
    value, volume, other_value, other = adjusted_trades(results)
    out["price_adjusted_usd"] = (float(value.sum() / volume.sum()) if volume.sum() > 0
                                 else math.nan)
    out["price_unadjusted_usd"] = (float(other_value.sum() / other.sum()) if other.sum() > 0
                                   else math.nan)
    return out


def adjusted_trades(results: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                     np.ndarray]:
    """Per month of one market's results: value (USD) and volume (credits) of the adjusted
    credits its buyers bought, and of its other trades."""
    bought = results["bought_adjusted_tco2"].to_numpy(dtype=float)
    volume = np.diff(bought, prepend=0.0)
    other = results["volume"].to_numpy(dtype=float) - volume
    value = np.nan_to_num(results["price_adjusted_usd"].to_numpy(dtype=float)) * volume
    other_value = np.nan_to_num(results["price_unadjusted_usd"].to_numpy(dtype=float)) * other
    return value, volume, other_value, other


def adjusted_premium(markets: list[Jurisdiction]) -> float:
    """The premium (a share: 0.5 for 50% more) of adjusted credits over the others of the
    same project type, over every market since recording started: per type, the mean price
    of the adjusted credits bought over that of the other credits traded (each weighted by
    volume), averaged over types by the adjusted credits' volume. Types with no other
    trades are left out; NaN when none is left."""
    usd = [np.array([[1.0 / m.config.per_usd], [1.0]]) for m in markets]  # value, volume
    adjusted = sum(m.adjusted_by_type * k for m, k in zip(markets, usd))
    other = sum(m.traded_by_type * k for m, k in zip(markets, usd)) - adjusted
    both = (adjusted[1] > 0) & (other[1] > 0)
    if not both.any():
        return math.nan
    ratio = (adjusted[0, both] / adjusted[1, both]) / (other[0, both] / other[1, both])
    return float(ratio @ adjusted[1, both] / adjusted[1, both].sum() - 1.0)


def price_gap(indices: list[pd.Series]) -> float:
    """Mean over months of the absolute log difference between the price indices of each
    pair of markets (0: the markets price alike); NaN for fewer than two markets or no month
    in which two of them had an index."""
    return _mean_gap(_log_gaps(indices))


def type_price_gap(frames: list[pd.DataFrame], types: list[str]) -> float:
    """Mean over months and project types of the absolute log difference between each pair
    of markets' prices of the same type (``price_<type>_usd`` in each market's results
    ``frames``), where both traded it (0: the markets price each type alike); unlike
    :func:`price_gap`, blind to the markets' mixes of types. NaN when no pair ever traded a
    type in the same month."""
    return _mean_gap(np.concatenate([_log_gaps([f[f"price_{kind}_usd"] for f in frames])
                                     for kind in types]))


def _log_gaps(prices: list[pd.Series]) -> np.ndarray:
    """Month by month, the absolute log difference of each pair of the ``prices`` (pairs
    one after another; NaN where either is missing)."""
    logs = np.log(np.array([np.asarray(p, dtype=float) for p in prices]))
    return np.array([np.abs(a - b) for k, a in enumerate(logs)
                     for b in logs[k + 1:]]).ravel()


def _mean_gap(gaps: np.ndarray) -> float:
    return float(np.nanmean(gaps)) if np.isfinite(gaps).any() else math.nan
