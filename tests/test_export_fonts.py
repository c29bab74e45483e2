"""The font with Chinese glyphs that PDFs and maps use."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

from planner._errors import PlanError
from planner.export import fonts


@pytest.fixture(autouse=True)
def _fresh_lookup():
    fonts.cjk_font_path.cache_clear()
    yield
    fonts.cjk_font_path.cache_clear()


def test_the_font_found_has_chinese_glyphs():
    path = fonts.cjk_font_path()
    face = FT2Font(str(path))
    # 收运 (collection) and 嘎查 (gacha): real glyphs, not the missing-glyph box (index 0).
    assert all(face.get_char_index(ord(ch)) != 0 for ch in "收运嘎查鄂托克旗")


def test_environment_variable_chooses_the_file(monkeypatch, tmp_path: Path):
    chosen = fonts.cjk_font_path()
    monkeypatch.setenv("PLANNER_CJK_FONT", str(chosen))
    fonts.cjk_font_path.cache_clear()
    assert fonts.cjk_font_path() == chosen
    monkeypatch.setenv("PLANNER_CJK_FONT", str(tmp_path / "missing.otf"))
    fonts.cjk_font_path.cache_clear()
    with pytest.raises(PlanError, match="PLANNER_CJK_FONT: expected a font file, found no file"):
        fonts.cjk_font_path()


def test_the_packaged_font_is_the_fallback(monkeypatch):
    monkeypatch.setattr(fonts, "_system_font", lambda: None)
    path = fonts.cjk_font_path()
    assert path.suffix == ".otf" and "NotoSansCJK" in path.name


def test_matplotlib_knows_the_family():
    family = fonts.register_with_matplotlib()
    found = font_manager.findfont(
        font_manager.FontProperties(family=family), fallback_to_default=False
    )
    assert Path(found).exists()
