"""vcm_sim: agent-based simulation of the voluntary carbon market for NbS credits."""
