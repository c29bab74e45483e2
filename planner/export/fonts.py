"""A font that renders Chinese, for PDFs and maps.

Order: the ``PLANNER_CJK_FONT`` environment variable (a font file), a Simplified
Chinese system font if one is installed (Noto Sans CJK SC, WenQuanYi, SimHei,
Microsoft YaHei…), else the Noto Sans CJK font that the ``cvttf-notosanscjk-regular``
dependency installs (SIL Open Font License; Traditional-Chinese default glyph forms,
which cover every Simplified character too).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from planner._errors import PlanError

# Family names as fontconfig / matplotlib know them, best first.
SYSTEM_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
)


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    """Path of a font file with Chinese glyphs.

    Raises
    ------
    PlanError
        No such font: neither the environment variable, a system font nor the
        packaged one is there.
    """
    env = os.environ.get("PLANNER_CJK_FONT")
    if env:
        path = Path(env)
        if not path.is_file():
            raise PlanError(f"PLANNER_CJK_FONT: expected a font file, found no file at {path}")
        return path
    system = _system_font()
    if system is not None:
        return system
    try:
        import cvttf_NotoSansCJK_Regular as packaged
    except ImportError:
        packaged = None
    if packaged is not None:
        return Path(packaged.get_TTF_path())
    raise PlanError(
        "no font with Chinese glyphs: install the project's dependencies "
        "(cvttf-notosanscjk-regular), a system CJK font, or set PLANNER_CJK_FONT to a font file"
    )


def _system_font() -> Path | None:
    from matplotlib import font_manager

    by_name = {f.name: Path(f.fname) for f in font_manager.fontManager.ttflist}
    for family in SYSTEM_FAMILIES:
        if family in by_name and by_name[family].is_file():
            return by_name[family]
    return None


def cjk_family_name() -> str:
    """The family name of :func:`cjk_font_path` (for CSS and matplotlib)."""
    from matplotlib import font_manager

    return str(font_manager.FontProperties(fname=str(cjk_font_path())).get_name())


def register_with_matplotlib() -> str:
    """Make the CJK font known to matplotlib; returns its family name."""
    from matplotlib import font_manager

    path = cjk_font_path()
    font_manager.fontManager.addfont(str(path))
    return str(font_manager.FontProperties(fname=str(path)).get_name())
