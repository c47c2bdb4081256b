"""Sweep output on disk: one Parquet file per finished run, written atomically, plus a manifest.

Layout of an output folder ``DIR``::

    DIR/manifest.json          what ran: sweep file and hash, versions, sessions, counts
    DIR/sweep.toml             a copy of the sweep file
    DIR/parts/run-0000042.parquet    one row: the run's id, parameters, seed, status, metrics
    DIR/series/run-0000042.parquet   the run's per-step series (only if the sweep keeps them)
    DIR/runs.parquet           every row in run-id order, rebuilt when a session ends

A run's files are written to a temporary name and renamed into place (``os.replace``), the
series before the row: a row on disk means the run is complete, and a process killed at any
instant leaves either nothing or a whole file. ``parts/`` is the source of truth; resuming reads
the run ids there and skips them.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vcm_sim.sweep.spec import SweepError

_PART = re.compile(r"^run-(\d+)\.parquet$")


def now() -> str:
    """The current UTC time, ISO 8601, seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def part_name(run_id: int) -> str:
    """File name of a run's part file."""
    return f"run-{run_id:07d}.parquet"


class RunStore:
    """The output folder of one sweep."""

    def __init__(self, out: str | Path):
        self.out = Path(out)
        self.parts = self.out / "parts"
        self.series = self.out / "series"
        self.manifest_path = self.out / "manifest.json"

    # -- state ------------------------------------------------------------------------------
    def exists(self) -> bool:
        """True if the folder already holds a sweep (a manifest or any part file)."""
        return self.manifest_path.is_file() or any(self._part_files())

    def completed(self, *, include_failed: bool = True) -> set[int]:
        """Run ids that have a row on disk (only successful ones if ``include_failed`` is off)."""
        ids = {int(_PART.match(p.name).group(1)) for p in self._part_files()}
        if include_failed or not ids:
            return ids
        runs = self.load_runs(columns=["run_id", "status"])
        return set(runs.loc[runs["status"] == "ok", "run_id"].astype(int))

    def clean_temporary(self) -> int:
        """Remove half-written files a killed process left behind; return how many."""
        removed = 0
        for folder in (self.parts, self.series, self.out):
            if folder.is_dir():
                for tmp in folder.glob(".*.tmp*"):
                    tmp.unlink(missing_ok=True)
                    removed += 1
        return removed

    # -- writing ----------------------------------------------------------------------------
    def prepare(self, sweep_file: str | Path) -> None:
        """Create the folders and keep a copy of the sweep file."""
        self.parts.mkdir(parents=True, exist_ok=True)
        self.series.mkdir(parents=True, exist_ok=True)
        self._atomic_bytes(self.out / "sweep.toml", Path(sweep_file).read_bytes())

    def write_run(self, row: dict[str, Any], series: pd.DataFrame | None = None) -> Path:
        """Write one finished run (its series first), each file atomically; return the row's
        path. Writing a run id again replaces its files."""
        name = part_name(int(row["run_id"]))
        if series is not None:
            self._atomic_table(self.series / name, pa.Table.from_pandas(series,
                                                                        preserve_index=False))
        target = self.parts / name
        self._atomic_table(target, pa.Table.from_pylist([row]))
        return target

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Replace the manifest atomically."""
        text = json.dumps(manifest, indent=2, sort_keys=False, default=_json_default)
        self._atomic_bytes(self.manifest_path, (text + "\n").encode())

    def read_manifest(self) -> dict[str, Any]:
        """The manifest, or a :class:`SweepError` if there is none."""
        if not self.manifest_path.is_file():
            raise SweepError(f"{self.out} has no manifest.json: not a sweep output folder")
        return json.loads(self.manifest_path.read_text())

    def consolidate(self, runs: pd.DataFrame | None = None) -> Path | None:
        """Rewrite ``runs.parquet`` from the part files (all rows, run-id order); ``runs`` is
        what :meth:`load_runs` returned, if the caller has it already."""
        runs = self.load_runs() if runs is None else runs
        if runs.empty:
            return None
        target = self.out / "runs.parquet"
        self._atomic_table(target, pa.Table.from_pandas(runs, preserve_index=False))
        return target

    # -- reading ----------------------------------------------------------------------------
    def load_runs(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Every run's row, one per run id, sorted by run id (columns unified across parts)."""
        return _concat(self._part_files(), columns)

    def load_series(self, run_ids: Iterable[int] | None = None) -> pd.DataFrame:
        """Per-step series of the given runs (default: all), with a ``run_id`` column."""
        if run_ids is None:
            files = sorted(p for p in self.series.glob("run-*.parquet") if _PART.match(p.name))
        else:
            files = [self.series / part_name(int(i)) for i in run_ids]
            files = [f for f in files if f.is_file()]
        return _concat(files, None, sort=["run_id", "step"])

    # -- helpers ----------------------------------------------------------------------------
    def _part_files(self) -> list[Path]:
        if not self.parts.is_dir():
            return []
        return sorted(p for p in self.parts.iterdir() if _PART.match(p.name))

    def _atomic_table(self, target: Path, table: pa.Table) -> None:
        tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
        pq.write_table(table, tmp)
        os.replace(tmp, target)

    def _atomic_bytes(self, target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, target)


def load_runs(out: str | Path) -> pd.DataFrame:
    """The run table of a sweep output folder: one row per finished run, in run-id order."""
    store = RunStore(out)
    if not store.exists():
        raise SweepError(f"{out} holds no sweep output (no manifest.json, no parts/)")
    return store.load_runs()


def load_series(out: str | Path, run_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """The per-step series of a sweep output folder (runs kept with ``series``)."""
    return RunStore(out).load_series(run_ids)


def _concat(files: list[Path], columns: list[str] | None,
            sort: list[str] | None = None) -> pd.DataFrame:
    if not files:
        return pd.DataFrame(columns=columns or [])
    tables = [pq.read_table(f, columns=columns) for f in files]
    table = pa.concat_tables(tables, promote_options="permissive")
    frame = table.to_pandas()
    keys = [k for k in (sort or ["run_id"]) if k in frame.columns]
    if keys:
        frame = frame.sort_values(keys, kind="stable").reset_index(drop=True)
    return frame


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-serialisable: {value!r}")
