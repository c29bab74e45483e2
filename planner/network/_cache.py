"""A disk cache of travel matrices, keyed by a hash of what they were made from."""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from planner._atomic import atomic_writer
from planner.network._matrices import Matrices

# Part of every key: bump it when the way matrices are computed changes, so that old
# cache files are no longer found.
CACHE_FORMAT = "planner-matrices-1"
_KEY = re.compile(r"[0-9A-Za-z_-]{1,128}")


def matrix_key(*parts: bytes | str) -> str:
    """SHA-256 hex digest of ``parts`` (and :data:`CACHE_FORMAT`), for :func:`load_or_compute`.

    Pass everything the matrices depend on: the road file's bytes, the speeds, the
    places' ids and coordinates, the off-road speed. Parts are length-prefixed, so
    ``("ab", "c")`` and ``("a", "bc")`` differ.
    """
    digest = hashlib.sha256()
    for part in (CACHE_FORMAT, *parts):
        data = part.encode("utf-8") if isinstance(part, str) else bytes(part)
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def load_or_compute(cache_dir: Path, key: str, compute: Callable[[], Matrices]) -> Matrices:
    """Return the matrices cached under ``key``, or compute and cache them.

    The file ``cache_dir/matrices-<key>.npz`` is written to a temporary file in the same
    directory and then renamed, so a reader never sees half a file. A cache file that
    cannot be read (say, truncated by a full disk) is recomputed and replaced.

    Parameters
    ----------
    cache_dir
        Directory of the cache; created if missing.
    key
        Usually from :func:`matrix_key`; letters, digits, ``_`` and ``-`` only.
    compute
        Called only when the cache has no usable file for ``key``.
    """
    if not _KEY.fullmatch(key):
        raise ValueError(f"Expected a cache key of letters, digits, _ and -, found {key!r}.")
    cache_dir = Path(cache_dir)
    path = cache_dir / f"matrices-{key}.npz"
    if path.is_file():
        try:
            return _load(path)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            pass  # unusable: fall through and replace it
    result = compute()
    if not isinstance(result, Matrices):
        raise TypeError(f"Expected compute() to return Matrices, found {type(result).__name__}.")
    _save(path, result)
    return result


def _load(path: Path) -> Matrices:
    with np.load(path, allow_pickle=False) as data:
        return Matrices(
            ids=tuple(str(i) for i in data["ids"]),
            distance_m=data["distance_m"],
            duration_s=data["duration_s"],
        )


def _save(path: Path, matrices: Matrices) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(path, "wb") as out:
        np.savez(
            out,
            ids=np.array(matrices.ids, dtype=str),
            distance_m=matrices.distance_m,
            duration_s=matrices.duration_s,
        )
