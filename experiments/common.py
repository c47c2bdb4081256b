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
    """``--workers N``, ``--fresh`` (delete earlier raw runs instead of resuming) and
    ``--report-only`` (write the results from the raw runs there are, without running)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--workers", type=int, default=None, help="worker processes")
    parser.add_argument("--fresh", action="store_true", help="start again, discarding raw runs")
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the results from the raw runs already there (after "
                             "editing the script), without running or resuming the sweep; "
                             "their provenance stays that of the runs")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    if args.fresh and args.report_only:
        parser.error("--fresh discards the raw runs --report-only reads; give one of them")
    return args


def run(name: str, args: argparse.Namespace) -> tuple[SweepSpec, pd.DataFrame, Path]:
    """Run (or resume; with ``--report-only`` neither) ``experiments/<name>.toml`` into
    ``results/<name>/runs`` and write the generic report into ``results/<name>/``; return the
    spec, the run table and that folder."""
    warnings.simplefilter("ignore")
    target = RESULTS / name
    raw = target / "runs"
    if args.fresh:
        shutil.rmtree(raw, ignore_errors=True)
    sweep_file = EXPERIMENTS / f"{name}.toml"
    if args.report_only:
        if not (raw / "manifest.json").exists():
            raise SystemExit(f"{name}: no raw runs in {raw} to report on; run without "
                             "--report-only first.")
    else:
        try:
            sweep(sweep_file, workers=args.workers, out=raw, resume=raw.exists(),
                  progress=not args.no_progress)
        except SweepError as err:  # e.g. raw runs of an earlier source cannot be resumed
            raise SystemExit(f"{name}: {err}\nRun again with --fresh to discard {raw} and "
                             "start over, or with --report-only to rewrite the results from "
                             "them.") from None
    for old in target.glob("*.png"):
        old.unlink()
    report(raw, target)
    spec, _ = load_sweep(sweep_file)
    return spec, load_runs(raw), target


def series(name: str) -> pd.DataFrame:
    """The per-step series kept by an experiment's sweep."""
    return load_series(RESULTS / name / "runs")


def by_level(runs: pd.DataFrame, by: str | list[str], metric: str) -> pd.DataFrame:
    """Mean, 95% interval and count of runs of ``metric`` over successful runs, per level of
    ``by``.

    The interval is over replications: each replication's runs at the level (one per point of
    the other parameters) are averaged first. With paired points (``common_random_numbers``)
    those runs share one seed, so only replications are independent; at a single point this
    is the plain interval over its runs."""
    ok = runs[runs["status"] == "ok"]
    rows = []
    for level, group in ok.groupby(by, sort=True):
        per_rep = group.groupby("replication")[metric].mean() if "replication" in group \
            else group[metric]
        _, mean, sd, low, high = mean_ci(per_rep)
        key = level if isinstance(level, tuple) else (level,)
        rows.append({**dict(zip([by] if isinstance(by, str) else by, key)),
                     "n": int(group[metric].notna().sum()),
                     "mean": mean, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)


def cell(runs: pd.DataFrame, where: dict) -> pd.DataFrame:
    """The runs at the levels ``where`` gives (column: level; other factors free)."""
    mask = np.ones(len(runs), dtype=bool)
    for key, value in where.items():
        mask &= (runs[key] == value).to_numpy()
    return runs[mask]


def paired(runs: pd.DataFrame, params: list[str], factor: str, a: object, b: object,
           metric: str) -> dict:
    """The paired difference of ``metric`` between level ``a`` and level ``b`` of ``factor``.

    With ``common_random_numbers = true`` replication r of every point runs with one seed, so a
    run at ``a`` and the run at ``b`` with the same replication and the same other parameters
    (``params`` lists them all) form a pair. Each replication's pair differences are averaged
    over the other parameters' levels; the mean and 95% interval are over replications, the
    independent units (pairs within a replication share a seed).

    Also returned: ``pairs``; ``identical``, the share of pairs with equal values;
    ``independent_half``, the half-width the averaged difference would have if every run had
    its own seed (unpaired, as before a92c735), from the spread within each point; and
    ``point_ratio``, point by point (the other parameters fixed), the median ratio of the
    paired interval's half-width to that of two independent samples of the same size and
    spread (Welch), over the points where either is not zero."""
    from scipy import stats

    ok = runs[runs["status"] == "ok"]
    cells = [p for p in params if p != factor]
    keys = cells + ["replication"]
    at_a = ok[ok[factor] == a].set_index(keys)[metric].astype("float64")
    at_b = ok[ok[factor] == b].set_index(keys)[metric].astype("float64")
    both = pd.concat([at_a.rename("a"), at_b.rename("b")], axis=1, join="inner").dropna()
    d = both["a"] - both["b"]
    n, mean, sd, low, high = mean_ci(d.groupby(level="replication").mean())
    variances, ratios = [], []
    for _, g in (both.groupby(level=cells) if cells else [(None, both)]):
        r = len(g)
        if r < 2:
            continue
        va, vb = g["a"].var(ddof=1), g["b"].var(ddof=1)
        variances.append((va, vb, r))
        se = np.sqrt((va + vb) / r)
        paired_half = stats.t.ppf(0.975, r - 1) * (g["a"] - g["b"]).std(ddof=1) / np.sqrt(r)
        if se == 0:
            continue
        df = se ** 4 / (((va / r) ** 2 + (vb / r) ** 2) / (r - 1))
        ratios.append(paired_half / (stats.t.ppf(0.975, df) * se))
    half = np.nan
    if variances:
        var = np.array([(va, vb) for va, vb, _ in variances])
        total = sum(r for *_, r in variances)
        df = 2 * (total - len(variances))
        se = np.sqrt((var[:, 0].mean() + var[:, 1].mean()) / total)
        half = float(stats.t.ppf(0.975, df)) * se if df > 0 else np.nan
    return {"n": n, "pairs": len(d), "mean": mean, "ci_low": low, "ci_high": high,
            "identical": float((d == 0).mean()) if len(d) else np.nan,
            "independent_half": half,
            "point_ratio": float(np.median(ratios)) if ratios else np.nan}


def paired_text(diff: dict, digits: int = 3) -> str:
    """'mean [low, high]' of a :func:`paired` difference; '(not resolved)' when its interval
    includes zero."""
    return ci_text(diff, digits) + ("" if resolved(diff) else " (not resolved)")


def paired_row(diff: dict) -> dict:
    """The columns a table of :func:`paired` differences shows."""
    return {"pairs": diff["pairs"], "paired difference [95% CI]": ci_text(diff),
            "half-width if unpaired": fmt(diff["independent_half"], 2),
            "point by point: paired / unpaired half-width": fmt(diff["point_ratio"], 2),
            "identical pairs": f"{100 * diff['identical']:.0f}%"}


PAIRED_NOTE = (
    "Runs that differ only in the compared factor share their seed and form a pair; their "
    "differences are averaged over the other factors within each replication, and the mean and "
    "95% interval are over replications (the independent units). 'Half-width if unpaired': the "
    "interval the same averaged difference would have if every run had its own seed, from the "
    "spread within each point. 'Point by point': for single points (the other factors fixed), "
    "the median ratio of the paired interval's half-width to that of independent runs; below 1 "
    "pairing narrows it. 'Identical pairs': pairs whose value is exactly equal.")


def resolved(diff: dict) -> bool:
    """Whether the 95% interval of a :func:`paired` difference excludes zero."""
    return bool(np.isfinite(diff["ci_low"]) and (diff["ci_low"] > 0 or diff["ci_high"] < 0))


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
        f"`{spec.sampler.method}`, root seed {spec.seed}. {scale_note}{_burn_in(spec)}"
        f"{_pairing(spec)}", "",
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
        f"Numbers in brackets are 95% confidence intervals of the mean over replications (a "
        f"mean over several points is first averaged within each replication, whose runs share "
        f"a seed when points are paired).",
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


def _pairing(spec: SweepSpec) -> str:
    """The sentence on common random numbers when the sweep file pairs its points."""
    if not getattr(spec, "common_random_numbers", False):
        return ""
    return (" Points are paired (`common_random_numbers = true`, `docs/sweeps.md`): "
            "replication r of every point runs with the same seed, so a difference between "
            "points is measured run by run.")


MOVED = EXPERIMENTS / "moved"


def moved_section(name: str) -> list[str]:
    """README sections from ``experiments/moved/issue12/<name>.md`` and
    ``experiments/moved/issue11/<name>.md`` (hand-written: what issue 12's market economics,
    and before it issue 11's steady start and paired points, changed in this experiment's
    findings, and why), each under its own heading, none for a file that does not exist. The
    files hold the sections' bodies, without headings."""
    headings = {"issue12": "What moved with issue 12 (market economics)",
                "issue11": "What moved with the steady start (issue 11) and paired points "
                           "(history: its 'now' is issue 11's run, not this one)"}
    lines = []
    for issue, heading in headings.items():
        path = MOVED / issue / f"{name}.md"
        if path.exists():
            lines += [f"## {heading}", "", path.read_text().strip(), ""]
    return lines


def _sources(manifest: dict) -> str:
    """The git revisions the runs were made with ('+dirty': with uncommitted changes)."""
    revisions = sorted({str(s.get("source")) for s in manifest["sessions"]})
    return "git " + ", ".join(f"`{r}`" for r in revisions)


def yearly_spread(steps: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per year of the run (12-month blocks, the first year 1), the mean over runs of each
    run's yearly mean of ``column`` (``steps``: per-step series with ``run_id``), and the 5th
    and 95th percentiles of those yearly means."""
    year = steps["step"] // 12 + 1
    per_run = steps.assign(year=year).groupby(["run_id", "year"])[column].mean().unstack(0)
    return pd.DataFrame({"mean": per_run.mean(axis=1), "low": per_run.quantile(0.05, axis=1),
                         "high": per_run.quantile(0.95, axis=1)})


def yearly_figure(lines: list[tuple[pd.DataFrame, str, str, str | None]], path: Path, *,
                  ylabel: str, title: str, xlabel: str = "year of the run",
                  figsize: tuple[float, float] = (7, 3.6), alpha: float = 0.15) -> Path:
    """One line per ``(steps, column, label, colour)`` (colour None: the next of the
    cycle): :func:`yearly_spread` of the column over the runs in ``steps``, its mean and,
    shaded, its 5-95% range."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    for steps, column, label, colour in lines:
        table = yearly_spread(steps, column)
        line, = ax.plot(table.index, table["mean"], marker="o", ms=3, label=label,
                        color=colour)
        ax.fill_between(table.index, table["low"], table["high"], alpha=alpha,
                        color=line.get_color())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)
    return path


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
