"""Analysis of a sweep's output: tables with confidence intervals, figures, Sobol indices.

``report(DIR)`` reads ``DIR/parts`` (the run table) and ``DIR/sweep.toml`` and writes, into
``DIR/report`` unless told otherwise (an experiment's ``results/<name>`` stands for the
``results/<name>/runs`` its sweep wrote):

* ``summary.csv``: per parameter point and metric, the number of runs, mean, standard deviation
  and 95% confidence interval of the mean across replications (Student t), tidy (long) format;
* ``effects_<metric>.png``: the metric against each varied parameter, mean with a 95% band
  (grid sweeps: lines per level of a second parameter; random designs: binned means);
* ``heatmap_<metric>__<a>__<b>.png``: mean of the metric over pairs of grid parameters;
* ``sobol.csv`` and ``sobol_<metric>.png``: first- and total-order Sobol indices with their 95%
  bootstrap intervals (SALib), when the sweep used Sobol sampling;
* ``report.md``: the tables above in Markdown, and ``manifest.json``: a copy of the sweep's.
"""

from __future__ import annotations

import logging
import math
import re
import shutil
import tomllib
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from vcm_sim.sweep.samplers import design
from vcm_sim.sweep.spec import RESERVED_COLUMNS, SweepError, SweepSpec, parse_sweep
from vcm_sim.sweep.store import RunStore, output_folder

log = logging.getLogger(__name__)

MAX_HUE_LEVELS = 6
"""A second parameter with at most this many levels draws one line per level."""

RANDOM_DESIGN_BINS = 8
"""Quantile bins per parameter in the effect plots of Latin hypercube and Sobol sweeps."""


def report(out: str | Path, report_dir: str | Path | None = None, *,
           metrics: list[str] | None = None, figures: bool = True) -> list[Path]:
    """Write the report of the sweep output folder ``out`` (or of an experiment's results
    folder ``results/<name>``, whose ``runs`` folder holds the sweep); return the files written.

    Everything is read and checked before anything is written: a folder that is missing or not
    a sweep's, a damaged manifest or run file, an unknown metric or a report folder that cannot
    be written raises :class:`SweepError`. A sweep whose runs are not all finished is reported,
    and said to be incomplete; one whose runs all failed gets a report listing their errors.
    """
    out = output_folder(out)
    store = RunStore(out)
    manifest = store.read_manifest()
    spec = read_spec(out)
    runs = store.load_runs()
    if runs.empty:
        raise SweepError(f"{out} has no finished runs yet")
    params = list(spec.parameters)
    ok = runs["status"] == "ok"
    metrics = (metrics or spec.report.metrics or metric_columns(runs, params)) if ok.any() else []
    unknown = [m for m in metrics if m not in runs.columns]
    if unknown:
        raise SweepError(f"no metric {', '.join(map(repr, unknown))} in {out}; kept: "
                         f"{', '.join(metric_columns(runs, params))}")
    runs = runs.astype({m: "float64" for m in metrics if pd.api.types.is_integer_dtype(runs[m])})
    note = completeness(runs, manifest)
    if note:
        log.warning("%s: %s", out, note)
    target = Path(report_dir) if report_dir is not None else out / "report"
    try:
        target.mkdir(parents=True, exist_ok=True)
        return _write(runs, spec, params, metrics, note, figures, store, target)
    except OSError as err:
        raise SweepError(f"cannot write the report to {str(target)!r}: "
                         f"{err.strerror or err}") from None


def completeness(runs: pd.DataFrame, manifest: dict[str, Any]) -> str:
    """A sentence if the sweep is incomplete or every run failed; empty otherwise."""
    total = int(manifest.get("runs") or len(runs))
    failed = int((runs["status"] != "ok").sum())
    notes = []
    if len(runs) < total:
        notes.append(f"incomplete sweep: {len(runs)} of {total} runs have finished (status "
                     f"'{manifest.get('status')}'); resume it to run the rest")
    if failed == len(runs):
        notes.append(f"all {failed} finished runs failed: there is nothing to summarise")
    return "; ".join(notes)


def read_spec(out: Path) -> SweepSpec:
    """The sweep file kept in an output folder."""
    path = Path(out) / "sweep.toml"
    if not path.is_file():
        raise SweepError(f"{out} has no sweep.toml: not a sweep output folder")
    try:
        data = tomllib.loads(path.read_bytes().decode())
    except (OSError, ValueError) as err:
        raise SweepError(f"{path} is damaged ({err}); copy the sweep file there again") from None
    return parse_sweep(data, source=str(path))


def _write(runs: pd.DataFrame, spec: SweepSpec, params: list[str], metrics: list[str],
           note: str, figures: bool, store: RunStore, target: Path) -> list[Path]:
    """Write every file of the report into ``target``; return them."""
    written: list[Path] = []
    table = point_summary(runs, params, metrics)
    written.append(_save_csv(table, target / "summary.csv"))
    sobol = None
    if spec.sampler.method == "sobol" and metrics:
        sobol = sobol_indices(runs, spec, metrics)
        written.append(_save_csv(sobol, target / "sobol.csv"))
    if figures:
        written += _figures(runs, spec, params, metrics, sobol, target)
    written.append(_markdown(runs, spec, table, sobol, note, target / "report.md"))
    shutil.copyfile(store.manifest_path, target / "manifest.json")
    written.append(target / "manifest.json")
    return written


def metric_columns(runs: pd.DataFrame, params: list[str]) -> list[str]:
    """Numeric run-table columns that are metrics (not ids, parameters or bookkeeping)."""
    skip = set(RESERVED_COLUMNS) | set(params)
    return [c for c in runs.columns if c not in skip and pd.api.types.is_numeric_dtype(runs[c])
            and not pd.api.types.is_bool_dtype(runs[c])]


def mean_ci(values: pd.Series | np.ndarray, level: float = 0.95) -> tuple[int, float, float,
                                                                           float, float]:
    """``(n, mean, sd, ci_low, ci_high)`` of the finite values: a Student-t interval for the
    mean (NaN bounds with fewer than two values)."""
    x = pd.Series(values).astype("float64").to_numpy()  # nullable integers: missing -> NaN
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return 0, math.nan, math.nan, math.nan, math.nan
    mean = float(x.mean())
    if n < 2:
        return n, mean, math.nan, math.nan, math.nan
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return n, mean, sd, mean - half, mean + half


def point_summary(runs: pd.DataFrame, params: list[str], metrics: list[str]) -> pd.DataFrame:
    """Tidy table: one row per parameter point and metric, with the mean and 95% CI across the
    point's successful replications, and how many of its runs failed."""
    rows = []
    for point, group in runs.groupby("point", sort=True):
        ok = group[group["status"] == "ok"]
        first = group.iloc[0]
        for metric in metrics:
            n, mean, sd, low, high = mean_ci(ok[metric]) if metric in ok else (0,) + (math.nan,) * 4
            rows.append({"point": int(point), **{p: first[p] for p in params}, "metric": metric,
                         "n": n, "failed": int((group["status"] != "ok").sum()), "mean": mean,
                         "sd": sd, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows, columns=["point", *params, "metric", "n", "failed", "mean", "sd",
                                       "ci_low", "ci_high"])


def sobol_indices(runs: pd.DataFrame, spec: SweepSpec, metrics: list[str]) -> pd.DataFrame:
    """First- and total-order Sobol indices (SALib) of each metric's mean over replications,
    with 95% bootstrap intervals. A metric missing at some point (failed or undefined runs) is
    listed with NaN indices and a note instead, unless the share of such points is within the
    sweep's ``report.sobol_fill_missing``: then they are filled with the mean of the others."""
    from SALib.analyze import sobol

    points = design(spec)
    n_points = len(points.points)
    rows = []
    for metric in metrics:
        means = (runs[runs["status"] == "ok"].groupby("point")[metric].mean()
                 .reindex(range(n_points)))
        missing = int(means.isna().sum())
        note = ""
        if missing and missing <= spec.report.sobol_fill_missing * n_points:
            means = means.fillna(means.mean())
            note = f"{missing} of {n_points} points had no value: filled with the mean"
        elif missing:
            rows += [{"metric": metric, "parameter": p, "S1": math.nan, "S1_conf": math.nan,
                      "ST": math.nan, "ST_conf": math.nan,
                      "note": f"{missing} of {n_points} points have no value"}
                     for p in spec.parameters]
            continue
        y = means.to_numpy(dtype=float)
        if np.ptp(y) == 0:
            rows += [{"metric": metric, "parameter": p, "S1": 0.0, "S1_conf": 0.0, "ST": 0.0,
                      "ST_conf": 0.0, "note": "constant over the design"}
                     for p in spec.parameters]
            continue
        result = sobol.analyze(points.problem, y, calc_second_order=points.second_order,
                               num_resamples=200, conf_level=0.95, seed=spec.seed)
        for i, p in enumerate(spec.parameters):
            rows.append({"metric": metric, "parameter": p, "S1": float(result["S1"][i]),
                         "S1_conf": float(result["S1_conf"][i]), "ST": float(result["ST"][i]),
                         "ST_conf": float(result["ST_conf"][i]), "note": note})
    return pd.DataFrame(rows)


# -- figures ---------------------------------------------------------------------------------
def _figures(runs: pd.DataFrame, spec: SweepSpec, params: list[str], metrics: list[str],
             sobol: pd.DataFrame | None, target: Path) -> list[Path]:
    ok = runs[runs["status"] == "ok"]
    varied = [p for p in params if ok[p].nunique(dropna=False) > 1] if len(ok) else []
    written = []
    for metric in metrics:
        if varied and ok[metric].notna().any():
            written.append(effect_plot(ok, spec, varied, metric, target))
    if spec.sampler.method == "grid" and spec.report.heatmaps and len(varied) >= 2:
        pairs = list(combinations(varied[:3], 2))
        for metric in metrics:
            if ok[metric].notna().any():
                written += [heatmap(ok, metric, a, b, target) for a, b in pairs]
    if sobol is not None:
        for metric, table in sobol.groupby("metric", sort=False):
            if table["S1"].notna().any():
                written.append(sobol_plot(table, metric, target))
    return written


def effect_plot(ok: pd.DataFrame, spec: SweepSpec, varied: list[str], metric: str,
                target: Path) -> Path:
    """One panel per varied parameter: the metric's mean and 95% band against it."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2 * len(varied), 3.4), layout="constrained")
    axes = fig.subplots(1, len(varied), squeeze=False)[0]
    for ax, x in zip(axes, varied):
        hue = None
        if spec.sampler.method == "grid":
            hue = next((p for p in varied if p != x
                        and 2 <= ok[p].nunique() <= MAX_HUE_LEVELS), None)
        groups = [(None, ok)] if hue is None else list(ok.groupby(hue, sort=True))
        for level, frame in groups:
            xs, means, lows, highs = _curve(frame, x, metric, spec.sampler.method != "grid")
            label = None if hue is None else f"{_short(hue)} = {_fmt(level)}"
            positions = _positions(xs, ok[x])
            line, = ax.plot(positions, means, marker="o", ms=3, label=label)
            ax.fill_between(positions, lows, highs, alpha=0.2, color=line.get_color(),
                            linewidth=0)
        _axis_labels(ax, ok[x], x)
        ax.set_ylabel(metric)
        if hue is not None:
            ax.legend(fontsize=7)
    fig.suptitle(f"{metric}: mean and 95% CI ({spec.name})", fontsize=10)
    path = target / f"effects_{_slug(metric)}.png"
    fig.savefig(path, dpi=110)
    return path


def heatmap(ok: pd.DataFrame, metric: str, a: str, b: str, target: Path) -> Path:
    """Mean of the metric over the levels of two parameters (the others averaged)."""
    from matplotlib.figure import Figure

    grid = ok.pivot_table(index=b, columns=a, values=metric, aggfunc="mean", dropna=False)
    fig = Figure(figsize=(1.1 * grid.shape[1] + 2.6, 0.55 * grid.shape[0] + 1.8),
                 layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(grid.to_numpy(dtype=float), origin="lower", aspect="auto",
                      cmap="viridis")
    ax.set_xticks(range(grid.shape[1]), [_fmt(v) for v in grid.columns], fontsize=7)
    ax.set_yticks(range(grid.shape[0]), [_fmt(v) for v in grid.index], fontsize=7)
    ax.set_xlabel(a)
    ax.set_ylabel(b)
    finite = grid.to_numpy(dtype=float)
    middle = np.nanmean(finite) if np.isfinite(finite).any() else 0.0
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            value = finite[i, j]
            if np.isfinite(value):
                ax.text(j, i, f"{value:.3g}", ha="center", va="center", fontsize=7,
                        color="white" if value < middle else "black")
    fig.colorbar(image, ax=ax, label=metric)
    ax.set_title(f"{metric} (mean over runs)", fontsize=9)
    path = target / f"heatmap_{_slug(metric)}__{_slug(_short(a))}__{_slug(_short(b))}.png"
    fig.savefig(path, dpi=110)
    return path


def sobol_plot(table: pd.DataFrame, metric: str, target: Path) -> Path:
    """First- and total-order indices per parameter, with their 95% intervals."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1.0 * len(table) + 3.0, 3.4), layout="constrained")
    ax = fig.subplots()
    at = np.arange(len(table))
    ax.bar(at - 0.2, table["S1"], 0.4, yerr=table["S1_conf"], label="first order (S1)",
           capsize=3)
    ax.bar(at + 0.2, table["ST"], 0.4, yerr=table["ST_conf"], label="total order (ST)",
           capsize=3)
    ax.set_xticks(at, [_short(p) for p in table["parameter"]], rotation=20, ha="right",
                  fontsize=8)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_ylabel("Sobol index")
    ax.set_title(f"Sobol indices of {metric}", fontsize=10)
    ax.legend(fontsize=8)
    path = target / f"sobol_{_slug(metric)}.png"
    fig.savefig(path, dpi=110)
    return path


def _curve(frame: pd.DataFrame, x: str, metric: str, binned: bool):
    if binned and pd.api.types.is_float_dtype(frame[x]) and frame[x].nunique() > RANDOM_DESIGN_BINS:
        bins = pd.qcut(frame[x], RANDOM_DESIGN_BINS, duplicates="drop")
        groups = frame.groupby(bins, observed=True)
        xs = groups[x].mean().to_numpy()
    else:
        groups = frame.groupby(x, sort=True)
        xs = np.array(list(groups.groups))
    summaries = [mean_ci(g[metric]) for _, g in groups]
    means = np.array([s[1] for s in summaries])
    lows = np.array([s[3] if np.isfinite(s[3]) else s[1] for s in summaries])
    highs = np.array([s[4] if np.isfinite(s[4]) else s[1] for s in summaries])
    return xs, means, lows, highs


def _positions(xs: np.ndarray, column: pd.Series) -> np.ndarray:
    if _numeric(column):
        return xs.astype(float)
    levels = sorted(column.dropna().unique(), key=str)
    return np.array([levels.index(v) for v in xs], dtype=float)


def _axis_labels(ax: Any, column: pd.Series, name: str) -> None:
    if not _numeric(column):
        levels = sorted(column.dropna().unique(), key=str)
        ax.set_xticks(range(len(levels)), [_fmt(v) for v in levels], fontsize=8)
    ax.set_xlabel(name, fontsize=8)


def _numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


# -- text ------------------------------------------------------------------------------------
def _markdown(runs: pd.DataFrame, spec: SweepSpec, table: pd.DataFrame,
              sobol: pd.DataFrame | None, note: str, path: Path) -> Path:
    ok = int((runs["status"] == "ok").sum())
    lines = [f"# Sweep report: {spec.name}", "", spec.description, ""]
    if note:
        lines += [f"**{note[0].upper()}{note[1:]}.**", ""]
    lines += [f"{len(runs)} runs ({ok} ok, {len(runs) - ok} failed), "
              f"{runs['point'].nunique()} parameter points x {spec.replications} replications, "
              f"sampler `{spec.sampler.method}`, root seed {spec.seed}.", ""]
    if not ok:
        lines += ["## Errors, most frequent first", "", _md_table(_errors(runs))]
        path.write_text("\n".join(lines) + "\n")
        return path
    lines += ["## Mean and 95% confidence interval per parameter point", ""]
    wide = table.assign(cell=[_cell(r) for r in table.itertuples()])
    wide = wide.pivot_table(index=["point", *spec.parameters], columns="metric",
                            values="cell", aggfunc="first", sort=False) if spec.parameters \
        else wide.pivot_table(index="point", columns="metric", values="cell", aggfunc="first")
    if len(wide) > 60:
        lines.append(f"({len(wide)} points: see summary.csv.)")
    else:
        lines.append(_md_table(wide.reset_index()))
    if sobol is not None:
        lines += ["", "## Sobol indices (mean over replications; 95% bootstrap intervals)", ""]
        shown = sobol.assign(**{c: sobol[c].map(lambda v: f"{v:.3f}")
                                for c in ("S1", "S1_conf", "ST", "ST_conf")})
        lines.append(_md_table(shown))
    path.write_text("\n".join(lines) + "\n")
    return path


def _errors(runs: pd.DataFrame) -> pd.DataFrame:
    """Failed runs counted by the first line of their error."""
    first = runs.loc[runs["status"] != "ok", "error"].fillna("(no message)").str.split("\n").str[0]
    counts = first.value_counts()
    return pd.DataFrame({"runs": counts.to_numpy(), "error": counts.index})


def _cell(row: Any) -> str:
    if not np.isfinite(row.mean):
        return "n/a"
    if not np.isfinite(row.ci_low):
        return f"{row.mean:.4g}"
    return f"{row.mean:.4g} [{row.ci_low:.4g}, {row.ci_high:.4g}]"


def _md_table(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _save_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False, float_format="%.6g")
    return path


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
