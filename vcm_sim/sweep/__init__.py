"""Parameter sweeps on top of the model: sweep files, samplers, backends, resumable output and
reports. The model core never imports this package.

Python entry points: :func:`sweep` runs a sweep file, :func:`report` analyses its output,
:func:`load_runs` and :func:`load_series` read it back. See ``docs/sweeps.md``.
"""

from vcm_sim.sweep.runner import (RunTask, SweepInterrupted, SweepOutcome, run_one, run_seed,
                                  simulate, sweep)
from vcm_sim.sweep.spec import SweepError, SweepSpec, load_sweep, parse_sweep
from vcm_sim.sweep.store import RunStore, load_runs, load_series


def report(out, report_dir=None, **kwargs):
    """Summary tables, figures and Sobol indices of a sweep output folder (see
    :func:`vcm_sim.sweep.report.report`)."""
    from vcm_sim.sweep.report import report as _report

    return _report(out, report_dir, **kwargs)


__all__ = ["RunStore", "RunTask", "SweepError", "SweepInterrupted", "SweepOutcome", "SweepSpec",
           "load_runs", "load_series", "load_sweep", "parse_sweep", "report", "run_one",
           "run_seed", "simulate", "sweep"]
