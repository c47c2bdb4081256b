"""Batches: the serial ranges credits are issued in, and the imported batches that carry them
into other registries."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Batch:
    """Credits ``serial_start`` to ``serial_end - 1`` of one project vintage.

    A batch this registry issued has no ``origin``. An imported batch came from another
    registry: ``origin`` names the registry that issued its credits and ``origin_batch`` is
    their batch there; its serials are the origin's numbers of exactly the credits that came.
    ``label`` is the integrity label its credits carry (an ICVCM-style Core Carbon Principles
    label, say), set when the batch is issued and kept by every credit of it wherever it
    goes; ``None`` when unlabelled.
    """

    batch_id: int
    project: str
    vintage: int
    serial_start: int
    serial_end: int
    origin: str | None = None
    origin_batch: int | None = None
    label: str | None = None

    @property
    def quantity(self) -> int:
        """Credits issued in this batch, or imported into it (tCO2e claimed)."""
        return self.serial_end - self.serial_start
