"""Model speed: wall time per simulated month and agent-steps per second of the baseline and a
10x population, against Mesa's own BoltzmannWealth example as a yardstick, plus peak memory.

A run is timed whole: building the model (populations, the seeded past, burn-in months) and
its recorded months. The set-up (building the same scenario without burn-in) is timed apart:
per-month figures are the whole run less the set-up, over every simulated month, burn-in
included. Agent-steps count the firms, developers, verifiers and traders only.

Run by hand: ``python benchmarks/model.py [--steps 240] [--seed 0] [--skip-large]
[--rounds N]``.
Targets: at least 3x the yardstick's agent-steps per second, and run time growing no faster
than about linearly with the population (10x agents, at most 12x time).
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

from mesa.examples import BoltzmannWealth
from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario

from vcm_sim import VCMModel, load_scenario
from vcm_sim.scenario import with_overrides


REPEATS = 3
"""Each timing is the best of this many runs, so a busy machine distorts it less."""


def timed(make_model, steps: int) -> tuple[float, object]:
    """Best-of-``REPEATS`` seconds to build a model and run ``steps`` steps."""
    best, model = float("inf"), None
    for _ in range(REPEATS):
        start = time.perf_counter()
        model = make_model()
        for _ in range(steps):
            model.step()
        best = min(best, time.perf_counter() - start)
    return best, model


def vcm(scale: int, steps: int, seed: int, memory: bool = True
        ) -> tuple[int, int, float, float, float]:
    """Counted agents, simulated months, seconds of the whole run and of its months (the
    whole less the set-up), and peak traced MB (whole run; NaN without ``memory``) for the
    baseline scaled ``scale``."""
    base = load_scenario("baseline").population
    scenario = load_scenario("baseline", population={
        "firms": base.firms * scale, "developers": base.developers * scale,
        "verifiers": base.verifiers * scale})
    seconds, _ = timed(lambda: VCMModel(scenario, rng=seed), steps)
    setup, _ = timed(lambda: VCMModel(with_overrides(scenario, {"burn_in": 0}), rng=seed), 0)
    pop = scenario.population
    agents = pop.firms + pop.developers + pop.verifiers + pop.traders
    months = scenario.burn_in + steps
    peak = float("nan")
    if memory:
        tracemalloc.start()
        VCMModel(scenario, rng=seed).run(steps)
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    return agents, months, seconds, seconds - setup, peak


def boltzmann(agents: int, steps: int, seed: int) -> float:
    """Agent-steps per second of Mesa's BoltzmannWealth with ``agents`` agents."""
    side = max(10, int(agents ** 0.5))
    seconds, _ = timed(lambda: BoltzmannWealth(
        BoltzmannScenario(n=agents, width=side, height=side, rng=seed)), steps)
    return agents * steps / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=240)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-large", action="store_true", help="only the baseline size")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure the baseline-to-yardstick ratio this many more times "
                             "and print its spread (machine load moves single figures)")
    args = parser.parse_args()

    rows = []
    for scale in (1,) if args.skip_large else (1, 10):
        agents, months, seconds, in_months, peak = vcm(scale, args.steps, args.seed)
        rows.append((scale, agents, months, seconds, in_months))
        print(f"vcm_sim baseline x{scale:<3} {agents:>7,} agents  {months} months  "
              f"{seconds:6.2f} s (set-up {seconds - in_months:4.2f} s)  "
              f"{in_months / months * 1e3:6.2f} ms/month  "
              f"{agents * months / in_months:>11,.0f} agent-steps/s  "
              f"peak {peak:,.0f} MB (tracemalloc)")
    _, agents, months, seconds, in_months = rows[0]
    yardstick = boltzmann(agents, months, args.seed)
    print(f"BoltzmannWealth    {agents:>7,} agents  {months} steps  "
          f"{'':36}  {yardstick:>11,.0f} agent-steps/s (Mesa example, same run)")
    ratio = agents * months / in_months / yardstick
    print(f"baseline vs yardstick: {ratio:.1f}x agent-steps/s (target >= 3x); "
          f"{agents * months / seconds / yardstick:.1f}x with the set-up")
    if len(rows) == 2:
        growth = rows[1][3] / rows[0][3]
        print(f"10x population: {growth:.1f}x time (target <= 12x)")
    if args.rounds > 1:
        ratios = [ratio] + [ratio_once(args.steps, args.seed)
                            for _ in range(args.rounds - 1)]
        print(f"ratio over {args.rounds} rounds: min {min(ratios):.1f}x, "
              f"median {statistics.median(ratios):.1f}x, max {max(ratios):.1f}x")


def ratio_once(steps: int, seed: int) -> float:
    """One more measurement of the baseline's agent-steps per second over the yardstick's."""
    agents, months, _, in_months, _ = vcm(1, steps, seed, memory=False)
    return agents * months / in_months / boltzmann(agents, months, seed)


if __name__ == "__main__":
    main()
