"""Issuance batches: the serial ranges credits are issued in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Batch:
    """An issuance batch: credits ``serial_start`` to ``serial_end - 1`` of one project vintage."""

    batch_id: int
    project: str
    vintage: int
    serial_start: int
    serial_end: int

    @property
    def quantity(self) -> int:
        """Credits issued in this batch (tCO2e claimed)."""
        return self.serial_end - self.serial_start
