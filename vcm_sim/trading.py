"""The market phase of a step: orders from the populations, clearing per book, settlement.

Books are keyed by project type and, with quality books on, by segment (rating grade, label
and vintage band: :mod:`vcm_sim.segments`). Sellers (developers, and traders selling) post
one ask per book for a share of their inventory in it; buyers (firms reporting this month,
traders buying) post one bid, firms in a segment drawn by the credits on offer and their
worth per dollar (:mod:`vcm_sim.valuation`), traders in the segment of their type with the
most credits on offer. Each book is cleared by the mechanism the market rules name. A seller delivers its
earliest-issued batches first; a firm retires what it bought at once, behind its claim for
the year. In a market with an ETS, covered firms bid too, for credits they keep until their
deadline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from vcm_sim import article6
from vcm_sim.agents.firm import Demand
from vcm_sim.agents.trader import ARBITRAGEUR
from vcm_sim.labels import label_filter
from vcm_sim.market import MECHANISMS, clear_by_tier_flat
from vcm_sim.projects import STEPS_PER_YEAR

if TYPE_CHECKING:
    from vcm_sim.jurisdiction import Jurisdiction
    from vcm_sim.linking import Offers
    from vcm_sim.registry import Registry


@dataclass
class Orders:
    """One side of the market: aligned columns, prices per tCO2e in the market's currency (USD
    unless it has its own), quantities in credits."""

    account_id: np.ndarray
    """Position of each account in the registry and the cash book (the same: the cash book
    opens its accounts in the registry's order)."""
    price: np.ndarray
    quantity: np.ndarray
    book: np.ndarray

    @classmethod
    def of(cls, account_id, price, quantity, book) -> Orders:
        """Orders from sequences, with the dtypes the mechanisms expect."""
        return cls(np.asarray(account_id, dtype=np.int64),
                   np.asarray(price, dtype=float), np.asarray(quantity, dtype=np.int64),
                   np.asarray(book, dtype=np.int64))

    def __add__(self, other: Orders) -> Orders:
        """Both sides' orders, ``self``'s first; when one side is empty, a new
        :class:`Orders` on the other's arrays (not copies)."""
        if not len(other) or not len(self):
            kept = other if not len(self) else self
            return Orders(kept.account_id, kept.price, kept.quantity, kept.book)
        return Orders(np.concatenate([self.account_id, other.account_id]),
                      np.concatenate([self.price, other.price]),
                      np.concatenate([self.quantity, other.quantity]),
                      np.concatenate([self.book, other.book]))

    def __len__(self) -> int:
        return len(self.account_id)


def vintage_filter(market: Jurisdiction, registry: Registry | None = None
                   ) -> Callable[[int], bool] | None:
    """Predicate on batch ids of ``registry`` (default the market's): may the batch back a
    claim in ``market`` this year (its vintage cut-off)?"""
    cutoff = market.config.rules.integrity.max_vintage_age_years
    if cutoff is None:
        return None
    registry = market.registry if registry is None else registry
    oldest, batches = market.year - cutoff, registry.batches
    return lambda b: batches[b].vintage >= oldest


def claim_filter(market: Jurisdiction, registry: Registry | None = None
                 ) -> Callable[[int], bool] | None:
    """Predicate on batch ids of ``registry`` (default the market's): may the batch back a
    claim in ``market`` this year (within its vintage cut-off and, when its claims require
    the integrity label, labelled: :func:`vcm_sim.labels.label_filter`)? ``None`` when every
    batch may."""
    registry = market.registry if registry is None else registry
    return label_filter(market.config.rules.label, registry, vintage_filter(market, registry))


@dataclass(frozen=True)
class Stock:
    """Credits each developer and each trader could sell to a claimant this month (within
    the vintage cut-off), read once before the market opens: nothing moves credits between
    the firms' choice of type and the clearing. In linked markets, an arbitrageur that
    offers its credits abroad this month offers none at home."""

    developers: np.ndarray
    traders: np.ndarray
    authorised: np.ndarray | None = None
    """Per developer, the credits its host authorised for international use that it
    offers at home this month (without an adjustment; see :mod:`vcm_sim.article6`); None
    when the host has authorised none, and then ``developers`` counts all it holds."""
    segment: np.ndarray | None = None
    """With quality books, the segment of each batch of the registry this month
    (:meth:`vcm_sim.segments.Segments.of_batches`); None without."""
    developer_books: np.ndarray | None = None
    """With quality books, ``developers`` per segment (developers x segments)."""
    trader_books: np.ndarray | None = None
    """With quality books, ``traders`` per segment (traders x segments)."""
    offered_books: np.ndarray | None = None
    """With quality books, the credits developers and traders hold that could back a claim
    this year, per type and segment (types x segments)."""
    age_books: np.ndarray | None = None
    """With quality books, the mean vintage age (years) of ``offered_books`` (0 where there
    are none)."""

    @classmethod
    def of(cls, market: Jurisdiction) -> Stock:
        """The sellers' eligible inventories now (in linked markets, the developers' share
        for home: see :meth:`~vcm_sim.linking.Link.home_share` and, for credits their host
        authorised, :meth:`~vcm_sim.linking.Link.authorised_home`)."""
        eligible = claim_filter(market)
        if market.segments.on:
            return cls.by_segment(market, eligible)
        traders = market.registry.held(market.trader_ids, eligible)
        plan = None if market.link is None else market.link.arbitrage_plan(market)
        if plan is not None:
            traders = traders * plan.home
        held = market.registry.held
        if not market.projects.authorised.any():
            developers = held(market.developer_ids, eligible)
            if market.link is not None:
                developers = developers * market.link.home_share(market)
            return cls(developers, traders)
        link = market.link  # authorising needs a link
        return cls(held(market.developer_ids, article6.batch_filter(market, False, eligible))
                   * link.home_share(market), traders,
                   link.authorised_home(market))

    @classmethod
    def by_segment(cls, market: Jurisdiction, eligible: Callable[[int], bool] | None
                   ) -> Stock:
        """The sellers' inventories per segment of a market with quality books (never a
        linked market: the scenario refuses quality books across a link)."""
        segments = market.segments
        segment = segments.of_batches(market)
        age = np.zeros(len(segment))
        age[:market.truth.size] = market.year - market.truth.view("vintage")
        held = market.registry.held_and_weighed_by
        developers, developer_ages = held(market.developer_ids, segment, segments.n, age,
                                          eligible)
        traders, trader_ages = held(market.trader_ids, segment, segments.n, age, eligible)
        shape = (len(market.types.names), segments.n)
        offered, ages = np.zeros(shape), np.zeros(shape)
        for kind, credits, years in ((market.developers.specialty, developers, developer_ages),
                                     (market.traders.kind, traders, trader_ages)):
            np.add.at(offered, kind, credits)
            np.add.at(ages, kind, years)
        return cls(developers.sum(axis=1), traders.sum(axis=1), segment=segment,
                   developer_books=developers, trader_books=traders, offered_books=offered,
                   age_books=np.divide(ages, offered, out=np.zeros(shape), where=offered > 0))


def on_offer(market: Jurisdiction, stock: Stock, abroad: Orders | None = None) -> np.ndarray:
    """Per type, whether any developer or trader holds credits of it that could back a claim
    this year, or a seller ``abroad`` offers them here."""
    return offered(market, stock, abroad) > 0


def offered(market: Jurisdiction, stock: Stock, abroad: Orders | None = None) -> np.ndarray:
    """Per type, the credits developers and traders hold that could back a claim this year,
    and those sellers ``abroad`` offer here."""
    n = len(market.types.names)
    held = np.bincount(market.developers.specialty, weights=stock.developers,
                       minlength=n).astype(float)
    if len(market.trader_accounts):
        held += np.bincount(market.traders.kind, weights=stock.traders, minlength=n)
    if stock.authorised is not None:
        held += np.bincount(market.developers.specialty, weights=stock.authorised, minlength=n)
    if abroad is not None:
        held += np.bincount(market.segments.kind(abroad.book), weights=abroad.quantity,
                            minlength=n)
    return held


def stock_years(inventory: np.ndarray, kind: np.ndarray, typical_volume: np.ndarray
                ) -> np.ndarray:
    """Per type: years the market takes to absorb the credits developers hold
    (``inventory``, per developer of type ``kind``) at the type's typical monthly volume
    (infinite for a stock of a type that sells less than a credit a year)."""
    stock = np.bincount(kind, weights=inventory, minlength=len(typical_volume)).tolist()
    yearly = (typical_volume * STEPS_PER_YEAR).tolist()  # a handful of types: plain floats
    return np.array([held / sold if sold >= 1.0 else (math.inf if held > 0 else 0.0)
                     for held, sold in zip(stock, yearly)])


def developer_asks(market: Jurisdiction, inventory: np.ndarray,
                   forecast: np.ndarray | None = None, rng: np.random.Generator | None = None,
                   years: np.ndarray | None = None) -> tuple[Orders, np.ndarray]:
    """Each developer in business offers ``sell_share`` of its eligible ``inventory``
    (credits, per developer, or per developer and segment with quality books) at its ask
    (:meth:`~vcm_sim.agents.developer.DeveloperPopulation.asks`); a bankrupt's liquidator
    offers all of it at the full fire-sale discount. Also the developer behind each ask.

    Asks plan with ``forecast`` (per type, USD; default the market's forecast price) and
    the years the market takes to absorb developers' stock (``years``, per type; default
    :func:`stock_years` of ``inventory`` at the market's typical volume) and draw their noise
    from ``rng`` (default this month's ``developers`` stream): a link sets them for the
    linked markets together. With quality books, a developer posts one ask per segment it
    holds credits in, its ask scaled by the price expected there relative to its type
    (:func:`segment_markups`)."""
    s = market.config
    params = s.developers
    devs = market.developers
    forecast = market.forecast_price if forecast is None else forecast
    rng = market.draws("developers") if rng is None else rng
    split = inventory.ndim == 2
    total = inventory.sum(axis=1) if split else inventory
    if years is None:
        years = stock_years(total, devs.specialty, market.typical_volume)
    cash = market.cash.balance[market.developer_ids]
    line = max(params.credit_line_usd, 1e-9)
    distress = np.where(devs.active, (cash / -line).clip(0.0, 1.0), 1.0)
    share = np.where(devs.active, params.sell_share, 1.0)
    offered = np.floor(inventory * (share[:, None] if split else share))
    if split:
        seller, segment = (offered > 0).nonzero()
    else:
        seller, segment = (offered > 0).nonzero()[0], market.segments.plain
    noise = rng.lognormal(0.0, params.ask_noise_sd, len(seller))
    cost = market.new_supply_cost()
    floor = max(s.rules.market.price_floor_usd, s.traders.min_price_usd)  # at least a tick
    price = devs.asks(seller, forecast, cost, years, distress, floor, noise, params)
    kind = devs.specialty[seller]
    if split:
        price = np.maximum(price * segment_markups(market)[kind, segment], floor)
        quantity = offered[seller, segment]
    else:
        quantity = offered[seller]
    return Orders.of(market.developer_ids[seller], price, quantity,
                     market.segments.book(kind, segment)), seller


def segment_markups(market: Jurisdiction) -> np.ndarray:
    """Per type and segment, the price expected in the segment relative to its type's
    (:attr:`~vcm_sim.jurisdiction.Jurisdiction.relative_price`): how sellers scale a type's
    ask for credits of a segment."""
    return market.relative_price.reshape(-1, market.segments.n)


def last_prices(market: Jurisdiction) -> np.ndarray:
    """Per type, the last price (USD per tCO2e), or the expected price where the type has
    never traded."""
    return np.where(np.isnan(market.latest_price_by_type), market.expected_price,
                    market.latest_price_by_type)


def standard_prices(market: Jurisdiction) -> np.ndarray:
    """Per type, the last price in the book of unrated, unlabelled credits (USD per tCO2e),
    where traders bid, or, where that never traded, the type's last price or expected
    price."""
    segments = market.segments
    standard = market.latest_price_by_book.reshape(-1, segments.n)[:, segments.plain]
    return np.where(np.isnan(standard), last_prices(market), standard)


def trader_orders(market: Jurisdiction, inventory: np.ndarray, abroad: Orders | None = None,
                  books: np.ndarray | None = None, deepest: np.ndarray | None = None
                  ) -> tuple[Orders, Orders]:
    """Traders' bids and asks from their price expectations, cash and eligible ``inventory``
    (credits, per trader; with quality books also per segment, ``books``, their asks split
    over the segments by :func:`segment_asks` and their bids in the segment of their type
    with the most credits on offer, ``deepest`` per type, scaled by its relative price):
    the trend over ``trend_memory_months`` and the average over
    ``fundamental_memory_months``; in linked markets, arbitrageurs' from the best price
    abroad (:func:`arbitrage_orders`), and every trader's bids below the asks from
    ``abroad`` (:func:`below_imports`)."""
    none = Orders.of([], [], [], [])
    if not len(market.trader_accounts):
        return none, none
    params = market.config.traders
    memory = params.trend_memory_months
    history = (np.array(market.price_history[-params.fundamental_memory_months:])
               if market.price_history else None)
    last = last_prices(market)
    trend = np.zeros_like(last)
    fundamental = last
    if history is not None and len(history) > memory:
        trend = np.nan_to_num((history[-1] - history[-1 - memory]) / memory)
        traded = np.isfinite(history)
        months = traded.sum(axis=0)
        average = np.divide(np.where(traded, history, 0.0).sum(axis=0), months,
                            out=last.copy(), where=months > 0)
        fundamental = average
    traders = market.traders
    expected = traders.expectations(last, trend, fundamental, params)
    per_trader = market.typical_volume / len(market.trader_accounts)
    quantity, limit = traders.orders(expected, last, inventory, per_trader, params)
    if market.link is not None:
        quantity, limit = arbitrage_orders(market, quantity, limit, inventory)
    segments = market.segments
    segment = segments.plain if deepest is None else deepest[traders.kind]
    book = segments.book(traders.kind, segment)
    bid = limit if deepest is None else limit * market.relative_price[book]
    cash = market.cash.balance[market.trader_ids]
    affordable = np.floor(np.maximum(cash, 0.0) / np.maximum(bid, params.min_price_usd))
    buy = ((quantity > 0) & (affordable > 0)).nonzero()[0]
    sell = (quantity < 0).nonzero()[0]
    bids = Orders.of(market.trader_ids[buy], bid[buy],
                     np.minimum(quantity[buy], affordable[buy]), book[buy])
    if books is None:
        asks = Orders.of(market.trader_ids[sell], limit[sell], -quantity[sell], book[sell])
    else:
        asks = segment_asks(market, sell, -quantity[sell], limit[sell], books[sell])
    if abroad is not None and len(abroad):
        bids.price = below_imports(bids, abroad, segments.books(len(market.types.names)))
    return bids, asks


def segment_asks(market: Jurisdiction, trader: np.ndarray, quantity: np.ndarray,
                 limit: np.ndarray, held: np.ndarray) -> Orders:
    """Asks of traders ``trader`` selling ``quantity`` credits each at ``limit`` (USD per
    tCO2e, for their type) out of their holdings per segment ``held`` (traders x
    segments), best grade first, one ask per segment it sells in, priced by
    :func:`segment_markups`."""
    upto = np.minimum(held.cumsum(axis=1), quantity[:, None])
    take = np.diff(upto, axis=1, prepend=0)
    row, segment = (take > 0).nonzero()
    kind = market.traders.kind[trader[row]]
    price = limit[row] * segment_markups(market)[kind, segment]
    return Orders.of(market.trader_ids[trader[row]], price, take[row, segment],
                     market.segments.book(kind, segment))


def arbitrage_orders(market: Jurisdiction, quantity: np.ndarray, limit: np.ndarray,
                     inventory: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The speculators' signed ``quantity`` and ``limit`` (per trader) with the
    arbitrageurs' rows replaced (see :mod:`vcm_sim.arbitrage`): one that offers its credits
    at home this month (``inventory``) asks the home standard-book price for all of them and
    buys nothing; one whose venue is abroad may buy
    (:meth:`~vcm_sim.agents.trader.TraderPopulation.arbitrage`)."""
    plan = market.link.arbitrage_plan(market)
    if plan is None:
        return quantity, limit
    traders = market.traders
    arbitrageur = traders.rule == ARBITRAGEUR
    home = standard_prices(market)
    bought, bid = traders.arbitrage(plan.value, home, plan.held, plan.depth,
                                    market.config.traders)
    selling = arbitrageur & plan.home & (inventory > 0)
    bought = np.where(plan.home, 0, bought)
    quantity = np.where(arbitrageur, np.where(selling, -inventory, bought), quantity)
    limit = np.where(arbitrageur, np.where(selling, home[traders.kind], bid), limit)
    return quantity.astype(np.int64), limit


def below_imports(bids: Orders, abroad: Orders, n_books: int) -> np.ndarray:
    """Traders' bid prices (USD per tCO2e) held just below the cheapest ask from ``abroad``
    in their book: a trader buys only credits of its home registry (holdings in another
    registry are not modelled). A bid below every ask from abroad in its book is never
    matched with one, under either mechanism: the call auction fills bids at or above its
    price and asks at or below it, the double auction a bid only against an ask at or below
    it."""
    cheapest = np.full(n_books, np.inf)
    np.minimum.at(cheapest, abroad.book, abroad.price)
    return np.minimum(bids.price, np.nextafter(cheapest[bids.book], -np.inf))


@dataclass(frozen=True)
class Quotes:
    """The quotes of project types bid for in a month without trading: what the posted
    orders say buyers would pay, for the expected price to learn from as from a trade."""

    kind: np.ndarray
    """The types (indices into the type table)."""
    price: np.ndarray
    """Each type's quote, USD per tCO2e: the midpoint of its best bid and lowest ask when
    both were posted (they did not cross), else its best bid."""
    quantity: np.ndarray
    """Credits bid for each type."""
    floor: np.ndarray
    """Whether the quote is a best bid with no ask against it: a lower bound on what buyers
    pay, which can raise the expected price but not lower it."""


def untraded_quotes(bids: Orders, asks: Orders, volume: np.ndarray, n_segments: int = 1
                    ) -> Quotes | None:
    """The :class:`Quotes` of the types whose posted ``bids`` (after the price ceiling;
    firms', traders' and covered firms') found no trade (``volume``, credits per book of
    ``n_segments`` per type), or None when there are none (most months)."""
    type_volume = volume if n_segments == 1 else volume.reshape(-1, n_segments).sum(axis=1)
    if type_volume.all():
        return None
    n = len(type_volume)
    bid_type = bids.book // n_segments
    wanted = np.bincount(bid_type, weights=bids.quantity, minlength=n)
    kind = ((wanted > 0) & (type_volume == 0)).nonzero()[0]
    if not len(kind):
        return None
    best_bid = np.full(n, -np.inf)
    np.maximum.at(best_bid, bid_type, bids.price)
    low_ask = np.full(n, np.inf)
    np.minimum.at(low_ask, asks.book // n_segments, asks.price)
    bid, ask = best_bid[kind], low_ask[kind]
    floor = np.isinf(ask)
    return Quotes(kind, np.where(floor, bid, (bid + ask) / 2), wanted[kind], floor)


def firm_bids(market: Jurisdiction, demand: Demand) -> tuple[Orders, np.ndarray, np.ndarray]:
    """The bids of the firms buying this month, one per step of each firm's demand curve
    with credits in it (:meth:`~vcm_sim.agents.firm.FirmPopulation.demand_curve`), then one
    per step with credits bought ahead for the next claim year (``demand.step_ahead``),
    capped by the price ceiling, in the book of each row's type and segment; also the row
    of ``demand`` behind each bid, and whether it is for the next claim year."""
    rows, step = (demand.step_quantity > 0).nonzero()
    quantity = demand.step_quantity[rows, step]
    ahead_rows, ahead_step = (demand.step_ahead > 0).nonzero()
    ahead = np.zeros(len(rows) + len(ahead_rows), dtype=bool)
    ahead[len(rows):] = True
    if len(ahead_rows):
        rows, step = np.concatenate([rows, ahead_rows]), np.concatenate([step, ahead_step])
        quantity = np.concatenate([quantity, demand.step_ahead[ahead_rows, ahead_step]])
    ceiling = market.config.rules.market.price_ceiling_usd
    limit = demand.step_price[rows, step]
    price = limit if ceiling is None else np.minimum(limit, ceiling)
    firm = demand.firm[rows]
    return Orders.of(market.firm_ids[firm], price, quantity,
                     market.segments.book(demand.kind[rows], demand.segment[rows])), rows, ahead


def trade(market: Jurisdiction, demand: Demand, stock: Stock, abroad: Offers | None = None
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Quotes | None]:
    """Clear every book and settle, sellers offering from ``stock`` and sellers in linked
    markets posting their ``abroad`` offers (settled by the link); returns value (USD) and
    volume (credits) per book (see :mod:`vcm_sim.segments`), credits bought by each row
    of ``demand``, and the quotes of types bid for that did not trade
    (:func:`untraded_quotes`)."""
    deepest = None if stock.segment is None else stock.offered_books.argmax(axis=1)
    trader_bids, trader_asks = trader_orders(market, stock.traders,
                                             None if abroad is None else abroad.orders,
                                             stock.trader_books, deepest)
    firm_orders, firm_rows, firm_ahead = firm_bids(market, demand)
    bids = firm_orders + trader_bids
    covered_from = len(bids)  # an ETS's covered firms bid last and keep what they buy
    if market.ets is not None:
        segment = np.zeros(len(market.types.names), dtype=np.int64) if deepest is None \
            else deepest
        bids = bids + market.ets.offset_bids(offered(market, stock), segment)
    if market.link is None:
        inventory = stock.developers if stock.developer_books is None else stock.developer_books
        selling, developer = developer_asks(market, inventory)
    else:
        years = market.link.stock_years_of(market, stock.developers)
        selling, developer = developer_asks(market, stock.developers,
                                            market.link.reservation_of(market), years=years)
    authorised_from = len(selling)  # developers' asks from here on are for authorised credits
    if stock.authorised is not None:
        more, seller = developer_asks(market, stock.authorised,
                                      market.link.reservation_of(market), years=years)
        selling, developer = selling + more, np.concatenate([developer, seller])
    asks = selling + trader_asks
    if abroad is not None:
        asks = asks + abroad.orders
    pooled = market.config.rules.article6.adjusted_only  # an eligible unit is an eligible unit
    book, cleared = clear_by_tier_flat(MECHANISMS[market.config.rules.market.mechanism],
                                       bids.price, bids.quantity,
                                       np.zeros_like(bids.book) if pooled else bids.book,
                                       asks.price, asks.quantity,
                                       np.zeros_like(asks.book) if pooled else asks.book,
                                       market.draws("market"), checked=True)
    bid, ask, quantity, price = cleared.bid, cleared.ask, cleared.quantity, cleared.price
    book = asks.book[ask] if pooled else book.astype(np.int64, copy=False)
    segments = market.segments
    n_books = segments.books(len(market.types.names))
    paid = price * quantity
    value = np.bincount(book, weights=paid, minlength=n_books)
    volume = np.bincount(book, weights=quantity, minlength=n_books).astype(np.int64)
    quotes = untraded_quotes(bids, asks, volume, segments.n)
    by_developer = ask < len(selling)
    sold = np.bincount(ask[by_developer], weights=quantity[by_developer], minlength=len(selling))
    if market.link is None:
        learn_by_developer(market, developer, selling.quantity, sold)
    else:
        market.link.note_sales(market, developer, selling.quantity, sold)
    bought = np.zeros(len(demand.firm), dtype=np.int64)
    if abroad is not None:  # traders bid below every ask from abroad (below_imports)
        home_asks = len(selling) + len(trader_asks)
        home = ask < home_asks
        away = ~home
        if (bid[away] >= len(firm_rows)).any():
            raise RuntimeError("a trader's bid met an ask from abroad: traders bid below them")
        rows = firm_rows[bid[away]]
        market.link.settle(market, abroad, ask[away] - home_asks,
                           demand.firm[rows], quantity[away], paid[away])
        np.add.at(bought, rows, quantity[away])
        market.tally.firm_credit_spend_usd += float(paid[away].sum())
        bid, ask, quantity, paid = bid[home], ask[home], quantity[home], paid[home]
    if not len(quantity):
        return value, volume, bought, quotes
    buyer, seller = bids.account_id[bid], asks.account_id[ask]  # registry = cash positions
    market.cash.pay(buyer, seller, paid, "credit_trades")
    market.tally.developer_revenue_usd += float(paid[ask < len(selling)].sum())
    by_firm = bid < len(firm_rows)  # firms retire what they buy; traders keep it
    rows = firm_rows[bid[by_firm]]
    ahead = firm_ahead[bid[by_firm]]  # firms keep what they buy ahead, too
    np.add.at(bought, rows[~ahead], quantity[by_firm][~ahead])
    market.tally.bought_ahead_tco2 += int(quantity[by_firm][ahead].sum())
    market.tally.firm_credit_spend_usd += float(paid[by_firm].sum())
    if market.ets is not None:
        covered = bid >= covered_from
        market.ets.note_offsets_bought(int(quantity[covered].sum()), float(paid[covered].sum()))
    firm = np.full(len(bid), -1)
    firm[by_firm] = np.where(ahead, -1, demand.firm[rows])
    eligible = claim_filter(market)
    if stock.segment is not None:  # quality books: each segment's credits (never linked)
        deliver_by_segment(market, stock.segment, asks.book[ask] % segments.n, buyer, seller,
                           quantity, firm, eligible)
        return value, volume, bought, quotes
    if not market.projects.authorised.any():  # without authorised credits, one delivery
        deliver_runs(market, buyer, seller, quantity, firm, eligible)
        return value, volume, bought, quotes
    # Developers' unauthorised credits, their authorised ones, traders' any.
    segment = np.where(ask >= len(selling), 2, (ask >= authorised_from).astype(np.int64))
    filters = (article6.batch_filter(market, False, eligible),
               article6.batch_filter(market, True, eligible), eligible)
    for part in np.unique(segment).tolist():
        pick = segment == part
        deliver_runs(market, buyer[pick], seller[pick], quantity[pick], firm[pick],
                     filters[part])
    return value, volume, bought, quotes


def learn_by_developer(market: Jurisdiction, developer: np.ndarray, offered: np.ndarray,
                       sold: np.ndarray) -> None:
    """Developers' markups learn from what each offered and sold this month in all its
    books together (``developer``: the developer behind each ask, ``offered`` and ``sold``
    its credits; with quality books a developer may post several asks)."""
    if market.segments.on:
        n = len(market.developers.specialty)
        offered = np.bincount(developer, weights=offered, minlength=n)
        sold = np.bincount(developer, weights=sold, minlength=n)
        developer = (offered > 0).nonzero()[0]
        offered, sold = offered[developer], sold[developer]
    market.developers.learn(developer, offered, sold, market.config.developers.ask_learning)


def deliver_by_segment(market: Jurisdiction, segment_of: np.ndarray, segment: np.ndarray,
                       buyer: np.ndarray, seller: np.ndarray, quantity: np.ndarray,
                       firm: np.ndarray, eligible: Callable[[int], bool] | None) -> None:
    """Deliver each match from the seller's batches of the segment it traded in
    (``segment``, per match; ``segment_of``, per batch, as the stock was read) that
    ``eligible`` admits."""
    codes = segment_of.tolist()
    for part in np.unique(segment).tolist():
        pick = segment == part
        if eligible is None:
            admits = (lambda g: lambda b: codes[b] == g)(part)
        else:
            admits = (lambda g: lambda b: codes[b] == g and eligible(b))(part)
        deliver_runs(market, buyer[pick], seller[pick], quantity[pick], firm[pick], admits)


def deliver_runs(market: Jurisdiction, buyer: np.ndarray, seller: np.ndarray,
                 quantity: np.ndarray, firm: np.ndarray,
                 eligible: Callable[[int], bool] | None) -> None:
    """Deliver matches between accounts ``buyer`` and ``seller`` (registry positions),
    each run of them between the same two as one entry (:func:`run_starts`), from the
    batches ``eligible`` admits (see :func:`deliver_matches`)."""
    if not len(buyer):
        return
    start = run_starts(buyer, seller, firm)
    deliver_matches(market, buyer[start], seller[start], np.add.reduceat(quantity, start),
                    firm[start], eligible)


def run_starts(buyer: np.ndarray, seller: np.ndarray, firm: np.ndarray) -> np.ndarray:
    """Where each run of consecutive matches between the same buyer and seller, for the same
    use (``firm``: the firm retiring them, -1 when the buyer keeps them) starts. A firm's
    demand-curve bids sit side by side and often fill against the same ask; delivered as
    one entry, a run moves the same credits (the seller draws oldest first either way) in
    fewer registry legs."""
    new = np.ones(len(buyer), dtype=bool)
    new[1:] = ((buyer[1:] != buyer[:-1]) | (seller[1:] != seller[:-1])
               | (firm[1:] != firm[:-1]))
    return new.nonzero()[0]


def deliver_matches(market: Jurisdiction, buyers: np.ndarray, sellers: np.ndarray,
                    quantity: np.ndarray, firm: np.ndarray,
                    eligible: Callable[[int], bool] | None) -> None:
    """Deliver the matches in order (``quantity[m]`` credits from account ``sellers[m]`` to
    account ``buyers[m]``, registry positions, oldest batches ``eligible`` admits first: None
    admits all). Where the buyer is a firm (``firm[m]``, -1 for a trader) it retires them at
    once behind its claim for the year, and its claim records the real tonnes behind them."""
    retire = firm >= 0
    retiring = retire.tolist()
    year = f"/{market.year}"  # a claim is "<account>/<year>"
    names = market.registry.account_names(buyers.tolist())
    claims = [name + year if r else None for name, r in zip(names, retiring)]
    legs = market.registry.deliver_ids(sellers, buyers, quantity, eligible, retire=retiring,
                                       claims=claims)
    if not any(retiring):
        return
    table = np.array((legs.match, legs.batch, legs.quantity), dtype=np.int64)
    if not all(retiring):  # most months every buyer is a firm, and every leg retires
        table = table[:, retire[table[0]]]  # the retiring legs
    match, batch, credits = table
    firm = firm[match]
    market.record_retirements(batch, credits)
    back_claims(market, market, firm, batch, credits)


def deliver_own(market: Jurisdiction, accounts: np.ndarray, quantity: np.ndarray,
                firm: np.ndarray, eligible: Callable[[int], bool] | None) -> None:
    """Firms ``firm`` retire ``quantity`` credits each from their own registry accounts
    (``accounts``, positions), oldest batches ``eligible`` admits first, behind their claims
    for the year (see :func:`deliver_matches`)."""
    deliver_matches(market, accounts, accounts, quantity, firm, eligible)


def back_claims(market: Jurisdiction, origin: Jurisdiction, firm: np.ndarray,
                batch: np.ndarray, credits: np.ndarray) -> None:
    """Firms ``firm`` of ``market`` have retired ``credits`` of batches ``batch`` of
    ``origin``'s registry (legs in delivery order): their claims for the year count the
    credits and the real tonnes behind them (``origin``'s hidden truth), and each firm's claim
    is of the type of its last leg."""
    firms = market.firms
    real = credits * origin.truth.real_now(batch)
    # Added as the floats the column holds: ufunc.at is several times slower on mixed types.
    np.add.at(firms.claimed_this_year, firm, credits.astype(float))
    np.add.at(firms.real_this_year, firm, real)
    market.tally.claimed_tco2 += int(credits.sum())
    market.tally.claimed_real_tco2 += float(real.sum())
    last = dict(zip(firm.tolist(), range(len(firm))))  # each firm's last leg
    legs = np.fromiter(last.values(), dtype=np.int64, count=len(last))
    firms.claim_kind[firm[legs]] = origin.projects.kind[origin.truth.project[batch[legs]]]
