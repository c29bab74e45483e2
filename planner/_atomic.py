"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Every file the planner writes (plans, matrices, benchmark results, region data)
goes through :func:`atomic_writer`: the content fills a temporary file beside the
target, is flushed to disk, and then replaces the target with :func:`os.replace`.
On any failure, Ctrl-C included, the temporary file is removed and the target is
left as it was.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

# The mode a plainly created file would get (mkstemp makes owner-only files).
_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_writer(path: Path, mode: str = "w", *, newline: str | None = "\n") -> Iterator[IO[Any]]:
    """Open a temporary file that replaces ``path`` when the block ends without error.

    Parameters
    ----------
    path
        The target; its folder must exist.
    mode
        ``"w"`` for UTF-8 text, ``"wb"`` for bytes.
    newline
        Newline translation for text mode (``""``: none, as the csv module wants).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if "b" in mode:
            fh: IO[Any] = os.fdopen(fd, mode)
        else:
            fh = os.fdopen(fd, mode, encoding="utf-8", newline=newline)
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; directories cannot be opened on Windows.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` as UTF-8 JSON, atomically.

    Keys keep their insertion order; non-ASCII text (Chinese names) is written as
    is; one space of indent keeps files diffable yet small. NaN and Infinity, which
    JSON does not have, are refused before the target is touched.
    """
    with atomic_writer(path) as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1, allow_nan=False)
        fh.write("\n")


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` as UTF-8, atomically."""
    with atomic_writer(path) as fh:
        fh.write(text)
