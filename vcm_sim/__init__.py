"""vcm_sim: agent-based simulation of the voluntary carbon market for NbS credits.

The public names load on first use, so ``vcm-sim --help`` and the command line's error
handling start without importing the model (about 1.5 s).
"""

from importlib import import_module
from typing import Any

_PUBLIC = {"VCMModel": "vcm_sim.model", "Scenario": "vcm_sim.scenario",
           "ScenarioError": "vcm_sim.scenario", "load_scenario": "vcm_sim.scenario",
           "with_overrides": "vcm_sim.scenario"}

__all__ = list(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name == "__version__":  # one source of truth: the installed package's metadata
        from vcm_sim.sweep.manifest import package_version

        return package_version()
    if name not in _PUBLIC:
        raise AttributeError(f"module 'vcm_sim' has no attribute {name!r}")
    return getattr(import_module(_PUBLIC[name]), name)
