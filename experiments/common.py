"""What every experiment script shares: run its sweep (resuming), write the generic report into
``results/<name>/``, tabulate means with 95% intervals, and write the README from the numbers."""

from __future__ import annotations

import argparse
import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from vcm_sim.sweep import SweepError, SweepSpec, load_runs, load_series, load_sweep, report, sweep
from vcm_sim.sweep.report import mean_ci

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENTS = ROOT / "experiments"
RESULTS = ROOT / "results"


def arguments(doc: str) -> argparse.Namespace:
    """``--workers N`` and ``--fresh`` (delete earlier raw runs instead of resuming)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--workers", type=int, default=None, help="worker processes")
    parser.add_argument("--fresh", action="store_true", help="start again, discarding raw runs")
    parser.add_argument("--no-progress", action="store_true")
    return parser.parse_args()


def run(name: str, args: argparse.Namespace) -> tuple[SweepSpec, pd.DataFrame, Path]:
    """Run (or resume) ``experiments/<name>.toml`` into ``results/<name>/runs`` and write the
    generic report into ``results/<name>/``; return the spec, the run table and that folder."""
    warnings.simplefilter("ignore")
    target = RESULTS / name
    raw = target / "runs"
    if args.fresh:
        shutil.rmtree(raw, ignore_errors=True)
    sweep_file = EXPERIMENTS / f"{name}.toml"
    try:
        sweep(sweep_file, workers=args.workers, out=raw, resume=raw.exists(),
              progress=not args.no_progress)
    except SweepError as err:  # e.g. raw runs of an earlier source cannot be resumed
        raise SystemExit(f"{name}: {err}\nRun again with --fresh to discard {raw} and start "
                         "over.") from None
    for old in target.glob("*.png"):
        old.unlink()
    report(raw, target)
    spec, _ = load_sweep(sweep_file)
    return spec, load_runs(raw), target


def series(name: str) -> pd.DataFrame:
    """The per-step series kept by an experiment's sweep."""
    return load_series(RESULTS / name / "runs")


def by_level(runs: pd.DataFrame, by: str | list[str], metric: str) -> pd.DataFrame:
    """Mean, 95% interval and count of ``metric`` over successful runs, per level of ``by``."""
    ok = runs[runs["status"] == "ok"]
    rows = []
    for level, group in ok.groupby(by, sort=True):
        n, mean, sd, low, high = mean_ci(group[metric])
        key = level if isinstance(level, tuple) else (level,)
        rows.append({**dict(zip([by] if isinstance(by, str) else by, key)), "n": n,
                     "mean": mean, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)


def fmt(value: float, digits: int = 3) -> str:
    """A number with ``digits`` significant figures ('n/a' for NaN)."""
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{value:.{digits}g}"


def level(value: object) -> str:
    """A parameter level as text: 40 rather than 40.0."""
    if isinstance(value, (float, np.floating)):
        return f"{value:g}"
    return str(value)


def ci_text(row: pd.Series | dict, digits: int = 3) -> str:
    """'mean [low, high]'."""
    if not np.isfinite(row["ci_low"]):
        return fmt(row["mean"], digits)
    return (f"{fmt(row['mean'], digits)} [{fmt(row['ci_low'], digits)}, "
            f"{fmt(row['ci_high'], digits)}]")


def change(first: pd.Series | dict, last: pd.Series | dict) -> str:
    """'rises', 'falls', or 'does not change beyond noise' (95% intervals overlap)."""
    a, b = first["mean"], last["mean"]
    if not (np.isfinite(a) and np.isfinite(b)):
        return "is undefined at one end"
    if np.isfinite(first["ci_low"]) and np.isfinite(last["ci_low"]) and \
            first["ci_low"] <= last["ci_high"] and last["ci_low"] <= first["ci_high"]:
        return "does not change beyond noise (95% CIs overlap)"
    return "rises" if b > a else "falls"


def markdown_table(frame: pd.DataFrame) -> str:
    """A Markdown table of a small frame."""
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(_cell(v) for v in row) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _cell(value: object) -> str:
    return fmt(value) if isinstance(value, float) else str(value)


def write_readme(target: Path, spec: SweepSpec, runs: pd.DataFrame, question: str,
                 findings: list[str], sections: list[str], scale_note: str) -> Path:
    """``results/<name>/README.md``: question, set-up, findings, the experiment's own sections,
    what moved with issue 11 (:func:`moved_section`), files and provenance."""
    manifest = json.loads((target / "manifest.json").read_text())
    seconds = sum(s.get("seconds") or 0 for s in manifest["sessions"])
    ok = int((runs["status"] == "ok").sum())
    sessions = manifest["sessions"][-1]
    lines = [
        f"# {spec.name}", "", f"**Question.** {question}", "",
        f"**Set-up.** Sweep file `experiments/{spec.name}.toml` on the `{spec.scenario}` "
        f"scenario: {manifest['points']} parameter points x {spec.replications} "
        f"replication(s) = {len(runs)} runs ({ok} ok, {len(runs) - ok} failed), sampler "
        f"`{spec.sampler.method}`, root seed {spec.seed}. {scale_note}{_burn_in(spec)}", "",
        "## Findings", "", *[f"- {f}" for f in findings], "",
        *sections, "",
        *moved_section(spec.name),
        "## Files", "",
        "- `summary.csv`: mean, sd and 95% CI per parameter point and metric; `report.md`: the "
        "same as tables; `effects_*.png`, `heatmap_*.png`: the generic report's figures; "
        "`manifest.json`: provenance. Raw runs (`runs/`) are not committed: rerun with "
        f"`python experiments/{spec.name}.py` (or `vcm-sim sweep experiments/{spec.name}.toml`).",
        "",
        "## Provenance", "",
        f"vcm_sim {manifest['version']}, source {_sources(manifest)}; sweep file "
        f"SHA-256 `{manifest['sweep_sha256'][:16]}...`; finished {manifest['finished']} UTC; "
        f"{seconds:.0f} s of wall time on backend `{sessions.get('backend')}` with "
        f"{sessions.get('workers')} worker(s) (shared machine). "
        f"Numbers in brackets are 95% confidence intervals of the mean across runs.",
    ]
    path = target / "README.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _burn_in(spec: SweepSpec) -> str:
    """The sentence on burn-in when the sweep file sets it."""
    months = spec.overrides.get("burn_in")
    if months is None:
        return ""
    return (f" Every run first simulates {months} months of burn-in from a seeded running "
            f"market; only the months after it are recorded (`docs/measurement.md`).")


MOVED = EXPERIMENTS / "moved"


def moved_section(name: str) -> list[str]:
    """README lines of ``experiments/moved/<name>.md`` (hand-written: what the steady start of
    issue 11 changed in this experiment's findings, and why) under its own heading; none when
    the file does not exist. The file holds the section's body, without a heading."""
    path = MOVED / f"{name}.md"
    if not path.exists():
        return []
    return ["## What moved with the steady start (issue 11)", "",
            path.read_text().strip(), ""]


def _sources(manifest: dict) -> str:
    """The git revisions the runs were made with ('+dirty': with uncommitted changes)."""
    revisions = sorted({str(s.get("source")) for s in manifest["sessions"]})
    return "git " + ", ".join(f"`{r}`" for r in revisions)


def lines_figure(runs: pd.DataFrame, x: str, metrics: list[str], path: Path, *,
                 hue: str | None = None, panel: str | None = None, title: str = "",
                 xlabel: str | None = None, labels: dict[str, str] | None = None,
                 vline: tuple[float, str] | None = None, logx: bool = False) -> Path:
    """Mean and 95% band of each metric against ``x``: one row of panels per metric, one
    column per level of ``panel``, one line per level of ``hue``."""
    from matplotlib.figure import Figure

    labels = labels or {}
    ok = runs[runs["status"] == "ok"]
    panels = [None] if panel is None else sorted(ok[panel].unique(), key=str)
    if panel is None and len(metrics) > 2:  # a grid of two columns reads better than a tower
        rows, cols = (len(metrics) + 1) // 2, 2
    else:
        rows, cols = len(metrics), len(panels)
    fig = Figure(figsize=(4.0 * cols, 2.9 * rows), layout="constrained")
    grid = fig.subplots(rows, cols, squeeze=False)
    for i, metric in enumerate(metrics):
        for j, level in enumerate(panels):
            ax = grid[i][j] if cols == len(panels) and rows == len(metrics) \
                else grid[i // 2][i % 2]
            frame = ok if panel is None else ok[ok[panel] == level]
            hues = [None] if hue is None else sorted(frame[hue].unique(), key=str)
            for h in hues:
                sub = frame if hue is None else frame[frame[hue] == h]
                table = by_level(sub, x, metric)
                line, = ax.plot(table[x], table["mean"], marker="o", ms=3,
                                label=None if hue is None else f"{labels.get(hue, hue)} = {h}")
                ax.fill_between(table[x], table["ci_low"].fillna(table["mean"]),
                                table["ci_high"].fillna(table["mean"]), alpha=0.2,
                                color=line.get_color(), linewidth=0)
            if vline is not None:
                ax.axvline(vline[0], color="crimson", linestyle="--", linewidth=1)
                ax.annotate(vline[1], (vline[0], 0.97), xycoords=("data", "axes fraction"),
                            color="crimson", fontsize=8, ha="left", va="top",
                            xytext=(3, 0), textcoords="offset points")
            if logx:
                ax.set_xscale("symlog", linthresh=0.01)
                ax.set_xlim(left=min(0.0, float(frame[x].min())))
            ax.set_ylabel(labels.get(metric, metric), fontsize=8)
            ax.set_xlabel(xlabel or labels.get(x, x), fontsize=8)
            if panel is not None and i == 0:
                ax.set_title(f"{labels.get(panel, panel)} = {level}", fontsize=9)
            if hue is not None and i == 0 and j == 0:
                ax.legend(fontsize=7)
    for extra in grid.flat[len(metrics) * len(panels):]:
        extra.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.savefig(path, dpi=110)
    return path
