"""glibc's allocator, tuned for a page server whose tabs start and drop model runs all day.

Two settings, both measured with ``benchmarks/classroom.py --memory-minutes``:

- :func:`limit_malloc_arenas`: every press of ▶ runs the model in a new thread, and glibc
  gives threads arenas of their own, up to eight per core; a run's memory freed in one arena
  is not reused by the next thread's. Two arenas cut the creep to about a fifth.
- :func:`trim_periodically`: glibc keeps freed memory for reuse instead of returning it to
  the system, and raises the bar for returning it each time a large block is freed; a run
  that ends frees many megabytes that then stayed resident. ``malloc_trim`` every half minute
  (about a millisecond each) hands them back, so the server's resident memory rises and falls
  with the runs in progress instead of ratcheting up. Dask's workers face the same behaviour
  (its documentation: "Memory not released back to the OS").

Off glibc both do nothing and say so.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from functools import cache

M_ARENA_MAX = -8
"""glibc's ``mallopt`` parameter for the most memory arenas its allocator keeps."""
MALLOC_ARENAS = 2
"""Arenas the page server allows (glibc's default: eight per core)."""
TRIM_EVERY_S = 30.0
"""Seconds between two returns of freed memory to the system."""


@cache
def _libc() -> ctypes.CDLL | None:
    """The C library when it is glibc (it has ``mallopt`` and ``malloc_trim``), else None."""
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's memory arenas at ``arenas``, as ``MALLOC_ARENA_MAX`` would, unless that
    variable is set; returns whether the cap is in place (False off glibc). Call it before
    the server starts its threads."""
    libc = _libc()
    if "MALLOC_ARENA_MAX" in os.environ or libc is None:
        return False
    return bool(libc.mallopt(M_ARENA_MAX, arenas))


def release_freed_memory() -> bool:
    """Return the memory glibc holds free, in every arena, to the system now
    (``malloc_trim(0)``); whether any was returned (False off glibc)."""
    libc = _libc()
    return libc is not None and bool(libc.malloc_trim(0))


def trim_periodically(every_s: float = TRIM_EVERY_S) -> threading.Thread | None:
    """Start a daemon thread that calls :func:`release_freed_memory` every ``every_s``
    seconds for the life of the process; the thread, or None off glibc."""
    if every_s <= 0:
        raise ValueError(f"every_s must be positive, got {every_s}")
    if _libc() is None:
        return None

    def loop() -> None:
        while True:
            time.sleep(every_s)
            release_freed_memory()

    thread = threading.Thread(target=loop, daemon=True, name="malloc-trim")
    thread.start()
    return thread
