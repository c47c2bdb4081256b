"""Market mechanisms' speed: the call auction against numpy's argsort, the order book's rate.

Run by hand: ``python benchmarks/market.py [--orders N] [--book-orders M] [--seed S]``.

* Call auction on N bids and N asks (default 100,000 each; prices in cents around 10 USD per
  tCO2e, so many ties at the margin; quantities 1..1000 credits), with random rationing
  through an rng, and the pairing of its fills into matches. Reported as a ratio to the time
  numpy's ``argsort`` of the same two price arrays takes in the same run (best of several
  repeats each). Target: at most 5x.
* Order book: M random limit orders (default 1,000,000; half buys, half sells, prices in cents
  around 100 USD per tCO2e, quantities 1..100), generated first and submitted one by one on one
  core. Target: at least 100,000 orders per second.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from vcm_sim.market import OrderBook, call_auction


def best_time(run: Callable[[], object], repeats: int) -> float:
    """Shortest wall time of ``repeats`` runs, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_call_auction(n: int, seed: int, repeats: int = 7) -> None:
    """Time the call auction and the pairing of its fills against argsort of the prices."""
    rng = np.random.default_rng(seed)
    bid_price = np.round(rng.normal(10.0, 2.0, n), 2).clip(0.0)
    ask_price = np.round(rng.normal(10.0, 2.0, n), 2).clip(0.0)
    bid_qty, ask_qty = rng.integers(1, 1001, n), rng.integers(1, 1001, n)

    sort_time = best_time(lambda: (np.argsort(bid_price), np.argsort(ask_price)), repeats)
    auction_time = best_time(lambda: call_auction(bid_price, bid_qty, ask_price, ask_qty,
                                                  np.random.default_rng(seed)), repeats)
    result = call_auction(bid_price, bid_qty, ask_price, ask_qty, np.random.default_rng(seed))
    match_time = best_time(result.matches, repeats)
    print(f"call auction, {n:,} bids x {n:,} asks: price {result.price:.3f} USD/t, "
          f"volume {result.volume:,} credits, {len(result.matches()):,} matches")
    print(f"  argsort of both price arrays  {1e3 * sort_time:8.2f} ms")
    print(f"  call_auction                  {1e3 * auction_time:8.2f} ms   "
          f"{auction_time / sort_time:.2f}x argsort (target <= 5x)")
    print(f"  pairing fills into matches    {1e3 * match_time:8.2f} ms   "
          f"{match_time / sort_time:.2f}x argsort")


def bench_order_book(n: int, seed: int) -> None:
    """Submit ``n`` random limit orders to one book and report the sustained rate."""
    rng = np.random.default_rng(seed)
    sides = np.where(rng.random(n) < 0.5, "buy", "sell").tolist()
    prices = np.round(rng.normal(100.0, 5.0, n), 2).clip(0.0).tolist()
    quantities = rng.integers(1, 101, n).tolist()
    traders = rng.integers(0, 10_000, n).tolist()
    book = OrderBook()
    submit = book.submit
    trades = 0
    start = time.perf_counter()
    for side, price, quantity, trader in zip(sides, prices, quantities, traders):
        trades += len(submit(side, price, quantity, trader))
    elapsed = time.perf_counter() - start
    print(f"order book, {n:,} random limit orders: {trades:,} trades, {len(book):,} resting "
          f"at the end")
    print(f"  {elapsed:.2f} s, {n / elapsed:,.0f} orders per second (target >= 100,000)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000, help="bids (and asks) in the "
                        "call auction")
    parser.add_argument("--book-orders", type=int, default=1_000_000, help="orders submitted "
                        "to the order book")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    bench_call_auction(args.orders, args.seed)
    bench_order_book(args.book_orders, args.seed)


if __name__ == "__main__":
    main()
