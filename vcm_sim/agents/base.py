"""What every agent shares: an index into its population's arrays and a registry account.

Population-wide state lives in numpy arrays (one population object per agent type) so that
decisions over thousands of agents are a few vectorised calls; the Mesa agents are the
identities behind those rows, for inspection, the page and agent-level recording.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import mesa

if TYPE_CHECKING:
    from vcm_sim.jurisdiction import Jurisdiction


class Member(mesa.Agent):
    """A Mesa agent that is row ``index`` of its population in ``market`` (a
    :class:`~vcm_sim.jurisdiction.Jurisdiction`, whose arrays hold the agent's state)."""

    prefix: ClassVar[str] = "agent"

    def __init__(self, model: mesa.Model, index: int, market: Jurisdiction) -> None:
        super().__init__(model)
        self.index = int(index)
        self.market = market

    @property
    def account(self) -> str:
        """The agent's account name in the registry and the cash book."""
        return account_name(self.prefix, self.index)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.account})"


def account_name(prefix: str, index: int) -> str:
    """Registry account of member ``index`` of the population with ``prefix``."""
    return f"{prefix}-{index}"
