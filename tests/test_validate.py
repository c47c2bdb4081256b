"""`vcm-sim validate` end to end on a small posterior: it checks the pipeline (every output,
every target, both driver settings), not the numbers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from vcm_sim import hindcast
from vcm_sim.validate import checks
from vcm_sim.validate.runs import draw, read_posterior

PARTICLES = pd.DataFrame({
    "firms.pledge_imitation_yr": [0.2, 0.4, 0.3],
    "drivers.0.elasticity": [0.5, 1.0, 1.5],
    "population.developers": [30.0, 40.0, 50.0],
    "weight": [0.5, 0.3, 0.2], "distance": [3.0, 3.5, 4.0], "model_seed": [1, 2, 3]})


def vcm_sim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vcm_sim.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def validated(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("validate")
    (root / "calibration").mkdir()
    PARTICLES.to_csv(root / "calibration" / "posterior.csv", index=False)
    (root / "out").mkdir()
    (root / "out" / "stale.txt").write_text("from an earlier run")
    done = vcm_sim("validate", "--calibration", "calibration", "--out", "out", "--draws", "2",
                   "--workers", "2", "--zi-periods", "1", "--no-progress", cwd=root)
    assert done.returncode == 0, done.stderr
    return root / "out"


def test_validate_rebuilds_the_folder_from_scratch(validated):
    names = {p.name for p in validated.iterdir()}
    assert "stale.txt" not in names
    assert {"README.md", "targets.csv", "targets_without_drivers.csv", "draws.csv",
            "directions_2021_2023.csv", "over_crediting.csv", "buffer.csv", "returns.csv",
            "gode_sunder.csv", "fit.png", "fit_without_drivers.png", "integrity.png"} <= names


def test_every_target_has_a_row_with_data_and_a_model_band(validated):
    table = pd.read_csv(validated / "targets.csv")
    t = hindcast.targets()
    years = len(t.in_sample) + len(t.held_out)
    assert len(table) == 2 * years + 1 + 2 + len(t.prices)
    assert set(table["sample"]) == {"in", "held out"}
    assert table["data"].notna().all()
    assert (table["model_low"] <= table["model_high"]).all()


def test_the_readme_reports_criteria_directions_and_literature(validated):
    text = (validated / "README.md").read_text()
    for heading in ("## Acceptance criteria", "## Held out: 2021 to 2023", "## Every target",
                    "## Integrity against the literature", "## Stylized facts",
                    "## Gode and Sunder efficiency"):
        assert heading in text
    for criterion in ("retirement levels", "retirement growth", "issuance growth",
                      "cumulative issuance", "2021 price boom"):
        assert f"| {criterion} |" in text
    assert "A year without a known boom" in text
    directions = pd.read_csv(validated / "directions_2021_2023.csv")
    assert list(directions["what"]) == ["issuance", "retirements", "price"]
    assert set(directions["data_direction"]) == {"down"}


def test_draws_follow_the_weights_and_the_seed():
    posterior = PARTICLES
    first, again = draw(posterior, 200, 7), draw(posterior, 200, 7)
    assert first == again
    picked = pd.Series([d.overrides["firms.pledge_imitation_yr"] for d in first])
    assert picked.value_counts(normalize=True)[0.2] == pytest.approx(0.5, abs=0.1)
    assert len({d.seed for d in first}) > 190
    assert set(first[0].overrides) == {"firms.pledge_imitation_yr", "drivers.0.elasticity",
                                       "population.developers"}


def test_a_missing_posterior_is_a_one_line_error(tmp_path):
    done = vcm_sim("validate", "--calibration", "nowhere", "--out", "out", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "posterior.csv does not exist" in done.stderr
    assert not (tmp_path / "out").exists()
    with pytest.raises(Exception, match="does not exist"):
        read_posterior(tmp_path / "nowhere")


def test_the_boom_placebo_measures_the_rise_where_no_boom_is_known():
    """The boom statistic from June of 2016-2019: a flat price gives 1x and no doubling; a
    price that doubles for three months of 2017 doubles only in the window from June 2016
    (one of four per draw), and a boom after June 2021 is outside every window."""
    months = [f"{y}-{m:02d}" for y in range(2010, 2026) for m in range(1, 13)]
    flat = pd.Series(5.0, index=months)
    spiked = flat.copy()
    spiked.loc[["2017-03", "2017-04", "2017-05", "2021-09", "2021-10", "2021-11"]] = 10.0
    t = hindcast.targets()
    placebo = checks.placebo_rise(pd.DataFrame({0: flat, 1: flat}), t)
    assert placebo.years == range(2016, 2020)
    assert placebo.median == pytest.approx(1.0) and placebo.share_doubling == 0.0
    placebo = checks.placebo_rise(pd.DataFrame({0: spiked, 1: flat}), t)
    assert placebo.share_doubling == pytest.approx(1 / 8)
