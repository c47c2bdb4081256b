"""The model as the page drives it: built from the controls, safe to poke while playing.

Mesa's ``SolaraViz`` re-creates the model on *Reset* by calling its class with the current
control values as keyword arguments, so :class:`PageModel` takes exactly the fields of
:class:`~vcm_sim.app.settings.PageSettings` and turns them into a scenario. Play runs steps
in a worker thread while the buttons fire events from the page's thread; a lock keeps an
event from landing in the middle of a step.
"""

from __future__ import annotations

import threading

import pandas as pd

from vcm_sim.app.charts import holdings_by_holder
from vcm_sim.app.settings import PageSettings
from vcm_sim.model import VCMModel

_DEFAULTS = PageSettings()

EVENT_KINDS = ("scandal", "wildfire", "suspend_issuance", "resume_issuance")
"""Events the page can fire by hand (:meth:`vcm_sim.model.VCMModel.trigger`)."""


class PageModel(VCMModel):
    """A :class:`VCMModel` built from the page's controls.

    ``page_events`` lists ``(step, kind)`` for every event fired from the page, so the
    charts can mark them; ``step`` is the zero-based month in which the event first acts
    (the month that the next call of :meth:`step` runs), as in the ``step`` column of the
    results.
    """

    def __init__(
        self,
        preset: str = _DEFAULTS.preset,
        verification_rigour: float = _DEFAULTS.verification_rigour,
        satellite_mrv: float = _DEFAULTS.satellite_mrv,
        retired_credit_disclosure: bool = _DEFAULTS.retired_credit_disclosure,
        regulator_assigns_verifiers: bool = _DEFAULTS.regulator_assigns_verifiers,
        quality_books: bool = _DEFAULTS.quality_books,
        buffer_share: float | None = _DEFAULTS.buffer_share,
        offset_cap: float = _DEFAULTS.offset_cap,
        firms: int = _DEFAULTS.firms,
        developers: int = _DEFAULTS.developers,
        trader_share: float = _DEFAULTS.trader_share,
        seed: int = _DEFAULTS.seed,
    ) -> None:
        # Explicit keywords, not **kwargs: SolaraViz checks control names against them.
        settings = PageSettings(
            preset=preset, verification_rigour=verification_rigour,
            satellite_mrv=satellite_mrv, retired_credit_disclosure=retired_credit_disclosure,
            regulator_assigns_verifiers=regulator_assigns_verifiers,
            quality_books=quality_books, buffer_share=buffer_share,
            offset_cap=offset_cap, firms=firms, developers=developers,
            trader_share=trader_share, seed=seed)
        self._page_lock = threading.RLock()
        self._page_closed = False
        self.page_settings = settings
        self.page_scenario = settings.scenario()
        self.page_events: list[tuple[int, str]] = []
        self._page_results: tuple[int, pd.DataFrame] | None = None
        self.ghost: VCMModel | None = None
        """The what-if twin (:meth:`compare_with`), or None."""
        self.ghost_settings: PageSettings | None = None
        self._ghost_results: tuple[int, pd.DataFrame] | None = None
        super().__init__(self.page_scenario, rng=int(seed))

    @classmethod
    def from_settings(cls, settings: PageSettings) -> PageModel:
        """The page model for ``settings``."""
        return cls(**settings.values())

    def step(self) -> None:
        """One step of the model, not interleaved with events fired from the page; the last
        month of the scenario stops play (Mesa's controller stops when ``running`` is
        false, and disables Step and ▶).

        Mesa counts the step (``steps``) before it calls this method, and its controller
        runs a whole render interval of steps before it looks at ``running``: a step past
        the scenario's end, or after :meth:`close`, is taken back, uncounted and unrun.
        """
        with self._page_lock:
            end = self.page_scenario.steps
            if self.steps > end or self._page_closed:
                self.steps = min(self.steps - 1, end)
                self.running = False
                return
            super().step()
            if self.ghost is not None:
                self.ghost.step()
            if self.steps >= end:
                self.running = False

    def compare_with(self, settings: PageSettings | None) -> None:
        """Run a what-if twin alongside, step for step: the run from ``settings`` (the rules,
        population and seed before the last changes; this model's own for a comparison with
        events only), with the scenario's scheduled events but none fired by hand. Built now,
        it catches up with the months already run. ``None`` stops the comparison."""
        with self._page_lock:
            self._ghost_results = None
            self.ghost_settings = settings
            if settings is None:
                self.ghost = None
                return
            twin = VCMModel(settings.scenario(), rng=int(settings.seed))
            for _ in range(self.steps):
                twin.step()
            self.ghost = twin

    def ghost_results_now(self) -> pd.DataFrame | None:
        """The twin's ``results()`` as of the current step (None without a twin)."""
        with self._page_lock:
            return None if self.ghost is None else self._results_of(self.ghost, "_ghost_results")

    def close(self) -> None:
        """The page that drives this model has gone (its tab closed): play stops at the
        next step Mesa's controller asks for."""
        with self._page_lock:
            self._page_closed = True
            self.running = False

    def trigger(self, kind: str) -> bool:
        """Fire ``kind`` (one of :data:`EVENT_KINDS`) now, between two steps; a second
        press of the same event before the next month is ignored (returns ``False``), so a
        burst of clicks is one event."""
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event {kind!r}; valid: {', '.join(EVENT_KINDS)}")
        with self._page_lock:
            if (self.steps, kind) in self.page_events:
                return False
            super().trigger(kind)
            self.page_events.append((self.steps, kind))
            return True

    def results_now(self) -> pd.DataFrame:
        """``results()`` as of the current step, computed once per step for all the charts."""
        with self._page_lock:
            return self._results_of(self, "_page_results")

    def _results_of(self, model: VCMModel, slot: str) -> pd.DataFrame:
        """``model.results()``, kept in attribute ``slot`` with the step it was read at and
        read again only once this model has stepped on (the caller holds the lock)."""
        cached = getattr(self, slot)
        if cached is None or cached[0] != self.steps:
            cached = (self.steps, model.results())
            setattr(self, slot, cached)
        return cached[1]

    def holdings_now(self) -> dict[str, int]:
        """Credits by kind of holder now (see :func:`~vcm_sim.app.charts.holdings_by_holder`),
        read between steps."""
        with self._page_lock:
            return holdings_by_holder(self.market.registry)

    def event_marks(self) -> list[tuple[int, str]]:
        """``(step, kind)`` of the events so far: scheduled by the scenario or fired by hand."""
        # A scheduled event at step t fires at the start of recorded month t (zero-based).
        scheduled = [(e.step, e.kind) for e in self.page_scenario.events
                     if e.step < self.steps]
        return sorted(scheduled + self.page_events)
