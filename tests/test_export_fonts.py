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


def test_a_system_collection_gives_its_regular_simplified_face(monkeypatch, tmp_path: Path):
    from fontTools.ttLib import TTCollection, TTFont

    system = fonts._system_font()
    if system is None or system[0].suffix.lower() not in fonts.COLLECTION_SUFFIXES:
        pytest.skip("no CJK font collection installed (Debian: fonts-noto-cjk)")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = fonts.cjk_font_path()
    # One face, in the cache, of the chosen family and the regular weight (not Bold).
    assert path.is_relative_to(tmp_path) and path.suffix == ".otf"
    with TTFont(path) as face:
        assert face["name"].getDebugName(1) == system[1][0]
        assert face["OS/2"].usWeightClass == 400
    with TTCollection(str(system[0])) as collection:
        assert len(collection.fonts) > 1
    # Made once: a second lookup reuses the file.
    before = path.stat().st_mtime_ns
    fonts.cjk_font_path.cache_clear()
    assert fonts.cjk_font_path() == path and path.stat().st_mtime_ns == before


def test_a_collection_named_by_the_environment_is_split_too(monkeypatch, tmp_path: Path):
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.ttCollection import TTCollection

    single = fonts.cjk_font_path()
    # A collection of two faces built from the font found: the first face is chosen
    # when neither face's family is a known Chinese family name.
    with TTFont(single, lazy=False) as a, TTFont(single, lazy=False) as b:
        for face, family in ((a, "Test Face A"), (b, "Test Face B")):
            face["name"].setName(family, 1, 3, 1, 0x409)
            face["name"].removeNames(nameID=16)
        collection = TTCollection()
        collection.fonts = [a, b]
        ttc = tmp_path / "two.ttc"
        collection.save(str(ttc))
    monkeypatch.setenv("PLANNER_CJK_FONT", str(ttc))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    fonts.cjk_font_path.cache_clear()
    chosen = fonts.cjk_font_path()
    with TTFont(chosen) as face:
        assert face["name"].getDebugName(1) == "Test Face A"
