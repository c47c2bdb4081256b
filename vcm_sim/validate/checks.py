"""The hindcast against its targets: a row per target (data, model median and 90% band,
inside the band or not) and the acceptance criteria of the validation issue.

Medians and 5%-95% bands are taken across posterior draws of each draw's own figure (a year's
flow, a growth ratio, a month's price).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from vcm_sim.hindcast import Runs, Targets

RETIRED_TOLERANCE = 0.35
"""Retirements: the median run within +-35% of the data..."""
RETIRED_YEARS_NEEDED = 7
"""...in at least 7 of the 10 in-sample years."""
GROWTH_TOLERANCE = 0.5
"""Growth from 2012-2014 to 2019-2021 within +-50% of the data's (issuance and retirements)."""
ISSUED_TOLERANCE = 0.25
"""Cumulative in-sample issuance within +-25% of the data."""
PRICE_RISE = 2.0
"""The 2021 boom: the price at least doubles from June to November 2021 or to its
2021-2022 peak."""
PRICE_SMOOTHING_MONTHS = 3
"""The boom is read on centred 3-month means of the monthly price: the peak of a noisy
monthly path rises above June's by chance alone."""


def _band(values: pd.Series | np.ndarray) -> tuple[float, float, float]:
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if not len(values):
        return math.nan, math.nan, math.nan
    # Sample quantiles, not interpolated: a growth ratio over a draw with nothing in its
    # first years is infinite, and interpolating towards it is undefined.
    return (float(np.median(values)), float(np.quantile(values, 0.05, method="inverted_cdf")),
            float(np.quantile(values, 0.95, method="inverted_cdf")))


def _row(target: str, sample: str, data: float, runs: pd.Series | np.ndarray,
         unit: str, source: str) -> dict[str, object]:
    median, low, high = _band(runs)
    inside = bool(low <= data <= high) if not math.isnan(data) else None
    return {"target": target, "sample": sample, "unit": unit, "data": data,
            "model_median": median, "model_low": low, "model_high": high,
            "data_in_band": inside, "source": source}


def _sums(frame: pd.DataFrame, years: range) -> pd.Series:
    return frame.reindex(list(years)).fillna(0.0).sum(axis=0)


def target_table(runs: Runs, targets: Targets) -> pd.DataFrame:
    """One row per target: yearly issuance and retirements 2012-2025, cumulative in-sample
    issuance, the two growth ratios, and the price anchors."""
    flows, rows = targets.flows, []
    vrod = "Berkeley VROD (forestry and land use)"
    for year in targets.years:
        sample = "in" if year in targets.in_sample else "held out"
        rows.append(_row(f"issuance {year}", sample, float(flows.issued_mt.get(year, math.nan)),
                         runs.issued.loc[year], "Mt", vrod))
        rows.append(_row(f"retirements {year}", sample,
                         float(flows.retired_mt.get(year, math.nan)), runs.retired.loc[year],
                         "Mt", vrod))
    first, last = targets.in_sample[0], targets.in_sample[-1]
    rows.append(_row(f"issuance {first}-{last}, cumulative", "in",
                     float(flows.issued_mt.loc[first:last].sum()),
                     _sums(runs.issued, targets.in_sample), "Mt", vrod))
    for name, frame, column in (("issuance", runs.issued, "issued_mt"),
                                ("retirements", runs.retired, "retired_mt")):
        data = (flows[column].loc[list(targets.growth_to)].sum()
                / flows[column].loc[list(targets.growth_from)].sum())
        model = _sums(frame, targets.growth_to) / _sums(frame, targets.growth_from)
        rows.append(_row(f"{name} growth {_span(targets.growth_from)} to "
                         f"{_span(targets.growth_to)}", "in", float(data), model, "x", vrod))
    for anchor in targets.prices:
        sample = "in" if anchor.year in targets.in_sample else "held out"
        model = runs.prices.loc[anchor.date] if anchor.date in runs.prices.index else []
        label = {"at": "", "below": "below ", "within": "range "}[anchor.relation]
        row = _row(f"price {anchor.date} ({label}{anchor.what})", sample, anchor.central,
                   model, "USD/t", anchor.source)
        if anchor.relation != "at":
            median = row["model_median"]
            row["data_in_band"] = None if math.isnan(median) else anchor.holds(median)
        rows.append(row)
    return pd.DataFrame(rows)


def _span(years: range) -> str:
    return f"{years[0]}-{years[-1]}"


@dataclass(frozen=True)
class Criterion:
    """One acceptance criterion: what it asks, what the median run gives, whether it holds,
    and the share of draws whose own figure meets it (a median can hold while most draws
    miss, when they fall on both sides)."""

    name: str
    asks: str
    gives: str
    holds: bool
    draws_meeting: float


def criteria(runs: Runs, targets: Targets) -> list[Criterion]:
    """The in-sample acceptance criteria: retirement levels on the median run (the per-year
    median across draws); growth, cumulative issuance and the price rise as the median over
    draws of each draw's own figure."""
    flows = targets.flows
    years = list(targets.in_sample)
    data_retired = flows.retired_mt.reindex(years)

    def years_close(retired: pd.Series) -> int:
        ratio = retired.reindex(years) / data_retired
        return int((abs(ratio - 1.0) <= RETIRED_TOLERANCE).sum())

    close = years_close(runs.retired.median(axis=1))
    each = [years_close(runs.retired[k]) >= RETIRED_YEARS_NEEDED for k in runs.retired]
    out = [Criterion("retirement levels",
                     f"median within +-{RETIRED_TOLERANCE:.0%} of the data in at least "
                     f"{RETIRED_YEARS_NEEDED} of {len(years)} in-sample years",
                     f"{close} of {len(years)} years", close >= RETIRED_YEARS_NEEDED,
                     float(np.mean(each)))]
    for name, frame, column in (("retirement growth", runs.retired, "retired_mt"),
                                ("issuance growth", runs.issued, "issued_mt")):
        data = _growth(flows[column], targets)
        growths = np.array([_growth(frame[k], targets) for k in frame])
        got = float(np.median(growths))
        out.append(Criterion(name, f"growth {_span(targets.growth_from)} to "
                                   f"{_span(targets.growth_to)} within +-"
                                   f"{GROWTH_TOLERANCE:.0%} of the data's {data:.1f}x",
                             f"{got:.1f}x", abs(got / data - 1.0) <= GROWTH_TOLERANCE,
                             float(np.mean(abs(growths / data - 1.0) <= GROWTH_TOLERANCE))))
    data = float(flows.issued_mt.reindex(years).sum())
    totals = runs.issued.reindex(years).fillna(0.0).sum()
    got = float(totals.median())
    out.append(Criterion("cumulative issuance",
                         f"{_span(targets.in_sample)} within +-{ISSUED_TOLERANCE:.0%} of the "
                         f"data's {data:.0f} Mt", f"{got:.0f} Mt",
                         abs(got / data - 1.0) <= ISSUED_TOLERANCE,
                         float(np.mean(abs(totals / data - 1.0) <= ISSUED_TOLERANCE))))
    out.append(_price_rise(runs.prices))
    return out


def dead_draws(runs: Runs, targets: Targets) -> list[int]:
    """The draws (columns of ``runs``) whose market is dead for a whole in-sample year: not
    a credit retired in it. One such draw is the smallest of 20, so it alone sets the lower
    end of every 90% band."""
    retired = runs.retired.reindex(list(targets.in_sample)).fillna(0.0)
    return [k for k in retired if (retired[k] <= 0).any()]


def _growth(series: pd.Series, targets: Targets) -> float:
    before = float(series.reindex(list(targets.growth_from)).sum())
    after = float(series.reindex(list(targets.growth_to)).sum())
    return after / before if before > 0 else math.inf


BOOM_YEAR = 2021
"""The year of the boom the price-rise criterion looks for."""
PLACEBO_FROM = 2016
"""The first year of the placebo: before it the market is thin (a few Mt a year), its June
prices tiny and noisy, and their rises no yardstick for a market of 2021's size."""


def _rise(price: pd.Series, year: int = BOOM_YEAR) -> tuple[float, float, float]:
    """June price of ``year``, the larger of its November price and the peak from that June
    to December of the next year, and their ratio, on centred means of
    :data:`PRICE_SMOOTHING_MONTHS`."""
    price = price.rolling(PRICE_SMOOTHING_MONTHS, center=True, min_periods=1).mean()
    june = float(price.get(f"{year}-06", math.nan))
    window = price.loc[[m for m in price.index if f"{year}-06" <= m <= f"{year + 1}-12"]]
    high = max(float(price.get(f"{year}-11", math.nan)), float(window.max()))
    return june, high, high / june


@dataclass(frozen=True)
class Placebo:
    """The boom statistic measured where no boom is known: from June of each year from
    :data:`PLACEBO_FROM` whose window closes before June 2021, in every draw. A noisy price's
    peak over 19 months rises above its first month by chance alone; this says by how
    much."""

    years: range
    median: float
    """Median rise over draws and years (x)."""
    share_doubling: float
    """Share of those windows in which the price at least doubles (:data:`PRICE_RISE`)."""


def placebo_rise(prices: pd.DataFrame, targets: Targets) -> Placebo:
    """:class:`Placebo` of the draws' monthly ``prices`` (a column per draw)."""
    years = range(max(PLACEBO_FROM, targets.in_sample[0]), BOOM_YEAR - 1)
    rises = np.array([_rise(prices[k], year)[2] for k in prices for year in years])
    rises = rises[np.isfinite(rises)]
    return Placebo(years, float(np.median(rises)), float(np.mean(rises >= PRICE_RISE)))


def _price_rise(prices: pd.DataFrame) -> Criterion:
    rises = [_rise(prices[k]) for k in prices]
    june, high, rise = (float(np.median(column)) for column in zip(*rises))
    return Criterion("2021 price boom",
                     f"the price rises at least {PRICE_RISE:g}x from June 2021 to November "
                     f"2021 or to its 2021-2022 peak (median over draws; "
                     f"{PRICE_SMOOTHING_MONTHS}-month centred means)",
                     f"June {june:.2f}, November or peak {high:.2f} USD/t: {rise:.2f}x",
                     bool(rise >= PRICE_RISE),
                     float(np.mean([r[2] >= PRICE_RISE for r in rises])))


def directions(runs: Runs, targets: Targets, start: int = 2021, end: int = 2023
               ) -> pd.DataFrame:
    """Direction of issuance, retirements and the December price from ``start`` to
    ``end`` in the data and the median run (held-out years)."""
    flows, rows = targets.flows, []
    for name, model, data in (("issuance", runs.issued.median(axis=1), flows.issued_mt),
                              ("retirements", runs.retired.median(axis=1), flows.retired_mt)):
        rows.append({"what": name, "data_from": data[start], "data_to": data[end],
                     "model_from": model[start], "model_to": model[end]})
    price = runs.prices.median(axis=1)
    peak_anchor = next(a for a in targets.prices if a.date == f"{start}-11")
    low_anchor = next(a for a in targets.prices if a.date == f"{end}-12")
    rows.append({"what": "price", "data_from": peak_anchor.central,
                 "data_to": low_anchor.central, "model_from": price[f"{start}-11"],
                 "model_to": price[f"{end}-12"]})
    table = pd.DataFrame(rows)
    for side in ("data", "model"):
        change = table[f"{side}_to"] / table[f"{side}_from"] - 1.0
        table[f"{side}_direction"] = np.where(change > 0.05, "up",
                                              np.where(change < -0.05, "down", "flat"))
    return table
