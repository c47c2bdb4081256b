"""``vcm-sim calibrate``: a tiny ABC-SMC calibration of the history scenario (tiny.toml: two
parameters, four particles, two generations), run as users run it: its outputs, both backends,
a kill and a resume, Ctrl+C, a second session on a folder in use, and bad files."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pyabc
import pytest

from vcm_sim import hindcast
from vcm_sim.calibrate.kernels import StandardisedLocalTransition
from vcm_sim.calibrate.outputs import effective_sample_size, posterior_generation
from vcm_sim.calibrate.run import _abc, stop_reason
from vcm_sim.calibrate.point import candidate_distances, fresh_seeds
from vcm_sim.calibrate.simulation import Simulator, distance, model_seed, particle_seeds
from vcm_sim.calibrate.spec import load_spec
from vcm_sim.cli import main

ROOT = Path(__file__).resolve().parents[2]
TINY = Path(__file__).with_name("tiny.toml")
PARAMETERS = ["firms.pledge_imitation_yr", "firms.pledge_innovation_yr"]


@dataclass
class Session:
    """A ``vcm-sim calibrate`` run in this process: its exit code and output."""

    code: int
    out: str
    err: str


def calibrate(*args: object, progress: bool = False) -> Session:
    """Run ``vcm-sim calibrate ARGS`` in this process (with ``--no-progress`` unless
    ``progress``)."""
    out, err = StringIO(), StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        quiet = [] if progress else ["--no-progress"]
        code = main(["calibrate", *map(str, args), *quiet])
    return Session(code, out.getvalue(), err.getvalue())


def start(*args: object) -> subprocess.Popen:
    """Start ``vcm-sim calibrate ARGS --no-progress`` as its own process group."""
    return subprocess.Popen([sys.executable, "-m", "vcm_sim.cli", "calibrate", *map(str, args),
                             "--no-progress"], cwd=ROOT, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)


def generations_stored(folder: Path) -> int:
    """Generations pyabc has written to ``folder/abc.db`` (0 before it exists)."""
    try:
        with sqlite3.connect(f"file:{folder / 'abc.db'}?mode=ro", uri=True) as db:
            return db.execute("select count(*) from populations where t >= 0").fetchone()[0]
    except sqlite3.Error:
        return 0


def wait_for(condition: Callable[[], bool], process: subprocess.Popen,
             seconds: float = 120.0) -> None:
    """Wait until ``condition`` holds while ``process`` runs."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, f"the calibration ended: {process.stderr.read()}"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def generation(folder: Path, t: int) -> tuple[pd.DataFrame, pd.Series]:
    """Generation ``t`` in the folder's history: its particles (values and weights), and its
    row of the population table (epsilon, simulations)."""
    history = pyabc.History(f"sqlite:///{folder / 'abc.db'}")
    values, weights = history.get_distribution(m=0, t=t)
    values["weight"] = weights
    row = history.get_all_populations().set_index("t").loc[t, ["samples", "epsilon"]]
    return values.sort_values(PARAMETERS).reset_index(drop=True), row


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Session]:
    """The tiny calibration run to its end with one local worker (in this process)."""
    folder = tmp_path_factory.mktemp("calibration") / "tiny"
    return folder, calibrate(TINY, "--out", folder, "--workers", "1", progress=True)


def test_a_local_calibration_reports_each_generation_and_writes_every_output(finished):
    folder, session = finished
    assert session.code == 0, session.err
    for t in (0, 1):
        assert f"generation {t}: epsilon " in session.out
    assert "simulations" in session.out and "/150, elapsed" in session.out
    generations = pd.read_csv(folder / "generations.csv")
    assert list(generations["generation"]) == [0, 1]
    assert (generations["particles"] == 4).all()
    assert generations["epsilon"].is_monotonic_decreasing
    pd.testing.assert_series_equal(generations["acceptance_rate"],
                                   generations["particles"] / generations["simulations"],
                                   check_names=False)
    posterior = pd.read_csv(folder / "posterior.csv")
    assert list(posterior.columns) == [*PARAMETERS, "weight", "distance", "model_seed"]
    assert len(posterior) == 4 and posterior["weight"].sum() == pytest.approx(1.0)
    assert (posterior["distance"] <= generations["epsilon"].iloc[-1]).all()
    assert posterior[PARAMETERS[0]].between(0.05, 0.6).all()
    assert posterior[PARAMETERS[1]].between(0.002, 0.05).all()
    for figure in ("marginals.png", "fit.png"):
        assert (folder / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    readme = (folder / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in PARAMETERS)
    assert "90% interval" in readme and "of 150 particles simulated" in readme
    record = manifest(folder)
    assert record["status"] == "finished" and record["sessions"][0]["workers"] == 1
    assert record["spec_sha256"] == hashlib.sha256(TINY.read_bytes()).hexdigest()


def test_the_best_particle_and_its_seed_reproduce_its_simulation(finished):
    """best.toml records a posterior particle with its first calibration seed and distance:
    simulated again with them, it gives that distance."""
    folder, _ = finished
    posterior = pd.read_csv(folder / "posterior.csv")
    best = tomllib.loads((folder / "best.toml").read_text())
    values = {name: best["settings"][name] for name in PARAMETERS}
    row = posterior[(posterior[PARAMETERS] == pd.Series(values)).all(axis=1)]
    assert len(row) == 1 and best["weight"] == pytest.approx(float(row["weight"].iloc[0]))
    spec = tomllib.loads(TINY.read_text())
    assert best["model_seed"] == model_seed(spec["root_seed"], values)
    again = Simulator(spec["root_seed"], spec["overrides"])(values)
    assert distance(again, hindcast.observed()) == pytest.approx(best["distance"], rel=1e-12)


def test_the_preset_point_is_the_candidate_closest_to_the_data_on_fresh_seeds(finished):
    """The preset's point is not the highest-weight particle by default: the [point]
    table's three highest-weight particles run again on the same two fresh seeds, and
    best.toml takes the one with the smallest median distance, then measures it again on
    two independent seeds; re-running it on the recorded seeds reproduces both figures."""
    folder, _ = finished
    spec = load_spec(TINY)
    posterior = pd.read_csv(folder / "posterior.csv")
    choice = pd.read_csv(folder / "point.csv")
    best = tomllib.loads((folder / "best.toml").read_text())
    assert len(choice) == 3
    assert set(choice["row"]) == set(posterior["weight"].nlargest(3).index)
    assert choice["median_distance"].is_monotonic_increasing
    chosen = posterior.loc[int(choice["row"].iloc[0])]
    assert {name: best["settings"][name] for name in PARAMETERS} == \
        {name: chosen[name] for name in PARAMETERS}
    assert best["fresh_seeds"] == fresh_seeds(spec.root_seed, 2)
    assert set(best["fresh_seeds"]).isdisjoint(
        particle_seeds(spec.root_seed, {n: chosen[n] for n in PARAMETERS}, 2))
    values = {n: chosen[n] for n in PARAMETERS}
    runs = candidate_distances(values, spec, best["fresh_seeds"], hindcast.observed())
    assert best["median_distance"] == pytest.approx(float(np.median(runs)), rel=1e-12)
    assert set(best["check_seeds"]).isdisjoint(best["fresh_seeds"])
    checks = candidate_distances(values, spec, best["check_seeds"], hindcast.observed())
    assert best["check_median_distance"] == pytest.approx(float(np.median(checks)), rel=1e-12)
    assert "## The preset's point" in (folder / "README.md").read_text()


def test_abc_samples_a_loguniform_setting_on_its_log_and_reports_the_setting(finished):
    """The tiny file's innovation rate is loguniform: pyabc's particles hold its natural log
    (its kernel steps in relative terms, and no 1/x prior density enters the weights), while
    posterior.csv, best.toml and the model seeds hold the setting itself."""
    folder, _ = finished
    stored, _ = generation(folder, 1)
    posterior = pd.read_csv(folder / "posterior.csv").sort_values(PARAMETERS)
    uniform, logged = PARAMETERS
    assert stored[logged].between(np.log(0.002), np.log(0.05)).all()
    np.testing.assert_allclose(np.exp(stored[logged]), posterior[logged], rtol=1e-12)
    np.testing.assert_array_equal(stored[uniform], posterior[uniform])


def test_a_generation_whose_weights_rest_on_few_particles_is_not_the_posterior(finished):
    """With abc.min_ess_share, a generation whose effective sample size (1 / sum of squared
    normalised weights) is below that share of its particles stops the calibration and the
    posterior comes from the last generation above it; generations.csv and the README give
    every generation's effective sample size."""
    folder, _ = finished
    assert effective_sample_size(np.array([2.0, 2.0, 2.0, 2.0])) == pytest.approx(4.0)
    assert effective_sample_size(np.array([5.0, 0.0, 0.0])) == pytest.approx(1.0)
    generations = pd.read_csv(folder / "generations.csv")
    first, second = generations["ess"]
    assert first == pytest.approx(4.0) and 1.0 <= second < 4.0  # the prior sample: equal
    assert f"| {second:.1f} |" in (folder / "README.md").read_text()
    history = pyabc.History(f"sqlite:///{folder / 'abc.db'}")
    spec = load_spec(TINY)
    strict = spec.model_copy(update={"abc": spec.abc.model_copy(
        update={"min_ess_share": 1.0, "generations": 5})})
    assert posterior_generation(history, spec) == 1
    assert posterior_generation(history, strict) == 0
    assert "effective sample size" in stop_reason(strict, history)
    lenient = strict.model_copy(update={"abc": strict.abc.model_copy(
        update={"min_ess_share": second / 4})})
    assert stop_reason(lenient, history) is None


def test_a_killed_calibration_resumes_after_its_last_generation_and_ends_as_if_never_killed(
        finished, tmp_path):
    folder = tmp_path / "killed"
    process = start(TINY, "--out", folder, "--workers", "1")
    wait_for(lambda: generations_stored(folder) >= 1, process)
    process.kill()
    process.wait()
    assert generations_stored(folder) == 1
    before = generation(folder, 0)
    session = calibrate(TINY, "--out", folder, "--workers", "1", "--resume", progress=True)
    assert session.code == 0, session.err
    assert "generation 1: " in session.out and "generation 0: " not in session.out
    assert generations_stored(folder) == 2
    after = generation(folder, 0)
    pd.testing.assert_frame_equal(after[0], before[0])
    pd.testing.assert_series_equal(after[1], before[1])
    # one local worker draws everything from the seeded generator: the same posterior
    pd.testing.assert_frame_equal(pd.read_csv(folder / "posterior.csv"),
                                  pd.read_csv(finished[0] / "posterior.csv"))
    assert [s["generations_run"] for s in manifest(folder)["sessions"]][1:] == [1]


def test_a_folder_in_use_refuses_a_second_session_and_ctrl_c_leaves_it_resumable(tmp_path):
    folder, longer = tmp_path / "busy", tmp_path / "longer.toml"
    longer.write_text(TINY.read_text().replace("generations = 2", "generations = 6")
                      .replace("max_runs = 150", "max_runs = 5000"))
    process = start(longer, "--out", folder, "--workers", "2")
    wait_for(lambda: generations_stored(folder) >= 1, process)
    second = calibrate(longer, "--out", folder, "--resume")
    assert second.code == 2
    assert f"{folder} is in use by another sweep session (pid {process.pid})" in second.err
    assert second.err.count("\n") == 1
    wait_for(lambda: len(psutil.Process(process.pid).children()) >= 2, process)  # working
    workers = psutil.Process(process.pid).children()
    os.killpg(process.pid, signal.SIGINT)  # Ctrl+C reaches the whole process group
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted: generation" in err and "--resume" in err
    assert "Traceback" not in err
    assert manifest(folder)["status"] == "interrupted"
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive


def test_local_workers_end_within_seconds_of_a_killed_calibration(tmp_path):
    larger = tmp_path / "larger.toml"  # its first sample takes about 10 s on two workers
    larger.write_text(TINY.read_text().replace("population = 4", "population = 80"))
    process = start(larger, "--out", tmp_path / "killed", "--workers", "2")
    wait_for(lambda: len(psutil.Process(process.pid).children()) >= 2, process)
    workers = psutil.Process(process.pid).children()
    process.kill()
    process.wait()
    _, alive = psutil.wait_procs(workers, timeout=3)
    assert not alive


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_worker_watches_the_process_that_forked_it():
    """The pid a worker watches is taken before the fork, in the forking process: read in the
    child, a parent killed during the fork reads as the child's new parent, which the child
    would then watch for ever. A worker whose watched parent is gone ends at once."""
    from vcm_sim.calibrate import samplers

    read, write = os.pipe()
    with samplers._workers_follow_this_process():
        child = os.fork()
    if child == 0:  # the worker writes to a pipe and exits: no lock of another thread is taken
        os.write(write, str(samplers._forked_from).encode())
        samplers._exit_without(os.getppid() + 1)
    os.close(write)
    watched = int(os.read(read, 32))
    os.close(read)
    _, status = os.waitpid(child, 0)
    assert watched == os.getpid()
    assert os.waitstatus_to_exitcode(status) == 1


def test_a_dask_local_cluster_runs_the_calibration(tmp_path):
    folder = tmp_path / "dask"
    session = calibrate(TINY, "--out", folder, "--backend", "dask", "--workers", "2")
    assert session.code == 0, session.err
    assert list(pd.read_csv(folder / "generations.csv")["generation"]) == [0, 1]
    assert len(pd.read_csv(folder / "posterior.csv")) == 4
    record = manifest(folder)["sessions"][0]
    assert record["backend"] == "dask" and record["workers"] == 2
    assert record["scheduler"].startswith("tcp://127.0.0.1:")


def test_local_kernels_calibrate_and_perturb_in_every_parameter_at_once(tmp_path):
    """With abc.transition = "local" the calibration runs with pyabc's local kernels on
    standardised parameters; the kernel is a density in the settings' own units (rescaling
    a setting divides it), and its neighbours do not depend on the settings' units."""
    spec_file = tmp_path / "local.toml"
    spec_file.write_text(TINY.read_text().replace(
        "max_runs = 150", 'max_runs = 150\ntransition = "local"'))
    assert isinstance(_abc(load_spec(spec_file), None).transitions[0],
                      StandardisedLocalTransition)
    session = calibrate(spec_file, "--out", tmp_path / "out", "--workers", "1")
    assert session.code == 0, session.err
    assert list(pd.read_csv(tmp_path / "out" / "generations.csv")["generation"]) == [0, 1]

    rng = np.random.default_rng(3)
    particles = pd.DataFrame({"a": rng.normal(0.0, 1.0, 60), "b": rng.normal(0.0, 1.0, 60)})
    weights = rng.random(60)
    weights /= weights.sum()
    kernel, stretched = StandardisedLocalTransition(), StandardisedLocalTransition()
    kernel.fit(particles, weights)
    stretched.fit(particles.assign(b=particles["b"] * 1000.0), weights)
    box = pd.DataFrame({"a": rng.uniform(-8, 8, 40_000), "b": rng.uniform(-8, 8, 40_000)})
    assert kernel.pdf(box).mean() * 16 * 16 == pytest.approx(1.0, abs=0.05)
    points = particles.iloc[:5]
    assert stretched.pdf(points.assign(b=points["b"] * 1000.0)) == pytest.approx(
        kernel.pdf(points) / 1000.0)

    # Two clusters apart in a setting of small units, spread widely in one of large units:
    # neighbours found on standardised settings lie in the particle's own cluster, so few
    # proposals fall between the clusters; pyabc's own local kernel (neighbours by the
    # large units) and the single Gaussian fill the gap.
    clusters = pd.DataFrame({"a": rng.normal(0.0, 1000.0, 200),
                             "b": np.where(rng.random(200) < 0.5, -0.01, 0.01)
                             + rng.normal(0.0, 0.001, 200)})
    between = {}
    for name, candidate in (("standardised", StandardisedLocalTransition()),
                            ("pyabc local", pyabc.LocalTransition()),
                            ("gaussian", pyabc.MultivariateNormalTransition())):
        candidate.fit(clusters, np.full(200, 1 / 200))
        np.random.seed(4)
        between[name] = (candidate.rvs(2000)["b"].abs() < 0.005).mean()
    assert between["standardised"] < 0.03 < 0.1 < min(between["pyabc local"],
                                                      between["gaussian"]), between


def test_a_changed_calibration_file_refuses_resume_naming_it(finished, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(finished[0], folder)
    changed = tmp_path / "tiny.toml"
    changed.write_text(TINY.read_text().replace("max_runs = 150", "max_runs = 160"))
    kept = (folder / "manifest.json").read_bytes()
    session = calibrate(changed, "--out", folder, "--resume")
    assert session.code == 2
    assert "cannot be resumed: since it was started, the calibration file (SHA-256" in \
        session.err
    assert "source code" not in session.err and session.err.count("\n") == 1
    assert (folder / "manifest.json").read_bytes() == kept


def test_a_folder_holding_a_calibration_is_not_started_over_without_resume_or_fresh(
        finished, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(finished[0], folder)
    session = calibrate(TINY, "--out", folder)
    assert session.code == 2
    assert "already holds a calibration" in session.err and "--fresh" in session.err


NINE = "".join(f'[parameters."firms.p{i}"]\nprior = "normal"\nmean = 0.1\nsd = 0.01\n'
               f'why = "w"\n' for i in range(7))


@pytest.mark.parametrize("edit, message", [
    (lambda text: text.replace("low = 0.05\nhigh = 0.6", "low = 0.6\nhigh = 0.05"),
     'parameters."firms.pledge_imitation_yr": low (0.6) must be below high (0.05)'),
    (lambda text: text.replace('"firms.pledge_imitation_yr"', '"firms.pledge_imitation"'),
     'parameters."firms.pledge_imitation": the prior\'s midpoint 0.325 is not a valid setting '
     "of scenario 'history': unknown"),
    (lambda text: text + NINE, "9 parameters: at most 8 can be calibrated at once"),
    (lambda text: text.replace("max_runs = 150", "max_runs = 150\nmin_ess_share = 0"),
     "abc.min_ess_share"),
    (lambda text: text.replace("max_runs = 150", 'max_runs = 150\ntransition = "knn"'),
     "abc.transition = 'knn': Input should be 'multivariate_normal' or 'local'"),
], ids=["low above high", "unknown path", "nine parameters", "ess share 0", "bad transition"])
def test_a_bad_calibration_file_exits_2_with_one_line_and_writes_nothing(tmp_path, edit,
                                                                         message):
    spec = tmp_path / "bad.toml"
    spec.write_text(edit(TINY.read_text()))
    session = calibrate(spec, "--out", tmp_path / "out")
    assert session.code == 2
    assert message in session.err and session.err.count("\n") == 1, session.err
    assert not (tmp_path / "out").exists()


def test_a_particle_with_several_seeds_reports_the_median_of_its_runs():
    """seeds_per_particle = 3: the particle's statistics are, one by one, the medians of
    three hindcast runs over the runs that have them (a run without a trade by a price
    anchor lacks that price), the first with the particle's model seed; one seed is that
    run."""
    from vcm_sim.calibrate.simulation import particle_seeds

    overrides = {"population.firms": 100}
    values = {"firms.pledge_imitation_yr": 0.3, "firms.pledge_innovation_yr": 0.02}
    seeds = particle_seeds(7, values, 3)
    assert seeds[0] == model_seed(7, values) and len(set(seeds)) == 3
    runs = [hindcast.statistics({**overrides, **values}, seed) for seed in seeds]
    got = Simulator(7, overrides, seeds=3)(values)
    for name in runs[0]:
        present = [r[name] for r in runs if not np.isnan(r[name])]
        assert got[name] == pytest.approx(float(np.median(present)) if present else np.nan,
                                          nan_ok=True)
    assert Simulator(7, overrides)(values) == runs[0]


def test_a_statistic_missing_from_the_first_seed_still_takes_the_other_seeds_median(
        monkeypatch: pytest.MonkeyPatch):
    """A statistic the particle's first run lacks (no trade by a price anchor) but later
    runs have is the median of those runs, not dropped."""
    runs = iter([{"a": 1.0}, {"a": 3.0, "b": 2.0}, {"a": 5.0, "b": 4.0}])
    monkeypatch.setattr(hindcast, "statistics", lambda overrides, seed: next(runs))
    got = Simulator(7, {}, seeds=3)({"firms.pledge_imitation_yr": 0.3})
    assert got == {"a": 3.0, "b": 3.0}
