"""Fixtures of the sweep tests (helpers live in ``tests.sweep.sweep_helpers``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sweep.sweep_helpers import GRID, write_sweep


@pytest.fixture
def grid_file(tmp_path: Path) -> Path:
    """Two parameters x two values x two replications: 8 runs."""
    return write_sweep(tmp_path, GRID)
