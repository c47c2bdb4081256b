"""Linked voluntary markets: mutual recognition, developers selling in every market,
traders' arbitrage.

With ``linking.mode = "mutual_recognition"`` every market's buyers accept the credits of the
other markets (of the project types their own rules make eligible, within their vintage
cut-off). Each month, once every market has opened its month and before any clears,
:meth:`Link.route` reads every market's forecast price, typical volume and developers' stock
per type. A developer spreads what it offers (``sell_share`` of its inventory) over the
markets that accept its credits in proportion to their depth (the type's typical monthly
volume), as a seller lists on several venues by where the trading is, not knowing in which
this month's buyers will bid most. In each it asks what it would ask at home, planning with
the best forecast among those markets net of the transfer cost (its reservation) and with the
years the linked markets together take to absorb the developers' stock (the carry), plus the
transfer cost abroad. Credits therefore sell abroad only where buyers bid at least that much;
that prices converge up to about the transfer cost is this rule's doing. Once every market has
cleared, each developer learns its markup from what it offered and sold in all of them.

(A rule that sends each type's whole offer to the single market with the best net forecast
was tried and dropped: every developer of a type switched market at once, and prices swung
from one market to the other month after month.)

With ``linking.developer_access`` below 1, only that share of each market's developers sell
abroad; the others offer everything at home and plan with the home forecast and their own
market's years of stock, as if the markets stood apart (with no one else carrying credits
across, a linked run is then the separate markets' run, bit for bit). Their credits reach
buyers abroad only through arbitrageurs (``traders.arbitrage_share``, :mod:`vcm_sim.arbitrage`):
traders that buy their type at home while a market abroad pays more than the transfer cost and
their dead band above the home price, and offer there, undercutting its price
(:meth:`Link.offers_into`), paid like a developer. Every trader in a linked market
(speculators too) bids below the asks from abroad in its book
(:func:`~vcm_sim.trading.below_imports`), so it buys only credits of its home registry:
holdings in another registry are not modelled, and in a market that imports, speculators'
bids are held down by that cap (a structural assumption).

Everything every seller offers this month, at home and abroad, is read once every market has
opened its month and before any clears (:meth:`Link.prepared`): which market clears first
changes no one's offers.

A credit sold abroad stays in the registry that issued it, where its hidden truth is: the
seller delivers it to the account of the buyer's market there (``abroad/<market>``), which
retires it at once on the buyer's behalf, behind the buyer's claim
(``<market>:<firm account>/<year>``); the buyer's claim counts the real tonnes behind it, and
its exposure follows the buyer market's disclosure rules. The buyer pays in its market's cash
book; the seller receives the price less the transfer cost in its own (each in its market's
currency, converted at the scenario's exchange rates); the
transfer cost leaves the markets. A market's prices and volumes are those of its own books,
whoever sells in them; its registry stocks and integrity ratio are of the credits issued
there, whoever bought them. International transfers between registries
(:func:`vcm_sim.registry.transfer_abroad`) are for credits that change registry: those a
host has authorised, sold with a corresponding adjustment to markets whose buyers require
one (Article 6: :mod:`vcm_sim.article6`, :meth:`Link._route_adjusted`); mutual recognition
does not need them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from vcm_sim import arbitrage, article6
from vcm_sim.agents.trader import ARBITRAGEUR
from vcm_sim.rules import PROJECT_TYPES
from vcm_sim.trading import (Orders, Stock, back_claims, claim_filter, developer_asks,
                             stock_years)

if TYPE_CHECKING:
    from vcm_sim.jurisdiction import Jurisdiction
    from vcm_sim.scenario import Linking


def abroad_account(market: Jurisdiction) -> str:
    """The account, in every linked registry, that retires credits on behalf of ``market``'s
    buyers."""
    return f"abroad/{market.name}"


@dataclass
class Offers:
    """Asks posted in one market this month by developers of linked markets."""

    orders: Orders
    """The asks, in the market's books (``account_id`` -1: the sellers have no account in
    the market's registry)."""
    origin: np.ndarray
    """Position of each ask's market in :attr:`Link.markets`."""
    seller: np.ndarray
    """Row of each ask's seller in its market's population of developers, or of traders
    where :attr:`by_trader`."""
    by_trader: np.ndarray
    """Whether each ask is an arbitrageur's (see :mod:`vcm_sim.arbitrage`)."""
    adjusted: np.ndarray
    """Whether each ask is for credits authorised by their host, sold with a corresponding
    adjustment (see :mod:`vcm_sim.article6`)."""


class Link:
    """Mutual recognition between ``markets`` (all of a scenario's), with the ``settings`` of
    the scenario's ``linking``. Opens in every registry (and cash book) the accounts that
    retire credits on behalf of each other market's buyers."""

    def __init__(self, markets: list[Jurisdiction], settings: Linking) -> None:
        self.markets = markets
        self.transfer_cost_usd = settings.transfer_cost_usd
        self.per_usd = np.array([m.config.per_usd for m in markets])
        """Units of each market's currency per USD (the scenario's exchange rates)."""
        self.access = settings.developer_access
        self.accepts, self.accepts_adjusted = self._acceptance()
        n, n_types = len(markets), len(PROJECT_TYPES)
        self.share = np.zeros((n, n, n_types))
        self.share[np.arange(n), np.arange(n)] = 1.0
        """``share[i, j, k]``: the share of market ``i``'s developers' offers of type ``k``
        posted in market ``j`` this month (rows sum to 1)."""
        self.stock_years = np.zeros(n_types)
        """Per type, the years the linked markets take together to absorb the stock their
        developers hold at their typical volumes: the carry in every developer's asks."""
        self._offered = [np.zeros(0) for _ in markets]
        self._sold = [np.zeros(0) for _ in markets]
        self.reservation = np.array([m.forecast_price for m in markets])
        """Per market and type, the price (per credit, in the market's currency) its
        developers' asks plan with this month: the best forecast among the markets that
        accept the type, net of the transfer cost abroad."""
        self.share_adjusted = np.zeros((n, n, n_types))
        self.share_adjusted[np.arange(n), np.arange(n)] = 1.0
        """``share_adjusted[i, j, k]``: the share of the authorised credits of type ``k``
        of market ``i``'s developers offered in market ``j`` this month: in the markets that
        require them (:meth:`_route_adjusted`), the rest at home (``j == i``, without an
        adjustment)."""
        self.plans: list[arbitrage.Plan] | None = None
        """This month's plan of each market's arbitrageurs (None without any)."""
        self._prepared: list[tuple[Stock, Offers]] = []
        self.reservation_adjusted = np.full((n, n_types), -np.inf)
        """Per market and type, the price (per credit, in the market's currency) its
        developers' asks for authorised credits abroad plan with: the best forecast of the
        markets that require them net of the transfer cost."""
        for market in markets:
            market.link = self
            for other in markets:
                if other is not market:
                    market.registry.open_account(abroad_account(other))
                    market.cash.open(abroad_account(other), 0.0)

    def _acceptance(self) -> tuple[np.ndarray, np.ndarray]:
        """Per market and type, from the markets' rules now: whether its buyers accept the
        type's credits without a corresponding adjustment, and whether they take its
        authorised, adjusted credits (the markets that require them, see
        :mod:`vcm_sim.article6`)."""
        eligible = np.array([np.isin(PROJECT_TYPES, m.config.rules.integrity.eligible_types)
                             for m in self.markets])
        adjusted_only = np.array([m.config.rules.article6.adjusted_only
                                  for m in self.markets])[:, None]
        return eligible & ~adjusted_only, eligible & adjusted_only

    def in_usd(self, amounts: np.ndarray) -> np.ndarray:
        """``amounts`` per market (rows, in each market's currency) in USD."""
        return amounts / self.per_usd[:, None]

    def convert(self, amount: np.ndarray, i: int, j: int) -> np.ndarray:
        """``amount`` in market ``i``'s currency, in market ``j``'s."""
        return amount / self.per_usd[i] * self.per_usd[j]

    def position(self, market: Jurisdiction) -> int:
        """Position of ``market`` in :attr:`markets`."""
        return next(i for i, m in enumerate(self.markets) if m is market)

    def route(self) -> None:
        """This month's split of each market's developers' offers between the markets, the
        price their asks plan with and the stock's years of sales, from every market's
        forecast price, typical volume and developers' stock per type (see :attr:`share`,
        :attr:`reservation` and :attr:`stock_years`); the arbitrageurs' plans; and then what
        every seller offers in every market (:meth:`prepared`)."""
        self.accepts, self.accepts_adjusted = self._acceptance()  # rules may change mid-run
        forecast = self.in_usd(np.array([m.forecast_price for m in self.markets]))
        typical = np.array([m.typical_volume for m in self.markets])
        depth = typical * self.accepts
        held = [m.registry.held(m.developer_ids) for m in self.markets]
        self.stock_years = stock_years(np.concatenate(held),
                                       np.concatenate([m.developers.specialty
                                                       for m in self.markets]),
                                       (typical * (self.accepts | self.accepts_adjusted))
                                       .sum(axis=0))
        self._offered = [np.zeros(len(h)) for h in held]
        self._sold = [np.zeros(len(h)) for h in held]
        wanted = self._adjusted_bids() if self.accepts_adjusted.any() else None
        if any((m.traders.rule == ARBITRAGEUR).any() for m in self.markets):
            self.plans = [arbitrage.plan(self, i) for i in range(len(self.markets))]
        for i in range(len(self.markets)):
            net = np.where(self.accepts, forecast - self.transfer_cost_usd, -np.inf)
            net[i] = forecast[i]
            self.reservation[i] = net.max(axis=0) * self.per_usd[i]
            reach = depth.copy()
            reach[i] = np.maximum(depth[i], 1.0)  # a type no market buys yet is offered home
            self.share[i] = reach / reach.sum(axis=0)
            if wanted is not None and self.markets[i].projects.authorised.any():
                self._route_adjusted(i, forecast, wanted)
        self._prepared = [(Stock.of(m), self.offers_into(m)) for m in self.markets]

    def prepared(self, market: Jurisdiction) -> tuple[Stock, Offers]:
        """What ``market``'s sellers offer at home (:class:`~vcm_sim.trading.Stock`) and
        what sellers of the other markets offer in it (:meth:`offers_into`) this month, both
        read in :meth:`route`, before any market cleared: which market clears first changes
        no one's offers."""
        return self._prepared[self.position(market)]

    def _route_adjusted(self, i: int, forecast: np.ndarray, wanted: np.ndarray) -> None:
        """This month's split of market ``i``'s authorised credits and the price their asks
        abroad plan with. To the markets that require adjusted credits go as many as their
        buyers are expected to bid for this month (``wanted``, per market), in proportion to
        those bids and whatever the type (those markets clear every type in one book); the
        rest are offered at home (:meth:`authorised_home`), where they sell like other
        credits. Abroad, asks plan with the best forecast among those markets net of the
        transfer cost. Unlike other credits, which are spread by depth whatever the prices
        (see the module docstring), authorised ones go first where they fetch the adjusted
        price: it stands far above home's for years, and expected bids move smoothly, so
        no market-to-market switching follows."""
        origin = self.markets[i]
        bids = wanted.sum(axis=1, keepdims=True)
        eligible = max((self._authorised_for(origin, m).sum() for m, b in
                        zip(self.markets, bids[:, 0]) if b > 0), default=0.0)
        offered = eligible * origin.config.developers.sell_share
        abroad = self.accepts_adjusted * bids / max(offered, bids.sum(), 1.0)
        abroad[i] = np.maximum(1.0 - abroad.sum(axis=0), 0.0)
        self.share_adjusted[i] = abroad
        self.reservation_adjusted[i] = np.where(self.accepts_adjusted & (bids >= 1.0),
                                                forecast - self.transfer_cost_usd,
                                                -np.inf).max(axis=0) * self.per_usd[i]

    def arbitrage_plan(self, market: Jurisdiction) -> arbitrage.Plan | None:
        """This month's plan of ``market``'s arbitrageurs (None when no market has any)."""
        return None if self.plans is None else self.plans[self.position(market)]

    @staticmethod
    def _authorised_for(origin: Jurisdiction, market: Jurisdiction) -> np.ndarray:
        """Per developer of ``origin``, the authorised credits it holds that ``market``'s
        buyers may take (within their vintage cut-off and label rule)."""
        return origin.registry.held(origin.developer_ids, article6.batch_filter(
            origin, True, claim_filter(market, origin.registry)))

    def authorised_home(self, market: Jurisdiction) -> np.ndarray:
        """Per developer of ``market``, the authorised credits it offers at home this month
        (from those its home may take): what the markets that require adjusted credits are
        not sent (:meth:`_route_adjusted`), those too old for them included."""
        i = self.position(market)
        kind = market.developers.specialty
        home = self._authorised_for(market, market)
        for j, other in enumerate(self.markets):
            if j != i and self.share_adjusted[i, j].any():
                home = home - self._authorised_for(market, other) * self.share_adjusted[i, j][kind]
        return np.maximum(home, 0.0)

    def _adjusted_bids(self) -> np.ndarray:
        """Per market and type, the credits the buyers of the markets that require adjusted
        credits are expected to bid for this month at their forecast price (their plans:
        :meth:`~vcm_sim.agents.firm.FirmPopulation.expected_monthly_demand`); zero for the
        other markets."""
        n_types = len(PROJECT_TYPES)
        wanted = np.zeros((len(self.markets), n_types))
        for j, m in enumerate(self.markets):
            if self.accepts_adjusted[j].any():
                wanted[j] = m.firms.expected_monthly_demand(
                    m.config.firms, m.forecast_price, m.sentiment.level,
                    m.config.rules.market.offset_cap, n_types) * self.accepts_adjusted[j]
        return wanted

    def reaches_abroad(self, market: Jurisdiction) -> np.ndarray:
        """Per developer of ``market``, whether it sells abroad itself (a share
        ``developer_access`` of them, by the golden-ratio rule of
        :func:`~vcm_sim.article6.authorised` on their rows: a developer keeps its answer for
        the whole run)."""
        return article6.authorised(np.arange(len(market.developers.specialty)), self.access)

    def reservation_of(self, market: Jurisdiction) -> np.ndarray:
        """The price ``market``'s developers' asks plan with this month: per type, or, when
        some developers sell only at home, per developer and type (those plan with the home
        forecast)."""
        i = self.position(market)
        if self.access >= 1.0:
            return self.reservation[i]
        return np.where(self.reaches_abroad(market)[:, None], self.reservation[i],
                        market.forecast_price)

    def stock_years_of(self, market: Jurisdiction, inventory: np.ndarray) -> np.ndarray:
        """The years of sales ``market``'s developers' asks carry this month: per type, the
        linked markets' together (:attr:`stock_years`); or, when some developers sell only
        at home, per developer and type, those developers' own market's, from what they
        offer there (``inventory``, per developer)."""
        if self.access >= 1.0:
            return self.stock_years
        own = stock_years(inventory, market.developers.specialty, market.typical_volume)
        return np.where(self.reaches_abroad(market)[:, None], self.stock_years, own)

    def home_share(self, market: Jurisdiction) -> np.ndarray:
        """Per developer of ``market``, the share of its offer posted at home (all of it for
        a developer that does not sell abroad)."""
        i = self.position(market)
        home = self.share[i, i][market.developers.specialty]
        return home if self.access >= 1.0 else np.where(self.reaches_abroad(market), home, 1.0)

    def offers_into(self, market: Jurisdiction) -> Offers:
        """The asks sellers of the other markets post in ``market`` this month: developers
        their share of what they offer (from their inventories eligible under ``market``'s
        vintage cut-off and label rule), asked at their reservation plus the transfer cost, and
        arbitrageurs whose venue this market is (:func:`~vcm_sim.arbitrage.asks_abroad`)."""
        j = self.position(market)
        parts = [Offers(Orders.of([], [], [], []), *(np.zeros(0, dtype=np.int64),) * 2,
                        *(np.zeros(0, dtype=bool),) * 2)]
        floor = market.config.rules.market.price_floor_usd
        for i, origin in enumerate(self.markets):
            if i == j:
                continue
            eligible = claim_filter(market, origin.registry)
            for is_adjusted, share, reservation in (
                    (False, self.share[i, j], self.reservation[i]),
                    (True, self.share_adjusted[i, j], self.reservation_adjusted[i])):
                if not share.any():
                    continue
                inventory = origin.registry.held(
                    origin.developer_ids, article6.batch_filter(origin, is_adjusted, eligible))
                inventory = inventory * share[origin.developers.specialty]
                if not is_adjusted and self.access < 1.0:
                    inventory = inventory * self.reaches_abroad(origin)
                orders, seller = developer_asks(origin, inventory, reservation,
                                                origin.draws("linking"),
                                                self.stock_years)
                orders.price = np.maximum(self.convert(orders.price, i, j)
                                          + self.transfer_cost_usd * self.per_usd[j], floor)
                orders.account_id[:] = -1
                parts.append(Offers(orders, np.full(len(seller), i), seller,
                                    np.zeros(len(seller), dtype=bool),
                                    np.full(len(seller), is_adjusted)))
            parts.append(self._arbitrage_asks(i, j))
        return Offers(*(_concatenate([getattr(p, f) for p in parts])
                        for f in ("orders", "origin", "seller", "by_trader", "adjusted")))

    def _arbitrage_asks(self, i: int, j: int) -> Offers:
        """The asks market ``i``'s arbitrageurs post in market ``j``
        (:func:`~vcm_sim.arbitrage.asks_abroad`), in the standard books."""
        if self.plans is None:
            seller = quantity = np.zeros(0, dtype=np.int64)
            price = np.zeros(0)
        else:
            seller, quantity, price = arbitrage.asks_abroad(self, i, j, self.plans[i])
        kind = self.markets[i].traders.kind[seller]
        orders = Orders.of(np.full(len(seller), -1), price, quantity,
                           self.markets[j].segments.book(kind))
        return Offers(orders, np.full(len(seller), i), seller, np.ones(len(seller), dtype=bool),
                      np.zeros(len(seller), dtype=bool))

    def settle(self, market: Jurisdiction, offers: Offers, ask: np.ndarray, firm: np.ndarray,
               quantity: np.ndarray, paid: np.ndarray) -> None:
        """Settle the matches of ``market``'s firms ``firm`` with ``offers`` (``ask``: the
        offer of each match; ``quantity`` credits; ``paid`` in ``market``'s currency): the
        buyers pay here, each seller receives the price less the transfer cost in its market
        and delivers the credits to the buyers' account in its registry, which retires them
        behind the buyers' claims. What each developer abroad offered and sold counts towards
        its learning (:meth:`learn`)."""
        market.cash.spend(market.firm_ids[firm], paid, "purchases_abroad")
        sold = np.bincount(ask, weights=quantity, minlength=len(offers.origin))
        for i, origin in enumerate(self.markets):
            own = offers.origin == i
            if not own.any():
                continue
            developers = own & ~offers.by_trader
            self.note_sales(origin, offers.seller[developers],
                            offers.orders.quantity[developers], sold[developers])
            match = own[ask]
            adjusted = match & offers.adjusted[ask]
            by_trader = match & offers.by_trader[ask]
            match &= ~adjusted & ~by_trader
            unadjusted = article6.batch_filter(origin, False,
                                               claim_filter(market, origin.registry))
            for pick, ids, accounts, developers in (
                    (match, origin.developer_ids, origin.developer_accounts, True),
                    (by_trader, origin.trader_ids, origin.trader_accounts, False)):
                if not pick.any():
                    continue
                seller = offers.seller[ask[pick]]
                self._pay(market, origin, ids[seller], quantity[pick], paid[pick], developers)
                self._deliver(market, origin, [accounts[k] for k in seller.tolist()],
                              firm[pick], quantity[pick], unadjusted)
            if adjusted.any():
                self._deliver_adjusted(market, origin, offers.seller[ask[adjusted]],
                                       firm[adjusted], quantity[adjusted], paid[adjusted],
                                       market.segments.kind(offers.orders.book[ask[adjusted]]))

    def note_sales(self, market: Jurisdiction, developer: np.ndarray, offered: np.ndarray,
                   sold: np.ndarray) -> None:
        """``market``'s developers ``developer`` offered and sold these credits in one of the
        linked markets this month."""
        i = self.position(market)
        np.add.at(self._offered[i], developer, offered)
        np.add.at(self._sold[i], developer, sold)

    def learn(self) -> None:
        """Once every market has cleared, each developer that offered credits learns its
        markup from what it offered and sold in all of them together (see
        :meth:`~vcm_sim.agents.developer.DeveloperPopulation.learn`)."""
        for market, offered, sold in zip(self.markets, self._offered, self._sold):
            seller = (offered > 0).nonzero()[0]
            market.developers.learn(seller, offered[seller], sold[seller],
                                    market.config.developers.ask_learning)

    def _pay(self, market: Jurisdiction, origin: Jurisdiction, payee: np.ndarray,
             quantity: np.ndarray, paid: np.ndarray, developers: bool) -> None:
        """``origin``'s sellers ``payee`` (cash book positions; ``developers`` or traders)
        receive what ``market``'s buyers paid (``paid``, in its currency) for ``quantity``
        credits, converted to their currency, less the transfer cost."""
        i, j = self.position(origin), self.position(market)
        received = (self.convert(paid, j, i)
                    - self.transfer_cost_usd * self.per_usd[i] * quantity)
        origin.cash.receive(payee, received, "sales_abroad")
        if developers:
            origin.tally.developer_revenue_usd += float(received.sum())
        else:
            origin.tally.arbitraged_tco2 += int(quantity.sum())
        origin.tally.sold_abroad_tco2 += int(quantity.sum())
        market.tally.transfer_cost_usd += (self.transfer_cost_usd * self.per_usd[j]
                                           * float(quantity.sum()))

    def _deliver(self, market: Jurisdiction, origin: Jurisdiction, accounts: list[str],
                 firm: np.ndarray, quantity: np.ndarray,
                 eligible: Callable[[int], bool] | None) -> None:
        """``origin``'s sellers ``accounts`` deliver ``quantity`` credits of the batches
        ``eligible`` admits to ``market``'s firms ``firm``: retired in ``origin``'s registry,
        without a corresponding adjustment (double claimed behind offsetting claims)."""
        year = market.year
        claims = [f"{market.name}:{market.firm_accounts[f]}/{year}" for f in firm.tolist()]
        legs = origin.registry.deliver(accounts, [abroad_account(market)] * len(accounts),
                                       quantity, eligible, retire=[True] * len(accounts),
                                       claims=claims)
        batch = np.array(legs.batch, dtype=np.int64)
        credits = np.array(legs.quantity, dtype=np.int64)
        origin.record_retirements(batch, credits)
        buyer = firm[np.array(legs.match, dtype=np.int64)]
        back_claims(market, origin, buyer, batch, credits)
        market.tally.double_claimed_tco2 += int(credits[~market.firms.contributes[buyer]].sum())
        self._note_bought(market, origin, batch, credits)

    def _deliver_adjusted(self, market: Jurisdiction, origin: Jurisdiction,
                          developer: np.ndarray, firm: np.ndarray, quantity: np.ndarray,
                          paid: np.ndarray, kind: np.ndarray) -> None:
        """``origin``'s developers ``developer`` deliver ``quantity`` authorised credits of
        types ``kind`` to ``market``'s firms ``firm``, who paid ``paid``: transferred to
        ``market``'s registry and retired there, with a corresponding adjustment by
        ``origin`` (:func:`~vcm_sim.article6.deliver_adjusted`)."""
        self._pay(market, origin, origin.developer_ids[developer], quantity, paid,
                  developers=True)
        match, batch, credits = article6.deliver_adjusted(
            origin, market, [origin.developer_accounts[d] for d in developer.tolist()],
            abroad_account(market), [market.firm_accounts[f] for f in firm.tolist()],
            quantity, claim_filter(market, origin.registry))
        back_claims(market, origin, firm[match], batch, credits)
        self._note_bought(market, origin, batch, credits)
        value, volume = market.adjusted_month
        market.adjusted_month = (value + float(paid.sum()), volume + int(credits.sum()))
        np.add.at(market.adjusted_by_type[0], kind, paid)
        np.add.at(market.adjusted_by_type[1], kind, quantity)

    @staticmethod
    def _note_bought(market: Jurisdiction, origin: Jurisdiction, batch: np.ndarray,
                     credits: np.ndarray) -> None:
        """``market``'s buyers have retired ``credits`` of ``origin``'s batches ``batch``."""
        market.tally.bought_abroad_tco2 += int(credits.sum())
        market.tally.bought_abroad_real_tco2 += float(credits @ origin.truth.real_now(batch))


def _concatenate(parts: list) -> Orders | np.ndarray:
    """``parts`` (all :class:`Orders` or all arrays) end to end."""
    if isinstance(parts[0], Orders):
        orders = parts[0]
        for part in parts[1:]:
            orders = orders + part
        return orders
    return np.concatenate(parts)
