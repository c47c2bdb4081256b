"""The agents: one module per type. Mesa agents are identities; populations hold arrays."""

from vcm_sim.agents.developer import ProjectDeveloper
from vcm_sim.agents.firm import EmittingFirm
from vcm_sim.agents.rater import RatingAgency
from vcm_sim.agents.regulator import Regulator
from vcm_sim.agents.trader import Trader
from vcm_sim.agents.verifier import Verifier

__all__ = ["EmittingFirm", "ProjectDeveloper", "RatingAgency", "Regulator", "Trader",
           "Verifier"]
