"""Worker processes that end with the planner that started them."""

from __future__ import annotations

import os
import sys
import threading
import time


def die_with_parent(parent: int) -> None:
    """Worker start-up: end this worker when the planner that started it dies.

    A ``kill -9`` of the planner gives its workers no chance to hear of it: they
    would wait on their pipe forever, holding their memory. On Linux the kernel
    sends SIGKILL when the parent goes (``prctl(PR_SET_PDEATHSIG)``); everywhere, a
    watchdog thread ends the worker once its parent is no longer the one it had.
    """
    if sys.platform == "linux":
        import ctypes
        import signal

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass  # the watchdog below still ends the worker

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    threading.Thread(target=watch, name="planner-parent-watch", daemon=True).start()
