"""One writer per sweep output folder: an exclusive OS lock on ``DIR/.lock``, held for a whole
session (a new sweep or a resume).

The lock is ``flock(2)``: the kernel grants it to one open file at a time and drops it when the
holder's process ends, however it ends (even SIGKILL), so there is never a stale lock to clear.
The holder writes its pid into the file, and a refused process names it. The file itself stays
(deleting it would let two processes lock two different files of the same name).
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from vcm_sim.sweep.spec import SweepError

LOCK_NAME = ".lock"
"""The lock file's name inside the output folder."""

_PID_WAIT_S = 1.0
"""How long a refused process waits for the holder to write its pid (it locks, then writes)."""


class FolderLock:
    """Exclusive use of an output folder, created if absent, for the ``with`` block."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._fd: int | None = None

    def __enter__(self) -> FolderLock:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise SweepError(f"cannot use {str(self.folder)!r} as the output folder: "
                             f"{err.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise SweepError(f"{self.folder} is in use by another sweep session (pid {holder}); "
                             f"wait for it to end or stop it, or choose another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the only descriptor releases the lock
            self._fd = None


def _holder(fd: int) -> str:
    """The pid the holder wrote into the lock file ('unknown' if it has not written it)."""
    deadline = time.monotonic() + _PID_WAIT_S
    while True:
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if text or time.monotonic() > deadline:
            return text or "unknown"
        time.sleep(0.02)
