"""Sweep output on disk: one Parquet file per finished run, written atomically, plus a manifest.

Layout of an output folder ``DIR``::

    DIR/manifest.json          what ran: sweep file and hashes, versions, sessions, counts
    DIR/sweep.toml             a copy of the sweep file
    DIR/.lock                  held by the session writing into the folder (see lock.py)
    DIR/parts/run-0000042.parquet    one row: the run's id, parameters, seed, status, metrics
    DIR/series/run-0000042.parquet   the run's per-step series (only if the sweep keeps them)
    DIR/runs.parquet           every row in run-id order, rebuilt when a session ends

A run's files are written to a temporary name, flushed to disk (``fsync``) and renamed into place
(``os.replace``, then the folder is synced), the series before the row: a row on disk means the
run is complete, and a process killed at any instant, or a machine that loses power, leaves
either nothing or a whole file. ``parts/`` is the source of truth. Every part is checked when it
is read (one row, the identity columns, the run id of its name, and the row count of its series),
so that a damaged file is named instead of being counted as a finished run.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from vcm_sim.sweep.lock import LOCK_NAME
from vcm_sim.sweep.spec import SweepError

_PART = re.compile(r"^run-(\d+)\.parquet$")

SERIES_ROWS_KEY = b"vcm_sim.series_rows"
"""Parquet metadata key of a part: the row count of its run's series file, if it has one."""

IDENTITY_COLUMNS = {"run_id": pa.types.is_integer, "point": pa.types.is_integer,
                    "replication": pa.types.is_integer, "root_seed": pa.types.is_integer,
                    "status": pa.types.is_string}
"""Columns every part holds, with the test of their Arrow type."""

STATUSES = ("ok", "error")

RUNS_FOLDER = "runs"
"""The sweep output folder inside an experiment's results folder, ``results/<name>/runs``:
where ``vcm-sim sweep`` writes by default and the experiment scripts keep their runs."""


def now() -> str:
    """The current UTC time, ISO 8601, seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def part_name(run_id: int) -> str:
    """File name of a run's part file."""
    return f"run-{run_id:07d}.parquet"


@dataclass(frozen=True)
class Damage:
    """A run whose files cannot be trusted: the damaged file and what is wrong with it."""

    run_id: int
    path: Path
    reason: str

    def describe(self, out: Path) -> str:
        """'parts/run-0000003.parquet: unreadable (...)', relative to the output folder."""
        return f"{self.path.relative_to(out)}: {self.reason}"


class DamagedRuns(SweepError):
    """Run files of an output folder are damaged; the message names them and the way out."""

    def __init__(self, out: Path, damaged: list[Damage], sweep_file: str):
        self.damaged = damaged
        names = "; ".join(d.describe(out) for d in damaged[:5])
        more = f" and {len(damaged) - 5} more" if len(damaged) > 5 else ""
        super().__init__(f"{out} has {len(damaged)} damaged run file(s): {names}{more}; "
                         f"resume the sweep to run them again: vcm-sim sweep {sweep_file} "
                         f"--out {out} --resume")


_MANIFEST_TYPES = {"runs": int, "points": int, "replications": int, "seed": int,
                   "runs_done": int, "runs_failed": int, "sessions": list, "parameters": list,
                   "status": str, "name": str}
"""Types of the manifest fields the runner and the report read."""


def _is_a(value: Any, kind: type) -> bool:
    """``value`` is of ``kind`` (a boolean is not an int)."""
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


class ManifestUnusable(SweepError):
    """The manifest of a folder holding run files is missing or damaged."""


class _Invalid(Exception):
    """A file failed a check: which file, and what is wrong with it."""

    def __init__(self, path: Path, reason: str):
        super().__init__(path, reason)
        self.path = path
        self.reason = reason


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

    def holds_sweep(self) -> bool:
        """True if the folder is a sweep's output: it keeps the sweep file or run files (the
        copy of a manifest that a report writes next to its tables does not make one)."""
        return (self.out / "sweep.toml").is_file() or any(self._part_files())

    def other_files(self, most: int = 3) -> list[str]:
        """Names of up to ``most`` entries of the folder besides its lock file: what a new
        sweep would find there and could overwrite."""
        names = sorted(p.name for p in self.out.iterdir() if p.name != LOCK_NAME)
        return names[:most] + ([f"and {len(names) - most} more"] if len(names) > most else [])

    def check_target(self, resume: bool) -> None:
        """Refuse an output path that is not a folder, or a folder to resume that is absent;
        nothing is created."""
        if self.out.exists() and not self.out.is_dir():
            raise SweepError(f"--out {str(self.out)!r} is a file, not a folder: choose a folder "
                             f"(it is created if absent)")
        if resume and not self.out.is_dir():
            raise SweepError(f"--out {str(self.out)!r} does not exist: nothing to resume (run "
                             f"without --resume to start the sweep)")

    def scan(self) -> tuple[pd.DataFrame, list[Damage]]:
        """Every valid row on disk, and the runs whose part or series file is damaged (a row
        whose series is missing, unreadable or short counts as damaged)."""
        tables, damaged = self._read_parts(check_series=True)
        return _frame(tables), damaged

    def discard(self, damaged: Iterable[Damage]) -> None:
        """Delete the files of damaged runs, so that they count as not run."""
        for damage in damaged:
            name = part_name(damage.run_id)
            (self.parts / name).unlink(missing_ok=True)
            (self.series / name).unlink(missing_ok=True)

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
        table = pa.Table.from_pylist([row])
        if series is not None:
            self._atomic_table(self.series / name, pa.Table.from_pandas(series,
                                                                        preserve_index=False))
            table = table.replace_schema_metadata({SERIES_ROWS_KEY: str(len(series))})
        target = self.parts / name
        self._atomic_table(target, table)
        return target

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Replace the manifest atomically."""
        text = json.dumps(manifest, indent=2, sort_keys=False, default=_json_default)
        self._atomic_bytes(self.manifest_path, (text + "\n").encode())

    def read_manifest(self) -> dict[str, Any]:
        """The manifest; :class:`ManifestUnusable` if it is missing or damaged in a folder that
        holds run files, :class:`SweepError` if the folder holds no sweep at all."""
        rebuild = "rebuild it from the run files by resuming with --rebuild-manifest"
        if not self.manifest_path.is_file():
            if any(self._part_files()):
                raise ManifestUnusable(f"{self.out} holds run files but no manifest.json: "
                                       f"{rebuild}")
            raise SweepError(f"{self.out} has no manifest.json and no run files: not a sweep "
                             f"output folder")
        try:
            manifest = json.loads(self.manifest_path.read_bytes())
        except (OSError, ValueError) as err:
            raise ManifestUnusable(f"{self.manifest_path} is damaged ({_first_line(err)}): "
                                   f"{rebuild}") from None
        if not isinstance(manifest, dict) or not {"runs", "sessions"} <= set(manifest):
            raise ManifestUnusable(f"{self.manifest_path} is damaged (not a sweep manifest): "
                                   f"{rebuild}")
        wrong = [f"{key!r} is not {kind.__name__}" for key, kind in _MANIFEST_TYPES.items()
                 if key in manifest and not _is_a(manifest[key], kind)]
        if wrong:
            raise ManifestUnusable(f"{self.manifest_path} is damaged ({'; '.join(wrong)}): "
                                   f"{rebuild}")
        return manifest

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
    def load_runs(self) -> pd.DataFrame:
        """Every run's row, one per run id, sorted by run id (columns unified across parts;
        integer columns with missing values are pandas ``Int64``); :class:`DamagedRuns` if a
        part is damaged."""
        tables, damaged = self._read_parts(check_series=False)
        if damaged:
            raise DamagedRuns(self.out, damaged, self._sweep_file())
        return _frame(tables)

    def load_series(self, run_ids: Iterable[int] | None = None) -> pd.DataFrame:
        """Per-step series of the given runs (default: all), with a ``run_id`` column."""
        if run_ids is None:
            files = sorted(p for p in self.series.glob("run-*.parquet") if _PART.match(p.name))
        else:
            files = [self.series / part_name(int(i)) for i in run_ids]
            files = [f for f in files if f.is_file()]
        tables, damaged = _read_each(files, _read)
        if damaged:
            raise DamagedRuns(self.out, damaged, self._sweep_file())
        return _frame(tables, sort=["run_id", "step"])

    # -- helpers ----------------------------------------------------------------------------
    def _part_files(self) -> list[Path]:
        if not self.parts.is_dir():
            return []
        return sorted(p for p in self.parts.iterdir() if _PART.match(p.name))

    def _read_parts(self, check_series: bool) -> tuple[list[pa.Table], list[Damage]]:
        def read(path: Path) -> pa.Table:
            table = _read_part(path, _run_id(path))
            if check_series:
                self._check_series(table, _run_id(path))
            return table
        return _read_each(self._part_files(), read)

    def _check_series(self, part: pa.Table, run_id: int) -> None:
        """A part that records a series needs its series file, whole and of this run."""
        rows = (part.schema.metadata or {}).get(SERIES_ROWS_KEY)
        if rows is None:
            return
        path = self.series / part_name(run_id)
        if not path.is_file():
            raise _Invalid(path, "missing (its row in parts/ records a series)")
        ids = _read(path, columns=["run_id"])["run_id"]
        if len(ids) != int(rows):
            raise _Invalid(path, f"{len(ids)} rows, expected {int(rows)} (truncated?)")
        if pc.any(pc.not_equal(ids, run_id)).as_py():
            raise _Invalid(path, f"holds rows of another run than {run_id}")

    def _sweep_file(self) -> str:
        """The sweep file named in the manifest, for messages ('SWEEP_FILE' if unknown)."""
        try:
            return str(self.read_manifest().get("sweep_file") or "SWEEP_FILE")
        except SweepError:
            return "SWEEP_FILE"

    def _atomic_table(self, target: Path, table: pa.Table) -> None:
        tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
        pq.write_table(table, tmp)
        _replace_durably(tmp, target)

    def _atomic_bytes(self, target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
        tmp.write_bytes(data)
        _replace_durably(tmp, target)


def load_runs(out: str | Path) -> pd.DataFrame:
    """The run table of a sweep output folder: one row per finished run, in run-id order."""
    store = RunStore(out)
    if not store.exists():
        raise SweepError(f"{out} holds no sweep output (no manifest.json, no parts/)")
    return store.load_runs()


def output_folder(path: str | Path) -> Path:
    """The sweep output folder that ``path`` names: ``path`` itself when it holds a sweep,
    else its ``runs`` folder, so that an experiment's results folder ``results/<name>`` may
    stand for ``results/<name>/runs``. :class:`SweepError` if ``path`` does not exist, is a
    file, or holds neither."""
    path = Path(path)
    wanted = f"pass the folder `vcm-sim sweep` wrote (by default results/<name>/{RUNS_FOLDER})"
    if not path.exists():
        raise SweepError(f"{path} does not exist: {wanted}")
    if not path.is_dir():
        raise SweepError(f"{path} is a file, not a folder: {wanted}")
    if RunStore(path).holds_sweep():
        return path
    if (path / RUNS_FOLDER).is_dir():
        return path / RUNS_FOLDER
    raise SweepError(f"{path} holds no sweep output (no sweep.toml, no run files) and no "
                     f"{path / RUNS_FOLDER} folder: {wanted}, or run the sweep first")


def load_series(out: str | Path, run_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """The per-step series of a sweep output folder (runs kept with ``series``)."""
    return RunStore(out).load_series(run_ids)


def _replace_durably(tmp: Path, target: Path) -> None:
    """Flush ``tmp`` to disk, rename it to ``target`` and flush the rename (the folder)."""
    _fsync(tmp)
    os.replace(tmp, target)
    _fsync(target.parent)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_each(paths: Iterable[Path], read: Callable[[Path], pa.Table]
               ) -> tuple[list[pa.Table], list[Damage]]:
    """Each run file read by ``read``; those that fail a check as :class:`Damage` instead."""
    tables, damaged = [], []
    for path in paths:
        try:
            tables.append(read(path))
        except _Invalid as err:
            damaged.append(Damage(_run_id(path), err.path, err.reason))
    return tables, damaged


def _run_id(path: Path) -> int:
    return int(_PART.match(path.name).group(1))


def _read(path: Path, columns: list[str] | None = None) -> pa.Table:
    try:
        return pq.read_table(path, columns=columns)
    except (pa.ArrowException, OSError) as err:
        raise _Invalid(path, f"unreadable ({_first_line(err)})") from None


def _read_part(path: Path, run_id: int) -> pa.Table:
    """The one-row table of run ``run_id``'s part file, checked."""
    table = _read(path)
    if table.num_rows != 1:
        raise _Invalid(path, f"{table.num_rows} rows, expected 1")
    bad = [c for c, is_type in IDENTITY_COLUMNS.items()
           if c not in table.column_names or not is_type(table.schema.field(c).type)]
    if bad:
        raise _Invalid(path, f"no valid column {', '.join(bad)}")
    if table["run_id"][0].as_py() != run_id:
        raise _Invalid(path, f"holds run {table['run_id'][0].as_py()}, not {run_id}")
    if table["status"][0].as_py() not in STATUSES:
        raise _Invalid(path, f"status {table['status'][0].as_py()!r}, expected one of "
                             f"{', '.join(STATUSES)}")
    return table


def _frame(tables: list[pa.Table], sort: list[str] | None = None) -> pd.DataFrame:
    """One DataFrame from tables of unified columns, sorted by ``sort`` (default run id);
    integer columns with missing values become ``Int64`` rather than floats."""
    if not tables:
        return pd.DataFrame()
    table = pa.concat_tables(tables, promote_options="permissive")
    frame = table.to_pandas()
    for name in table.column_names:
        column = table[name]
        if pa.types.is_integer(column.type) and column.null_count:
            frame[name] = column.to_pandas(types_mapper={column.type: pd.Int64Dtype()}.get)
    keys = [k for k in (sort or ["run_id"]) if k in frame.columns]
    if keys:
        frame = frame.sort_values(keys, kind="stable").reset_index(drop=True)
    return frame


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-serialisable: {value!r}")
