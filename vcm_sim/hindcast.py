"""The 2010-2025 hindcast: the ``history`` preset against registry flows and price anchors.

The targets (``vcm_sim/data/targets.toml``, each with its source) are nature-based only:
annual forestry and land-use issuance and retirements, and dated prices of generic
nature-based credits. Model credits are reported in real tonnes times the stated ``scale``
(the model's world is a sample of the market). In-sample years (2012-2021) are what the
calibration sees, through :func:`statistics`; held-out years (2022-2025) are only reported.

The statistics avoid levels correlation, which any trend passes: they are logs of yearly
retirements, of cumulative issuance, of the growth of both between three-year sums, and of
the two in-sample price anchors.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from vcm_sim.drivers import data_file
from vcm_sim.projects import STEPS_PER_YEAR
from vcm_sim.scenario import Scenario, load_scenario, setting, with_overrides

SCENARIO = "history"
"""The preset the hindcast runs."""

FLOOR_MT = 1e-3
"""Smallest yearly flow, Mt, whose log a statistic takes (a year with none reads as this)."""

@dataclass(frozen=True)
class PriceAnchor:
    """A dated price of generic nature-based credits, USD per tCO2e."""

    date: str
    relation: str
    value: float | None
    low: float | None
    high: float | None
    what: str
    source: str

    @property
    def year(self) -> int:
        return int(self.date[:4])

    @property
    def central(self) -> float:
        """The figure plotted: the value, or the middle of the range."""
        if self.value is not None:
            return self.value
        return 0.5 * (self.low + self.high)

    def holds(self, price: float) -> bool:
        """Whether a model price satisfies the anchor: within 35% of a value, below a
        bound, or within a range."""
        if math.isnan(price):
            return False
        if self.relation == "below":
            return price < self.value
        if self.relation == "within":
            return self.low <= price <= self.high
        return abs(price / self.value - 1.0) <= 0.35


@dataclass(frozen=True)
class Targets:
    """The data the hindcast is compared with."""

    scale: float
    in_sample: range
    held_out: range
    flows: pd.DataFrame
    """Per year (index): ``issued_mt`` and ``retired_mt``, forestry and land use."""
    growth_from: range
    growth_to: range
    prices: tuple[PriceAnchor, ...]
    flows_source: str

    @property
    def years(self) -> range:
        return range(self.in_sample.start, self.held_out.stop)


@cache
def targets() -> Targets:
    """The targets in ``vcm_sim/data/targets.toml``."""
    spec = tomllib.loads(data_file("targets.toml").read_text(encoding="utf-8"))
    flows_spec = spec["flows"]
    with data_file(flows_spec["file"]).open(encoding="utf-8") as handle:
        raw = pd.read_csv(handle).set_index("year")
    flows = pd.DataFrame({"issued_mt": raw[flows_spec["issued"]],
                          "retired_mt": raw[flows_spec["retired"]]})

    def years(pair: Sequence[int]) -> range:
        return range(pair[0], pair[1] + 1)
    prices = tuple(PriceAnchor(p["date"], p["relation"], p.get("value"), p.get("low"),
                               p.get("high"), p["what"], p["source"]) for p in spec["price"])
    return Targets(float(spec["scale"]), years(spec["in_sample"]), years(spec["held_out"]),
                   flows, years(flows_spec["growth_from"]), years(flows_spec["growth_to"]),
                   prices, flows_spec["source"])


def scenario(overrides: Mapping[str, float] | None = None, drivers: bool = True) -> Scenario:
    """The ``history`` preset with dotted-path ``overrides`` (a count takes the nearest whole
    number); ``drivers=False`` switches its driver series off (the settings they move keep
    their preset values)."""
    base = load_scenario(SCENARIO)
    scenario = with_overrides(base, {path: _typed(base, path, value)
                                     for path, value in (overrides or {}).items()})
    return scenario if drivers else scenario.model_copy(update={"drivers": []})


def _typed(base: Scenario, path: str, value: float) -> float | int:
    """``value`` rounded to a whole number where the setting is a count (calibration
    proposes real numbers)."""
    if isinstance(setting(base, path), int) and not isinstance(value, bool):
        return int(round(value))
    return value


def simulate(overrides: Mapping[str, float] | None = None, seed: int = 0,
             drivers: bool = True) -> pd.DataFrame:
    """Monthly results of one run of the hindcast (see :meth:`VCMModel.results`)."""
    from vcm_sim.model import VCMModel

    return VCMModel(scenario(overrides, drivers), rng=seed).run().results()


def annual(results: pd.DataFrame, scale: float | None = None) -> pd.DataFrame:
    """Per calendar year: forestry and land-use credits issued and retired (``issued_mt``,
    ``retired_mt``, Mt: model credits times ``scale``, by default the targets'), and the
    price in December (``price_usd``, USD/tCO2e)."""
    scale = targets().scale if scale is None else scale
    by_year = results.groupby("year")
    out = pd.DataFrame({"issued_mt": by_year["issuance"].sum() * scale / 1e6,
                        "retired_mt": by_year["retirements"].sum() * scale / 1e6,
                        "price_usd": by_year["price_usd"].last()})
    out.index.name = "year"
    return out


def monthly_price(results: pd.DataFrame) -> pd.Series:
    """The nature-based price by calendar month (``YYYY-MM`` index, from the results' ``year``
    and ``step``: step 0 is January), USD/tCO2e: each month's volume-weighted price, the last
    traded price carried over a month without trades."""
    months = [f"{year}-{step % STEPS_PER_YEAR + 1:02d}"
              for year, step in zip(results["year"], results["step"])]
    return pd.Series(results["price_usd"].ffill().to_numpy(), index=months, name="price_usd")


def _log(x: float) -> float:
    return math.log(max(x, FLOOR_MT))


def _sum(series: pd.Series, years: range) -> float:
    return float(series.reindex(years).fillna(0.0).sum())


def statistics_of(flows: pd.DataFrame, prices: pd.Series) -> dict[str, float]:
    """The in-sample summary statistics of yearly ``flows`` (``issued_mt``, ``retired_mt``)
    and monthly ``prices`` (``YYYY-MM`` index), model or data alike."""
    t = targets()
    stats = {f"log_retired_{year}": _log(float(flows["retired_mt"].get(year, 0.0)))
             for year in t.in_sample}
    issued, retired = flows["issued_mt"], flows["retired_mt"]
    stats["log_issued_cumulative"] = _log(_sum(issued, t.in_sample))
    middle = range(t.growth_from.stop, t.growth_to.start)
    stats["log_issued_middle"] = _log(_sum(issued, middle))
    for name, series in (("issued", issued), ("retired", retired)):
        stats[f"log_{name}_growth"] = (_log(_sum(series, t.growth_to))
                                       - _log(_sum(series, t.growth_from)))
    for anchor in t.prices:
        if anchor.year in t.in_sample and anchor.relation == "at":
            price = float(prices.get(anchor.date, math.nan))
            stats[f"log_price_{anchor.date}"] = (math.log(price) if price > 0 else math.nan)
    return stats


def statistics(overrides: Mapping[str, float], seed: int) -> dict[str, float]:
    """The in-sample statistics of one hindcast run with ``overrides`` and ``seed``."""
    results = simulate(overrides, seed)
    return statistics_of(annual(results), monthly_price(results))


def observed() -> dict[str, float]:
    """The in-sample statistics of the data."""
    t = targets()
    prices = pd.Series({a.date: a.value for a in t.prices if a.relation == "at"})
    return statistics_of(t.flows, prices)


def distance(simulated: Mapping[str, float], observed: Mapping[str, float]) -> float:
    """Euclidean distance between two sets of statistics, each weighing the same (logs, so
    errors are relative); infinite when the run lacks one (no trade up to an anchor
    month)."""
    total = 0.0
    for name, target in observed.items():
        value = simulated.get(name, math.nan)
        if math.isnan(value):
            return math.inf
        total += (value - target) ** 2
    return math.sqrt(total)


@dataclass(frozen=True)
class Runs:
    """Hindcast runs of several parameter draws: yearly flows and monthly prices, one column
    per run."""

    issued: pd.DataFrame
    retired: pd.DataFrame
    prices: pd.DataFrame

    def band(self, frame: pd.DataFrame, q: float = 0.05) -> pd.DataFrame:
        """Median and the ``q``/``1-q`` quantiles across runs, per row."""
        return pd.DataFrame({"median": frame.median(axis=1), "low": frame.quantile(q, axis=1),
                             "high": frame.quantile(1 - q, axis=1)})


def run_draws(draws: Sequence[tuple[Mapping[str, float], int]],
              drivers: bool = True) -> Runs:
    """Run the hindcast for each ``(overrides, seed)`` draw."""
    issued, retired, prices = {}, {}, {}
    for k, (overrides, seed) in enumerate(draws):
        results = simulate(overrides, seed, drivers)
        flows = annual(results)
        issued[k], retired[k] = flows["issued_mt"], flows["retired_mt"]
        prices[k] = monthly_price(results)
    return Runs(pd.DataFrame(issued), pd.DataFrame(retired), pd.DataFrame(prices))


def fit_figure(draws: Sequence[tuple[Mapping[str, float], int]], path: str | Path,
               runs: Runs | None = None) -> Runs:
    """Write the fit figure for ``draws`` (or for ``runs`` already made) to ``path``: yearly
    issuance and retirements against the data, and the monthly price against the anchors,
    with the held-out years shaded. Returns the runs."""
    from vcm_sim.hindcast_figures import plot_fit

    runs = run_draws(draws) if runs is None else runs
    plot_fit(runs, targets(), path)
    return runs
