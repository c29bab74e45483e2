"""The one atomic writer: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import planner._atomic
from planner._atomic import write_json_atomic, write_text_atomic


def test_write_json_atomic_writes_readable_utf8_in_order(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    data = {"z": 1, "name": "乌兰镇", "a": [1.5, None]}
    write_json_atomic(path, data)
    text = path.read_text(encoding="utf-8")
    assert "乌兰镇" in text and text.endswith("\n")
    assert list(json.loads(text)) == ["z", "name", "a"]
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]
    # Permissions as for any new file (mkstemp alone would give 0600).
    (tmp_path / "other.txt").write_text("x", encoding="utf-8")
    assert path.stat().st_mode == (tmp_path / "other.txt").stat().st_mode


def test_write_text_atomic_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "notice.txt"
    write_text_atomic(path, "old\n")
    write_text_atomic(path, "新\n")
    assert path.read_text(encoding="utf-8") == "新\n"
    assert [p.name for p in tmp_path.iterdir()] == ["notice.txt"]


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    write_json_atomic(path, {"old": True})
    # Serialisation fails half-way: keys before the bad value are already written.
    with pytest.raises(TypeError):
        write_json_atomic(path, {"new": list(range(1000)), "bad": object()})
    assert json.loads(path.read_text(encoding="utf-8")) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_interrupted_write_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "plan.json"
    write_json_atomic(path, {"old": True})

    def interrupted(_obj: object, fh: Any, **_kwargs: Any) -> None:
        fh.write('{"new": [1, 2,')
        raise KeyboardInterrupt

    monkeypatch.setattr(planner._atomic.json, "dump", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_json_atomic(path, {"new": [1, 2, 3]})
    assert json.loads(path.read_text(encoding="utf-8")) == {"old": True}
    assert os.listdir(tmp_path) == ["plan.json"]


def test_nan_is_never_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_json_atomic(tmp_path / "plan.json", {"x": float("nan")})
    assert os.listdir(tmp_path) == []
