"""Perturbation kernels for ABC-SMC that pyabc lacks.

pyabc's :class:`~pyabc.LocalTransition` (a Gaussian kernel per particle with the covariance of
its nearest neighbours; Filippi et al. 2013) finds neighbours by Euclidean distance in the
parameters' own units, so with settings on different scales (2-80 founding developers against
a weight in 0-1) the neighbours are those with the nearest count of developers. Here the
particles are first divided by their weighted standard deviation per parameter: neighbours are
then near in every parameter at once, and the kernel is the same whatever units the settings
use. The density changes by a constant factor (the product of the scales), which cancels in
the normalised importance weights but is kept so that ``pdf`` is a density.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyabc
from pyabc.transition import Transition
from pyabc.parameters import Parameter


class StandardisedLocalTransition(Transition):
    """pyabc's LocalTransition on parameters divided by their weighted standard deviation."""

    def __init__(self, k_fraction: float = 0.25) -> None:
        self.k_fraction = k_fraction

    def fit(self, X: pd.DataFrame, w: np.ndarray) -> None:
        """Fit the local kernels to particles ``X`` with weights ``w`` (summing to 1)."""
        mean = np.average(X.to_numpy(), axis=0, weights=w)
        spread = np.sqrt(np.average((X.to_numpy() - mean) ** 2, axis=0, weights=w))
        self.scale = pd.Series(np.where(spread > 0, spread, 1.0), index=X.columns)
        self.local = pyabc.LocalTransition(k_fraction=self.k_fraction)
        self.local.fit(X / self.scale, w)

    def rvs_single(self) -> Parameter:
        """One perturbed particle, in the parameters' own units."""
        sample = self.local.rvs_single()
        return Parameter({name: value * self.scale[name] for name, value in sample.items()})

    def pdf(self, x: Parameter | pd.Series | pd.DataFrame) -> float | np.ndarray:
        """The kernel density at ``x`` (one particle or a frame of them), per unit of the
        parameters' own units."""
        if isinstance(x, pd.DataFrame):
            scaled: pd.Series | pd.DataFrame = x[self.scale.index] / self.scale
        else:
            scaled = pd.Series(dict(x))[self.scale.index] / self.scale
        return self.local.pdf(scaled) / float(np.prod(self.scale.to_numpy()))
