"""Names on the maps that never sit on one another: a small greedy label placer.

Each label tries six spots around its mark (right above, right below, left above,
left below, above, below) and takes the first that touches no label placed before it,
no other mark and stays inside the map; a label with no free spot is left out.
Depots and stations are placed first, so a point's name gives way to them.
"""

from __future__ import annotations

from typing import Any

LABEL_STYLE = {"depot": (7.0, "#0b3d91"), "station": (6.5, "#111111"), "point": (6.0, "#333333")}
_SPOTS = (
    (4, 3, "left", "bottom"),
    (4, -3, "left", "top"),
    (-4, 3, "right", "bottom"),
    (-4, -3, "right", "top"),
    (0, 6, "center", "bottom"),
    (0, -6, "center", "top"),
)


def _text_width_pt(text: str, size: float) -> float:
    return sum(size * (1.0 if ord(ch) > 0x2E7F else 0.56) for ch in text)


def place_labels(
    ax: Any,
    items: list[tuple[str, float, float]],
    styles: dict[tuple[str, float, float], tuple[float, str]],
) -> list[tuple[str, float, float, float, float]]:
    """Name places without overlap: each label goes to the first of six spots around its
    mark that touches no label placed before it and no other mark; a label with no free
    spot is left out. Returns the labels drawn as (text, x0, y0, x1, y1) in pixels.
    """
    if not items:
        return []
    ax.apply_aspect()
    to_px = ax.transData.transform
    pt = ax.figure.dpi / 72.0
    xy = [tuple(to_px((x, y))) for _, x, y in items]
    marks = [(px - 2.5 * pt, py - 2.5 * pt, px + 2.5 * pt, py + 2.5 * pt) for px, py in xy]
    x_lim = ax.bbox.x0, ax.bbox.x1
    y_lim = ax.bbox.y0, ax.bbox.y1
    placed: list[tuple[float, float, float, float]] = []
    drawn = []
    for k, (item, (px, py)) in enumerate(zip(items, xy, strict=True)):
        text, x, y = item
        size, colour = styles.get(item, LABEL_STYLE["point"])
        w, h = _text_width_pt(text, size) * pt, size * 1.2 * pt
        for dx, dy, ha, va in _SPOTS:
            x0 = px + dx * pt - {"left": 0.0, "center": w / 2, "right": w}[ha]
            y0 = py + dy * pt - (0.0 if va == "bottom" else h)
            box = (x0, y0, x0 + w, y0 + h)
            if box[0] < x_lim[0] or box[2] > x_lim[1] or box[1] < y_lim[0] or box[3] > y_lim[1]:
                continue
            others = (m for j, m in enumerate(marks) if j != k)
            if any(_overlap(box, b) for b in placed) or any(_overlap(box, m) for m in others):
                continue
            placed.append(box)
            drawn.append((text, *box))
            ax.annotate(
                text,
                (x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                fontsize=size,
                color=colour,
                zorder=15,
                path_effects=halo(),
            )
            break
    return drawn


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def halo() -> list[Any]:
    from matplotlib import patheffects

    # A white outline keeps labels readable over route lines.
    return [patheffects.withStroke(linewidth=2.2, foreground="white")]
