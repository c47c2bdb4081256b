"""The page server's allocator settings: two glibc arenas, freed memory returned to the
system (:mod:`vcm_sim.app.allocator`)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from vcm_sim.app.allocator import trim_periodically

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's allocator")

ARENA_PROBE = """
import ctypes, sys, tempfile, threading
from vcm_sim.app.allocator import limit_malloc_arenas
capped = limit_malloc_arenas()
barrier = threading.Barrier(16)
def work():
    held = [bytearray(4096) for _ in range(2000)]  # glibc's malloc, not Python's
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(16)]
for thread in threads: thread.start()
for thread in threads: thread.join()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
path = tempfile.mktemp()
report = ctypes.c_void_p(libc.fopen(path.encode(), b"w"))
libc.malloc_info(0, report)
libc.fclose(report)
print(capped, open(path).read().count("<heap nr="))
"""

TRIM_PROBE = """
import sys, time
from vcm_sim.app import allocator
def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2 ** 20
blocks = [bytearray(4096) for _ in range(50_000)]  # 200 MB from glibc's heap
last = bytearray(4096)  # allocated after them: the heap's top stays in use
del blocks
held = rss_mb()
if sys.argv[1] == "now":
    allocator.release_freed_memory()
elif sys.argv[1] == "thread":
    allocator.trim_periodically(0.05)
time.sleep(0.5)
print(round(held - rss_mb()))
"""


@pytest.mark.parametrize(("env", "expected"), [({}, "True 2"),
                                                ({"MALLOC_ARENA_MAX": "3"}, "False 3")])
def test_the_page_server_keeps_two_memory_arenas_unless_told_otherwise(env, expected):
    """Sixteen threads allocating at once get two glibc arenas under the demo's cap (one
    each without it, which let a classroom server's memory creep); a MALLOC_ARENA_MAX the
    user set wins."""
    done = subprocess.run([sys.executable, "-c", ARENA_PROBE], capture_output=True, text=True,
                          env={**os.environ, **env}, check=True)
    assert done.stdout.split() == expected.split()


def returned_mb(how: str) -> int:
    done = subprocess.run([sys.executable, "-c", TRIM_PROBE, how], capture_output=True,
                          text=True, check=True)
    return int(done.stdout)


def test_freed_memory_stays_resident_until_trimmed_then_goes_back_to_the_system():
    """200 MB freed below a block still in use stay resident (why a classroom server's
    memory ratcheted up run after run); a trim, now or from the server's trimming thread,
    returns nearly all of it."""
    assert returned_mb("never") < 20
    assert returned_mb("now") > 180
    assert returned_mb("thread") > 180


def test_the_trimming_period_must_be_positive():
    with pytest.raises(ValueError, match="every_s must be positive"):
        trim_periodically(0)
