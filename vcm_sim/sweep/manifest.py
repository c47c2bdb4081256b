"""The manifest of a sweep output folder: a new one when a sweep starts, the checks that a
resume passes before it continues, and a manifest rebuilt from the run files when it was lost.

A session opens its folder (holding the folder's lock) with :func:`open_folder`, which refuses
to mix two sweeps in one folder: a folder that holds results needs ``resume``; a resume needs
the identity recorded in the manifest (sweep file, scenario, source; see ``identity.py``) to be
the current one; damaged run files are named and discarded, so that their runs are run again.
"""

from __future__ import annotations

import logging
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vcm_sim.sweep.identity import Identity, identity_changes
from vcm_sim.sweep.samplers import Design
from vcm_sim.sweep.spec import SweepError, SweepSpec
from vcm_sim.sweep.store import ManifestUnusable, RunStore, now

log = logging.getLogger(__name__)


@dataclass
class OpenFolder:
    """An output folder ready for a session: its manifest, the valid rows already on disk, and
    the damaged run files that were discarded (to be run again)."""

    manifest: dict[str, Any]
    runs: pd.DataFrame
    damaged: list[str]


def open_folder(store: RunStore, fresh: dict[str, Any], expected: list[dict[str, Any]],
                resume: bool, rebuild: bool) -> OpenFolder:
    """Open ``store`` for a session of the sweep whose new manifest is ``fresh``: that manifest
    for an empty folder, the folder's own if it may be resumed, or ``fresh`` again, rebuilt on
    the run files, if ``rebuild`` and the folder's is missing or damaged. ``expected[run_id]``
    (needed to rebuild) holds each run's planned identity columns and parameters.

    Raises :class:`SweepError`, changing nothing, if the folder holds results and ``resume`` is
    off, if it holds no sweep to resume, or if resuming would mix two sweeps.
    """
    sweep_file = fresh["sweep_file"]
    if not store.exists():
        if resume:
            raise SweepError(f"{store.out} holds no sweep to resume (no manifest.json, no run "
                             f"files): run without --resume to start it")
        others = store.other_files()
        if others:
            raise SweepError(f"{store.out} is not empty and holds no sweep ({', '.join(others)}"
                             f"): a sweep writes only into a new or empty folder, so it "
                             f"overwrites nothing; choose another --out")
        store.prepare(sweep_file)
        return OpenFolder(fresh, pd.DataFrame(), [])
    if not resume:
        raise SweepError(f"{store.out} already holds a sweep's results; pass --resume to "
                         f"continue it, or choose another --out")
    manifest = _manifest_to_resume(store, fresh, rebuild)
    store.clean_temporary()
    runs, damaged = store.scan()
    if manifest is None:
        manifest = rebuilt_manifest(store, fresh, expected, runs)
        store.prepare(sweep_file)
    for damage in damaged:
        log.warning("%s: %s; that run will be run again", store.out, damage.describe(store.out))
    store.discard(damaged)
    return OpenFolder(manifest, runs, [d.describe(store.out) for d in damaged])


def new_manifest(spec: SweepSpec, points: Design, identity: Identity, sweep_file: str | Path,
                 provenance: dict[str, Any]) -> dict[str, Any]:
    """The manifest of a sweep that starts now (no session yet); ``provenance`` holds the
    package ``version`` and git ``source``."""
    return {
        "name": spec.name,
        "description": spec.description,
        "sweep_file": str(sweep_file),
        **identity.record(),
        "package": "vcm_sim",
        **provenance,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "scenario": spec.scenario,
        "model": spec.model,
        "seed": spec.seed,
        "sampler": spec.sampler.method,
        "parameters": list(spec.parameters),
        "points": len(points.points),
        "replications": spec.replications,
        "runs": len(points.points) * spec.replications,
        "sobol_problem": points.problem,
        "sobol_second_order": points.second_order,
        "started": now(),
        "finished": None,
        "status": "running",
        "runs_done": 0,
        "runs_failed": 0,
        "sessions": [],
    }


def rebuilt_manifest(store: RunStore, fresh: dict[str, Any], expected: list[dict[str, Any]],
                     runs: pd.DataFrame) -> dict[str, Any]:
    """``fresh``, the new manifest of a sweep, for a folder that lost its own, after checking
    that the folder's run files are runs of that sweep: its copy of the sweep file (if any) is
    the same file, and every row's run id, point, replication, root seed and parameter values
    are the planned ones. The scenario and source the rows were made with cannot be checked:
    they are taken to be the current ones."""
    sweep_file = fresh["sweep_file"]
    copy = store.out / "sweep.toml"
    if copy.is_file() and copy.read_bytes() != Path(sweep_file).read_bytes():
        raise SweepError(f"cannot rebuild the manifest: {copy} differs from {sweep_file}, so "
                         f"the folder was started from another sweep file; resume with that "
                         f"file, or choose another --out")
    foreign = _foreign_rows(runs, expected)
    if foreign:
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        raise SweepError(f"cannot rebuild the manifest: {store.out} holds rows that "
                         f"{sweep_file} does not plan: {'; '.join(foreign[:3])}{more}")
    return {**fresh, "status": "interrupted", "rebuilt": now()}


def package_version() -> str:
    """The installed version of vcm_sim ('unknown' when it runs from an uninstalled tree)."""
    try:
        return metadata.version("vcm_sim")
    except metadata.PackageNotFoundError:
        return "unknown"


def _manifest_to_resume(store: RunStore, fresh: dict[str, Any],
                        rebuild: bool) -> dict[str, Any] | None:
    """The folder's manifest if it may be resumed by the sweep whose new manifest is ``fresh``
    (same identity); None if it is missing or damaged and ``rebuild`` asks for a new one."""
    try:
        manifest = store.read_manifest()
    except ManifestUnusable:
        if rebuild:
            return None
        raise
    if rebuild:
        raise SweepError(f"{store.manifest_path} is intact: --rebuild-manifest only replaces "
                         f"a missing or damaged manifest")
    changes = identity_changes(manifest, fresh)
    if changes:
        raise SweepError(f"{store.out} cannot be resumed: since it was started, "
                         f"{'; '.join(changes)} changed, and resuming would mix the rows of two "
                         f"different sweeps: restore what changed, or choose another --out")
    return manifest


def _foreign_rows(runs: pd.DataFrame, expected: list[dict[str, Any]]) -> list[str]:
    """Rows that differ from the planned run of their id, described."""
    problems = []
    for row in runs.to_dict("records"):
        run_id = int(row["run_id"])
        if run_id >= len(expected):
            problems.append(f"run {run_id} (the sweep has {len(expected)} runs)")
            continue
        wrong = [f"{key} = {row.get(key)!r}, planned {value!r}"
                 for key, value in expected[run_id].items() if row.get(key) != value]
        if wrong:
            problems.append(f"run {run_id} ({', '.join(wrong)})")
    return problems
