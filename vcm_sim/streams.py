"""Random streams: one per phase of the step and per agent population, keyed by month.

Every draw of a run comes from the run's seed, through a generator keyed by *what* draws
(a name in :data:`STREAMS`) and *when* (the simulated month), never from one shared
generator. So an intervention (an event, a rule change mid-run) changes only the draws of
the phases it acts on: the wildfire draws of month 50, say, are the same numbers in a run
with a scandal in month 30 as in one without. Within a month, draws are laid out per entity
(a project's draw is the same whether or not later projects exist), so a phase that is run on
more projects in one run than the other still gives the projects both runs share the same
draws. This is what makes paired-seed comparisons measure the effect of an intervention and
not unrelated noise (common random numbers).

Each stream is a counter-based Philox generator: its key comes from the run's
:class:`numpy.random.SeedSequence` (``spawn_key + (TAG, index of its name)``), and each month
starts its counter afresh at that month, so a month's draws are a pure function of the seed,
the stream and the month (setting a counter is far cheaper than hashing a seed each month).
Names are only ever appended to :data:`STREAMS`, so adding one leaves the others as they were.
"""

from __future__ import annotations

import numpy as np

STREAMS = ("firms", "developers", "verifiers", "traders", "projects", "history", "fire_years",
           "reversals", "events", "verifier_choice", "verification", "market", "claims",
           "audits", "entry", "purchases", "linking", "ets", "ratings")
"""Who draws, by phase of the step. Decisions: the four populations (their set-up, then
their monthly choices) and new projects' attributes; the seeded past before the first month
(``history``); nature: bad fire years by region and reversals; scheduled and triggered
``events``; MRV: developers' choice of verifier and the verification itself; the market's
clearing (tie-breaks); claims: exposure of greenwashing; oversight: the regulator's audits;
``entry``: newcomers and their first projects; ``purchases``: the month each firm buys in;
``linking``: developers' asks in linked markets abroad; ``ets``: covered firms' set-up and
the allowance market's tie-breaks; ``ratings``: rating agencies' set-up, which projects they
cover and their errors.
Each stream that draws per project does so once a month, one row per project, so that the
projects two runs share get the same rows."""

TAG = 0x5EED
"""Marks the model's streams among the children of the run's seed sequence."""

SETUP = -1
"""The 'month' of draws made while building the model."""


def seed_sequence(rng: np.random.Generator) -> np.random.SeedSequence:
    """The seed sequence a generator was built from (Mesa builds ``model.rng`` from the
    ``rng`` argument); for a generator without one, a sequence seeded from its draws."""
    seq = getattr(rng.bit_generator, "seed_seq", None)
    if isinstance(seq, np.random.SeedSequence):
        return seq
    return np.random.SeedSequence(int(rng.integers(2**63)))


class Streams:
    """The generators of one market of a run: ``streams.get("reversals", month)``.

    Market ``market`` (its position among the scenario's markets) has streams of its own:
    the first market's keys are ``spawn_key + (TAG, index of the name)``, as in a one-market
    run, the others' ``spawn_key + (TAG, index of the name, market)``.
    """

    def __init__(self, root: np.random.SeedSequence, market: int = 0) -> None:
        self.root = root
        self._tail = (market,) if market else ()
        self._month: int | None = None
        self._streams: dict[str, tuple[np.random.Generator, np.random.BitGenerator, dict,
                                       list[int]]] = {}
        """Per stream name: its generator, the generator's bit generator, the saved state each
        month starts from and that state's counter (see :meth:`_new`)."""
        self._started: set[str] = set()

    def get(self, name: str, month: int) -> np.random.Generator:
        """The generator of stream ``name`` for simulated step ``month`` (0 = the first
        simulated month, burn-in included; :data:`SETUP` for set-up). Asked again in the same
        month, it returns the same generator, continuing where it left off."""
        if month != self._month:
            self._month = month
            self._started.clear()
        elif name in self._started:
            return self._streams[name][0]
        stream = self._streams.get(name)
        if stream is None:
            stream = self._streams[name] = self._new(name)
        # The start of this month: counter (0, 0, month + 1, 0) (the saved state's other
        # words stay 0), nothing buffered. A month draws far fewer than 2**128 blocks, so
        # months never overlap.
        generator, bit_generator, state, counter = stream
        counter[2] = month + 1
        bit_generator.state = state
        self._started.add(name)
        return generator

    def _new(self, name: str) -> tuple[np.random.Generator, np.random.BitGenerator, dict,
                                       list[int]]:
        """Stream ``name``'s generator, its bit generator, the state its months start from
        (its key, nothing buffered) and that state's counter words, which :meth:`get` sets."""
        key = np.random.SeedSequence(self.root.entropy, pool_size=self.root.pool_size,
                                     spawn_key=self.root.spawn_key
                                     + (TAG, STREAMS.index(name)) + self._tail)
        generator = np.random.Generator(np.random.Philox(key=key.generate_state(2, np.uint64)))
        state = generator.bit_generator.state
        state["buffer_pos"] = len(state["buffer"])  # nothing buffered
        state["has_uint32"] = 0
        # Python ints, not numpy arrays: the state setter reads them a third faster.
        state["state"] = {key: words.tolist() for key, words in state["state"].items()}
        state["buffer"] = state["buffer"].tolist()
        return generator, generator.bit_generator, state, state["state"]["counter"]
