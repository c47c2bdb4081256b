"""What a sweep's rows depend on, as three SHA-256 hashes: the sweep file, the scenario it
resolves to, and the source code that runs it. A folder is resumed only under the same identity,
so that it never holds rows of two different sweeps.

* ``sweep_sha256``: the sweep file's bytes (parameters, seeds, replications, overrides);
* ``scenario_sha256``: the validated base scenario every run starts from, as JSON: the scenario
  file after its whole ``extends`` chain, the sweep's ``overrides`` and ``steps`` (an edit to
  any file of the chain changes it; reformatting a file does not);
* ``source_sha256``: every ``*.py`` file and preset ``scenarios/*.toml`` of the imported
  ``vcm_sim`` package (paths and contents, in path order), plus the model's module file when the
  sweep's ``model`` lives outside the package. Content, not a git revision: it sees uncommitted
  edits, and an installed wheel has no git.
"""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from vcm_sim.scenario import Scenario

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
"""The folder of the ``vcm_sim`` package whose source is hashed."""

WHAT_CHANGED = {
    "sweep_sha256": "the sweep file",
    "scenario_sha256": "the scenario (its file, a file it extends, or the sweep's overrides)",
    "source_sha256": "the vcm_sim source code (a .py file or a preset scenario)",
}
"""What each hash covers, as a resume refusal names it."""


@dataclass(frozen=True)
class Identity:
    """The hashes that determine a sweep's rows."""

    sweep_sha256: str
    scenario_sha256: str
    source_sha256: str

    def record(self) -> dict[str, str]:
        """The hashes as manifest fields."""
        return asdict(self)


def identity_changes(then: dict[str, Any], now: dict[str, Any],
                     what_changed: dict[str, str] = WHAT_CHANGED) -> list[str]:
    """What differs between the identities recorded in two manifests, in words (empty: none),
    over the fields of ``what_changed`` (field -> what it covers; a sweep's by default); a
    field the earlier manifest lacks (written by an older vcm_sim) counts as a change."""
    return [f"{what} ({_short(then.get(key))} then, {_short(now.get(key))} now)"
            for key, what in what_changed.items() if then.get(key) != now.get(key)]


def _short(value: str | None) -> str:
    """A recorded identity field in a message: a SHA-256 hash shortened, another value as
    it is."""
    if not value:
        return "not recorded"
    return f"SHA-256 {value[:12]}..." if len(value) == 64 else repr(value)


def identify(sweep_file: str | Path, scenario: Scenario, model: str) -> Identity:
    """The identity of a sweep file whose base scenario is ``scenario``, run by ``model``."""
    return Identity(
        sweep_sha256=hashlib.sha256(Path(sweep_file).read_bytes()).hexdigest(),
        scenario_sha256=hashlib.sha256(scenario.model_dump_json().encode()).hexdigest(),
        source_sha256=source_hash(PACKAGE_ROOT, model),
    )


def source_hash(root: Path, model: str) -> str:
    """SHA-256 over the source files of the package in ``root`` (and of ``model``'s module if
    it lies outside it): each file's path relative to its folder and its content's hash."""
    files = [(p.relative_to(root).as_posix(), p) for p in sorted(root.rglob("*.py"))]
    files += [(p.relative_to(root).as_posix(), p)
              for p in sorted((root / "scenarios").glob("*.toml"))]
    outside = _module_file(model.partition(":")[0])
    if outside is not None and root not in outside.parents:
        files.append((f"<model>/{outside.name}", outside))
    digest = hashlib.sha256()
    for name, path in files:
        digest.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def source_revision() -> str | None:
    """The git commit of the package's source, with '+dirty' if its files differ from it; None
    outside a git checkout. Recorded in the manifest for provenance; resume compares
    ``source_sha256`` instead."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=PACKAGE_ROOT,
                              capture_output=True, text=True, timeout=5, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                "."], cwd=PACKAGE_ROOT, capture_output=True, text=True,
                               timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def _module_file(module: str) -> Path | None:
    """The source file of ``module`` without importing it (None if it cannot be found: the
    sweep then stops at its first run, saying so)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin).resolve()
