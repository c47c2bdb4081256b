"""Registry throughput and memory: 1,000,000 mixed operations over 10,000 accounts and 1,000 batches.

Run by hand: ``python benchmarks/registry.py [--ops N] [--seed S]``. A valid random sequence of
operations (issue, transfer, retire, cancel) is generated first, untimed, against a plain
dictionary model; it is then replayed on a fresh registry, timed, and replayed once more under
tracemalloc for peak memory. Targets: at least 200,000 operations per second on one core and a
journal of 1,000,000 entries in under 150 MB.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections import defaultdict

import numpy as np

from vcm_sim.registry import BUFFER, Registry


def generate(n_ops: int, n_accounts: int, n_batches: int, seed: int) -> list[tuple]:
    """A valid sequence of registry operations (the first n_batches are issuances)."""
    rng = np.random.default_rng(seed)
    accounts = [f"acct-{i}" for i in range(n_accounts)]
    holders: dict[int, dict[str, int]] = defaultdict(dict)
    ops: list[tuple] = []
    for b in range(n_batches):
        to = accounts[rng.integers(n_accounts)]
        quantity = int(rng.integers(10_000, 100_000))
        to_buffer = int(quantity * 0.1)
        holders[b][to] = quantity - to_buffer
        holders[b][BUFFER] = to_buffer
        ops.append(("issue", f"proj-{b}", 2020 + b % 6, quantity, to, 0.1))
    kinds = rng.choice(4, size=n_ops - n_batches, p=[0.80, 0.12, 0.05, 0.03])
    batches = rng.integers(n_batches, size=n_ops)
    dsts = rng.integers(n_accounts, size=n_ops)
    for kind, b, d in zip(kinds, batches, dsts):
        b = int(b)
        held = holders[b]
        while not held:
            b = (b + 1) % n_batches
            held = holders[b]
        src = next(iter(held)) if kind == 3 else list(held)[-1]
        q = max(1, held[src] // 3)
        if kind == 0:
            dst = accounts[d]
            ops.append(("transfer", b, src, dst, q))
            held[dst] = held.get(dst, 0) + q
        elif kind == 1:
            ops.append(("retire", b, src, q, f"beneficiary-{d % 500}", f"claim-{d % 2000}"))
        else:
            ops.append(("cancel", b, src, q, "reversal" if kind == 2 else "audit"))
        held[src] -= q
        if not held[src]:
            del held[src]
    return ops


def replay(ops: list[tuple], n_accounts: int) -> Registry:
    registry = Registry(accounts=(f"acct-{i}" for i in range(n_accounts)))
    calls = {"issue": registry.issue, "transfer": registry.transfer,
             "retire": registry.retire, "cancel": registry.cancel}
    for kind, *args in ops:
        calls[kind](*args)
    return registry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--batches", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=20241124)
    args = parser.parse_args()

    ops = generate(args.ops, args.accounts, args.batches, args.seed)
    start = time.perf_counter()
    registry = replay(ops, args.accounts)
    elapsed = time.perf_counter() - start
    entries = len(registry.journal)
    check_start = time.perf_counter()
    registry.check()
    check_s = time.perf_counter() - check_start
    del registry

    tracemalloc.start()
    registry = replay(ops, args.accounts)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(f"operations:            {len(ops):,} over {args.accounts:,} accounts, "
          f"{args.batches:,} batches")
    print(f"journal entries:       {entries:,}")
    print(f"wall time:             {elapsed:.2f} s")
    print(f"throughput:            {len(ops) / elapsed:,.0f} operations/s (target >= 200,000)")
    print(f"journal memory:        {registry.journal.nbytes() / 1e6:.1f} MB "
          f"(target < 150 MB for 1,000,000 entries)")
    print(f"registry peak memory:  {peak / 1e6:.1f} MB (tracemalloc, whole registry)")
    print(f"full check():          {check_s:.2f} s (invariants + journal replay)")


if __name__ == "__main__":
    main()
