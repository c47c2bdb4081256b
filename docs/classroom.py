"""The README's classroom script, measured on the page's own model.

Runs the three experiments of the script with :class:`~vcm_sim.app.page_model.PageModel`,
the model the instructor's page drives (the presets' full population, seed 42 unless
``--seed``), firing events after the months the script names, and prints what students read
in the status bar (:func:`~vcm_sim.app.page.latest_numbers`,
:func:`~vcm_sim.app.page.what_if`) and the figures the script quotes. The page pauses
exactly and shows the month an event follows, so a class that pauses at these months sees
these numbers.

Run from the checkout: ``.venv/bin/python docs/classroom.py [--seed 42]`` (seconds).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vcm_sim.app.page import (average_price, average_volume, latest_numbers,  # noqa: E402
                               what_if)
from vcm_sim.app.page_model import PageModel  # noqa: E402
from vcm_sim.app.settings import PageSettings  # noqa: E402

MILLION = 1e6


def played(settings: PageSettings, months: int,
           events: tuple[tuple[int, str], ...] = (), twin: bool = False) -> PageModel:
    """A page model of ``settings`` played ``months`` months, each ``(month, kind)`` of
    ``events`` fired after that month (as a button pressed when the page shows it), with
    the what-if twin switched on where ``twin``."""
    model = PageModel.from_settings(settings)
    if twin:
        model.compare_with(PageSettings.from_preset(settings.preset, seed=settings.seed))
    for month in range(months):
        for at, kind in events:
            if at == month:
                model.trigger(kind)
        model.step()
    return model


def rules_decide(seed: int) -> None:
    """Experiment 1: lax, baseline and icvcm after 120 months."""
    print("1. Rules decide how real a credit is (month 120)")
    totals = {}
    for preset in ("lax", "baseline", "icvcm"):
        model = played(PageSettings.from_preset(preset, seed=seed), 120)
        results = model.results_now()
        totals[preset] = (results["issued"].iloc[-1], results["retired"].iloc[-1],
                          results["volume"].sum())
        print(f"  {preset:>8}: {latest_numbers(model)}")
    base = totals["baseline"]
    for preset in ("lax", "icvcm"):
        issued, retired, traded = (a / b - 1 for a, b in zip(totals[preset], base))
        print(f"  {preset} against baseline, months 1-120: issued {issued:+.0%}, "
              f"retired {retired:+.0%}, traded {traded:+.0%}")


def cap_shrinks(seed: int) -> None:
    """Experiment 2: baseline with offset caps 100%, 30% and 5%, after 60 months."""
    print("2. A cap shrinks the market (baseline, month 60)")
    for cap in (1.0, 0.3, 0.05):
        settings = replace(PageSettings.from_preset("baseline", seed=seed), offset_cap=cap)
        results = played(settings, 60).results_now()
        print(f"  offset cap {cap:4.0%}: traded {average_volume(results):,.0f} a month "
              f"(12-month average), price USD {average_price(results):.2f} "
              f"(12-month average)")


def shocks(seed: int) -> None:
    """Experiment 3: a scandal after month 48, a wildfire season after month 60, with the
    buffer pool and without."""
    print("3. Shocks (baseline): a media scandal after month 48, a year on")
    base = PageSettings.from_preset("baseline", seed=seed)
    scandal = ((48, "scandal"),)
    model = played(base, 60, scandal, twin=True)
    mine, twin = model.results_now(), model.ghost_results_now()
    year = slice(48, 60)
    index_dip = (mine["price_index_usd"].iloc[year] / twin["price_index_usd"].iloc[year]).min()
    print(f"  status bar: {what_if(model)}")
    traded, calm = average_volume(mine), average_volume(twin)
    print(f"  traded {traded:,.0f} a month against {calm:,.0f} without the scandal "
          f"({traded / calm - 1:+.0%}); price index at most {index_dip - 1:+.0%} below; "
          f"12-month average price {average_price(mine) / average_price(twin) - 1:+.0%}")
    print("  then a wildfire season after month 60, a year on")
    for buffer in (base.buffer_share, 0.0):
        settings = replace(base, buffer_share=buffer)
        fire = played(settings, 72, (*scandal, (60, "wildfire")))
        calm = played(settings, 72, scandal)
        burnt, normal = (m.results_now() for m in (fire, calm))
        cancelled = [(r["cancelled"].iloc[71] - r["cancelled"].iloc[59]) / MILLION
                     for r in (burnt, normal)]
        slip = [(r["integrity_ratio"].iloc[71] - r["integrity_ratio"].iloc[59]) * 100
                for r in (burnt, normal)]
        pool = burnt["buffer"].iloc[59] / MILLION
        print(f"  buffer share {buffer:.2f}: buffer pool {pool:.2f} M credits at month 60; "
              f"cancelled in the year {cancelled[0]:.2f} M "
              f"({cancelled[1]:.2f} M without the fire); integrity ratio "
              f"{burnt['integrity_ratio'].iloc[59]:.3f} to {burnt['integrity_ratio'].iloc[71]:.3f}"
              f" ({slip[0]:+.1f} points; {slip[1]:+.1f} without the fire)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42, help="the page's Random seed")
    seed = parser.parse_args().seed
    rules_decide(seed)
    cap_shrinks(seed)
    shocks(seed)


if __name__ == "__main__":
    main()
