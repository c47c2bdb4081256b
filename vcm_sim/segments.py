"""Market segments: what buyers can see of a credit's quality splits its type's market.

With ``rules.market.quality_books`` on, each project type trades in one book per segment: the
rating agencies' consensus grade of the credit's project (AAA ... D, or unrated; see
:mod:`vcm_sim.agents.rater`), whether the credit carries the integrity label (see
:mod:`vcm_sim.labels`) and whether its vintage is older than
``rules.market.recent_vintage_years``. A book is ``type * n + segment``, ``n`` the segments
per type, and a segment is ``(grade * 2 + labelled) * 2 + older`` (:meth:`Segments.code`;
grade :data:`UNRATED_SEGMENT` for unrated credits). Off, a type trades in one book (``n`` =
1), whatever agencies, labels and vintages there are.

A credit's segment is its batch's, read once a month before the market opens
(:meth:`Segments.of_batches`): ratings move between months (audits, revisions) and vintages
age at the turn of the year, not during the clearing, so what a seller offers in a book is
what it delivers there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from vcm_sim.agents.rater import A_OR_ABOVE, GRADES, UNRATED

if TYPE_CHECKING:
    from vcm_sim.jurisdiction import Jurisdiction

UNRATED_SEGMENT = len(GRADES)
"""The grade position of unrated credits in a segment (after D)."""
RATING_SEGMENTS = len(GRADES) + 1
LABEL_STATES = 2
"""Unlabelled, labelled."""
AGE_STATES = 2
"""Recent vintage, older vintage."""
BANDS = ("a_or_above", "below_a", "unrated")
"""Rating bands the results report prices in: consensus A or above, below A, no rating."""


@dataclass(frozen=True)
class Segments:
    """How a market's books split each project type: ``n`` segments per type."""

    on: bool
    n: int
    recent_years: int = 0
    """Vintage age (years) up to which a credit counts as recent."""

    @classmethod
    def of(cls, market: Jurisdiction) -> Segments:
        """The market's segmentation: by grade, label and vintage with quality books on,
        else none."""
        rules = market.config.rules.market
        if not rules.quality_books:
            return cls(False, 1)
        return cls(True, RATING_SEGMENTS * LABEL_STATES * AGE_STATES, rules.recent_vintage_years)

    @staticmethod
    def code(grade: np.ndarray | int, labelled: np.ndarray | int = 0,
             older: np.ndarray | int = 0) -> np.ndarray:
        """The segment of credits of ``grade`` (0 = AAA ... :data:`UNRATED_SEGMENT`),
        ``labelled`` or not, of an ``older`` vintage or not."""
        return (np.asarray(grade) * LABEL_STATES + labelled) * AGE_STATES + older

    @property
    def plain(self) -> int:
        """The segment of unrated, unlabelled credits of a recent vintage (0 when books do
        not split): where covered firms' bids and bids with no segment on offer go."""
        return int(self.code(UNRATED_SEGMENT)) if self.on else 0

    def book(self, kind: np.ndarray, segment: np.ndarray | int = 0) -> np.ndarray:
        """Book of each order: project type ``kind`` and ``segment`` (see the module)."""
        if self.n == 1:  # one segment, 0: a type's one book
            return np.array(kind, dtype=np.int64)
        return np.asarray(kind, dtype=np.int64) * self.n + segment

    def kind(self, book: np.ndarray) -> np.ndarray:
        """Project type of each book."""
        return np.asarray(book) // self.n

    def books(self, n_types: int) -> int:
        """Number of books of ``n_types`` project types."""
        return n_types * self.n

    def of_batches(self, market: Jurisdiction) -> np.ndarray | None:
        """Segment of each batch of the market's registry now (None when books do not
        split): its project's consensus grade (unrated without agencies or coverage), its
        label and its vintage's age this year. Imported batches (Article 6) count as
        unrated, unlabelled and recent."""
        if not self.on:
            return None
        n_batches = len(market.registry.batches)
        own = market.truth.size
        grade = np.full(n_batches, UNRATED_SEGMENT, dtype=np.int64)
        if len(market.rater_agents) and market.raters.seen:
            project = market.truth.view("project")
            consensus = market.consensus()
            seen = project < market.raters.seen
            rated = np.full(own, UNRATED, dtype=np.int64)
            rated[seen] = consensus[project[seen]]
            grade[:own] = np.where(rated == UNRATED, UNRATED_SEGMENT, rated)
        labelled = np.zeros(n_batches, dtype=np.int64)
        mask = market.labels.labelled[:n_batches]  # grown ahead of the batches
        labelled[:len(mask)] = mask
        older = np.zeros(n_batches, dtype=np.int64)
        older[:own] = market.year - market.truth.view("vintage") > self.recent_years
        return self.code(grade, labelled, older)

    def grade(self, segment: np.ndarray) -> np.ndarray:
        """Grade position (0 = AAA ... 7 = D, :data:`UNRATED_SEGMENT`) of each segment."""
        return np.asarray(segment) // (LABEL_STATES * AGE_STATES)

    def labelled(self, segment: np.ndarray) -> np.ndarray:
        """Whether each segment holds labelled credits."""
        return np.asarray(segment) // AGE_STATES % LABEL_STATES == 1

    def older(self, segment: np.ndarray) -> np.ndarray:
        """Whether each segment holds credits of an older vintage."""
        return np.asarray(segment) % AGE_STATES == 1

    def band(self, segment: np.ndarray) -> np.ndarray:
        """Rating band of each segment: 0 A or above, 1 below A, 2 unrated (see
        :data:`BANDS`)."""
        grade = self.grade(segment)
        return np.where(grade == UNRATED_SEGMENT, 2, (grade > A_OR_ABOVE).astype(np.int64))
