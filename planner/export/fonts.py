"""A font that renders Chinese, for PDFs and maps.

Order: the ``PLANNER_CJK_FONT`` environment variable (a font file), the regular
weight of a Simplified Chinese system font if one is installed (Noto Sans CJK SC,
WenQuanYi, SimHei, Microsoft YaHei…), else the Noto Sans CJK font that the
``cvttf-notosanscjk-regular`` dependency installs (SIL Open Font License;
Traditional-Chinese default glyph forms, which cover every Simplified character too).

System fonts often come as collections (Debian's ``fonts-noto-cjk`` ships
``NotoSansCJK-Regular.ttc`` with ten faces). PDF engines and font tools want one face,
so the chosen face of a collection is written once as a font file of its own in the
user's cache folder, and that file is what every output uses.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from planner._atomic import atomic_writer
from planner._errors import PlanError

COLLECTION_SUFFIXES = (".ttc", ".otc")
REGULAR_WEIGHTS = (400, "normal", "regular", "book")

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
        return single_face(path, SYSTEM_FAMILIES)
    system = _system_font()
    if system is not None:
        return single_face(*system)
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


def _system_font() -> tuple[Path, tuple[str, ...]] | None:
    """The regular, upright face of the first installed family, and that family."""
    from matplotlib import font_manager

    regular: dict[str, Path] = {}
    for f in font_manager.fontManager.ttflist:
        weight = f.weight.lower() if isinstance(f.weight, str) else f.weight
        if f.style == "normal" and weight in REGULAR_WEIGHTS and Path(f.fname).is_file():
            regular.setdefault(f.name, Path(f.fname))
    for family in SYSTEM_FAMILIES:
        if family in regular:
            return regular[family], (family,)
    return None


def single_face(path: Path, families: tuple[str, ...]) -> Path:
    """``path`` itself, or for a font collection its face of the first of ``families``
    (else its first face) written once as a font file of its own."""
    if path.suffix.lower() not in COLLECTION_SUFFIXES:
        return path
    from fontTools.ttLib import TTCollection

    with TTCollection(str(path), lazy=True) as collection:
        names = [_family(face) for face in collection.fonts]
        index = next((names.index(f) for f in families if f in names), 0)
        stat = path.stat()
        key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{index}".encode()
        digest = hashlib.sha256(key).hexdigest()[:12]
        out = _cache_dir() / f"{path.stem}-{index}-{digest}.otf"
        if not out.is_file():
            out.parent.mkdir(parents=True, exist_ok=True)
            with atomic_writer(out, "wb") as fh:
                collection.fonts[index].save(fh)
    return out


def _family(face: Any) -> str:
    name = face["name"]
    # Typographic family (16) where a font has one, else the legacy family (1).
    return str(name.getDebugName(16) or name.getDebugName(1) or "")


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "steppe-planner" / "fonts"


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
