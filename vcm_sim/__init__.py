"""vcm_sim: agent-based simulation of the voluntary carbon market for NbS credits."""

from vcm_sim.model import VCMModel
from vcm_sim.scenario import Scenario, ScenarioError, load_scenario, with_overrides

__all__ = ["VCMModel", "Scenario", "ScenarioError", "load_scenario", "with_overrides"]
__version__ = "0.1.0"
