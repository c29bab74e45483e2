"""Read, parse and check tally files in a second process while the first records.

A month is some 550 files and 370,000 rows. Parsing and checking them is pure
Python and was half of an import; a thread cannot overlap it with the recording
(the GIL), a forked process can. :class:`ReadAhead` forks one worker that, file by
file, reads the bytes, parses them (:func:`~planner.ledger.tallyfile.read_tally_file`)
and checks the rows against the registered plans through its own read-only
connection, and sends the result down a pipe; the pipe's buffer keeps it about one
file ahead.

What the worker checked is only used if the plans did not change meanwhile: the
worker reads the plans' version once, before anything else, and labels every result
with it; the importer compares that with the version it reads under the ledger lock.
Plans are only ever added, so an equal version means no plan was registered from
before the worker's first read to the import, and the worker read the very state
the import writes on. Otherwise, and whenever the worker fails or is gone, the
importer reads that file itself.

The worker dies with its parent (``PR_SET_PDEATHSIG``), and closing the iterator
ends it; it writes nothing, so a killed import leaves nothing of it behind.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import queue
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from planner._process import die_with_parent
from planner.ledger._checks import EntryRow, Reference, check_records
from planner.ledger.db import Ledger, open_reader
from planner.ledger.errors import LedgerError, Problem
from planner.ledger.tallyfile import ParsedFile, file_bytes, read_tally_file


@dataclass(frozen=True)
class Checked:
    """One file's rows checked against the plans of ``version``, ready to record."""

    name: str
    sha256: str
    version: tuple[tuple[int, str], ...]
    rows: list[EntryRow]
    closes: list[dict[str, Any]]
    problems: list[Problem]


# What the worker sends for one path: the kind, and its payload.
#   "known": sha256     these bytes were imported before the import began
#   "parsed": ParsedFile    parse problems or no filled row: the importer decides
#   "checked": Checked
#   "error": LedgerError    the file cannot be read at all
#   "fail": None        anything else: the importer reads the file itself
Item = tuple[str, Any]


def can_fork() -> bool:
    """Fork is safe here (Linux); elsewhere the importer reads every file itself."""
    return sys.platform == "linux"


class ReadAhead:
    """The worker for ``paths``: iterate for one :data:`Item` per path, in order.

    After the worker fails or is gone, the remaining paths come as ``("fail", None)``.
    """

    def __init__(self, ledger: Ledger, paths: Sequence[Path], known: set[str]):
        self._paths = list(paths)
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        self._receive = receive
        self._worker = context.Process(
            target=_work,
            args=(ledger.url, self._paths, known, send, os.getpid()),
            name="ledger-read-ahead",
            daemon=True,
        )
        self._worker.start()
        send.close()  # the worker holds the only writing end: its exit ends the pipe

    def __iter__(self) -> Iterator[Item]:
        alive = True
        for _ in self._paths:
            if alive:
                try:
                    data = self._receive.recv_bytes()
                    with collector_paused():
                        item: Item = pickle.loads(data)
                except (EOFError, OSError):
                    alive = False
            yield item if alive else ("fail", None)

    def close(self) -> None:
        """End the worker (done or not) and release the pipe."""
        if self._worker.is_alive():
            self._worker.kill()
        self._worker.join()
        self._receive.close()

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection within: for one file's rows, made or unpickled.

    A file brings thousands of new tuples and strings and no cycles; each few hundred
    of them started a collection that walked the older objects again (a tenth of the
    worker's time). What cycles the block makes are collected after it.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# Files the worker may have checked before the importer takes them: enough that it
# need not wait while one large file is recorded, few enough to hold in memory.
_AHEAD = 4


def _work(url: str, paths: list[Path], known: set[str], send: Connection, parent: int) -> None:
    """In the worker: one item per path down ``send``; then the worker exits.

    A sender thread writes to the pipe (the write waits for the importer without the
    GIL), so the worker goes on checking up to :data:`_AHEAD` files ahead.
    """
    die_with_parent(parent)
    gc.freeze()  # what the fork brought along is never garbage here: never walk it
    backlog: queue.Queue[bytes | None] = queue.Queue(maxsize=_AHEAD)

    def deliver() -> None:
        while (data := backlog.get()) is not None:
            try:
                send.send_bytes(data)
            except OSError:  # the importer stopped listening; it ends this process
                return

    sender = threading.Thread(target=deliver, name="ledger-read-ahead-send", daemon=True)
    sender.start()
    reader = open_reader(url)
    try:
        with reader.sessions() as s:
            version = Reference.version_of(s)
        for path in paths:
            try:
                with collector_paused():
                    item = _item(reader, version, path, known)
            except LedgerError as exc:
                item = ("error", exc)
            except Exception:  # the importer reads this file itself and says why
                item = ("fail", None)
            with collector_paused():
                data = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
            backlog.put(data)
    finally:
        backlog.put(None)
        sender.join()
        reader.close()
        send.close()


def _item(
    reader: Ledger, version: tuple[tuple[int, str], ...], path: Path, known: set[str]
) -> Item:
    data, sha = file_bytes(path)
    if sha is not None and sha in known:
        return ("known", sha)
    parsed: ParsedFile = read_tally_file(path, data, sha)
    if parsed.problems or not (parsed.entries or parsed.closes):
        return ("parsed", parsed)
    with reader.sessions() as s:
        labelled, rows, closes, problems = check_records(
            s, reader.memo, parsed.name, parsed.entries, parsed.closes, version
        )
    return ("checked", Checked(parsed.name, parsed.sha256, labelled, rows, closes, problems))
