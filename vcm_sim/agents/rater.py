"""Rating agencies: each covers a share of projects and publishes a letter rating of each, its
estimate of the real tonnes behind a credit of the project put on a scale.

What an agency rates is a project's real tonnes per credit claimed, ``additionality / (1 +
inflation)`` (the hidden truth of :mod:`vcm_sim.issuance`: the share of a claimed tonne that is
additional, after the developer's over-claiming). Its estimate is that truth plus an error of
its own, drawn once per project it covers (agencies therefore disagree), plus, for an agency
the developers pay, an upward bias. The letter rating is the estimate on the scale AAA, AA, A,
BBB, BB, B, C, D, one notch per ``notch_width``.

An agency thus sees the truth as it is now, through its own error: the model does not say how
an agency learns a developer's inflation, only how wrong it is about it, and its ratings move
when the truth moves (inflation cut after a detection, reset by an audit). When inflation on a
project is found, at verification or by an audit, the case is public: each agency covering it
corrects a share ``revision_weight`` of its error there, and scores the case in its
reputation, a recency-weighted track record: a miss (towards 0, by ``reputation_weight``) if it
had rated the project better than the truth the case revealed, a call borne out (towards 1)
otherwise. A lenient or noisy agency misses; an accurate one does not.

Their ratings are public: watchdogs see claims better for them (``exposure.ratings_visibility``)
and, with ``rules.market.quality_books``, buyers see each credit's rating
(:mod:`vcm_sim.segments`, :mod:`vcm_sim.valuation`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtri

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
        """Its track record (0-1) on projects found inflated: 1 when it never rated one better
        than the truth the case revealed, towards 0 as it did (recency-weighted)."""
        return float(self.market.raters.reputation[self.index])

    def rating(self, project: int) -> str | None:
        """Its letter rating of ``project``, or ``None`` if it does not cover it (or has not
        seen it yet)."""
        raters = self.market.raters
        if not 0 <= project < raters.seen:
            return None
        grade = int(raters.grades(self.market.projects)[self.index, project])
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
        the first ``developer_paid_share`` of them developer-paid (rounded, halves to even,
        as the other populations' shares are)."""
        return cls(error_sd=params.error_sd * rng.lognormal(0.0, params.error_spread, n),
                   developer_paid=np.arange(n) < round(params.developer_paid_share * n),
                   reputation=np.ones(n), params=params,
                   covers=np.zeros((n, 0), dtype=bool), error=np.zeros((n, 0)))

    def cover_new(self, rng: np.random.Generator, n_projects: int) -> None:
        """Each agency decides whether to cover each project it has not seen yet (the
        projects ``seen`` to ``n_projects - 1``) and draws its error there. Draws are one row
        per project (coverage then error, per agency), so a project's draws do not depend on
        how many projects there are."""
        if n_projects <= self.seen:
            return
        n = len(self.error_sd)
        draw = rng.random((n_projects, 2 * n))[self.seen:]
        covers = draw[:, :n] < self.params.coverage
        error = self.error_sd * ndtri(draw[:, n:])
        self.covers = np.concatenate([self.covers, covers.T], axis=1)
        self.error = np.concatenate([self.error, error.T], axis=1)
        self.seen = n_projects

    def truth(self, projects) -> np.ndarray:
        """Real tonnes per credit claimed of each project seen, now (hidden truth)."""
        return projects.additionality[:self.seen] / (1.0 + projects.inflation[:self.seen])

    def estimates(self, projects) -> np.ndarray:
        """Each agency's estimate of each project's real tonnes per credit (agencies x
        projects seen): the truth plus its error plus its bias if developers pay it."""
        bias = np.where(self.developer_paid, self.params.developer_paid_bias, 0.0)
        return self.truth(projects) + self.error + bias[:, None]

    def grades(self, projects) -> np.ndarray:
        """Each agency's grade of each project seen (0 = AAA ... 7 = D; :data:`UNRATED` where
        it does not cover the project)."""
        return np.where(self.covers, self.grade(self.estimates(projects)), UNRATED)

    def grade(self, tonnes: np.ndarray) -> np.ndarray:
        """The grade (0 = AAA ... 7 = D) of real tonnes per credit ``tonnes``: AAA from
        ``1 - notch_width``, each notch one width lower, D below ``1 - 7 * notch_width``."""
        shortfall = (1.0 - tonnes) / self.params.notch_width
        # A notch includes its floor (0.9 is AAA); rounding keeps 0.4 / 0.1 = 4.000000000000001
        # on its floor.
        grade = np.ceil(np.round(shortfall, 9)) - 1
        return np.clip(grade, 0, len(GRADES) - 1).astype(np.int64)

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

    def band(self, consensus: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """The rating band of projects ``ids`` given the agencies' ``consensus`` (of the
        projects seen, :meth:`consensus`): 0 when it rates a project A or above, 1 below A, 2
        when no agency covers it (or none has seen it yet)."""
        grade = np.full(len(ids), UNRATED)
        seen = ids < len(consensus)
        if seen.any():
            grade[seen] = consensus[ids[seen]]
        return np.where(grade == UNRATED, 2, (grade > A_OR_ABOVE).astype(np.int64))

    def evidence(self, projects, found: np.ndarray) -> None:
        """Inflation has been found on projects ``found`` (called before it is cut): each
        agency covering one scores the case into its reputation with weight
        ``reputation_weight`` (0 if its grade was better than the grade of the truth, else
        1), then corrects ``revision_weight`` of its error on it."""
        found = found[found < self.seen]
        if not len(found):
            return
        grades = self.grades(projects)[:, found]
        revealed = self.grade(self.truth(projects)[found])
        keep = 1.0 - self.params.reputation_weight
        for a, row in enumerate(grades):
            covered = row != UNRATED
            for borne_out in (row[covered] >= revealed[covered]).tolist():
                self.reputation[a] = keep * self.reputation[a] + (1.0 - keep) * borne_out
        self.error[:, found] *= 1.0 - self.params.revision_weight
