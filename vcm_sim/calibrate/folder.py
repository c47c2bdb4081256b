"""The output folder of a calibration: what it holds, its manifest, and the checks a session
passes before it writes there.

A folder holds one calibration. A new one starts only in a new or empty folder; a folder that
holds one is continued with ``resume`` (under the same identity: see :func:`identify`) or
cleared with ``fresh``. The manifest records the identity, the pyabc run id in ``abc.db``,
each session and how the calibration stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from pathlib import Path
from typing import Any

from vcm_sim.calibrate.spec import CalibrationError, CalibrationSpec
from vcm_sim.sweep.identity import (PACKAGE_ROOT, identity_changes, source_hash,
                                    source_revision)
from vcm_sim.sweep.lock import LOCK_NAME
from vcm_sim.sweep.manifest import package_version
from vcm_sim.sweep.store import now

MANIFEST = "manifest.json"
DATABASE = "abc.db"
"""pyabc's history (SQLite): every generation's particles, weights, distances and statistics."""

OUTPUTS = (MANIFEST, DATABASE, f"{DATABASE}-journal", "posterior.csv", "generations.csv",
           "best.toml", "point.csv", "marginals.png", "fit.png", "README.md")
"""Every file a calibration writes (and ``fresh`` removes)."""

WHAT_CHANGED = {
    "spec_sha256": "the calibration file",
    "scenario": "the scenario",
    "source_sha256": "the vcm_sim source code (a .py file or a preset scenario)",
    "observed_sha256": "the data (the hindcast's observed statistics)",
}
"""What each identity field covers, as a resume refusal names it."""


def identify(spec_file: Path, spec: CalibrationSpec, observed: dict[str, float]
             ) -> dict[str, str]:
    """What a calibration's generations depend on: the calibration file's bytes, the scenario,
    the package source (:func:`~vcm_sim.sweep.identity.source_hash`) and the observed
    statistics it is fitted to."""
    data = json.dumps(observed, sort_keys=True).encode()
    return {"spec_sha256": hashlib.sha256(spec_file.read_bytes()).hexdigest(),
            "scenario": spec.scenario,
            "source_sha256": source_hash(PACKAGE_ROOT, "vcm_sim.model"),
            "observed_sha256": hashlib.sha256(data).hexdigest()}


def new_manifest(spec_file: Path, spec: CalibrationSpec, identity: dict[str, str]
                 ) -> dict[str, Any]:
    """The manifest of a calibration that starts now (no session yet, no pyabc run id)."""
    from importlib import metadata

    return {"spec_file": str(spec_file), **identity, "package": "vcm_sim",
            "version": package_version(), "source": source_revision(),
            "python": platform.python_version(), "pyabc": metadata.version("pyabc"),
            "root_seed": spec.root_seed, "database": DATABASE, "run_id": None,
            "started": now(), "finished": None, "status": "running", "stopped_because": None,
            "sessions": []}


def open_folder(out: Path, fresh_manifest: dict[str, Any], resume: bool, fresh: bool
                ) -> dict[str, Any]:
    """The manifest a session continues in ``out`` (whose lock the caller holds): the folder's
    own when resuming under the same identity, else ``fresh_manifest`` for a new or empty
    folder, or one that ``fresh`` clears. :class:`CalibrationError`, changing nothing, if the
    folder holds a calibration and neither is given, if there is nothing to resume, or if
    the identity changed."""
    manifest_path = out / MANIFEST
    if manifest_path.is_file() and fresh:
        for name in OUTPUTS:
            (out / name).unlink(missing_ok=True)
    if not manifest_path.is_file():
        if resume:
            raise CalibrationError(f"{out} holds no calibration to resume (no {MANIFEST}): run "
                                   f"without --resume to start one")
        others = sorted(p.name for p in out.iterdir() if p.name != LOCK_NAME)
        if others:
            raise CalibrationError(f"{out} is not empty and holds no calibration "
                                   f"({', '.join(others[:3])}): a calibration starts only in a "
                                   f"new or empty folder; choose another --out")
        return fresh_manifest
    manifest = read_manifest(out)
    if not resume:
        raise CalibrationError(f"{out} already holds a calibration (manifest status "
                               f"{manifest['status']!r}): pass --resume to continue it, --fresh "
                               f"to start it over, or choose another --out")
    if manifest.get("run_id") is not None and not (out / DATABASE).is_file():
        raise CalibrationError(f"{out} has lost {DATABASE}, which holds its generations: start "
                               f"over with --fresh")
    changes = identity_changes(manifest, fresh_manifest, WHAT_CHANGED)
    if changes:
        raise CalibrationError(f"{out} cannot be resumed: since it was started, "
                               f"{'; '.join(changes)} changed; restore it, start over with "
                               f"--fresh, or choose another --out")
    return manifest


def read_manifest(out: Path) -> dict[str, Any]:
    """The manifest in ``out``; :class:`CalibrationError` if it is unreadable."""
    path = out / MANIFEST
    try:
        manifest = json.loads(path.read_bytes())
    except (OSError, ValueError) as err:
        raise CalibrationError(f"{path} is damaged ({err}): start over with --fresh") from None
    if not isinstance(manifest, dict) or "sessions" not in manifest:
        raise CalibrationError(f"{path} is not a calibration manifest: start over with --fresh")
    return manifest


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    """Replace the manifest in ``out`` atomically (a kill leaves the old or the new one)."""
    path = out / MANIFEST
    tmp = path.with_name(f".{MANIFEST}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
