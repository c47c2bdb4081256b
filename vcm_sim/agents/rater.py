"""Rating agencies: each covers a share of projects and publishes a letter rating of each, its
estimate of the real tonnes behind a credit of the project put on a scale.

What an agency rates is a project's real tonnes per credit claimed, ``additionality / (1 +
inflation)`` (the hidden truth of :mod:`vcm_sim.issuance`: the share of a claimed tonne that is
additional, after the developer's over-claiming). Its estimate is that truth plus an error of
its own, drawn once per project it covers (agencies therefore disagree), plus, for an agency
the developers pay, an upward bias. The letter rating is the estimate on the scale AAA, AA, A,
BBB, BB, B, C, D, one notch per ``notch_width``. Ratings follow the truth as it changes (a
developer's inflation cut after detection, or reset by an audit) and agencies learn from
evidence: when inflation on a project is found, at verification or by an audit, each agency
rating it corrects a share ``revision_weight`` of its error there. Its reputation is its
track record on such cases, recency-weighted: each moves it a share ``reputation_weight``
towards 0 if it had rated the project A or above (a miss), towards 1 if below (a call the
evidence bore out).

Agencies are observers here: no buyer, lender or rule reads their ratings yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vcm_sim.agents.base import Member
from vcm_sim.scenario import RatingAgencies as RaterParams

GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "C", "D")
"""The rating scale, best first; a grade is its position here (0 = AAA)."""
A_OR_ABOVE = GRADES.index("A")
UNRATED = -1


class RatingAgency(Member):
    """A rating agency: its accuracy, who pays it and its reputation."""

    prefix = "rater"

    @property
    def error_sd(self) -> float:
        """Standard deviation of its error on a project's real tonnes per credit."""
        return float(self.market.raters.error_sd[self.index])

    @property
    def developer_paid(self) -> bool:
        """Whether developers pay for its ratings (else buyers subscribe)."""
        return bool(self.market.raters.developer_paid[self.index])

    @property
    def reputation(self) -> float:
        """Its track record (0-1) on projects found over-credited: 1 when it rated all of
        them below A, towards 0 as it rated them A or above (recency-weighted)."""
        return float(self.market.raters.reputation[self.index])

    def rating(self, project: int) -> str | None:
        """Its letter rating of ``project``, or ``None`` if it does not cover it."""
        grade = int(self.market.raters.grades(self.market.projects)[self.index, project])
        return None if grade == UNRATED else GRADES[grade]


@dataclass
class RaterPanel:
    """All rating agencies of a market as arrays: per agency its accuracy, fee model and
    reputation; per agency and project whether it covers the project and its error there."""

    error_sd: np.ndarray
    developer_paid: np.ndarray
    reputation: np.ndarray
    params: RaterParams
    seen: int = 0
    """Projects the agencies have decided whether to cover (the first ``seen``)."""
    covers: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    error: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    @classmethod
    def create(cls, rng: np.random.Generator, n: int, params: RaterParams) -> RaterPanel:
        """``n`` agencies: error standard deviations lognormal around ``params.error_sd``;
        the first ``developer_paid_share`` of them (rounded) developer-paid."""
        return cls(error_sd=params.error_sd * rng.lognormal(0.0, params.error_spread, n),
                   developer_paid=np.arange(n) < round(params.developer_paid_share * n),
                   reputation=np.ones(n), params=params,
                   covers=np.zeros((n, 0), dtype=bool), error=np.zeros((n, 0)))

    def cover_new(self, rng: np.random.Generator, n_projects: int) -> None:
        """Each agency decides whether to cover each project it has not seen yet (the
        projects ``seen`` to ``n_projects - 1``) and draws its error there. Draws are one row
        per project, so a project's draws do not depend on how many came before it."""
        new = n_projects - self.seen
        if new <= 0:
            return
        n = len(self.error_sd)
        covers = rng.random((n_projects, n))[self.seen:] < self.params.coverage
        error = self.error_sd * rng.standard_normal((n_projects, n))[self.seen:]
        self.covers = np.concatenate([self.covers, covers.T], axis=1)
        self.error = np.concatenate([self.error, error.T], axis=1)
        self.seen = n_projects

    def estimates(self, projects) -> np.ndarray:
        """Each agency's estimate of each project's real tonnes per credit (agencies x
        projects seen): the truth plus its error plus its bias if developers pay it."""
        truth = projects.additionality[:self.seen] / (1.0 + projects.inflation[:self.seen])
        bias = np.where(self.developer_paid, self.params.developer_paid_bias, 0.0)
        return truth + self.error + bias[:, None]

    def grades(self, projects) -> np.ndarray:
        """Each agency's grade of each project seen (0 = AAA ... 7 = D; :data:`UNRATED` where
        it does not cover the project): AAA for an estimate of at least ``1 - notch_width``
        real tonnes per credit, each notch one width lower, D below ``1 - 7 * notch_width``."""
        shortfall = (1.0 - self.estimates(projects)) / self.params.notch_width
        # A notch includes its floor (0.9 is AAA); rounding keeps 0.4 / 0.1 = 4.000000000000001
        # on its floor.
        grade = np.ceil(np.round(shortfall, 9)) - 1
        grade = np.clip(grade, 0, len(GRADES) - 1).astype(np.int64)
        return np.where(self.covers, grade, UNRATED)

    def consensus(self, projects) -> np.ndarray:
        """Per project seen, the median grade of the agencies covering it, rounded towards
        the worse grade (:data:`UNRATED` when none does)."""
        grades = self.grades(projects).astype(float)
        grades[grades == UNRATED] = np.nan
        rated = ~np.isnan(grades).all(axis=0)
        median = np.full(grades.shape[1], float(UNRATED))
        if rated.any():
            median[rated] = np.ceil(np.nanmedian(grades[:, rated], axis=0))
        return median.astype(np.int64)

    def evidence(self, projects, found: np.ndarray) -> None:
        """Inflation has been found on projects ``found``: each agency covering one scores
        it (0 if it rated it A or above, before it learns, else 1) into its reputation with
        weight ``reputation_weight`` per project, then corrects ``revision_weight`` of its
        error on it."""
        found = found[found < self.seen]
        if not len(found):
            return
        grades = self.grades(projects)[:, found]
        keep = 1.0 - self.params.reputation_weight
        for a, row in enumerate(grades):
            for grade in row[row != UNRATED].tolist():
                self.reputation[a] = keep * self.reputation[a] + (1.0 - keep) * (
                    grade > A_OR_ABOVE)
        self.error[:, found] *= 1.0 - self.params.revision_weight
