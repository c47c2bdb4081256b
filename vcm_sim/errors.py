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

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

EXIT_OK = 0
"""The command did all it was asked."""
EXIT_RUNS_FAILED = 1
"""The command finished, but some runs of a sweep recorded an error."""
EXIT_USER_ERROR = 2
"""Bad input: an argument, a file or a setting; nothing was written or overwritten."""
EXIT_INTERRUPTED = 130
"""Stopped by Ctrl+C or SIGTERM (128 + SIGINT, the shell's convention)."""


class UserError(ValueError):
    """Input the user can fix (an argument, a file, a setting); the message says what and where.

    The command line prints it without a traceback and exits with :data:`EXIT_USER_ERROR`.
    """


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM stops this process as Ctrl+C does (a ``KeyboardInterrupt``),
    so that every command ends the same way on either: one line, what was saved kept, exit
    :data:`EXIT_INTERRUPTED`. A no-op outside the main thread, where handlers cannot be set."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)
