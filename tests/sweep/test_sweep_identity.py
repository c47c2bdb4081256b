"""A folder is resumed only by the sweep that started it: the same sweep file, the same resolved
scenario (its file and every file it extends) and the same source code. A resume refused for a
change says what changed, and leaves the folder as it was."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import vcm_sim
from tests.sweep.sweep_helpers import cli, manifest, write_sweep
from vcm_sim.sweep import SweepError, sweep

PARENT = """
extends = "baseline"
name = "parent"
[rules.market]
price_floor_usd = 2.0
"""


def _scenario_files(tmp_path: Path) -> tuple[Path, Path]:
    """A scenario file that extends another file (by absolute path), itself extending a preset."""
    parent = tmp_path / "parent.toml"
    parent.write_text(PARENT)
    child = tmp_path / "child.toml"
    child.write_text(f'extends = "{parent}"\nname = "child"\n')
    return child, parent


@pytest.mark.parametrize("edited", ["child", "parent"])
def test_a_resume_after_the_scenario_or_a_file_it_extends_changed_is_refused(tmp_path, edited):
    child, parent = _scenario_files(tmp_path)
    path = write_sweep(tmp_path, keys=f'scenario = "{child}"\n', replications=2)
    out = tmp_path / "o"
    sweep(path, workers=1, out=out, progress=False)
    before = (out / "manifest.json").read_bytes()
    target = {"child": child, "parent": parent}[edited]
    target.write_text(target.read_text() + "\n[nature]\nhazard_multiplier = 3.0\n")
    with pytest.raises(SweepError, match=r"since it was started, the scenario \(its file, a "
                                         r"file it extends, or the sweep's overrides\) \(SHA"):
        sweep(path, workers=1, out=out, resume=True, progress=False)
    assert (out / "manifest.json").read_bytes() == before


def test_reformatting_the_scenario_file_does_not_block_a_resume(tmp_path):
    child, _ = _scenario_files(tmp_path)
    path = write_sweep(tmp_path, keys=f'scenario = "{child}"\n', replications=1)
    out = tmp_path / "o"
    sweep(path, workers=1, out=out, progress=False)
    child.write_text("# the same settings, reformatted\n" + child.read_text().replace(" = ", "="))
    assert sweep(path, workers=1, out=out, resume=True, progress=False).skipped == 1


def test_a_resume_with_other_source_code_is_refused_naming_the_source(tmp_path):
    # A copy of the package, imported by the sweep processes (it is their working directory).
    package = tmp_path / "checkout"
    copy = shutil.copytree(Path(vcm_sim.__file__).parent, package / "vcm_sim",
                           ignore=shutil.ignore_patterns("__pycache__"))
    path = write_sweep(tmp_path, replications=1)
    out = tmp_path / "o"
    first = subprocess.run(cli("sweep", path, "--workers", "1", "--out", out, "--no-progress"),
                           cwd=package, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    with open(copy / "metrics.py", "a") as source:
        source.write("\n# an edit after the sweep started\n")
    again = subprocess.run(cli("sweep", path, "--workers", "1", "--out", out, "--resume",
                               "--no-progress"), cwd=package, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 2, again.stderr
    assert "since it was started, the vcm_sim source code (a .py file or a preset scenario)" \
        in again.stderr
    assert len(manifest(out)["sessions"]) == 1
