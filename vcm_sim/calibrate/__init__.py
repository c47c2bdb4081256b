"""Calibration of the ``history`` scenario to the data with ABC-SMC (pyabc): calibration files,
samplers on local processes or Dask, a resumable output folder and its reports. The model core
never imports this package.

Python entry point: :func:`calibrate` runs (or resumes) a calibration file; the command line is
``vcm-sim calibrate SPEC.toml``. What is reproducible is said in :mod:`vcm_sim.calibrate.run`.
"""

from vcm_sim.calibrate.run import CalibrationInterrupted, Outcome, calibrate
from vcm_sim.calibrate.spec import CalibrationError, CalibrationSpec, load_spec

__all__ = ["CalibrationError", "CalibrationInterrupted", "CalibrationSpec", "Outcome",
           "calibrate", "load_spec"]
