"""One writer at a time in an output folder, and what killed runs left there removed.

A run killed with ``kill -9`` (or a power cut) cannot clean up after itself: its
export staging folder (``.export-XXXXXXXX/``, tens of MB) and the temporary file of
an atomic write (``.tallies.csv.XXXXXXXX.tmp``) stay. :func:`claim_folder` holds an
exclusive lock (``flock``) on the folder ``DIR`` while a run writes into it; the kernel
drops the lock of a process that dies, so whoever holds it knows that every
leftover of the planner's own patterns belongs to a dead run and removes it. Only
those patterns are touched; nothing else in the folder is.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from planner._errors import PlanError

# tempfile's random part: 8 characters of [a-z0-9_].
_RAND = r"[a-z0-9_]{8}"
# The export's staging folder (writer.py) and a replaced product folder (writer._publish).
_STAGING = re.compile(rf"^\.export-{_RAND}$|^\.[a-z]+\.old-\d+$")
# An atomic write's temporary file (planner._atomic.atomic_writer).
_TEMP = re.compile(rf"^\..+\.{_RAND}\.tmp$")


def leftovers(folder: Path) -> list[Path]:
    """The staging folders and temporary files of earlier runs in ``folder``."""
    if not folder.is_dir():
        return []

    def ours(entry: Path) -> bool:
        if entry.is_symlink():
            return False
        pattern = _STAGING if entry.is_dir() else _TEMP if entry.is_file() else None
        return pattern is not None and pattern.match(entry.name) is not None

    return [entry for entry in sorted(folder.iterdir()) if ours(entry)]


def remove_leftovers(folder: Path) -> list[Path]:
    """Remove :func:`leftovers`; only call it while holding the folder's lock."""
    gone = leftovers(folder)
    for entry in gone:
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    return gone


@contextmanager
def claim_folder(folder: Path) -> Iterator[Path]:
    """Create ``folder``, take its lock, remove dead runs' leftovers, then yield it.

    Without ``fcntl`` (Windows) there is no lock and nothing is removed.

    Raises
    ------
    PlanError
        Another live planner process holds the folder.
    """
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not Linux/macOS
        yield folder
        return
    fd = os.open(folder, os.O_RDONLY)  # the folder itself is the lock: no lock file
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PlanError(
                f"{folder}: expected a folder no other planner is writing into, found one "
                "in use (wait for that run to end, or choose another folder)"
            ) from None
        remove_leftovers(folder)
        yield folder
    finally:
        os.close(fd)  # releases the lock
