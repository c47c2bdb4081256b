"""The Mesa model: one market or several (jurisdictions), month by month.

:class:`VCMModel` builds the scenario's markets (:class:`~vcm_sim.jurisdiction.Jurisdiction`,
one per ``[[markets]]`` entry, or one for a scenario that declares none), runs their burn-in
months and then one recorded month per :meth:`VCMModel.step`. A month runs the phases of
:mod:`vcm_sim.jurisdiction` in three groups (up to the market, the market, after it), each
group in every market in the order they are declared, so that linked markets (``linking``, see
:mod:`vcm_sim.linking`) trade on the same month's offers. A one-market scenario is the special
case of one entry: its results keep the reporters' names; with several markets every reporter
but ``step`` and ``year`` is named ``<reporter>_<market>``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import mesa

from vcm_sim import metrics
from vcm_sim.jurisdiction import Jurisdiction
from vcm_sim.linking import Link
from vcm_sim.registry import check_linked
from vcm_sim.scenario import Event, Scenario, load_scenario
from vcm_sim.streams import Streams, seed_sequence

SHARED = ("step", "year")
"""Reporters that are the same in every market: not suffixed with the market's name."""


class VCMModel(mesa.Model):
    """The voluntary carbon market: developers, firms, verifiers, a regulator, traders, in
    one market or several.

    ``scenario`` is a :class:`~vcm_sim.scenario.Scenario` or a preset name; ``rng`` seeds
    everything (an int, a ``SeedSequence`` or a ``numpy.random.Generator``).
    """

    def __init__(self, scenario: Scenario | str = "baseline",
                 rng: int | np.random.SeedSequence | np.random.Generator | None = None) -> None:
        super().__init__(rng=rng)
        self.config = load_scenario(scenario) if isinstance(scenario, str) else scenario
        root = seed_sequence(self.rng)
        self.markets = [Jurisdiction(self, config, Streams(root, k), name)
                        for k, (name, config) in enumerate(self.config.market_scenarios())]
        self.link = (Link(self.markets, self.config.linking)
                     if self.config.linking.mode != "none" else None)
        for _ in range(self.config.burn_in):
            self._advance(record=False)
        for market in self.markets:
            market.start_recording()

    @property
    def market(self) -> Jurisdiction:
        """The market of a one-market scenario (with several, see :attr:`markets`)."""
        if len(self.markets) != 1:
            raise ValueError(f"this scenario has {len(self.markets)} markets "
                             f"({', '.join(self.market_names)}): use model.markets")
        return self.markets[0]

    @property
    def market_names(self) -> list[str]:
        """The markets' names, in the order they run."""
        return [m.name for m in self.markets]

    def market_named(self, name: str) -> Jurisdiction:
        """The market called ``name``."""
        for market in self.markets:
            if market.name == name:
                return market
        raise ValueError(f"no market {name!r}; markets: {', '.join(self.market_names)}")

    @property
    def month_index(self) -> int:
        """Index of the month being run (or last run), in months from the first recorded
        month: negative during burn-in, 0 for the first month in :meth:`results`. Mesa's
        ``steps`` and ``time`` count recorded months only."""
        return self.markets[0].month_index

    @property
    def year(self) -> int:
        """Calendar year of the current month."""
        return self.markets[0].year

    def step(self) -> None:
        """One recorded month of every market (burn-in months were run at construction)."""
        self._advance(record=True)

    def _advance(self, record: bool) -> None:
        """One month of every market, phase group by phase group: each opens its month,
        then (once the link has routed supply) each clears its market, then each closes."""
        for market in self.markets:
            market.open_month()
        if self.link is not None:
            self.link.route()
        for market in self.markets:
            market.trade_month()
        if self.link is not None:
            self.link.learn()
        for market in self.markets:
            market.close_month(record)
        if self.link is not None and self.config.debug:
            check_linked([m.registry for m in self.markets])

    def _addressed(self, market: str | None) -> list[Jurisdiction]:
        return self.markets if market is None else [self.market_named(market)]

    def trigger(self, kind: str, project_type: str | None = None,
                severity: float = Event.model_fields["severity"].default,
                market: str | None = None) -> None:
        """Fire an event at the start of the next month in ``market`` (default: every market),
        for the instructor's buttons: see :meth:`Jurisdiction.trigger`."""
        for m in self._addressed(market):
            m.trigger(kind, project_type, severity)

    def set_rule(self, path: str, value: object, market: str | None = None) -> None:
        """Change a setting mid-run by dotted path (validated), e.g.
        'rules.market.offset_cap', in ``market`` (default: every market)."""
        for m in self._addressed(market):
            m.set_rule(path, value)

    def run(self, steps: int | None = None) -> VCMModel:
        """Run ``steps`` recorded months (default: the scenario's horizon); returns the
        model. Burn-in months were run when the model was built."""
        for _ in range(self.config.steps if steps is None else steps):
            self.step()
        return self

    def results(self) -> pd.DataFrame:
        """One row per recorded month of every reporter in
        :data:`vcm_sim.metrics.REPORTERS` (burn-in months are not recorded); with several
        markets, also :data:`~vcm_sim.metrics.LINK_REPORTERS`, and ``<reporter>_<market>``
        for all but ``step`` and ``year``. Money is in USD, whatever a market's currency
        (see :meth:`~vcm_sim.jurisdiction.Jurisdiction.frame`)."""
        if len(self.markets) == 1:
            return self.markets[0].frame()
        frames = [self.markets[0].frame()[list(SHARED)]]
        for m in self.markets:  # a market with an ETS has reporters the others lack
            frame = m.frame()
            own = [n for n in frame.columns if n not in SHARED]
            frames.append(frame[own].add_suffix(f"_{m.name}"))
        return pd.concat(frames, axis=1)

    def cash_flows(self, market: str | None = None) -> pd.DataFrame:
        """The monthly cash-flow statement of ``market`` (default: the only or first one):
        see :meth:`~vcm_sim.jurisdiction.Jurisdiction.cash_flows`."""
        return (self.market if market is None else self.market_named(market)).cash_flows()

    def summary(self) -> dict[str, float]:
        """Run-level metrics (see :func:`vcm_sim.metrics.summarise`); with several markets,
        each market's as ``<metric>_<market>``, ``price_gap``
        (:func:`vcm_sim.metrics.price_gap`) between their price indices,
        ``type_price_gap`` (:func:`vcm_sim.metrics.type_price_gap`) between their prices of
        each type and
        ``adjusted_premium`` (:func:`vcm_sim.metrics.adjusted_premium`)."""
        if len(self.markets) == 1:
            return metrics.summarise(self.results())
        out: dict[str, float] = {}
        frames = [m.frame() for m in self.markets]
        for m, frame in zip(self.markets, frames):
            for key, value in metrics.summarise(frame).items():
                out[f"{key}_{m.name}"] = value
        out["price_gap"] = metrics.price_gap([f["price_index_usd"] for f in frames])
        common = [k for k in self.markets[0].types.names
                  if all(k in m.types.names for m in self.markets)]
        out["type_price_gap"] = metrics.type_price_gap(frames, common)
        out["adjusted_premium"] = metrics.adjusted_premium(self.markets)
        return out
