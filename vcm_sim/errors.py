"""What the command line does when something goes wrong: the error every user mistake raises,
and the exit codes of every sub-command.

==== ===========================================================================================
code meaning
==== ===========================================================================================
0    success
1    the command ran, but some runs of a sweep failed (their errors are in the run table)
2    a user error: a bad argument, file or setting; one line names it, nothing was written
130  interrupted (Ctrl+C or SIGTERM); what was saved is kept and the message says how to resume
==== ===========================================================================================
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

EXIT_OK = 0
"""The command did all it was asked."""
EXIT_RUNS_FAILED = 1
"""The command finished, but some runs of a sweep recorded an error."""
EXIT_USER_ERROR = 2
"""Bad input: an argument, a file or a setting; nothing was written or overwritten."""
EXIT_INTERRUPTED = 130
"""Stopped by Ctrl+C or SIGTERM (128 + SIGINT, the shell's convention)."""
REDELIVER_S = 0.05
"""How long after Python swallowed an interrupt it is sent again (seconds)."""


class UserError(ValueError):
    """Input the user can fix (an argument, a file, a setting); the message says what and where.

    The command line prints it without a traceback and exits with :data:`EXIT_USER_ERROR`.
    """


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM stops this process as Ctrl+C does (a ``KeyboardInterrupt``),
    so that every command ends the same way on either: one line, what was saved kept, exit
    :data:`EXIT_INTERRUPTED`. A no-op outside the main thread, where handlers cannot be set.

    An interrupt that lands in code whose exceptions Python reports and ignores (a fork hook,
    such as logging's as a worker process starts, a weakref callback, a finaliser) would be
    lost and the command would run on: within the block it is sent again instead."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _redelivering(previous_hook)
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _redelivering(hook: Callable[[object], None]) -> Callable[[object], None]:
    """An unraisable-exception hook that sends this process SIGINT again, shortly, for an
    interrupt Python swallowed (when the hook returns, Python goes on), and passes every other
    exception to ``hook``."""

    def handle(unraisable: object) -> None:
        kind = getattr(unraisable, "exc_type", None)
        if kind is not None and issubclass(kind, KeyboardInterrupt):
            timer = threading.Timer(REDELIVER_S, os.kill, (os.getpid(), signal.SIGINT))
            timer.daemon = True
            timer.start()
            return
        hook(unraisable)

    return handle
