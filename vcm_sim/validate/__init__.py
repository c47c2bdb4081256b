"""``vcm-sim validate``: the hindcast against the observed market, rebuilt from scratch.

Posterior draws of the calibrated parameters (each with its own seed) run the ``history``
preset with and without its driver series; :mod:`~vcm_sim.validate.checks` sets their yearly
flows and prices against the targets, :mod:`~vcm_sim.validate.literature` their integrity
against published rows, and :mod:`~vcm_sim.validate.report` writes ``results/validation/``.
"""
