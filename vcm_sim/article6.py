"""Article 6 of the Paris Agreement between linked markets: authorisation, corresponding
adjustments, international transfers and double claiming.

A host authorises the credits of a share of its projects for international use
(``rules.article6.authorised_share``, a letter of authorisation per project, given in order
of registration: :func:`authorised`), those they issue in the simulated months (not the
seeded past's). Their developers offer them first in the markets whose buyers require
adjusted credits (``rules.article6.adjusted_only``, CORSIA-like compliance demand), as many
as those buyers are expected to bid for, asking at the best price expected there net of the
transfer cost; the rest they offer at home, where they sell without an adjustment like any
other credit (see :meth:`~vcm_sim.linking.Link.route`). A market that requires adjusted
credits clears every type in one book: for its buyers an eligible unit is an eligible unit.
A sale abroad
moves the credits from the host's registry to the buyer's as an international transfer (an
export entry in one journal, an import entry in the other:
:func:`~vcm_sim.registry.transfer_abroad`), where the buyer retires them behind its claim;
the host makes a corresponding adjustment for each credit, so its inventory no longer
counts the tonne (:attr:`~vcm_sim.jurisdiction.Tally.adjusted_tco2`). The claim's real
tonnes are the origin's hidden truth, counted in the buyer's market's integrity metrics.

Credits sold abroad without authorisation (mutual recognition) stay in the host's registry
and its inventory. A tonne retired behind a buyer's offsetting claim abroad is then counted
twice, by the host and by the buyer: double claiming
(:attr:`~vcm_sim.jurisdiction.Tally.double_claimed_tco2`). A contribution claim
(``firms.contribution_share``) does not count the tonne against the buyer's emissions, so
it does not double claim. A buyer at home counting its own country's tonne is not double
claiming in this sense (the host's inventory and the claim are in one country).

Not modelled yet: authorised credits sold to voluntary buyers abroad (with or without an
adjustment), imports into a registry that also issues (a market that requires adjusted
credits has no developers of its own), a developer's choice to seek authorisation, and a
host's share of proceeds.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable

import numpy as np

from vcm_sim.registry import transfer_abroad

if TYPE_CHECKING:
    from vcm_sim.jurisdiction import Jurisdiction

GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def authorised(project: np.ndarray, share: float) -> np.ndarray:
    """Which of the projects with ids ``project`` the host authorises, for an authorised
    ``share`` (0-1): those whose point of the golden-ratio sequence falls below the share.
    Any run of consecutive registrations gets the share to within a project or two, whatever
    the projects' attributes, and no random draw is spent (other streams stay as they were).
    """
    return ((np.asarray(project) + 1) * GOLDEN) % 1.0 < share


def batch_filter(market: Jurisdiction, want: bool,
                 also: Callable[[int], bool] | None = None) -> Callable[[int], bool] | None:
    """Predicate on batch ids of ``market``'s registry: the batch's credits are authorised
    (``want`` True) or not (False), and ``also`` holds (None: no further condition).
    Authorised credits are those of authorised projects issued in the simulated months (a
    letter of authorisation does not reach back to the seeded past). In a market that has
    authorised no project, no batch is and every batch is not: then the predicate is
    ``also`` itself (None when that is None), and a market without Article 6 filters and
    delivers exactly as it would without this module."""
    flag, project, first = market.projects.authorised, market.truth.project, market.first_run_batch
    if not flag.any():
        return also if not want else (lambda b: False)
    if also is None:
        return lambda b: (b >= first and bool(flag[project[b]])) == want
    return lambda b: (b >= first and bool(flag[project[b]])) == want and also(b)


def deliver_adjusted(origin: Jurisdiction, market: Jurisdiction, sellers: list[str],
                     holder: str, buyers: list[str], quantity: np.ndarray,
                     eligible: Callable[[int], bool] | None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Authorised credits sold by ``origin``'s developers ``sellers`` to ``market``'s firms
    ``buyers`` (``quantity[m]`` credits for match ``m``, oldest eligible batches first): each
    seller delivers them to ``holder`` in its registry, which transfers them to the buyer's
    account in ``market``'s registry, where the buyer retires them behind its claim for the
    year. The host adjusts its inventory for every credit. Returns, per leg, the match, the
    origin's batch and the credits."""
    legs = origin.registry.deliver(sellers, [holder] * len(sellers), quantity,
                                   batch_filter(origin, True, eligible),
                                   retire=[False] * len(sellers))
    year = market.year
    for m, batch, credits in zip(legs.match, legs.batch, legs.quantity):
        to = buyers[m]
        for received in transfer_abroad(origin.registry, batch, holder, market.registry, to,
                                        credits):
            market.note_import(origin, received, batch)
            market.registry.retire(received, to, market.registry.balance(to, received), to,
                                   f"{to}/{year}")
    credits = np.array(legs.quantity, dtype=np.int64)
    batch = np.array(legs.batch, dtype=np.int64)
    market.record_claims(origin.truth.vintage[batch], origin.truth.real_now(batch), credits,
                         origin.projects.kind[origin.truth.project[batch]])
    origin.tally.adjusted_tco2 += int(credits.sum())
    return np.array(legs.match, dtype=np.int64), batch, credits
