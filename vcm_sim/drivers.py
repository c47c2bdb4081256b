"""Exogenous inputs as data: yearly driver series that move a setting through a run (see
:class:`vcm_sim.scenario.Driver`) and dated events that scenario events cite.

The series live in ``vcm_sim/data/drivers.csv``, one column each, with their sources in
``drivers.toml``. A driver is not a target: no series of credit issuance, retirement or price
may drive the model that is validated against them.
"""

from __future__ import annotations

import csv
import math
import tomllib
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

from vcm_sim.errors import UserError
from vcm_sim.projects import STEPS_PER_YEAR

if TYPE_CHECKING:
    from vcm_sim.scenario import Driver, Scenario


def data_file(name: str) -> Any:
    """A file shipped in ``vcm_sim/data`` (a ``Traversable``)."""
    return resources.files("vcm_sim") / "data" / name


@cache
def table() -> dict[str, dict[int, float]]:
    """Every driver series as ``{column: {year: value}}``, empty cells left out."""
    with data_file("drivers.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    columns = [c for c in rows[0] if c != "year"] if rows else []
    return {column: {int(row["year"]): float(row[column]) for row in rows if row[column]}
            for column in columns}


@cache
def events() -> tuple[dict[str, Any], ...]:
    """The dated exogenous events of ``vcm_sim/data/events.toml``, each with its source."""
    return tuple(tomllib.loads(data_file("events.toml").read_text(encoding="utf-8"))["event"])


def event_ids() -> list[str]:
    """The ids of :func:`events`."""
    return [event["id"] for event in events()]


def series(name: str) -> dict[int, float]:
    """The driver series ``name`` as ``{year: value}``; UserError naming the series there
    are when it is not one of them."""
    known = table()
    if name not in known:
        raise UserError(f"unknown driver series {name!r}; vcm_sim/data/drivers.csv has "
                        f"{', '.join(sorted(known))}")
    return known[name]


def value_in(values: dict[int, float], year: int) -> float:
    """The series' value in ``year``: log-linear between the years it has (counts of
    adopters grow about exponentially), its first value before it starts, its last after."""
    known = sorted(values)
    year = min(max(year, known[0]), known[-1])
    return float(np.exp(np.interp(year, known, np.log([values[y] for y in known]))))


def factors(driver: Driver, years: list[int]) -> list[float]:
    """The driver's factor on its setting in each of ``years``."""
    values = series(driver.series)
    base = values[driver.base_year]
    return [math.pow(value_in(values, year) / base, driver.elasticity) for year in years]


def driver_events(scenario: Scenario) -> list[dict[str, Any]]:
    """The 'set' events that carry out the scenario's drivers, as
    :class:`~vcm_sim.scenario.Event` dumps: one at the first simulated month (burn-in
    included, whose steps are negative) and one each January after it."""
    from vcm_sim.scenario import Event, setting

    first = -scenario.burn_in
    steps = [first] + [m for m in range(first + 1, scenario.steps) if m % STEPS_PER_YEAR == 0]
    years = [scenario.start_year + m // STEPS_PER_YEAR for m in steps]
    events = []
    for driver in scenario.drivers:
        base, top = setting(scenario, driver.path), upper_bound(scenario, driver.path)
        for step, factor in zip(steps, factors(driver, years)):
            events.append(Event(step=max(step, 0), kind="set", path=driver.path,
                                value=min(base * factor, top)).model_dump() | {"step": step})
    return events


def upper_bound(scenario: Scenario, path: str) -> float:
    """The largest valid value of the numeric setting at dotted ``path`` (infinity when it
    has no upper bound). A driver holds its setting there rather than push it out of range:
    a yearly hazard, say, saturates at 1, whatever the series does."""
    from vcm_sim.validation import upper_bound as declared_upper_bound

    return declared_upper_bound(type(scenario), path.split("."))
